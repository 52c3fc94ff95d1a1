"""Rendering: hostile or huge deck content never breaks a message or adds markup."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot import render
from bot.charts import stats_chart
from bot.fake_telegram.tg_html import parse_html
from tutor.items import Item, ItemKind
from tutor.views import (
    ChoiceReason,
    DayCount,
    Feedback,
    Question,
    SessionProgress,
    StudentStats,
    TagRecall,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOSTILE = [
    "<b>bold</b> & <script>alert(1)</script>",
    "a < b > c &amp; &#x3C; &lt;",
    '<a href="https://evil.example">click</a>',
    "</i></b>unbalanced<i>",
    "é 中文 🎉 \u200b zero-width",
]


def _question(item: Item, choices: tuple[str, ...] = (), image: bytes | None = None) -> Question:
    return Question(
        id=42,
        item=item,
        deck_name="<Deck> & Co",
        choices=choices,
        number=1,
        total=3,
        reason=ChoiceReason.NEW,
        asked_at=NOW,
        image=image,
    )


def _visible(html: str) -> str:
    return parse_html(html)[0]  # raises if Telegram would refuse the message


@pytest.mark.parametrize("content", HOSTILE)
def test_hostile_content_shows_literally(content: str) -> None:
    item = Item(
        ItemKind.MULTIPLE_CHOICE,
        prompt=content,
        external_id="x",
        options=(content, "plain"),
        correct_option=0,
        explanation=content,
    )
    question = _question(item, (content, "plain"))
    asked = render.question_message("en", question)
    visible = _visible(asked.text)
    assert content in visible and "<Deck> & Co" in visible
    _, entities = parse_html(asked.text)
    assert {e.type for e in entities} == {"bold"}  # only the catalog's own header
    feedback = Feedback(
        question=question,
        correct=False,
        correct_text=content,
        explanation=content,
        next_review_at=NOW + timedelta(days=3),
        progress=SessionProgress(1, 0, 3),
        given="plain",
    )
    shown = _visible(render.feedback_message("en", feedback, tz_name="Asia/Shanghai", now=NOW))
    assert f"Correct answer: {content}" in shown
    assert f"💡 {content}" in shown
    assert "Comes back in 3 days (2026-03-05 17:00)" in shown  # 09:00 UTC is 17:00 there


def test_huge_content_is_clipped_within_telegram_limits() -> None:
    huge = "<&>" * 5000
    item = Item(ItemKind.FLASHCARD, prompt=huge, external_id="x", answer=huge)
    question = _question(item)
    asked = render.question_message("en", question)
    assert len(_visible(asked.text)) <= render.MESSAGE_LIMIT
    revealed = render.revealed_message("en", question, caption=False)
    assert len(_visible(revealed)) <= render.MESSAGE_LIMIT
    with_picture = render.question_message("en", _question(item, image=b"png"))
    assert len(_visible(with_picture.text)) <= render.CAPTION_LIMIT
    assert len(_visible(render.revealed_message("en", question, caption=True))) < 1400


def _long_feedback(item: Item, explanation: str) -> Feedback:
    choices = item.options
    return Feedback(
        question=_question(item, choices, image=b"png"),
        correct=False,
        correct_text=item.correct_text,
        explanation=explanation,
        next_review_at=NOW + timedelta(days=1),
        progress=SessionProgress(1, 0, 3),
        given=choices[1],
    )


def test_an_answered_question_fits_its_caption_or_says_it_cannot() -> None:
    """A picture question edited into its feedback keeps within a caption's 1024
    characters: the question shrinks to its header first; if even that cannot hold the
    feedback there is no caption (the feedback then goes as a message of its own)."""
    item = Item(
        ItemKind.MULTIPLE_CHOICE,
        prompt="Which flag? " * 50,
        external_id="x",
        options=("France", "Italy"),
        correct_option=0,
    )
    fits = render.answered_message(
        "en", _long_feedback(item, "Blue, white, red."), tz_name="UTC", now=NOW, caption=True
    )
    assert fits is not None and len(fits) <= render.CAPTION_LIMIT
    shown = _visible(fits)
    assert "Which flag?" in shown and "Your answer: Italy" in shown and "France" in shown
    header_only = render.answered_message(
        "en", _long_feedback(item, "Why. " * 100), tz_name="UTC", now=NOW, caption=True
    )
    assert header_only is not None and len(header_only) <= render.CAPTION_LIMIT
    assert "Which flag?" not in header_only and "Question 1/3" in _visible(header_only)
    assert (
        render.answered_message(
            "en", _long_feedback(item, "Why. " * 300), tz_name="UTC", now=NOW, caption=True
        )
        is None
    )
    as_text = render.answered_message(
        "en", _long_feedback(item, "Why. " * 300), tz_name="UTC", now=NOW, caption=False
    )
    assert as_text is not None and "Which flag?" in _visible(as_text)


def test_long_options_become_lettered_buttons() -> None:
    options = tuple(f"option number {i} " + "x" * 60 for i in range(4))
    item = Item(
        ItemKind.MULTIPLE_CHOICE, prompt="Pick", external_id="x", options=options, correct_option=1
    )
    asked = render.question_message("en", _question(item, options))
    assert asked.keyboard is not None
    labels = [b.text for row in asked.keyboard.inline_keyboard for b in row]
    assert labels == ["A", "B", "C", "D"]
    assert "B. option number 1" in _visible(asked.text)


def test_true_false_buttons_are_localised() -> None:
    item = Item(ItemKind.TRUE_FALSE, prompt="Sky is blue", external_id="x", correct_option=0)
    asked = render.question_message("zh", _question(item, ("true", "false")))
    assert asked.keyboard is not None
    labels = [b.text for row in asked.keyboard.inline_keyboard for b in row]
    data = [b.callback_data for row in asked.keyboard.inline_keyboard for b in row]
    assert (labels, data) == (["正确", "错误"], ["a:42:0", "a:42:1"])


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (20, "in a moment"),
        (600, "in 10 min"),
        (5 * 3600, "in 5 h"),
        (86400, "tomorrow"),
        (3 * 86400, "in 3 days"),
    ],
)
def test_relative_times(seconds: float, expected: str) -> None:
    assert render.relative_when("en", seconds) == expected


def test_chart_is_a_png_with_content() -> None:
    stats = StudentStats(
        answers_today=3,
        answers_week=20,
        accuracy_week=0.7,
        streak_days=2,
        items_learned=5,
        items_total=30,
        per_day=[DayCount(date(2026, 2, 1) + timedelta(days=i), 5, i % 5) for i in range(28)],
        recall_by_tag=[TagRecall(f"tag{i}", i / 10, i + 1) for i in range(15)],
        due_forecast=[(date(2026, 3, 3) + timedelta(days=i), i) for i in range(14)],
    )
    full = stats_chart(stats, "zh")
    empty = stats_chart(StudentStats(0, 0, None, 0, 0, 0), "en")
    assert full.startswith(b"\x89PNG\r\n\x1a\n") and empty.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(full) > len(empty) + 10_000


@pytest.mark.parametrize(
    ("lang", "kind", "given", "verdict"),
    [
        ("en", ItemKind.TYPED, "Mississipi", "✅ Correct (spelled: Mississippi)"),
        ("zh", ItemKind.TYPED, "Missisippi", "✅ 答对了（正确拼写：Mississippi）"),
        ("en", ItemKind.CLOZE, "Mississipi", "✅ Correct (spelled: Mississippi)"),
        ("en", ItemKind.TYPED, "mississippi", "✅ Correct!"),  # exact but for case
    ],
)
def test_a_forgiven_typo_is_said_in_the_verdict(
    lang: str, kind: ItemKind, given: str, verdict: str
) -> None:
    if kind is ItemKind.CLOZE:
        item = Item(kind, prompt="The [...] is long.", external_id="x", answer="Mississippi")
    else:
        item = Item(kind, prompt="Longest river?", external_id="x", accepted=("Mississippi",))
    feedback = Feedback(
        question=_question(item),
        correct=True,
        correct_text="Mississippi",
        explanation="",
        next_review_at=None,
        progress=SessionProgress(1, 1, 3),
        given=given,
    )
    shown = _visible(render.feedback_message(lang, feedback, tz_name="UTC", now=NOW))
    assert shown.split("\n")[0] == verdict
    if "spelled" not in verdict and "拼写" not in verdict:
        assert "spelled" not in shown.lower() and "Mississippi" not in shown
