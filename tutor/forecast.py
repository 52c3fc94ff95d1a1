"""Projected recall on an exam day, from each item's review interval.

The projection plays the student's days forward: each day they answer ``daily_goal``
questions, due reviews first and then new items; a review succeeds with its estimated recall
and stretches the interval. It is the rule-based estimate; the learner model and the exam
policy replace it where they are available.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tutor.intervals import ItemMemory, estimated_recall, next_interval


@dataclass(slots=True)
class _Card:
    interval: float
    last_day: float
    n_correct: int


def project_exam_recall(
    seen: Sequence[tuple[float, float, int]],
    n_unseen: int,
    days_left: int,
    answers_per_day: int,
    target: float = 0.9,
) -> float:
    """Expected share of a deck recalled on exam day.

    Args:
        seen: (interval days, days since last review, correct answers) of each seen item.
        n_unseen: items of the deck never answered.
        days_left: whole days until the exam (the exam is at the start of that day).
        answers_per_day: the daily pace.
        target: the retention the intervals are tuned for.
    """
    cards = [_Card(interval, -elapsed, n) for interval, elapsed, n in seen]
    unseen = n_unseen
    for day in range(max(days_left, 0)):
        budget = answers_per_day
        due = sorted(
            (c for c in cards if c.last_day + c.interval <= day),
            key=lambda c: c.last_day + c.interval,
        )
        for card in due:
            if budget == 0:
                break
            recalled = estimated_recall(card.interval, day - card.last_day, target) >= 0.5
            memory = ItemMemory(card.n_correct, 0, recalled, card.interval)
            card.interval = next_interval(memory, recalled, None)
            card.n_correct += int(recalled)
            card.last_day = day
            budget -= 1
        # A new item takes about two answers on its first day (learn, then check).
        while budget >= 2 and unseen > 0:
            cards.append(_Card(next_interval(ItemMemory(), True, None), day, 1))
            unseen -= 1
            budget -= 2
    total = len(cards) + unseen
    if total == 0:
        return 0.0
    recall = sum(estimated_recall(c.interval, days_left - c.last_day, target) for c in cards)
    return recall / total
