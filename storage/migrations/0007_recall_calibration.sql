-- metatutor schema, version 7: what the per-student recall calibration learns from.

-- The learner model is shared by everyone; each student's forgetting is corrected by a small
-- calibration fitted from their own answers (tutor/policy/calibration.py). It is kept with
-- the learner state it corrects, and starts afresh with it when the weights change.
ALTER TABLE learner_state ADD COLUMN calibration TEXT;

-- The calibration uses the spacing of an item's last two answers. Rows written before this
-- version have none (NULL reads as "answered once") until the item is answered again or
-- `metatutor model replay` rebuilds them from the attempts log.
ALTER TABLE memory ADD COLUMN previous_ms INTEGER;
