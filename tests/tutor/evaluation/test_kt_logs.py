"""ASSISTments reading and the multi-skill collapse."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from tutor.evaluation.kt_logs import collapse_multiskill, every_fifth, read_assist


def test_collapse_merges_multiskill_rows() -> None:
    items = np.array([5, 5, 5, 6, 5])
    skills = np.array([1, 2, 3, 1, 1])
    correct = np.array([1, 1, 1, 0, 0])
    it, sk, co = collapse_multiskill(items, skills, correct, keep_same_skill=False)
    assert it.tolist() == [5, 6, 5]
    assert sk == ((1, 2, 3), (1,), (1,))
    assert co.tolist() == [1, 0, 0]


def test_collapse_keeps_real_retries_when_asked() -> None:
    items = np.array([5, 5, 5, 5])
    skills = np.array([1, 2, 1, 1])
    correct = np.array([0, 0, 1, 1])
    it, sk, co = collapse_multiskill(items, skills, correct, keep_same_skill=True)
    assert it.tolist() == [5, 5, 5]
    assert sk == ((1, 2), (1,), (1,))
    assert co.tolist() == [0, 1, 1]
    it2, _, _ = collapse_multiskill(items, skills, correct, keep_same_skill=False)
    assert it2.tolist() == [5]


def test_read_assist_gz(tmp_path: Path) -> None:
    path = tmp_path / "a_test1.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write("0,777\n3,3,4\n10,11,10\n1,1,0\n1,888\n9\n10\n0\n")
    logs = read_assist(tmp_path / "a_test1.csv", with_problems=True, collapse=True)
    assert [log.user for log in logs] == ["777", "888"]
    assert logs[0].items.tolist() == [3, 4]
    assert logs[0].skills == ((10, 11), (10,))
    assert logs[0].correct.tolist() == [1, 0]


def test_every_fifth_sorts_ids_as_text() -> None:
    users = [str(i) for i in range(12)]
    # text order: 0 1 10 11 2 3 4 5 6 7 8 9
    assert every_fifth(users, 1) == {"0", "3", "8"}
    assert every_fifth(users, 2) == {"1", "4", "9"}
