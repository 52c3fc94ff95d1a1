"""Learner logs given as CSV files (``bench model --train FILE --test FILE``).

Header (any column order): ``user_id,item_id,correct`` and optionally ``skills``
(semicolon-separated tags), ``timestamp`` (Unix seconds), ``grade`` (1-4), ``duration_ms``,
``n_options``. The rows of one user are in time order; users may be interleaved. Item and
skill names are free text, mapped to integer ids shared by the train and test files.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tutor.evaluation.logs import Dataset, LearnerLog

REQUIRED = ("user_id", "item_id", "correct")
OPTIONAL = ("skills", "timestamp", "grade", "duration_ms", "n_options")


class CsvLogError(ValueError):
    """A CSV log is malformed; the message names the file, line and column."""


@dataclass
class _Learner:
    items: list[int] = field(default_factory=list)
    skills: list[tuple[int, ...]] = field(default_factory=list)
    correct: list[int] = field(default_factory=list)
    timestamp: list[float] = field(default_factory=list)
    grade: list[int] = field(default_factory=list)
    duration_ms: list[float] = field(default_factory=list)
    n_options: list[int] = field(default_factory=list)


@dataclass
class _Ids:
    items: dict[str, int] = field(default_factory=dict)
    skills: dict[str, int] = field(default_factory=dict)


def _fail(path: Path, line: int, column: str, message: str) -> CsvLogError:
    return CsvLogError(f"{path}: line {line}, column {column!r}: {message}")


def _number(path: Path, line: int, column: str, text: str, kind: type) -> float:
    try:
        value = kind(text)
    except ValueError:
        raise _fail(path, line, column, f"expected a number, got {text!r}") from None
    if not np.isfinite(value):
        raise _fail(path, line, column, f"expected a finite number, got {text!r}")
    return float(value)


def _parse_row(
    path: Path, line: int, row: dict[str, str], present: set[str], ids: _Ids, acc: _Learner
) -> None:
    item = row["item_id"].strip()
    if not item:
        raise _fail(path, line, "item_id", "empty")
    acc.items.append(ids.items.setdefault(item, len(ids.items)))
    correct = row["correct"].strip()
    if correct not in ("0", "1"):
        raise _fail(path, line, "correct", f"expected 0 or 1, got {correct!r}")
    acc.correct.append(int(correct))
    tags = row["skills"].strip() if "skills" in present else ""
    acc.skills.append(
        tuple(
            ids.skills.setdefault(tag.strip(), len(ids.skills))
            for tag in tags.split(";")
            if tag.strip()
        )
    )
    if "timestamp" in present:
        ts = _number(path, line, "timestamp", row["timestamp"].strip(), float)
        if acc.timestamp and ts < acc.timestamp[-1]:
            raise _fail(path, line, "timestamp", "earlier than this user's previous row")
        acc.timestamp.append(ts)
    if "grade" in present:
        grade = int(_number(path, line, "grade", row["grade"].strip(), int))
        if not 1 <= grade <= 4:
            raise _fail(path, line, "grade", f"expected 1-4, got {grade}")
        if (grade > 1) != bool(int(correct)):
            raise _fail(path, line, "grade", f"grade {grade} contradicts correct={correct}")
        acc.grade.append(grade)
    if "duration_ms" in present:
        dur = _number(path, line, "duration_ms", row["duration_ms"].strip(), float)
        if dur < 0:
            raise _fail(path, line, "duration_ms", "negative")
        acc.duration_ms.append(dur)
    if "n_options" in present:
        n_opt = int(_number(path, line, "n_options", row["n_options"].strip(), int))
        if not 0 <= n_opt <= 100:
            raise _fail(path, line, "n_options", f"expected 0-100, got {n_opt}")
        acc.n_options.append(n_opt)


def read_csv_learners(path: Path, ids: _Ids | None = None) -> tuple[list[LearnerLog], bool]:
    """Read one CSV log; return its learners (in order of first appearance) and whether timed."""
    ids = ids if ids is not None else _Ids()
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise CsvLogError(f"{path}: cannot open: {exc.strerror}") from exc
    with handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        if not header:
            raise CsvLogError(f"{path}: line 1: empty file (expected a header row)")
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise CsvLogError(f"{path}: line 1: header lacks required column(s) {missing}")
        unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
        if unknown:
            raise CsvLogError(f"{path}: line 1: unknown column(s) {unknown}")
        reader.fieldnames = header
        present = set(header)
        learners: dict[str, _Learner] = {}
        for row in reader:
            line = reader.line_num
            if None in row or any(v is None for v in row.values()):
                raise CsvLogError(f"{path}: line {line}: expected {len(header)} fields")
            user = row["user_id"].strip()
            if not user:
                raise _fail(path, line, "user_id", "empty")
            _parse_row(path, line, row, present, ids, learners.setdefault(user, _Learner()))
    if not learners:
        raise CsvLogError(f"{path}: no data rows")
    return [_freeze(user, acc, present) for user, acc in learners.items()], "timestamp" in present


def _freeze(user: str, acc: _Learner, present: set[str]) -> LearnerLog:
    return LearnerLog(
        user=user,
        items=np.array(acc.items, dtype=np.int64),
        skills=tuple(acc.skills),
        correct=np.array(acc.correct, dtype=np.int8),
        timestamps=np.array(acc.timestamp) if "timestamp" in present else None,
        grades=np.array(acc.grade, dtype=np.int8) if "grade" in present else None,
        durations_ms=np.array(acc.duration_ms) if "duration_ms" in present else None,
        n_options=np.array(acc.n_options, dtype=np.int8) if "n_options" in present else None,
    )


def load_csv_logs(train: Path, test: Path, *, name: str = "csv") -> Dataset:
    """Load a train/test pair of CSV logs into a :class:`Dataset` (ids shared by both)."""
    ids = _Ids()
    train_learners, train_timed = read_csv_learners(train, ids)
    test_learners, test_timed = read_csv_learners(test, ids)
    overlap = {u.user for u in train_learners} & {u.user for u in test_learners}
    if overlap:
        example = sorted(overlap)[0]
        raise CsvLogError(
            f"{test}: {len(overlap)} user(s) also in {train} (e.g. {example!r}); "
            "the split must be by learner"
        )
    return Dataset(
        name=name, train=train_learners, test=test_learners, timestamped=train_timed and test_timed
    )
