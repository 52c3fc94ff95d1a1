-- metatutor schema, version 1. Times are Unix milliseconds (UTC); text is UTF-8.

CREATE TABLE users (
    id                INTEGER PRIMARY KEY,           -- Telegram user id
    chat_id           INTEGER NOT NULL,
    first_name        TEXT    NOT NULL DEFAULT '',
    language          TEXT    NOT NULL DEFAULT 'en',
    timezone          TEXT    NOT NULL DEFAULT 'UTC',
    daily_quiz_time   TEXT,                          -- local 'HH:MM', NULL = none
    quiet_hours       TEXT,                          -- local 'HH:MM-HH:MM', NULL = none
    daily_goal        INTEGER NOT NULL DEFAULT 20,
    quiz_length       INTEGER NOT NULL DEFAULT 10,
    target_retention  REAL    NOT NULL DEFAULT 0.9,
    status            TEXT    NOT NULL DEFAULT 'active'
                      CHECK (status IN ('active', 'paused', 'blocked')),
    onboarded         INTEGER NOT NULL DEFAULT 0,
    created_ms        INTEGER NOT NULL,
    last_seen_ms      INTEGER NOT NULL
);
CREATE INDEX users_status ON users (status);
CREATE INDEX users_last_seen ON users (last_seen_ms);

CREATE TABLE decks (
    id           INTEGER PRIMARY KEY,
    slug         TEXT    NOT NULL UNIQUE,
    name         TEXT    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    language     TEXT    NOT NULL DEFAULT 'en',
    bundled      INTEGER NOT NULL DEFAULT 0,
    deleted_ms   INTEGER,
    created_ms   INTEGER NOT NULL,
    updated_ms   INTEGER NOT NULL
);

CREATE TABLE items (
    id           INTEGER PRIMARY KEY,
    deck_id      INTEGER NOT NULL REFERENCES decks (id),
    external_id  TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,                   -- JSON of the kind-specific fields
    tags         TEXT    NOT NULL DEFAULT '',        -- space-separated
    image        TEXT,                               -- media name within the deck
    position     INTEGER NOT NULL DEFAULT 0,
    deleted_ms   INTEGER,
    created_ms   INTEGER NOT NULL,
    updated_ms   INTEGER NOT NULL,
    UNIQUE (deck_id, external_id)
);
CREATE INDEX items_deck ON items (deck_id, position);

CREATE TABLE media (
    deck_id  INTEGER NOT NULL REFERENCES decks (id),
    name     TEXT    NOT NULL,
    data     BLOB    NOT NULL,
    PRIMARY KEY (deck_id, name)
);

-- Answers from all students, for the model's item difficulty.
CREATE TABLE item_stats (
    item_id   INTEGER PRIMARY KEY REFERENCES items (id),
    attempts  INTEGER NOT NULL DEFAULT 0,
    correct   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE enrolments (
    user_id      INTEGER NOT NULL REFERENCES users (id),
    deck_id      INTEGER NOT NULL REFERENCES decks (id),
    exam_date    TEXT,                               -- 'YYYY-MM-DD' local, NULL = none
    enrolled_ms  INTEGER NOT NULL,
    active       INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (user_id, deck_id)
);
CREATE INDEX enrolments_deck ON enrolments (deck_id, active);

-- A quiz session: at most one running per student.
CREATE TABLE quiz_sessions (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    planned      INTEGER NOT NULL,
    answered     INTEGER NOT NULL DEFAULT 0,
    correct      INTEGER NOT NULL DEFAULT 0,
    started_ms   INTEGER NOT NULL,
    ended_ms     INTEGER
);
CREATE INDEX quiz_sessions_open ON quiz_sessions (user_id, ended_ms);

-- Every question put to a student; an answer closes it (answered_ms).
CREATE TABLE questions (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    session_id   INTEGER REFERENCES quiz_sessions (id),
    item_id      INTEGER NOT NULL REFERENCES items (id),
    choices      TEXT    NOT NULL DEFAULT '[]',      -- JSON: option indices in display order
    reason       TEXT    NOT NULL,
    number       INTEGER NOT NULL,
    asked_ms     INTEGER NOT NULL,
    message_id   INTEGER,
    answered_ms  INTEGER
);
CREATE INDEX questions_user_open ON questions (user_id, answered_ms);

-- The append-only answer log.
CREATE TABLE attempts (
    id               INTEGER PRIMARY KEY,
    user_id          INTEGER NOT NULL REFERENCES users (id),
    item_id          INTEGER NOT NULL REFERENCES items (id),
    answered_ms      INTEGER NOT NULL,
    response         TEXT    NOT NULL DEFAULT '',
    correct          INTEGER NOT NULL,
    grade            INTEGER,
    latency_ms       INTEGER,
    idempotency_key  TEXT    NOT NULL UNIQUE
);
CREATE INDEX attempts_user_time ON attempts (user_id, answered_ms);
CREATE INDEX attempts_item ON attempts (item_id);

-- What each student remembers of each item: a summary of their attempts.
CREATE TABLE memory (
    user_id       INTEGER NOT NULL REFERENCES users (id),
    item_id       INTEGER NOT NULL REFERENCES items (id),
    n_correct     INTEGER NOT NULL DEFAULT 0,
    n_wrong       INTEGER NOT NULL DEFAULT 0,
    last_ms       INTEGER NOT NULL,
    last_correct  INTEGER NOT NULL,
    due_ms        INTEGER NOT NULL,
    interval_days REAL    NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, item_id)
) WITHOUT ROWID;
CREATE INDEX memory_due ON memory (user_id, due_ms);

CREATE TABLE learner_state (
    user_id        INTEGER PRIMARY KEY REFERENCES users (id),
    model_version  TEXT    NOT NULL,
    state          BLOB    NOT NULL,
    updated_ms     INTEGER NOT NULL
);

CREATE TABLE reminders (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    kind        TEXT    NOT NULL,                    -- 'daily', 'nudge', 'announce'
    slot        TEXT    NOT NULL,                    -- idempotency of a slot, e.g. '2026-11-27'
    due_ms      INTEGER NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'claimed', 'sent', 'skipped', 'failed')),
    claimed_ms  INTEGER,
    sent_ms     INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    detail      TEXT    NOT NULL DEFAULT '',
    UNIQUE (user_id, kind, slot)
);
CREATE INDEX reminders_due ON reminders (status, due_ms);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at_ms     INTEGER NOT NULL,
    actor_id  INTEGER,
    action    TEXT    NOT NULL,
    target    TEXT    NOT NULL DEFAULT '',
    detail    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_time ON audit_log (at_ms);
