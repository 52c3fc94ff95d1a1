"""Messages and keyboards for quizzes: questions, answers, feedback, session summaries.

All text is Telegram HTML built from catalog strings by :func:`bot.i18n.t`, which escapes
deck content; long content is clipped before escaping so an entity is never cut in half.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks
from bot.i18n import Html, plain, t
from tutor.clock import require_utc, zone
from tutor.content.cloze import filled_in
from tutor.items import Grade, ItemKind
from tutor.matching import forgiven_typo
from tutor.new_items import MORE_NEW_ITEMS
from tutor.views import ChoiceReason, Feedback, Question, SessionProgress

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
BUTTON_LABEL_LIMIT = 40
PROMPT_LIMIT = 3000
CAPTION_PROMPT_LIMIT = 700
_LETTERS = "ABCDEFGHIJKL"


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (before any escaping)."""
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def _lines(*parts: str | None) -> Html:
    """Join lines; "" makes a blank line, None is left out."""
    return Html("\n".join(part for part in parts if part is not None))


@dataclass(frozen=True, slots=True)
class RenderedQuestion:
    """A question ready to send: text (or caption), keyboard, and picture if any."""

    text: Html
    keyboard: InlineKeyboardMarkup | None
    image: bytes | None


def _long_choices(question: Question) -> bool:
    return any(len(choice) > BUTTON_LABEL_LIMIT for choice in question.choices)


def _asked(lang: str, question: Question, limit: int) -> list[str]:
    """Header, prompt and (for long options) the lettered options."""
    item = question.item
    # A student's own deck has no stored name to show: it is named in their language.
    deck = question.deck_name or plain(lang, "own.deck_name")
    header = t(lang, "quiz.header", number=question.number, total=question.total, deck=deck)
    reason = t(lang, f"quiz.reason.{question.reason.value}")
    prompt = _escape(clip(item.prompt, limit))
    if not prompt and item.audio:  # the sound alone asks ("what do you hear?")
        prompt = t(lang, "quiz.listen")
    lines: list[str] = [f"{header} · {reason}", "", prompt]
    if item.kind is ItemKind.MULTIPLE_CHOICE and _long_choices(question):
        per_choice = max(40, limit // max(1, len(question.choices)))
        lines.append("")
        lines.extend(
            f"<b>{_LETTERS[i]}</b>. {_escape(clip(choice, per_choice))}"
            for i, choice in enumerate(question.choices)
        )
    return lines


def question_message(lang: str, question: Question) -> RenderedQuestion:
    """The message that asks ``question``."""
    item = question.item
    limit = CAPTION_PROMPT_LIMIT if question.image else PROMPT_LIMIT
    lines = _asked(lang, question, limit)
    if item.kind is ItemKind.TYPED:
        lines += ["", t(lang, "quiz.type_answer")]
    elif item.kind is ItemKind.CLOZE:
        lines += ["", t(lang, "quiz.cloze_type_or_reveal")]
    elif item.kind.self_graded:
        lines += ["", t(lang, "quiz.recall_then_reveal")]
    if _offers_more_new(question):
        lines += ["", t(lang, "quiz.more_new_hint")]
    return RenderedQuestion(_lines(*lines), question_keyboard(lang, question), question.image)


def _offers_more_new(question: Question) -> bool:
    """Extra practice while new items wait: the student may ask for those instead."""
    return question.reason is ChoiceReason.PRACTICE and question.new_waiting > 0


def _with_more_new(
    lang: str, question: Question, keyboard: InlineKeyboardMarkup | None
) -> InlineKeyboardMarkup | None:
    """``keyboard`` with a "➕ 5 more new questions today" row when the question offers it."""
    if not _offers_more_new(question):
        return keyboard
    n = min(MORE_NEW_ITEMS, question.new_waiting)
    label = plain(lang, "button.more_new", n=n) if n > 1 else plain(lang, "button.more_new_one")
    row = [InlineKeyboardButton(label, callback_data=callbacks.more_new(question.id))]
    existing = [list(r) for r in keyboard.inline_keyboard] if keyboard else []
    return InlineKeyboardMarkup([*existing, row])


def question_keyboard(lang: str, question: Question) -> InlineKeyboardMarkup | None:
    """Buttons under a question: its choices, True/False, or "Show answer" (and "more new
    questions" under extra practice while new items wait)."""
    return _with_more_new(lang, question, _answer_keyboard(lang, question))


def _answer_keyboard(lang: str, question: Question) -> InlineKeyboardMarkup | None:
    item = question.item
    qid = question.id
    if item.kind is ItemKind.MULTIPLE_CHOICE:
        if _long_choices(question):
            letters = [
                InlineKeyboardButton(_LETTERS[i], callback_data=callbacks.answer(qid, i))
                for i in range(len(question.choices))
            ]
            return InlineKeyboardMarkup(rows(letters, 4))
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(clip(choice, 60), callback_data=callbacks.answer(qid, i))]
                for i, choice in enumerate(question.choices)
            ]
        )
    if item.kind is ItemKind.TRUE_FALSE:
        # Choices are ("true", "false") per the service; labels come from the catalog.
        labels = [plain(lang, f"button.{choice}") for choice in question.choices]
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(label, callback_data=callbacks.answer(qid, i))
                    for i, label in enumerate(labels)
                ]
            ]
        )
    if item.kind.self_graded:
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        plain(lang, "button.show_answer"), callback_data=callbacks.reveal(qid)
                    )
                ]
            ]
        )
    return None


def grade_keyboard(lang: str, question_id: int) -> InlineKeyboardMarkup:
    """Again / Hard / Good / Easy."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    plain(lang, f"button.grade_{int(g)}"),
                    callback_data=callbacks.grade(question_id, g),
                )
                for g in Grade
            ]
        ]
    )


def revealed_message(lang: str, question: Question, *, caption: bool) -> Html:
    """The question with its answer shown, asking for a self-grade."""
    prompt_limit, answer_limit = (500, 300) if caption else (PROMPT_LIMIT, 900)
    return _lines(
        *_asked(lang, question, prompt_limit),
        "",
        t(lang, "quiz.answer_is", answer=clip(question.item.correct_text, answer_limit)),
        t(lang, "quiz.how_well"),
    )


def answer_label(lang: str, question: Question, text: str) -> str:
    """How an answer reads: localised True/False, else the text itself."""
    if question.item.kind is ItemKind.TRUE_FALSE and text in ("true", "false"):
        return plain(lang, f"button.{text}")
    return text


def feedback_message(lang: str, feedback: Feedback, *, tz_name: str, now: datetime) -> Html:
    """Right or wrong, the correct answer, the explanation, and when the item comes back."""
    question = feedback.question
    item = question.item
    parts: list[str] = []
    if item.kind.self_graded and feedback.grade is not None:
        parts.append(
            t(lang, "feedback.graded", grade=plain(lang, f"button.grade_{int(feedback.grade)}"))
        )
    else:
        # Marked answers: a choice, a typed answer, or a cloze's missing word typed in.
        typed = item.kind in (ItemKind.TYPED, ItemKind.CLOZE)
        spelled = None
        if feedback.correct and feedback.given and typed:
            # A typo was forgiven: the verdict itself says how the answer is spelled.
            spelled = forgiven_typo(feedback.given, item.accepted or (item.answer,))
        if spelled is not None:
            parts.append(t(lang, "feedback.correct_spelled", answer=clip(spelled, 500)))
        else:
            parts.append(t(lang, "feedback.correct" if feedback.correct else "feedback.wrong"))
        if not feedback.correct and feedback.given and typed:
            parts.append(t(lang, "feedback.your_answer", given=clip(feedback.given, 200)))
        sentence = (
            cloze_sentence(item.prompt, feedback.correct_text)
            if item.kind is ItemKind.CLOZE
            else None
        )
        if sentence is not None:
            parts.append(t(lang, "feedback.cloze_filled", sentence=sentence))
        elif not feedback.correct:
            answer = answer_label(lang, question, feedback.correct_text)
            parts.append(t(lang, "feedback.correct_answer", answer=clip(answer, 500)))
    if feedback.explanation:
        parts.append(t(lang, "feedback.explanation", explanation=clip(feedback.explanation, 1500)))
    if feedback.again_this_quiz:
        parts.append(t(lang, "feedback.again_this_quiz"))
    elif feedback.next_review_at is not None:
        parts.append(next_review_line(lang, feedback.next_review_at, tz_name=tz_name, now=now))
    parts.append(progress_line(lang, feedback.progress))
    return _lines(*parts)


def answered_message(
    lang: str, feedback: Feedback, *, tz_name: str, now: datetime, caption: bool
) -> Html | None:
    """The pressed question edited into its feedback: what was asked, what the student
    chose (the buttons go with this edit), then :func:`feedback_message`. A caption whose
    question leaves no room keeps only the header; None if even that does not fit."""
    question = feedback.question
    item = question.item
    limit = CAPTION_LIMIT if caption else MESSAGE_LIMIT
    chosen: list[str] = []
    if item.kind in (ItemKind.MULTIPLE_CHOICE, ItemKind.TRUE_FALSE) and feedback.given:
        given = answer_label(lang, question, feedback.given)
        chosen.append(t(lang, "feedback.your_answer", given=clip(given, 200)))
    elif item.kind.self_graded and feedback.grade is not None:
        chosen.append(t(lang, "quiz.answer_is", answer=clip(item.correct_text, 300)))
    told = feedback_message(lang, feedback, tz_name=tz_name, now=now)
    prompt_limit = CAPTION_PROMPT_LIMIT if caption else PROMPT_LIMIT
    asked = _asked(lang, question, prompt_limit)
    for lines in (asked, asked[:1]):
        text = _lines(*lines, "", *chosen, told)
        if len(text) <= limit:
            return text
    return None


def cloze_sentence(prompt: str, answer: str) -> Html | None:
    """A cloze prompt with its gaps filled in and the answer in bold (None if the gaps
    cannot be found again)."""
    parts = filled_in(prompt, answer)
    if parts is None:
        return None
    text = "".join(
        f"<b>{_escape(clip(piece, 300))}</b>" if is_answer else _escape(clip(piece, 900))
        for piece, is_answer in parts
    )
    return Html(text)


def relative_when(lang: str, delta_seconds: float) -> str:
    """ "in 10 min", "in 5 h", "tomorrow", "in 3 days"."""
    minutes = delta_seconds / 60
    if minutes < 1:
        return plain(lang, "when.now")
    if minutes < 60:
        return plain(lang, "when.minutes", n=round(minutes))
    hours = minutes / 60
    if hours < 20:
        return plain(lang, "when.hours", n=round(hours))
    days = round(hours / 24)
    if days <= 1:
        return plain(lang, "when.day")
    return plain(lang, "when.days", n=days)


def next_review_line(lang: str, at: datetime, *, tz_name: str, now: datetime) -> Html:
    """ "Comes back in 3 days (2026-11-30 09:00)" in the student's time zone."""
    at = require_utc(at)
    local = at.astimezone(zone(tz_name)).strftime("%Y-%m-%d %H:%M")
    delta = (at - require_utc(now)).total_seconds()
    return t(lang, "feedback.next_review", when=relative_when(lang, delta), local=local)


def progress_line(lang: str, progress: SessionProgress) -> Html:
    """ "3/10 · 2 correct"."""
    return t(
        lang,
        "feedback.progress",
        answered=progress.answered,
        total=progress.total,
        correct=progress.correct,
    )


def summary_message(lang: str, progress: SessionProgress) -> Html:
    """The end of a session."""
    return t(lang, "quiz.summary", answered=progress.answered, correct=progress.correct)


def rows(buttons: list[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    """Buttons laid out ``width`` to a row."""
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def start_quiz_keyboard(lang: str) -> InlineKeyboardMarkup:
    """A single "Start a quiz" button."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    plain(lang, "button.start_quiz"), callback_data=callbacks.start_quiz()
                )
            ]
        ]
    )
