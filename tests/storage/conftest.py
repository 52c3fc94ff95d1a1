"""Storage tests run on both databases: SQLite, and PostgreSQL when one is available."""

from __future__ import annotations

import pytest

BACKENDS = ["sqlite", "postgresql"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test on a database (the ``db`` fixture or ``database_location``) runs on each
    backend, except those marked ``sqlite_only`` (files, WAL, SQLite's own pragmas)."""
    uses_database = {"db", "database_location"} & set(metafunc.fixturenames)
    if uses_database and metafunc.definition.get_closest_marker("sqlite_only") is None:
        metafunc.parametrize("backend", BACKENDS, indirect=True)
