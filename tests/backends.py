"""Which databases a folder's tests run on: its conftest calls :func:`on_each_backend`."""

from __future__ import annotations

import pytest

BACKENDS = ["sqlite", "postgresql"]


def on_each_backend(metafunc: pytest.Metafunc) -> None:
    """Run a test on a database (the ``db`` fixture or ``database_location``) on SQLite and
    on PostgreSQL, unless it is marked ``sqlite_only`` (files, WAL, SQLite's own pragmas)."""
    uses_database = {"db", "database_location"} & set(metafunc.fixturenames)
    if uses_database and metafunc.definition.get_closest_marker("sqlite_only") is None:
        metafunc.parametrize("backend", BACKENDS, indirect=True)
