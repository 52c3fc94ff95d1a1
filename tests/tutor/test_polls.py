"""Items as quiz polls: what maps directly, what gets distractors, what is left out."""

from __future__ import annotations

import random

from tutor.items import Item, ItemKind
from tutor.polls import MAX_EXPLANATION, MAX_OPTIONS, poll_form, pollable


def item(kind: ItemKind, prompt: str = "Q?", **fields: object) -> Item:
    return Item(kind=kind, prompt=prompt, external_id=prompt, id=hash(prompt) % 10_000, **fields)  # type: ignore[arg-type]


def typed(prompt: str, *answers: str) -> Item:
    return item(ItemKind.TYPED, prompt, accepted=answers)


def test_multiple_choice_keeps_the_right_option_and_at_most_twelve() -> None:
    options = tuple(f"option {k}" for k in range(15))
    mc = item(ItemKind.MULTIPLE_CHOICE, options=options, correct_option=7)
    form = poll_form(mc, [mc], random.Random(1))
    assert form is not None and len(form.options) == MAX_OPTIONS
    assert form.options[form.correct] == "option 7"


def test_true_false_uses_the_given_labels() -> None:
    tf = item(ItemKind.TRUE_FALSE, correct_option=1)
    form = poll_form(tf, [tf], random.Random(1), ("true", "false"))
    assert form is not None and form.options == ("true", "false") and form.correct == 1


def test_typed_answers_get_distractors_from_the_deck_never_an_accepted_answer() -> None:
    asked = typed("Capital of France?", "Paris", "paris city")
    deck = [
        asked,
        typed("Capital of Japan?", "Tokyo"),
        typed("Capital of Italy?", "Rome"),
        typed("City of light, spelled oddly?", "PARIS"),  # the same answer: never a distractor
        typed("A long one?", "x" * 200),  # too long to be an option
        item(ItemKind.FLASHCARD, "Card", answer="Berlin"),  # not typed or cloze
    ]
    form = poll_form(asked, deck, random.Random(3))
    assert form is not None
    assert form.options[form.correct] == "Paris"
    assert sorted(o for k, o in enumerate(form.options) if k != form.correct) == ["Rome", "Tokyo"]


def test_what_a_poll_cannot_ask_is_left_out() -> None:
    lonely = typed("Capital of France?", "Paris")
    assert poll_form(lonely, [lonely], random.Random(1)) is None  # nothing to choose between
    assert not pollable(item(ItemKind.FLASHCARD, answer="x"))
    assert not pollable(item(ItemKind.TRUE_FALSE, correct_option=0, image="map.png"))
    assert not pollable(item(ItemKind.TRUE_FALSE, correct_option=0, audio="word.mp3"))
    assert pollable(item(ItemKind.TRUE_FALSE, correct_option=0, answer_audio="word.mp3"))
    assert not pollable(item(ItemKind.TRUE_FALSE, "Q" * 301, correct_option=0))
    long_option = item(ItemKind.MULTIPLE_CHOICE, options=("a", "b" * 101), correct_option=0)
    assert not pollable(long_option)


def test_a_long_explanation_is_shortened_to_telegrams_limit() -> None:
    tf = item(
        ItemKind.TRUE_FALSE, correct_option=0, explanation="one\ntwo\nthree\nfour " + "x" * 300
    )
    form = poll_form(tf, [tf], random.Random(1))
    assert form is not None
    assert len(form.explanation) <= MAX_EXPLANATION and form.explanation.count("\n") <= 2
