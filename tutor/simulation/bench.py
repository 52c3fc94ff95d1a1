"""The scheduling benchmark: every policy on every scenario, scored with 95% intervals."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tutor.policy import scoring
from tutor.simulation.model_policy import CalibrationBins, LearnerModelPolicy
from tutor.simulation.oracle import ORACLE, ORACLE_PACED, Oracle
from tutor.simulation.parallel import load_model, run_jobs
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
#: Extra rows: variants of ours, shown for comparison but never counted as "other" policies.
UNCALIBRATED = "metatutor_uncalibrated"
FSRS_FORM = "metatutor_fsrs_form"
_VARIANTS = (UNCALIBRATED, FSRS_FORM)
#: Reference rows, not competitors: read the simulated students' true memory.
REFERENCES = (ORACLE, ORACLE_PACED)


def policies(seed: int, model: Any, variants: bool = True) -> dict[str, Factory]:
    """The policies under test, by name (ours first, then its variants when asked, then the
    oracle reference, which reads the true memory and is never an "other" policy).

    ``model`` is the learner model that drives ours (``tutor.model.online.LearnerModel``).
    """
    ours: dict[str, Factory] = {OURS: lambda s, n: LearnerModelPolicy(model, s, n)}
    if variants:
        ours[UNCALIBRATED] = lambda s, n: LearnerModelPolicy(
            model, s, n, calibrate=False, name=UNCALIBRATED
        )
        ours[FSRS_FORM] = lambda s, n: MetaTutor(s, n, name=FSRS_FORM)
    ours[ORACLE] = lambda s, n: Oracle(s, n)
    ours[ORACLE_PACED] = lambda s, n: Oracle(
        s,
        n,
        ORACLE_PACED,
        scoring.PACED_SPACING_SHARE,
        scoring.PACED_COVERAGE_ANSWERS,
    )
    return ours | {
        REFERENCE: lambda s, n: FSRSScheduler(s, n, 0.9),
        "sm2": lambda s, n: SM2(s, n),
        "leitner": lambda s, n: Leitner(s, n),
        "random": lambda s, n: RandomOrder(s, n, seed + 17),
        "in_order": lambda s, n: InOrder(s, n),
    }


def scenarios(quick: bool) -> list[Scenario]:
    """The issue's scenarios, or a small smoke version.

    The last three are where choices matter: a deck larger than the time allows (1,000 items
    in 14 days at 10 minutes a day: about 700 answers), items of very different difficulty
    (offsets twice the standard spread), and a student who studies on half the days only.
    """
    if quick:
        return [
            exam_scenario(14, 10, n_items=60),
            maintenance_scenario(20, 10, n_items=100),
            exam_scenario(7, 5, n_items=80, spread=2.0, attendance=0.5),
        ]
    return [
        exam_scenario(14, 10),
        exam_scenario(14, 20),
        exam_scenario(30, 10),
        exam_scenario(30, 20),
        maintenance_scenario(365, 20, 1000),
        *CHOICE_SCENARIOS,
    ]


#: Scenarios where choices matter (issue 18): see :func:`scenarios`.
CHOICE_SCENARIOS = (
    exam_scenario(14, 10, n_items=1000),
    exam_scenario(30, 10, spread=2.0),
    exam_scenario(30, 20, attendance=0.5),
)
#: The baseline and the metric of the gap share: (policy - in order) / (oracle - in order).
BASELINE = "in_order"
GAP_SHARE = "gap_share"
#: Below this oracle margin over the baseline (exam-day recall) the share is not reported.
MIN_GAP = 0.002


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
        return {
            "exam_recall": o.exam_recall,
            "reviews": o.reviews,
            "minutes": o.minutes,
            "introduced": o.introduced,
        }
    return {
        "recall_per_minute": o.recall_per_minute,
        "mean_recall": o.mean_recall,
        "reviews": o.reviews,
        "minutes": o.minutes,
    }


@dataclass(frozen=True, slots=True)
class _Setup:
    people: People
    n_students: int
    seed: int
    weights: Path | None
    variants: bool


_SETUP: _Setup | None = None
_MODEL: Any = None


def _init_worker(setup: _Setup) -> None:
    global _SETUP, _MODEL
    _SETUP, _MODEL = setup, load_model(setup.weights)


def _job(family: str, sc: Scenario, name: str) -> tuple[Outcome, float, list[dict[str, float]]]:
    assert _SETUP is not None
    t0 = time.perf_counter()
    students = make_students(_SETUP.people, _SETUP.n_students, sc.n_items, _SETUP.seed, sc.spread)
    make = policies(_SETUP.seed, _MODEL, _SETUP.variants)[name]
    bins = CalibrationBins() if name == OURS else None
    out = run(sc, make, students, family, _SETUP.seed, observer=bins)
    return out, time.perf_counter() - t0, bins.table() if bins is not None else []


def run_bench(
    people: People,
    n_students: int,
    seed: int,
    quick: bool = False,
    families: Sequence[str] = ("fsrs6", "actr"),
    log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr, flush=True),
    exams_only: bool = False,
    weights: Path | None = None,
    workers: int = 1,
    variants: bool = True,
    calibration: dict[str, list[dict[str, float]]] | None = None,
    only: Sequence[str] = (),
) -> list[Row]:
    """Run every policy on every scenario and memory family; ACT-R only on exam scenarios.

    ``weights`` are the learner model's (default: the shipped ones). Runs are independent and
    deterministic (seeded by ``seed`` and the day), so ``workers`` processes give the same
    rows as one. Rows also give our policy's paired difference to FSRS 0.9 and to the best
    other policy (same students, same random draws), whose intervals are much tighter than
    the raw ones; variants of ours are never "other" policies. ``calibration``, if given,
    receives per scenario our model's predicted and the students' true recall by gap
    (:class:`tutor.simulation.model_policy.CalibrationBins`). ``only`` keeps the scenarios
    of those names (all when empty).
    """
    setup = _Setup(people, n_students, seed, weights, variants)
    names = list(policies(seed, None, variants))
    cases = [
        (family, sc)
        for family in families
        for sc in scenarios(quick)
        if not only or sc.name in only
        if sc.exam or (family == "fsrs6" and not exams_only)
    ]  # the second family checks the exam results (ACT-R is costly)
    # variants of ours run on FSRS-6 students only, the costly uncalibrated one on exams only;
    # the paced oracle on exams only
    jobs = [
        (f, sc, n)
        for f, sc in cases
        for n in names
        if n not in _VARIANTS or (f == "fsrs6" and (sc.exam or n != UNCALIBRATED))
        if n != ORACLE_PACED or sc.exam  # its rules are exam rules
    ]
    results: dict[tuple[str, str, str], Outcome] = {}

    def done(
        job: tuple[str, Scenario, str], result: tuple[Outcome, float, list[dict[str, float]]]
    ) -> None:
        (family, sc, name), (out, secs, bins) = job, result
        results[(family, sc.name, name)] = out
        if calibration is not None and name == OURS:
            calibration[f"{family}:{sc.name}"] = bins
        head = out.exam_recall if sc.exam else out.recall_per_minute
        log(f"{family}:{sc.name:28s} {name:24s} {secs:6.1f}s  mean {np.nanmean(head):.4f}")

    run_jobs(jobs, _job, done, init=_init_worker, init_args=(setup,), workers=workers, cost=_cost)
    rows: list[Row] = []
    for family, sc in cases:
        label = f"{family}:{sc.name}"
        outs = {n: results[(family, sc.name, n)] for n in names if (family, sc.name, n) in results}
        for name, out in outs.items():
            for metric, values in _metrics(sc, out).items():
                rows.append(Row(label, name, metric, *interval(values)))
        key = "exam_recall" if sc.exam else "recall_per_minute"
        ours = _metrics(sc, outs[OURS])[key]
        others = {
            n: _metrics(sc, o)[key]
            for n, o in outs.items()
            if not n.startswith(OURS) and n not in REFERENCES
        }
        best = max(others, key=lambda n: float(np.nanmean(others[n])))
        rows.append(
            Row(label, OURS, f"{key}_minus_{REFERENCE}", *interval(ours - others[REFERENCE]))
        )
        rows.append(
            Row(label, OURS, f"{key}_minus_best_other({best})", *interval(ours - others[best]))
        )
        if FSRS_FORM in outs:
            extra = _metrics(sc, outs[FSRS_FORM])[key]
            rows.append(Row(label, OURS, f"{key}_minus_{FSRS_FORM}", *interval(ours - extra)))
        if sc.exam:
            rows.extend(gap_shares(label, {n: o.exam_recall for n, o in outs.items()}, seed))
        for ref in REFERENCES:
            if ref not in outs:
                continue
            bound = _metrics(sc, outs[ref])[key]
            rows.append(Row(label, OURS, f"{key}_minus_{ref}", *interval(ours - bound)))
            rows.append(
                Row(label, ref, f"{key}_minus_best_other({best})", *interval(bound - others[best]))
            )
    return rows


def gap_shares(label: str, recall: dict[str, F], seed: int, draws: int = 1000) -> list[Row]:
    """Each policy's share of the in-order-to-oracle gap: ``(policy - in_order) / (oracle -
    in_order)`` of mean exam-day recall, with a paired bootstrap 95% interval over students.

    The oracle is the better of the true-memory references in the scenario (named in the
    metric: ``gap_share(oracle_paced)``). 1 = as good as the oracle, 0 = no better than the
    deck in order, below 0 = worse. Nothing is reported where the oracle does not beat the
    baseline by ``MIN_GAP`` (the share would divide by next to nothing).
    """
    refs = [r for r in REFERENCES if r in recall]
    if BASELINE not in recall or not refs:
        return []
    oracle = max(refs, key=lambda r: float(np.nanmean(recall[r])))
    base, top = recall[BASELINE], recall[oracle]
    if float(np.nanmean(top - base)) < MIN_GAP:
        return []
    rng = np.random.default_rng([seed, 18])
    boot = rng.integers(0, base.shape[0], (draws, base.shape[0]))
    span = (top - base)[boot].mean(axis=1)
    rows = []
    for name, x in recall.items():
        if name == BASELINE:
            continue
        share = float(np.nanmean(x - base) / np.nanmean(top - base))
        shares = (x - base)[boot].mean(axis=1) / np.maximum(span, 1e-9)
        lo, hi = (float(v) for v in np.percentile(shares, [2.5, 97.5]))
        rows.append(Row(label, name, f"{GAP_SHARE}({oracle})", share, lo, hi))
    return rows


def _cost(family: str, sc: Scenario, name: str) -> float:
    """Rough relative run time, to schedule the long runs first."""
    per_day = sc.n_items * sc.minutes * (3.0 if family == "actr" else 1.0)
    if name in REFERENCES:  # hypothetical reviews on copies of the memory
        return sc.days * per_day * (8.0 if family == "actr" else 4.0)
    return sc.days * per_day * (20.0 if name.startswith(OURS) and name != FSRS_FORM else 1.0)
