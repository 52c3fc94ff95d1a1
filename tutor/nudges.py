"""Nudges between daily quizzes: when enough of a student's items are about to be forgotten."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from storage import attempts as attempt_rows
from storage import content as content_rows
from tutor.convert import item_from_record
from tutor.policy.reminders import ReminderSettings, next_nudge
from tutor.service import TutorService
from tutor.students import Student

MIN_AT_RISK = 3
MAX_AT_RISK = 10


def at_risk_threshold(n_seen: int) -> int:
    """How many items must be at risk before a nudge: a third of what was seen, 3 to 10."""
    return max(MIN_AT_RISK, min(MAX_AT_RISK, n_seen // 3))


class PolicyNudges:
    """The reminder job's source of nudge times: the policy on the memory model's predictions."""

    def __init__(self, service: TutorService) -> None:
        self.service = service

    async def next_nudge(self, student: Student, now: datetime) -> datetime | None:
        """The first time the student's at-risk items reach the threshold, in their window."""
        async with self.service.db.read() as conn:
            memories = await attempt_rows.enrolled_memory(conn, student.id)
            if len(memories) < MIN_AT_RISK:
                return None
            records = await content_rows.get_items(conn, [m.item_id for m in memories])
            items = [item_from_record(record) for record in records.values()]
            predictor = await self.service.memory.predictor(conn, student.id, items, memories)
        settings = ReminderSettings(
            timezone=student.timezone,
            at_risk_threshold=at_risk_threshold(len(items)),
            target_retention=student.target_retention,
        )
        if student.quiet_hours is not None:
            settings = ReminderSettings(
                timezone=student.timezone,
                quiet_start=student.quiet_hours.start,
                quiet_end=student.quiet_hours.end,
                at_risk_threshold=settings.at_risk_threshold,
                target_retention=student.target_retention,
            )
        ids = np.array([item.id for item in items], dtype=np.int64)
        return next_nudge(predictor, ids, now, settings)
