-- metatutor schema, version 11: what a bundled deck was last synced from.

-- The digest of the bundled deck file (and the pictures it uses) last stored, so a start
-- re-syncs a bundled deck only when the package's copy changed: an unchanged deck is
-- neither rewritten nor given a new items_version. NULL for decks not from the package,
-- and for bundled decks until the first sync after this version.
ALTER TABLE decks ADD COLUMN source_digest TEXT;
