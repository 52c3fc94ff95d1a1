"""The deployment's own base rate: from its students' tallies, the weights' rate until then."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from tutor.items import ItemKind
from tutor.model.base_rate import MIN_ANSWERS, deployment_rate
from tutor.model.online import CandidateFeatures, LearnerModel
from tutor.model.weights import TrainedWeights

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_deployment_with_few_answers_keeps_the_weights_rate() -> None:
    assert deployment_rate(0, 0, 0.7) == 0.7
    assert deployment_rate(MIN_ANSWERS - 1, 10, 0.7) == 0.7


def test_a_deployment_with_many_answers_has_its_own_rate() -> None:
    # ASSISTments 2017's students answer 0.37 of their questions right
    assert deployment_rate(100_000, 37_000, 0.72) == pytest.approx(0.37, abs=0.001)
    # shrunk a little toward the weights' rate while the tally is small
    assert 0.30 < deployment_rate(MIN_ANSWERS, 300, 0.72) < 0.33
    assert deployment_rate(10_000, 10_000, 0.5) == 0.98  # clipped as the features clip it


def test_an_impossible_tally_is_refused() -> None:
    for answers, correct in ((10, 11), (-1, 0), (5, -1)):
        with pytest.raises(ValueError, match="impossible"):
            deployment_rate(answers, correct, 0.6)


@pytest.fixture
def model(tiny_weights: TrainedWeights, tmp_path: Path) -> LearnerModel:
    path = tmp_path / "tiny.pt"
    tiny_weights.save(path)
    return LearnerModel.load(path)


def cards(n: int) -> list[CandidateFeatures]:
    # new items (few answers by others), where the smoothing toward the base rate matters
    return [
        CandidateFeatures(
            item_id=k,
            tags=("algebra",),
            kind=ItemKind.MULTIPLE_CHOICE,
            n_options=4,
            item_attempts=k % 3,
            item_correct=k % 2 * (k % 3 > 0),
        )
        for k in range(n)
    ]


def test_new_items_follow_the_deployments_base_rate(model: LearnerModel) -> None:
    state = model.new_state()
    cands = cards(40)  # enough for the fast scoring path
    bundled = model.predict(state, cands, NOW)
    model.use_base_rate(20_000, 4_000)  # students who get a fifth of their answers right
    low = model.predict(state, cands, NOW)
    model.use_base_rate(20_000, 18_000)
    high = model.predict(state, cands, NOW)
    assert np.all(low < bundled) and np.all(bundled < high)
    # the fast path rebuilt its head for the new rate: it agrees with the reference
    np.testing.assert_allclose(high, model._reference(state, cands, NOW.timestamp()), atol=1e-5)
    few = model.predict(state, cands[:2], NOW)  # the path for a few candidates
    np.testing.assert_allclose(few, high[:2], atol=1e-5)


def test_a_new_rate_leaves_no_stale_scoring_caches(model: LearnerModel) -> None:
    state = model.new_state()
    batch = model.prepare(cards(40))
    before = model.predict(state, batch, NOW)
    first = model._head
    model.use_base_rate(20_000, 4_000)
    after = model.predict(state, batch, NOW)
    assert not np.allclose(before, after)
    heads = {key if not isinstance(key, tuple) else key[1] for key in batch.cache}
    assert model._head in heads and first not in heads
