"""Recall after a hypothetical answer, for many items at once (exam forecasts).

``LearnerModel.update`` then ``LearnerModel.predict`` per item and outcome is what the exam
policy asks ("if the student answered this item now, right or wrong, what would recall be on
exam day?"), but it costs two full model calls per item. One answer changes little of the
state: the recurrent state, the answered item's row, its tags' rows and the user-level counts.
:func:`recall_after_answers` computes, for every row at once, the raw columns the new state
would give that item (the same rules as :func:`tutor.model.state.upsert_item` /
:func:`~tutor.model.state.upsert_tags` and ``LearnerModel._raw``), one batched GRU step, and one
network call. ``tests/tutor/model/test_whatif.py`` checks it against update + predict.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from tutor.model.ability import ability
from tutor.model.batch import CandidateBatch
from tutor.model.features import (
    EMA_RATE,
    FSRS_W,
    SECONDS_PER_DAY,
    SKILL_EMA_RATE,
    RawColumns,
    build_features,
)
from tutor.model.state import (
    IFD,
    IFS,
    ITIME,
    TC,
    TCOLS,
    TEMA,
    TRUN,
    TW,
    LearnerState,
    lookup,
)

if TYPE_CHECKING:
    from tutor.model.online import LearnerModel

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


def recall_after_answers(
    model: LearnerModel,
    state: LearnerState,
    batch: CandidateBatch,
    correct: F64,
    grade: F64,
    answered_at: float,
    at: float,
) -> F32:
    """P(correct) of each row's candidate at ``at`` if the learner, in ``state``, answered
    that candidate alone at ``answered_at`` (``correct`` 1/0, ``grade`` 1-4 or 0 for none),
    with the tallies unchanged: ``predict(update(state, answer), [candidate], at)`` per row."""
    n = len(batch)
    y = np.asarray(correct, np.float64)
    g = np.asarray(grade, np.float64)
    before = model._raw(state, batch, answered_at)
    c = before.cols
    h = _new_states(model, state, before, y, g)
    pos, found = lookup(state.item_ids, batch.item_ids)
    after = RawColumns.empty(n)
    a = after.cols
    for name in ("prior_rate", "n_skills", "n_options", "self_graded"):
        a[name] = c[name]
    # the item's row after the answer (upsert_item), read back at `at`
    a["ui_c"] = c["ui_c"] + y
    a["ui_w"] = c["ui_w"] + (1.0 - y)
    a["ui_last"] = y.copy()
    a["ui_gap"][:] = 1.0  # answered at the previous step
    a["ui_dt"][:] = at - answered_at
    last = state.items[pos, ITIME] if state.item_ids.shape[0] else np.zeros(n)
    a["ui_ivl"] = np.where(found, answered_at - last, np.nan)
    a["ui_grade"] = g.copy()
    if state.item_ids.shape[0]:
        old_s, old_d = state.items[pos, IFS], state.items[pos, IFD]
        last_time = state.items[pos, ITIME]
    else:
        old_s = old_d = last_time = np.zeros(n)
    known = found & ~np.isnan(old_s) & ~np.isnan(last_time)
    elapsed = np.maximum(answered_at - np.where(known, last_time, 0.0), 0.0) / SECONDS_PER_DAY
    a["ui_fsrs_s"], a["ui_fsrs_d"] = fsrs_steps(
        np.where(known, old_s, np.nan),
        np.where(known, old_d, 5.0),
        np.where(known, elapsed, 0.0),
        np.where(g > 0, g, np.where(y > 0, 3.0, 1.0)).astype(np.int64),
    )
    a["item_n"] = batch.cols["item_n"] - (a["ui_c"] + a["ui_w"])
    a["item_c"] = batch.cols["item_c"] - a["ui_c"]
    # the answer's residual joins the learner's own shares of the item's and tags' sums
    p = ability(state.u_c, state.u_c + state.u_w)  # the same for every row
    resid, var = y - p, p * (1.0 - p)
    a["item_r"] = c["item_r"] - resid
    a["item_v"] = c["item_v"] - var
    n_tags = np.bincount(batch.tag_owner, minlength=n).astype(np.float64)
    a["skill_r"] = c["skill_r"] - n_tags * resid
    a["skill_v"] = c["skill_v"] - n_tags * var
    # the item's tags after the answer (upsert_tags), read back as tag_history does
    a.update(_tags_after(state, batch, y))
    a["skill_n"] = batch.cols["skill_n"] - (a["us_c"] + a["us_w"])
    a["skill_c"] = batch.cols["skill_c"] - a["us_c"]
    a["u_c"] = state.u_c + y
    a["u_w"] = state.u_w + (1.0 - y)
    a["u_ema"] = y if np.isnan(state.u_ema) else (1 - EMA_RATE) * state.u_ema + EMA_RATE * y
    x, dt = build_features(after, model.extra)
    return _probs(model, x, dt, h)


def fsrs_steps(s: F64, d: F64, elapsed_days: F64, grade: npt.NDArray[np.int64]) -> tuple[F64, F64]:
    """:func:`tutor.model.features.fsrs_step` on arrays (``s`` NaN: a first review), as
    :func:`~tutor.model.history.memory_step` calls it."""
    w = np.asarray(FSRS_W)
    g = grade.astype(np.float64)
    first = np.isnan(s)
    s0 = np.maximum(w[np.clip(grade, 1, 4) - 1], 0.001)
    d0 = np.clip(w[4] - np.exp(w[5] * (g - 1)) + 1, 1.0, 10.0)
    s_ = np.where(first, 1.0, s)
    d_ = np.where(first, 5.0, d)
    d_easy = w[4] - math.exp(w[5] * 3) + 1
    delta = -w[6] * (g - 3)
    d_new = np.clip(w[7] * d_easy + (1 - w[7]) * (d_ + (10.0 - d_) * delta / 9.0), 1.0, 10.0)
    inc = np.exp(w[17] * (g - 3 + w[18])) * s_ ** -w[19]
    short = s_ * np.where(grade >= 2, np.maximum(inc, 1.0), inc)
    decay = -w[20]
    factor = 0.9 ** (1 / decay) - 1
    r = (1 + factor * elapsed_days / s_) ** decay
    long = w[11] * d_ ** -w[12] * ((s_ + 1) ** w[13] - 1) * np.exp((1 - r) * w[14])
    lapse = np.minimum(long, s_ / math.exp(w[17] * w[18]))
    bonus = np.where(grade == 2, w[15], 1.0) * np.where(grade == 4, w[16], 1.0)
    growth = math.exp(w[8]) * (11 - d_) * s_ ** -w[9] * (np.exp((1 - r) * w[10]) - 1)
    s_new = np.where(
        elapsed_days < 1.0, short, np.where(grade == 1, lapse, s_ * (1 + growth * bonus))
    )
    s_new = np.clip(s_new, 0.001, 36_500.0)
    return np.where(first, s0, s_new), np.where(first, d0, d_new)


def _tags_after(state: LearnerState, batch: CandidateBatch, y: F64) -> dict[str, F64]:
    """The ``us_*`` raw columns of each row after its answer: all its tags answered last."""
    n = len(batch)
    owner, keys = batch.tag_owner, batch.tag_keys
    out = {name: np.zeros(n, np.float64) for name in ("us_c", "us_w", "us_gap", "us_run")}
    out["us_last"] = np.full(n, -1.0)
    out["us_ema"] = np.full(n, np.nan)
    if not owner.shape[0]:
        return out
    tpos, tfound = lookup(state.tag_ids, keys)
    old = state.tags[tpos] if state.tag_ids.shape[0] else np.zeros((keys.shape[0], TCOLS))
    yp = y[owner]
    tc = np.where(tfound, old[:, TC] + yp, yp)
    tw = np.where(tfound, old[:, TW] + (1.0 - yp), 1.0 - yp)
    ema = np.where(tfound, (1 - SKILL_EMA_RATE) * old[:, TEMA] + SKILL_EMA_RATE * yp, yp)
    run_old = np.where(tfound, old[:, TRUN], 0.0)
    run = np.where(
        yp > 0,
        np.where(run_old > 0, run_old + 1, 1.0),
        np.where(run_old < 0, run_old - 1, -1.0),
    )
    seen = np.bincount(owner, minlength=n).astype(np.float64)
    has = seen > 0
    out["us_c"] = np.bincount(owner, tc, n).astype(np.float64)
    out["us_w"] = np.bincount(owner, tw, n).astype(np.float64)
    np.divide(np.bincount(owner, ema, n), seen, out=out["us_ema"], where=has)
    # every tag of the row was answered at the same (latest) step: the first tag decides
    first = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    out["us_last"][has] = y[has]
    out["us_gap"][has] = 1.0
    out["us_run"][owner[first]] = run[first]
    return out


def _new_states(
    model: LearnerModel, state: LearnerState, before: RawColumns, y: F64, g: F64
) -> F32 | None:
    """The recurrent state after each row's answer; None when the model keeps no state."""
    if not model.net.cfg.use_state:
        return None
    x, dt = build_features(before, model.extra)
    step = np.stack([y, np.where(g > 0, (g - 2.5) / 1.5, 0.0)], axis=1).astype(np.float32)
    if model._step is not None:
        return model._step.many(state.h, x, step, dt)
    torch, net = model._torch, model.net
    m = x.shape[0]
    with torch.inference_mode():
        xt = net.mask_user(torch.from_numpy(x))
        u = net.step_input(xt, torch.from_numpy(step), torch.from_numpy(dt))
        h0 = torch.from_numpy(np.repeat(state.h[None, None, :], m, axis=1))
        _, out = net.gru(u.view(m, 1, -1), h0)
        new_h: F32 = out.view(m, -1).numpy().astype(np.float32)
    return new_h


def _probs(model: LearnerModel, x: F32, dt: F32, h: F32 | None) -> F32:
    """The network's P(correct) of feature rows ``x`` with one recurrent state per row."""
    from tutor.model.network import GUESS_INDEX

    torch, net = model._torch, model.net
    with torch.inference_mode():
        xt = net.mask_user(torch.from_numpy(x))
        states = h if h is not None else np.repeat(model._h0[None], x.shape[0], axis=0)
        out = net.mlp(net.fx(xt) + net.fh(torch.from_numpy(states)))
        z = net.combine(out, torch.from_numpy(dt)) / model.temperature
        p = net.prob(z, xt[:, GUESS_INDEX])
    probs: F32 = p.numpy().astype(np.float32)
    return probs
