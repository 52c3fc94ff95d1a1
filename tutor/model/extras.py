"""The optional extra inputs of every attempt of a learner's log (training and benchmark)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tutor.model.ability import EXTRA_FEATURES, IRT_PRIOR, RESID_PRIOR, ability_residuals
from tutor.model.features import F32, F64, ITEM_PRIOR_WEIGHT, RawColumns, smoothed_rates
from tutor.model.history import AnswerStats, learner_rows
from tutor.model.item_effects import ITEM_EFFECTS, effect_columns
from tutor.model.learner_log import LearnerLog
from tutor.model.transfer import TRANSFER_EVIDENCE, TRANSFER_INPUT, transfer_columns


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
    unknown = set(names) - set(EXTRA_FEATURES) - set(ITEM_EFFECTS) - set(TRANSFER_NAMES)
    if unknown:
        raise ValueError(f"unknown extra features: {sorted(unknown)}")
    n = len(log)
    out = np.zeros((n, len(names)), dtype=np.float32)
    if not names or n == 0:
        return out
    if set(TRANSFER_NAMES) & set(names):
        if stats.effects is None:
            raise ValueError("item_transfer needs AnswerStats.from_logs(..., effects=True)")
        if raw is None:
            raw, _ = learner_rows(log, stats, leave_out=leave_out)
        _, rate = smoothed_rates(raw.cols)
        shift, evidence = transfer_columns(log, stats.effects.pairs, rate, leave_out=leave_out)
        for j, name in enumerate(names):
            if name == TRANSFER_INPUT:
                out[:, j] = shift
            elif name == TRANSFER_EVIDENCE:
                out[:, j] = evidence
    if set(ITEM_EFFECTS) & set(names):
        if stats.effects is None:
            raise ValueError("item-level inputs need AnswerStats.from_logs(..., effects=True)")
        cols = effect_columns(log, stats.effects, names, leave_out=leave_out)
        for j, name in enumerate(names):
            if name in cols:
                out[:, j] = cols[name]
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


TRANSFER_NAMES = (TRANSFER_INPUT, TRANSFER_EVIDENCE)
_ITEM_EXTRAS = frozenset({"item_irt", "skill_irt", "item_resid"})


def _own_residuals(log: LearnerLog, raw: RawColumns) -> dict[str, F64]:
    """``u_resid`` and ``us_resid`` of every attempt from the learner's earlier answers."""
    _, rate = smoothed_rates(raw.cols)
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
