-- The Telegram update that answered a question, so a redelivered message is not graded
-- again against the next question (typed answers carry no question id of their own).
ALTER TABLE questions ADD COLUMN answer_key TEXT;
CREATE UNIQUE INDEX questions_answer_key ON questions (answer_key) WHERE answer_key IS NOT NULL;
