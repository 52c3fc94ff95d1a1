"""Calibration and forgetting diagnostics of the benchmark's scored predictions.

Two summaries of the same predictions the metrics score (no other model path):

* **Reliability**: the scored attempts grouped by predicted probability into ten bins of width
  0.1; per bin the number of attempts, the mean prediction and the observed success rate, and
  the expected calibration error ``ECE = sum_b n_b / N * |mean_pred_b - observed_b|``.
* **Forgetting** (timestamped logs): the scored attempts grouped by the time since the learner's
  previous attempt at the same item (first attempts at an item apart); per group the mean
  prediction and the observed success rate. A model that forgets as the learners do follows the
  observed rate down the groups.

Rows are plain dicts (JSON-ready) with ``dataset``, ``model`` and ``kind`` (``reliability``,
``ece`` or ``forgetting``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from tutor.evaluation.logs import LearnerLog

Row = dict[str, Any]
N_BINS = 10
HOUR_S = 3_600.0
DAY_S = 86_400.0
#: Groups of the time since the previous attempt at the item: (label, low s, high s).
GAP_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("< 1 h", 0.0, HOUR_S),
    ("1 h - 1 d", HOUR_S, DAY_S),
    ("1 - 7 d", DAY_S, 7 * DAY_S),
    ("7 - 30 d", 7 * DAY_S, 30 * DAY_S),
    ("30 d +", 30 * DAY_S, math.inf),
)
FIRST_LABEL = "first attempt"
#: Shortest previous interval for which a gap ratio is defined.
MIN_PREVIOUS_INTERVAL_S = DAY_S
#: Groups of the gap divided by the item's previous gap (how overdue a review is).
RATIO_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("< 0.5", 0.0, 0.5),
    ("0.5 - 1", 0.5, 1.0),
    ("1 - 2", 1.0, 2.0),
    ("2 - 4", 2.0, 4.0),
    ("4 +", 4.0, math.inf),
)


def item_gaps(learner: LearnerLog) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per attempt: seconds since the learner's previous attempt at the same item, and that
    gap divided by the item's gap before (the previous interval).

    Gap ``-1`` on the first attempt at an item; ratio ``nan`` unless the item had two earlier
    attempts at least :data:`MIN_PREVIOUS_INTERVAL_S` apart (shorter ones are learning steps,
    after which any review looks "overdue"); both ``nan`` without timestamps.
    """
    n = len(learner)
    ratio = np.full(n, np.nan)
    if learner.timestamps is None:
        return np.full(n, np.nan), ratio
    gaps = np.full(n, -1.0)
    last: dict[int, tuple[float, float]] = {}  # item -> (last time, gap before it)
    for t, (item, ts) in enumerate(
        zip(learner.items.tolist(), learner.timestamps.tolist(), strict=True)
    ):
        prev = last.get(item)
        gap = math.nan
        if prev is not None:
            gap = max(ts - prev[0], 0.0)
            gaps[t] = gap
            if prev[1] >= MIN_PREVIOUS_INTERVAL_S:
                ratio[t] = gap / prev[1]
        last[item] = (ts, gap)
    return gaps, ratio


def reliability(
    y: npt.ArrayLike, p: npt.ArrayLike, n_bins: int = N_BINS
) -> tuple[list[dict[str, float]], float]:
    """Reliability bins (equal width on [0, 1]) and the expected calibration error.

    Returns:
        One dict per non-empty bin with ``lo``, ``hi``, ``n``, ``mean_pred``, ``observed``,
        and the ECE (``nan`` without predictions).
    """
    ya = np.asarray(y, dtype=np.float64)
    pa = np.asarray(p, dtype=np.float64)
    if len(ya) == 0:
        return [], math.nan
    idx = np.minimum((pa * n_bins).astype(np.int64), n_bins - 1)
    count = np.bincount(idx, minlength=n_bins)
    sum_p = np.bincount(idx, weights=pa, minlength=n_bins)
    sum_y = np.bincount(idx, weights=ya, minlength=n_bins)
    bins: list[dict[str, float]] = []
    ece = 0.0
    for b in range(n_bins):
        if count[b] == 0:
            continue
        mean_p, obs = sum_p[b] / count[b], sum_y[b] / count[b]
        ece += count[b] / len(ya) * abs(mean_p - obs)
        bins.append(
            {
                "lo": b / n_bins,
                "hi": (b + 1) / n_bins,
                "n": int(count[b]),
                "mean_pred": float(mean_p),
                "observed": float(obs),
            }
        )
    return bins, float(ece)


def forgetting(y: npt.ArrayLike, p: npt.ArrayLike, gaps: npt.ArrayLike) -> list[dict[str, Any]]:
    """Mean prediction and observed rate per group of :data:`GAP_BUCKETS` (and first attempts).

    ``gaps`` as :func:`item_gaps` gives them; attempts with an unknown gap (``nan``) are left
    out. Groups without attempts are left out.
    """
    ya = np.asarray(y, dtype=np.float64)
    pa = np.asarray(p, dtype=np.float64)
    ga = np.asarray(gaps, dtype=np.float64)
    groups = [(FIRST_LABEL, ga < 0)]
    groups += [(label, (ga >= lo) & (ga < hi)) for label, lo, hi in GAP_BUCKETS]
    return _grouped(ya, pa, groups)


def overdue(y: npt.ArrayLike, p: npt.ArrayLike, ratios: npt.ArrayLike) -> list[dict[str, Any]]:
    """As :func:`forgetting`, grouped by :data:`RATIO_BUCKETS` of the gap over the previous
    interval (attempts without a known ratio left out): within one scheduling history, a
    review that comes later than planned relative to its last interval."""
    ya = np.asarray(y, dtype=np.float64)
    pa = np.asarray(p, dtype=np.float64)
    ra = np.asarray(ratios, dtype=np.float64)
    groups = [(label, (ra >= lo) & (ra < hi)) for label, lo, hi in RATIO_BUCKETS]
    return _grouped(ya, pa, groups)


def _grouped(
    y: npt.NDArray[np.float64],
    p: npt.NDArray[np.float64],
    groups: Sequence[tuple[str, npt.NDArray[np.bool_]]],
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for label, sel in groups:
        n = int(sel.sum())
        if n:
            out.append(
                {
                    "gap": label,
                    "n": n,
                    "mean_pred": float(p[sel].mean()),
                    "observed": float(y[sel].mean()),
                }
            )
    return out


def diagnostic_rows(
    dataset: str,
    model: str,
    y: npt.ArrayLike,
    p: npt.ArrayLike,
    gaps: npt.ArrayLike,
    ratios: npt.ArrayLike | None = None,
) -> list[Row]:
    """Reliability, ECE and (when any gap is known) forgetting and overdue rows of scored
    predictions (``gaps`` and ``ratios`` as :func:`item_gaps` gives them)."""
    head = {"dataset": dataset, "model": model}
    bins, ece = reliability(y, p)
    rows: list[Row] = [head | {"kind": "reliability"} | b for b in bins]
    rows.append(head | {"kind": "ece", "n": int(np.asarray(y).shape[0]), "ece": ece})
    if np.isfinite(np.asarray(gaps, dtype=np.float64)).any():
        rows.extend(head | {"kind": "forgetting"} | g for g in forgetting(y, p, gaps))
        if ratios is not None:
            rows.extend(head | {"kind": "overdue"} | g for g in overdue(y, p, ratios))
    return rows


def _ordered(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _pct(x: float) -> str:
    return "–" if x is None or math.isnan(x) else f"{x:.3f}"


def ece_table(rows: Sequence[Row]) -> str:
    """ECE per dataset (lines) and model (columns)."""
    ece = [r for r in rows if r["kind"] == "ece"]
    models = _ordered([r["model"] for r in ece])
    cells = {(r["dataset"], r["model"]): r["ece"] for r in ece}
    lines = ["| dataset | " + " | ".join(models) + " |", "|---|" + "---:|" * len(models)]
    for ds in _ordered([r["dataset"] for r in ece]):
        vals = [_pct(cells[(ds, m)]) if (ds, m) in cells else "–" for m in models]
        lines.append(f"| {ds} | " + " | ".join(vals) + " |")
    return "\n".join(lines)


def reliability_tables(rows: Sequence[Row], models: Sequence[str]) -> str:
    """Per (dataset, model in ``models``): the reliability bins and the ECE."""
    out: list[str] = []
    for ds in _ordered([r["dataset"] for r in rows]):
        for model in models:
            bins = [
                r
                for r in rows
                if r["dataset"] == ds and r["model"] == model and r["kind"] == "reliability"
            ]
            ece = [
                r["ece"]
                for r in rows
                if r["dataset"] == ds and r["model"] == model and r["kind"] == "ece"
            ]
            if not bins:
                continue
            out.append(f"**{ds}** / {model}: ECE {_pct(ece[0]) if ece else '–'}\n")
            out.append("| predicted | n | mean predicted | observed |")
            out.append("|---|---:|---:|---:|")
            for b in bins:
                out.append(
                    f"| {b['lo']:.1f}-{b['hi']:.1f} | {b['n']:,} | {b['mean_pred']:.3f} "
                    f"| {b['observed']:.3f} |"
                )
            out.append("")
    return "\n".join(out)


def forgetting_tables(rows: Sequence[Row], models: Sequence[str], kind: str = "forgetting") -> str:
    """Per timestamped dataset: observed rate and each model's mean prediction by gap
    (``kind="overdue"``: by gap over the previous interval)."""
    out: list[str] = []
    fg = [r for r in rows if r["kind"] == kind]
    for ds in _ordered([r["dataset"] for r in fg]):
        sub = [r for r in fg if r["dataset"] == ds]
        present = [m for m in models if any(r["model"] == m for r in sub)]
        if not present:
            continue
        ref = [r for r in sub if r["model"] == present[0]]
        pred = {(r["model"], r["gap"]): r["mean_pred"] for r in sub}
        what, head = (
            ("time since the last attempt", "since last attempt")
            if kind == "forgetting"
            else ("gap / previous interval of the item", "gap / previous interval")
        )
        out.append(f"**{ds}**: observed vs mean predicted recall by {what}\n")
        out.append(f"| {head} | n | observed | " + " | ".join(present) + " |")
        out.append("|---|---:|---:|" + "---:|" * len(present))
        for r in ref:
            vals = [_pct(pred.get((m, r["gap"]), math.nan)) for m in present]
            out.append(
                f"| {r['gap']} | {r['n']:,} | {r['observed']:.3f} | " + " | ".join(vals) + " |"
            )
        out.append("")
    return "\n".join(out)


def calibration_markdown(rows: Sequence[Row], models: Sequence[str]) -> str:
    """ECE of every model, then reliability and forgetting tables of ``models``."""
    text = "## Calibration (ECE, 10 bins)\n\n" + ece_table(rows) + "\n\n"
    text += "## Reliability\n\n" + reliability_tables(rows, models)
    fg = forgetting_tables(rows, models)
    if fg:
        text += "\n## Forgetting\n\n" + fg
    od = forgetting_tables(rows, models, kind="overdue")
    if od:
        text += "\n## Overdue reviews\n\n" + od
    return text
