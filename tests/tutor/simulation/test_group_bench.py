"""Classes answering shared daily quizzes: the runner, the group policy, the command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tutor.model.online import LearnerModel
from tutor.simulation.cli import main
from tutor.simulation.group_policies import (
    GroupInOrder,
    GroupModelPolicy,
    GroupOracle,
    GroupRandom,
)
from tutor.simulation.group_runner import (
    ATTEND_HIGH,
    ATTEND_LOW,
    ClassDay,
    ClassScenario,
    attendance,
    class_exam_scenario,
    class_keep_scenario,
    run_classes,
)
from tutor.simulation.population import People, make_students


@pytest.fixture(scope="module")
def people() -> People:
    return People.load()


@pytest.fixture(scope="module")
def model() -> LearnerModel:
    return LearnerModel.load()


class Recording(GroupInOrder):
    """In order, keeping what it was told."""

    def __init__(self, n_classes: int, class_size: int, n_items: int) -> None:
        super().__init__(n_classes, class_size, n_items)
        self.days: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.history: list[np.ndarray] = []

    def choose(self, day: int, ctx: ClassDay) -> np.ndarray:
        self.history.append(ctx.attended.copy())
        return super().choose(day, ctx)

    def observe(self, day: int, asked: np.ndarray, attended: np.ndarray, right: np.ndarray) -> None:
        self.days.append((asked.copy(), attended.copy(), right.copy()))


def test_each_class_shares_its_quiz_and_only_attending_students_answer(people: People) -> None:
    sc = ClassScenario("tiny", 30, 6, 4, True, class_size=5)
    students = make_students(people, 15, sc.n_items, seed=1)
    made: list[Recording] = []

    def make(c: int, s: int, n: int) -> Recording:
        made.append(Recording(c, s, n))
        return made[-1]

    out = run_classes(sc, make, students, "fsrs6", seed=2)
    rec = made[0]
    came = np.stack([a for _, a, _ in rec.days], axis=1)  # (students, days)
    assert rec.history[-1].shape == (15, sc.days - 1)
    assert np.array_equal(rec.history[-1], came[:, :-1])  # the policy is told who came
    for _, attended, right in rec.days:
        assert not right[~attended].any()  # absent students answer nothing
    per_student = came.sum(axis=1) * sc.per_day
    assert out.answers == pytest.approx(per_student.reshape(3, 5).mean(axis=1))
    assert np.all((out.exam_recall > 0) & (out.exam_recall <= 1))
    assert out.introduced.shape == (3,)
    # the same seed gives every policy the same attendance
    p = attendance(15, 2)
    assert np.all((p >= ATTEND_LOW) & (p <= ATTEND_HIGH))
    again = run_classes(sc, make, students, "fsrs6", seed=2)
    assert np.array_equal(again.exam_recall, out.exam_recall)
    assert np.array_equal(np.stack([a for _, a, _ in made[1].days], axis=1), came)


def test_baselines_ask_distinct_items(people: People) -> None:
    ctx = ClassDay(2, 3, 10, 4, 5, None, np.zeros((6, 0), bool))
    rnd = GroupRandom(2, 3, 10, seed=3)
    for day in range(3):
        asked = rnd.choose(day, ctx)
        assert all(len(set(row)) == 4 for row in asked.tolist())
    order = GroupInOrder(2, 3, 10)
    first, second, third = (order.choose(d, ctx) for d in range(3))
    assert first[0].tolist() == [0, 1, 2, 3] and third[0].tolist() == [8, 9, 0, 1]
    assert second[1].tolist() == [4, 5, 6, 7]


def test_group_policy_learns_only_from_the_polls_answered(
    people: People, model: LearnerModel
) -> None:
    sc = ClassScenario("tiny", 24, 5, 4, False, class_size=4)
    students = make_students(people, 8, sc.n_items, seed=4)
    made: list[GroupModelPolicy] = []

    def make(c: int, s: int, n: int) -> GroupModelPolicy:
        made.append(GroupModelPolicy(model, c, s, n, seed=5))
        return made[-1]

    out = run_classes(sc, make, students, "fsrs6", seed=6)
    bm = made[0].lm.bm
    answers = (bm.c + bm.w).sum(axis=1)  # no relearning step in a poll
    assert np.array_equal(bm.step, answers)
    assert answers.reshape(2, 4).mean(axis=1) == pytest.approx(out.answers)
    assert np.all(answers % sc.per_day == 0) and np.all(answers <= sc.days * sc.per_day)
    assert np.all((out.mean_recall > 0) & (out.mean_recall < 1))


def test_group_policy_beats_random_on_an_easy_case(people: People, model: LearnerModel) -> None:
    # a small deck, a few questions a day: random repeats some items and misses others
    sc = class_exam_scenario(8, 5, 40)
    students = make_students(people, 3 * sc.class_size, sc.n_items, seed=7)
    ours = run_classes(
        sc, lambda c, s, n: GroupModelPolicy(model, c, s, n, seed=8), students, "fsrs6", seed=9
    )
    rnd = run_classes(sc, lambda c, s, n: GroupRandom(c, s, n, seed=8), students, "fsrs6", seed=9)
    assert ours.exam_recall.mean() > rnd.exam_recall.mean() + 0.03
    assert ours.introduced.mean() > rnd.introduced.mean()


def test_oracle_reads_the_true_memory(people: People) -> None:
    sc = class_keep_scenario(6, 4, 30)
    students = make_students(people, sc.class_size, sc.n_items, seed=10)
    out = run_classes(sc, lambda c, s, n: GroupOracle(c, s, n, seed=1), students, "actr", seed=11)
    assert np.all((out.recall_per_answer > 0) & np.isnan(out.exam_recall))


def test_cli_groups_quick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    js = tmp_path / "groups.json"
    args = ["--groups", "--quick", "--classes", "2", "--families", "fsrs6"]
    assert main([*args, "--workers", "1", "--json", str(js)]) == 0
    doc = json.loads(js.read_text())
    assert {"cpu", "cores", "python", "torch", "date"} <= set(doc["machine"])
    assert doc["command"][:3] == ["metatutor", "bench", "schedule"] and doc["classes"] == 2
    rows = doc["rows"]
    assert {r["policy"] for r in rows} == {"group", "group_oracle", "in_order", "random"}
    assert any(r["metric"] == "exam_recall_minus_in_order" for r in rows)
    assert any(r["metric"] == "recall_per_answer_minus_random" for r in rows)
    assert all(r["ci_low"] <= r["mean"] <= r["ci_high"] for r in rows)
    out = capsys.readouterr().out
    assert "| group |" in out and "| group_oracle (reference: true memory) |" in out
    with pytest.raises(SystemExit):
        main(["--groups", "--classes", "1"])
