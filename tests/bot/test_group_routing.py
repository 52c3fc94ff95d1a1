"""With ``serve --workers 2``, a group's updates all reach one worker, whichever member sends
them, so the group's outgoing limit (twenty messages a minute, kept in the worker's memory)
holds for the whole group: sixty members asking at once get their answers without a 429.

Each "worker" is what ``metatutor serve`` builds (its own database connection, service and
application, with its outgoing limiter on the test's virtual time); the front's own routing
(:func:`bot.webhook_front.route_of`) picks the worker of each update. On SQLite and on
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import build_application, rate_limiter
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver
from bot.fake_telegram.objects import FakeChat, FakeUser
from bot.settings import Settings
from bot.webhook_front import route_of, user_of, worker_for
from storage import Database
from tests.backends import on_each_backend
from tests.conftest import FakeClock, virtual_time
from tutor.service import TutorService

CLASS = FakeChat(-900, "Class")
MEMBERS = [FakeUser(1000 + k, f"M{k}") for k in range(60)]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """On SQLite and on PostgreSQL (tests/backends.py)."""
    on_each_backend(metafunc)


@pytest.fixture
async def workers(
    database_location: Path | str, clock: FakeClock
) -> AsyncIterator[tuple[FakeBotApi, list[ChatDriver]]]:
    fake = FakeBotApi(clock=clock)
    fake.rate_limit(max_per_second=30, per_group_per_minute=20)  # Telegram's limits
    monotonic, sleep = virtual_time(clock)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, telegram_bot_token=None, timezone="UTC", flood_burst=0
    )
    dbs = [await Database.open(database_location) for _ in range(2)]
    await TutorService(dbs[0], clock=clock).groups.joined(CLASS.id, CLASS.title, "en")
    drivers = []
    for db in dbs:
        limiter = rate_limiter(settings, clock=monotonic, sleep=sleep)
        service = TutorService(db, clock=clock)
        application = build_application(settings, service, request=fake, limiter=limiter)
        drivers.append(await ChatDriver(application).__aenter__())
    try:
        yield fake, drivers
    finally:
        for driver in drivers:
            await driver.__aexit__(None, None, None)
        for db in dbs:
            await db.close()


async def test_a_groups_members_reach_one_worker_and_its_limit_holds(
    workers: tuple[FakeBotApi, list[ChatDriver]],
) -> None:
    fake, drivers = workers
    asked = [fake.user_message(member, "/top", chat=CLASS) for member in MEMBERS]
    # By user, the members would be spread over both workers (each with its own limit).
    assert len({worker_for(user_of(update), 2) for update in asked}) == 2
    chosen = {worker_for(route_of(update), 2) for update in asked}
    assert len(chosen) == 1
    for update in asked:
        await drivers[worker_for(route_of(update), 2)].feed(update)
    sent = [call for call in fake.calls if call.method == "sendMessage"]
    assert [call for call in sent if not call.ok] == []  # no 429 from Telegram
    assert len(fake.messages(CLASS.id)) == len(MEMBERS)  # everyone was answered
    # A private chat and a poll answer still go by their user.
    private = fake.user_message(MEMBERS[0], "/help")
    assert route_of(private) == MEMBERS[0].id == user_of(private)
