-- metatutor schema, version 14: students' own cards.

-- A deck with an owner is that student's personal deck: only they see it, study it and
-- export it. Shared decks (every deck before this version) have no owner. The personal
-- deck's slug is 'own.<user id>', which no import can name (imported slugs are letters,
-- digits and hyphens), so no file can write into it.
ALTER TABLE decks ADD COLUMN owner_id INTEGER REFERENCES users (id);

-- At most one personal deck per student.
CREATE UNIQUE INDEX decks_owner ON decks (owner_id) WHERE owner_id IS NOT NULL;
