"""Items as Telegram quiz polls: which items can be asked that way, and with what options.

Multiple-choice and true/false items map directly. Typed and cloze items with a short answer
become multiple choice, with distractors drawn from the answers of other items of the same
deck. Flashcards (graded by the student), items with a picture (a poll cannot show it), and
items whose text does not fit Telegram's limits are left out.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from tutor.items import Item, ItemKind
from tutor.matching import normalise_answer as normalise

MAX_QUESTION = 300
MAX_OPTION = 100
MAX_OPTIONS = 12
MAX_EXPLANATION = 200
MAX_EXPLANATION_LINES = 3  # at most two line feeds
SHORT_ANSWER = 60
"""A typed or cloze answer longer than this is not a poll option (it would give itself away)."""
DISTRACTORS = 3
"""Wrong options added to a typed or cloze item."""


@dataclass(frozen=True, slots=True)
class PollForm:
    """An item as a quiz poll: the question, options in display order, the right one."""

    item_id: int
    question: str
    options: tuple[str, ...]
    correct: int
    explanation: str


def _fits(text: str, limit: int) -> bool:
    return 0 < len(text.strip()) <= limit


def explanation_of(item: Item) -> str:
    """The item's explanation within a poll's limits (shortened with an ellipsis)."""
    lines = item.explanation.strip().splitlines()[:MAX_EXPLANATION_LINES]
    text = "\n".join(lines)
    if len(text) > MAX_EXPLANATION:
        text = text[: MAX_EXPLANATION - 1].rstrip() + "…"
    return text


def short_answer(item: Item) -> str | None:
    """The answer of a typed or cloze item, if it is short enough to be an option."""
    if item.kind not in (ItemKind.TYPED, ItemKind.CLOZE):
        return None
    text = item.correct_text.strip()
    return text if _fits(text, SHORT_ANSWER) else None


def pollable(item: Item) -> bool:
    """True if the item can be asked as a quiz poll at all (given distractors for typed and
    cloze items). A poll carries no picture or sound, so an item whose question has one is not."""
    if item.image or item.audio or not _fits(item.prompt, MAX_QUESTION):
        return False
    if item.kind is ItemKind.MULTIPLE_CHOICE:
        return item.correct_option is not None and all(_fits(o, MAX_OPTION) for o in item.options)
    if item.kind is ItemKind.TRUE_FALSE:
        return item.correct_option in (0, 1)
    return short_answer(item) is not None


def poll_form(
    item: Item,
    deck_items: Sequence[Item],
    rng: random.Random,
    true_false: tuple[str, str] = ("True", "False"),
) -> PollForm | None:
    """``item`` as a quiz poll, its options shuffled with ``rng``; None if it cannot be one.

    ``deck_items`` are the items distractors for a typed or cloze answer come from (answers
    that match the item's accepted answers tolerantly are never used); ``true_false`` are the
    two labels of a true/false item, in the group's language.
    """
    if not pollable(item):
        return None
    explanation = explanation_of(item)
    if item.kind is ItemKind.TRUE_FALSE:
        assert item.correct_option is not None
        return PollForm(item.id, item.prompt, true_false, item.correct_option, explanation)
    if item.kind is ItemKind.MULTIPLE_CHOICE:
        assert item.correct_option is not None
        right = item.options[item.correct_option]
        wrong = [o for k, o in enumerate(item.options) if k != item.correct_option]
        rng.shuffle(wrong)
        return _shuffled(item, right, wrong[: MAX_OPTIONS - 1], explanation, rng)
    answer = short_answer(item)
    assert answer is not None
    taken = {normalise(a) for a in (*item.accepted, answer)}
    pool: list[tuple[bool, int, float, str]] = []
    for other in deck_items:
        if other.id == item.id:
            continue
        text = short_answer(other)
        if text is None or normalise(text) in taken:
            continue
        taken.add(normalise(text))
        # Answers like this one first (a cloze among clozes, a year among years): a wrong
        # option that obviously does not fit teaches nothing.
        pool.append((other.kind is not item.kind, abs(len(text) - len(answer)), rng.random(), text))
    if not pool:
        return None  # nothing to choose between: not a question for a poll
    pool.sort()
    return _shuffled(item, answer, [entry[3] for entry in pool[:DISTRACTORS]], explanation, rng)


def _shuffled(
    item: Item, right: str, wrong: list[str], explanation: str, rng: random.Random
) -> PollForm:
    options = [right, *wrong]
    rng.shuffle(options)
    return PollForm(item.id, item.prompt, tuple(options), options.index(right), explanation)
