"""Fit FSRS-6 parameters per real person with the ``fsrs`` Optimizer (a slow, one-off step).

The fitted vectors are derived numbers, not data, and are committed in
``tutor/simulation/fsrs_params.json`` together with each person's answer-time sample summary.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from tutor.simulation.anki_logs import ReviewRows, read_all

PARAMS_FILE = Path(__file__).with_name("fsrs_params.json")
#: A log whose median answer time is below this has no real answer times (a converted log).
MIN_MEDIAN_MS = 1500.0
TIME_QUANTILES = tuple(i / 20 for i in range(21))


def fit_person(rows: ReviewRows) -> list[float]:
    """FSRS-6 parameters optimised on one person's reviews."""
    from fsrs import Optimizer, Rating, ReviewLog

    logs = [
        ReviewLog(
            card_id=int(c),
            rating=Rating(int(g)),
            review_datetime=datetime.fromtimestamp(int(t) / 1000, tz=UTC),
            review_duration=int(d),
        )
        for t, c, g, d in zip(rows.review_ms, rows.card, rows.grade, rows.time_ms, strict=True)
    ]
    return [float(x) for x in Optimizer(logs).compute_optimal_parameters()]


def answer_time_quantiles(rows: ReviewRows) -> list[float]:
    """Quantiles of answer time in seconds (capped at 60 s, as Anki caps by default)."""
    secs = np.clip(rows.time_ms / 1000.0, 1.0, 60.0)
    return [float(q) for q in np.quantile(secs, TIME_QUANTILES)]


def grade_shares(rows: ReviewRows) -> list[float]:
    """Shares of Hard, Good, Easy among successful recalls (for simulated self-grades)."""
    ok = rows.grade[rows.grade > 1]
    counts = np.array([(ok == g).sum() for g in (2, 3, 4)], dtype=np.float64) + 1.0
    return [float(x) for x in counts / counts.sum()]


def first_success(rows: ReviewRows) -> float:
    """Share of cards answered right (grade > 1) at their very first review."""
    _, first = np.unique(rows.card, return_index=True)
    return float((rows.grade[first] > 1).mean())


def refresh_stats(folder: Path, out: Path = PARAMS_FILE) -> None:
    """Recompute the log statistics (not the fitted parameters) in an existing file."""
    doc = json.loads(out.read_text())
    by_user = {r.user: r for r in read_all(folder)}
    timed = [r for r in by_user.values() if np.median(r.time_ms) >= MIN_MEDIAN_MS]
    pooled = ReviewRows(
        "pooled",
        np.concatenate([r.review_ms for r in timed]),
        np.concatenate([r.card for r in timed]),
        np.concatenate([r.grade for r in timed]),
        np.concatenate([r.time_ms for r in timed]),
    )
    for person in doc["people"]:
        rows = by_user[person["user"]]
        has_times = bool(np.median(rows.time_ms) >= MIN_MEDIAN_MS)
        person["answer_seconds_quantiles"] = answer_time_quantiles(rows if has_times else pooled)
        person["answer_times_from"] = "own" if has_times else "pooled (log has no answer times)"
        person["grade_shares_hge"] = grade_shares(rows)
        person["first_success"] = first_success(rows)
    out.write_text(json.dumps(doc, indent=1) + "\n")


def fit_all(folder: Path, out: Path = PARAMS_FILE) -> dict[str, Any]:
    """Fit every person in ``folder`` and write the JSON file."""
    import torch

    torch.set_num_threads(1)
    people: list[dict[str, Any]] = []
    for rows in read_all(folder):
        params = fit_person(rows)
        people.append(
            {
                "user": rows.user,
                "n_reviews": len(rows.grade),
                "fsrs6": params,
                "answer_seconds_quantiles": answer_time_quantiles(rows),
                "grade_shares_hge": grade_shares(rows),
                "first_success": first_success(rows),
            }
        )
        print(rows.user, len(rows.grade), [round(p, 3) for p in params], flush=True)
    doc = {
        "source": "FSRS-6 parameters fitted per person to the Anki review logs "
        "(user_03..user_26) with fsrs.Optimizer; answer-time quantiles in seconds.",
        "people": people,
    }
    out.write_text(json.dumps(doc, indent=1) + "\n")
    return doc


if __name__ == "__main__":
    import sys

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    src = Path(args[0]) if args else Path("/work/shared/data/anki_revlogs")
    if "--stats-only" in sys.argv:
        refresh_stats(src)
    else:
        fit_all(src)
