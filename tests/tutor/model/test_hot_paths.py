"""The learner model's hot paths against the plain calls they stand for.

The scoring cache kept across tallies (``CandidateBatch.parts``), one item at many times
(``predict_at``) and hypothetical answers in a batch (``predict_after_answer``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from tutor.model.ability import IRT_EXTRAS
from tutor.model.online import (
    AttemptFeatures,
    CandidateBatch,
    CandidateFeatures,
    LearnerModel,
    LearnerState,
)
from tutor.model.scoring import Head

from .test_scoring import T0, random_candidates, random_weights, walk

TOL = {"rtol": 2e-6, "atol": 5e-6}  # float32 sums in another order, random large weights


def with_tag_sums(
    cands: list[CandidateFeatures], rng: np.random.Generator
) -> list[CandidateFeatures]:
    """The candidates with tag tallies that are sums over their tags, as the service's are."""
    per_tag = {
        t: (int(n), int(n * rng.random()), float(rng.normal(0, 1 + n / 8)), n * rng.random() / 4)
        for t, n in zip(*_tag_draw(cands, rng), strict=True)
    }
    return [
        replace(
            c,
            tag_attempts=sum(per_tag[t][0] for t in c.tags),
            tag_correct=sum(per_tag[t][1] for t in c.tags),
            tag_resid=sum(per_tag[t][2] for t in c.tags),
            tag_var=sum(per_tag[t][3] for t in c.tags),
        )
        for c in cands
    ]


def _tag_draw(
    cands: list[CandidateFeatures], rng: np.random.Generator
) -> tuple[list[str], list[int]]:
    tags = sorted({t for c in cands for t in c.tags})
    return tags, [int(x) for x in rng.integers(0, 500, len(tags))]


def split_batch(
    model: LearnerModel, cands: list[CandidateFeatures], cut: int
) -> tuple[CandidateBatch, ...]:
    """Two fixed parts (tallies zero), as the service keeps them per deck."""
    bare = [
        replace(
            c,
            item_attempts=0,
            item_correct=0,
            tag_attempts=0,
            tag_correct=0,
            item_resid=0.0,
            item_var=0.0,
            tag_resid=0.0,
            tag_var=0.0,
        )
        for c in cands
    ]
    return model.prepare(bare[:cut]), model.prepare(bare[cut:])


def over_parts(batch: CandidateBatch, parts: tuple[CandidateBatch, ...]) -> CandidateBatch:
    """``batch`` with its tallies, laid over long-lived ``parts``."""
    return CandidateBatch(
        item_ids=batch.item_ids,
        cols={k: v.copy() for k, v in batch.cols.items()},
        tag_owner=batch.tag_owner,
        tag_keys=batch.tag_keys,
        parts=parts,
    )


@pytest.mark.parametrize("use_state", [True, False])
def test_scoring_cache_is_kept_across_tallies(
    use_state: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = LearnerModel(random_weights(11, use_state=use_state, extra=IRT_EXTRAS), "parts")
    rng = np.random.default_rng(11)
    # tags without repeats: ("a", "b", "a") and ("a", "b", "b") share a tag set but not sums
    cands = [replace(c, tags=tuple(dict.fromkeys(c.tags))) for c in random_candidates(rng, 200)]
    state = walk(model, cands, rng, 150)
    parts = split_batch(model, cands, 120)
    now = (T0 + timedelta(days=90)).timestamp()
    static_calls = []
    real_static = Head.static
    monkeypatch.setattr(
        Head, "static", lambda self, raw: static_calls.append(1) or real_static(self, raw)
    )
    for _ in range(3):
        fresh = with_tag_sums(cands, rng)
        fresh = [replace(c, item_attempts=int(rng.integers(0, 90))) for c in fresh]
        fresh = [replace(c, item_correct=int(rng.integers(0, c.item_attempts + 1))) for c in fresh]
        batch = over_parts(model.prepare(fresh), parts)
        np.testing.assert_allclose(
            model._score(state, batch, now), model._reference(state, fresh, now), **TOL
        )
        assert "groups" not in batch.cache  # the tallies were sums: the kept layout served
    assert len(static_calls) == 2  # once per part, not once per call


def test_scoring_cache_with_tallies_that_are_not_sums() -> None:
    """Tag tallies that differ within a tag set still score right (the full grouping)."""
    model = LearnerModel(random_weights(12, use_state=True, extra=IRT_EXTRAS), "uneven")
    rng = np.random.default_rng(12)
    cands = random_candidates(rng, 150)  # tag tallies drawn per candidate
    state = walk(model, cands, rng, 100)
    batch = over_parts(model.prepare(cands), split_batch(model, cands, 70))
    now = (T0 + timedelta(days=40)).timestamp()
    np.testing.assert_allclose(
        model._score(state, batch, now), model._reference(state, cands, now), **TOL
    )
    assert "groups" in batch.cache


def test_parts_must_add_up() -> None:
    model = LearnerModel(random_weights(13, use_state=True, extra=IRT_EXTRAS), "short")
    cands = random_candidates(np.random.default_rng(13), 20)
    parts = split_batch(model, cands, 8)
    batch = over_parts(model.prepare(cands), parts[:1])
    with pytest.raises(ValueError, match="parts"):
        model.predict(model.new_state(), batch, T0)


def test_a_second_learner_is_not_served_the_firsts_scores() -> None:
    model = LearnerModel(random_weights(14, use_state=True, extra=IRT_EXTRAS), "memo")
    rng = np.random.default_rng(14)
    cands = random_candidates(rng, 60)
    batch = model.prepare(cands)
    now = T0 + timedelta(days=30)
    first = walk(model, cands, np.random.default_rng(1), 40)
    second = walk(model, cands, np.random.default_rng(2), 40)
    a = model.predict(first, batch, now)
    b = model.predict(second, batch, now)
    np.testing.assert_allclose(b, model._reference(second, cands, now.timestamp()), **TOL)
    assert float(np.abs(a - b).max()) > 1e-3
    again = model.predict(first, batch, now + timedelta(days=9))
    np.testing.assert_allclose(
        again, model._reference(first, cands, now.timestamp() + 9 * 86400), **TOL
    )


@pytest.mark.parametrize("reference", [False, True])
@pytest.mark.parametrize("use_state", [True, False])
def test_predict_at_equals_predict_at_each_time(use_state: bool, reference: bool) -> None:
    model = LearnerModel(random_weights(15, use_state=use_state, extra=IRT_EXTRAS), "times")
    if reference:
        model._head = None
    rng = np.random.default_rng(15)
    cands = random_candidates(rng, 90)
    state = walk(model, cands, rng, 200)
    batch = model.prepare(cands)
    start = T0 + timedelta(days=100)
    early, late = (model.predict(state, batch, start + timedelta(days=d)) for d in (0, 300))
    seen = int(np.argmax(np.abs(early - late)))  # the item whose recall moves most
    rows = np.r_[np.full(40, seen), rng.integers(0, 90, 60)]  # one item at many times, and others
    gaps = np.r_[np.geomspace(1.0, 3e7, 40), rng.choice([0.0, 3600.0, 86400.0 * 20], 60)]
    at = start.timestamp() + gaps
    got = model.predict_at(state, batch, rows, at)
    want = np.array(
        [
            model.predict(state, batch, start + timedelta(seconds=float(g)))[r]
            for r, g in zip(rows, gaps, strict=True)
        ]
    )
    np.testing.assert_allclose(got, want, **TOL)
    assert float(np.ptp(got[:40])) > 0.01  # the item's recall does move over those times


@pytest.mark.parametrize("torch_step", [False, True])
@pytest.mark.parametrize(("seed", "use_state"), [(0, True), (1, True), (2, False)])
def test_predict_after_answer_equals_update_then_predict(
    seed: int, use_state: bool, torch_step: bool
) -> None:
    model = LearnerModel(random_weights(seed, use_state=use_state, extra=IRT_EXTRAS), "whatif")
    if torch_step:
        model._step = None
    rng = np.random.default_rng(seed)
    cands = random_candidates(rng, 120)  # repeated tags, duplicates, tagless, seen and unseen
    for state in (model.new_state(), walk(model, cands, rng, 300)):
        pick = [cands[int(k)] for k in rng.integers(0, len(cands), 50)]
        correct = [bool(x) for x in rng.random(50) < 0.5]
        grades = [int(rng.integers(1, 5)) if c.kind.self_graded else None for c in pick]
        when = T0 + timedelta(days=130)
        then = when + timedelta(days=21)
        got = model.predict_after_answer(state, pick, correct, grades, when, then)
        want = [
            float(model.predict(model.update(state, AttemptFeatures(c, when, y, g)), [c], then)[0])
            for c, y, g in zip(pick, correct, grades, strict=True)
        ]
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5)
        assert float(np.ptp(got)) > 0.05


def test_predict_after_answer_checks_its_arguments() -> None:
    model = LearnerModel(random_weights(3, use_state=True, extra=IRT_EXTRAS), "args")
    cand = CandidateFeatures(item_id=1)
    state: LearnerState = model.new_state()
    with pytest.raises(ValueError, match="one outcome"):
        model.predict_after_answer(state, [cand], [True, False], [None], T0, T0)
    with pytest.raises(ValueError, match="1-4"):
        model.predict_after_answer(state, [cand], [True], [5], T0, T0)
    assert model.predict_after_answer(state, [], [], [], T0, T0).shape == (0,)


@pytest.mark.parametrize("use_state", [True, False])
def test_a_few_candidates_row_by_row(use_state: bool) -> None:
    """Up to FEW_ROWS candidates take the plain-Python path; same predictions."""
    from tutor.model.scoring import FEW_ROWS

    model = LearnerModel(random_weights(16, use_state=use_state, extra=IRT_EXTRAS), "few")
    rng = np.random.default_rng(16)
    cands = random_candidates(rng, 60)
    state = walk(model, cands, rng, 250)
    now = (T0 + timedelta(days=80)).timestamp()
    seen = [c for c in cands if c.item_id in set(state.item_ids.tolist())]
    for k in range(1, FEW_ROWS + 1):
        pick = seen[:1] + [cands[int(i)] for i in rng.integers(0, 60, k - 1)]
        for batch in (model.prepare(pick), over_parts(model.prepare(pick), (model.prepare(pick),))):
            fast = model._score(state, batch, now)
            np.testing.assert_allclose(fast, model._reference(state, pick, now), **TOL)
            later = model.predict_at(
                state, batch, np.zeros(3, np.int64), now + np.array([0.0, 1e5, 1e7])
            )
            np.testing.assert_allclose(later[0], fast[0], **TOL)


def test_fsrs_steps_match_the_scalar_step() -> None:
    from tutor.model.history import memory_step
    from tutor.model.whatif import fsrs_steps

    rng = np.random.default_rng(17)
    n = 400
    s = np.where(rng.random(n) < 0.2, np.nan, rng.exponential(10.0, n) + 0.01)
    d = rng.uniform(1.0, 10.0, n)
    elapsed = np.where(rng.random(n) < 0.3, rng.random(n), rng.exponential(20.0, n))
    grade = rng.integers(1, 5, n)
    got_s, got_d = fsrs_steps(s, d, elapsed, grade)
    now = 1e9
    for k in range(n):
        row = [0.0] * 9
        row[4], row[7], row[8] = now - elapsed[k] * 86400.0, s[k], d[k]
        want = memory_step(row, now, float(grade[k]), 1)
        np.testing.assert_allclose([got_s[k], got_d[k]], want, rtol=1e-9)


@pytest.mark.parametrize("use_state", [True, False])
def test_predict_and_update_equals_predict_then_update(use_state: bool) -> None:
    """The calibration's prediction of each answer, made from the row the update builds."""
    model = LearnerModel(random_weights(21, use_state=use_state, extra=IRT_EXTRAS), "both")
    rng = np.random.default_rng(21)
    cands = random_candidates(rng, 40)
    state = walk(model, cands, rng, 120)
    at = T0 + timedelta(days=90)
    for k in range(12):  # seen and unseen items, right and wrong, later and later
        cand = cands[int(rng.integers(0, len(cands)))]
        at += timedelta(hours=float(rng.exponential(30.0)))
        attempt = AttemptFeatures(cand, at, bool(k % 3), grade=None)
        p, after = model.predict_and_update(state, attempt)
        np.testing.assert_allclose(p, model._reference(state, [cand], at.timestamp())[0], **TOL)
        assert after.to_bytes() == model.update(state, attempt).to_bytes()
        state = after
