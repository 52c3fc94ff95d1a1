"""ModelMemory's shortcuts: scoring only the items a choice can use, and reusing parsed states.

Each is checked against the same service without it: the questions asked, the due times and
/stats must not change, and a stored state must never be used after another write.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from storage import Connection, Database
from storage import learner_state as state_rows
from storage.batch import Query, given
from storage.learner_state import StoredState
from storage.records import MemoryRecord
from tests.conftest import FakeClock
from tests.tutor.conftest import sample_deck_bytes
from tutor.items import Item
from tutor.learner import ModelMemory, WeightsBehind
from tutor.model.online import LearnerState
from tutor.model.weights import TrainedWeights
from tutor.model_reads import Observed, Prefetched
from tutor.policy.calibration import RecallCalibration
from tutor.policy.predictor import RecallPredictor
from tutor.service import TutorService
from tutor.views import Answer, Question


@pytest.fixture
def weights_file(tiny_weights: TrainedWeights, tmp_path: Path) -> Path:
    path = tmp_path / "weights.pt"
    tiny_weights.save(path)
    return path


class FullMemory(ModelMemory):
    """The model memory without the shortcuts: every enrolled item read and scored, every
    stored state parsed afresh."""

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
        self._parsed.clear()
        return await super().predictor(conn, user_id, items, memories)

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
        """The due time's predictions from what the answer wrote, read back."""
        self._learned.clear()
        return await self.predictor(conn, user_id, [item], [memory])

    def observe_query(
        self, user_id: int, item: Item, at: datetime, unlearned_since: datetime | None = None
    ) -> Query[Observed | None]:
        """Nothing read ahead of the answer's look-up: ``observe`` reads."""
        return given(None)

    def _remember(self, *args: Any) -> None:
        """Nothing kept."""


def _deck(slug: str, n: int) -> bytes:
    items: list[dict[str, Any]] = []
    for k in range(n):
        if k % 3:
            items.append(
                {
                    "id": f"{slug}{k}",
                    "type": "multiple_choice",
                    "question": f"{slug} question {k}?",
                    "options": [f"a{k}", f"b{k}", f"c{k}"],
                    "answer": f"a{k}",
                    "tags": [f"{slug}::t{k % 4}"],
                }
            )
        else:
            items.append(
                {
                    "id": f"{slug}{k}",
                    "type": "true_false",
                    "question": f"{slug} statement {k}.",
                    "answer": k % 2 == 0,
                    "tags": [f"{slug}::t{k % 4}", "shared"],
                }
            )
    return sample_deck_bytes(
        deck={"slug": slug, "name": slug.title(), "description": "", "language": "en"}, items=items
    )


async def _run(db: Database, clock: FakeClock, memory: ModelMemory, exam: bool) -> list[Any]:
    """Three students study two decks over several days; everything the service shows."""
    service = TutorService(db, clock=clock, seed=5, memory=memory)
    await service.import_file(_deck("alpha", 72), "alpha.json")
    await service.import_file(_deck("beta", 40), "beta.json")
    users = (1, 2, 3)
    for user in users:
        await service.register(user, user, f"student {user}", "en")
        await service.enrol(user, "alpha")
        await service.enrol(user, "beta")
    if exam:
        await service.set_exam(2, (clock() + timedelta(days=12)).date(), "alpha")
        await service.set_exam(3, (clock() + timedelta(days=5)).date())
    rng = random.Random(11)
    seen: list[Any] = []
    for _day in range(3):
        for user in users:
            question: Question | None = await service.start_quiz(user, 12)
            while question is not None:
                seen.append((user, question.item.id, question.reason))
                item = question.item
                right = rng.random() < 0.7
                if question.choices:
                    index = question.choices.index(item.correct_text)
                    answer = Answer(choice=index if right else (index + 1) % len(question.choices))
                else:
                    answer = Answer(text=item.correct_text if right else "no idea")
                feedback = await service.answer(user, question.id, answer)
                seen.append((feedback.correct, feedback.next_review_at))
                clock.advance(seconds=20)
                question = await service.next_question(user)
            seen.append(await service.stats(user))
        clock.advance(days=1)
    return seen


@pytest.mark.parametrize("exam", [False, True])
async def test_scoring_only_the_needed_items_changes_no_question_due_time_or_stat(
    clock: FakeClock, tmp_path: Path, weights_file: Path, exam: bool
) -> None:
    sizes: list[int] = []
    memory = ModelMemory(weights_file)
    read = memory._read

    async def counting(
        conn: Connection, user_id: int, items: Sequence[Item], *a: Any, **kw: Any
    ) -> Any:
        sizes.append(len(items))
        return await read(conn, user_id, items, *a, **kw)

    memory._read = counting  # type: ignore[method-assign, assignment]
    results = []
    for name, mem in (("fast", memory), ("full", FullMemory(weights_file))):
        start = clock()
        db = await Database.open(tmp_path / f"{name}-{exam}.sqlite3")
        try:
            results.append(await _run(db, clock, mem, exam))
        finally:
            await db.close()
        clock.set(start)
    assert results[0] == results[1]
    # the shortcut was taken: choices read fewer than the 112 enrolled items, but more than one
    assert any(1 < n < 112 for n in sizes)
    assert memory._singles


async def test_a_parsed_state_is_never_used_once_the_stored_row_changed(
    db: Database, clock: FakeClock, weights_file: Path
) -> None:
    memory = ModelMemory(weights_file)
    model = memory.load()
    service = TutorService(db, clock=clock, seed=5, memory=memory)
    await service.import_file(_deck("alpha", 12), "alpha.json")
    await service.register(1, 1, "Ada", "en")
    await service.enrol(1, "alpha")
    question = await service.start_quiz(1, 3)
    assert question is not None
    await service.answer(1, question.id, Answer(choice=0) if question.choices else Answer(text="x"))

    async def state_seen() -> LearnerState:
        async with db.read() as conn:
            stored = await state_rows.get_state(conn, 1)
        state, _ = memory._parse_state(1, stored)
        return state

    kept = await state_seen()
    assert kept is await state_seen()  # the same row: parsed once
    # Another writer (a replay, a second process) stores a different state: it is parsed.
    other = model.new_state()
    async with db.transaction() as conn:
        await state_rows.put_state(
            conn, 1, StoredState(model.weights_id, other.to_bytes(), None), 0
        )
    fresh = await state_seen()
    assert fresh is not kept and fresh.step == 0 and kept.step > 0
    # A write that is rolled back leaves the old row, which is what is used next.
    before = await state_seen()

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with db.transaction() as conn:
            updated = StoredState(model.weights_id, kept.to_bytes(), RecallCalibration().to_json())
            await state_rows.put_state(conn, 1, updated, 1)
            memory._remember(1, updated, kept, RecallCalibration())
            raise Boom
    after = await state_seen()
    assert after.step == before.step == 0


def test_a_state_read_back_is_the_state_written(weights_file: Path) -> None:
    """What ``observe`` keeps for the due time's read is what parsing the row would give."""
    from datetime import UTC, datetime

    from tutor.model.online import AttemptFeatures, CandidateFeatures

    model = ModelMemory(weights_file).load()
    state = model.new_state()
    t = datetime(2026, 3, 2, tzinfo=UTC)
    for k in range(12):
        cand = CandidateFeatures(k % 5, (f"t{k % 3}",), 4, item_attempts=k, item_correct=k // 2)
        attempt = AttemptFeatures(cand, t + timedelta(hours=k), k % 3 != 0, None, 4000.0)
        state = (
            model.update(state, attempt) if k % 2 else model.predict_and_update(state, attempt)[1]
        )
    back = LearnerState.from_bytes(state.to_bytes())
    for name in LearnerState.__slots__:
        mine, theirs = getattr(state, name), getattr(back, name)
        assert type(mine) is type(theirs), name
        if hasattr(mine, "dtype"):
            assert mine.dtype == theirs.dtype and mine.tobytes() == theirs.tobytes(), name
        else:
            assert mine == theirs or (mine != mine and theirs != theirs), name


class ReadBackToo(ModelMemory):
    """The model memory, whose due-time predictions are checked against the same predictions
    from what the answer wrote, read back in the same transaction."""

    checked = 0

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
        computed = await super().predictor_after(
            conn, user_id, item, memory, at=at, counted=counted
        )
        assert not self._learned  # what observe kept was used
        read = await self.predictor(conn, user_id, [item], [memory])
        ids = np.full(5, item.id, np.int64)
        times = at.timestamp() + np.array([60.0, 3600.0, 86400.0, 7 * 86400.0, 90 * 86400.0])
        assert np.array_equal(computed.recall_at(ids, times), read.recall_at(ids, times))
        self.checked += 1
        return computed


async def test_the_due_time_counts_the_answer_in_the_tallies_as_the_database_does(
    db: Database, clock: FakeClock, weights_file: Path
) -> None:
    # Students answer the same items (their tallies and tags' tallies grow with each
    # answer, right and wrong): the due time's predictions, computed from the tallies read
    # before the answer with it counted, equal those from the tallies read back after it.
    memory = ReadBackToo(weights_file)
    service = TutorService(db, clock=clock, seed=5, memory=memory)
    await service.import_file(_deck("alpha", 9), "alpha.json")
    rng = random.Random(3)
    for user in (1, 2, 3):
        await service.register(user, user, f"student {user}", "en")
        await service.enrol(user, "alpha")
    for _round in range(2):
        for user in (1, 2, 3):
            question: Question | None = await service.start_quiz(user, 6)
            while question is not None:
                item = question.item
                right = rng.random() < 0.6
                if question.choices:
                    index = question.choices.index(item.correct_text)
                    answer = Answer(choice=index if right else (index + 1) % len(question.choices))
                else:
                    answer = Answer(text=item.correct_text if right else "no idea")
                await service.answer(user, question.id, answer)
                clock.advance(seconds=30)
                question = await service.next_question(user)
        clock.advance(days=1)
    assert memory.checked == 36


class PrefetchChecked(ModelMemory):
    """The model memory, whose predictions from what a choice read ahead (``prefetched``) are
    checked against those from reading them when asked."""

    used = 0

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
        read_ = self._read
        reads: list[int] = []

        async def counting(*a: Any, **kw: Any) -> Any:
            reads.append(1)
            return await read_(*a, **kw)

        self._read = counting  # type: ignore[method-assign]
        try:
            found = await super().predictor(
                conn, user_id, items, memories, needed=needed, prefetched=prefetched
            )
        finally:
            del self._read
        if prefetched is None or reads:
            return found
        self.used += 1
        read = await super().predictor(conn, user_id, items, memories, needed=needed)
        ids = np.array([item.id for item in (needed or items)], np.int64)
        for days in (0.0, 1.0, 10.0):
            at = np.full(ids.shape[0], prefetched.at + days * 86400.0)
            assert np.array_equal(found.recall_at(ids, at), read.recall_at(ids, at))
        return found


async def test_a_choice_from_what_was_read_ahead_predicts_as_one_that_reads_when_asked(
    db: Database, clock: FakeClock, weights_file: Path
) -> None:
    memory = PrefetchChecked(weights_file)
    await _run(db, clock, memory, exam=False)
    # read ahead on PostgreSQL (a round trip less), where most choices used it
    assert memory.used > 50 if db.dialect == "postgresql" else memory.used == 0


class ReadAheadChecked(ModelMemory):
    """The model memory, whose reads for an answer made with its look-up are checked against
    the same reads made when the answer is learned."""

    used = 0

    async def observe(self, conn: Connection, user_id: int, item: Item, **kw: Any) -> None:
        read: Observed | None = kw.get("read")
        if read is not None and read.fits(user_id, item, None):
            self.used += 1
            again = await self._read(conn, user_id, [item], None, student=True)
            ahead = self._snapshot(user_id, read.read)
            assert ahead.state.to_bytes() == again.state.to_bytes()
            assert ahead.calibration.to_json() == again.calibration.to_json()
            assert (ahead.tallied.tallies, ahead.tallied.tag_tallies) == (
                again.tallied.tallies,
                again.tallied.tag_tallies,
            )
            assert (ahead.memories, ahead.student) == (again.memories, again.student)
        await super().observe(conn, user_id, item, **kw)


async def test_an_answer_read_with_its_question_learns_as_one_read_when_learned(
    db: Database, clock: FakeClock, weights_file: Path
) -> None:
    memory = ReadAheadChecked(weights_file)
    await _run(db, clock, memory, exam=False)
    assert memory.used > 50  # every answer to a question this process asked


class OvertakenMidAnswer(ModelMemory):
    """A following model memory whose student's state is rebuilt by another process with
    newer weights between the answer's reads and its state's write."""

    async def observe(
        self,
        conn: Connection,
        user_id: int,
        item: Item,
        *,
        correct: bool,
        grade: Any,
        latency_ms: int | None,
        at: datetime,
        unlearned_since: datetime | None = None,
        read: Observed | None = None,
    ) -> None:
        newer = StoredState("weights of another process", b"", None, self.version + 1)
        await state_rows.put_state(conn, user_id, newer, int(at.timestamp() * 1000))
        await super().observe(
            conn,
            user_id,
            item,
            correct=correct,
            grade=grade,
            latency_ms=latency_ms,
            at=at,
            unlearned_since=unlearned_since,
            read=read,
        )


async def test_a_state_refused_when_written_fails_the_answer_cleanly(
    db: Database, clock: FakeClock, weights_file: Path
) -> None:
    # The state's write is refused (another process stored a state of newer weights since
    # the answer's reads): a following process cannot compute the due time with its
    # weights, so the answer rolls back, to be answered again once it follows.
    memory = OvertakenMidAnswer(weights_file)
    memory.follows = True
    service = TutorService(db, clock=clock, seed=5, memory=memory)
    await service.import_file(_deck("alpha", 9), "alpha.json")
    await service.register(1, 1, "Ada", "en")
    await service.enrol(1, "alpha")
    question = await service.start_quiz(1, 3)
    assert question is not None
    clock.advance(seconds=20)
    with pytest.raises(WeightsBehind):
        await service.answer(1, question.id, Answer(text="no idea", choice=0))
    assert (await service.stats(1)).answers_today == 0
    assert (await service.open_question(1)) is not None
