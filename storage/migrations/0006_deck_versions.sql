-- metatutor schema, version 6: a version per deck that changes with any change to its items.

-- Choosing a question reads every item of the student's decks (1,500 rows, ~10 ms at scale).
-- With this counter, a process can keep the parsed items of a deck and reread them only
-- when the counter moved. Triggers keep it, so every writer (the bot, the command line, a
-- restore) moves it without having to remember to.
ALTER TABLE decks ADD COLUMN items_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER items_version_insert AFTER INSERT ON items BEGIN
    UPDATE decks SET items_version = items_version + 1 WHERE id = NEW.deck_id;
END;

CREATE TRIGGER items_version_update AFTER UPDATE ON items BEGIN
    UPDATE decks SET items_version = items_version + 1 WHERE id IN (OLD.deck_id, NEW.deck_id);
END;

CREATE TRIGGER items_version_delete AFTER DELETE ON items BEGIN
    UPDATE decks SET items_version = items_version + 1 WHERE id = OLD.deck_id;
END;
