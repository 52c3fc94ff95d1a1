"""The scheduling benchmark: every policy on every scenario, scored with 95% intervals."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tutor.simulation.policies import (
    SM2,
    FSRSScheduler,
    InOrder,
    Leitner,
    MetaTutor,
    Policy,
    RandomOrder,
)
from tutor.simulation.population import People, make_students
from tutor.simulation.runner import Outcome, Scenario, exam_scenario, maintenance_scenario, run

F = npt.NDArray[np.float64]
Factory = Callable[[int, int], Policy]

OURS = "metatutor"
REFERENCE = "fsrs_0.9"


def policies(seed: int) -> dict[str, Factory]:
    """The policies under test, by name (ours first)."""
    return {
        OURS: lambda s, n: MetaTutor(s, n),
        REFERENCE: lambda s, n: FSRSScheduler(s, n, 0.9),
        "sm2": lambda s, n: SM2(s, n),
        "leitner": lambda s, n: Leitner(s, n),
        "random": lambda s, n: RandomOrder(s, n, seed + 17),
        "in_order": lambda s, n: InOrder(s, n),
    }


def scenarios(quick: bool) -> list[Scenario]:
    """The issue's scenarios, or a small smoke version."""
    if quick:
        return [exam_scenario(14, 10, n_items=100), maintenance_scenario(30, 10, n_items=200)]
    return [
        exam_scenario(14, 10),
        exam_scenario(14, 20),
        exam_scenario(30, 10),
        exam_scenario(30, 20),
        maintenance_scenario(365, 20, 1000),
    ]


@dataclass(frozen=True, slots=True)
class Row:
    """One reported figure: mean over students with a 95% interval."""

    scenario: str
    policy: str
    metric: str
    mean: float
    ci_low: float
    ci_high: float

    def as_dict(self) -> dict[str, str | float]:
        """The JSON form."""
        return {
            "scenario": self.scenario,
            "policy": self.policy,
            "metric": self.metric,
            "mean": self.mean,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
        }


def interval(x: F) -> tuple[float, float, float]:
    """Mean and normal-approximation 95% interval of the mean."""
    x = x[np.isfinite(x)]
    m = float(x.mean())
    half = 1.96 * float(x.std(ddof=1)) / np.sqrt(x.size) if x.size > 1 else 0.0
    return m, m - half, m + half


def _metrics(sc: Scenario, o: Outcome) -> dict[str, F]:
    if sc.exam:
        return {"exam_recall": o.exam_recall, "reviews": o.reviews, "minutes": o.minutes}
    return {
        "recall_per_minute": o.recall_per_minute,
        "mean_recall": o.mean_recall,
        "reviews": o.reviews,
        "minutes": o.minutes,
    }


def run_bench(
    people: People,
    n_students: int,
    seed: int,
    quick: bool = False,
    families: Sequence[str] = ("fsrs6", "actr"),
    log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr, flush=True),
    exams_only: bool = False,
) -> list[Row]:
    """Run every policy on every scenario and memory family; ACT-R only on exam scenarios.

    Rows also give our policy's paired difference to FSRS 0.9 and to the best other policy
    (same students, same random draws), whose intervals are much tighter than the raw ones.
    """
    rows: list[Row] = []
    pol = policies(seed)
    for family in families:
        for sc in scenarios(quick):
            if not sc.exam and (family != "fsrs6" or exams_only):
                continue  # the second family checks the exam results (ACT-R is costly)
            students = make_students(people, n_students, sc.n_items, seed)
            label = f"{family}:{sc.name}"
            outs: dict[str, Outcome] = {}
            for name, make in pol.items():
                t0 = time.perf_counter()
                outs[name] = run(sc, make, students, family, seed)
                log(f"{label:32s} {name:10s} {time.perf_counter() - t0:6.1f}s")
                for metric, values in _metrics(sc, outs[name]).items():
                    rows.append(Row(label, name, metric, *interval(values)))
            key = "exam_recall" if sc.exam else "recall_per_minute"
            ours = _metrics(sc, outs[OURS])[key]
            others = {n: _metrics(sc, o)[key] for n, o in outs.items() if n != OURS}
            best = max(others, key=lambda n: float(np.nanmean(others[n])))
            rows.append(
                Row(label, OURS, f"{key}_minus_{REFERENCE}", *interval(ours - others[REFERENCE]))
            )
            rows.append(
                Row(label, OURS, f"{key}_minus_best_other({best})", *interval(ours - others[best]))
            )
    return rows


def run_learner_model_check(
    model: object,
    people: People,
    n_students: int,
    seed: int,
    quick: bool = False,
    log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr, flush=True),
) -> list[Row]:
    """Our policy with the trained learner model in the loop, on a few FSRS-6 students.

    Compared, on the same students and draws, with ``metatutor`` (the benchmark's numpy
    model) and FSRS 0.9. Exam scenarios only.
    """
    from tutor.simulation.model_policy import LearnerModelPolicy

    rows: list[Row] = []
    pol = policies(seed)
    for sc in [s for s in scenarios(quick) if s.exam]:
        students = make_students(people, n_students, sc.n_items, seed)
        label = f"fsrs6-{n_students}students:{sc.name}"
        t0 = time.perf_counter()
        lm = run(sc, lambda s, n: LearnerModelPolicy(model, s, n), students, "fsrs6", seed)
        log(f"{label:32s} metatutor_lm {time.perf_counter() - t0:6.1f}s")
        for metric, values in _metrics(sc, lm).items():
            rows.append(Row(label, "metatutor_lm", metric, *interval(values)))
        for other in (OURS, REFERENCE):
            o = run(sc, pol[other], students, "fsrs6", seed)
            rows.append(Row(label, other, "exam_recall", *interval(o.exam_recall)))
            diff = lm.exam_recall - o.exam_recall
            rows.append(Row(label, "metatutor_lm", f"exam_recall_minus_{other}", *interval(diff)))
    return rows
