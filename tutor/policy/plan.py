"""One-call helpers for the tutor service: items in, a choice or a forecast out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np

from tutor.items import Item
from tutor.policy.exam import expected_exam_recall_at_paces, with_exam_forecast
from tutor.policy.next_item import choose_next
from tutor.policy.predictor import RecallPredictor
from tutor.policy.types import (
    DEFAULT_ANSWER_SECONDS,
    Candidates,
    Choice,
    SessionHistory,
    StudySettings,
    TodayCounts,
    require_aware,
    to_seconds,
)


def build_candidates(
    predictor: RecallPredictor,
    items: Sequence[Item],
    last_seen: Mapping[int, datetime],
    now: datetime,
    answer_seconds: float = DEFAULT_ANSWER_SECONDS,
) -> Candidates:
    """Candidates for ``items`` (stored, so ``id`` is set): predicted recall now, new flags,
    last-seen times, each item's first tag as a small integer, and its deck."""
    t = to_seconds(now)
    id_list = [it.id for it in items]
    ids = np.array(id_list, dtype=np.int64)
    tag_codes: dict[str, int] = {}
    tags = np.array(
        [tag_codes.setdefault(it.tags[0], len(tag_codes)) if it.tags else -1 for it in items],
        dtype=np.int64,
    )
    seen = np.full(ids.shape[0], np.nan)
    for k, item_id in enumerate(id_list):
        when = last_seen.get(item_id)
        if when is not None:
            seen[k] = to_seconds(require_aware(when))
    is_new = np.isnan(seen)
    p = predictor.recall_at(ids, np.full(ids.shape[0], t)) if ids.size else np.zeros(0)
    return Candidates(
        item_id=ids,
        p_recall=np.where(is_new, 0.0, p),
        is_new=is_new,
        last_seen=seen,
        tag=tags,
        deck=np.array([it.deck_id for it in items], dtype=np.int64),
        answer_seconds=np.full(ids.shape[0], answer_seconds),
    )


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
    exam_shortlist: int | None = 60,
) -> Choice:
    """The next item for a student (exam forecasts included when a deck has an exam).

    ``exam_shortlist`` bounds the hypothetical model updates per call (see
    :func:`with_exam_forecast`); ``None`` forecasts every item.
    """
    c = build_candidates(predictor, items, last_seen, now, answer_seconds)
    if settings.exams:
        c = with_exam_forecast(c, predictor, now, settings.exams, exam_shortlist)
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
