-- metatutor schema, version 10: group study. A class or study group quizzes itself
-- with Telegram quiz polls; every member's answer is that member's attempt (attempts, memory, learner state).

-- A member who answered in a group but never started the bot privately has a user row with
-- private_chat = 0: nothing is ever sent to their private chat (no reminders, nudges or
-- announcements) until they /start. Everyone before this version started privately.
ALTER TABLE users ADD COLUMN private_chat INTEGER NOT NULL DEFAULT 1;

-- A group the bot was added to. ``id`` stays when Telegram upgrades the group to a
-- supergroup (a new chat id): settings, history and schedule follow the row.
CREATE TABLE groups (
    id                INTEGER PRIMARY KEY,
    chat_id           INTEGER NOT NULL UNIQUE,
    title             TEXT    NOT NULL DEFAULT '',
    language          TEXT    NOT NULL DEFAULT 'en',
    timezone          TEXT    NOT NULL DEFAULT 'UTC',
    daily_quiz_time   TEXT,                          -- local 'HH:MM', NULL = no daily quiz
    daily_length      INTEGER NOT NULL DEFAULT 5,    -- questions per daily quiz
    exam_date         TEXT,                          -- the class exam, 'YYYY-MM-DD' local
    members_start     INTEGER NOT NULL DEFAULT 1,    -- members may start extra quizzes
    question_seconds  INTEGER NOT NULL DEFAULT 30,   -- how long each poll stays open
    active            INTEGER NOT NULL DEFAULT 1,    -- 0 once the bot was removed
    joined_ms         INTEGER NOT NULL,
    left_ms           INTEGER
);

CREATE TABLE group_decks (
    group_id  INTEGER NOT NULL REFERENCES groups (id),
    deck_id   INTEGER NOT NULL REFERENCES decks (id),
    PRIMARY KEY (group_id, deck_id)
) WITHOUT ROWID;

-- Members who answered in a group (the audience the question choice plans for).
CREATE TABLE group_members (
    group_id  INTEGER NOT NULL REFERENCES groups (id),
    user_id   INTEGER NOT NULL REFERENCES users (id),
    first_ms  INTEGER NOT NULL,
    last_ms   INTEGER NOT NULL,                      -- their latest answer in the group
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX group_members_user ON group_members (user_id);

-- One quiz in a group (from /quiz or the daily schedule). Its state is all here, so a
-- restart continues it: ``next_ms`` is when its next step is due (send the next poll, or
-- close the open one), ``claimed_ms`` marks a step being taken (a lease).
CREATE TABLE group_quizzes (
    id          INTEGER PRIMARY KEY,
    group_id    INTEGER NOT NULL REFERENCES groups (id),
    kind        TEXT    NOT NULL CHECK (kind IN ('command', 'daily')),
    planned     INTEGER NOT NULL,
    asked       INTEGER NOT NULL DEFAULT 0,
    status      TEXT    NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'finished', 'stopped')),
    next_ms     INTEGER NOT NULL,
    claimed_ms  INTEGER,
    started_ms  INTEGER NOT NULL,
    ended_ms    INTEGER
);
CREATE INDEX group_quizzes_due ON group_quizzes (status, next_ms);
CREATE INDEX group_quizzes_group ON group_quizzes (group_id, started_ms);

-- Each question of a group quiz, asked as a Telegram quiz poll. A row is written
-- ('sending') before the sendPoll call and completed ('open') after it; a row left
-- 'sending' by a crash is never resent ('lost'): Telegram may have shown it.
CREATE TABLE group_polls (
    id          INTEGER PRIMARY KEY,
    quiz_id     INTEGER NOT NULL REFERENCES group_quizzes (id),
    number      INTEGER NOT NULL,
    item_id     INTEGER NOT NULL REFERENCES items (id),
    options     TEXT    NOT NULL,                    -- JSON: option texts in display order
    correct     INTEGER NOT NULL,                    -- index of the right option
    reason      TEXT    NOT NULL DEFAULT '',        -- why: 'reason:count:audience'
    status      TEXT    NOT NULL DEFAULT 'sending'
                CHECK (status IN ('sending', 'open', 'closed', 'lost')),
    poll_id     TEXT    UNIQUE,                      -- Telegram's poll id, once sent
    message_id  INTEGER,
    created_ms  INTEGER NOT NULL,
    closes_ms   INTEGER,
    UNIQUE (quiz_id, number)
);
CREATE INDEX group_polls_item ON group_polls (item_id);

-- Every member's answer to a poll, at most one (Telegram's quiz answers cannot change);
-- the attempt itself is in ``attempts`` under the key 'gp<poll row>:<user>'.
CREATE TABLE group_answers (
    poll_id      INTEGER NOT NULL REFERENCES group_polls (id),
    user_id      INTEGER NOT NULL REFERENCES users (id),
    option       INTEGER NOT NULL,
    correct      INTEGER NOT NULL,
    answered_ms  INTEGER NOT NULL,
    PRIMARY KEY (poll_id, user_id)
) WITHOUT ROWID;
CREATE INDEX group_answers_user ON group_answers (user_id, answered_ms);

-- Daily group quiz slots, like reminders: one row per group and local date, claimed by one
-- row update, so a slot starts at most one quiz however many processes run.
CREATE TABLE group_slots (
    id          INTEGER PRIMARY KEY,
    group_id    INTEGER NOT NULL REFERENCES groups (id),
    slot        TEXT    NOT NULL,                    -- the group's local date
    due_ms      INTEGER NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'started', 'skipped')),
    settled_ms  INTEGER,
    quiz_id     INTEGER REFERENCES group_quizzes (id),
    detail      TEXT    NOT NULL DEFAULT '',
    UNIQUE (group_id, slot)
);
CREATE INDEX group_slots_due ON group_slots (status, due_ms);
