"""A student's /stats read from the database: history, the model's recall, exam forecasts.

The numbers themselves are computed by the pure :func:`tutor.stats.compute_stats`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np

from storage import Database
from storage import attempts as attempt_rows
from storage import content as content_rows
from storage import enrolments as enrolment_rows
from tutor.clock import exam_instant, to_millis
from tutor.item_cache import ItemCache
from tutor.learner import MemoryModel, last_seen_map
from tutor.policy.plan import exam_outlook
from tutor.stats import HIGHER_PACE, answer_seconds, compute_stats
from tutor.students import Student
from tutor.views import ExamForecast, StudentStats

HISTORY_DAYS = 400
"""How far back /stats reads a student's attempts."""


async def read_stats(
    db: Database, items: ItemCache, memory: MemoryModel, student: Student, now: datetime
) -> StudentStats:
    """Numbers for /stats of ``student`` at ``now``, with ``memory``'s recall predictions."""
    user_id = student.id
    async with db.read() as conn:
        since = to_millis(now - timedelta(days=HISTORY_DAYS))
        history = await attempt_rows.attempts_since(conn, user_id, since)
        memories = await attempt_rows.enrolled_memory(conn, user_id)
        enrolled = await items.enrolled(conn, user_id)
        seconds = answer_seconds(await attempt_rows.recent_latencies(conn, user_id))
        # Only the exam decks' names: listing every deck counts all enrolments (slow at scale).
        exam_decks = []
        for enrolment in await enrolment_rows.enrolments(conn, user_id):
            if enrolment.exam_date is None:
                continue
            deck = await content_rows.get_deck(conn, enrolment.deck_id)
            if deck is not None:
                exam_decks.append((deck, date.fromisoformat(enrolment.exam_date)))
        exam_decks.sort(key=lambda pair: (not pair[0].bundled, pair[0].name, pair[0].id))
        # Without an exam forecast, only the seen items' recall is shown.
        last_seen = last_seen_map(memories)
        needed = None if exam_decks else [item for item in enrolled if item.id in last_seen]
        predictor = await memory.predictor(conn, user_id, enrolled, memories, needed=needed)
    by_id = {item.id: item for item in enrolled}
    seen = np.array([m.item_id for m in memories if m.item_id in by_id], dtype=np.int64)
    recall = predictor.recall_at(seen, np.full(seen.shape[0], now.timestamp()))
    exams = []
    for deck, exam_date in exam_decks:
        exam_at = exam_instant(exam_date, student.timezone)
        deck_items = [item for item in enrolled if item.deck_id == deck.id]
        if exam_at <= now or not deck_items:
            continue
        minutes = student.daily_goal * seconds / 60
        higher = minutes * HIGHER_PACE
        (_, at_pace), (_, at_higher) = exam_outlook(
            predictor, deck_items, last_seen, now, exam_at, [minutes, higher], seconds
        )
        exams.append(ExamForecast(deck.name, exam_date, at_pace, minutes, higher, at_higher))
    return compute_stats(
        student=student,
        now=now,
        history=history,
        memories=memories,
        recall_of=dict(zip(seen.tolist(), recall.tolist(), strict=True)),
        items=by_id,
        items_total=len(enrolled),
        exams=exams,
    )
