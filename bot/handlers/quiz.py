"""Quizzes: /quiz, answers by button or typed text, self-grades, feedback, /stop."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable
from datetime import datetime
from typing import Any, NoReturn

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import callbacks, media, render
from bot.callbacks import AnswerPress, GradePress, QuizPress, RevealPress
from bot.handlers.common import (
    Context,
    drop_buttons,
    edit,
    error_text,
    guarded,
    log,
    pressing_student,
    reply,
    service_of,
    started_student,
    toast,
    user_data,
)
from bot.handlers.delivery import redraw
from bot.i18n import Html, counted, plain, t
from tutor.errors import QuestionNotFound, StaleQuestion, TutorError
from tutor.items import ItemKind
from tutor.matching import true_false_word
from tutor.students import Student
from tutor.views import Answer, ChoiceReason, Feedback, Question, StalledQuiz

MAX_QUIZ_LENGTH = 50
TYPED_ANSWER_LIMIT = 300
_QUESTION_MESSAGE = "question_message"
_REVEALED = "revealed_question"  # the flashcard whose answer the student was shown


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


async def begin(
    update: Update,
    context: Context,
    student: Student,
    length: int | None,
    *,
    anew: bool = False,
) -> None:
    """Start a session and ask its first question; a quiz whose next step never reached the
    student carries on instead (its last feedback and open question, or its summary). While
    a quiz is running, the student is asked whether to carry on with it, unless ``anew``."""
    user_data(context).pop("awaiting", None)
    service = service_of(context)
    stalled = await service.stalled_quiz(student.id)
    if stalled is not None:
        if stalled.running:
            await reply(update, t(student.language, "quiz.resumed"))
        await resume(update, context, student, stalled)
        return
    if not anew:
        running = await service.open_question(student.id)
        if running is not None:
            await reply(update, *running_quiz_prompt(student.language, running, length))
            return
    await _clear_previous_question(context)
    question = await service.start_quiz(student, length)
    if question is None:
        await reply(update, t(student.language, "quiz.nothing_to_study"))
        return
    await send_question(update, context, student.language, question)


def running_quiz_prompt(
    lang: str, running: Question, length: int | None
) -> tuple[Html, InlineKeyboardMarkup]:
    """ "You are in the middle of a quiz": carry on with it, or start a new one."""
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    plain(lang, "button.carry_on_quiz"), callback_data=callbacks.carry_on_quiz()
                ),
                InlineKeyboardButton(
                    plain(lang, "button.new_quiz"), callback_data=callbacks.new_quiz(length)
                ),
            ]
        ]
    )
    text = t(lang, "quiz.running", number=running.number, total=running.total)
    return text, keyboard


async def send_question(update: Update, context: Context, lang: str, question: Question) -> None:
    """Send a question (as a photo with caption when it has a picture, after its sound when
    it has one) and remember it."""
    chat = update.effective_chat
    assert chat is not None
    rendered = render.question_message(lang, question)
    note = await media.question_sound(chat, service_of(context), lang, question)
    if note is not None:
        rendered = dataclasses.replace(rendered, text=Html(f"{rendered.text}\n\n{note}"))
    message: Message | None = None
    pictured = False  # the picture reached the chat (with the question, or above it)
    if rendered.image is not None:
        message, pictured = await _send_photo(update, context, rendered, question)
    if message is None:
        text = rendered.text
        if rendered.image is not None and not pictured:
            text = Html(f"{text}\n\n{t(lang, 'quiz.image_missing')}")
        message = await chat.send_message(
            text, parse_mode=ParseMode.HTML, reply_markup=rendered.keyboard
        )
    await service_of(context).set_message(question.id, message.message_id)
    user_data(context)[_QUESTION_MESSAGE] = (message.chat_id, message.message_id)
    user_data(context).pop(_REVEALED, None)  # shown anew (Carry on): its answer is hidden


async def _send_photo(
    update: Update, context: Context, rendered: render.RenderedQuestion, question: Question
) -> tuple[Message | None, bool]:
    """The question as a photo, and whether the picture was sent.

    The message is None when the text is too long for a caption (the picture went alone)
    or when Telegram did not take the picture (refused, 5xx, timeout): the question then
    comes as text. A blocked bot (403) is left to the text send, which fails the same way.
    """
    chat = update.effective_chat
    assert chat is not None and question.picture is not None
    service = service_of(context)
    try:
        if len(rendered.text) <= render.CAPTION_LIMIT:
            message = await media.send_picture(
                chat,
                service,
                question.picture,
                caption=rendered.text,
                parse_mode=ParseMode.HTML,
                reply_markup=rendered.keyboard,
            )
            return message, True
        await media.send_picture(chat, service, question.picture)
    except Forbidden:
        return None, False
    except TelegramError as error:
        log.warning("question picture not sent: %s", error.message)
        return None, False
    return None, True


async def _clear_previous_question(context: Context) -> None:
    """Remove the buttons of the last question shown, if any (best effort)."""
    where = user_data(context).pop(_QUESTION_MESSAGE, None)
    if where is None:
        return
    chat_id, message_id = where
    with contextlib.suppress(BadRequest):
        await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)


class NotDelivered(Exception):
    """A Telegram call after a stored answer failed: the student may have missed its
    feedback, the next question or the summary. ``key`` names the catalog text that says
    how to see it again (``bot.app.on_error`` sends it); the cause is Telegram's error."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


async def _deliver(sending: Awaitable[object], key: str) -> None:
    """Await a message to the student; a Telegram failure becomes :class:`NotDelivered`."""
    try:
        await sending
    except TelegramError as error:
        _lost(error, key)


def _lost(error: BaseException, key: str) -> NoReturn:
    """Raise :class:`NotDelivered` for Telegram's ``error``; any other error as it is, and
    403 too (a student who blocked the bot can be told nothing)."""
    if isinstance(error, TelegramError) and not isinstance(error, Forbidden):
        raise NotDelivered(key) from error
    raise error


async def after_answer(
    update: Update,
    context: Context,
    student: Student,
    feedback: Feedback,
    *,
    pressed: bool = False,
    typed_choice: bool = False,
) -> None:
    """Feedback, then the next question or the session summary. ``pressed``: the answer
    came by a button press: the pressed question is edited into its feedback, which removes
    its buttons in the same call, and the query is acknowledged alongside. ``typed_choice``:
    a choice typed as a word ("t", "对"): the reply says which one it was taken as.

    A press costs three Bot API calls (the acknowledgement, the edit, the next question); a
    typed answer two (the feedback as a reply, since the student's message cannot be edited,
    and the next question). The feedback, the acknowledgement and the choice of the next
    question run at once: each Telegram call is a round trip, and only the next question
    must wait for the feedback. If the feedback fails, the next question is not sent: the
    service then knows it never reached the student, so pressing the same answer again (its
    buttons still there, as the edit did not happen) or /quiz shows both.
    """
    service = service_of(context)
    lang = student.language
    user_data(context).pop(_QUESTION_MESSAGE, None)
    query = update.callback_query if pressed else None
    now = service.now()
    if query is not None:
        acks = [_quietly(toast(query), "acknowledging an answer")]
        telling: Awaitable[object] = _edit_into_feedback(query, update, student, feedback, now)
    else:
        acks = []
        text = render.feedback_message(lang, feedback, tz_name=student.timezone, now=now)
        chosen = feedback.question.item.kind in (ItemKind.MULTIPLE_CHOICE, ItemKind.TRUE_FALSE)
        # A choice typed as a word, or feedback shown again (its question's edit, which
        # said the choice, was lost): the reply says which choice it was.
        if feedback.given and (typed_choice or (chosen and feedback.duplicate)):
            given = render.answer_label(lang, feedback.question, feedback.given)
            text = Html(f"{t(lang, 'feedback.your_answer', given=given)}\n{text}")
        telling = reply(update, text)
    sending = asyncio.gather(telling, *acks, return_exceptions=True)
    try:
        following = await service.next_question(student)
    finally:
        sent, *others = await sending
    _raise_any(others)
    if isinstance(sent, BaseException):
        _lost(sent, "quiz.lost_feedback" if pressed else "quiz.lost_feedback_typed")
    if feedback.grade is None and update.effective_chat:  # else it came with "Show answer"
        await media.answer_sound(update.effective_chat, service, lang, feedback.question)
    if following is None:
        summary = render.summary_message(lang, feedback.progress)
        await _deliver(reply(update, summary), "quiz.lost_summary")
        await service.summary_shown(feedback.question.id)
    else:
        await _deliver(send_question(update, context, lang, following), "quiz.lost_question")


async def _edit_into_feedback(
    query: CallbackQuery, update: Update, student: Student, feedback: Feedback, now: datetime
) -> None:
    """Edit the pressed question into its feedback (buttons gone in the same edit). If
    Telegram refuses the edit for good (too long for a caption, the message too old or
    gone), the feedback comes as a new message and the buttons go separately."""
    lang = student.language
    message = query.message
    caption = isinstance(message, Message) and bool(message.photo or message.document)
    tz_name = student.timezone
    text = render.answered_message(lang, feedback, tz_name=tz_name, now=now, caption=caption)
    if text is not None and await edit(query, text, None):
        return
    await reply(update, render.feedback_message(lang, feedback, tz_name=student.timezone, now=now))
    await _quietly(drop_buttons(query), "removing the answered buttons")


async def _quietly(call: Awaitable[object], what: str) -> None:
    """A call the student misses nothing by when it fails (an acknowledgement): logged."""
    try:
        await call
    except TelegramError as error:
        log.info("%s failed: %s", what, error.message)


def _raise_any(outcomes: list[Any]) -> None:
    """Raise the first exception among ``asyncio.gather(..., return_exceptions=True)``'s."""
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


async def resume(update: Update, context: Context, student: Student, stalled: StalledQuiz) -> None:
    """Show a stalled quiz's last feedback again, then its open question or its summary."""
    if stalled.feedback is not None:
        await after_answer(update, context, student, stalled.feedback)
        return
    question = await service_of(context).next_question(student)
    if question is None:
        await reply(update, t(student.language, "quiz.nothing_to_study"))
        return
    await _deliver(send_question(update, context, student.language, question), "quiz.lost_question")


async def _answer(
    update: Update, context: Context, student: Student, question_id: int, answer: Answer
) -> None:
    """Record a button answer or self-grade, then acknowledge and move on."""
    query = update.callback_query
    assert query is not None
    lang = student.language
    try:
        feedback = await service_of(context).answer(student, question_id, answer)
    except StaleQuestion:
        await toast(query, plain(lang, "callback.stale"))
        await drop_buttons(query)
        return
    except QuestionNotFound:
        await toast(query, plain(lang, "callback.invalid"))
        return
    if feedback.duplicate and not feedback.resend:
        await toast(query, await _already_answered(context, student))
        return
    # A first answer, or a repeat whose feedback and next step never reached the student
    # (a lost message, a restart): both show the feedback, then what follows.
    await after_answer(update, context, student, feedback, pressed=True)


async def _already_answered(context: Context, student: Student) -> str:
    """The toast for a press on an answered question: where the open one is, if any."""
    waiting = await service_of(context).open_question(student.id)
    if waiting is None:
        return plain(student.language, "callback.already_answered")
    return plain(
        student.language,
        "callback.already_answered_waiting",
        number=waiting.number,
        total=waiting.total,
    )


async def answer_press(update: Update, context: Context, press: AnswerPress) -> None:
    """A multiple-choice or true/false button."""
    student = await pressing_student(update, context)
    if student is not None:
        await _answer(update, context, student, press.question_id, Answer(choice=press.choice))


async def grade_press(update: Update, context: Context, press: GradePress) -> None:
    """Again / Hard / Good / Easy after the answer was shown."""
    student = await pressing_student(update, context)
    if student is not None:
        await _answer(update, context, student, press.question_id, Answer(grade=press.grade))


async def reveal_press(update: Update, context: Context, press: RevealPress) -> None:
    """Show a flashcard's or cloze's answer with the grade buttons."""
    query = update.callback_query
    assert query is not None
    student = await pressing_student(update, context)
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
    user_data(context)[_REVEALED] = question.id
    is_media = isinstance(query.message, Message) and bool(query.message.photo)
    text = render.revealed_message(lang, question, caption=is_media)
    keyboard = render.grade_keyboard(lang, question.id)
    # Too long for a caption, or the message is gone: the answer comes anew; a 5xx is
    # tried again rather than answered with an apology.
    await redraw(update, query, text, keyboard, drop_old=True)
    if update.effective_chat:
        await media.answer_sound(update.effective_chat, service_of(context), lang, question)


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
    lang = student.language
    if question is None or not question.shown:
        # Never mark an answer against a question the student has not seen: show it, after
        # the feedback that may have been lost with it.
        stalled = await service.stalled_quiz(student.id)
        if stalled is None:
            return False
        await reply(update, t(lang, "quiz.resumed_typed"))
        await resume(update, context, student, stalled)
        return True
    answer = Answer(text=text)
    if question.item.kind is ItemKind.TRUE_FALSE:
        truth = true_false_word(text)
        if truth is None:
            await reply(update, t(lang, "text.use_true_false"))
            return True
        answer = Answer(choice=question.choices.index("true" if truth else "false"))
    elif question.item.kind not in (ItemKind.TYPED, ItemKind.CLOZE):
        await reply(update, _use_buttons(context, lang, question))
        return True
    if len(text) > TYPED_ANSWER_LIMIT:
        await reply(update, t(lang, "text.too_long"))
        return True
    try:
        feedback = await service.answer(
            student, question.id, answer, update_key=_update_key(update)
        )
    except StaleQuestion:
        return False
    if feedback.duplicate and not feedback.resend:
        return True
    if question.item.kind is ItemKind.TRUE_FALSE:  # its True/False buttons go, as on a press
        await _quietly(_clear_previous_question(context), "removing the answered buttons")
    elif question.item.kind is ItemKind.CLOZE or question.reason is ChoiceReason.PRACTICE:
        await _clear_previous_question(context)  # "Show answer" or "more new" is moot now
    await after_answer(update, context, student, feedback, typed_choice=answer.choice is not None)
    return True


def _use_buttons(context: Context, lang: str, question: Question) -> Html:
    """What to press instead of typing: a flashcard's Show answer (or, once shown, its
    grades), else the buttons under the question."""
    if question.item.kind is ItemKind.FLASHCARD:
        shown = user_data(context).get(_REVEALED) == question.id
        return t(lang, "text.use_grades" if shown else "text.use_show_answer")
    return t(lang, "text.use_buttons")


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
        update,
        t(
            lang,
            counted("quiz.stopped", progress.answered),
            answered=progress.answered,
            correct=progress.correct,
        ),
    )


async def quiz_press(update: Update, context: Context, press: QuizPress) -> None:
    """ "Start a quiz", "Carry on" (the running quiz's open question again) or "New quiz"."""
    query = update.callback_query
    assert query is not None
    student = await pressing_student(update, context)
    if student is None:
        return
    await toast(query)
    await drop_buttons(query)
    try:
        if press.action == "on":
            running = await service_of(context).open_question(student.id)
            if running is not None:
                await send_question(update, context, student.language, running)
                return
        await begin(update, context, student, press.length or None, anew=press.action != "go")
    except TutorError as error:
        await reply(update, error_text(student.language, error))
