"""Test helper: lift the per-user flood limit (scripted users press faster than people)."""

from __future__ import annotations

from typing import Any

from bot.flood import FLOOD_KEY, FloodGuard, TokenBuckets, register_flood_guard

_PLENTY = 1_000_000


def unlimited(application: Any) -> None:
    """Let every update through: loosen the application's flood guard, or add a loose one."""
    guard = application.bot_data.get(FLOOD_KEY)
    if isinstance(guard, FloodGuard):
        guard.buckets = TokenBuckets(_PLENTY, float(_PLENTY))
    else:
        register_flood_guard(application, burst=_PLENTY, per_second=float(_PLENTY))
