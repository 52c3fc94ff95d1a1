"""Which item to ask next: relearn what was just missed, then due reviews, then new items."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tutor.views import ChoiceReason

RELEARN_GAP = 2
"""A missed item comes back after at least this many other questions."""


@dataclass(frozen=True, slots=True)
class Candidates:
    """What the choice is made from, all restricted to the student's active decks."""

    session_history: Sequence[tuple[int, bool | None]]
    due: Sequence[int]
    new: Sequence[int]
    least_recent: Sequence[int]


def choose(candidates: Candidates) -> tuple[int, ChoiceReason] | None:
    """The next item and why; None when the student's decks are empty."""
    history = candidates.session_history
    last = history[-1][0] if history else None
    recent = {item for item, _ in history[-RELEARN_GAP:]}
    # Bring back an item missed in this session, once a few others came in between.
    outcome: dict[int, bool | None] = {}
    for item, correct in history:
        outcome[item] = correct
    for item, correct in history:
        if correct is False and outcome[item] is False and item not in recent:
            return item, ChoiceReason.RELEARN
    for pool, reason in (
        (candidates.due, ChoiceReason.REVIEW),
        (candidates.new, ChoiceReason.NEW),
        (candidates.least_recent, ChoiceReason.PRACTICE),
    ):
        for item in pool:
            if item != last:
                return item, reason
    # Only one item left anywhere: asking it twice in a row is the only choice.
    for pool, reason in (
        (candidates.due, ChoiceReason.REVIEW),
        (candidates.new, ChoiceReason.NEW),
        (candidates.least_recent, ChoiceReason.PRACTICE),
    ):
        if pool:
            return pool[0], reason
    return None
