-- metatutor schema, version 18: a card being written keeps its sound beside its photo.

-- A voice note or an audio file sent while writing an own card (tutor/card_sounds.py):
-- Telegram's file id (fetched and stored with the card on saving), its file type, and the
-- side of the card it plays on.
ALTER TABLE own_card_drafts ADD COLUMN sound TEXT;
ALTER TABLE own_card_drafts ADD COLUMN sound_type TEXT NOT NULL DEFAULT '';
ALTER TABLE own_card_drafts ADD COLUMN sound_side TEXT NOT NULL DEFAULT 'question'
    CHECK (sound_side IN ('question', 'answer'));
