"""Question choice for a group quiz: the items whose review helps the members most.

In a group every question is asked of everyone at once, and each member who answers learns
from it. For member ``m`` (a row) and item ``i`` (a column) the gain of asking ``i`` now is
what a review now adds to ``m``'s expected recall at the horizon (the exam, or sooner the
group's next chance to ask the item again)::

    gain[m, i] = max(0, p_reviewed[m, i] - base[m, i])
    base[m, i] = p_horizon[m, i] if m has seen i else 0

and the group's gain is that summed over members, each weighted by the probability that
they answer (``weight[m]``, see :func:`answer_probability`)::

    G[i] = sum_m weight[m] * gain[m, i]

An item new to a member gains what one sight leaves at the horizon; an item everyone knows
well gains almost nothing. New items are not counted for anyone within
``exam_new_cutoff_days`` of the exam, as in private study. A quiz asks the items of
largest ``G`` in turn, never one twice, preferring a tag other than the last one's among the
leading few (interleaving, as private study does); ties fall to a seeded random draw. When
no item gains anything worth asking (``MIN_GROUP_GAIN``) the rest of the quiz is practice:
the items the members recall least, in deck order among equals.

Pure numpy: no torch, no Telegram, no SQL. :mod:`tutor.policy.group_plan` builds the inputs
from the members' learner models.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from tutor.policy.next_item import INTERLEAVE_WINDOW
from tutor.policy.types import (
    SECONDS_PER_DAY,
    BoolArray,
    FloatArray,
    IntArray,
    require_aware,
    to_seconds,
)

#: Group gains (recall summed over members) below this are noise, not a reason to ask.
MIN_GROUP_GAIN = 1e-3
#: A member "gains" from an item (for the reason's count) when their gain reaches this.
MEMBER_GAIN = 0.01


class GroupReason(enum.StrEnum):
    """Why a group question was chosen (the bot says e.g. "due for 7 of 12")."""

    DUE_FOR_MANY = "due_for_many"
    NEW_TO_MANY = "new_to_many"
    WEAK_FOR_MANY = "weak_for_many"
    EXAM_PRIORITY = "exam_priority"
    PRACTICE = "practice"


@dataclass(frozen=True, slots=True)
class GroupSettings:
    """The group's study settings.

    ``target_retention`` marks a seen item as due for a member when their recall is below it,
    ``weak_recall`` as weak when below that; ``exam_at`` is the class exam (aware), if any.
    """

    target_retention: float = 0.9
    weak_recall: float = 0.5
    exam_at: datetime | None = None
    exam_new_cutoff_days: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 < self.weak_recall < self.target_retention < 1.0:
            raise ValueError("need 0 < weak_recall < target_retention < 1")
        if self.exam_at is not None:
            require_aware(self.exam_at, "exam_at")

    def days_left(self, now: datetime) -> float | None:
        """Days until the exam (None without one, or once it is past)."""
        if self.exam_at is None:
            return None
        left = (to_seconds(self.exam_at) - to_seconds(now)) / SECONDS_PER_DAY
        return left if left > 0 else None


@dataclass(frozen=True, slots=True)
class GroupCandidates:
    """The members' predictions for the items that can be asked, columnar.

    Rows are the recent members, columns the items (in deck order). ``p_now`` is each
    member's predicted chance of answering right now (a first-sight guess where unseen);
    ``seen`` whether they have answered the item before; ``weight`` the probability that
    they answer a question of the quiz. ``p_horizon`` / ``p_reviewed`` are the recall at the
    horizon without a review (0 where unseen) and expected after a review now (NaN where
    not forecast: such an entry gains nothing); ``tag`` is a small integer per item (-1 for
    none).
    """

    item_id: IntArray
    tag: IntArray
    p_now: FloatArray
    seen: BoolArray
    weight: FloatArray
    p_horizon: FloatArray
    p_reviewed: FloatArray

    def __post_init__(self) -> None:
        n = self.item_id.shape[0]
        m = self.weight.shape[0]
        if self.tag.shape != (n,):
            raise ValueError("tag has a different length than item_id")
        for name in ("p_now", "seen", "p_horizon", "p_reviewed"):
            if getattr(self, name).shape != (m, n):
                raise ValueError(f"{name} must be (members, items) = ({m}, {n})")
        if np.any(self.weight < 0) or np.any(self.weight > 1):
            raise ValueError("weights are answer probabilities in [0, 1]")

    @property
    def n_members(self) -> int:
        """Rows."""
        return int(self.weight.shape[0])

    def __len__(self) -> int:
        return int(self.item_id.shape[0])


@dataclass(frozen=True, slots=True)
class GroupChoice:
    """One question of a group quiz and why.

    ``count`` of ``audience`` members (those with a positive weight) are what ``reason``
    says (new to it, weak or due on it; for the exam: gain from it); ``new``, ``weak`` and
    ``due`` count each kind among the audience; ``gain`` is the item's group gain ``G``.
    """

    item_id: int
    reason: GroupReason
    count: int
    audience: int
    gain: float
    new: int
    weak: int
    due: int


def group_horizon_days(days_left: float | None, n_items: int, per_day: float) -> float:
    """How far ahead a group review is valued: the exam, or sooner the group's next chance.

    Asking ``per_day`` questions a day, the group comes back to an item after about
    ``n_items / per_day`` days (polls have no relearning step, unlike a private session),
    so a review now is worth what it adds then; within that time of the exam, what it adds
    on exam day. At least one day.
    """
    cycle = max(n_items / max(per_day, 1e-9), 1.0)
    return cycle if days_left is None else float(min(days_left, cycle))


def answer_probability(
    answered: BoolArray, half_life: float = 7.0, prior: tuple[float, float] = (1.0, 1.0)
) -> FloatArray:
    """Each member's chance of answering the next quiz, from their recent record.

    ``answered`` is ``(members, quizzes)``, oldest quiz first: whether the member answered
    at least one question of it. Quizzes count less the older they are (halved every
    ``half_life`` quizzes), and a Beta ``prior`` (answered, missed) keeps a newcomer near
    its mean (1/2 by default) until their record says more.
    """
    a = np.asarray(answered, dtype=np.float64)
    q = a.shape[-1]
    decay = 0.5 ** ((q - 1 - np.arange(q)) / half_life)
    hits = (a * decay).sum(axis=-1)
    total = decay.sum() if q else 0.0
    return np.asarray((hits + prior[0]) / (total + prior[0] + prior[1]))


def member_gain(c: GroupCandidates, days_left: float | None, settings: GroupSettings) -> FloatArray:
    """``gain[m, i]`` of the module docstring, ``(members, items)``, never negative."""
    base = np.where(c.seen, np.nan_to_num(c.p_horizon, nan=0.0), 0.0)
    gain = np.nan_to_num(np.maximum(c.p_reviewed - base, 0.0), nan=0.0)
    if days_left is not None and days_left < settings.exam_new_cutoff_days:
        gain = np.where(c.seen, gain, 0.0)  # seen once now, it would not be learned
    return np.asarray(gain)


def plan_group_quiz(
    c: GroupCandidates,
    n: int,
    settings: GroupSettings,
    now: datetime,
    rng: np.random.Generator,
    asked: Sequence[int] = (),
) -> list[GroupChoice]:
    """The next ``n`` questions for the group, in the order to ask them.

    ``asked`` are the items already asked in this quiz (or today), oldest first: they are
    not asked again, and the last one's tag is the one to move away from. Fewer than ``n``
    come back when the deck runs out. Same inputs and RNG state give the same list.
    """
    require_aware(now, "now")
    days_left = settings.days_left(now)
    gain_mi = member_gain(c, days_left, settings)
    gain = c.weight @ gain_mi if c.n_members else np.zeros(len(c))
    p_now = np.clip(np.nan_to_num(c.p_now, nan=0.0), 0.0, 1.0)
    known = np.where(c.seen, p_now, 0.0)
    # practice: the members' weighted mean recall, weakest first, then deck order
    total = float(c.weight.sum())
    mean_known = c.weight @ known / total if total > 0 else np.zeros(len(c))
    order = np.arange(len(c), dtype=np.float64) / max(len(c), 1)
    worth = gain > MIN_GROUP_GAIN
    key = np.where(worth, -gain, 10.0 + mean_known + 1e-3 * order)
    key = key + rng.random(len(c)) * 1e-9  # seeded tie-break between equal keys
    free = ~np.isin(c.item_id, np.asarray(list(asked), dtype=np.int64))
    ranked = [int(k) for k in np.flatnonzero(free)[np.argsort(key[free], kind="stable")]]
    last_tag = _tag_of(c, asked[-1]) if asked else None
    audience = c.weight > 0
    out: list[GroupChoice] = []
    while ranked and len(out) < n:
        pick = ranked[0]
        if last_tag is not None and last_tag >= 0:
            other = [k for k in ranked[:INTERLEAVE_WINDOW] if int(c.tag[k]) != last_tag]
            if other:
                pick = other[0]
        ranked.remove(pick)
        last_tag = int(c.tag[pick])
        out.append(
            _explain(c, pick, gain_mi[:, pick], float(gain[pick]), audience, days_left, settings)
        )
    return out


def choose_group_next(
    c: GroupCandidates,
    settings: GroupSettings,
    now: datetime,
    rng: np.random.Generator,
    asked: Sequence[int] = (),
) -> GroupChoice | None:
    """The next question for ``/quiz n`` in a group (None once every item was asked)."""
    found = plan_group_quiz(c, 1, settings, now, rng, asked)
    return found[0] if found else None


def _tag_of(c: GroupCandidates, item_id: int) -> int | None:
    pos = np.flatnonzero(c.item_id == item_id)
    return int(c.tag[pos[0]]) if pos.size else None


def _explain(
    c: GroupCandidates,
    k: int,
    gains: FloatArray,
    gain: float,
    audience: BoolArray,
    days_left: float | None,
    settings: GroupSettings,
) -> GroupChoice:
    """The reason for item column ``k``: the kind of member that brings most of its gain."""
    seen = c.seen[:, k]
    p = np.clip(np.nan_to_num(c.p_now[:, k], nan=0.0), 0.0, 1.0)
    kinds = {
        GroupReason.NEW_TO_MANY: audience & ~seen,
        GroupReason.WEAK_FOR_MANY: audience & seen & (p < settings.weak_recall),
        GroupReason.DUE_FOR_MANY: audience
        & seen
        & (p >= settings.weak_recall)
        & (p < settings.target_retention),
    }
    counts = {kind: int(mask.sum()) for kind, mask in kinds.items()}
    n_audience = int(audience.sum())
    if gain <= MIN_GROUP_GAIN:
        reason, count = GroupReason.PRACTICE, n_audience
    elif days_left is not None:
        reason = GroupReason.EXAM_PRIORITY
        count = int((audience & (gains >= MEMBER_GAIN)).sum())
    else:
        share = {kind: float(c.weight[mask] @ gains[mask]) for kind, mask in kinds.items()}
        refresher = float(gain - sum(share.values()))  # members who still know it well
        best = max(share, key=lambda kind: share[kind])
        if share[best] >= refresher:
            reason, count = best, counts[best]
        else:
            reason, count = GroupReason.PRACTICE, n_audience
    return GroupChoice(
        item_id=int(c.item_id[k]),
        reason=reason,
        count=count,
        audience=n_audience,
        gain=gain,
        new=counts[GroupReason.NEW_TO_MANY],
        weak=counts[GroupReason.WEAK_FOR_MANY],
        due=counts[GroupReason.DUE_FOR_MANY],
    )
