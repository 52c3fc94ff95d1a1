"""A generated deployment: simulated students answering through the real service.

Students copy the per-person FSRS-6 memories fitted to real Anki logs
(:mod:`tutor.simulation.population`), with their forgetting sped up (``speed`` > 1: memory
decays ``speed`` times faster than the people they copy) or slowed down (``speed`` < 1).
Each studies one generated deck (flashcards they grade, and four-option questions they guess
when they do not recall) for a number of days through :class:`TutorService` into a real
database file: the service picks the questions and schedules the reviews, every answer is
logged as it would be in Telegram. Deterministic for a seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from storage import Database
from storage import attempts as attempt_rows
from tutor.answer_log import MAX_STRETCH
from tutor.items import Grade, ItemKind
from tutor.learner import MemoryModel
from tutor.service import TutorService
from tutor.simulation.population import People, make_students
from tutor.views import Answer, Question

START = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)
DECK = "generated"
FIRST_USER = 1000
PROBE_USER = 1


@dataclass(frozen=True, slots=True)
class DeploymentConfig:
    """Size and memory of the generated deployment."""

    students: int = 40
    items: int = 60
    days: int = 14
    quiz_length: int = 12
    speed: float = 1.0
    seed: int = 0


class SimClock:
    """The deployment's clock, moved by the generator."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def deck_json(n_items: int) -> bytes:
    """A deck of ``n_items`` questions: two flashcards for each four-option question."""
    items: list[dict[str, object]] = []
    for k in range(n_items):
        tag = f"topic{k % 4}"
        if k % 3 == 2:
            items.append(
                {
                    "id": f"q{k}",
                    "type": "multiple_choice",
                    "question": f"Which is answer {k}?",
                    "options": [f"a{k}", f"b{k}", f"c{k}", f"d{k}"],
                    "answer": f"a{k}",
                    "tags": [tag],
                }
            )
        else:
            items.append(
                {"id": f"q{k}", "type": "flashcard", "question": f"Front {k}",
                 "answer": f"Back {k}", "tags": [tag]}
            )  # fmt: skip
    deck = {"slug": DECK, "name": "Generated", "language": "en"}
    return json.dumps({"metatutor": 1, "deck": deck, "items": items}).encode()


def answer_for(question: Question, recalled: bool, grade: int) -> Answer:
    """The simulated student's answer: the right option or a wrong one, or their grade."""
    item = question.item
    if item.kind is ItemKind.MULTIPLE_CHOICE:
        right = question.choices.index(item.correct_text)
        return Answer(choice=right if recalled else (right + 1) % len(question.choices))
    return Answer(grade=Grade(grade))


async def generate(
    path: Path, config: DeploymentConfig, memory: MemoryModel | None = None
) -> TutorService:
    """Create the database at ``path`` and let the students study; returns the service
    (its database still open: close ``service.db`` when done)."""
    rng = np.random.default_rng(config.seed)
    clock = SimClock()
    db = await Database.open(path)
    service = TutorService(db, clock=clock, seed=config.seed, memory=memory)
    await service.import_file(deck_json(config.items), "generated.json")
    students = make_students(People.load(), config.students, config.items, config.seed)
    mem = students.memory("fsrs6")
    column: dict[int, int] = {}
    users = [FIRST_USER + s for s in range(config.students)]
    for user in users:
        await service.register(user, user, f"student {user}", "en")
        await service.enrol(user, DECK)
    for day in range(config.days):
        for s, user in enumerate(users):
            # each student studies at their own hour, most days
            if rng.random() < 0.15:
                continue
            clock.now = START + timedelta(days=day, hours=float(rng.uniform(0, 12)))
            question = await service.start_quiz(user, config.quiz_length)
            while question is not None:
                col = column.setdefault(question.item.id, len(column) % config.items)
                vday = (clock.now - START).total_seconds() / 86_400 * config.speed
                recalled = bool(rng.random() < mem.p_success(vday)[s, col])
                mc = question.item.kind is ItemKind.MULTIPLE_CHOICE
                right = recalled or (mc and rng.random() < 0.25)
                grades = students.grades(np.array([[right]] * config.students), rng.random(
                    (config.students, 1)))  # fmt: skip
                grade = int(grades[s, 0])
                mask = np.zeros((config.students, config.items), dtype=bool)
                mask[s, col] = True
                mem.review(mask, vday, np.full(mask.shape, grade if right else 1))
                await service.answer(user, question.id, answer_for(question, right, grade))
                clock.now += timedelta(seconds=float(rng.uniform(5, 25)))
                question = await service.next_question(user)
    return service


@dataclass(frozen=True, slots=True)
class Probe:
    """What the service does for the scripted probe student under one set of weights."""

    intervals: list[float]
    """Days from each item's last answer to its scheduled review."""
    recall_day: float
    """Mean predicted recall of the probe's items one day after the last answer."""
    recall_week: float
    """The same a week after."""
    at_cap: int
    """Reviews pushed to the cap of ``MAX_STRETCH`` times the interval rules' interval."""
    by_rules: int
    """Reviews the interval rules timed (the model doubted the item right after the answer)."""


async def probe(
    database: Path,
    weights: Path | None,
    workdir: Path,
    *,
    answers: int = 12,
    target: float = 0.97,
    wrong_every: int = 0,
    seed: int = 0,
) -> Probe:
    """The reviews the service schedules for one scripted new student on a copy of
    ``database`` served by ``weights``: on day 0, 1 and 3 a quiz, every answer right but
    every ``wrong_every``-th of a day (0: none), the same answers whatever the weights (the
    service picks the questions). The probe's target recall is ``target`` (a student's
    setting, 0.7-0.97). Item tallies come from the deployment's students."""
    from storage import content as content_rows
    from tutor.convert import item_from_record
    from tutor.learner import ModelMemory

    copy = workdir / f"probe-{'bundled' if weights is None else weights.stem}.sqlite3"
    source = await Database.open_read_only(database)
    try:
        await source.backup(copy)
    finally:
        await source.close()
    clock = SimClock(START + timedelta(days=60))
    memory = ModelMemory(weights)
    memory.load()  # here, not inside the first answer's transaction
    db = await Database.open(copy)
    try:
        service = TutorService(db, clock=clock, seed=seed, memory=memory)
        await service.register(PROBE_USER, PROBE_USER, "probe", "en")
        await service.enrol(PROBE_USER, DECK)
        await service.update_settings(PROBE_USER, target_retention=target)
        for day in (0, 1, 3):
            clock.now = START + timedelta(days=60 + day, hours=9)
            question = await service.start_quiz(PROBE_USER, answers)
            k = 0
            while question is not None:
                right = not wrong_every or (k + 1) % wrong_every != 0
                answer = answer_for(question, right, 3 if right else 1)
                await service.answer(PROBE_USER, question.id, answer)
                clock.now += timedelta(seconds=15)
                k += 1
                question = await service.next_question(PROBE_USER)
        async with db.read() as conn:
            rows = await attempt_rows.enrolled_memory(conn, PROBE_USER)
            seen = {row.item_id for row in rows}
            items = [
                item_from_record(record)
                for record in await content_rows.enrolled_items(conn, PROBE_USER)
                if record.id in seen
            ]
            predictor = await memory.predictor(conn, PROBE_USER, items)
        ids = np.array([item.id for item in items], np.int64)
        last = clock.now.timestamp()
        day_after = predictor.recall_at(ids, np.full(len(ids), last + 86_400.0))
        week_after = predictor.recall_at(ids, np.full(len(ids), last + 7 * 86_400.0))
    finally:
        await db.close()
    intervals = [(r.due_ms - r.last_ms) / 86_400_000 for r in rows]
    return Probe(
        intervals=intervals,
        at_cap=sum(
            abs(i - r.interval_days * MAX_STRETCH) < 1e-6
            for i, r in zip(intervals, rows, strict=True)
        ),
        by_rules=sum(abs(i - r.interval_days) < 1e-6 for i, r in zip(intervals, rows, strict=True)),
        recall_day=float(np.mean(day_after)),
        recall_week=float(np.mean(week_after)),
    )
