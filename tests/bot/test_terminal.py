"""The terminal chat: typed lines in, the bot's messages printed out."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.objects import FakeUser
from bot.terminal import run_terminal_chat
from tests.bot.demo_bot import tiny_png

App = Application[Any, Any, Any, Any, Any, Any]


async def chat_script(application: App, user: FakeUser, script: str, media: Path) -> str:
    out = io.StringIO()
    await run_terminal_chat(
        application,
        input_stream=io.StringIO(script),
        output_stream=out,
        user=user,
        media_dir=media,
        banner=None,
    )
    return out.getvalue()


async def test_a_scripted_session_shows_numbered_buttons_and_presses_by_number(
    application: App, fake_api: FakeBotApi, alice: FakeUser, tmp_path: Path
) -> None:
    output = await chat_script(
        application, alice, "/start\n2\nhello\n\\2\n/chart\nquit\n/never\n", tmp_path
    )
    lines = output.splitlines()
    assert lines[:6] == [
        "bot: Welcome, Alice! Choose a language:",
        "     [1] English  [2] 中文",
        "bot (notice): Language set",
        "bot (edited): Language: 中文",
        "bot: You said: hello",
        "bot: You said: 2",
    ]
    assert lines[6].startswith("bot: [photo] ")
    photo = Path(lines[6].removeprefix("bot: [photo] "))
    assert photo.parent == tmp_path
    assert photo.read_bytes().startswith(b"\x89PNG")
    assert lines[7:] == ["     Your chart"]
    # Nothing after "quit" was sent.
    assert all(u.get("message", {}).get("text") != "/never" for u in fake_api.received)


async def test_numbers_beyond_the_buttons_are_sent_as_text_and_eof_ends(
    application: App, alice: FakeUser, tmp_path: Path
) -> None:
    output = await chat_script(application, alice, "/start\n7", tmp_path)
    assert output.splitlines()[-1] == "bot: You said: 7"


async def test_uploading_a_file_and_seeing_bot_errors(
    application: App, alice: FakeUser, tmp_path: Path
) -> None:
    deck = tmp_path / "deck.csv"
    deck.write_text("front,back\nsun,sol\n", encoding="utf-8")
    script = f":file {deck} /import\n/broken\n:file {tmp_path / 'missing.csv'}\nexit\n"
    output = await chat_script(application, alice, script, tmp_path)
    lines = output.splitlines()
    assert lines[0] == "bot: Got deck.csv (/import): 2 lines, first front,back"
    assert lines[1].startswith("(the bot raised BadRequest: Can't parse entities")
    assert lines[2].startswith("(cannot do that:")


async def test_the_banner_is_printed_first(
    application: App, alice: FakeUser, tmp_path: Path
) -> None:
    out = io.StringIO()
    await run_terminal_chat(
        application, input_stream=io.StringIO(""), output_stream=out, user=alice, media_dir=tmp_path
    )
    assert out.getvalue().startswith("metatutor chat (offline).")


async def test_an_unnamed_photo_is_saved_under_its_image_type(
    fake_api: FakeBotApi, alice: FakeUser, tmp_path: Path
) -> None:
    async def picture(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat
        await context.bot.send_photo(update.effective_chat.id, tiny_png())

    application = fake_api.application_builder().build()
    application.add_handler(CommandHandler("pic", picture))
    output = await chat_script(application, alice, "/pic\n", tmp_path)
    saved = Path(output.strip().removeprefix("bot: [photo] "))
    assert saved.name.endswith("_photo.png") and saved.read_bytes() == tiny_png()


async def test_a_number_under_a_message_without_buttons_is_text_not_an_old_button(
    fake_api: FakeBotApi, alice: FakeUser, tmp_path: Path
) -> None:
    """A typed answer "3" under a question without buttons is sent as text, even when an
    older message (a settings panel) still shows buttons."""

    async def panel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(s, callback_data=s) for s in "abc"]])
        await context.bot.send_message(update.effective_chat.id, "Panel", reply_markup=markup)

    async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat
        await context.bot.send_message(update.effective_chat.id, "How many? Type it.")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat and update.effective_message
        await context.bot.send_message(
            update.effective_chat.id, f"You said: {update.effective_message.text}"
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query
        await update.callback_query.answer(f"pressed {update.callback_query.data}")

    application = fake_api.application_builder().build()
    application.add_handler(CommandHandler("panel", panel))
    application.add_handler(CommandHandler("question", question))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.add_handler(CallbackQueryHandler(pressed))
    output = await chat_script(application, alice, "/panel\n3\n/question\n3\n", tmp_path)
    assert output.splitlines()[-2:] == ["bot: How many? Type it.", "bot: You said: 3"]
    assert "bot (notice): pressed c" in output  # under the panel itself, 3 presses its button


async def test_a_message_sent_and_edited_in_one_turn_shows_both_versions(
    fake_api: FakeBotApi, alice: FakeUser, tmp_path: Path
) -> None:
    """A progress message edited into its outcome reads as "⏳ Working…" then the outcome,
    not the outcome twice."""

    async def work(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat
        status = await context.bot.send_message(update.effective_chat.id, "⏳ Working…")
        await status.edit_text("✅ Done")

    application = fake_api.application_builder().build()
    application.add_handler(CommandHandler("work", work))
    output = await chat_script(application, alice, "/work\n", tmp_path)
    assert output.splitlines() == ["bot: ⏳ Working…", "bot (edited): ✅ Done"]
