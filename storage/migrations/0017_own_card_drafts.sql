-- metatutor schema, version 17: a student's own card being written survives a restart.

-- Between /new and the card's last step (or an edit from /mycards), what the student has
-- sent so far waits here, not in one process's memory, so a restart or another worker
-- takes the next message as the draft's next step. At most one draft per student.
CREATE TABLE own_card_drafts (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    step TEXT NOT NULL CHECK (step IN ('front', 'back', 'edit')),
    front TEXT NOT NULL DEFAULT '',
    picture TEXT,      -- Telegram's file id of a photo sent for the card (fetched on saving)
    item_id INTEGER,   -- the card being edited
    question_id INTEGER, -- the typed question open when the draft began (a later one wins)
    updated_ms INTEGER NOT NULL
);
