"""Whole conversations through a real Application on the offline Bot API (demo bot)."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable
from typing import Any

import pytest
from telegram import Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, BaseUpdateProcessor, CommandHandler, ContextTypes

from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver
from bot.fake_telegram.objects import FakeChat, FakeUser


async def test_a_command_gets_a_reply_with_buttons(chat: ChatDriver, alice: FakeUser) -> None:
    turn = await chat.send(alice, "/start")
    assert turn.text == "Welcome, Alice! Choose a language:"
    (reply,) = turn.new
    assert reply.chat_id == alice.id
    assert reply.text == "Welcome, <b>Alice</b>! Choose a language:"
    assert chat.buttons(alice) == ["English", "中文"]
    assert chat.last(alice) is reply


async def test_a_deep_link_payload_reaches_the_handler(chat: ChatDriver, li: FakeUser) -> None:
    turn = await chat.send(li, "/start deck_42")
    assert turn.new[0].plain.endswith("Deck: deck_42")


async def test_user_names_with_markup_are_escaped_by_the_handler(chat: ChatDriver) -> None:
    tricky = FakeUser(7, "<Bob & co>")
    turn = await chat.send(tricky, "/start")
    assert turn.text.startswith("Welcome, <Bob & co>!")


async def test_pressing_a_button_answers_the_query_and_edits_the_message(
    chat: ChatDriver, alice: FakeUser, fake_api: FakeBotApi
) -> None:
    await chat.send(alice, "/start")
    question = chat.last(alice)
    turn = await chat.press(alice, "中文")
    assert turn.answer is not None and turn.answer.text == "Language set"
    assert turn.edited == [question]
    assert question.plain == "Language: 中文" and question.buttons == []
    assert turn.new == []
    assert fake_api.unanswered_callbacks() == []
    with pytest.raises(LookupError, match="no message in chat"):
        await chat.press(alice, "English")  # the buttons are gone


async def test_a_forged_callback_is_handled_by_the_bot(chat: ChatDriver, alice: FakeUser) -> None:
    await chat.send(alice, "/start")
    turn = await chat.press_data(alice, chat.last(alice), "lang:xx")
    assert turn.answer is not None
    assert (turn.answer.text, turn.answer.show_alert) == ("Unknown choice", True)


async def test_a_redundant_edit_in_a_handler_fails_the_turn(
    chat: ChatDriver, alice: FakeUser
) -> None:
    await chat.send(alice, "/same")
    with pytest.raises(BadRequest, match="Message is not modified"):
        await chat.press(alice, "Again")
    chat.raise_errors = False
    turn = await chat.press(alice, "Again")
    assert [type(e) for e in turn.errors] == [BadRequest]
    assert turn.failed[0].method == "editMessageText"


async def test_broken_html_from_a_handler_is_caught(chat: ChatDriver, alice: FakeUser) -> None:
    with pytest.raises(
        BadRequest,
        match="Can't parse entities: can't find end tag corresponding to start tag \"b\"",
    ):
        await chat.send(alice, "/broken")
    assert chat.messages(alice) == []


async def test_a_chart_arrives_as_a_png_photo(chat: ChatDriver, alice: FakeUser) -> None:
    turn = await chat.send(alice, "/chart")
    (photo,) = turn.new
    assert photo.photo is not None and photo.photo.startswith(b"\x89PNG\r\n\x1a\n")
    assert (photo.filename, photo.plain) == ("chart.png", "Your chart")


async def test_an_uploaded_document_is_downloaded_by_the_bot(
    chat: ChatDriver, alice: FakeUser
) -> None:
    turn = await chat.upload(
        alice, b"front,back\ncat,gato\ndog,perro\n", "deck.csv", caption="/import"
    )
    assert turn.text == "Got deck.csv (/import): 3 lines, first front,back"
    assert [c.method for c in turn.calls] == ["getFile", "sendMessage"]


async def test_non_blocking_handlers_and_their_tasks_finish_within_the_turn(
    chat: ChatDriver, alice: FakeUser
) -> None:
    turn = await chat.send(alice, "/slow")
    assert [m.text for m in turn.new] == ["slow part one", "slow part two"]


async def test_a_redelivered_update_is_the_same_update(
    chat: ChatDriver, alice: FakeUser, fake_api: FakeBotApi
) -> None:
    update = fake_api.user_message(alice, "hello")
    original = copy.deepcopy(update)
    first = await chat.feed(update)
    again = await chat.redeliver(update)
    assert first.text == "You said: hello"
    assert again.new == []  # the demo bot ignores an update id it has seen
    assert again.updates == [original]  # processing did not alter the update
    assert fake_api.received[-2:] == [original, original]


async def test_update_and_message_ids_increase(
    chat: ChatDriver, alice: FakeUser, fake_api: FakeBotApi
) -> None:
    one = fake_api.user_message(alice, "a")
    two = fake_api.user_message(alice, "b")
    assert two["update_id"] == one["update_id"] + 1
    assert two["message"]["message_id"] == one["message"]["message_id"] + 1


async def test_a_command_in_a_group_is_answered_in_the_group(
    chat: ChatDriver, alice: FakeUser, group: FakeChat, fake_api: FakeBotApi
) -> None:
    turn = await chat.send(alice, f"/start@{fake_api.username}", chat=group)
    (reply,) = turn.new
    assert reply.chat_id == group.id
    assert chat.messages(alice) == []
    assert turn.updates[0]["message"]["chat"]["type"] == "group"
    turn = await chat.press(alice, "English", chat=group)
    assert chat.last(group).plain == "Language: English"


async def test_two_presses_at_once_run_concurrently(
    chat: ChatDriver, alice: FakeUser, fake_api: FakeBotApi
) -> None:
    await chat.send(alice, "/start")
    question = chat.last(alice)
    first = fake_api.user_press(alice, question, "English")
    second = fake_api.user_press(alice, question, "English")
    chat.raise_errors = False
    turn = await chat.feed(first, second, concurrently=True)
    # Both handlers answered; the second edit found nothing to change.
    assert len(turn.answers) == 2
    assert [c.ok for c in turn.calls if c.method == "editMessageText"] == [True, False]


async def test_lifecycle_hooks_run_like_run_polling(fake_api: FakeBotApi, alice: FakeUser) -> None:
    events: list[str] = []

    async def post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        events.append("post_init")
        await app.bot.set_my_commands([("start", "Begin")])

    async def post_shutdown(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        events.append("post_shutdown")

    application = (
        fake_api.application_builder().post_init(post_init).post_shutdown(post_shutdown).build()
    )
    async with ChatDriver(application) as driver:
        assert application.running
        assert driver.fake is fake_api
    assert events == ["post_init", "post_shutdown"]
    assert fake_api.commands_for() == [("start", "Begin")]


async def test_a_task_that_never_ends_fails_the_turn_instead_of_hanging(
    fake_api: FakeBotApi, alice: FakeUser
) -> None:
    async def forever(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await asyncio.sleep(3600)

    application = fake_api.application_builder().build()
    application.add_handler(CommandHandler("hang", forever, block=False))
    async with ChatDriver(application, settle_timeout=0.05) as driver:
        with pytest.raises(TimeoutError, match="tasks still running"):
            await driver.send(alice, "/hang")
        for task in asyncio.all_tasks():
            if "process_update_non_blocking" in task.get_name():
                task.cancel()


def test_the_driver_needs_the_fake() -> None:
    application = Application.builder().token("1:x").build()
    with pytest.raises(TypeError, match="FakeBotApi"):
        ChatDriver(application)


async def test_long_polling_through_the_updater(fake_api: FakeBotApi, alice: FakeUser) -> None:
    from tests.bot.demo_bot import build_demo_application

    application = build_demo_application(fake_api)
    async with application:
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=5)
        await application.start()
        fake_api.queue_update(fake_api.user_message(alice, "polled"))
        for _ in range(200):
            if fake_api.messages(alice.id):
                break
            await asyncio.sleep(0.01)
        await application.updater.stop()
        await application.stop()
    assert fake_api.last_message(alice.id).text == "You said: polled"
    assert "deleteWebhook" in [c.method for c in fake_api.calls]


async def test_a_self_hosted_base_url_is_honoured(fake_api: FakeBotApi, alice: FakeUser) -> None:
    application = (
        fake_api.application_builder()
        .base_url("http://127.0.0.1:8081/bot")
        .base_file_url("http://127.0.0.1:8081/file/bot")
        .build()
    )
    async with ChatDriver(application) as driver:
        file_id = fake_api.add_file(b"x", "a.txt")
        telegram_file = await driver.application.bot.get_file(file_id)
        assert telegram_file.file_path is not None
        assert telegram_file.file_path.startswith("http://127.0.0.1:8081/file/bot")
        assert bytes(await telegram_file.download_as_bytearray()) == b"x"


async def test_a_job_runs_on_demand_and_a_blocked_user_is_skipped(
    fake_api: FakeBotApi, alice: FakeUser
) -> None:
    bob = FakeUser(202, "Bob")
    inactive: list[int] = []

    async def remind(context: ContextTypes.DEFAULT_TYPE) -> None:
        for user in (alice, bob):
            try:
                await context.bot.send_message(user.id, "Time for your daily quiz")
            except Forbidden:
                inactive.append(user.id)

    application = fake_api.application_builder().build()
    assert application.job_queue is not None
    application.job_queue.run_repeating(remind, interval=3600, first=3600, name="reminders")
    for user in (alice, bob):
        fake_api.register_user(user)
    fake_api.block(bob.id)
    async with ChatDriver(application) as driver:
        turn = await driver.run_job("reminders")
        with pytest.raises(LookupError):
            await driver.run_job("nothing")
        extra = await driver.run(driver.application.bot.send_message(alice.id, "Good luck!"))
    assert [(m.chat_id, m.text) for m in turn.new] == [(alice.id, "Time for your daily quiz")]
    assert [(c.chat_id, c.error) for c in turn.failed] == [
        (bob.id, "Forbidden: bot was blocked by the user")
    ]
    assert inactive == [bob.id]
    assert extra.text == "Good luck!"


class RecordingProcessor(BaseUpdateProcessor):
    """Serialises all updates and records them, to show the driver goes through it."""

    def __init__(self) -> None:
        super().__init__(max_concurrent_updates=4)
        self.lock = asyncio.Lock()
        self.seen: list[int] = []

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        async with self.lock:
            assert isinstance(update, Update)
            self.seen.append(update.update_id)
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


async def test_updates_go_through_the_applications_update_processor(
    fake_api: FakeBotApi, alice: FakeUser
) -> None:
    from tests.bot.demo_bot import start

    processor = RecordingProcessor()
    application = fake_api.application_builder().concurrent_updates(processor).build()
    application.add_handler(CommandHandler("start", start))
    async with ChatDriver(application) as driver:
        updates = [fake_api.user_message(alice, "/start") for _ in range(3)]
        turn = await driver.feed(*updates, concurrently=True)
    assert processor.seen == [u["update_id"] for u in updates]
    assert len(turn.new) == 3


async def test_an_edited_message_arrives_as_edited_message(
    chat: ChatDriver, alice: FakeUser, fake_api: FakeBotApi
) -> None:
    original = fake_api.user_message(alice, "Lyon")
    edited = fake_api.user_edit(original, "Paris")
    assert edited["update_id"] == original["update_id"] + 1
    assert edited["edited_message"]["message_id"] == original["message"]["message_id"]
    assert edited["edited_message"]["text"] == "Paris" and "message" not in edited
    turn = await chat.feed(edited)
    assert turn.text == "You said: Paris"  # PTB's MessageHandler also sees edited messages
