"""The study policy: which item next, exam planning and reminder timing (pure functions)."""

from tutor.policy.exam import expected_exam_recall, with_exam_forecast
from tutor.policy.next_item import choose_next
from tutor.policy.plan import build_candidates, exam_outlook, pick_next
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
    "build_candidates",
    "choose_next",
    "due_times",
    "exam_outlook",
    "expected_exam_recall",
    "expected_recall_after_review",
    "next_daily_quiz",
    "next_nudge",
    "pick_next",
    "with_exam_forecast",
]
