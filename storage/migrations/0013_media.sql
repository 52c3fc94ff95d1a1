-- metatutor schema, version 13: sounds on items, and Telegram's file ids for deck media.

-- The sound played with an item's question, and the one played with its answer: media
-- names within the deck, like items.image. NULL when the item has none.
ALTER TABLE items ADD COLUMN audio TEXT;
ALTER TABLE items ADD COLUMN answer_audio TEXT;

-- The file_id Telegram returned the first time this picture or sound was uploaded, so it
-- is sent by id afterwards instead of uploaded again. NULL until the first upload, and
-- cleared when the file's bytes change; a stale id is replaced on the next upload.
ALTER TABLE media ADD COLUMN file_id TEXT;
