"""One call that adds the operational pieces to the application: flood limit, /mydata and
/forget, and the JobQueue heartbeat that ``metatutor health`` reads."""

from __future__ import annotations

from typing import Any

from bot.flood import FloodGuard, register_flood_guard
from bot.handlers.privacy import register_privacy_handlers
from bot.heartbeat import install_heartbeat
from bot.settings import Settings


def install_operations(application: Any, settings: Settings, **flood_options: Any) -> FloodGuard:
    """Register the flood guard (group -75), the privacy handlers (group -40) and the heartbeat.

    Call once, after the application is built (e.g. at the end of ``build_application``).
    The heartbeat needs a JobQueue; without one it is left out.
    """
    guard = register_flood_guard(application, **flood_options)
    register_privacy_handlers(application)
    if application.job_queue is not None and str(settings.database) != ":memory:":
        install_heartbeat(application, settings.database)
    return guard
