"""What the tutor believes each student remembers: the learner model, or rules without it.

Both implementations answer the policy's questions (``RecallPredictor``) for one student's
items and learn from each answer inside the service's transaction:

* :class:`ModelMemory` runs the meta-learned learner model (``tutor.model``); torch and the
  weights load once, on first use. Its per-student state is stored as bytes in SQLite; answers
  logged without it (while it loaded in the background) can be learned at the student's next.
* :class:`tutor.rule_memory.RuleMemory` uses expanding review intervals (``tutor.intervals``);
  it needs no torch and is what tests of the bot layer and a model-less deployment run on.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from storage import Connection
from storage import attempts as attempt_rows
from storage import learner_state as state_rows
from storage.batch import Query, given, joined
from storage.database import run_sync
from storage.learner_state import StoredState
from storage.records import MemoryRecord
from tutor.candidates import Candidates, DeckFeatures, FeatureCache
from tutor.clock import from_millis, to_millis
from tutor.intervals import ItemMemory
from tutor.items import Grade, Item
from tutor.memory_model import MemoryModel as MemoryModel
from tutor.model_reads import (
    Guess,
    Learned,
    Observed,
    Prefetched,
    Read,
    Snapshot,
    Tallied,
    catch_up,
    item_history,
    learn_answer,
    parse_calibration,
)
from tutor.policy.calibration import CalibratedPredictor, RecallCalibration
from tutor.policy.predictor import RecallPredictor

if TYPE_CHECKING:
    from tutor.model.online import LearnerModel, LearnerState

log = logging.getLogger(__name__)

MAX_PARTIAL = 64
"""Up to this many needed items (and an eighth of all), ``ModelMemory`` reads and scores only
those, each with its own cached fixed part; beyond, the whole decks' cached batch costs less
(measured at 100k: 161 of 1,500 items one by one took 22 ms a choice, the whole batch 17)."""
MAX_SINGLES = 16_384
"""Items whose fixed features ``ModelMemory`` keeps one by one (a few KB each)."""
MAX_PARSED = 1024
"""Students whose last parsed learner state ``ModelMemory`` keeps (tens of KB each)."""
MAX_LEARNED = 256
"""Answers learned whose due time is not computed yet that ``ModelMemory`` keeps what it
needs for (one per answer in progress; popped when used, the oldest dropped)."""
MAX_CATCH_UP = 32
#: Seconds between reads of the deployment's answer totals, whose base rate the model's
#: inputs are relative to (:mod:`tutor.model.base_rate`; a sum over all students).
BASE_RATE_EVERY = 600.0
"""Answers logged without the model (while it loaded) that a student's state learns from at
their next answer: a handful in practice; bounded, as it runs inside the answer's write."""


class WeightsBehind(Exception):
    """A student's stored state was built by a newer weights version than this process runs:
    another process rebuilt the states with promoted weights, and this one must follow
    (load them) before it uses or writes any state. Raised before anything is written."""

    def __init__(self, version: int) -> None:
        super().__init__(f"learner states are at weights version {version}")
        self.version = version


class ModelMemory:
    """The meta-learned learner model, loaded lazily from ``weights`` (default: bundled).

    With ``calibrate`` (the default), each student's predictions for items they have seen go
    through their own recall calibration (:mod:`tutor.policy.calibration`), learned from their
    answers and stored with their learner state: the shared model knows how people in general
    forget, the calibration how fast this student does.
    """

    name = "model"

    def __init__(
        self,
        weights: Path | None = None,
        *,
        calibrate: bool = True,
        base_rate_every: float = BASE_RATE_EVERY,
    ) -> None:
        self.weights = weights
        self.calibrate = calibrate
        self.version = 0
        """The deployment's weights version (``model_weights``) these weights serve as: the
        states it writes carry it, and it never overwrites one a newer version wrote."""
        self.follows = False
        """Raise :class:`WeightsBehind` at a state of a newer version from other weights (a
        serving bot, which then follows); else serve a fresh state, as for stale ones."""
        self.base_rate_every = base_rate_every
        self._base_rate_read: float | None = None  # time.monotonic() of the last read
        self._model: LearnerModel | None = None
        self.features = FeatureCache()
        self._singles: OrderedDict[int, DeckFeatures] = OrderedDict()
        self._parsed: OrderedDict[int, tuple[StoredState, LearnerState, RecallCalibration]] = (
            OrderedDict()
        )
        self._learned: OrderedDict[tuple[int, int, int], Learned] = OrderedDict()
        # per student: the items the last choice read, and those answered since
        self._guess: OrderedDict[int, Guess] = OrderedDict()

    def load(self) -> LearnerModel:
        """Load torch and the weights once; raises ModelLoadError when they are unusable."""
        if self._model is None:
            import torch

            from tutor.model.online import LearnerModel

            # Scoring is small and latency-bound: one thread avoids contention.
            torch.set_num_threads(1)
            self._model = LearnerModel.load(self.weights)
        return self._model

    async def _read(
        self,
        conn: Connection,
        user_id: int,
        items: Sequence[Item],
        memories: Sequence[MemoryRecord] | None,
        partial: bool = False,
        *,
        unlearned: tuple[int, int] | None = None,
        student: bool = False,
    ) -> Snapshot:
        """The student's stored state and calibration, the items' candidate features and
        (unless given) the student's memory rows of them, in one database trip; with
        ``unlearned`` (since, until), also the answers between them the state missed; with
        ``student``, the student's own tally (answers, right answers)."""
        query = self._read_query(user_id, items, memories, partial, unlearned, student)
        return self._snapshot(user_id, await run_sync(conn, query.run))

    def _read_query(
        self,
        user_id: int,
        items: Sequence[Item],
        memories: Sequence[MemoryRecord] | None,
        partial: bool,
        unlearned: tuple[int, int] | None,
        student: bool,
    ) -> Query[Read]:
        """:meth:`_read` as a query (its rows, not parsed yet)."""
        ids = [item.id for item in items]
        now = time.monotonic()
        stale = self._base_rate_read is None or now - self._base_rate_read >= self.base_rate_every
        # One round trip on PostgreSQL: the reads do not depend on each other.
        return joined(
            lambda stored, tallied, rows, missed, totals, tally: Read(
                stored, tallied, rows, missed, totals, tally, now
            ),
            state_rows.state_query(user_id),
            self._tallies_query(items, partial),
            attempt_rows.memory_of_query(user_id, ids) if memories is None else given(memories),
            given([])
            if unlearned is None
            else state_rows.unlearned_query(user_id, *unlearned, MAX_CATCH_UP),
            attempt_rows.answer_totals_query() if stale else given(None),
            attempt_rows.student_tally_query(user_id) if student else given(None),
        )

    def _snapshot(self, user_id: int, read: Read) -> Snapshot:
        """What was read, parsed (raises :class:`WeightsBehind` as :meth:`_parse_state`)."""
        if read.totals is not None:
            self.load().use_base_rate(*read.totals)
            self._base_rate_read = read.at
        state, calibration = self._parse_state(user_id, read.stored)
        tallied = read.tallied
        return Snapshot(
            state, calibration, tallied.candidates(), read.rows, read.missed, tallied, read.tally
        )

    async def candidates(self, conn: Connection, items: Sequence[Item]) -> Candidates:
        """Candidate features of ``items`` with the current tallies."""
        return await run_sync(conn, self._candidates_query(items).run)

    def _candidates_query(self, items: Sequence[Item], partial: bool = False) -> Query[Candidates]:
        """A read of ``items``' tallies laid over their prepared features; ``partial``: a
        selection from decks, prepared apart from the per-deck cache (which it would
        otherwise evict)."""
        tallies = self._tallies_query(items, partial)
        return Query(tallies.statements, lambda rows: tallies.parse(rows).candidates())

    def _tallies_query(self, items: Sequence[Item], partial: bool = False) -> Query[Tallied]:
        """:meth:`_candidates_query`, the tallies kept apart (to count an answer in them)."""
        runs = self._runs(items, partial)
        tags = sorted({tag for run in runs for tag in run.tags})
        return joined(
            lambda tallies, tag_tallies: Tallied(runs, tallies, tag_tallies),
            attempt_rows.item_stats_query([item.id for item in items]),
            attempt_rows.tag_stats_query(tags),
        )

    def _runs(self, items: Sequence[Item], partial: bool) -> list[DeckFeatures]:
        """The prepared features of ``items``: one by one (``partial``: a selection), or
        the decks' cached batches."""
        if partial or len(items) == 1:
            return [self._single(item) for item in items]
        return self.features.runs(items)

    def _single(self, item: Item) -> DeckFeatures:
        """The fixed features of one item (a run of its own), reused while the item is equal:
        the model caches the tally-independent part of scoring on each run, so a student's
        seen items cost little more than their tallies and their state."""
        found = self._singles.get(item.id)
        if found is not None and found.items[0] == item:
            self._singles.move_to_end(item.id)
            return found
        found = self._singles[item.id] = DeckFeatures([item])
        while len(self._singles) > MAX_SINGLES:
            self._singles.popitem(last=False)
        return found

    def _parse_state(
        self, user_id: int, stored: StoredState | None
    ) -> tuple[LearnerState, RecallCalibration]:
        """The stored state and calibration parsed; the last parse per student is kept and
        reused only while the stored row is the same, byte for byte (states are values).
        Raises :class:`WeightsBehind` for a state of a newer weights version."""
        if stored is not None and stored.weights_version > self.version:
            if stored.model_version == self.load().weights_id:
                self.version = stored.weights_version  # rebuilt with these very weights
            elif self.follows:
                raise WeightsBehind(stored.weights_version)
        if stored is None or stored.model_version != self.load().weights_id:
            return self._parse(user_id, stored)
        found = self._parsed.get(user_id)
        if found is not None and found[0] == stored:
            self._parsed.move_to_end(user_id)
            return found[1], found[2]
        state, calibration = self._parse(user_id, stored)
        self._remember(user_id, stored, state, calibration)
        return state, calibration

    def _remember(
        self, user_id: int, stored: StoredState, state: LearnerState, calibration: RecallCalibration
    ) -> None:
        """Keep what ``stored`` parses to (written or read) for the student's next request."""
        self._parsed[user_id] = (stored, state, calibration)
        self._parsed.move_to_end(user_id)
        while len(self._parsed) > MAX_PARSED:
            self._parsed.popitem(last=False)

    def _parse(
        self, user_id: int, stored: StoredState | None
    ) -> tuple[LearnerState, RecallCalibration]:
        from tutor.model.online import LearnerState

        model = self.load()
        if stored is not None and stored.model_version == model.weights_id:
            try:
                state = LearnerState.from_bytes(stored.state)
            except ValueError:
                log.warning("learner state of user %s unreadable; starting afresh", user_id)
            else:
                return state, parse_calibration(user_id, stored.calibration)
        elif stored is not None:
            log.warning("learner state of user %s is from other weights; run model replay", user_id)
        return model.new_state(), RecallCalibration()

    async def observe(
        self,
        conn: Connection,
        user_id: int,
        item: Item,
        *,
        correct: bool,
        grade: Grade | None,
        latency_ms: int | None,
        at: datetime,
        unlearned_since: datetime | None = None,
        read: Observed | None = None,
    ) -> None:
        """Learn from one answer; with ``unlearned_since``, first from the student's answers
        logged since then that the stored state missed (see :meth:`_catch_up`)."""
        from tutor.model.online import AttemptFeatures

        model = self.load()
        gap = None if unlearned_since is None else (to_millis(unlearned_since), to_millis(at))
        if read is not None and read.fits(user_id, item, gap):
            snap = self._snapshot(user_id, read.read)  # read with the answer's look-up
        else:
            snap = await self._read(conn, user_id, [item], None, unlearned=gap, student=True)
        guess = self._guess.get(user_id)
        if guess is not None:  # a seen item: scored at the student's next choice
            guess.ids.add(item.id)
            guess.tags.update(item.tags)
        state = snap.state
        if snap.unlearned:
            partly = functools.partial(self._candidates_query, partial=True)
            state = await catch_up(conn, model, state, snap.unlearned, partly)
        attempt = AttemptFeatures(
            item=snap.candidates[0],
            timestamp=at,
            correct=correct,
            grade=int(grade) if grade is not None else None,
            latency_ms=float(latency_ms) if latency_ms is not None else None,
        )
        history = item_history(snap.memories[0]) if snap.memories else None
        state, calibration = learn_answer(
            model, state, snap.calibration, attempt, history, calibrate=self.calibrate
        )
        stored = StoredState(
            model.weights_id, state.to_bytes(), calibration.to_json(), self.version
        )
        # Kept for the due time (:meth:`predictor_after`), which then reads nothing back, and
        # for the student's next request: no need to parse it. (A rollback leaves the old
        # row, which no longer matches, so it is parsed again.)
        learned = Learned(state, calibration, snap.tallied, snap.student, correct)
        key = (user_id, item.id, to_millis(at))
        self._learned[key] = learned
        while len(self._learned) > MAX_LEARNED:
            self._learned.popitem(last=False)
        self._remember(user_id, stored, state, calibration)

        def refused() -> None:
            """A newer weights version's state is stored (on PostgreSQL its rebuild may
            have committed since the read): it stays. A following bot learns this answer
            once it serves that version (:meth:`predictor_after` raises WeightsBehind);
            `model replay` rebuilds from the log. Runs where the write is sent (on the
            connection's thread): it touches only this answer's record."""
            learned.refused = True
            if not self.follows:
                log.warning("learner state of user %s is of newer weights: not written", user_id)

        # Sent with the answer's next statement on PostgreSQL (one round trip less).
        await state_rows.put_state_later(conn, user_id, stored, to_millis(at), refused)

    def observe_query(
        self, user_id: int, item: Item, at: datetime, unlearned_since: datetime | None = None
    ) -> Query[Observed | None]:
        """:meth:`observe`'s reads for the answer at ``at`` to ``item`` as a query, to go with
        the answer's look-up (one round trip less); :meth:`observe` uses them if ``item``
        is the item answered and ``unlearned_since`` the same."""
        gap = None if unlearned_since is None else (to_millis(unlearned_since), to_millis(at))
        query = self._read_query(user_id, [item], None, False, gap, True)
        return Query(query.statements, lambda rows: Observed(user_id, item, gap, query.parse(rows)))

    async def predictor(
        self,
        conn: Connection,
        user_id: int,
        items: Sequence[Item],
        memories: Sequence[MemoryRecord] | None = None,
        *,
        needed: Sequence[Item] | None = None,
        prefetched: Prefetched | None = None,
    ) -> RecallPredictor:
        limit = min(MAX_PARTIAL, len(items) // 8)
        partial = needed is not None and len(needed) <= limit
        whole = Guess({item.id for item in items}, {t for item in items for t in item.tags})
        if needed is not None and partial:
            items = needed
            ids = {item.id for item in items}
            tags = {tag for item in items for tag in item.tags}
            guess = Guess(ids, tags, whole, limit)
        else:
            guess = whole
            ids, tags = whole.ids, whole.tags
        if needed is not None:  # a choice (or stats): the next choice scores much the same
            self._guess[user_id] = guess
            self._guess.move_to_end(user_id)
            while len(self._guess) > MAX_PARSED:
                self._guess.popitem(last=False)
        if (
            prefetched is not None
            and memories is not None
            and prefetched.user_id == user_id
            and ids <= prefetched.ids
            and tags <= prefetched.tags
        ):
            # Read with the choice's other reads, in the same transaction: no round trip.
            if prefetched.totals is not None:
                self.load().use_base_rate(*prefetched.totals)
                self._base_rate_read = prefetched.at
            state, calibration = self._parse_state(user_id, prefetched.stored)
            tallied = Tallied(
                self._runs(items, partial), prefetched.tallies, prefetched.tag_tallies
            )
            return self._predictions(state, calibration, tallied.candidates(), memories)
        snap = await self._read(conn, user_id, items, memories, partial)
        return self._predictions(snap.state, snap.calibration, snap.candidates, snap.memories)

    def choice_query(self, user_id: int) -> Query[Prefetched | None]:
        """The student's state and the tallies of the items their last choice read and of
        those answered since (what the next choice reads, unless their decks or seen items
        changed otherwise): :meth:`predictor` reads nothing if they cover its items."""
        guess = self._guess.get(user_id)
        if guess is None:
            return given(None)
        now = time.monotonic()
        stale = self._base_rate_read is None or now - self._base_rate_read >= self.base_rate_every
        return guess.query(user_id, stale, now)

    async def predictor_after(
        self,
        conn: Connection,
        user_id: int,
        item: Item,
        memory: MemoryRecord,
        *,
        at: datetime,
        counted: bool,
    ) -> RecallPredictor:
        """Predictions for ``item`` right after the answer :meth:`observe` learned: from the
        state it wrote and the tallies it read with the answer counted in them as the
        database counts it (:func:`storage.attempts.counted`), without reading them back
        (one round trip less per answer on PostgreSQL). Only answers counted by another
        transaction between the two are missing, as they would be from a read just before.
        Reads as :meth:`predictor` does if :meth:`observe` kept nothing for this answer.

        Raises :class:`WeightsBehind` (a following bot) if the state's write was refused:
        a newer weights version's state was stored meanwhile."""
        learned = self._learned.pop((user_id, item.id, to_millis(at)), None)
        if learned is not None and learned.refused and self.follows:
            raise WeightsBehind(self.version + 1)
        if learned is None or learned.refused:
            return await self.predictor(conn, user_id, [item], [memory])
        tallied = learned.tallied
        if counted:
            tallied = tallied.with_answer(item, learned.correct, learned.student)
        return self._predictions(learned.state, learned.calibration, tallied.candidates(), [memory])

    def _predictions(
        self,
        state: LearnerState,
        calibration: RecallCalibration,
        candidates: Candidates,
        rows: Sequence[MemoryRecord],
    ) -> RecallPredictor:
        """The model's predictions for ``candidates``, through the student's calibration."""
        from tutor.policy.model_adapter import LearnerModelPredictor

        raw = LearnerModelPredictor(self.load(), state, candidates, candidates.batch)
        if not self.calibrate or calibration.answers == 0:
            return raw  # the identity: nothing learned about this student yet
        return CalibratedPredictor.from_columns(
            raw,
            calibration,
            np.array([m.item_id for m in rows], dtype=np.int64),
            np.array([m.last_ms for m in rows], dtype=np.float64) / 1000,
            np.array(
                [np.nan if m.previous_ms is None else m.previous_ms for m in rows],
                dtype=np.float64,
            )
            / 1000,
            np.array([m.n_correct for m in rows], dtype=np.float64),
        )


def item_memory(record: MemoryRecord | None) -> ItemMemory:
    """The interval rules' view of a memory row (a fresh one for a never-seen item)."""
    if record is None:
        return ItemMemory()
    return ItemMemory(record.n_correct, record.n_wrong, record.last_correct, record.interval_days)


def last_seen_map(memories: Sequence[MemoryRecord]) -> dict[int, datetime]:
    """When each seen item was last answered."""
    return {m.item_id: from_millis(m.last_ms) for m in memories}


def finite_or(value: float, default: float) -> float:
    """``value`` unless it is NaN or infinite."""
    return value if math.isfinite(value) else default
