"""The "➕ more new questions today" button under an extra-practice question."""

from __future__ import annotations

from telegram import Update

from bot.callbacks import MoreNewPress
from bot.handlers.common import (
    Context,
    drop_buttons,
    edit,
    pressing_student,
    reply,
    service_of,
    toast,
)
from bot.handlers.quiz import send_question
from bot.i18n import plain, t
from tutor.errors import QuestionNotFound, StaleQuestion


async def more_new_press(update: Update, context: Context, press: MoreNewPress) -> None:
    """The practice question makes way for new questions, from now on today."""
    query = update.callback_query
    assert query is not None
    student = await pressing_student(update, context)
    if student is None:
        return
    lang = student.language
    service = service_of(context)
    try:
        await service.more_new_items(student.id, press.question_id)
    except StaleQuestion:
        await toast(query, plain(lang, "more_new.too_late"))
        await drop_buttons(query)
        return
    except QuestionNotFound:
        await toast(query, plain(lang, "callback.invalid"))
        return
    await toast(query)
    if not await edit(query, t(lang, "more_new.replaced"), None):
        await drop_buttons(query)
    question = await service.next_question(student)
    if question is None:
        await reply(update, t(lang, "quiz.nothing_to_study"))
        return
    await send_question(update, context, lang, question)
