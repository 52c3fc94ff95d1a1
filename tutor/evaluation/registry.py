"""Predictors the benchmark can run, by name.

Baselines register here; the learner model registers its predictors from
``tutor/model/bench.py`` (imported on first use, if it exists)::

    from tutor.evaluation.registry import register_predictor
    register_predictor("metatutor", lambda: MetatutorPredictor(...))
    register_predictor("metatutor_noadapt", lambda: MetatutorPredictor(adapt=False))
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from tutor.evaluation.logs import Predictor

PredictorFactory = Callable[[], Predictor]
MODEL_MODULE = "tutor.model.bench"


@dataclass(frozen=True, slots=True)
class Entry:
    """A registered predictor: how to build it and which datasets it applies to."""

    name: str
    factory: PredictorFactory
    timestamped_only: bool
    in_default: bool = True


_REGISTRY: dict[str, Entry] = {}
_state = {"loaded": False}


def register_predictor(
    name: str,
    factory: PredictorFactory,
    *,
    timestamped_only: bool = False,
    in_default: bool = True,
) -> None:
    """Register (or replace) a predictor under ``name``.

    Args:
        name: Model name used in reports and ``--models``.
        factory: Builds a fresh, unfitted predictor (called once per dataset).
        timestamped_only: Run it only on datasets with timestamps.
        in_default: Run it when no ``--models`` are given (else only when named).
    """
    _REGISTRY[name] = Entry(name, factory, timestamped_only, in_default)


def _load_defaults() -> None:
    if _state["loaded"]:
        return
    _state["loaded"] = True
    from tutor.evaluation.baselines import register_baselines

    register_baselines(register_predictor)
    try:
        importlib.import_module(MODEL_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name not in (MODEL_MODULE, "tutor.model"):
            raise


def available_predictors() -> dict[str, Entry]:
    """All registered predictors, baselines first, in registration order."""
    _load_defaults()
    return dict(_REGISTRY)
