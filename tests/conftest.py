"""Fixtures shared by every test: an injected clock, a fresh database, the tutor service."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from storage import Database

if TYPE_CHECKING:
    from tutor.service import TutorService

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = START) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        """Move forward by ``timedelta(**delta)``."""
        self.current += timedelta(**delta)
        return self.current

    def set(self, moment: datetime) -> None:
        """Jump to ``moment``."""
        self.current = moment


@pytest.fixture
def clock() -> FakeClock:
    """A clock starting on a Monday morning, 2026-03-02 09:00 UTC."""
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test's database file lives."""
    return tmp_path / "metatutor.sqlite3"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    """A fresh, migrated database."""
    database = await Database.open(db_path)
    yield database
    await database.close()


ServiceFactory = Callable[..., Awaitable["TutorService"]]


@pytest.fixture
async def service_factory(db: Database, clock: FakeClock) -> ServiceFactory:
    """Build a TutorService on the test database; keyword arguments go to TutorConfig."""

    from tutor.service import TutorConfig, TutorService

    async def build(*, bundled: bool = False, seed: int = 7, **config: object) -> TutorService:
        service = TutorService(db, config=TutorConfig(**config), clock=clock, seed=seed)  # type: ignore[arg-type]
        if bundled:
            await service.install_bundled_decks()
        return service

    return build


@pytest.fixture
async def service(service_factory: ServiceFactory) -> TutorService:
    """A TutorService with no decks."""
    return await service_factory()
