"""Storage tests run on both databases: SQLite, and PostgreSQL when one is available."""

from __future__ import annotations

import pytest

from tests.backends import on_each_backend


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Each test on a database runs on each backend (see tests/backends.py)."""
    on_each_backend(metafunc)
