"""Raw columns of a learner's whole log, walked in time order (training and benchmark).

Attempt ``t`` of a learner sees only their attempts before ``t`` and the answer statistics of
*other* learners (:class:`AnswerStats`, with the learner's own answers left out); the
service builds the same columns for candidate items from stored tallies instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tutor.model.ability import ability_residuals
from tutor.model.features import (
    EMA_RATE,
    F32,
    RAW_FIELDS,
    SECONDS_PER_DAY,
    SKILL_EMA_RATE,
    RawColumns,
    fsrs_step,
)
from tutor.model.item_effects import EffectSums
from tutor.model.learner_log import LearnerLog


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
    #: item-level effect sums (:mod:`tutor.model.item_effects`), only where asked for
    effects: EffectSums | None = None

    @property
    def prior_rate(self) -> float:
        """Smoothed global rate of correct answers."""
        return (self.total_c + 1.0) / (self.total_n + 2.0)

    @classmethod
    def from_logs(cls, logs: Sequence[LearnerLog], *, effects: bool = False) -> AnswerStats:
        """Count answers per item and per tag over ``logs`` (and the item-level effect sums
        with ``effects``)."""
        stats = cls()
        for log in logs:
            stats.add(log, 1.0)
        if effects:
            stats.effects = EffectSums.from_logs(logs)
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
    if self_graded is None and log.self_graded is not None:
        selfg[:] = log.self_graded  # per attempt: a deployment mixes flashcards and choices
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
