"""Putting a question to a student and marking their answer."""

from __future__ import annotations

import random
from dataclasses import dataclass

from tutor.errors import InvalidAnswer
from tutor.items import Grade, Item, ItemKind
from tutor.matching import answer_matches
from tutor.views import Answer

TRUE_FALSE_CHOICES = ("true", "false")
MAX_RESPONSE_CHARS = 500


def choice_order(item: Item, rng: random.Random) -> tuple[int, ...]:
    """Display order of a question's buttons, as option indices."""
    if item.kind is ItemKind.MULTIPLE_CHOICE:
        order = list(range(len(item.options)))
        rng.shuffle(order)
        return tuple(order)
    if item.kind is ItemKind.TRUE_FALSE:
        return (0, 1)
    return ()


def choice_labels(item: Item, order: tuple[int, ...]) -> tuple[str, ...]:
    """Button labels in display order."""
    if item.kind is ItemKind.MULTIPLE_CHOICE:
        return tuple(item.options[index] for index in order)
    if item.kind is ItemKind.TRUE_FALSE:
        return TRUE_FALSE_CHOICES
    return ()


@dataclass(frozen=True, slots=True)
class Marked:
    """A marked answer: whether it was right, the grade, and the response as logged."""

    correct: bool
    grade: Grade | None
    response: str


def mark(item: Item, order: tuple[int, ...], answer: Answer) -> Marked:
    """Mark an answer to ``item`` shown with buttons in ``order``; raises InvalidAnswer."""
    if item.kind in (ItemKind.MULTIPLE_CHOICE, ItemKind.TRUE_FALSE):
        if answer.choice is None or not 0 <= answer.choice < len(order):
            raise InvalidAnswer("choice out of range")
        option = order[answer.choice]
        label = choice_labels(item, order)[answer.choice]
        return Marked(option == item.correct_option, None, label)
    if item.kind is ItemKind.TYPED:
        if answer.text is None:
            raise InvalidAnswer("typed answer expected")
        text = answer.text[:MAX_RESPONSE_CHARS]
        return Marked(answer_matches(text, item.accepted), None, text)
    # Flashcards and clozes: the student grades their own recall.
    if answer.grade is None:
        if item.kind is ItemKind.CLOZE and answer.text is not None:
            text = answer.text[:MAX_RESPONSE_CHARS]
            return Marked(answer_matches(text, item.accepted or (item.answer,)), None, text)
        raise InvalidAnswer("self-grade expected")
    return Marked(answer.grade.recalled, answer.grade, answer.grade.name.lower())
