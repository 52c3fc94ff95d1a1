"""Quizzes: /quiz, answers by button or typed text, self-grades, feedback, /stop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot import callbacks, render
from bot.callbacks import AnswerPress, GradePress, RevealPress
from bot.handlers.common import (
    Context,
    drop_buttons,
    edit,
    error_text,
    guarded,
    language_of,
    log,
    reply,
    service_of,
    started_student,
    student_of,
    toast,
    user_data,
)
from bot.i18n import Html, plain, t
from tutor.errors import QuestionNotFound, StaleQuestion, TutorError
from tutor.items import ItemKind
from tutor.students import Student
from tutor.views import Answer, ChoiceReason, Feedback, Question

MAX_QUIZ_LENGTH = 50
TYPED_ANSWER_LIMIT = 300
_QUESTION_MESSAGE = "question_message"


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


@guarded
async def quiz_command(update: Update, context: Context) -> None:
    """/quiz [n]: start a session of n questions (default: the student's quiz length)."""
    student = await started_student(update, context)
    if student is None:
        return
    lang = student.language
    args = context.args or []
    length: int | None = None
    if args:
        if len(args) > 1 or not args[0].isdigit() or not 1 <= int(args[0]) <= MAX_QUIZ_LENGTH:
            await reply(update, t(lang, "quiz.bad_length", max=MAX_QUIZ_LENGTH))
            return
        length = int(args[0])
    await begin(update, context, student, length)


async def begin(update: Update, context: Context, student: Student, length: int | None) -> None:
    """Start a session and ask its first question."""
    user_data(context).pop("awaiting", None)
    await _clear_previous_question(context)
    question = await service_of(context).start_quiz(student.id, length)
    if question is None:
        await reply(update, t(student.language, "quiz.nothing_to_study"))
        return
    await send_question(update, context, student.language, question)


async def send_question(update: Update, context: Context, lang: str, question: Question) -> None:
    """Send a question (as a photo with caption when it has a picture) and remember it."""
    chat = update.effective_chat
    assert chat is not None
    rendered = render.question_message(lang, question)
    message: Message | None = None
    if rendered.image is not None:
        message = await _send_photo(update, context, rendered)
    if message is None:
        text = rendered.text
        if rendered.image is not None:
            text = Html(f"{text}\n\n{t(lang, 'quiz.image_missing')}")
        message = await chat.send_message(
            text, parse_mode=ParseMode.HTML, reply_markup=rendered.keyboard
        )
    await service_of(context).set_message(question.id, message.message_id)
    user_data(context)[_QUESTION_MESSAGE] = (message.chat_id, message.message_id)


async def _send_photo(
    update: Update, context: Context, rendered: render.RenderedQuestion
) -> Message | None:
    """The question as a photo; None if Telegram refused the picture."""
    chat = update.effective_chat
    assert chat is not None and rendered.image is not None
    try:
        if len(rendered.text) <= render.CAPTION_LIMIT:
            return await chat.send_photo(
                rendered.image,
                caption=rendered.text,
                parse_mode=ParseMode.HTML,
                reply_markup=rendered.keyboard,
            )
        await chat.send_photo(rendered.image)
    except BadRequest as error:
        log.warning("question picture refused: %s", error.message)
    return None


async def _clear_previous_question(context: Context) -> None:
    """Remove the buttons of the last question shown, if any (best effort)."""
    where = user_data(context).pop(_QUESTION_MESSAGE, None)
    if where is None:
        return
    chat_id, message_id = where
    with contextlib.suppress(BadRequest):
        await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)


async def after_answer(
    update: Update, context: Context, student: Student, feedback: Feedback
) -> None:
    """Feedback, then the next question or the session summary."""
    await after_answer_with(update, context, student, feedback)


async def after_answer_with(
    update: Update,
    context: Context,
    student: Student,
    feedback: Feedback,
    *also: Awaitable[object],
) -> None:
    """:func:`after_answer`, with ``also`` (acknowledgements) sent alongside the feedback.

    The feedback, the acknowledgements and the choice of the next question run at once:
    each Telegram call is a round trip, and only the next question must wait for the
    feedback (so they arrive in that order).
    """
    service = service_of(context)
    lang = student.language
    text = render.feedback_message(lang, feedback, tz_name=student.timezone, now=service.now())
    user_data(context).pop(_QUESTION_MESSAGE, None)
    sending = asyncio.gather(*also, reply(update, text))
    try:
        following = await service.next_question(student.id)
    finally:
        await sending
    if following is None:
        await reply(update, render.summary_message(lang, feedback.progress))
        return
    await send_question(update, context, lang, following)


async def _press_student(update: Update, context: Context) -> Student | None:
    student = await student_of(update, context)
    if student is None:
        query = update.callback_query
        assert query is not None
        await toast(query, plain(language_of(update, None), "please_start"))
    return student


async def _answer(
    update: Update, context: Context, student: Student, question_id: int, answer: Answer
) -> None:
    """Record a button answer or self-grade, then acknowledge and move on."""
    query = update.callback_query
    assert query is not None
    lang = student.language
    try:
        feedback = await service_of(context).answer(student.id, question_id, answer)
    except StaleQuestion:
        await toast(query, plain(lang, "callback.stale"))
        await drop_buttons(query)
        return
    except QuestionNotFound:
        await toast(query, plain(lang, "callback.invalid"))
        return
    if feedback.duplicate:
        await toast(query, plain(lang, "callback.already_answered"))
        return
    await after_answer_with(update, context, student, feedback, toast(query), drop_buttons(query))


async def answer_press(update: Update, context: Context, press: AnswerPress) -> None:
    """A multiple-choice or true/false button."""
    student = await _press_student(update, context)
    if student is not None:
        await _answer(update, context, student, press.question_id, Answer(choice=press.choice))


async def grade_press(update: Update, context: Context, press: GradePress) -> None:
    """Again / Hard / Good / Easy after the answer was shown."""
    student = await _press_student(update, context)
    if student is not None:
        await _answer(update, context, student, press.question_id, Answer(grade=press.grade))


async def reveal_press(update: Update, context: Context, press: RevealPress) -> None:
    """Show a flashcard's or cloze's answer with the grade buttons."""
    query = update.callback_query
    assert query is not None
    student = await _press_student(update, context)
    if student is None:
        return
    lang = student.language
    try:
        question = await service_of(context).question(student.id, press.question_id)
    except StaleQuestion:
        await toast(query, plain(lang, "callback.stale"))
        await drop_buttons(query)
        return
    except QuestionNotFound:
        await toast(query, plain(lang, "callback.invalid"))
        return
    if not question.item.kind.self_graded:
        await toast(query, plain(lang, "callback.invalid"))
        return
    await toast(query)
    is_media = isinstance(query.message, Message) and bool(query.message.photo)
    text = render.revealed_message(lang, question, caption=is_media)
    keyboard = render.grade_keyboard(lang, question.id)
    if not await edit(query, text, keyboard):
        # Too long for a caption, or the message is gone: show the answer anew.
        await drop_buttons(query)
        await reply(update, text, keyboard)


def _update_key(update: Update) -> str:
    """Names the message that carried a typed answer, so a redelivery is not marked again."""
    message = update.effective_message
    chat_id = message.chat_id if message else 0
    message_id = message.message_id if message else 0
    return f"m{chat_id}:{message_id}"


async def typed_answer(update: Update, context: Context, student: Student, text: str) -> bool:
    """Answer the open typed question with ``text``; False if no typed question is open."""
    service = service_of(context)
    question = await service.open_question(student.id)
    if question is None:
        return False
    lang = student.language
    if question.item.kind not in (ItemKind.TYPED, ItemKind.CLOZE):
        await reply(update, t(lang, "text.use_buttons"))
        return True
    if len(text) > TYPED_ANSWER_LIMIT:
        await reply(update, t(lang, "text.too_long"))
        return True
    try:
        feedback = await service.answer(
            student.id, question.id, Answer(text=text), update_key=_update_key(update)
        )
    except StaleQuestion:
        return False
    if feedback.duplicate:
        return True
    if question.item.kind is ItemKind.CLOZE or question.reason is ChoiceReason.PRACTICE:
        await _clear_previous_question(context)  # "Show answer" or "more new" is moot now
    await after_answer(update, context, student, feedback)
    return True


@guarded
async def stop_command(update: Update, context: Context) -> None:
    """/stop: end the running session."""
    student = await started_student(update, context)
    if student is None:
        return
    lang = student.language
    progress = await service_of(context).stop_quiz(student.id)
    await _clear_previous_question(context)
    if progress is None:
        await reply(update, t(lang, "quiz.no_session"))
        return
    await reply(
        update, t(lang, "quiz.stopped", answered=progress.answered, correct=progress.correct)
    )


async def quiz_press(update: Update, context: Context) -> None:
    """The "Start a quiz" button."""
    query = update.callback_query
    assert query is not None
    student = await _press_student(update, context)
    if student is None:
        return
    await toast(query)
    await drop_buttons(query)
    try:
        await begin(update, context, student, None)
    except TutorError as error:
        await reply(update, error_text(student.language, error))
