"""Our policy with the shipped learner model in the loop, learning only from answers."""

from __future__ import annotations

import numpy as np
import pytest

from tutor.model.online import LearnerModel
from tutor.policy import calibration as cal
from tutor.policy import scoring
from tutor.simulation.model_policy import CalibrationBins, LearnerModelPolicy
from tutor.simulation.policies import DayContext, InOrder
from tutor.simulation.population import People, make_students
from tutor.simulation.runner import exam_scenario, maintenance_scenario, run


@pytest.fixture(scope="module")
def model() -> LearnerModel:
    return LearnerModel.load()


def test_policy_learns_only_from_the_answers_it_gets(model: LearnerModel) -> None:
    sc = exam_scenario(8, 5, n_items=60)
    students = make_students(People.load(), 6, sc.n_items, seed=1)
    made: list[LearnerModelPolicy] = []
    bins = CalibrationBins()

    def make(s: int, n: int) -> LearnerModelPolicy:
        made.append(LearnerModelPolicy(model, s, n))
        return made[-1]

    out = run(sc, make, students, "fsrs6", seed=2, observer=bins)
    bm = made[0].bm
    answers = bm.c + bm.w  # per (student, item), relearning steps included
    first_answers = out.reviews - (bm.w.sum(axis=1))  # a wrong answer is shown twice
    assert np.array_equal(answers.sum(axis=1) - bm.w.sum(axis=1), first_answers)
    assert np.array_equal(bm.step, answers.sum(axis=1))
    assert np.all((out.exam_recall > 0.2) & (out.exam_recall <= 1.0))
    # the calibration moved away from the identity, per student, from the logged answers
    assert not np.allclose(made[0].mean, cal.IDENTITY)
    table = bins.table()
    # every first answer of a day to a seen item was binned (a relearning step is a right
    # answer after a wrong one, so right answers minus first sights count them)
    assert sum(r["n"] for r in table) == bm.c.sum() - bm.seen.sum()
    for r in table:
        assert 0.0 < r["true"] < 1.0 and 0.0 < r["raw"] < 1.0 and r["gap_from"] < r["gap_to"]
    again = run(sc, lambda s, n: LearnerModelPolicy(model, s, n), students, "fsrs6", seed=2)
    assert np.array_equal(again.exam_recall, out.exam_recall)


def test_exam_focus_beats_in_order_on_a_tight_budget(model: LearnerModel) -> None:
    sc = exam_scenario(10, 5, n_items=120)
    students = make_students(People.load(), 24, sc.n_items, seed=3)
    ours = run(sc, lambda s, n: LearnerModelPolicy(model, s, n), students, "fsrs6", seed=4)
    base = run(sc, lambda s, n: InOrder(s, n), students, "fsrs6", seed=4)
    assert ours.exam_recall.mean() > base.exam_recall.mean()


def test_maintenance_paces_new_items_to_the_goal(model: LearnerModel) -> None:
    sc = maintenance_scenario(6, 5, n_items=200)
    students = make_students(People.load(), 4, sc.n_items, seed=5)
    made: list[LearnerModelPolicy] = []

    def make(s: int, n: int) -> LearnerModelPolicy:
        made.append(LearnerModelPolicy(model, s, n))
        return made[-1]

    out = run(sc, make, students, "fsrs6", seed=6)
    seen = made[0].bm.seen.sum(axis=1)
    assert np.all(seen > 0) and np.all(seen < sc.n_items)
    assert np.all(out.minutes <= sc.days * sc.minutes + 1e-9)


def test_items_just_answered_wait_for_spacing(
    model: LearnerModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 60 items at 8 s, one minute a day: an 8-day planning horizon on day 2, so the exam
    # gain of an item answered yesterday counts at 1 / 4 of the model's, of one answered the
    # day before at 2 / 4
    ctx = DayContext(4, 60, 10, 10, 60.0, 60, np.full(4, 8.0))
    policy = LearnerModelPolicy(model, 4, 60)
    grade = np.where(np.arange(60) % 3 == 0, 1, 3)[None, :].repeat(4, axis=0).astype(np.int64)
    earlier, yesterday = np.zeros((4, 60), bool), np.zeros((4, 60), bool)
    earlier[:, :30], yesterday[:, 30:] = True, True
    for day, answered in enumerate((earlier, yesterday)):
        policy.plan(day, ctx)
        policy.observe(answered, day, grade)

    spaced = policy.plan(2, ctx).key
    monkeypatch.setattr(scoring, "REVIEW_SPACING_SHARE", 0.0)
    full = policy.plan(2, ctx).key
    # items ranked by exam gain have key -gain: the weight scales each by its spacing
    ranked = full < 0
    assert ranked[yesterday].sum() >= 10 and ranked[earlier].sum() >= 10
    np.testing.assert_allclose(spaced[ranked & yesterday], full[ranked & yesterday] / 4, rtol=1e-2)
    np.testing.assert_allclose(spaced[ranked & earlier], full[ranked & earlier] / 2, rtol=1e-2)
