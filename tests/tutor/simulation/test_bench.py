"""The day-by-day runner and the ``bench schedule`` command."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from tutor.simulation.cli import main
from tutor.simulation.policies import FSRSScheduler, InOrder, MetaTutor
from tutor.simulation.population import People, make_students
from tutor.simulation.runner import exam_scenario, maintenance_scenario, run


@pytest.fixture(scope="module")
def people() -> People:
    return People.load()


def test_fitted_people_are_plausible(people: People) -> None:
    assert len(people.users) == 24
    assert people.w.shape == (24, 21)
    assert np.all(people.time_quantiles[:, 10] > 1.0)  # median answer time in seconds
    assert np.all((people.first_success > 0) & (people.first_success < 1))


def test_budget_respected_and_in_order_covers_the_deck(people: People) -> None:
    sc = exam_scenario(14, 20, n_items=60)
    students = make_students(people, 6, sc.n_items, seed=1)
    out = run(sc, lambda s, n: InOrder(s, n), students, "fsrs6", seed=2)
    assert np.all(out.minutes <= sc.days * sc.minutes + 1e-9)
    assert np.all(out.reviews >= sc.n_items)  # 20 min a day is plenty for 60 items
    assert np.all((out.exam_recall > 0.5) & (out.exam_recall <= 1.0))


def test_same_seed_same_result_and_exam_focus_pays(people: People) -> None:
    sc = exam_scenario(14, 10, n_items=150)
    students = make_students(people, 12, sc.n_items, seed=3)
    a = run(sc, lambda s, n: MetaTutor(s, n), students, "fsrs6", seed=4)
    b = run(sc, lambda s, n: MetaTutor(s, n), students, "fsrs6", seed=4)
    assert np.array_equal(a.exam_recall, b.exam_recall)
    fsrs = run(sc, lambda s, n: FSRSScheduler(s, n), students, "fsrs6", seed=4)
    assert a.exam_recall.mean() > fsrs.exam_recall.mean()


def test_maintenance_metrics(people: People) -> None:
    sc = maintenance_scenario(20, 5, n_items=80)
    students = make_students(people, 4, sc.n_items, seed=5)
    out = run(sc, lambda s, n: FSRSScheduler(s, n), students, "fsrs6", seed=6)
    assert np.all(np.isnan(out.exam_recall))
    assert np.all((out.mean_recall > 0) & (out.mean_recall < 1))
    per_day = out.minutes / sc.days
    assert np.allclose(out.recall_per_minute, out.mean_recall * sc.n_items / per_day)


def test_cli_quick_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t0 = time.process_time()  # CPU time: one process (--workers 1), whatever the load
    js, png = tmp_path / "rows.json", tmp_path / "plot.png"
    args = ["--quick", "--students", "8", "--workers", "1", "--json", str(js), "--plot", str(png)]
    assert main(args) == 0
    assert time.process_time() - t0 < 20
    doc = json.loads(js.read_text())
    rows = doc["rows"]
    assert {"fsrs6:exam_14d_10min", "actr:exam_14d_10min"} <= set(doc["calibration"])
    assert {tuple(sorted(r)) for r in rows} == {
        ("ci_high", "ci_low", "mean", "metric", "policy", "scenario")
    }
    policies = {r["policy"] for r in rows}
    assert policies == {
        "metatutor",
        "metatutor_uncalibrated",
        "metatutor_fsrs_form",
        "oracle",
        "oracle_paced",
        "fsrs_0.9",
        "sm2",
        "leitner",
        "random",
        "in_order",
    }
    assert any(r["metric"] == "exam_recall" for r in rows)
    assert any(r["metric"] == "recall_per_minute" for r in rows)
    assert all(r["ci_low"] <= r["mean"] <= r["ci_high"] for r in rows)
    assert png.stat().st_size > 1000
    out = capsys.readouterr().out
    assert "| metatutor |" in out
    assert "| oracle (reference: true memory) |" in out
    # the oracle is a reference, never the "best other" policy ours is compared with
    assert not any("best_other(oracle)" in r["metric"] for r in rows)
    assert any(r["policy"] == "oracle" and "_minus_best_other(" in r["metric"] for r in rows)
    assert any(r["metric"] == "introduced" for r in rows)
