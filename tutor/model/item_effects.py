"""Item-level effects beyond an item's smoothed difficulty, from other learners' answers.

Two residual sums per item (and per tag, as the item's prior), each turned into an input by
one Newton step from zero, like the ability-adjusted difficulty of :mod:`tutor.model.ability`:

- **against the tags** (``item_tag_irt``): ``correct - q`` where ``q`` is the answering
  learner's smoothed running accuracy on the item's tags before the answer. An item failed by
  learners who master its tags is hard *for its tags*, which neither the item's rate nor the
  learner's overall ability tells.
- **by ability** (``item_disc``): how much the item separates strong from weak learners, a
  slope on the ability logit ``a = logit(p)`` (``p`` as in :func:`ability`): summed
  ``(correct - p) a`` over summed ``p (1 - p) a^2``, shrunk toward the tags' slope by count.
  The input is that slope times the learner's own ability logit before the attempt, so an item
  that only strong learners get right is predicted higher for them and lower for the others.

Training and the benchmark walk logs; the service does not keep these sums (they would need
per-item and per-tag columns, i.e. a schema change), so only benchmark variants use them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tutor.model.ability import ability
from tutor.model.learner_log import LearnerLog
from tutor.model.transfer import PairTallies

F64 = npt.NDArray[np.float64]
#: Pseudo-variance of the Newton steps: few answers give a small effect.
EFFECT_PRIOR = 2.0
#: Inputs of this module (``TrainConfig.extra_features``).
ITEM_EFFECTS: tuple[str, ...] = ("item_tag_irt", "item_disc")


def _logit(p: float) -> float:
    return math.log(p) - math.log1p(-p)


def effect_residuals(log: LearnerLog) -> tuple[list[float], list[float], list[float], list[float]]:
    """Per answer of ``log``: the tag residual and variance (``correct - q``, ``q (1 - q)``)
    and the ability-slope residual and variance (``(correct - p) a``, ``p (1 - p) a^2``)."""
    tr: list[float] = []
    tv: list[float] = []
    sr: list[float] = []
    sv: list[float] = []
    right = total = 0.0
    tags: dict[int, list[float]] = {}
    for y, skills in zip(log.correct.tolist(), log.skills, strict=True):
        c = n = 0.0
        for s in skills:
            rec = tags.get(s)
            if rec is not None:
                c += rec[0]
                n += rec[1]
        q = ability(c, n)
        tr.append(y - q)
        tv.append(q * (1.0 - q))
        p = ability(right, total)
        a = _logit(p)
        sr.append((y - p) * a)
        sv.append(p * (1.0 - p) * a * a)
        right += y
        total += 1.0
        for s in skills:
            rec = tags.setdefault(s, [0.0, 0.0])
            rec[0] += y
            rec[1] += 1.0
    return tr, tv, sr, sv


def ability_logits(log: LearnerLog) -> F64:
    """The learner's ability logit before every attempt (from their earlier answers only)."""
    y = log.correct.astype(np.float64)
    right = np.concatenate([[0.0], np.cumsum(y)[:-1]])
    total = np.arange(len(y), dtype=np.float64)
    p = ability(right, total)
    return np.asarray(np.log(p) - np.log1p(-p), dtype=np.float64)


@dataclass(slots=True)
class EffectSums:
    """The residual sums of a set of learners, per item and per tag (keys: ``tr``, ``tv``,
    ``sr``, ``sv`` as in :func:`effect_residuals`), and their item-pair tallies
    (:mod:`tutor.model.transfer`)."""

    item: dict[int, list[float]] = field(default_factory=dict)
    tag: dict[int, list[float]] = field(default_factory=dict)
    pairs: PairTallies = field(default_factory=PairTallies)

    @classmethod
    def from_logs(cls, logs: Sequence[LearnerLog]) -> EffectSums:
        sums = cls()
        for log in logs:
            sums.add(log, 1.0)
        return sums

    def add(self, log: LearnerLog, sign: float) -> None:
        """Add (``sign=1``) or take out (``sign=-1``) one learner's answers."""
        self.pairs.add(log, sign)
        for item, skills, *vals in zip(
            log.items.tolist(), log.skills, *effect_residuals(log), strict=True
        ):
            rec = self.item.setdefault(item, [0.0, 0.0, 0.0, 0.0])
            for k, v in enumerate(vals):
                rec[k] += sign * v
            for s in skills:
                srec = self.tag.setdefault(s, [0.0, 0.0, 0.0, 0.0])
                for k, v in enumerate(vals):
                    srec[k] += sign * v


_ZERO = (0.0, 0.0, 0.0, 0.0)


def effect_columns(
    log: LearnerLog, sums: EffectSums, names: Sequence[str], *, leave_out: bool
) -> dict[str, F64]:
    """The ``names`` inputs (of :data:`ITEM_EFFECTS`) of every attempt of ``log``; with
    ``leave_out`` the learner's own answers are taken out of ``sums`` first."""
    own = EffectSums.from_logs([log]) if leave_out else EffectSums()
    cache: dict[tuple[int, tuple[int, ...]], tuple[float, float]] = {}
    tag_irt = np.zeros(len(log))
    slope = np.zeros(len(log))
    for t, (item, skills) in enumerate(zip(log.items.tolist(), log.skills, strict=True)):
        key = (item, skills)
        got = cache.get(key)
        if got is None:
            rec, mine = sums.item.get(item, _ZERO), own.item.get(item, _ZERO)
            tr, tv, sr, sv = (a - b for a, b in zip(rec, mine, strict=True))
            tag_sr = tag_sv = 0.0
            for s in skills:
                trec, tmine = sums.tag.get(s, _ZERO), own.tag.get(s, _ZERO)
                tag_sr += trec[2] - tmine[2]
                tag_sv += max(trec[3] - tmine[3], 0.0)
            tag_slope = tag_sr / (tag_sv + EFFECT_PRIOR)
            got = (
                tr / (max(tv, 0.0) + EFFECT_PRIOR),
                (sr + EFFECT_PRIOR * tag_slope) / (max(sv, 0.0) + EFFECT_PRIOR),
            )
            cache[key] = got
        tag_irt[t], slope[t] = got
    out: dict[str, F64] = {}
    if "item_tag_irt" in names:
        out["item_tag_irt"] = tag_irt
    if "item_disc" in names:
        out["item_disc"] = np.clip(slope, -1.0, 1.0) * ability_logits(log)
    return out
