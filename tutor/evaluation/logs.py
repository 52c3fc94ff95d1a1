"""The benchmark's view of learner logs: datasets split by learner, and the predictor
protocol. The log type itself belongs to the learner model (:mod:`tutor.model.learner_log`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from tutor.model.learner_log import FloatArray, IntArray, LearnerLog

__all__ = ["Dataset", "FloatArray", "IntArray", "LearnerLog", "Predictor", "TransferPredictor"]


@dataclass(frozen=True, slots=True)
class Dataset:
    """A train/test split by learner (never by row)."""

    name: str
    train: Sequence[LearnerLog]
    test: Sequence[LearnerLog]
    timestamped: bool


class Predictor(Protocol):
    """A model under evaluation.

    ``predict`` returns P(correct) for every attempt of ``learner``; entry ``t`` may use the
    learner's attempts ``0..t-1`` only (and anything learned from the training learners).
    """

    name: str

    def fit(self, train: Sequence[LearnerLog], *, seed: int) -> None: ...

    def predict(self, learner: LearnerLog) -> FloatArray: ...


class TransferPredictor(Predictor, Protocol):
    """A predictor that can learn from other datasets (leave-one-dataset-out): its weights
    from ``sources`` (``(name, learners)`` pairs), the target's training learners only as
    answer tallies, which :meth:`set_tallies` can swap for another view's."""

    def fit_transfer(
        self,
        sources: Sequence[tuple[str, Sequence[LearnerLog]]],
        own_train: Sequence[LearnerLog],
        *,
        seed: int,
    ) -> None: ...

    def set_tallies(self, logs: Sequence[LearnerLog]) -> None: ...
