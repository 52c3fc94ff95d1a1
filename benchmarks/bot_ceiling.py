"""The bot layer's ceiling: answers per second with PTB and the fake Bot API and no tutor.

The application is built as the bot's (:func:`bot.app.build_application`'s builder: the
shipped outgoing limiter, per-user ordering, ``FakeBotApi`` as the transport) and receives
the same updates as in :mod:`benchmarks.end_to_end` (``/quiz``, then button presses); its
handlers do what the quiz handlers do on the wire and nothing else: for each press, the
acknowledgement and the edit of the pressed question into its feedback (its buttons go with
it) at once, then the next question with four buttons (texts of the real messages' size,
made once). No service, no database, no rendering: whatever this reaches is the most the
bot can reach on this machine with PTB and this transport.

    .venv/bin/python -m benchmarks.end_to_end --ceiling --levels 1 100 --min-answers 3000
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler

from benchmarks.common import peak_rss_mb
from benchmarks.cpu_split import CpuSplit
from benchmarks.simulated_traffic import DRIVER, DistantBotApi, Driver, drive
from bot import callbacks
from bot.app import MAX_CONCURRENT_UPDATES, AnyApplication, rate_limiter
from bot.fake_telegram.api import FakeBotApi
from bot.settings import Settings
from bot.update_order import PerUserUpdateProcessor

QUESTION = "<b>Question 5/10</b> · Deck 00 · 🆕 new\n\nDeck 0 question 12: which of these is right?"
FEEDBACK = "✅ <b>Correct!</b>\n🗓 Review tomorrow (2026-11-29 00:00).\n5/10 · 4 correct"
CHOICES = 4
ASKED = "ceiling_asked"
"""``bot_data`` key: user id -> the question message (PTB's ``Message``) they were asked."""
FIRST_USER = 100


def question_keyboard(question_id: int) -> InlineKeyboardMarkup:
    """Four choices, one a row, with the quiz's callback data."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    f"option {k} of {question_id}", callback_data=callbacks.answer(question_id, k)
                )
            ]
            for k in range(CHOICES)
        ]
    )


_question_ids = itertools.count(1_000_001)


async def _ask(update: Update, context: Any) -> None:
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    message = await chat.send_message(
        QUESTION, parse_mode=ParseMode.HTML, reply_markup=question_keyboard(next(_question_ids))
    )
    context.bot_data.setdefault(ASKED, {})[user.id] = message


async def quiz(update: Update, context: Any) -> None:
    """/quiz: the first question."""
    await _ask(update, context)


async def press(update: Update, context: Any) -> None:
    """A choice: acknowledge and edit the question into its feedback at once, then ask again."""
    query = update.callback_query
    assert query is not None
    await asyncio.gather(
        query.answer(),
        query.edit_message_text(
            f"{QUESTION}\n\n{FEEDBACK}", parse_mode=ParseMode.HTML, disable_web_page_preview=True
        ),
    )
    await _ask(update, context)


def ceiling_application(
    settings: Settings,
    fake: FakeBotApi | None,
    *,
    token: str | None = None,
    pool: int | None = None,
) -> AnyApplication:
    """The bot's application builder with the wire-only quiz handlers.

    Over ``fake`` in process, or (``fake`` None) over PTB's own HTTP client to
    ``settings.telegram_api_base_url`` with ``token``, as the bot in production (``pool``:
    its connection pool size instead of PTB's default 256).
    """
    builder = (
        ApplicationBuilder()
        .token(fake.token if fake is not None else str(token))
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_api_file_base_url)
        .rate_limiter(rate_limiter(settings))
        .concurrent_updates(PerUserUpdateProcessor(MAX_CONCURRENT_UPDATES))
    )
    if fake is not None:
        builder = builder.request(fake).get_updates_request(fake)
    elif pool is not None:
        builder = builder.connection_pool_size(pool)
    application: AnyApplication = builder.build()
    application.add_handler(CommandHandler("quiz", quiz))
    application.add_handler(CallbackQueryHandler(press))
    return application


class Presser(Driver):
    """A student who starts a quiz and presses a choice of every question at once."""

    async def run(self, answers: int) -> None:
        """Answer ``answers`` questions."""
        with self.split.region(DRIVER):
            await self.feed(self.fake.user_message(self.user, "/quiz"))
            asked: dict[int, Message] = self.app.bot_data[ASKED]
            while self.answers < answers:
                message = self.fake.message(self.user.id, asked[self.user.id].message_id)
                assert message is not None and message.buttons
                choice = message.buttons[self.answers % CHOICES][0][1]
                await self.feed(self.fake.user_callback(self.user, message, choice))
                self.answers += 1


async def run_ceiling_level(
    students: int,
    answers: int,
    settings: Settings,
    limiter: bool = True,
    split_cpu: bool = True,
) -> dict[str, Any]:
    """``students`` pressing ``answers`` choices each, all at once."""
    split = CpuSplit(active=split_cpu)
    fake = DistantBotApi(0.0, split)
    app = ceiling_application(settings, fake)
    if not limiter:
        app.bot._rate_limiter = None
    drivers = [Presser(app, fake, FIRST_USER + k, split) for k in range(students)]
    await app.initialize()
    setup_calls = len(fake.calls)  # getMe
    try:
        measured = await drive(split, drivers, [d.run(answers) for d in drivers])
    finally:
        await app.shutdown()
    return {
        "students": students,
        "limiter": limiter,
        "transport": "in process",
        **measured,
        # Each student's first question (its /quiz) is not an answer's call.
        "calls_per_answer": (len(fake.calls) - setup_calls - students)
        / max(measured["answers"], 1),
        "failed_calls": sum(1 for c in fake.calls if not c.ok),
        "unanswered_presses": len(fake.unanswered_callbacks()),
        "peak_rss_mb": peak_rss_mb(),
    }


async def run_ceiling(
    levels: list[int],
    min_answers: int,
    answers: int,
    settings: Settings,
    *,
    both_limiters: bool = False,
    split_cpu: bool = True,
    http: bool = False,
    pool: int | None = None,
) -> list[dict[str, Any]]:
    """Every level, with the shipped limiter (and without it, if asked).

    With ``http``, the fake Bot API runs in a child process behind HTTP
    (:mod:`benchmarks.bot_ceiling_http`), with the shipped limiter only and ``pool``
    connections at most (default: PTB's).
    """
    results = []
    if http:
        from benchmarks.bot_ceiling_http import run_http_ceiling_level

        for level in levels:
            per_student = max(min_answers // level, answers)
            result = await run_http_ceiling_level(level, per_student, settings, split_cpu, pool)
            results.append(result)
        return results
    for limiter in (True, False) if both_limiters else (True,):
        for level in levels:
            per_student = max(min_answers // level, answers)
            result = await run_ceiling_level(level, per_student, settings, limiter, split_cpu)
            results.append(result)
    return results
