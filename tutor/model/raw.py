"""The raw columns (:class:`tutor.model.features.RawColumns`) of candidates for a learner.

What the learner's state says of each candidate (their history on the item and its tags, the
user-level counts) next to the candidate's own columns, the learner's own answers taken out of
the tallies: the input of :func:`tutor.model.features.build_features`.
"""

from __future__ import annotations

import numpy as np

from tutor.model.batch import TALLY_COLS, CandidateBatch, CandidateFeatures, Candidates
from tutor.model.features import RawColumns
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
    TC,
    TEMA,
    TLAST,
    TR,
    TRUN,
    TSTEP,
    TV,
    TW,
    LearnerState,
    lookup,
    tag_history,
    tag_key,
)


def raw_columns(
    state: LearnerState, cands: Candidates, now: float, prior_rate: float
) -> RawColumns:
    """Raw columns of candidates asked at ``now`` (Unix seconds) for a learner in ``state``."""
    batch = cands if isinstance(cands, CandidateBatch) else CandidateBatch.from_candidates(cands)
    n = len(batch)
    raw = RawColumns.empty(n)
    c = raw.cols
    ids = batch.item_ids
    for name, values in batch.cols.items():
        c[name] = values.copy()
    c["prior_rate"][:] = prior_rate
    pos, found = lookup(state.item_ids, ids)
    fidx = np.flatnonzero(found)
    if fidx.shape[0]:
        rows = state.items[pos[fidx]].T  # one row per column: contiguous reads
        c["ui_c"][fidx] = rows[IC]
        c["ui_w"][fidx] = rows[IW]
        c["ui_last"][fidx] = rows[ILAST]
        c["ui_gap"][fidx] = state.step - rows[ISTEP]
        c["ui_dt"][fidx] = now - rows[ITIME]
        c["ui_ivl"][fidx] = rows[ITIME] - rows[IPREV]
        c["ui_grade"][fidx] = rows[IGRADE]
        c["ui_fsrs_s"][fidx] = rows[IFS]
        c["ui_fsrs_d"][fidx] = rows[IFD]
        c["item_r"][fidx] -= rows[IR]
        c["item_v"][fidx] -= rows[IV]
    # others' answers: leave this learner's own out
    c["item_n"] -= c["ui_c"] + c["ui_w"]
    c["item_c"] -= c["ui_c"]
    c.update(tag_history(state, batch.tag_owner, batch.tag_keys, n))
    c["skill_n"] -= c["us_c"] + c["us_w"]
    c["skill_c"] -= c["us_c"]
    c["skill_r"] -= c["us_r"]
    c["skill_v"] -= c["us_v"]
    c["u_c"][:] = state.u_c
    c["u_w"][:] = state.u_w
    c["u_ema"][:] = state.u_ema
    return raw


def raw_row(
    state: LearnerState, cand: CandidateFeatures, now: float, prior_rate: float
) -> dict[str, float]:
    """Raw values of one candidate (the scalar twin of :func:`raw_columns`)."""
    keys = list(dict.fromkeys(tag_key(t) for t in cand.tags))
    own = (float(len(cand.tags)), float(cand.n_options), 1.0 if cand.kind.self_graded else 0.0)
    tallies = (
        cand.item_attempts,
        cand.item_correct,
        cand.tag_attempts,
        cand.tag_correct,
        cand.item_resid,
        cand.item_var,
        cand.tag_resid,
        cand.tag_var,
    )
    return _row(state, cand.item_id, keys, own, tallies, now, prior_rate)


def batch_rows(
    state: LearnerState, batch: CandidateBatch, now: float, prior_rate: float
) -> list[dict[str, float]]:
    """:func:`raw_row` of each candidate of a (small) batch."""
    c = {name: batch.cols[name].tolist() for name in _BATCH_COLS}
    bounds = np.searchsorted(batch.tag_owner, np.arange(len(batch) + 1)).tolist()
    keys = batch.tag_keys.tolist()
    return [
        _row(
            state,
            item_id,
            keys[bounds[i] : bounds[i + 1]],
            (c["n_skills"][i], c["n_options"][i], c["self_graded"][i]),
            tuple(c[name][i] for name in TALLY_COLS),
            now,
            prior_rate,
        )
        for i, item_id in enumerate(batch.item_ids.tolist())
    ]


_BATCH_COLS = ("n_skills", "n_options", "self_graded", *TALLY_COLS)


def _row(
    state: LearnerState,
    item_id: int,
    keys: list[int],
    own: tuple[float, float, float],
    tallies: tuple[float, ...],
    now: float,
    prior_rate: float,
) -> dict[str, float]:
    """Raw values of the item ``item_id`` with tag keys ``keys`` (distinct, in the item's
    order), its (tag count, options, self-graded) and tallies (all learners', in the order of
    :data:`tutor.model.batch.TALLY_COLS`)."""
    nan = float("nan")
    c: dict[str, float] = {
        "prior_rate": prior_rate,
        "n_skills": own[0],
        "n_options": own[1],
        "self_graded": own[2],
        "ui_c": 0.0, "ui_w": 0.0, "ui_last": -1.0, "ui_gap": 0.0, "ui_dt": nan,
        "ui_ivl": nan, "ui_grade": 0.0, "ui_fsrs_s": nan, "ui_fsrs_d": nan,
        "us_c": 0.0, "us_w": 0.0, "us_last": -1.0, "us_gap": 0.0, "us_ema": nan,
        "us_run": 0.0, "u_c": state.u_c, "u_w": state.u_w, "u_ema": state.u_ema,
    }  # fmt: skip
    own_r = own_v = 0.0
    pos = int(np.searchsorted(state.item_ids, item_id))
    if pos < state.item_ids.shape[0] and state.item_ids[pos] == item_id:
        r = state.items[pos].tolist()
        c["ui_c"], c["ui_w"], c["ui_last"] = r[IC], r[IW], r[ILAST]
        c["ui_gap"] = state.step - r[ISTEP]
        c["ui_dt"] = now - r[ITIME]
        c["ui_ivl"] = r[ITIME] - r[IPREV]
        c["ui_grade"], c["ui_fsrs_s"], c["ui_fsrs_d"] = r[IGRADE], r[IFS], r[IFD]
        own_r, own_v = r[IR], r[IV]
    c["item_n"] = tallies[0] - c["ui_c"] - c["ui_w"]
    c["item_c"] = tallies[1] - c["ui_c"]
    c["item_r"] = tallies[4] - own_r
    c["item_v"] = tallies[5] - own_v
    own_r = own_v = 0.0
    seen = 0
    ema_sum = 0.0
    last_step = -1.0
    for key in keys:
        tpos = int(np.searchsorted(state.tag_ids, key))
        if tpos < state.tag_ids.shape[0] and state.tag_ids[tpos] == key:
            tr = state.tags[tpos].tolist()
            c["us_c"] += tr[TC]
            c["us_w"] += tr[TW]
            own_r += tr[TR]
            own_v += tr[TV]
            ema_sum += tr[TEMA]
            seen += 1
            if tr[TSTEP] > last_step:
                last_step = tr[TSTEP]
                c["us_last"], c["us_run"] = tr[TLAST], tr[TRUN]
    if seen:
        c["us_ema"] = ema_sum / seen
        c["us_gap"] = state.step - last_step
    c["skill_n"] = tallies[2] - c["us_c"] - c["us_w"]
    c["skill_c"] = tallies[3] - c["us_c"]
    c["skill_r"] = tallies[6] - own_r
    c["skill_v"] = tallies[7] - own_v
    return c
