"""Round trips to PostgreSQL per quiz step: each one waits for the server's process, so a
step's reads go out together and its writes with what follows (storage/batch.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

import pytest

from storage import Database
from tests.conftest import FakeClock
from tests.tutor.conftest import sample_deck_bytes
from tests.tutor.test_service import right_answer, wrong_answer
from tutor.learner import MemoryModel, ModelMemory
from tutor.rule_memory import RuleMemory
from tutor.service import TutorService
from tutor.views import Question

T = TypeVar("T")


@pytest.fixture
async def postgres(postgres_url: str) -> AsyncIterator[Database]:
    database = await Database.open(postgres_url)
    yield database
    await database.close()


async def _studying(db: Database, clock: FakeClock, memory: MemoryModel) -> TutorService:
    service = TutorService(db, clock=clock, memory=memory)
    await service.import_file(sample_deck_bytes(), "sample.json")
    await service.register(100, 100, "Ada", "en")
    await service.enrol(100, "sample")
    return service


async def _trips(db: Database, step: Awaitable[T]) -> tuple[int, T]:
    """The round trips ``step`` took; each one is its own call on the connection's thread
    (a BEGIN, which goes out with the first statement, costs none)."""
    traffic = db.traffic
    assert traffic is not None
    before, hops = traffic.round_trips, traffic.hops
    result = await step
    trips = traffic.round_trips - before
    assert traffic.hops - hops == trips
    return trips, result


@pytest.mark.parametrize(
    ("memory", "per_answer", "per_question"),
    [
        # the question found and closed; the attempt logged with the memory row read; COMMIT
        # with the writes. Next: the position and what the choice reads; the question
        # stored with its item read, and the COMMIT.
        (RuleMemory, 3, 2),
        # and the model's reads before it learns (its state, the item's and tags' tallies,
        # the student's tally) go with the question's look-up (``observe_query``, for the
        # item as asked). Its state's write goes with the attempt's insert (whether it was
        # written is checked there), and the due time counts the answer in the tallies
        # read, reading nothing back. A choice reads the model's state and the
        # tallies of the items of the student's last choice and answer with the position
        # (``ModelMemory.choice_query``): nothing more when they cover the items scored.
        (ModelMemory, 3, 2),
    ],
)
async def test_a_quiz_step_takes_a_few_round_trips_on_postgresql(
    postgres: Database,
    clock: FakeClock,
    memory: type[MemoryModel],
    per_answer: int,
    per_question: int,
) -> None:
    service = await _studying(postgres, clock, memory())
    student = await service.student(100)
    assert student is not None
    question: Question | None = await service.start_quiz(student, 5)
    answered = 0
    while question is not None:
        clock.advance(seconds=20)
        answer = right_answer(question) if answered % 2 == 0 else wrong_answer(question)
        trips, feedback = await _trips(postgres, service.answer(student, question.id, answer))
        assert trips == per_answer
        assert feedback.correct == (answered % 2 == 0)
        answered += 1
        trips, question = await _trips(postgres, service.next_question(student))
        if question is not None:
            assert trips == per_question
    assert answered == 5
    assert (await service.stats(100)).answers_today == 5  # every answer logged once
