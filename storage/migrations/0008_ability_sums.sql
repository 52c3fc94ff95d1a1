-- metatutor schema, version 8: what the learner model's ability-adjusted difficulty needs.

-- Per item and per tag, beside the answer tallies: the summed residual (correct - p) and the
-- summed variance p (1 - p) of all students' answers, p being the answering student's smoothed
-- running accuracy before the answer, (right + 1) / (answers + 2). Stored as 0 here:
-- `metatutor model replay` rebuilds them exactly from the attempts log (see docs/operations.md).
ALTER TABLE item_stats ADD COLUMN resid_sum REAL NOT NULL DEFAULT 0;
ALTER TABLE item_stats ADD COLUMN var_sum REAL NOT NULL DEFAULT 0;
ALTER TABLE tag_stats ADD COLUMN resid_sum REAL NOT NULL DEFAULT 0;
ALTER TABLE tag_stats ADD COLUMN var_sum REAL NOT NULL DEFAULT 0;

-- Each student's answers and right answers so far: p of their next answer, read by the same
-- statement that adds it to the item's tallies (no scan of their history on the answer path).
ALTER TABLE users ADD COLUMN answers INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN answers_correct INTEGER NOT NULL DEFAULT 0;

UPDATE users SET (answers, answers_correct) = (
    SELECT COUNT(*), COALESCE(SUM(a.correct), 0) FROM attempts a WHERE a.user_id = users.id
);
