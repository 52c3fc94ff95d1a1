"""One-call helpers for the service's group quizzes: members and items in, questions out.

The service builds one :class:`Member` per recent member of the group (their learner
model's predictor, their answer times, their answer probability) and calls
:func:`pick_group_quiz` for a daily quiz of ``n`` questions, or with ``n=1`` and the
quiz's items so far as ``asked`` for the next question of ``/quiz n``. Only the
``RecallPredictor`` protocol is used, so this imports no torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from tutor.items import Item
from tutor.policy.group import (
    GroupCandidates,
    GroupChoice,
    GroupSettings,
    answer_probability,
    group_horizon_days,
    plan_group_quiz,
)
from tutor.policy.predictor import RecallPredictor, expected_recall_after_review
from tutor.policy.types import SECONDS_PER_DAY, IntArray, require_aware, to_seconds

#: Items whose review forecasts are made per member (the costly part: two hypothetical
#: answers per item); the others are left out of the gain (they can still be practice).
GROUP_SHORTLIST = 60


@dataclass(frozen=True, slots=True)
class Member:
    """A recent member of the group, as the policy sees them.

    ``predictor`` must know every item passed (a never-seen item's ``recall_at`` is the
    model's first-sight guess), e.g. ``LearnerModelPredictor`` over all the candidates,
    wrapped in the member's ``CalibratedPredictor``; ``last_seen`` maps the items they
    have answered to the last time; ``weight`` is their answer probability
    (:func:`tutor.policy.group.answer_probability`).
    """

    predictor: RecallPredictor
    last_seen: Mapping[int, datetime]
    weight: float


def _tags(items: Sequence[Item]) -> IntArray:
    codes: dict[str, int] = {}
    return np.array(
        [codes.setdefault(it.tags[0], len(codes)) if it.tags else -1 for it in items],
        dtype=np.int64,
    )


def group_candidates(
    members: Sequence[Member],
    items: Sequence[Item],
    now: datetime,
    per_day: float,
    exam_at: datetime | None = None,
    shortlist: int | None = GROUP_SHORTLIST,
) -> GroupCandidates:
    """The members' predictions for ``items`` (stored, askable as polls, in deck order).

    Forecasts are valued at :func:`tutor.policy.group.group_horizon_days` (``per_day``:
    the questions the group is asked a day). With ``shortlist``, the review forecasts are
    made only for that many items, those with the largest upper bound on the group gain
    (the weighted sum of what each member could still gain, ``1 - base``).
    """
    t_now = to_seconds(require_aware(now, "now"))
    ids = np.array([it.id for it in items], dtype=np.int64)
    m, n = len(members), ids.shape[0]
    left = None
    if exam_at is not None:
        days = (to_seconds(require_aware(exam_at, "exam_at")) - t_now) / SECONDS_PER_DAY
        left = days if days > 0 else None
    t_h = t_now + group_horizon_days(left, n, per_day) * SECONDS_PER_DAY
    weight = np.array([mb.weight for mb in members], dtype=np.float64)
    seen = np.array([[int(i) in mb.last_seen for i in ids] for mb in members], dtype=bool)
    seen = seen.reshape(m, n)
    p_now = np.zeros((m, n))
    p_h = np.zeros((m, n))
    for r, mb in enumerate(members):
        if n:
            p_now[r] = mb.predictor.recall_at(ids, np.full(n, t_now))
        old = np.flatnonzero(seen[r])
        if old.size:
            p_h[r, old] = mb.predictor.recall_at(ids[old], np.full(old.size, t_h))
    bound = weight @ (1.0 - p_h) if m else np.zeros(n)
    cols = np.argsort(-bound, kind="stable")
    if shortlist is not None:
        cols = np.sort(cols[:shortlist])
    p_rev = np.full((m, n), np.nan)
    for r, mb in enumerate(members):
        if cols.size:
            p_rev[r, cols] = expected_recall_after_review(mb.predictor, ids[cols], t_now, t_h)
    return GroupCandidates(ids, _tags(items), p_now, seen, weight, p_h, p_rev)


def pick_group_quiz(
    members: Sequence[Member],
    items: Sequence[Item],
    n: int,
    now: datetime,
    rng: np.random.Generator,
    per_day: float | None = None,
    settings: GroupSettings | None = None,
    asked: Sequence[int] = (),
    shortlist: int | None = GROUP_SHORTLIST,
) -> list[GroupChoice]:
    """Up to ``n`` questions for the group, in order (see
    :func:`tutor.policy.group.plan_group_quiz`); ``per_day`` defaults to ``n`` (one quiz
    a day), ``settings`` carries the class exam date."""
    settings = settings or GroupSettings()
    c = group_candidates(members, items, now, per_day or max(n, 1), settings.exam_at, shortlist)
    return plan_group_quiz(c, n, settings, now, rng, asked)


def recent_weights(answered: Mapping[int, Sequence[bool]]) -> dict[int, float]:
    """Answer probabilities by member id from each member's record over the group's recent
    quizzes, oldest first (see :func:`tutor.policy.group.answer_probability`)."""
    out: dict[int, float] = {}
    for member, record in answered.items():
        out[member] = float(answer_probability(np.array([list(record)], dtype=bool))[0])
    return out
