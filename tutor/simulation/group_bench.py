"""The group scenario of the schedule benchmark: classes answering shared daily quizzes.

Classes of 20 simulated students (the FSRS-6 and ACT-R populations of the private benchmark,
:mod:`tutor.simulation.population`) answer one daily group quiz each (attendance per
student between 50% and 95%). Policies: ``group`` (ours, the learner model's predictions),
``in_order``, ``random``, and the ``group_oracle`` reference. A class is the unit: every
figure is a mean over classes with a 95% interval, and ours is compared with each baseline
class by class (the same students and draws).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tutor.simulation.bench import Row, interval
from tutor.simulation.group_policies import (
    GROUP,
    GROUP_ORACLE,
    GroupInOrder,
    GroupModelPolicy,
    GroupOracle,
    GroupRandom,
)
from tutor.simulation.group_runner import (
    ClassOutcome,
    ClassScenario,
    GroupPolicy,
    class_exam_scenario,
    class_keep_scenario,
    run_classes,
)
from tutor.simulation.parallel import load_model, run_jobs
from tutor.simulation.population import People, make_students

GroupFactory = Callable[[int, int, int], GroupPolicy]
BASELINES = ("in_order", "random")
REFERENCES = (GROUP_ORACLE,)


def group_policies(seed: int, model: Any) -> dict[str, GroupFactory]:
    """The policies by name: ours, the reference, then the baselines."""
    return {
        GROUP: lambda c, s, n: GroupModelPolicy(model, c, s, n, seed),
        GROUP_ORACLE: lambda c, s, n: GroupOracle(c, s, n, seed),
        "in_order": lambda c, s, n: GroupInOrder(c, s, n),
        "random": lambda c, s, n: GroupRandom(c, s, n, seed + 17),
    }


def class_scenarios(quick: bool) -> list[ClassScenario]:
    """Four weeks of daily quizzes of 10 before a class exam on a deck of 60 (several passes),
    150 (about two) or 300 items (not even one: coverage decides), and eight weeks on 150
    items without an exam."""
    if quick:
        return [class_exam_scenario(10, 5, 40), class_keep_scenario(12, 5, 40)]
    return [
        class_exam_scenario(28, 10, 60),
        class_exam_scenario(28, 10, 150),
        class_exam_scenario(28, 10, 300),
        class_keep_scenario(56, 10, 150),
    ]


def _metrics(sc: ClassScenario, o: ClassOutcome) -> dict[str, Any]:
    if sc.exam:
        return {"exam_recall": o.exam_recall, "introduced": o.introduced}
    return {"recall_per_answer": o.recall_per_answer, "mean_recall": o.mean_recall}


@dataclass(frozen=True, slots=True)
class _Setup:
    people: People
    n_classes: int
    class_size: int
    seed: int
    weights: Path | None


_SETUP: _Setup | None = None
_MODEL: Any = None


def _init_worker(setup: _Setup) -> None:
    global _SETUP, _MODEL
    _SETUP, _MODEL = setup, load_model(setup.weights)


def _job(family: str, sc: ClassScenario, name: str) -> tuple[ClassOutcome, float]:
    assert _SETUP is not None
    t0 = time.perf_counter()
    n_students = _SETUP.n_classes * sc.class_size
    students = make_students(_SETUP.people, n_students, sc.n_items, _SETUP.seed)
    make = group_policies(_SETUP.seed, _MODEL)[name]
    out = run_classes(sc, make, students, family, _SETUP.seed)
    return out, time.perf_counter() - t0


def run_group_bench(
    people: People,
    n_classes: int,
    seed: int,
    quick: bool = False,
    families: Sequence[str] = ("fsrs6", "actr"),
    log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr, flush=True),
    weights: Path | None = None,
    workers: int = 1,
) -> list[Row]:
    """Every group policy on every class scenario and memory family.

    Rows: each metric per policy (mean over classes, 95% interval), and ours minus each
    baseline and minus the reference, class by class. Runs are seeded and independent, so
    ``workers`` processes give the same rows as one.
    """
    setup = _Setup(people, n_classes, 20, seed, weights)
    names = list(group_policies(seed, None))
    jobs = [(f, sc, n) for f in families for sc in class_scenarios(quick) for n in names]
    results: dict[tuple[str, str, str], ClassOutcome] = {}

    def done(job: tuple[str, ClassScenario, str], result: tuple[ClassOutcome, float]) -> None:
        (family, sc, name), (out, secs) = job, result
        results[(family, sc.name, name)] = out
        head = out.exam_recall if sc.exam else out.recall_per_answer
        log(f"{family}:{sc.name:28s} {name:14s} {secs:6.1f}s  mean {np.nanmean(head):.4f}")

    run_jobs(jobs, _job, done, init=_init_worker, init_args=(setup,), workers=workers, cost=_cost)
    rows: list[Row] = []
    for family in families:
        for sc in class_scenarios(quick):
            label = f"{family}:{sc.name}"
            outs = {n: results[(family, sc.name, n)] for n in names}
            for name, out in outs.items():
                for metric, values in _metrics(sc, out).items():
                    rows.append(Row(label, name, metric, *interval(values)))
            key = "exam_recall" if sc.exam else "recall_per_answer"
            ours = _metrics(sc, outs[GROUP])[key]
            for other in (*BASELINES, *REFERENCES):
                diff = ours - _metrics(sc, outs[other])[key]
                rows.append(Row(label, GROUP, f"{key}_minus_{other}", *interval(diff)))
    return rows


def _cost(family: str, sc: ClassScenario, name: str) -> float:
    """Rough relative run time, to schedule the long runs first."""
    base = sc.days * sc.n_items * (3.0 if family == "actr" else 1.0)
    return base * (20.0 if name == GROUP else 4.0 if name == GROUP_ORACLE else 1.0)


def group_markdown(rows: list[Row], n_classes: int) -> str:
    """One table per memory family: policies down, scenarios across; then ours minus the
    others, class by class."""
    out: list[str] = []
    families = list(dict.fromkeys(r.scenario.split(":")[0] for r in rows))
    for family in families:
        frows = [r for r in rows if r.scenario.startswith(family + ":")]
        main = [r for r in frows if "_minus_" not in r.metric]
        cols = list(dict.fromkeys((r.scenario.split(":")[1], r.metric) for r in main))
        names = list(dict.fromkeys(r.policy for r in main))
        cell = {(r.policy, r.scenario.split(":")[1], r.metric): _fmt(r) for r in main}
        out.append(f"### Group quizzes, simulated memory: {family} ({n_classes} classes x 20)\n")
        out.append("| policy | " + " | ".join(f"{s} {m}" for s, m in cols) + " |")
        out.append("|---" * (len(cols) + 1) + "|")
        for n in names:
            label = f"{n} (reference: true memory)" if n in REFERENCES else n
            out.append(
                f"| {label} | " + " | ".join(cell.get((n, s, m), "") for s, m in cols) + " |"
            )
        out.append("\nOurs minus the others (class by class, same students and draws):\n")
        out.append("| scenario | difference | mean [95% CI] |")
        out.append("|---|---|---|")
        for r in frows:
            if "_minus_" in r.metric:
                out.append(f"| {r.scenario.split(':')[1]} | {r.metric} | {_fmt(r)} |")
        out.append("")
    return "\n".join(out)


def _fmt(row: Row) -> str:
    if row.metric.split("_minus_")[0] in ("exam_recall", "mean_recall"):
        return f"{100 * row.mean:.1f}% [{100 * row.ci_low:.1f}, {100 * row.ci_high:.1f}]"
    return f"{row.mean:.2f} [{row.ci_low:.2f}, {row.ci_high:.2f}]"
