-- metatutor schema, version 5: indexes for the quiz hot paths at scale (millions of attempts).

-- A session's questions (choosing the next item reads them); without it, a full scan of
-- every question ever asked.
CREATE INDEX questions_session ON questions (session_id);

-- "Answered this item before today?" (today's new-item count) becomes one index probe per
-- answer instead of a scan of the student's whole history.
CREATE INDEX attempts_user_item ON attempts (user_id, item_id, answered_ms);

-- A student's history for /stats, read from the index alone: the log is in time order
-- across students, so reading rows would touch one page per attempt.
DROP INDEX attempts_user_time;
CREATE INDEX attempts_user_time ON attempts (user_id, answered_ms, correct, item_id, latency_ms);
