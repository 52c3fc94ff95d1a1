"""Checks run before the bot starts serving, so a broken install fails at start-up, not mid-quiz."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.settings import Settings


class StartupError(Exception):
    """The bot cannot start; the message says what is wrong and what to do."""


def check_model(settings: Settings, loader: Callable[[Path | None], Any] | None = None) -> Any:
    """Load the learner model's weights once; raise :class:`StartupError` if they do not load.

    Returns the loaded model, so the caller can keep it instead of loading it again.
    """
    if loader is None:
        from tutor.model.online import LearnerModel

        loader = LearnerModel.load
    where = str(settings.model_path) if settings.model_path else "the bundled weights"
    try:
        return loader(settings.model_path)
    except Exception as error:  # ModelLoadError, or whatever a damaged file provokes
        hint = (
            "check METATUTOR_MODEL"
            if settings.model_path
            else "reinstall the package or set METATUTOR_MODEL"
        )
        # torch's messages run over many lines; the operator needs one.
        reason = " ".join(str(error).split())
        if len(reason) > 300:
            reason = reason[:297] + "..."
        raise StartupError(
            f"the learner model cannot be loaded from {where}: {reason}; {hint}"
        ) from error
