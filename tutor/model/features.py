"""Content-agnostic features of (learner, item, time), shared by training, benchmark and online use.

Everything the network sees is computed here, in two steps:

1. *Raw columns* (:class:`RawColumns`): plain counts and times per row — the item's and its
   tags' answer statistics from *other* learners, the learner's own history on the item, on its
   tags and overall. :func:`learner_rows` builds them by walking one learner's log in time order
   (training and benchmark); the online state builds the same columns for candidate items.
2. :func:`build_features` turns raw columns into the float matrix the network consumes. It is
   vectorised and is the single definition of every feature, so offline and online agree.

The elapsed time since the learner's last attempt at the item is kept apart (``dt_days``): the
network uses it only through a monotone forgetting term, so predicted recall always falls as
time passes without review. No feature depends on item content or on dataset-specific ids.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from tutor.evaluation.logs import LearnerLog

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
Num = TypeVar("Num", float, F64)

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


def _smoothed_rates(c: dict[str, F64]) -> tuple[F64, F64]:
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
    _check_raw_extras(extra)
    c = raw.cols
    names = (*FEATURE_NAMES, *extra)
    want = set(names) if only is None else set(only)
    cols: dict[str, F64 | float] = {}
    if want & {"item_logodds", "item_log_n", "skill_logodds", "skill_log_n"}:
        skill_n = np.maximum(c["skill_n"], 0.0)
        item_n = np.maximum(c["item_n"], 0.0)
        skill_rate, item_rate = _smoothed_rates(c)
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
            cols[name] = irt_step(c[_IRT_SUMS[name][0]], c[_IRT_SUMS[name][1]])
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
        r, v = _IRT_SUMS[name]
        x.append(c[r] / (max(c[v], 0.0) + IRT_PRIOR))
    dt = max(c["ui_dt"], 0.0) / SECONDS_PER_DAY if has_time else -1.0
    return x, dt


@dataclass(slots=True)
class AnswerStats:
    """Answer counts of items and tags among a set of learners (the 'others' of a learner)."""

    item_n: dict[int, float] = field(default_factory=dict)
    item_c: dict[int, float] = field(default_factory=dict)
    skill_n: dict[int, float] = field(default_factory=dict)
    skill_c: dict[int, float] = field(default_factory=dict)
    total_n: float = 0.0
    total_c: float = 0.0
    #: ability-adjusted sums (see :func:`ability_residuals`): per item and tag, the summed
    #: residual ``correct - p_ability`` and the summed variance ``p_ability (1 - p_ability)``
    item_r: dict[int, float] = field(default_factory=dict)
    item_v: dict[int, float] = field(default_factory=dict)
    skill_r: dict[int, float] = field(default_factory=dict)
    skill_v: dict[int, float] = field(default_factory=dict)

    @property
    def prior_rate(self) -> float:
        """Smoothed global rate of correct answers."""
        return (self.total_c + 1.0) / (self.total_n + 2.0)

    @classmethod
    def from_logs(cls, logs: Sequence[LearnerLog]) -> AnswerStats:
        """Count answers per item and per tag over ``logs``."""
        stats = cls()
        for log in logs:
            stats.add(log, 1.0)
        return stats

    def add(self, log: LearnerLog, sign: float) -> None:
        """Add (``sign=1``) or remove (``sign=-1``) one learner's answers."""
        resid, var = ability_residuals(log)
        for item, skills, y, r, v in zip(
            log.items.tolist(), log.skills, log.correct.tolist(), resid, var, strict=True
        ):
            self.item_n[item] = self.item_n.get(item, 0.0) + sign
            self.item_c[item] = self.item_c.get(item, 0.0) + sign * y
            self.item_r[item] = self.item_r.get(item, 0.0) + sign * r
            self.item_v[item] = self.item_v.get(item, 0.0) + sign * v
            for s in skills:
                self.skill_n[s] = self.skill_n.get(s, 0.0) + sign
                self.skill_c[s] = self.skill_c.get(s, 0.0) + sign * y
                self.skill_r[s] = self.skill_r.get(s, 0.0) + sign * r
                self.skill_v[s] = self.skill_v.get(s, 0.0) + sign * v
            self.total_n += sign
            self.total_c += sign * y


def ability(right: Num, answers: Num) -> Num:
    """A learner's ability before an answer, for the residual sums: their smoothed running
    accuracy over all their earlier answers (``storage.attempts`` computes the same from the
    per-student tally in SQL)."""
    return (right + 1.0) / (answers + 2.0)


def ability_residuals(log: LearnerLog) -> tuple[list[float], list[float]]:
    """Per answer of ``log``: ``correct - p`` and ``p (1 - p)`` where ``p`` is the learner's
    ability before the answer, their smoothed running accuracy ``(right + 1) / (answers + 2)``
    (the ``u_acc_logit`` feature). Summed over an item's answers they give an Elo-style,
    ability-adjusted difficulty: an item that strong learners fail is hard even if its raw
    success rate is high."""
    resid: list[float] = []
    var: list[float] = []
    right = total = 0.0
    for y in log.correct.tolist():
        p = ability(right, total)
        resid.append(y - p)
        var.append(p * (1.0 - p))
        right += y
        total += 1.0
    return resid, var


#: Optional inputs a network may be trained with (``TrainConfig.extra_features``), appended
#: after :data:`FEATURE_NAMES`; the default (and the shipped weights) use :data:`IRT_EXTRAS`.
#: ``item_irt`` / ``skill_irt``: one Newton step of a Rasch item (tag) offset relative to the
#: answerers' abilities, ``sum(correct - p) / (sum p (1 - p) + IRT_PRIOR)``, from other
#: learners' answers; ``item_resid``: the mean residual ``sum(correct - p) / (n + 5)``.
#: ``u_resid`` / ``us_resid``: the learner's own residuals against the items' smoothed success
#: rates (the ``item_logodds`` feature), over all earlier answers / those on the item's tags,
#: ``sum(correct - rate) / (n + 2)``: ability adjusted for the difficulty of what was answered.
EXTRA_FEATURES: tuple[str, ...] = ("item_irt", "skill_irt", "item_resid", "u_resid", "us_resid")
#: Extra inputs that are user-level (zeroed with the user state in the ablation).
USER_EXTRA_FEATURES: frozenset[str] = frozenset({"u_resid"})
IRT_PRIOR = 2.0
RESID_PRIOR = 2.0
#: The default extra inputs: the ability-adjusted (Rasch step) difficulty of the item and of
#: its tags, which the serving path computes from the per-item and per-tag residual sums.
IRT_EXTRAS: tuple[str, ...] = ("item_irt", "skill_irt")
#: Extra inputs :func:`build_features` computes from raw columns (the serving path's): each
#: from a residual sum and a variance sum.
_IRT_SUMS: dict[str, tuple[str, str]] = {
    "item_irt": ("item_r", "item_v"),
    "skill_irt": ("skill_r", "skill_v"),
}
RAW_EXTRAS = frozenset(_IRT_SUMS)


def _check_raw_extras(extra: Sequence[str]) -> None:
    unknown = set(extra) - RAW_EXTRAS
    if unknown:
        raise ValueError(f"extra inputs not computed from raw columns: {sorted(unknown)}")


def irt_step(resid: F64, var: F64) -> F64:
    """One Newton step of a Rasch offset from others' summed residuals and variances:
    ``resid / (max(var, 0) + IRT_PRIOR)`` (the ``item_irt`` / ``skill_irt`` inputs)."""
    return np.asarray(resid / (np.maximum(var, 0.0) + IRT_PRIOR), np.float64)


def extra_columns(
    log: LearnerLog,
    stats: AnswerStats,
    names: Sequence[str],
    *,
    leave_out: bool,
    raw: RawColumns | None = None,
) -> F32:
    """``[n, len(names)]`` optional inputs of every attempt of ``log`` (see
    :data:`EXTRA_FEATURES`); with ``leave_out`` the learner's own answers are taken out of
    ``stats`` first, as in :func:`learner_rows` (``raw``: its columns, if already built)."""
    unknown = set(names) - set(EXTRA_FEATURES)
    if unknown:
        raise ValueError(f"unknown extra features: {sorted(unknown)}")
    n = len(log)
    out = np.zeros((n, len(names)), dtype=np.float32)
    if not names or n == 0:
        return out
    if {"u_resid", "us_resid"} & set(names):
        if raw is None:
            raw, _ = learner_rows(log, stats, leave_out=leave_out)
        own = _own_residuals(log, raw)
        for j, name in enumerate(names):
            if name in own:
                out[:, j] = own[name]
    item_names = [(j, name) for j, name in enumerate(names) if name in _ITEM_EXTRAS]
    if not item_names:
        return out
    own_r: dict[int, float] = {}
    own_v: dict[int, float] = {}
    own_n: dict[int, float] = {}
    own_sr: dict[int, float] = {}
    own_sv: dict[int, float] = {}
    if leave_out:
        resid, var = ability_residuals(log)
        for item, skills, r, v in zip(log.items.tolist(), log.skills, resid, var, strict=True):
            own_r[item] = own_r.get(item, 0.0) + r
            own_v[item] = own_v.get(item, 0.0) + v
            own_n[item] = own_n.get(item, 0.0) + 1.0
            for s in skills:
                own_sr[s] = own_sr.get(s, 0.0) + r
                own_sv[s] = own_sv.get(s, 0.0) + v
    cache: dict[tuple[int, tuple[int, ...]], list[float]] = {}
    for t, (item, skills) in enumerate(zip(log.items.tolist(), log.skills, strict=True)):
        key = (item, skills)
        vals = cache.get(key)
        if vals is None:
            r = stats.item_r.get(item, 0.0) - own_r.get(item, 0.0)
            v = max(stats.item_v.get(item, 0.0) - own_v.get(item, 0.0), 0.0)
            cnt = max(stats.item_n.get(item, 0.0) - own_n.get(item, 0.0), 0.0)
            sr = sum(stats.skill_r.get(s, 0.0) - own_sr.get(s, 0.0) for s in skills)
            sv = sum(max(stats.skill_v.get(s, 0.0) - own_sv.get(s, 0.0), 0.0) for s in skills)
            feats = {
                "item_irt": r / (v + IRT_PRIOR),
                "skill_irt": sr / (sv + IRT_PRIOR),
                "item_resid": r / (cnt + ITEM_PRIOR_WEIGHT),
            }
            vals = [feats[name] for _, name in item_names]
            cache[key] = vals
        for (j, _), v in zip(item_names, vals, strict=True):
            out[t, j] = v
    return out


_ITEM_EXTRAS = frozenset({"item_irt", "skill_irt", "item_resid"})


def _own_residuals(log: LearnerLog, raw: RawColumns) -> dict[str, F64]:
    """``u_resid`` and ``us_resid`` of every attempt from the learner's earlier answers."""
    _, rate = _smoothed_rates(raw.cols)
    resid = log.correct.astype(np.float64) - rate
    before = np.concatenate([[0.0], np.cumsum(resid)[:-1]])
    u = before / (np.arange(len(resid), dtype=np.float64) + RESID_PRIOR)
    us = np.zeros(len(resid))
    sums: dict[int, list[float]] = {}
    for t, (skills, r) in enumerate(zip(log.skills, resid.tolist(), strict=True)):
        tot = cnt = 0.0
        for s in skills:
            rec = sums.get(s)
            if rec is not None:
                tot += rec[0]
                cnt += rec[1]
        us[t] = tot / (cnt + RESID_PRIOR)
        for s in skills:
            rec = sums.setdefault(s, [0.0, 0.0])
            rec[0] += r
            rec[1] += 1.0
    return {"u_resid": u, "us_resid": us}


def _own_counts(log: LearnerLog) -> tuple[dict[int, list[float]], dict[int, list[float]]]:
    own_item: dict[int, list[float]] = {}
    own_skill: dict[int, list[float]] = {}
    for item, skills, y in zip(log.items.tolist(), log.skills, log.correct.tolist(), strict=True):
        rec = own_item.setdefault(item, [0.0, 0.0])
        rec[0] += 1.0
        rec[1] += y
        for s in skills:
            srec = own_skill.setdefault(s, [0.0, 0.0])
            srec[0] += 1.0
            srec[1] += y
    return own_item, own_skill


def learner_rows(
    log: LearnerLog,
    stats: AnswerStats,
    *,
    leave_out: bool,
    self_graded: bool | None = None,
) -> tuple[RawColumns, F32]:
    """Raw columns for every attempt of ``log`` (attempt ``t`` sees attempts ``< t`` only).

    Args:
        log: one learner's attempts in time order.
        stats: answer counts of the training learners.
        leave_out: subtract this learner's own answers from ``stats`` (when ``log`` is one of
            the learners ``stats`` was counted on), so item difficulty never sees the label.
        self_graded: whether items are self-graded flashcards; default: the log has grades.

    Returns:
        The raw columns and the GRU step inputs ``[n, 2]`` (correct, grade scaled; the grade
        column is 0 when grades are unknown).
    """
    n = len(log)
    raw = RawColumns.empty(n)
    c = raw.cols
    own_item, own_skill = _own_counts(log) if leave_out else ({}, {})
    graded = log.grades is not None if self_graded is None else self_graded
    ts = log.timestamps.tolist() if log.timestamps is not None else None
    grades = log.grades.tolist() if log.grades is not None else None
    n_options = log.n_options.tolist() if log.n_options is not None else None
    items = log.items.tolist()
    ys = log.correct.tolist()
    # per item: [correct, wrong, last, last_step, last_time, prev_time, grade, fsrs_s, fsrs_d]
    hist: dict[int, list[float]] = {}
    # per skill: [correct, wrong, last, last_step, ema, run]
    shist: dict[int, list[float]] = {}
    u_c = u_w = 0.0
    ema = math.nan
    nan = math.nan
    cols = [c[name] for name in RAW_FIELDS]
    (item_n, item_c, skill_n, skill_c, n_sk, prior, nopt, selfg, ui_c, ui_w, ui_last, ui_gap,
     ui_dt, ui_ivl, ui_grade, ui_fs, ui_fd, us_c, us_w, us_last, us_gap, us_ema, us_run,
     uc_col, uw_col, ema_col) = cols[:26]  # fmt: skip
    prior[:] = stats.prior_rate
    selfg[:] = 1.0 if graded else 0.0
    step_in = np.zeros((n, 2), dtype=np.float32)
    for t in range(n):
        item = items[t]
        skills = log.skills[t]
        y = ys[t]
        now = ts[t] if ts is not None else nan
        own = own_item.get(item)
        item_n[t] = stats.item_n.get(item, 0.0) - (own[0] if own else 0.0)
        item_c[t] = stats.item_c.get(item, 0.0) - (own[1] if own else 0.0)
        sn = sc = 0.0
        for s in skills:
            sn += stats.skill_n.get(s, 0.0)
            sc += stats.skill_c.get(s, 0.0)
            osk = own_skill.get(s)
            if osk:
                sn -= osk[0]
                sc -= osk[1]
        skill_n[t] = sn
        skill_c[t] = sc
        n_sk[t] = len(skills)
        if n_options is not None:
            nopt[t] = n_options[t]
        h = hist.get(item)
        if h is not None:
            ui_c[t], ui_w[t], ui_last[t] = h[0], h[1], h[2]
            ui_gap[t] = t - h[3]
            ui_dt[t] = now - h[4]
            ui_ivl[t] = h[4] - h[5]
            ui_grade[t] = h[6]
            ui_fs[t] = h[7]
            ui_fd[t] = h[8]
        a_c = a_w = e_sum = 0.0
        last = last_run = -1.0
        last_step = -1.0
        n_seen = 0
        for s in skills:
            sh = shist.get(s)
            if sh is not None:
                a_c += sh[0]
                a_w += sh[1]
                e_sum += sh[4]
                n_seen += 1
                if sh[3] > last_step:
                    last_step, last, last_run = sh[3], sh[2], sh[5]
        us_c[t], us_w[t], us_last[t] = a_c, a_w, last
        if n_seen:
            us_gap[t] = t - last_step
            us_ema[t] = e_sum / n_seen
            us_run[t] = last_run
        uc_col[t], uw_col[t], ema_col[t] = u_c, u_w, ema
        # now absorb the answer
        g = float(grades[t]) if grades is not None else 0.0
        step_in[t, 0] = y
        step_in[t, 1] = (g - 2.5) / 1.5 if g > 0 else 0.0
        s_new, d_new = memory_step(h, now, g, y)
        if h is None:
            hist[item] = [float(y), float(1 - y), float(y), float(t), now, nan, g, s_new, d_new]
        else:
            h[7] = s_new
            h[8] = d_new
            h[0] += y
            h[1] += 1 - y
            h[2] = float(y)
            h[3] = float(t)
            h[5] = h[4]
            h[4] = now
            h[6] = g
        for s in skills:
            sh = shist.get(s)
            if sh is None:
                shist[s] = [
                    float(y),
                    float(1 - y),
                    float(y),
                    float(t),
                    float(y),
                    1.0 if y else -1.0,
                ]
            else:
                sh[0] += y
                sh[1] += 1 - y
                sh[2] = float(y)
                sh[3] = float(t)
                sh[4] = (1 - SKILL_EMA_RATE) * sh[4] + SKILL_EMA_RATE * y
                if y:
                    sh[5] = sh[5] + 1.0 if sh[5] > 0 else 1.0
                else:
                    sh[5] = sh[5] - 1.0 if sh[5] < 0 else -1.0
        if y:
            u_c += 1.0
        else:
            u_w += 1.0
        ema = float(y) if math.isnan(ema) else (1 - EMA_RATE) * ema + EMA_RATE * y
    return raw, step_in


def memory_step(h: Sequence[float] | None, now: float, grade: float, y: int) -> tuple[float, float]:
    """FSRS state after an attempt at ``now`` given the item's history row ``h`` (see
    :func:`learner_rows`: index 4 last time, 7 stability, 8 difficulty); nan without times."""
    if math.isnan(now):
        return math.nan, math.nan
    g = int(grade) if grade > 0 else (3 if y else 1)
    if h is None or math.isnan(h[7]) or math.isnan(h[4]):
        return fsrs_step(math.nan, math.nan, 0.0, g)
    return fsrs_step(h[7], h[8], max(now - h[4], 0.0) / SECONDS_PER_DAY, g)


def raw_from_mapping(values: Mapping[str, Sequence[float] | F64]) -> RawColumns:
    """Raw columns from a mapping of column name to values (missing columns take defaults)."""
    n = len(next(iter(values.values())))
    raw = RawColumns.empty(n)
    for name, vals in values.items():
        raw.cols[name] = np.asarray(vals, dtype=np.float64)
    return raw
