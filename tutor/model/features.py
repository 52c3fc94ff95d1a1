"""Content-agnostic features of (learner, item, time), shared by training, benchmark and online use.

Everything the network sees is defined here (its optional ability-adjusted inputs in
:mod:`tutor.model.ability`), in two steps:

1. *Raw columns* (:class:`RawColumns`): plain counts and times per row — the item's and its
   tags' answer statistics from *other* learners, the learner's own history on the item, on its
   tags and overall. :func:`tutor.model.history.learner_rows` builds them by walking one
   learner's log in time order (training and benchmark); the online state builds the same
   columns for candidate items.
2. :func:`build_features` turns raw columns into the float matrix the network consumes. It is
   vectorised and is the single definition of every feature, so offline and online agree.

The elapsed time since the learner's last attempt at the item is kept apart (``dt_days``): the
network uses it only through a monotone forgetting term, so predicted recall always falls as
time passes without review. No feature depends on item content or on dataset-specific ids.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tutor.model.ability import (
    IRT_PRIOR,
    IRT_SUMS,
    check_raw_extras,
    irt_step,
)

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

#: Pseudo-counts pulling an item's rate toward its tags' rate, and the tags' toward the global rate.
ITEM_PRIOR_WEIGHT = 5.0
SKILL_PRIOR_WEIGHT = 20.0
#: Decay of the learner's running accuracy (weight of the newest answer).
EMA_RATE = 0.3
SKILL_EMA_RATE = 0.4
SECONDS_PER_DAY = 86_400.0

#: FSRS-6 default parameters: a fixed, population-level memory model whose stability and
#: difficulty per (learner, item) are inputs (the network learns how far to trust them).
FSRS_W: tuple[float, ...] = (
    0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722, 0.1666, 0.796,
    1.4835, 0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425, 0.0912, 0.0658, 0.1542,
)  # fmt: skip
_FSRS_DECAY = -FSRS_W[20]
_FSRS_FACTOR = 0.9 ** (1 / _FSRS_DECAY) - 1


def fsrs_step(s: float, d: float, elapsed_days: float, grade: int) -> tuple[float, float]:
    """FSRS-6 memory state after a review with ``grade`` 1-4 (``s`` nan = first review)."""
    w = FSRS_W
    if math.isnan(s):
        s0 = max(w[grade - 1], 0.001)
        d0 = w[4] - math.exp(w[5] * (grade - 1)) + 1
        return s0, min(max(d0, 1.0), 10.0)
    d_easy = w[4] - math.exp(w[5] * 3) + 1
    delta = -w[6] * (grade - 3)
    d_new = w[7] * d_easy + (1 - w[7]) * (d + (10.0 - d) * delta / 9.0)
    d_new = min(max(d_new, 1.0), 10.0)
    if elapsed_days < 1.0:
        inc = math.exp(w[17] * (grade - 3 + w[18])) * s ** -w[19]
        if grade >= 2:
            inc = max(inc, 1.0)
        s_new = s * inc
    else:
        r = (1 + _FSRS_FACTOR * elapsed_days / s) ** _FSRS_DECAY
        if grade == 1:
            long = w[11] * d ** -w[12] * ((s + 1) ** w[13] - 1) * math.exp((1 - r) * w[14])
            s_new = min(long, s / math.exp(w[17] * w[18]))
        else:
            bonus = (w[15] if grade == 2 else 1.0) * (w[16] if grade == 4 else 1.0)
            growth = math.exp(w[8]) * (11 - d) * s ** -w[9] * (math.exp((1 - r) * w[10]) - 1)
            s_new = s * (1 + growth * bonus)
    return min(max(s_new, 0.001), 36_500.0), d_new


FEATURE_NAMES: tuple[str, ...] = (
    "item_logodds",
    "item_log_n",
    "skill_logodds",
    "skill_log_n",
    "prior_logit",
    "guess",
    "self_graded",
    "no_skills",
    "ui_log_correct",
    "ui_log_wrong",
    "ui_seen",
    "ui_last_correct",
    "ui_log_gap",
    "ui_grade",
    "ui_has_grade",
    "ui_log_last_ivl",
    "ui_has_time",
    "ui_fsrs_log_s",
    "ui_fsrs_d",
    "us_log_correct",
    "us_log_wrong",
    "us_seen",
    "us_last_correct",
    "us_log_gap",
    "us_acc_logit",
    "us_ema",
    "us_run_correct",
    "us_run_wrong",
    # user-level: part of the learner state, zeroed in the no-adaptation ablation
    "u_log_correct",
    "u_log_wrong",
    "u_acc_logit",
    "u_ema",
)
N_FEATURES = len(FEATURE_NAMES)
USER_FEATURES = slice(FEATURE_NAMES.index("u_log_correct"), N_FEATURES)

#: Raw column names; every one is a float64 vector of the same length.
RAW_FIELDS: tuple[str, ...] = (
    "item_n",  # answers to the item by other learners
    "item_c",  # of which correct
    "skill_n",  # answers to the item's tags by other learners (summed over tags)
    "skill_c",
    "n_skills",
    "prior_rate",  # global base rate the smoothing falls back to
    "n_options",  # 0 = free recall
    "self_graded",  # 1 for flashcards graded Again/Hard/Good/Easy
    "ui_c",  # learner's correct / wrong answers on this item so far
    "ui_w",
    "ui_last",  # last outcome on the item: -1 never, 0 wrong, 1 right
    "ui_gap",  # learner attempts since the last one on this item (0 = never seen)
    "ui_dt",  # seconds since the last attempt on this item (nan = unknown / never)
    "ui_ivl",  # seconds between the two latest attempts on this item (nan = unknown)
    "ui_grade",  # last grade 1-4 on this item (0 = none)
    "ui_fsrs_s",  # FSRS-6 default stability (days) after the last attempt (nan = unknown)
    "ui_fsrs_d",  # FSRS-6 default difficulty 1-10 (nan = unknown)
    "us_c",  # learner's correct / wrong answers on the item's tags, summed
    "us_w",
    "us_last",  # last outcome on any of the tags: -1 never
    "us_gap",  # attempts since the last one on any of the tags (0 = never)
    "us_ema",  # running accuracy on the tags (mean over seen tags; nan = never)
    "us_run",  # current streak on the latest tag: +k k right in a row, -k k wrong in a row
    "u_c",  # learner's correct / wrong answers overall
    "u_w",
    "u_ema",  # running accuracy (nan before the first answer)
    # other learners' ability-adjusted sums (see :func:`ability_residuals`), for the
    # ``item_irt`` / ``skill_irt`` inputs: summed ``correct - p`` and ``p (1 - p)`` over the
    # item's answers and over its tags' (:func:`learner_rows` leaves them 0: training takes
    # these inputs from :func:`extra_columns`)
    "item_r",
    "item_v",
    "skill_r",
    "skill_v",
)


@dataclass(slots=True)
class RawColumns:
    """Raw per-row inputs of :func:`build_features`; all arrays share one length."""

    cols: dict[str, F64]

    def __post_init__(self) -> None:
        missing = set(RAW_FIELDS) - set(self.cols)
        if missing:
            raise ValueError(f"missing raw columns: {sorted(missing)}")

    def __len__(self) -> int:
        return int(self.cols["item_n"].shape[0])

    @classmethod
    def empty(cls, n: int) -> RawColumns:
        """All-zero columns (times unknown) for ``n`` rows."""
        cols = {name: np.zeros(n, dtype=np.float64) for name in RAW_FIELDS}
        for name in ("ui_dt", "ui_ivl", "u_ema", "us_ema", "ui_fsrs_s", "ui_fsrs_d"):
            cols[name][:] = np.nan
        cols["ui_last"][:] = -1.0
        cols["us_last"][:] = -1.0
        cols["prior_rate"][:] = 0.5
        return cls(cols)


def _logit(p: F64) -> F64:
    p = np.clip(p, 1e-4, 1.0 - 1e-4)
    return np.asarray(np.log(p) - np.log1p(-p), dtype=np.float64)


def smoothed_rates(c: dict[str, F64]) -> tuple[F64, F64]:
    """The tags' and the item's success rates from other learners' answers: the tags' shrunk
    toward the prior rate, the item's toward its tags'."""
    prior = np.clip(c["prior_rate"], 0.02, 0.98)
    skill_n = np.maximum(c["skill_n"], 0.0)
    skill_c = np.clip(c["skill_c"], 0.0, skill_n)
    item_n = np.maximum(c["item_n"], 0.0)
    item_c = np.clip(c["item_c"], 0.0, item_n)
    skill_rate = (skill_c + SKILL_PRIOR_WEIGHT * prior) / (skill_n + SKILL_PRIOR_WEIGHT)
    return skill_rate, (item_c + ITEM_PRIOR_WEIGHT * skill_rate) / (item_n + ITEM_PRIOR_WEIGHT)


def build_features(
    raw: RawColumns, extra: Sequence[str] = (), *, only: Collection[str] | None = None
) -> tuple[F32, F32]:
    """Return ``(x, dt_days)``: the feature matrix ``[n, N_FEATURES + len(extra)]`` and days
    since the learner last saw each item (``-1`` when unknown or never seen). ``extra``: the
    extra inputs appended, of :data:`RAW_EXTRAS` (computed from the ``*_r`` / ``*_v`` columns).
    ``only``: the names of the columns wanted (the others are left 0 and, block by block, not
    computed: the fast scoring path needs a few columns of many small row sets)."""
    check_raw_extras(extra)
    c = raw.cols
    names = (*FEATURE_NAMES, *extra)
    want = set(names) if only is None else set(only)
    cols: dict[str, F64 | float] = {}
    if want & {"item_logodds", "item_log_n", "skill_logodds", "skill_log_n"}:
        skill_n = np.maximum(c["skill_n"], 0.0)
        item_n = np.maximum(c["item_n"], 0.0)
        skill_rate, item_rate = smoothed_rates(c)
        cols["item_logodds"] = _logit(item_rate)
        cols["item_log_n"] = np.log1p(item_n) / 5.0
        cols["skill_logodds"] = _logit(skill_rate)
        cols["skill_log_n"] = np.log1p(skill_n) / 5.0
    if "prior_logit" in want:
        cols["prior_logit"] = _logit(np.clip(c["prior_rate"], 0.02, 0.98))
    if "guess" in want:
        n_opt = c["n_options"]
        cols["guess"] = np.where(n_opt >= 2, 1.0 / np.maximum(n_opt, 1.0), 0.0)
    cols["self_graded"] = c["self_graded"]
    if "no_skills" in want:
        cols["no_skills"] = (c["n_skills"] <= 0).astype(np.float64)
    ui_seen = (c["ui_last"] >= 0).astype(np.float64)
    ui_has_time = np.isfinite(c["ui_dt"]) & (ui_seen > 0)
    if want & set(_UI_NAMES):
        has_grade = (c["ui_grade"] > 0).astype(np.float64)
        ivl = c["ui_ivl"]
        log_ivl = np.where(
            np.isfinite(ivl), np.log1p(np.maximum(np.nan_to_num(ivl), 0.0) / 3600.0), 0.0
        )
        has_fsrs = np.isfinite(c["ui_fsrs_s"]) & (ui_seen > 0)
        fsrs_s = np.log(np.maximum(np.nan_to_num(c["ui_fsrs_s"]), 1e-3))
        cols.update(
            zip(
                _UI_NAMES,
                [
                    np.log1p(c["ui_c"]),
                    np.log1p(c["ui_w"]),
                    ui_seen,
                    np.maximum(c["ui_last"], 0.0),
                    np.log1p(c["ui_gap"]),
                    np.where(has_grade > 0, (c["ui_grade"] - 2.5) / 1.5, 0.0),
                    has_grade,
                    log_ivl / 3.0,
                    ui_has_time.astype(np.float64),
                    np.where(has_fsrs, fsrs_s, 0.0) / 3.0,
                    np.where(has_fsrs, (np.nan_to_num(c["ui_fsrs_d"]) - 5.0) / 3.0, 0.0),
                ],
                strict=True,
            )
        )
    if want & set(_US_NAMES):
        s_ema = c["us_ema"]
        run = c["us_run"]
        cols.update(
            zip(
                _US_NAMES,
                [
                    np.log1p(c["us_c"]) / 2.0,
                    np.log1p(c["us_w"]) / 2.0,
                    (c["us_last"] >= 0).astype(np.float64),
                    np.maximum(c["us_last"], 0.0),
                    np.log1p(c["us_gap"]) / 2.0,
                    _logit((c["us_c"] + 1.0) / (c["us_c"] + c["us_w"] + 2.0)),
                    np.where(np.isfinite(s_ema), np.nan_to_num(s_ema) - 0.5, 0.0),
                    np.log1p(np.maximum(run, 0.0)),
                    np.log1p(np.maximum(-run, 0.0)),
                ],
                strict=True,
            )
        )
    if want & set(_U_NAMES):
        ema = c["u_ema"]
        cols.update(
            zip(
                _U_NAMES,
                [
                    np.log1p(c["u_c"]) / 3.0,
                    np.log1p(c["u_w"]) / 3.0,
                    _logit((c["u_c"] + 1.0) / (c["u_c"] + c["u_w"] + 2.0)),
                    np.where(np.isfinite(ema), np.nan_to_num(ema) - 0.5, 0.0),
                ],
                strict=True,
            )
        )
    for name in extra:
        if name in want:
            cols[name] = irt_step(c[IRT_SUMS[name][0]], c[IRT_SUMS[name][1]])
    x = (np.empty if only is None else np.zeros)((len(raw), len(names)), dtype=np.float32)
    for j, name in enumerate(names):
        if name in want:
            x[:, j] = cols[name]
    dt = np.where(ui_has_time, np.maximum(np.nan_to_num(c["ui_dt"]), 0.0) / SECONDS_PER_DAY, -1.0)
    return x, dt.astype(np.float32)


_UI_NAMES = FEATURE_NAMES[
    FEATURE_NAMES.index("ui_log_correct") : FEATURE_NAMES.index("us_log_correct")
]
_US_NAMES = FEATURE_NAMES[
    FEATURE_NAMES.index("us_log_correct") : FEATURE_NAMES.index("u_log_correct")
]
_U_NAMES = FEATURE_NAMES[FEATURE_NAMES.index("u_log_correct") :]


def _logit1(p: float) -> float:
    p = min(max(p, 1e-4), 1.0 - 1e-4)
    return math.log(p) - math.log1p(-p)


def build_row(c: Mapping[str, float], extra: Sequence[str] = ()) -> tuple[list[float], float]:
    """:func:`build_features` for one row of raw values, in plain Python (fast for one row)."""
    fin = math.isfinite
    prior = min(max(c["prior_rate"], 0.02), 0.98)
    skill_n = max(c["skill_n"], 0.0)
    skill_c = min(max(c["skill_c"], 0.0), skill_n)
    item_n = max(c["item_n"], 0.0)
    item_c = min(max(c["item_c"], 0.0), item_n)
    skill_rate = (skill_c + SKILL_PRIOR_WEIGHT * prior) / (skill_n + SKILL_PRIOR_WEIGHT)
    item_rate = (item_c + ITEM_PRIOR_WEIGHT * skill_rate) / (item_n + ITEM_PRIOR_WEIGHT)
    n_opt = c["n_options"]
    ui_seen = 1.0 if c["ui_last"] >= 0 else 0.0
    has_time = fin(c["ui_dt"]) and ui_seen > 0
    has_grade = c["ui_grade"] > 0
    ivl = c["ui_ivl"]
    has_fsrs = fin(c["ui_fsrs_s"]) and ui_seen > 0
    us_c, us_w, run = c["us_c"], c["us_w"], c["us_run"]
    u_c, u_w = c["u_c"], c["u_w"]
    ema, s_ema = c["u_ema"], c["us_ema"]
    x = [
        _logit1(item_rate),
        math.log1p(item_n) / 5.0,
        _logit1(skill_rate),
        math.log1p(skill_n) / 5.0,
        _logit1(prior),
        1.0 / n_opt if n_opt >= 2 else 0.0,
        c["self_graded"],
        1.0 if c["n_skills"] <= 0 else 0.0,
        math.log1p(c["ui_c"]),
        math.log1p(c["ui_w"]),
        ui_seen,
        max(c["ui_last"], 0.0),
        math.log1p(c["ui_gap"]),
        (c["ui_grade"] - 2.5) / 1.5 if has_grade else 0.0,
        1.0 if has_grade else 0.0,
        (math.log1p(max(ivl, 0.0) / 3600.0) if fin(ivl) else 0.0) / 3.0,
        1.0 if has_time else 0.0,
        (math.log(max(c["ui_fsrs_s"], 1e-3)) if has_fsrs else 0.0) / 3.0,
        ((c["ui_fsrs_d"] if fin(c["ui_fsrs_d"]) else 0.0) - 5.0) / 3.0 if has_fsrs else 0.0,
        math.log1p(us_c) / 2.0,
        math.log1p(us_w) / 2.0,
        1.0 if c["us_last"] >= 0 else 0.0,
        max(c["us_last"], 0.0),
        math.log1p(c["us_gap"]) / 2.0,
        _logit1((us_c + 1.0) / (us_c + us_w + 2.0)),
        s_ema - 0.5 if fin(s_ema) else 0.0,
        math.log1p(max(run, 0.0)),
        math.log1p(max(-run, 0.0)),
        math.log1p(u_c) / 3.0,
        math.log1p(u_w) / 3.0,
        _logit1((u_c + 1.0) / (u_c + u_w + 2.0)),
        ema - 0.5 if fin(ema) else 0.0,
    ]
    for name in extra:
        r, v = IRT_SUMS[name]
        x.append(c[r] / (max(c[v], 0.0) + IRT_PRIOR))
    dt = max(c["ui_dt"], 0.0) / SECONDS_PER_DAY if has_time else -1.0
    return x, dt
