-- metatutor schema, version 16: several bot processes agree on which updates they handled
-- and which learner-model weights serve.

-- Each Telegram update a process began (``holder`` names it, as in ``leases``) and whether
-- it finished (``done``). A redelivered update (Telegram sends it again after a 503 from a
-- killed worker) finds its row: done, or begun by a process still running, it is
-- acknowledged and skipped; begun by a process that is gone, it is handled again.
-- ``digest`` tells a redelivery (the same update, byte for byte) from a new update that
-- reuses an id (Telegram picks ids afresh after a week of silence; the local chat starts
-- at 1). Rows older than a day are pruned: Telegram keeps an update at most 24 hours.
CREATE TABLE processed_updates (
    update_id INTEGER NOT NULL PRIMARY KEY,
    digest TEXT NOT NULL,
    holder TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    at_ms INTEGER NOT NULL
);
CREATE INDEX processed_updates_at ON processed_updates (at_ms);

-- The weights the stored learner states were built with, one row: ``version`` counts the
-- switches, ``weights_id`` is the model's id for them (what each state records), ``file``
-- the weights' file name beside the database ('' for the bundled weights). The one process
-- that rebuilt the states advances it in the rebuild's last transaction; every process
-- follows it.
CREATE TABLE model_weights (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    weights_id TEXT NOT NULL,
    file TEXT NOT NULL,
    switched_ms INTEGER NOT NULL
);

-- The weights version each learner state was built with: a process running an older
-- version never overwrites it (its write is skipped, and it follows the new version first).
ALTER TABLE learner_state ADD COLUMN weights_version INTEGER NOT NULL DEFAULT 0;
