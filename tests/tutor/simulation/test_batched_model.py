"""The batched learner model gives the service's predictions (same network, same features)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from tutor.items import ItemKind
from tutor.model.features import fsrs_step
from tutor.model.online import AttemptFeatures, CandidateFeatures, LearnerModel
from tutor.policy.model_adapter import LearnerModelPredictor
from tutor.simulation.batched_model import BatchedLearnerModel, fsrs_default_step

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC).timestamp()
DAY = 86_400.0


@pytest.fixture(scope="module")
def model() -> LearnerModel:
    return LearnerModel.load()


def _cand(i: int, n: float, c: float, r: float = 0.0, v: float = 0.0) -> CandidateFeatures:
    return CandidateFeatures(
        item_id=i,
        kind=ItemKind.FLASHCARD,
        item_attempts=int(n),
        item_correct=int(c),
        item_resid=r,
        item_var=v,
    )


def test_vectorised_fsrs_step_matches_the_feature_code() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        s = float(rng.choice([np.nan, rng.uniform(0.01, 200)]))
        d, el, g = float(rng.uniform(1, 10)), float(rng.choice([0.01, rng.uniform(0, 90)])), 0
        g = int(rng.integers(1, 5))
        want = fsrs_step(s, d, el, g)
        got = fsrs_default_step(np.array([s]), np.array([d]), np.array([el]), np.array([g]))
        assert got[0][0] == pytest.approx(want[0], rel=1e-9)
        assert got[1][0] == pytest.approx(want[1], rel=1e-9)


def test_day_batches_equal_the_service_model_answer_by_answer(model: LearnerModel) -> None:
    """Two students answer for four days (with relearning repeats); every prediction, with
    and without a hypothetical review, equals ``LearnerModelPredictor``'s."""
    n_s, n_i = 2, 7
    bm = BatchedLearnerModel(model, n_s, n_i)
    states = [model.new_state() for _ in range(n_s)]
    rng = np.random.default_rng(1)
    tally_n, tally_c = np.zeros(n_i), np.zeros(n_i)
    # residual sums: each answer's correct - p and p (1 - p), p the student's running accuracy
    tally_r, tally_v = np.zeros(n_i), np.zeros(n_i)
    answers = np.zeros((n_s, 2))  # right, total
    for day in range(4):
        t_n = 6
        items = np.full((n_s, t_n), -1, dtype=np.int64)
        grade = np.zeros((n_s, t_n), dtype=np.int64)
        for s in range(n_s):
            picks = rng.choice(n_i, 4, replace=False)
            seq = [*picks.tolist(), int(picks[0])] if day % 2 else picks.tolist()
            items[s, : len(seq)] = seq
            grade[s, : len(seq)] = rng.integers(1, 5, len(seq))
        at = T0 + day * DAY + 30.0 * np.arange(t_n, dtype=np.float64)[None, :].repeat(n_s, axis=0)
        correct = grade > 1
        bm.update_day(items, at, correct, grade)
        day_r, day_v = np.zeros(n_i), np.zeros(n_i)
        for s in range(n_s):
            own_n, own_c = np.zeros(n_i), np.zeros(n_i)
            own_r, own_v = np.zeros(n_i), np.zeros(n_i)
            for t in np.flatnonzero(items[s] >= 0):
                i = int(items[s, t])
                own_n[i] += 1
                own_c[i] += correct[s, t]
                p = (answers[s, 0] + 1.0) / (answers[s, 1] + 2.0)
                own_r[i] += correct[s, t] - p
                own_v[i] += p * (1.0 - p)
                answers[s] += (correct[s, t], 1.0)
                cand = _cand(
                    i,
                    tally_n[i] + own_n[i],
                    tally_c[i] + own_c[i],
                    tally_r[i] + own_r[i],
                    tally_v[i] + own_v[i],
                )
                when = datetime.fromtimestamp(float(at[s, t]), UTC)
                attempt = AttemptFeatures(cand, when, bool(correct[s, t]), int(grade[s, t]))
                states[s] = model.update(states[s], attempt)
            day_r += own_r
            day_v += own_v
        tally_r += day_r
        tally_v += day_v
        valid = items >= 0
        np.add.at(tally_n, items[valid], 1.0)
        np.add.at(tally_c, items[valid], correct[valid].astype(float))
    now, then = T0 + 5 * DAY, T0 + 9 * DAY
    p = bm.predict_all(now)
    right, wrong = bm.after_review(now, np.full(n_s, then))
    cands = [_cand(i, tally_n[i], tally_c[i], tally_r[i], tally_v[i]) for i in range(n_i)]
    assert np.abs(tally_r).max() > 0.1  # the sums are not all 0 (inputs of the shipped weights)
    for s in range(n_s):
        pred = LearnerModelPredictor(model, states[s], cands)
        ids = np.arange(n_i)
        np.testing.assert_allclose(pred.recall_at(ids, np.full(n_i, now)), p[s], atol=2e-6)
        r, w = pred.recall_after_review(ids, now, then)
        np.testing.assert_allclose(r, right[s], atol=2e-6)
        np.testing.assert_allclose(w, wrong[s], atol=2e-6)
    assert bm.seen.sum() == sum(len(st.item_ids) for st in states)
    assert np.ptp(p[bm.seen]) > 0.01  # the predictions depend on the history
