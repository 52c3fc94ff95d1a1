"""The fast scoring path (tutor/model/scoring.py) against the straightforward reference path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tutor.items import ItemKind
from tutor.model.ability import IRT_EXTRAS
from tutor.model.features import FEATURE_NAMES
from tutor.model.online import (
    AttemptFeatures,
    CandidateBatch,
    CandidateFeatures,
    LearnerModel,
    LearnerState,
)
from tutor.model.weights import TrainedWeights

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TAGS = ("algebra", "verbs", "deck:a", "deck:b", "capitals")


def random_weights(seed: int, *, use_state: bool, extra: tuple[str, ...] = ()) -> TrainedWeights:
    """A network with random, not-small parameters (agreement must not depend on training),
    taking the ``extra`` inputs (the shipped weights take :data:`IRT_EXTRAS`)."""
    import torch

    from tutor.model.network import LearnerNet, NetConfig

    torch.manual_seed(seed)
    cfg = NetConfig(
        n_features=len(FEATURE_NAMES) + len(extra),
        state_size=12,
        hidden=16,
        use_state=use_state,
        extra_features=extra,
    )
    net = LearnerNet(cfg)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.5)
    return TrainedWeights(
        config=cfg.to_dict(),
        state_dict={k: v.clone() for k, v in net.state_dict().items()},
        temperature=1.3,
        prior_rate=0.62,
    )


def random_candidates(rng: np.random.Generator, n: int) -> list[CandidateFeatures]:
    cands = []
    for _ in range(n):
        k = int(rng.integers(0, 4))
        tags = tuple(str(t) for t in rng.choice(TAGS, size=k, replace=True))  # repeats too
        kind = ItemKind.FLASHCARD if rng.random() < 0.4 else ItemKind.MULTIPLE_CHOICE
        attempts = int(rng.integers(0, 60))
        tag_attempts = int(rng.choice([0, 40, 200, 1000]))
        # residual sums of every sign and size; variances up to a quarter per answer
        var = float(rng.random()) * attempts / 4
        tag_var = float(rng.random()) * tag_attempts / 4
        cands.append(
            CandidateFeatures(
                item_id=int(rng.integers(0, 10 * n)),  # duplicates happen
                tags=tags,
                n_options=0 if kind is ItemKind.FLASHCARD else int(rng.choice([0, 2, 3, 4])),
                kind=kind,
                item_attempts=attempts,
                item_correct=int(rng.integers(0, attempts + 1)),
                tag_attempts=tag_attempts,
                tag_correct=int(rng.integers(0, tag_attempts + 1)),
                item_resid=float(rng.normal(0.0, 1.0 + var)),
                item_var=var,
                tag_resid=float(rng.normal(0.0, 1.0 + tag_var)),
                tag_var=tag_var,
            )
        )
    return cands


def walk(
    model: LearnerModel, cands: list[CandidateFeatures], rng: np.random.Generator, steps: int
) -> LearnerState:
    state = model.new_state()
    at = T0
    for _ in range(steps):
        cand = cands[int(rng.integers(0, len(cands)))]
        at += timedelta(seconds=float(rng.exponential(86_400.0)))
        grade = int(rng.integers(1, 5)) if cand.kind.self_graded else None
        correct = bool(rng.random() < 0.65) if grade is None else grade > 1
        state = model.update(state, AttemptFeatures(cand, at, correct, grade=grade))
    return state


@pytest.mark.parametrize("extra", [IRT_EXTRAS, ()])
@pytest.mark.parametrize("use_state", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_path_matches_reference_on_random_learners(
    use_state: bool, seed: int, extra: tuple[str, ...]
) -> None:
    model = LearnerModel(random_weights(seed, use_state=use_state, extra=extra), "random")
    assert model._head is not None and model._head.extra == extra
    rng = np.random.default_rng(seed)
    cands = random_candidates(rng, 300)
    batch = model.prepare(cands)
    for steps in (0, 1, 25, 400):
        state = walk(model, cands, np.random.default_rng(seed + steps), steps)
        for days in (0.0, 0.5, 30.0):
            now = (T0 + timedelta(days=days + 60 * steps / 400)).timestamp()
            ref = model._reference(state, batch, now)
            fast = model._score(state, batch, now)
            np.testing.assert_allclose(fast, ref, rtol=2e-6, atol=2e-6)
    # the spread is wide enough for the comparison to mean something
    assert float(np.ptp(ref)) > 0.2


def test_shipped_weights_fast_path_matches_reference() -> None:
    model = LearnerModel.load()
    assert model._head is not None
    rng = np.random.default_rng(7)
    cands = random_candidates(rng, 500)
    state = walk(model, cands, rng, 300)
    now = (T0 + timedelta(days=200)).timestamp()
    np.testing.assert_allclose(
        model._score(state, model.prepare(cands), now),
        model._reference(state, cands, now),
        rtol=2e-6,
        atol=2e-6,
    )


def test_batch_caches_are_per_weights_and_reusable() -> None:
    a = LearnerModel(random_weights(3, use_state=True, extra=IRT_EXTRAS), "a")
    b = LearnerModel(random_weights(4, use_state=True, extra=IRT_EXTRAS), "b")
    rng = np.random.default_rng(3)
    cands = random_candidates(rng, 50)
    batch = a.prepare(cands)
    now = T0 + timedelta(days=3)
    for model in (a, b, a):
        state = walk(model, cands, np.random.default_rng(5), 30)
        np.testing.assert_allclose(
            model.predict(state, batch, now),
            model._reference(state, cands, now.timestamp()),
            rtol=2e-6,
            atol=2e-6,
        )
    assert {"groups", a._head, b._head} <= set(batch.cache)


def test_recall_curve_matches_reference_path() -> None:
    model = LearnerModel(random_weights(5, use_state=True, extra=IRT_EXTRAS), "curve")
    rng = np.random.default_rng(5)
    cands = random_candidates(rng, 80)
    state = walk(model, cands, rng, 120)
    horizons = [timedelta(0), timedelta(hours=3), timedelta(days=20)]
    now = T0 + timedelta(days=150)
    fast = model.recall_curve(state, cands, now, horizons)
    model._head = None  # the reference path
    ref = model.recall_curve(state, cands, now, horizons)
    np.testing.assert_allclose(fast, ref, rtol=2e-6, atol=2e-6)
    assert model.predict(state, cands, now).shape == (80,)


def test_candidates_without_tags_or_history() -> None:
    model = LearnerModel(random_weights(6, use_state=True, extra=IRT_EXTRAS), "bare")
    cands = [CandidateFeatures(item_id=i, n_options=4) for i in range(5)]
    state = model.new_state()
    now = T0.timestamp()
    np.testing.assert_allclose(
        model._score(state, CandidateBatch.from_candidates(cands), now),
        model._reference(state, cands, now),
        rtol=2e-6,
        atol=2e-6,
    )


def test_feature_drift_falls_back_to_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the feature definitions change under the fast path, the model uses the reference."""
    import tutor.model.features as features
    import tutor.model.scoring as scoring

    monkeypatch.setattr(scoring, "UI_FEATURES", scoring.UI_FEATURES[::-1])
    model = LearnerModel(random_weights(7, use_state=True, extra=IRT_EXTRAS), "drift")
    assert model._head is None
    monkeypatch.undo()
    monkeypatch.setattr(scoring, "ITEM_PRIOR_WEIGHT", 1.0 + features.ITEM_PRIOR_WEIGHT)
    assert LearnerModel(random_weights(7, use_state=True, extra=IRT_EXTRAS), "drift")._head is None
    monkeypatch.undo()
    # the per-candidate ability-adjusted difficulty is guarded too (only where it is an input)
    monkeypatch.setattr(scoring, "irt_step", lambda r, v: r / (np.maximum(v, 0.0) + 1.0))
    assert LearnerModel(random_weights(7, use_state=True, extra=IRT_EXTRAS), "drift")._head is None
    plain = LearnerModel(random_weights(7, use_state=True, extra=()), "plain")
    assert plain._head is not None


@pytest.mark.parametrize("seed", [0, 1])
def test_numpy_state_step_matches_torch(seed: int) -> None:
    model = LearnerModel(random_weights(seed, use_state=True, extra=IRT_EXTRAS), "step")
    assert model._step is not None
    rng = np.random.default_rng(seed)
    cands = random_candidates(rng, 40)
    fast = reference = model.new_state()
    at = T0
    for k in range(150):
        cand = cands[int(rng.integers(0, len(cands)))]
        at += timedelta(seconds=float(rng.exponential(50_000.0)))
        grade = int(rng.integers(1, 5)) if k % 2 else None
        attempt = AttemptFeatures(cand, at, bool(rng.random() < 0.6), grade=grade)
        fast = model.update(fast, attempt)
        step, model._step = model._step, None  # the torch path
        reference = model.update(reference, attempt)
        model._step = step
        np.testing.assert_allclose(fast.h, reference.h, rtol=1e-5, atol=1e-5)
    assert float(np.abs(fast.h - model.new_state().h).max()) > 0.1  # the state did move


def test_build_features_computes_only_the_columns_asked() -> None:
    """The fast path asks build_features for a block's columns: those equal the full
    matrix's, the others stay 0."""
    from tutor.model.features import RAW_FIELDS, RawColumns, build_features

    rng = np.random.default_rng(3)
    raw = RawColumns.empty(64)
    for name in RAW_FIELDS:
        values = rng.normal(0.0, 3.0, 64) ** 2
        values[rng.random(64) < 0.2] = np.nan
        raw.cols[name] = values
    raw.cols["ui_last"] = rng.integers(-1, 2, 64).astype(np.float64)
    names = (*FEATURE_NAMES, *IRT_EXTRAS)
    full, dt = build_features(raw, IRT_EXTRAS)
    for k in range(8):
        pick = {name for j, name in enumerate(names) if (j + k) % 3 == 0}
        part, dt_part = build_features(raw, IRT_EXTRAS, only=pick)
        for j, name in enumerate(names):
            want = full[:, j] if name in pick else np.zeros(64, np.float32)
            np.testing.assert_array_equal(part[:, j], want, err_msg=name)
        np.testing.assert_array_equal(dt_part, dt)
