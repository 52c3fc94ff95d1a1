"""The day-by-day runner and the ``bench schedule`` command."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from tutor.simulation.bench import CHOICE_SCENARIOS, gap_shares, scenarios
from tutor.simulation.cli import main
from tutor.simulation.policies import FSRSScheduler, InOrder, MetaTutor, Policy
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
    assert {"fsrs6:exam_14d_10min_60items", "actr:exam_14d_10min_60items"} <= set(
        doc["calibration"]
    )
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


def test_scenarios_where_choices_matter_are_named_for_what_differs() -> None:
    assert exam_scenario(14, 10, n_items=1000).name == "exam_14d_10min_1000items"
    assert exam_scenario(30, 10, spread=2.0).name == "exam_30d_10min_spread2"
    assert exam_scenario(30, 20, attendance=0.5).name == "exam_30d_20min_days50"
    assert exam_scenario(30, 20).name == "exam_30d_20min"  # the standard ones keep their names
    names = {sc.name for sc in scenarios(False)}
    assert {sc.name for sc in CHOICE_SCENARIOS} <= names


def test_spread_scales_every_items_difficulty(people: People) -> None:
    one = make_students(people, 5, 40, seed=3)
    two = make_students(people, 5, 40, seed=3, spread=2.0)
    assert np.allclose(two.offset, 2.0 * one.offset)
    assert np.array_equal(two.person, one.person) and np.array_equal(two.tau, one.tau)


def test_a_student_who_skips_days_studies_on_the_same_days_under_every_policy(
    people: People,
) -> None:
    sc = exam_scenario(20, 5, n_items=60, attendance=0.5)
    students = make_students(people, 8, sc.n_items, seed=1)

    def studied(make: Callable[[int, int], Policy]) -> npt.NDArray[np.bool_]:
        days = np.zeros((students.n, sc.days), bool)

        def see(policy: object, day: int, p: npt.NDArray[np.float64], take: Any) -> None:
            days[:, day] = take.any(axis=1)

        run(sc, make, students, "fsrs6", seed=2, observer=see)
        return days

    in_order = studied(lambda s, n: InOrder(s, n))
    assert np.array_equal(in_order, studied(lambda s, n: FSRSScheduler(s, n)))
    share = in_order.mean()
    assert 0.35 < share < 0.65  # about half the days
    every_day = exam_scenario(20, 5, n_items=60)
    full = run(every_day, lambda s, n: InOrder(s, n), students, "fsrs6", seed=2)
    half = run(sc, lambda s, n: InOrder(s, n), students, "fsrs6", seed=2)
    assert np.all(half.minutes < full.minutes)
    assert half.exam_recall.mean() < full.exam_recall.mean()


def test_gap_share_is_the_policys_part_of_the_in_order_to_oracle_gap() -> None:
    rng = np.random.default_rng(0)
    base = rng.uniform(0.5, 0.7, 50)
    recall = {
        "in_order": base,
        "oracle": base + 0.10,
        "oracle_paced": base + 0.08,
        "mine": base + 0.05 + rng.normal(0, 0.01, 50),
        "worse": base - 0.10,
    }
    rows = {r.policy: r for r in gap_shares("fsrs6:x", recall, seed=0)}
    assert "in_order" not in rows
    assert {r.metric for r in rows.values()} == {"gap_share(oracle)"}  # the better reference
    assert rows["oracle"].mean == pytest.approx(1.0)
    assert rows["oracle_paced"].mean == pytest.approx(0.8)
    assert rows["worse"].mean == pytest.approx(-1.0)
    mine = rows["mine"]
    assert mine.ci_low < mine.mean < mine.ci_high
    assert 0.4 < mine.mean < 0.6 and mine.ci_high - mine.ci_low < 0.1
    # no share where the oracle does not beat the baseline: it would divide by next to nothing
    assert gap_shares("actr:x", recall | {"oracle": base, "oracle_paced": base - 0.01}, 0) == []


def test_cli_runs_only_the_scenarios_asked_and_rejects_unknown_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--quick", "--scenarios", "exam_99d_1min"])
    assert "unknown scenario 'exam_99d_1min'" in capsys.readouterr().err
    name = "exam_7d_5min_80items_spread2_days50"
    args = ["--quick", "--students", "6", "--workers", "1", "--no-variants", "--scenarios", name]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "exam_14d_10min_60items" not in out
    assert "Share of the in-order-to-oracle gap closed" in out
    assert f"{name} (oracle:" in out
    assert "0 by definition" in out
