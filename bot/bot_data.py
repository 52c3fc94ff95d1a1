"""Names of what the application keeps in ``bot_data`` for handlers and jobs alike.

Kept apart from ``bot.handlers`` so that jobs (reminders, group quizzes) can read the
service without importing the handler package, which imports them in turn.
"""

from __future__ import annotations

SERVICE_KEY = "service"
"""The :class:`tutor.service.TutorService` every handler and job uses."""
