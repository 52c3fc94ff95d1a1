"""The study policy: which item next, exam planning and reminder timing (pure functions)."""

from tutor.policy.exam import expected_exam_recall, with_exam_forecast
from tutor.policy.next_item import choose_next
from tutor.policy.predictor import RecallPredictor, due_times, expected_recall_after_review
from tutor.policy.reminders import ReminderSettings, next_daily_quiz, next_nudge
from tutor.policy.types import (
    Candidates,
    Choice,
    Reason,
    SessionHistory,
    StudySettings,
    TodayCounts,
)

__all__ = [
    "Candidates",
    "Choice",
    "Reason",
    "RecallPredictor",
    "ReminderSettings",
    "SessionHistory",
    "StudySettings",
    "TodayCounts",
    "choose_next",
    "due_times",
    "expected_exam_recall",
    "expected_recall_after_review",
    "next_daily_quiz",
    "next_nudge",
    "with_exam_forecast",
]
