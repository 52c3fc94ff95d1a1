"""One-call helpers for the tutor service: items in, a choice or a forecast out."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import NamedTuple

import numpy as np

from tutor.items import Item
from tutor.policy.exam import expected_exam_recall_at_paces, with_exam_forecast
from tutor.policy.next_item import choose_next
from tutor.policy.predictor import RecallPredictor
from tutor.policy.types import (
    DEFAULT_ANSWER_SECONDS,
    Candidates,
    Choice,
    IntArray,
    SessionHistory,
    StudySettings,
    TodayCounts,
    require_aware,
    to_seconds,
)

EXAM_SHORTLIST = 60
"""Seen and new items per exam deck whose review forecasts a choice computes."""


class _Static(NamedTuple):
    """What ``build_candidates`` derives from the items alone (no predictions, no history)."""

    items: tuple[Item, ...]
    ids: IntArray
    tags: IntArray
    decks: IntArray
    position: dict[int, int] | None  # None when an id repeats


_STATIC: OrderedDict[tuple[int, int, int], _Static] = OrderedDict()
_STATIC_MAX = 64


def _static(items: Sequence[Item]) -> _Static:
    """The item columns of ``items``, reused while the same items come in the same order
    (the service's item cache hands out the same objects: the check runs at C speed)."""
    as_tuple = tuple(items)
    key = (len(as_tuple), id(as_tuple[0]), id(as_tuple[-1])) if as_tuple else (0, 0, 0)
    found = _STATIC.get(key)
    if found is not None and found.items == as_tuple:
        _STATIC.move_to_end(key)
        return found
    id_list = [it.id for it in as_tuple]
    tag_codes: dict[str, int] = {}
    tags = [tag_codes.setdefault(it.tags[0], len(tag_codes)) if it.tags else -1 for it in items]
    position = {item_id: k for k, item_id in enumerate(id_list)}
    found = _Static(
        as_tuple,
        np.array(id_list, dtype=np.int64),
        np.array(tags, dtype=np.int64),
        np.array([it.deck_id for it in as_tuple], dtype=np.int64),
        position if len(position) == len(id_list) else None,
    )
    _STATIC[key] = found
    while len(_STATIC) > _STATIC_MAX:
        _STATIC.popitem(last=False)
    return found


def build_candidates(
    predictor: RecallPredictor,
    items: Sequence[Item],
    last_seen: Mapping[int, datetime],
    now: datetime,
    answer_seconds: float = DEFAULT_ANSWER_SECONDS,
) -> Candidates:
    """Candidates for ``items`` (stored, so ``id`` is set): predicted recall now, new flags,
    last-seen times, each item's first tag as a small integer, and its deck.

    Only seen items are scored (a new item's recall is 0 by definition), so ``predictor``
    need only know those (see :func:`items_to_score`)."""
    t = to_seconds(now)
    static = _static(items)
    ids = static.ids
    seen = np.full(ids.shape[0], np.nan)
    if static.position is not None:
        position = static.position
        for item_id, when in last_seen.items():
            k = position.get(item_id)
            if k is not None:
                seen[k] = to_seconds(require_aware(when))
    else:
        for k, item_id in enumerate(ids.tolist()):
            found = last_seen.get(item_id)
            if found is not None:
                seen[k] = to_seconds(require_aware(found))
    is_new = np.isnan(seen)
    p = np.zeros(ids.shape[0])
    old = np.flatnonzero(~is_new)
    if old.size:
        p[old] = predictor.recall_at(ids[old], np.full(old.size, t))
    return Candidates(
        item_id=ids,
        p_recall=p,
        is_new=is_new,
        last_seen=seen,
        tag=static.tags,
        deck=static.decks,
        answer_seconds=np.full(ids.shape[0], answer_seconds),
    )


def items_to_score(
    items: Sequence[Item],
    last_seen: Mapping[int, datetime],
    exams: Mapping[int, datetime],
    exam_shortlist: int | None = EXAM_SHORTLIST,
) -> list[Item]:
    """The items of ``items`` whose predictions :func:`pick_next` can use, in their order:
    the seen ones and, for each deck with an exam, its first ``exam_shortlist`` new items
    (all of them without a shortlist), whose review forecasts the exam priority weighs."""
    out: list[Item] = []
    taken: dict[int, int] = {}
    for item in items:
        if item.id in last_seen:
            out.append(item)
        elif item.deck_id in exams:
            k = taken.get(item.deck_id, 0)
            if exam_shortlist is None or k < exam_shortlist:
                out.append(item)
                taken[item.deck_id] = k + 1
    return out


def daily_study_seconds(settings: StudySettings, answer_seconds: float) -> float:
    """The student's daily study time: the goal in minutes, or the goal in answers at
    ``answer_seconds`` each (what ``choose_next`` counts as today's goal)."""
    if settings.daily_goal_minutes is not None:
        return settings.daily_goal_minutes * 60.0
    return settings.goal_items(answer_seconds) * answer_seconds


def pick_next(
    predictor: RecallPredictor,
    items: Sequence[Item],
    last_seen: Mapping[int, datetime],
    settings: StudySettings,
    session: SessionHistory,
    today: TodayCounts,
    now: datetime,
    rng: np.random.Generator,
    answer_seconds: float = DEFAULT_ANSWER_SECONDS,
    exam_shortlist: int | None = EXAM_SHORTLIST,
) -> Choice:
    """The next item for a student (exam forecasts included when a deck has an exam).

    ``exam_shortlist`` bounds the hypothetical model updates per call (see
    :func:`with_exam_forecast`); ``None`` forecasts every item. ``predictor`` is asked only
    about :func:`items_to_score` of the same arguments. Exam forecasts are valued at the
    planning horizon of the student's daily goal (:func:`daily_study_seconds`), as the
    scheduling benchmark runs the policy.
    """
    c = build_candidates(predictor, items, last_seen, now, answer_seconds)
    if settings.exams:
        daily = daily_study_seconds(settings, answer_seconds)
        c = with_exam_forecast(
            c, predictor, now, settings.exams, exam_shortlist, daily, answer_seconds
        )
    return choose_next(c, settings, session, today, now, rng)


def exam_outlook(
    predictor: RecallPredictor,
    items: Sequence[Item],
    last_seen: Mapping[int, datetime],
    now: datetime,
    exam_at: datetime,
    paces_minutes: Sequence[float],
    answer_seconds: float = DEFAULT_ANSWER_SECONDS,
) -> list[tuple[float, float]]:
    """``(minutes per day, expected share recalled on exam day)`` for each pace, for ``/stats``
    ("78% at 15 min/day, 86% at 25")."""
    ids = np.array([it.id for it in items], dtype=np.int64)
    is_new = np.array([i not in last_seen for i in ids], dtype=bool)
    shares = expected_exam_recall_at_paces(
        predictor, ids, is_new, now, exam_at, paces_minutes, answer_seconds
    )
    return [(float(m), share) for m, share in zip(paces_minutes, shares, strict=True)]
