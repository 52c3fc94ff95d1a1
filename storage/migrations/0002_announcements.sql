-- metatutor schema, version 2: admin announcements, and an index for per-slot reminder counts.

-- An admin's message to all students (or one deck's). Deliveries are reminder rows of kind
-- 'announce' with slot 'a<id>', so they go through the same claim/send/recover cycle.
CREATE TABLE announcements (
    id            INTEGER PRIMARY KEY,
    actor_id      INTEGER NOT NULL,
    text          TEXT    NOT NULL,
    deck_id       INTEGER REFERENCES decks (id),     -- NULL = every student
    created_ms    INTEGER NOT NULL,
    confirmed_ms  INTEGER,                           -- NULL until the admin confirms
    cancelled_ms  INTEGER,
    finished_ms   INTEGER
);

CREATE INDEX reminders_slot ON reminders (kind, slot, status);
