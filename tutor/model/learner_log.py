"""Learner logs in a columnar form: what the learner model reads, in training and in service
(the benchmark and its baselines read the same type)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class LearnerLog:
    """One learner's attempts in time order.

    ``items`` and ``skills`` hold dataset-local integer ids. ``skills[t]`` lists the tags of
    attempt ``t`` (possibly empty). Optional columns are ``None`` when a dataset lacks them:
    ``timestamps`` in Unix seconds, ``grades`` 1-4 (Anki buttons), ``durations_ms`` answer
    time, ``n_options`` the number of choices offered (0 = free recall), ``self_graded``
    whether the attempt's item is graded by the learner (a flashcard; ``None``: every attempt
    is when the log has grades, as in Anki logs).

    ``eval_mask`` marks the attempts that count in the metrics (``None`` = all of them; the
    per-learner time split scores only later attempts). ``split_points`` are the attempt
    indices where a time split starts a new test chunk: a predictor that fits parameters to
    this learner may refit at each of them from the attempts before it.
    """

    user: str
    items: IntArray
    skills: tuple[tuple[int, ...], ...]
    correct: npt.NDArray[np.int8]
    timestamps: FloatArray | None = None
    grades: npt.NDArray[np.int8] | None = None
    durations_ms: FloatArray | None = None
    n_options: npt.NDArray[np.int8] | None = None
    self_graded: npt.NDArray[np.bool_] | None = None
    eval_mask: npt.NDArray[np.bool_] | None = None
    split_points: tuple[int, ...] = ()

    def __len__(self) -> int:
        return int(self.items.shape[0])
