-- metatutor schema, version 6: a version per deck that changes with any change to its items.

-- Choosing a question reads every item of the student's decks (1,500 rows, ~10 ms at scale).
-- With this counter, a process can keep the parsed items of a deck and reread them only
-- when the counter moved. Triggers keep it, so every writer (the bot, the command line, a
-- restore) moves it without having to remember to.
ALTER TABLE decks ADD COLUMN items_version INTEGER NOT NULL DEFAULT 0;

-- dialect sqlite
CREATE TRIGGER items_version_insert AFTER INSERT ON items BEGIN
    UPDATE decks SET items_version = items_version + 1 WHERE id = NEW.deck_id;
END;

CREATE TRIGGER items_version_update AFTER UPDATE ON items BEGIN
    UPDATE decks SET items_version = items_version + 1 WHERE id IN (OLD.deck_id, NEW.deck_id);
END;

CREATE TRIGGER items_version_delete AFTER DELETE ON items BEGIN
    UPDATE decks SET items_version = items_version + 1 WHERE id = OLD.deck_id;
END;

-- dialect postgresql
CREATE FUNCTION items_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE decks SET items_version = items_version + 1 WHERE id = NEW.deck_id;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE decks SET items_version = items_version + 1 WHERE id IN (OLD.deck_id, NEW.deck_id);
    ELSE
        UPDATE decks SET items_version = items_version + 1 WHERE id = OLD.deck_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER items_version AFTER INSERT OR UPDATE OR DELETE ON items
    FOR EACH ROW EXECUTE FUNCTION items_version_bump();
-- dialect both
