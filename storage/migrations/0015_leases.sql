-- metatutor schema, version 15: leases, so that several bot processes on one database do a
-- job once.

-- A named lease is held by one process (``holder`` names it: host, process id and a random
-- part) until ``expires_ms``; it renews it while it works. Only the holder of 'fanout' sends
-- reminders, announcements and group quizzes, so the bot's broadcast rate is one process's
-- rate; only the holder of 'weekly-refit' refits the model.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);

-- At most one running quiz per group, whichever process starts it: the insert's own check
-- (NOT EXISTS) does not see another transaction's uncommitted quiz on PostgreSQL.
CREATE UNIQUE INDEX group_quizzes_one_running ON group_quizzes (group_id)
    WHERE status = 'running';
