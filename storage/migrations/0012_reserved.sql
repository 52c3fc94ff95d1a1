-- metatutor schema, version 12: reserved. Another change takes this number in parallel;
-- this placeholder keeps the numbering without gaps on its own and is replaced at merge.
SELECT 1;
