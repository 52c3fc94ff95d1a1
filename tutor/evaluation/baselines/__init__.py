"""Baseline predictors of the benchmark (one module each)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def register_baselines(register: Callable[..., None]) -> None:
    """Register every baseline with ``register(name, factory, timestamped_only=...)``."""
    from tutor.evaluation.baselines.best_lr import BestLR
    from tutor.evaluation.baselines.dkt import DKT
    from tutor.evaluation.baselines.elo import Elo
    from tutor.evaluation.baselines.fsrs6 import FSRS6Default, FSRS6PerUser
    from tutor.evaluation.baselines.global_mean import GlobalMean
    from tutor.evaluation.baselines.hlr import HLR
    from tutor.evaluation.baselines.item_mean import ItemMean

    factories: list[tuple[str, Callable[[], Any], bool]] = [
        ("global_mean", GlobalMean, False),
        ("item_mean", ItemMean, False),
        ("elo", Elo, False),
        ("best_lr", BestLR, False),
        ("dkt", DKT, False),
        ("fsrs6_default", FSRS6Default, True),
        ("fsrs6_user", FSRS6PerUser, True),
        ("hlr", HLR, True),
    ]
    for name, factory, timed in factories:
        register(name, factory, timestamped_only=timed)
