"""Ability-adjusted difficulty: the optional extra inputs and the residual sums behind them.

An item that strong learners fail is hard even if its raw success rate is high. Each answer
adds ``correct - p`` and ``p (1 - p)`` to its item's and tags' sums, ``p`` being the learner's
smoothed running accuracy before it (:func:`ability`); one Newton step of a Rasch offset
(:func:`irt_step`) turns the sums into the ``item_irt`` / ``skill_irt`` inputs. Training walks
logs (:func:`ability_residuals`), the service keeps the sums in SQL (``storage.attempts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from tutor.model.learner_log import LearnerLog

F64 = npt.NDArray[np.float64]
Num = TypeVar("Num", float, F64)


def ability(right: Num, answers: Num) -> Num:
    """A learner's ability before an answer, for the residual sums: their smoothed running
    accuracy over all their earlier answers (``storage.attempts`` computes the same from the
    per-student tally in SQL)."""
    return (right + 1.0) / (answers + 2.0)


def ability_residuals(log: LearnerLog) -> tuple[list[float], list[float]]:
    """Per answer of ``log``: ``correct - p`` and ``p (1 - p)`` where ``p`` is the learner's
    ability before the answer, their smoothed running accuracy ``(right + 1) / (answers + 2)``
    (the ``u_acc_logit`` feature). Summed over an item's answers they give an Elo-style,
    ability-adjusted difficulty: an item that strong learners fail is hard even if its raw
    success rate is high."""
    resid: list[float] = []
    var: list[float] = []
    right = total = 0.0
    for y in log.correct.tolist():
        p = ability(right, total)
        resid.append(y - p)
        var.append(p * (1.0 - p))
        right += y
        total += 1.0
    return resid, var


#: Optional inputs a network may be trained with (``TrainConfig.extra_features``), appended
#: after :data:`FEATURE_NAMES`; the default (and the shipped weights) use :data:`IRT_EXTRAS`.
#: ``item_irt`` / ``skill_irt``: one Newton step of a Rasch item (tag) offset relative to the
#: answerers' abilities, ``sum(correct - p) / (sum p (1 - p) + IRT_PRIOR)``, from other
#: learners' answers; ``item_resid``: the mean residual ``sum(correct - p) / (n + 5)``.
#: ``u_resid`` / ``us_resid``: the learner's own residuals against the items' smoothed success
#: rates (the ``item_logodds`` feature), over all earlier answers / those on the item's tags,
#: ``sum(correct - rate) / (n + 2)``: ability adjusted for the difficulty of what was answered.
EXTRA_FEATURES: tuple[str, ...] = ("item_irt", "skill_irt", "item_resid", "u_resid", "us_resid")
#: Extra inputs that are user-level (zeroed with the user state in the ablation);
#: ``item_disc`` (:mod:`tutor.model.item_effects`) carries the learner's ability,
#: ``item_transfer`` (:mod:`tutor.model.transfer`) their recent answers.
USER_EXTRA_FEATURES: frozenset[str] = frozenset(
    {"u_resid", "item_disc", "item_transfer", "item_transfer_n"}
)
IRT_PRIOR = 2.0
RESID_PRIOR = 2.0
#: The default extra inputs: the ability-adjusted (Rasch step) difficulty of the item and of
#: its tags, which the serving path computes from the per-item and per-tag residual sums.
IRT_EXTRAS: tuple[str, ...] = ("item_irt", "skill_irt")
#: Extra inputs :func:`build_features` computes from raw columns (the serving path's): each
#: from a residual sum and a variance sum.
IRT_SUMS: dict[str, tuple[str, str]] = {
    "item_irt": ("item_r", "item_v"),
    "skill_irt": ("skill_r", "skill_v"),
}
RAW_EXTRAS = frozenset(IRT_SUMS)


def check_raw_extras(extra: Sequence[str]) -> None:
    unknown = set(extra) - RAW_EXTRAS
    if unknown:
        raise ValueError(f"extra inputs not computed from raw columns: {sorted(unknown)}")


def irt_step(resid: F64, var: F64) -> F64:
    """One Newton step of a Rasch offset from others' summed residuals and variances:
    ``resid / (max(var, 0) + IRT_PRIOR)`` (the ``item_irt`` / ``skill_irt`` inputs)."""
    return np.asarray(resid / (np.maximum(var, 0.0) + IRT_PRIOR), np.float64)
