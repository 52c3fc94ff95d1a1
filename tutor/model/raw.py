"""The raw columns (:class:`tutor.model.features.RawColumns`) of candidates for a learner.

What the learner's state says of each candidate (their history on the item and its tags, the
user-level counts) next to the candidate's own columns, the learner's own answers taken out of
the tallies: the input of :func:`tutor.model.features.build_features`.
"""

from __future__ import annotations

import numpy as np

from tutor.model.batch import CandidateBatch, CandidateFeatures, Candidates
from tutor.model.features import RawColumns
from tutor.model.state import (
    IC,
    IFD,
    IFS,
    IGRADE,
    ILAST,
    IPREV,
    ISTEP,
    ITIME,
    IW,
    TC,
    TEMA,
    TLAST,
    TRUN,
    TSTEP,
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
    # others' answers: leave this learner's own out
    c["item_n"] -= c["ui_c"] + c["ui_w"]
    c["item_c"] -= c["ui_c"]
    c.update(tag_history(state, batch.tag_owner, batch.tag_keys, n))
    c["skill_n"] -= c["us_c"] + c["us_w"]
    c["skill_c"] -= c["us_c"]
    c["u_c"][:] = state.u_c
    c["u_w"][:] = state.u_w
    c["u_ema"][:] = state.u_ema
    return raw


def raw_row(
    state: LearnerState, cand: CandidateFeatures, now: float, prior_rate: float
) -> dict[str, float]:
    """Raw values of one candidate (the scalar twin of :func:`raw_columns`)."""
    nan = float("nan")
    c: dict[str, float] = {
        "prior_rate": prior_rate,
        "n_skills": float(len(cand.tags)),
        "n_options": float(cand.n_options),
        "self_graded": 1.0 if cand.kind.self_graded else 0.0,
        "ui_c": 0.0, "ui_w": 0.0, "ui_last": -1.0, "ui_gap": 0.0, "ui_dt": nan,
        "ui_ivl": nan, "ui_grade": 0.0, "ui_fsrs_s": nan, "ui_fsrs_d": nan,
        "us_c": 0.0, "us_w": 0.0, "us_last": -1.0, "us_gap": 0.0, "us_ema": nan,
        "us_run": 0.0, "u_c": state.u_c, "u_w": state.u_w, "u_ema": state.u_ema,
    }  # fmt: skip
    pos = int(np.searchsorted(state.item_ids, cand.item_id))
    if pos < state.item_ids.shape[0] and state.item_ids[pos] == cand.item_id:
        r = state.items[pos].tolist()
        c["ui_c"], c["ui_w"], c["ui_last"] = r[IC], r[IW], r[ILAST]
        c["ui_gap"] = state.step - r[ISTEP]
        c["ui_dt"] = now - r[ITIME]
        c["ui_ivl"] = r[ITIME] - r[IPREV]
        c["ui_grade"], c["ui_fsrs_s"], c["ui_fsrs_d"] = r[IGRADE], r[IFS], r[IFD]
    c["item_n"] = cand.item_attempts - c["ui_c"] - c["ui_w"]
    c["item_c"] = cand.item_correct - c["ui_c"]
    seen = 0
    ema_sum = 0.0
    last_step = -1.0
    for key in dict.fromkeys(tag_key(t) for t in cand.tags):
        tpos = int(np.searchsorted(state.tag_ids, key))
        if tpos < state.tag_ids.shape[0] and state.tag_ids[tpos] == key:
            tr = state.tags[tpos].tolist()
            c["us_c"] += tr[TC]
            c["us_w"] += tr[TW]
            ema_sum += tr[TEMA]
            seen += 1
            if tr[TSTEP] > last_step:
                last_step = tr[TSTEP]
                c["us_last"], c["us_run"] = tr[TLAST], tr[TRUN]
    if seen:
        c["us_ema"] = ema_sum / seen
        c["us_gap"] = state.step - last_step
    c["skill_n"] = cand.tag_attempts - c["us_c"] - c["us_w"]
    c["skill_c"] = cand.tag_correct - c["us_c"]
    return c
