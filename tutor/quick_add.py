"""The one-line question syntax of ``/add`` and of item edits (pure parsing).

``DECK | QUESTION | ANSWER | WRONG1; WRONG2; ...``   multiple choice (2-12 options in all)
``DECK | QUESTION | ANSWER1; ANSWER2``               typed answer (any listed answer counts)
``DECK | STATEMENT | true``  (or ``false``)           true/false

An edit uses the same line without the deck. ``|`` separates fields, ``;`` separates
answers; spaces around them are ignored.
"""

from __future__ import annotations

from tutor.content.messages import rejected
from tutor.errors import ContentRejected
from tutor.items import MAX_OPTIONS, Item, ItemKind

MAX_QUESTION = 1000
MAX_ANSWER = 300
USAGE = (
    "DECK | QUESTION | ANSWER | WRONG1; WRONG2  (multiple choice)\n"
    "DECK | QUESTION | ANSWER1; ANSWER2  (typed)\n"
    "DECK | STATEMENT | true  (or false)"
)


def _answers(field: str) -> list[str]:
    parts = [part.strip() for part in field.split(";")]
    return list(dict.fromkeys(part for part in parts if part))


def parse_item(fields: list[str], external_id: str) -> Item:
    """An item from [question, answer(s), wrong options?]; raises ContentRejected."""
    fields = [field.strip() for field in fields]
    if len(fields) not in (2, 3) or not fields[0] or not fields[1]:
        raise ContentRejected(f"expected: {USAGE}")
    question = fields[0]
    if len(question) > MAX_QUESTION:
        raise rejected("question_too_long", limit=MAX_QUESTION)
    answers = _answers(fields[1])
    if any(len(answer) > MAX_ANSWER for answer in answers):
        raise rejected("answer_too_long", limit=MAX_ANSWER)
    if len(fields) == 3:
        if len(answers) != 1:
            raise rejected("choice_one_answer")
        wrong = [option for option in _answers(fields[2]) if option != answers[0]]
        options = [answers[0], *wrong]
        if not 2 <= len(options) <= MAX_OPTIONS:
            raise rejected("choice_option_count", max=MAX_OPTIONS)
        return Item(
            ItemKind.MULTIPLE_CHOICE,
            question,
            external_id,
            options=tuple(options),
            correct_option=0,
        )
    if len(answers) == 1 and answers[0].lower() in ("true", "false"):
        truth = 0 if answers[0].lower() == "true" else 1
        return Item(ItemKind.TRUE_FALSE, question, external_id, correct_option=truth)
    return Item(ItemKind.TYPED, question, external_id, accepted=tuple(answers))


def parse_add_line(text: str, external_id: str) -> tuple[str, Item]:
    """(deck reference, item) from an ``/add`` line; raises ContentRejected."""
    fields = text.split("|")
    if len(fields) < 3 or not fields[0].strip():
        raise ContentRejected(f"expected: {USAGE}")
    return fields[0].strip(), parse_item(fields[1:], external_id)


def parse_edit_line(text: str, external_id: str) -> Item:
    """An item from an edit line (the ``/add`` syntax without the deck)."""
    return parse_item(text.split("|"), external_id)
