"""A student's numbers for /stats, computed from their attempts and item memory."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

from storage.records import MemoryRecord
from tutor.clock import from_millis, zone
from tutor.forecast import project_exam_recall
from tutor.intervals import estimated_recall
from tutor.items import Item
from tutor.students import Student
from tutor.views import DayCount, DeckInfo, ExamForecast, StudentStats, TagRecall

CHART_DAYS = 14
FORECAST_DAYS = 7
SECONDS_PER_ANSWER = 15.0
HIGHER_PACE = 1.6


def _local_day(millis: int, tz_name: str) -> date:
    return from_millis(millis).astimezone(zone(tz_name)).date()


def _streak(days_with_answers: set[date], today: date) -> int:
    """Consecutive days with answers, ending today (or yesterday, if today has none yet)."""
    day = today if today in days_with_answers else today - timedelta(days=1)
    streak = 0
    while day in days_with_answers:
        streak += 1
        day -= timedelta(days=1)
    return streak


def compute_stats(
    *,
    student: Student,
    now: datetime,
    history: Sequence[tuple[int, bool, int]],
    memories: Sequence[MemoryRecord],
    items: Mapping[int, Item],
    items_total: int,
    decks: Sequence[DeckInfo],
) -> StudentStats:
    """Build the stats view. ``history`` is (answered_ms, correct, item_id), oldest first."""
    tz = student.timezone
    today = now.astimezone(zone(tz)).date()
    week_start = today - timedelta(days=6)
    per_day: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for answered_ms, correct, _ in history:
        counts = per_day[_local_day(answered_ms, tz)]
        counts[0] += 1
        counts[1] += int(correct)
    week = [per_day[d] for d in per_day if d >= week_start]
    answers_week = sum(c[0] for c in week)
    correct_week = sum(c[1] for c in week)
    chart_days = [today - timedelta(days=i) for i in range(CHART_DAYS - 1, -1, -1)]

    now_ms = int(now.timestamp() * 1000)
    recall_of: dict[int, float] = {}
    for memory in memories:
        elapsed = (now_ms - memory.last_ms) / 86_400_000
        recall_of[memory.item_id] = estimated_recall(
            memory.interval_days, elapsed, student.target_retention
        )
    by_tag: dict[str, list[float]] = defaultdict(list)
    for item_id, recall in recall_of.items():
        item = items.get(item_id)
        for tag in item.tags if item else ():
            by_tag[tag.split("::")[0]].append(recall)
    tag_recall = sorted(
        (TagRecall(tag, sum(values) / len(values), len(values)) for tag, values in by_tag.items()),
        key=lambda entry: (-entry.n_items, entry.tag),
    )[:12]

    due_forecast = []
    for offset in range(FORECAST_DAYS):
        day = today + timedelta(days=offset)
        due_forecast.append(
            (day, sum(1 for m in memories if _local_day(m.due_ms, tz) <= day and m.due_ms > 0))
        )

    exams = []
    for info in decks:
        if info.exam_date is None or info.exam_date <= today:
            continue
        days_left = (info.exam_date - today).days
        seen = [
            (m.interval_days, (now_ms - m.last_ms) / 86_400_000, m.n_correct)
            for m in memories
            if (item := items.get(m.item_id)) is not None and item.deck_id == info.deck.id
        ]
        unseen = max(info.n_items - len(seen), 0)
        pace = student.daily_goal
        higher = max(pace + 1, round(pace * HIGHER_PACE))
        exams.append(
            ExamForecast(
                deck_name=info.deck.name,
                exam_date=info.exam_date,
                expected_recall=project_exam_recall(
                    seen, unseen, days_left, pace, student.target_retention
                ),
                minutes_per_day=pace * SECONDS_PER_ANSWER / 60,
                higher_minutes_per_day=higher * SECONDS_PER_ANSWER / 60,
                higher_expected_recall=project_exam_recall(
                    seen, unseen, days_left, higher, student.target_retention
                ),
            )
        )

    return StudentStats(
        answers_today=per_day[today][0] if today in per_day else 0,
        answers_week=answers_week,
        accuracy_week=correct_week / answers_week if answers_week else None,
        streak_days=_streak({d for d, c in per_day.items() if c[0]}, today),
        items_learned=sum(1 for m in memories if m.n_correct > 0 and m.last_correct),
        items_total=items_total,
        per_day=[
            DayCount(d, per_day[d][0], per_day[d][1]) if d in per_day else DayCount(d, 0, 0)
            for d in chart_days
        ],
        recall_by_tag=tag_recall,
        due_forecast=due_forecast,
        exams=exams,
    )
