"""Imports in short steps: students are served in between, and see an import whole or not at all."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from storage import Connection, Database
from storage import imports as import_rows
from tests.conftest import FakeClock
from tests.tutor.test_service import right_answer
from tutor import deck_store
from tutor.deck_store import Pace
from tutor.items import Item
from tutor.service import TutorService

FEW_ROWS = Pace(rows=5, rest=0.0, min_rest_s=0.0)


def _csv(n: int, deck: str = "Big", *, prefix: str = "Question") -> bytes:
    rows = [f"b{k},{prefix} {k}?,answer {k},{deck}" for k in range(n)]
    return ("id,question,answer,deck\n" + "\n".join(rows) + "\n").encode()


async def _visible_items(service: TutorService, deck_name: str) -> list[Item]:
    """A live deck's live items, read at one moment (nothing if there is no such deck)."""
    from storage import content as content_rows
    from tutor.convert import item_from_record

    async with service.db.read() as conn:
        deck = await content_rows.find_deck(conn, deck_name)
        rows = await content_rows.deck_items(conn, deck.id) if deck else []
    return [item_from_record(row) for row in rows]


async def _builds(db: Database) -> list[tuple[int, str, int]]:
    async with db.read() as conn:
        return await import_rows.builds(conn)


async def _count(db: Database, sql: str) -> int:
    async with db.read() as conn:
        return int((await conn.execute_fetchall(sql))[0][0])


Insert = Callable[..., Awaitable[None]]


def _watch_steps(
    monkeypatch: pytest.MonkeyPatch, on_step: Callable[[int], Awaitable[None]]
) -> list[int]:
    """Call ``on_step(n)`` after the n-th write of item rows (inside its transaction)."""
    steps: list[int] = []
    real_insert: Insert = import_rows.insert_items
    real_update: Insert = import_rows.update_items

    async def insert(conn: Connection, *args: Any) -> None:
        await real_insert(conn, *args)
        steps.append(len(steps) + 1)
        await on_step(steps[-1])

    async def update(conn: Connection, *args: Any) -> None:
        await real_update(conn, *args)
        steps.append(len(steps) + 1)
        await on_step(steps[-1])

    monkeypatch.setattr(import_rows, "insert_items", insert)
    monkeypatch.setattr(import_rows, "update_items", update)
    return steps


@pytest.fixture
def small_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Imports in steps of 5 rows."""
    monkeypatch.setattr(deck_store, "DEFAULT_PACE", FEW_ROWS)


async def test_a_student_is_served_between_the_steps_of_an_import(
    studying: TutorService, monkeypatch: pytest.MonkeyPatch, small_steps: None
) -> None:
    events: list[str] = []
    second_step = asyncio.Event()

    async def on_step(n: int) -> None:
        events.append(f"import step {n}")
        if n == 2:
            second_step.set()

    _watch_steps(monkeypatch, on_step)
    question = await studying.start_quiz(100, 3)
    assert question is not None
    importing = asyncio.create_task(studying.import_file(_csv(40), "big.csv"))
    await second_step.wait()
    feedback = await studying.answer(100, question.id, right_answer(question))
    events.append("answer stored")
    assert await _visible_items(studying, "Big") == []  # still being built: not listed
    assert not importing.done()
    report = await importing
    assert feedback.correct and report.added == 40
    steps = [e for e in events if e.startswith("import step")]
    assert len(steps) == 8  # 40 rows in steps of 5
    # Served after the second step, long before the import's last one.
    assert events.index("answer stored") < events.index("import step 8")
    assert len(await _visible_items(studying, "Big")) == 40
    assert await _builds(studying.db) == []


async def test_a_failure_midway_through_a_new_deck_leaves_nothing(
    studying: TutorService, monkeypatch: pytest.MonkeyPatch, small_steps: None
) -> None:
    async def on_step(n: int) -> None:
        if n == 3:
            raise OSError("disk gone")

    _watch_steps(monkeypatch, on_step)
    decks = await studying.decks()
    items = await _count(studying.db, "SELECT COUNT(*) FROM items")
    with pytest.raises(OSError, match="disk gone"):
        await studying.import_file(_csv(40), "big.csv")
    assert await studying.decks() == decks
    assert await _builds(studying.db) == []  # the partial build was deleted
    assert await _count(studying.db, "SELECT COUNT(*) FROM items") == items
    monkeypatch.undo()
    report = await studying.import_file(_csv(40), "big.csv")
    assert report.added == 40 and report.deck.name == "Big"


async def test_students_see_the_old_deck_until_the_switch_then_all_of_the_new(
    studying: TutorService, monkeypatch: pytest.MonkeyPatch, small_steps: None
) -> None:
    await studying.import_file(_csv(30), "big.csv")
    old = await _visible_items(studying, "Big")
    real_rows = import_rows.item_rows
    views: list[asyncio.Task[list[Item]]] = []

    async def item_rows(conn: Connection, *args: Any) -> list[Any]:
        found = await real_rows(conn, *args)
        # A student asks for the deck now: served as soon as this step ends.
        views.append(asyncio.create_task(_visible_items(studying, "Big")))
        return found

    monkeypatch.setattr(import_rows, "item_rows", item_rows)
    grown = _csv(30, prefix="Reworded") + b"b30,A new one?,new,Big\n"
    report = await studying.import_file(grown, "big.csv")
    assert (report.added, report.updated, report.unchanged) == (1, 30, 0)
    during = await asyncio.gather(*views)
    assert len(during) == 7  # 30 rows read in steps of 5, and the empty read that ends it
    assert all(view == old for view in during)
    new = await _visible_items(studying, "Big")
    assert len(new) == 31 and all(item.prompt.startswith("Reworded") for item in new[:30])


async def test_a_failed_switch_leaves_the_old_deck_exactly(
    studying: TutorService, monkeypatch: pytest.MonkeyPatch, small_steps: None
) -> None:
    await studying.import_file(_csv(30), "big.csv")
    old = await _visible_items(studying, "Big")
    version = await _count(studying.db, "SELECT items_version FROM decks WHERE name = 'Big'")

    async def fail(n: int) -> None:
        raise OSError("disk gone")

    _watch_steps(monkeypatch, fail)
    grown = _csv(30, prefix="Reworded") + b"b30,A new one?,new,Big\n"
    with pytest.raises(OSError, match="disk gone"):
        await studying.import_file(grown, "big.csv")
    assert await _visible_items(studying, "Big") == old
    assert (
        await _count(studying.db, "SELECT items_version FROM decks WHERE name = 'Big'") == version
    )
    assert await _count(studying.db, "SELECT COUNT(*) FROM audit_log WHERE action = 'import'") == 0


async def test_an_unchanged_reimport_writes_no_item(
    studying: TutorService, monkeypatch: pytest.MonkeyPatch
) -> None:
    await studying.import_file(_csv(12), "big.csv")
    writes: list[int] = []
    _watch_steps(monkeypatch, lambda n: asyncio.sleep(0, writes.append(n)))
    version = await _count(studying.db, "SELECT items_version FROM decks WHERE name = 'Big'")
    report = await studying.import_file(_csv(12), "big.csv")
    assert (report.added, report.updated, report.unchanged) == (0, 0, 12)
    assert writes == []
    assert (
        await _count(studying.db, "SELECT items_version FROM decks WHERE name = 'Big'") == version
    )


async def test_a_crashed_build_stays_hidden_and_the_next_import_deletes_it(
    studying: TutorService, clock: FakeClock
) -> None:
    from tutor.deck_store import item_values
    from tutor.library import parse_upload

    parsed = parse_upload(_csv(10), "big.csv", None, 10**6)

    async def leave_build(slug: str) -> int:
        """What a process killed in the middle of an import leaves behind."""
        async with studying.db.transaction() as conn:
            deck_id = await import_rows.create_build(
                conn,
                build_slug=slug,
                name="Big",
                description="",
                language="en",
                bundled=False,
                source_digest=None,
                now_ms=int(clock().timestamp() * 1000),
            )
            await import_rows.insert_items(conn, deck_id, item_values(parsed.items), 0)
        return deck_id

    dead = await leave_build(f"{import_rows.BUILD_PREFIX}aaaa-{_dead_pid()}@{_host()}")
    alive = await leave_build(f"{import_rows.BUILD_PREFIX}bbbb-{os.getppid()}@{_host()}")
    elsewhere = await leave_build(f"{import_rows.BUILD_PREFIX}cccc-1@another-machine")
    assert [info.deck.name for info in await studying.decks()] == ["Sample"]
    from storage import content as content_rows

    async with studying.db.read() as conn:
        assert await content_rows.find_deck(conn, "Big") is None
    await studying.import_file(_csv(3, deck="Small"), "small.csv")
    # The dead process's build is gone; a running process's and another machine's stay.
    assert {row[0] for row in await _builds(studying.db)} == {alive, elsewhere}
    assert dead not in {row[0] for row in await _builds(studying.db)}
    clock.advance(minutes=11)  # no heartbeat for longer than STALE_BUILD_MS
    await studying.import_file(_csv(3, deck="Small"), "small.csv")
    assert await _builds(studying.db) == []
    assert await _count(studying.db, "SELECT COUNT(*) FROM items") == 6 + 3


def _host() -> str:
    import socket

    return socket.gethostname()


def _dead_pid() -> int:
    """The id of a process that has exited."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid
