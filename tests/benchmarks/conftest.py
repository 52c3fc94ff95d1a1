"""Fixtures of the benchmark tests: a tiny generated database."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import generate_db


@pytest.fixture
def tiny_db(tmp_path: Path) -> Path:
    """30 students, 200 items in 2 decks, 600 attempts (with its ``.json`` sidecar)."""
    out = tmp_path / "tiny.sqlite"
    sizes = ["--students", "30", "--items", "200", "--decks", "2", "--attempts", "600"]
    args = generate_db.parse_args([*sizes, "--out", str(out)])
    generate_db.build(args)
    return out
