"""Reading the real Anki review logs the simulated students are fitted to."""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class ReviewRows:
    """One person's reviews in time order: times (Unix ms), card ids, grades 1-4, answer ms."""

    user: str
    review_ms: npt.NDArray[np.int64]
    card: npt.NDArray[np.int64]
    grade: npt.NDArray[np.int8]
    time_ms: npt.NDArray[np.float64]


def read_revlog(path: Path) -> ReviewRows:
    """Read one ``user_NN.csv.gz`` file (columns as in the data folder's README)."""
    ts: list[int] = []
    card: list[int] = []
    grade: list[int] = []
    dur: list[float] = []
    with gzip.open(path, "rt", newline="") as fh:
        for row in csv.DictReader(fh):
            ts.append(int(row["review_ts_ms"]))
            card.append(int(row["card_id"]))
            grade.append(int(row["ease"]))
            dur.append(float(row["time_ms"]))
    order = np.argsort(np.asarray(ts, dtype=np.int64), kind="stable")
    name = path.name.split(".")[0]
    return ReviewRows(
        user=name,
        review_ms=np.asarray(ts, dtype=np.int64)[order],
        card=np.asarray(card, dtype=np.int64)[order],
        grade=np.asarray(grade, dtype=np.int8)[order],
        time_ms=np.asarray(dur, dtype=np.float64)[order],
    )


def read_all(folder: Path) -> list[ReviewRows]:
    """Every person in ``folder`` (``user_*.csv.gz``), sorted by name."""
    return [read_revlog(p) for p in sorted(folder.glob("user_*.csv.gz"))]
