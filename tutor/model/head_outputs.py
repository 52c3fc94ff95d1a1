"""The fast path of :class:`tutor.model.online.LearnerModel` up to the head's outputs.

Per batch of candidates and per network head (a head is rebuilt when the base rate moves):
the candidates' layout in groups of tags and their fixed first-layer part are cached on the
batch (and on each of its parts), and the last learner state's outputs are memoised, since
they do not depend on the time asked. The blocks themselves live in :mod:`tutor.model.scoring`;
this module assembles them for one learner and keeps the batch caches clean of replaced heads.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from tutor.model.batch import CandidateBatch
from tutor.model.features import SECONDS_PER_DAY, RawColumns, build_row
from tutor.model.raw import batch_rows
from tutor.model.scoring import (
    FEW_ROWS,
    GROUP_TALLIES,
    Groups,
    Head,
    Layout,
    group_candidates,
    groups_of,
    item_features,
    join_layouts,
    layout_candidates,
    skill_rate,
    ui_features,
)
from tutor.model.state import (
    IC,
    IFD,
    IFS,
    IGRADE,
    ILAST,
    IPREV,
    IR,
    ISTEP,
    ITIME,
    IV,
    IW,
    LearnerState,
    lookup,
    tag_history,
)

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
#: The head's outputs ``[n, 3]``, the guess rates and each candidate's last answer time.
Outputs = tuple[Head, F32, F32, F64]


def cached_outputs(
    head: Head,
    state: LearnerState,
    batch: CandidateBatch,
    now: float,
    extra: tuple[str, ...],
    retired: dict[int, Head],
) -> Outputs:
    """The head's outputs ``[n, 3]`` for ``batch``, with the guess rates and the time of each
    candidate's last answer (NaN: never answered); ``retired`` heads' cache entries are dropped.

    The outputs do not depend on the time asked: a second call for the same learner state
    (states are values: update returns a new one) reuses the first one's.
    """
    memo = batch.cache.get(("outputs", head))
    if memo is not None and memo[0] is state:
        found: Outputs = memo[1]
        return found
    if len(batch) <= FEW_ROWS:
        result = _few_outputs(head, state, batch, now, extra)
    else:
        result = _many_outputs(head, state, batch, now, retired)
    forget_heads(batch.cache, retired)
    batch.cache[("outputs", head)] = (state, result)
    return result


def _fixed(head: Head, part: CandidateBatch, retired: dict[int, Head]) -> tuple[Layout, F32, F32]:
    """What does not depend on the tallies nor the learner, cached on the part: the
    candidates' layout in groups and their fixed first-layer part and guess rate."""
    fixed = part.cache.get(head)
    if fixed is None:
        raw = RawColumns.empty(len(part))
        for name in ("n_options", "self_graded", "n_skills"):
            raw.cols[name] = part.cols[name]
        raw.cols["prior_rate"][:] = head.prior_rate
        base, guess = head.static(raw)
        layout = layout_candidates(part.tag_owner, part.tag_keys, part.cols["n_skills"])
        forget_heads(part.cache, retired)
        fixed = part.cache[head] = (layout, base, guess)
    return fixed


def _many_outputs(
    head: Head,
    state: LearnerState,
    batch: CandidateBatch,
    now: float,
    retired: dict[int, Head],
) -> Outputs:
    """:func:`cached_outputs` by blocks, without the memo."""
    prior_rate = head.prior_rate
    parts = batch.parts or (batch,)
    fixed = [_fixed(head, part, retired) for part in parts]
    if len(fixed) == 1:
        layout, base, guess = fixed[0]
    else:
        layout = join_layouts([f[0] for f in fixed], [len(part) for part in parts])
        base = np.concatenate([f[1] for f in fixed])
        guess = np.concatenate([f[2] for f in fixed])
    if layout.of.shape[0] != len(batch):
        raise ValueError("the batch's parts do not add up to the batch")
    groups = groups_of(layout, batch.cols) or batch_groups(batch)
    # per group of candidates: tags, the learner's history on them, user-level features
    n_groups = len(groups)
    graw = RawColumns.empty(n_groups)
    gc = graw.cols
    gc.update(tag_history(state, groups.owner, groups.keys, n_groups))
    gc["skill_n"] = groups.tallies["skill_n"] - (gc["us_c"] + gc["us_w"])
    gc["skill_c"] = groups.tallies["skill_c"] - gc["us_c"]
    gc["skill_r"] = groups.tallies["skill_r"] - gc["us_r"]
    gc["skill_v"] = groups.tallies["skill_v"] - gc["us_v"]
    gc["n_skills"] = groups.n_skills
    gc["prior_rate"][:] = prior_rate
    gc["u_c"][:] = state.u_c
    gc["u_w"][:] = state.u_w
    gc["u_ema"][:] = state.u_ema
    group = head.group_part(graw, state.h)
    # per answered candidate: the learner's history on the item
    item_n = batch.cols["item_n"].copy()
    item_c = batch.cols["item_c"].copy()
    sums = (batch.cols["item_r"].copy(), batch.cols["item_v"].copy()) if head.item_irt else None
    last = np.full(len(batch), np.nan)
    pos, found = lookup(state.item_ids, batch.item_ids)
    fidx = np.flatnonzero(found)
    ui = None
    if fidx.shape[0]:
        rows = state.items[pos[fidx]].T
        item_n[fidx] -= rows[IC] + rows[IW]
        item_c[fidx] -= rows[IC]
        if sums is not None:
            sums[0][fidx] -= rows[IR]
            sums[1][fidx] -= rows[IV]
        last[fidx] = rows[ITIME]
        ui, _ = ui_features(
            {
                "ui_c": rows[IC],
                "ui_w": rows[IW],
                "ui_last": rows[ILAST],
                "ui_gap": state.step - rows[ISTEP],
                "ui_dt": now - rows[ITIME],
                "ui_ivl": rows[ITIME] - rows[IPREV],
                "ui_grade": rows[IGRADE],
                "ui_fsrs_s": rows[IFS],
                "ui_fsrs_d": rows[IFD],
            }
        )
    # per candidate: the item's smoothed rate and answer count
    rate = skill_rate(prior_rate, gc["skill_n"], gc["skill_c"])
    item = item_features(item_n, item_c, rate[groups.of], sums)
    pre = head.first_layer(base, group, groups.of, item, fidx, ui)
    return head, head.outputs(pre), guess, last


def _few_outputs(
    head: Head, state: LearnerState, batch: CandidateBatch, now: float, extra: tuple[str, ...]
) -> Outputs:
    """:func:`cached_outputs` of a few candidates, row by row in plain Python (a single
    item's due time or calibration: numpy's per-call cost would exceed the work)."""
    raw = batch_rows(state, batch, now, head.prior_rate)
    rows = [build_row(r, extra) for r in raw]
    x = np.array([r[0] for r in rows], np.float32).reshape(len(rows), -1)
    out = head.outputs(head.dense(x, state.h))
    pos, found = lookup(state.item_ids, batch.item_ids)
    last = np.full(len(batch), np.nan)
    if found.any():
        last[found] = state.items[pos[found], ITIME]
    return head, out, np.ascontiguousarray(x[:, head.guess_index]), last


def forget_heads(cache: dict[Any, Any], retired: dict[int, Head]) -> None:
    """Drop what ``cache`` holds for this model's ``retired`` heads (a head is rebuilt when
    the base rate moves; other weights' heads sharing the cache stay)."""
    if not retired:
        return
    stale = [k for k in cache if (h := _head_of(k)) is not None and retired.get(id(h)) is h]
    for key in stale:
        del cache[key]


def _head_of(key: Any) -> Head | None:
    if isinstance(key, Head):
        return key
    if isinstance(key, tuple) and len(key) == 2 and isinstance(key[1], Head):
        return key[1]
    return None


def batch_groups(batch: CandidateBatch) -> Groups:
    """The batch's candidates grouped by tags and tag counts (cached on the batch)."""
    groups = batch.cache.get("groups")
    if groups is None:
        c = batch.cols
        groups = batch.cache["groups"] = group_candidates(
            batch.tag_owner, batch.tag_keys, {k: c[k] for k in GROUP_TALLIES}, c["n_skills"]
        )
    assert isinstance(groups, Groups)
    return groups


def elapsed_days(at: F64, last: F64) -> F32:
    """Days from each candidate's last answer to ``at`` (clipped at 0), -1 where never answered
    (as :func:`tutor.model.scoring.ui_features` computes them)."""
    seen = np.isfinite(last)
    dt = np.where(seen, np.maximum(np.where(seen, at - last, 0.0), 0.0) / SECONDS_PER_DAY, -1.0)
    return dt.astype(np.float32)
