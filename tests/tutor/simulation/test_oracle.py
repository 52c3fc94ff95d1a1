"""The oracle reference: our exam planning on the simulated students' true memory."""

from __future__ import annotations

import numpy as np
import pytest

from tutor.simulation.oracle import Oracle
from tutor.simulation.policies import DayContext, InOrder
from tutor.simulation.population import People, make_students
from tutor.simulation.runner import exam_scenario, run


@pytest.fixture(scope="module")
def people() -> People:
    return People.load()


@pytest.mark.parametrize("family", ["fsrs6", "actr"])
def test_planning_reads_but_never_changes_the_memory(people: People, family: str) -> None:
    students = make_students(people, 3, 40, seed=1)
    memory = students.memory(family)
    rng = np.random.default_rng(0)
    grade = np.where(rng.random((3, 40)) < 0.7, 3, 1).astype(np.int64)
    memory.review(rng.random((3, 40)) < 0.5, 0.0, grade)
    before = memory.recall(3.0).copy()
    oracle = Oracle(3, 40)
    oracle.attach(memory, students)
    ctx = DayContext(3, 40, 10, 10, 300.0, 40, np.full(3, 8.0))
    plan = oracle.plan(2, ctx)
    assert np.array_equal(memory.recall(3.0), before)
    # with an exam ahead every item may be asked, and each student's ranking is their own
    assert plan.eligible.all()
    assert np.isfinite(plan.key).all()
    assert not np.array_equal(plan.key[0], plan.key[1])
    # it follows the memory: items just answered right fall down the ranking
    top = np.argsort(plan.key, axis=1)[:, :5]
    answered = np.zeros((3, 40), bool)
    answered[np.arange(3)[:, None], top] = True
    memory.review(answered, 2.0, np.full((3, 40), 3, np.int64))
    rank = np.argsort(np.argsort(oracle.plan(2, ctx).key, axis=1), axis=1)
    assert np.all(np.take_along_axis(rank, top, axis=1).mean(axis=1) > 10)


def test_true_memory_beats_cycling_where_reviews_matter(people: People) -> None:
    # ACT-R students on a tight budget: one sight of an item is mostly forgotten by exam day,
    # so knowing who remembers what is worth a lot (the benchmark's widest oracle margin)
    sc = exam_scenario(10, 5, n_items=150)
    students = make_students(people, 12, sc.n_items, seed=3)
    oracle = run(sc, lambda s, n: Oracle(s, n), students, "actr", seed=4)
    base = run(sc, lambda s, n: InOrder(s, n), students, "actr", seed=4)
    assert oracle.exam_recall.mean() > base.exam_recall.mean() + 0.02
    assert np.all(oracle.introduced <= sc.n_items)
    again = run(sc, lambda s, n: Oracle(s, n), students, "actr", seed=4)
    assert np.array_equal(again.exam_recall, oracle.exam_recall)


def test_paced_oracle_brings_in_the_whole_deck(people: People) -> None:
    # a budget that could learn the deck several times over: the new-item floor sees to it
    sc = exam_scenario(10, 20, n_items=80)
    students = make_students(people, 8, sc.n_items, seed=5)
    paced = run(sc, lambda s, n: Oracle(s, n, "oracle_paced", 0.9, 3.0), students, "actr", seed=6)
    assert np.all(paced.introduced == sc.n_items)
