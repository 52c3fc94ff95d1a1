"""Leave-one-dataset-out: what the transfer model learns from, and what it may not."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from tests.tutor.evaluation.conftest import make_learner
from tutor.evaluation import parallel, registry
from tutor.evaluation.folds import summarize
from tutor.evaluation.leave_one_out import (
    FAMILIES,
    cap_attempts,
    family,
    lodo_markdown,
    transfer_sources,
)
from tutor.evaluation.logs import Dataset, FloatArray, LearnerLog
from tutor.evaluation.parallel import LoadSpec, plan, run_all
from tutor.evaluation.registry import Entry, available_predictors

SPEC = LoadSpec(data_dir=Path("unused"))


def fake_data() -> dict[tuple[str, int | None], Dataset]:
    """Every family with its own learners (user names carry the family)."""
    out: dict[tuple[str, int | None], Dataset] = {}
    for f, name in enumerate(FAMILIES):
        train = [make_learner(f"{name}-{k}", 30 + k, seed=10 * f + k) for k in range(4)]
        test = [make_learner(f"{name}-t", 40, seed=100 + f)]
        out[(name, 1)] = Dataset(name, train, test, timestamped=True)
    anki = out[("anki", 1)]
    out[("anki_days", 1)] = Dataset("anki_days", anki.train, anki.test, timestamped=True)
    single_train = [*anki.train, make_learner("anki-extra", 35, seed=77)]
    single = Dataset("anki_single", single_train, anki.test, timestamped=True)
    out[("anki_single", 1)] = single
    return out


class Recorder:
    """A transfer predictor that records its sources and tallies; predicts the tallies' mean."""

    fits: ClassVar[list[list[str]]] = []
    name = "recorder"

    def __init__(self) -> None:
        self.tallies: list[str] = []
        self.rate = 0.5

    def fit(self, train: Sequence[LearnerLog], *, seed: int) -> None:
        raise AssertionError("a transfer model is never fitted on its own dataset")

    def fit_transfer(
        self,
        sources: Sequence[tuple[str, Sequence[LearnerLog]]],
        own_train: Sequence[LearnerLog],
        *,
        seed: int,
    ) -> None:
        Recorder.fits.append([log.user for _, logs in sources for log in logs])
        self.set_tallies(own_train)

    def set_tallies(self, logs: Sequence[LearnerLog]) -> None:
        self.tallies = [log.user for log in logs]
        self.rate = float(np.mean(np.concatenate([log.correct for log in logs])))

    def predict(self, learner: LearnerLog) -> FloatArray:
        return np.full(len(learner), self.rate)


@pytest.fixture
def data(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, int | None], Dataset]:
    fake = fake_data()
    monkeypatch.setattr(parallel, "load", lambda spec, key: fake[key])
    available_predictors()
    monkeypatch.setitem(registry._REGISTRY, "recorder", Entry("recorder", Recorder, False,
                                                              False, transfer=True))  # fmt: skip
    Recorder.fits = []
    return fake


def test_families() -> None:
    assert family("anki_single") == family("anki_time") == "anki"
    assert family("assist2009") == "assist2009"
    units = plan(["recorder", "elo"], [("anki", 1), ("anki_single", 1), ("eedi", 1)],
                 transfer={"recorder"})  # fmt: skip
    datasets = sorted(u.datasets for u in units if u.model == "recorder")
    assert datasets == [(("anki", 1), ("anki_single", 1)), (("eedi", 1),)]
    assert len([u for u in units if u.model == "elo"]) == 3  # anki_single: other learners


def test_cap_keeps_whole_learners() -> None:
    logs = [make_learner(f"u{k}", 50, seed=k) for k in range(10)]
    kept = cap_attempts(logs, 180, seed=0)
    assert len(kept) == 3 and all(log in logs for log in kept)
    assert cap_attempts(logs, 180, seed=0) == kept
    assert len(cap_attempts(logs, 10, seed=0)) == 1  # at least one learner


def test_sources_leave_the_target_family_out() -> None:
    fake = fake_data()
    sources = transfer_sources("anki_days", lambda name: fake[(name, 1)], seed=0)
    assert [name for name, _ in sources] == [f for f in FAMILIES if f != "anki"]
    with pytest.raises(ValueError, match="shared datasets"):
        transfer_sources("csv", lambda name: fake[(name, 1)], seed=0)


def test_transfer_model_learns_from_the_others_and_counts_with_its_own(
    data: dict[tuple[str, int | None], Dataset],
) -> None:
    keys = [("eedi", 1), ("anki", 1), ("anki_days", 1), ("anki_single", 1)]
    result = run_all(["recorder", "item_mean"], keys, SPEC, seed=0, jobs=1)
    assert len(Recorder.fits) == 2  # eedi, and one fit for the three Anki views
    by_prefix = [{user.split("-")[0] for user in fit} for fit in Recorder.fits]
    assert {frozenset(p) for p in by_prefix} == {
        frozenset(set(FAMILIES) - {"eedi"}),
        frozenset(set(FAMILIES) - {"anki"}),
    }
    scored = {r["dataset"] for r in result.rows if r["model"] == "recorder"}
    assert scored == {"eedi", "anki", "anki_days", "anki_single"}


def test_lodo_table_names_where_transfer_is_behind() -> None:
    rows = [
        row("eedi", "metatutor_lodo", 0.70, 0.60),
        row("eedi", "metatutor", 0.72, 0.59),
        row("eedi", "metatutor_item", 0.73, 0.58),  # a variant, not a baseline
        row("eedi", "elo", 0.68, 0.61),
        row("eedi", "best_lr", 0.69, 0.595),
        row("ednet", "metatutor_lodo", 0.60, 0.70),
        row("ednet", "elo", 0.63, 0.69),
        row("anki", "metatutor_lodo", 0.76, 0.44),
    ]
    table = lodo_markdown(summarize(rows))
    assert (
        "| eedi | 0.700 / 0.600 | 0.720 / 0.590 | best_lr 0.690 | best_lr 0.595 | log loss |"
        in table
    )
    assert "| ednet | 0.600 / 0.700 | – | elo 0.630 | elo 0.690 | AUC, log loss |" in table
    assert "| anki | 0.760 / 0.440 | – | – | – | no baseline run |" in table


def row(dataset: str, model: str, auc: float, logloss: float) -> dict[str, object]:
    return {"dataset": dataset, "model": model, "bucket": "all", "n": 10, "auc": auc,
            "logloss": logloss}  # fmt: skip


def test_tallies_follow_the_view(data: dict[tuple[str, int | None], Dataset]) -> None:
    from tutor.evaluation.parallel import Unit, run_unit

    unit = Unit("recorder", (("anki", 1), ("anki_single", 1)))
    seen: list[list[str]] = []
    original = Recorder.predict

    def predict(self: Recorder, learner: LearnerLog) -> FloatArray:
        seen.append(list(self.tallies))
        return original(self, learner)

    Recorder.predict = predict  # type: ignore[method-assign]
    try:
        run_unit(unit, SPEC, 0)
    finally:
        Recorder.predict = original  # type: ignore[method-assign]
    assert seen[0] == [log.user for log in data[("anki", 1)].train]
    assert seen[1] == [log.user for log in data[("anki_single", 1)].train]
    assert len(Recorder.fits) == 1
