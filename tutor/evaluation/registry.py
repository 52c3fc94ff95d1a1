"""Predictors the benchmark can run, by name.

Baselines register here, and the learner model's predictors from
:mod:`tutor.evaluation.learner_model` (imported on first use): the benchmark knows the model,
the model knows nothing of the benchmark.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from tutor.evaluation.logs import Predictor

PredictorFactory = Callable[[], Predictor]
MODEL_MODULE = "tutor.evaluation.learner_model"


@dataclass(frozen=True, slots=True)
class Entry:
    """A registered predictor: how to build it and which datasets it applies to."""

    name: str
    factory: PredictorFactory
    timestamped_only: bool
    in_default: bool = True
    #: fitted on the *other* datasets' training learners (leave-one-dataset-out, see
    #: :mod:`tutor.evaluation.leave_one_out`), the dataset's own only for item tallies
    transfer: bool = False


_REGISTRY: dict[str, Entry] = {}
_state = {"loaded": False}


def register_predictor(
    name: str,
    factory: PredictorFactory,
    *,
    timestamped_only: bool = False,
    in_default: bool = True,
    transfer: bool = False,
) -> None:
    """Register (or replace) a predictor under ``name``.

    Args:
        name: Model name used in reports and ``--models``.
        factory: Builds a fresh, unfitted predictor (called once per dataset).
        timestamped_only: Run it only on datasets with timestamps.
        in_default: Run it when no ``--models`` are given (else only when named).
        transfer: Fit it with ``fit_transfer(sources, own_train, seed=...)``: trained on
            the other datasets, the dataset's own training learners giving tallies only.
    """
    _REGISTRY[name] = Entry(name, factory, timestamped_only, in_default, transfer)


def _load_defaults() -> None:
    if _state["loaded"]:
        return
    _state["loaded"] = True
    from tutor.evaluation.baselines import register_baselines

    register_baselines(register_predictor)
    importlib.import_module(MODEL_MODULE)


def available_predictors() -> dict[str, Entry]:
    """All registered predictors, baselines first, in registration order."""
    _load_defaults()
    return dict(_REGISTRY)
