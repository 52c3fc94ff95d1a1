"""Work units in worker processes: same results as one process, one fit per training set."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.tutor.evaluation.conftest import make_learner
from tutor.evaluation import parallel, registry
from tutor.evaluation.logs import Dataset, FloatArray, LearnerLog
from tutor.evaluation.parallel import LoadSpec, Unit, fingerprint, plan, run_all
from tutor.evaluation.registry import Entry, available_predictors
from tutor.evaluation.runner import Row, run_dataset

SPEC = LoadSpec(data_dir=Path("unused"))
TRAIN = [make_learner(f"u{k}", 50 + 5 * k, seed=k) for k in range(10)]
OTHER_TRAIN = [make_learner(f"v{k}", 40, seed=50 + k) for k in range(8)]


def same(a: list[Row], b: list[Row]) -> bool:
    """Equal rows, NaN metrics (empty buckets) included."""
    return json.dumps(a) == json.dumps(b)


def fake_datasets() -> dict[tuple[str, int | None], Dataset]:
    test = [make_learner(f"t{k}", 70, seed=100 + k) for k in range(3)]
    later = [replace(log, eval_mask=np.arange(len(log)) % 3 == 0) for log in test]
    untimed = [make_learner(f"w{k}", 30, seed=200 + k, timed=False) for k in range(6)]
    return {
        ("anki", 1): Dataset("anki", TRAIN, test, timestamped=True),
        ("anki_days", 1): Dataset("anki_days", TRAIN, later, timestamped=True),
        # named like a view of the same training set, but trained on other learners
        ("anki_time", 1): Dataset("anki_time", OTHER_TRAIN, test, timestamped=True),
        ("eedi", 1): Dataset("eedi", untimed[:4], untimed[4:], timestamped=False),
    }


class CountingMean:
    """Mean of the training answers; counts its fits (class-wide, in this process)."""

    fits = 0
    name = "counting"

    def __init__(self) -> None:
        self.rate = 0.5

    def fit(self, train: Sequence[LearnerLog], *, seed: int) -> None:
        CountingMean.fits += 1
        self.rate = float(np.mean(np.concatenate([log.correct for log in train])))

    def predict(self, learner: LearnerLog) -> FloatArray:
        return np.full(len(learner), self.rate)


@pytest.fixture
def fake_data(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, int | None], Dataset]:
    data = fake_datasets()
    monkeypatch.setattr(parallel, "load", lambda spec, key: data[key])
    available_predictors()
    monkeypatch.setitem(registry._REGISTRY, "counting", Entry("counting", CountingMean, False))
    timed = Entry("counting_timed", CountingMean, True)
    monkeypatch.setitem(registry._REGISTRY, "counting_timed", timed)
    CountingMean.fits = 0
    return data


def test_plan_groups_views_of_one_training_set() -> None:
    units = plan(["elo"], [("anki", 1), ("anki_time", 1), ("eedi", 1), ("anki_days", 1)])
    assert Unit("elo", (("anki", 1), ("anki_time", 1), ("anki_days", 1))) in units
    assert Unit("elo", (("eedi", 1),)) in units
    assert len(units) == 2
    assert plan(["elo"], [("anki", 1), ("anki_days", 2)])[0].datasets == (("anki", 1),)


def test_shared_fits_give_the_rows_of_independent_fits(
    fake_data: dict[tuple[str, int | None], Dataset],
) -> None:
    keys = list(fake_data)
    models = ["counting", "elo", "counting_timed"]
    result = run_all(models, keys, SPEC, seed=0, jobs=1)
    # per counting model: one fit for anki + anki_days, another for anki_time (other
    # learners), and for the untimed one a fit for eedi
    assert CountingMean.fits == 3 + 2
    expected = []
    entries = [available_predictors()[m] for m in models]
    for key in keys:
        expected.extend(run_dataset(fake_data[key], entries, seed=0).rows)
    assert same(result.rows, expected)
    assert result.skipped == ["eedi/counting_timed"]
    assert [(t.dataset, t.model) for t in result.timings][:3] == [("anki", m) for m in models]
    shared = {(t.dataset, t.model): t.fit_s for t in result.timings}
    assert shared[("anki_days", "counting")] == 0.0


def test_worker_processes_give_the_same_rows(
    fake_data: dict[tuple[str, int | None], Dataset],
) -> None:
    keys = list(fake_data)
    models = ["counting", "item_mean", "elo"]
    one = run_all(models, keys, SPEC, seed=0, jobs=1)
    two = run_all(models, keys, SPEC, seed=0, jobs=2)
    assert same(two.rows, one.rows)
    assert [(t.dataset, t.model) for t in two.timings] == [
        (t.dataset, t.model) for t in one.timings
    ]


def test_fingerprint_sees_every_field() -> None:
    base = fingerprint(TRAIN)
    assert fingerprint(list(TRAIN)) == base
    changed = [replace(TRAIN[0], grades=None), *TRAIN[1:]]
    assert fingerprint(changed) != base
    flipped = TRAIN[0].correct.copy()
    flipped[0] ^= 1
    assert fingerprint([replace(TRAIN[0], correct=flipped), *TRAIN[1:]]) != base
