-- Answers per tag from all students: the learner model's prior for a tag's difficulty.
CREATE TABLE tag_stats (
    tag       TEXT    PRIMARY KEY,
    attempts  INTEGER NOT NULL DEFAULT 0,
    correct   INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Backfill from the per-item tallies, splitting each item's space-separated tags.
WITH RECURSIVE split (item_id, tag, rest) AS (
    SELECT id, '', tags || ' ' FROM items
    UNION ALL
    SELECT item_id, substr(rest, 1, instr(rest, ' ') - 1), substr(rest, instr(rest, ' ') + 1)
    FROM split WHERE rest <> ''
)
INSERT INTO tag_stats (tag, attempts, correct)
SELECT s.tag, SUM(st.attempts), SUM(st.correct)
FROM split s JOIN item_stats st ON st.item_id = s.item_id
WHERE s.tag <> ''
GROUP BY s.tag;
