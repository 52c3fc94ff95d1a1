"""What :class:`tutor.learner.ModelMemory` reads for a request and keeps between a
student's requests, so that a quiz step reads little and in few round trips: the tallies
of the items scored (to count an answer in them for its due time), a guess at what the
student's next choice will read (read ahead with the choice's other reads), and how one
answer is learned."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from storage import Connection
from storage import attempts as attempt_rows
from storage import content as content_rows
from storage import learner_state as state_rows
from storage.attempts import Tally
from storage.batch import Query, given, joined
from storage.database import run_sync
from storage.learner_state import StoredState
from storage.records import AttemptRecord, MemoryRecord
from tutor.candidates import Candidates, DeckFeatures
from tutor.clock import from_millis
from tutor.convert import item_from_record
from tutor.items import Item
from tutor.policy.calibration import ItemHistory, RecallCalibration

if TYPE_CHECKING:
    from tutor.model.online import AttemptFeatures, LearnerModel, LearnerState

log = logging.getLogger("tutor.learner")


@dataclass(slots=True)
class Guess:
    """The items a student's next choice will score, as far as known: those their last
    choice scored (``ids``, their ``tags``) and those answered since. A selection of their
    decks' items (``whole``) while at most ``limit``; beyond, all of them."""

    ids: set[int]
    tags: set[str]
    whole: Guess | None = None
    limit: int = 0

    def query(self, user_id: int, totals: bool, now: float) -> Query[Prefetched | None]:
        """The student's state and the tallies of these items and tags (and with ``totals``
        the answer totals of the base rate) in one read; ``now``: ``time.monotonic()``."""
        guess = self
        if self.whole is not None and len(self.ids) > self.limit:
            guess = self.whole  # too many seen items now: the next choice scores them all
        ids, tags = frozenset(guess.ids), frozenset(guess.tags)
        return joined(
            lambda stored, tallies, tag_tallies, found: Prefetched(
                user_id, ids, tags, stored, tallies, tag_tallies, found, now
            ),
            state_rows.state_query(user_id),
            attempt_rows.item_stats_query(sorted(ids)),
            attempt_rows.tag_stats_query(sorted(tags)),
            attempt_rows.answer_totals_query() if totals else given(None),
        )


class Prefetched(NamedTuple):
    """What :meth:`ModelMemory.choice_query` read: a student's stored state and the tallies
    of the items (and their tags) their next choice is likely to read."""

    user_id: int
    ids: frozenset[int]
    tags: frozenset[str]
    stored: StoredState | None
    tallies: dict[int, Tally]
    tag_tallies: dict[str, Tally]
    totals: tuple[int, int] | None
    at: float  # time.monotonic() of the query's making


class Read(NamedTuple):
    """The rows of ``ModelMemory._read``, not parsed yet."""

    stored: StoredState | None
    tallied: Tallied
    rows: list[MemoryRecord]
    missed: list[AttemptRecord]
    totals: tuple[int, int] | None
    tally: tuple[int, int] | None
    at: float  # time.monotonic() of the query's making


class Observed(NamedTuple):
    """What ``ModelMemory.observe_query`` read: ``observe``'s reads for an answer to
    ``item`` by ``user_id`` (``gap``: the answers it would catch up on)."""

    user_id: int
    item: Item
    gap: tuple[int, int] | None
    read: Read

    def fits(self, user_id: int, item: Item, gap: tuple[int, int] | None) -> bool:
        """Whether these are the reads of that answer (the item as asked is the one
        answered, unchanged)."""
        return self.user_id == user_id and self.item == item and self.gap == gap


class Tallied(NamedTuple):
    """Candidates' prepared features and the tallies read for them."""

    runs: list[DeckFeatures]
    tallies: dict[int, Tally]
    tag_tallies: dict[str, Tally]

    def candidates(self) -> Candidates:
        return Candidates(self.runs, self.tallies, self.tag_tallies)

    def with_answer(self, item: Item, correct: bool, student: tuple[int, int] | None) -> Tallied:
        """These tallies with one more answer to ``item`` counted, as the database counts
        it (``student``: the student's tally before it)."""
        tallies = dict(self.tallies)
        tallies[item.id] = attempt_rows.counted(tallies.get(item.id), correct, student)
        tag_tallies = dict(self.tag_tallies)
        for tag in set(item.tags):
            tag_tallies[tag] = attempt_rows.counted(tag_tallies.get(tag), correct, student)
        return Tallied(self.runs, tallies, tag_tallies)


class Snapshot(NamedTuple):
    """What the model memory reads for one request."""

    state: LearnerState
    calibration: RecallCalibration
    candidates: Candidates
    memories: Sequence[MemoryRecord]
    unlearned: list[AttemptRecord]
    tallied: Tallied
    student: tuple[int, int] | None


@dataclass(slots=True)
class Learned:
    """What :meth:`ModelMemory.observe` learned from one answer, for its due time."""

    state: LearnerState
    calibration: RecallCalibration
    tallied: Tallied
    student: tuple[int, int] | None
    correct: bool
    refused: bool = False


def learn_answer(
    model: LearnerModel,
    state: LearnerState,
    calibration: RecallCalibration,
    attempt: AttemptFeatures,
    history: ItemHistory | None,
    *,
    calibrate: bool = True,
) -> tuple[LearnerState, RecallCalibration]:
    """A student's learner state and calibration after one answer.

    ``history`` is the student's history of the item before this answer (None if it is the
    first); the calibration learns only from answers to seen items, from how far the model's
    prediction for this answer was from its outcome.
    """
    if calibrate and history is not None:
        p, after = model.predict_and_update(state, attempt)
        calibration = calibration.observe(
            p, history, attempt.timestamp.timestamp(), attempt.correct
        )
        return after, calibration
    return model.update(state, attempt), calibration


def item_history(record: MemoryRecord) -> ItemHistory:
    """The calibration's view of a memory row."""
    previous = record.previous_ms / 1000 if record.previous_ms is not None else None
    return ItemHistory(record.last_ms / 1000, previous, record.n_correct)


async def catch_up(
    conn: Connection,
    model: LearnerModel,
    state: LearnerState,
    missed: list[AttemptRecord],
    candidates_query: Callable[[Sequence[Item]], Query[Candidates]],
) -> LearnerState:
    """``state`` after the answers it missed (logged while the model was loading).

    Each is learned with its item's tallies as they are now, not as they were, and
    without recall calibration (which needs the item's history before that answer): an
    approximation for a few answers, better than forgetting them. ``metatutor model
    replay`` rebuilds the exact states from the log. ``candidates_query``: a read of the
    candidate features of items (selected from decks).
    """
    found = await content_rows.get_items(conn, {answer.item_id for answer in missed})
    items = {item_id: item_from_record(record) for item_id, record in found.items()}
    known = [answer for answer in missed if answer.item_id in items]
    if not known:
        return state
    order = list(dict.fromkeys(answer.item_id for answer in known))
    candidates = await run_sync(conn, candidates_query([items[item_id] for item_id in order]).run)
    where = {item_id: k for k, item_id in enumerate(order)}
    from tutor.model.online import AttemptFeatures

    for answer in known:
        state = model.update(
            state,
            AttemptFeatures(
                item=candidates[where[answer.item_id]],
                timestamp=from_millis(answer.answered_ms),
                correct=answer.correct,
                grade=answer.grade,
                latency_ms=float(answer.latency_ms) if answer.latency_ms is not None else None,
            ),
        )
    log.info("learner state of user %s caught up on %d answers", known[0].user_id, len(known))
    return state


def parse_calibration(user_id: int, text: str | None) -> RecallCalibration:
    """A student's stored recall calibration (a fresh one if none or unreadable)."""
    if text is None:
        return RecallCalibration()
    try:
        return RecallCalibration.from_json(text)
    except ValueError:
        log.warning("recall calibration of user %s unreadable; starting afresh", user_id)
        return RecallCalibration()
