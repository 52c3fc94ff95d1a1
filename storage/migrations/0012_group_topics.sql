-- metatutor schema, version 12: groups with forum topics. A quiz runs in the topic it was
-- started from; the daily quiz goes to the topic where an admin last used /group_settings.
-- NULL means the group's main chat (General in a forum).

ALTER TABLE groups ADD COLUMN topic_id INTEGER;
ALTER TABLE group_quizzes ADD COLUMN topic_id INTEGER;
