"""A student's numbers for /stats, computed from their attempts and item memory."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

from storage.records import MemoryRecord
from tutor.clock import from_millis, zone
from tutor.items import Item
from tutor.students import Student
from tutor.views import DayCount, ExamForecast, StudentStats, TagRecall

CHART_DAYS = 14
FORECAST_DAYS = 7
DEFAULT_SECONDS_PER_ANSWER = 12.0
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
    recall_of: Mapping[int, float],
    items: Mapping[int, Item],
    items_total: int,
    exams: Sequence[ExamForecast],
) -> StudentStats:
    """Build the stats view.

    ``history`` is (answered_ms, correct, item_id), oldest first; ``recall_of`` the predicted
    recall now of each seen item; ``exams`` the forecasts of the student's exam decks.
    """
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
        due_forecast.append((day, sum(1 for m in memories if _local_day(m.due_ms, tz) <= day)))

    return StudentStats(
        answers_today=per_day[today][0] if today in per_day else 0,
        answers_week=answers_week,
        accuracy_week=correct_week / answers_week if answers_week else None,
        streak_days=_streak({d for d, c in per_day.items() if c[0]}, today),
        items_learned=sum(
            1 for m in memories if m.last_correct and recall_of.get(m.item_id, 0.0) >= 0.5
        ),
        items_total=items_total,
        per_day=[
            DayCount(d, per_day[d][0], per_day[d][1]) if d in per_day else DayCount(d, 0, 0)
            for d in chart_days
        ],
        recall_by_tag=tag_recall,
        due_forecast=due_forecast,
        exams=list(exams),
    )


def answer_seconds(latencies_ms: Sequence[int]) -> float:
    """A student's typical seconds per answer: the median latency, within 4-60 s."""
    if not latencies_ms:
        return DEFAULT_SECONDS_PER_ANSWER
    ordered = sorted(latencies_ms)
    return min(max(ordered[len(ordered) // 2] / 1000, 4.0), 60.0)
