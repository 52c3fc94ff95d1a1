"""Quiz sessions: on SQLite the next question is chosen before the write transaction that
stores it; on PostgreSQL (rows locked, not the database) inside it, with its reads pipelined."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from storage import Database
from storage import content as content_rows
from tests.storage.test_postgres import terminate_others
from tests.tutor.test_service import right_answer
from tutor.quiz import Quizzes
from tutor.service import TutorService

ADA = 100


class ChoiceWatch:
    """Wraps the quiz's ``_choose``: whether each call ran inside a write transaction, and
    something to do right after the first one (another process's write)."""

    def __init__(self, service: TutorService, monkeypatch: pytest.MonkeyPatch) -> None:
        self.inside: list[bool] = []
        self.chosen: list[int] = []
        self.then: Any = None
        choose = Quizzes._choose

        async def watched(quizzes: Quizzes, conn: Any, *args: Any) -> Any:
            self.inside.append(bool(conn.in_transaction))
            choice = await choose(quizzes, conn, *args)
            self.chosen.append(choice[0].id if choice else 0)
            then, self.then = self.then, None
            if then is not None and choice is not None:
                await then(choice[0].id)
            return choice

        monkeypatch.setattr(Quizzes, "_choose", watched)


async def test_the_choice_is_made_outside_the_write_transaction(
    studying: TutorService, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    watch = ChoiceWatch(studying, monkeypatch)
    question = await studying.start_quiz(ADA, 3)
    assert question is not None
    await studying.answer(ADA, question.id, right_answer(question))
    second = await studying.next_question(ADA)
    assert second is not None and second.number == 2
    # One choice per question; on SQLite each on a read: the write lock is not held meanwhile.
    inside = backend == "postgresql"
    assert watch.inside == [inside, inside]
    assert watch.chosen == [question.item.id, second.item.id]


async def test_an_item_deleted_while_it_was_being_chosen_is_not_asked(
    studying: TutorService,
    monkeypatch: pytest.MonkeyPatch,
    database_location: Path | str,
    backend: str,
) -> None:
    watch = ChoiceWatch(studying, monkeypatch)
    other = await Database.open(database_location)  # an admin's process
    try:

        async def delete(item_id: int) -> None:
            async with other.transaction() as conn:
                await content_rows.delete_item(conn, item_id, 1)

        watch.then = delete
        question = await studying.start_quiz(ADA, 3)
    finally:
        await other.close()
    assert question is not None
    deleted = watch.chosen[0]
    # Chosen again from the items that are left: on SQLite inside the write transaction, on
    # PostgreSQL in a new one (the question's insert found the item gone and wrote nothing).
    assert watch.inside == ([True, True] if backend == "postgresql" else [False, True])
    assert question.item.id == watch.chosen[1] != deleted


async def test_an_answer_after_postgresql_ended_the_connection_is_marked_once(
    studying: TutorService, database_location: Path | str, backend: str
) -> None:
    """A server restart between two presses: the student's answer is marked and stored once,
    with no error (it used to raise 'connection lost', and the student got an apology)."""
    if backend != "postgresql":
        pytest.skip("SQLite has no connection to lose")
    question = await studying.start_quiz(ADA, 3)
    assert question is not None
    await asyncio.to_thread(terminate_others, str(database_location))
    feedback = await studying.answer(ADA, question.id, right_answer(question), update_key="u1")
    assert feedback.correct and not feedback.duplicate
    await asyncio.to_thread(terminate_others, str(database_location))
    second = await studying.next_question(ADA)
    assert second is not None and second.number == 2
    async with studying.db.read() as conn:
        rows = await conn.execute_fetchall("SELECT item_id FROM attempts WHERE user_id = ?", (ADA,))
    assert [row[0] for row in rows] == [question.item.id]
