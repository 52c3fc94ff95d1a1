"""Simulated memory and the classic schedulers behave as specified."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from fsrs import Card, Rating, Scheduler

from tutor.policy import due_times
from tutor.simulation import fsrs_math as fm
from tutor.simulation.memory import ACTRMemory, FSRSMemory
from tutor.simulation.online_model import OnlineFSRS, OnlineFSRSPredictor
from tutor.simulation.policies import SM2, FSRSScheduler, InOrder, Leitner


def _one(grade: int) -> np.ndarray:
    return np.array([[grade]], dtype=np.int64)


def test_vectorised_fsrs_matches_the_package() -> None:
    rng = np.random.default_rng(0)
    sched = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
    w = fm.DEFAULT_W[None, :]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for _ in range(40):
        card = Card()
        d, s, last, new, day = np.full((1, 1), 5.0), np.ones((1, 1)), 0, True, 0
        for _ in range(6):
            day += int(rng.integers(0, 25))
            g = int(rng.integers(1, 5))
            card, _ = sched.review_card(card, Rating(g), start + timedelta(days=day))
            d, s = fm.review(w, d, s, np.array([[day - last]], float), np.array([[new]]), _one(g))
            last, new = day, False
            assert card.stability is not None and card.difficulty is not None
            assert abs(s[0, 0] - card.stability) <= 1e-9 * card.stability
            assert abs(d[0, 0] - card.difficulty) <= 1e-9
            assert (card.due - (start + timedelta(days=day))).days == fm.interval_days(w, s, 0.9)[
                0, 0
            ]


def test_fsrs_scheduler_policy_due_days_match_the_package() -> None:
    sched = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
    pol = FSRSScheduler(1, 1, 0.9)
    card, start, day = Card(), datetime(2025, 1, 1, tzinfo=UTC), 0
    for g in (3, 3, 1, 3, 4):
        card, _ = sched.review_card(card, Rating(g), start + timedelta(days=day))
        pol.observe(np.array([[True]]), day, _one(g))
        assert pol.due[0, 0] == (card.due - start).days
        day = int(pol.due[0, 0])


def test_fsrs_memory_recall_falls_with_time() -> None:
    w = fm.DEFAULT_W[None, :]
    mem = FSRSMemory(w, np.zeros((1, 3)), np.array([0.5]))
    assert np.all(mem.recall(0.0) == 0.0)  # never seen
    mem.review(np.array([[True, True, False]]), 0.0, np.array([[3, 1, 3]]))
    r = np.array([mem.recall(float(t))[0] for t in (1, 3, 10, 30, 100)])
    assert np.all(np.diff(r[:, 0]) < 0) and np.all(np.diff(r[:, 1]) < 0)
    assert np.all(r[:, 0] > r[:, 1])  # a first "Good" beats a first "Again"
    assert np.all(r[:, 2] == 0.0)


def test_actr_recall_falls_with_time_and_rises_with_practice() -> None:
    mem = ACTRMemory(np.array([0.18]), np.array([-1.2]), np.zeros((1, 2)), np.array([0.5]))
    mem.review(np.array([[True, True]]), 0.0, np.array([[3, 3]]))
    mem.review(np.array([[False, True]]), 2.0, np.array([[3, 3]]))
    mem.review(np.array([[False, True]]), 6.0, np.array([[3, 3]]))
    r = np.array([mem.recall(float(t))[0] for t in (7, 10, 20, 40)])
    assert np.all(np.diff(r, axis=0) < 0)
    assert np.all(r[:, 1] > r[:, 0])


def test_sm2_intervals() -> None:
    pol = SM2(1, 1)
    dues = []
    day = 0
    for g in (3, 3, 3):
        pol.observe(np.array([[True]]), day, _one(g))
        dues.append(pol.due[0, 0] - day)
        day = int(pol.due[0, 0])
    assert dues == [1, 6, 15]  # 1, 6, then 6 * EF 2.5 (Good keeps EF at 2.5)
    ef = pol.ef[0, 0]
    pol.observe(np.array([[True]]), day, _one(1))  # lapse: restart, EF unchanged
    assert pol.due[0, 0] - day == 1 and pol.reps[0, 0] == 0 and pol.ef[0, 0] == ef
    pol.observe(np.array([[True]]), day + 1, _one(4))  # Easy raises EF by 0.1
    assert abs(pol.ef[0, 0] - (ef + 0.1)) < 1e-12


def test_leitner_boxes() -> None:
    pol = Leitner(1, 1)
    waits = []
    day = 0
    for _ in range(6):
        pol.observe(np.array([[True]]), day, _one(3))
        waits.append(pol.due[0, 0] - day)
        day = int(pol.due[0, 0])
    assert waits == [1, 2, 4, 8, 16, 16]
    pol.observe(np.array([[True]]), day, _one(1))
    assert pol.box[0, 0] == 1 and pol.due[0, 0] - day == 1


def test_in_order_resumes_where_it_stopped() -> None:
    pol = InOrder(1, 5)
    mask = np.array([[True, True, False, False, False]])
    pol.observe(mask, 0, np.full((1, 5), 3))
    assert pol.pointer[0] == 2
    pol.observe(np.array([[True, False, False, True, True]]), 1, np.full((1, 5), 3))
    assert pol.pointer[0] == 1  # wrapped after items 3, 4, 0


def test_cramming_does_not_shift_the_schedule() -> None:
    """A same-day extra review barely moves the model's due date; SM-2 would count a repetition."""
    origin = datetime(2026, 1, 5, 9, tzinfo=UTC)
    model = OnlineFSRS(1, 1)
    model.observe(np.array([[True]]), 0.0, _one(3))
    view = OnlineFSRSPredictor(model, 0, origin.timestamp())
    before = due_times(view, np.array([0]), origin, 0.9)[0]
    model.observe(np.array([[True]]), 2 / 24, _one(3))  # crammed two hours later
    after = due_times(view, np.array([0]), origin, 0.9)[0]
    base = origin.timestamp()
    assert after >= before - 60
    assert (after - base) <= 1.6 * (before - base)
    sm2 = SM2(1, 1)
    sm2.observe(np.array([[True]]), 0, _one(3))
    sm2.observe(np.array([[True]]), 0, _one(3))
    assert sm2.due[0, 0] == 6  # the classic rule treats the cram as a full repetition
