-- metatutor schema, version 9: whether the end of a quiz reached the student.

-- When the end of the session was shown (its summary, or the reply to /stop). A question's
-- feedback and the next question are known to have arrived once the next question's
-- message id is stored; the last answer of a quiz has no next question, so this marks it:
-- a press on that answer while it is NULL shows the feedback and the summary again.
ALTER TABLE quiz_sessions ADD COLUMN summary_ms INTEGER;

-- Sessions that ended before this version are taken as shown: nothing is sent again for them.
UPDATE quiz_sessions SET summary_ms = ended_ms WHERE ended_ms IS NOT NULL;
