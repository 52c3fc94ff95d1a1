"""STAND-IN for the group question policy, until ``tutor.policy.group_plan`` lands.

The group policy proper (expected gain in recall at the horizon or the exam, per member,
weighted by each member's answer probability) is written on another branch as
``tutor/policy/group.py`` and ``tutor/policy/group_plan.py``. This module has the same call
signature (:func:`pick_group_quiz`, :class:`Member`, :class:`GroupSettings`,
:class:`GroupChoice`, :class:`GroupReason`, :func:`recent_weights`) so the service's one
import can switch to it; meanwhile it chooses by a simpler rule:

    G[i] = sum over members m of weight[m] * (1 - p_now[m, i]),

counting only members to whom item ``i`` is new or whose recall is below the target, never
an item twice in a quiz, ties broken by a seeded draw. The class exam only stops new items
in its last day, as private study does. Pure numpy: no torch, no Telegram, no SQL.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from tutor.items import Item
from tutor.policy.predictor import RecallPredictor
from tutor.policy.types import SECONDS_PER_DAY, require_aware, to_seconds

MIN_GROUP_GAIN = 1e-3


class GroupReason(enum.StrEnum):
    """Why a group question was chosen (the bot says e.g. "due for 7 of 12")."""

    DUE_FOR_MANY = "due_for_many"
    NEW_TO_MANY = "new_to_many"
    WEAK_FOR_MANY = "weak_for_many"
    EXAM_PRIORITY = "exam_priority"
    PRACTICE = "practice"


@dataclass(frozen=True, slots=True)
class GroupSettings:
    """The group's study settings: the due and weak thresholds and the class exam."""

    target_retention: float = 0.9
    weak_recall: float = 0.5
    exam_at: datetime | None = None
    exam_new_cutoff_days: float = 1.0


@dataclass(frozen=True, slots=True)
class Member:
    """A recent member: their learner model's predictor (it must know every item passed),
    the items they answered (last time), and their answer probability."""

    predictor: RecallPredictor
    last_seen: Mapping[int, datetime]
    weight: float


@dataclass(frozen=True, slots=True)
class GroupChoice:
    """One question and why: ``count`` of ``audience`` members are what ``reason`` says."""

    item_id: int
    reason: GroupReason
    count: int
    audience: int
    gain: float
    new: int
    weak: int
    due: int


def recent_weights(answered: Mapping[int, Sequence[bool]]) -> dict[int, float]:
    """Answer probabilities by member from their record over recent quizzes (oldest first):
    answered share with a uniform prior, (answered + 1) / (quizzes + 2)."""
    return {m: (sum(record) + 1.0) / (len(record) + 2.0) for m, record in answered.items()}


def pick_group_quiz(
    members: Sequence[Member],
    items: Sequence[Item],
    n: int,
    now: datetime,
    rng: np.random.Generator,
    per_day: float | None = None,
    settings: GroupSettings | None = None,
    asked: Sequence[int] = (),
    shortlist: int | None = None,
) -> list[GroupChoice]:
    """Up to ``n`` of ``items`` for the group, in the order to ask them (see the module)."""
    settings = settings or GroupSettings()
    t_now = to_seconds(require_aware(now, "now"))
    ids = np.array([item.id for item in items], dtype=np.int64)
    m, k = len(members), ids.shape[0]
    if k == 0:
        return []
    weight = np.array([member.weight for member in members], dtype=np.float64)
    seen = np.array([[int(i) in mb.last_seen for i in ids] for mb in members], bool)
    seen = seen.reshape(m, k)
    p_now = np.zeros((m, k))
    for row, member in enumerate(members):
        p_now[row] = np.clip(member.predictor.recall_at(ids, np.full(k, t_now)), 0.0, 1.0)
    p_now = np.where(seen, p_now, 0.0)
    days_left = None
    if settings.exam_at is not None:
        left = (to_seconds(settings.exam_at) - t_now) / SECONDS_PER_DAY
        days_left = left if left > 0 else None
    useful = ~seen | (p_now < settings.target_retention)
    if days_left is not None and days_left < settings.exam_new_cutoff_days:
        useful &= seen
    gain_mi = np.where(useful, 1.0 - p_now, 0.0)
    gain = weight @ gain_mi if m else np.zeros(k)
    key = np.where(gain > MIN_GROUP_GAIN, -gain, 1.0 + np.arange(k) / k)
    key = key + rng.random(k) * 1e-9
    free = ~np.isin(ids, np.asarray(list(asked), dtype=np.int64))
    ranked = np.flatnonzero(free)[np.argsort(key[free], kind="stable")][:n]
    audience = weight > 0
    out = []
    for col in ranked.tolist():
        new = int((audience & ~seen[:, col]).sum())
        weak = int((audience & seen[:, col] & (p_now[:, col] < settings.weak_recall)).sum())
        due = int(
            (
                audience
                & seen[:, col]
                & (p_now[:, col] >= settings.weak_recall)
                & (p_now[:, col] < settings.target_retention)
            ).sum()
        )
        counts = {
            GroupReason.NEW_TO_MANY: new,
            GroupReason.WEAK_FOR_MANY: weak,
            GroupReason.DUE_FOR_MANY: due,
        }
        reason = max(counts, key=lambda r: counts[r])
        count = counts[reason]
        if float(gain[col]) <= MIN_GROUP_GAIN or count == 0:
            reason, count = GroupReason.PRACTICE, int(audience.sum())
        elif days_left is not None:
            reason = GroupReason.EXAM_PRIORITY
        out.append(
            GroupChoice(
                int(ids[col]), reason, count, int(audience.sum()), float(gain[col]), new, weak, due
            )
        )
    return out
