"""The offline Bot API fake answers like Telegram: state, validation, files, polling."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import (
    BadRequest,
    Conflict,
    TelegramError,
)

from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.objects import FakeUser
from tests.bot.demo_bot import tiny_png


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(x, callback_data=x.lower()) for x in labels]]
    )


async def test_initialize_asks_get_me(bot: Bot, fake_api: FakeBotApi) -> None:
    assert fake_api.calls[0].method == "getMe"
    assert bot.username == fake_api.username
    assert bot.id == fake_api.bot_id


async def test_message_ids_increase_per_chat_including_the_users_messages(
    bot: Bot, fake_api: FakeBotApi, alice: FakeUser
) -> None:
    first = await bot.send_message(alice.id, "one")
    fake_api.user_message(alice, "hello")  # the user's message takes the next id
    second = await bot.send_message(alice.id, "two")
    assert (first.message_id, second.message_id) == (1, 3)
    assert [m.text for m in fake_api.messages(alice.id)] == ["one", "two"]
    assert fake_api.last_message(alice.id).message_id == 3


async def test_sending_to_a_chat_that_never_wrote_fails(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(999, "hi")


async def test_inline_keyboard_is_stored_with_its_callback_data(
    bot: Bot, fake_api: FakeBotApi, alice: FakeUser
) -> None:
    await bot.send_message(alice.id, "Pick", reply_markup=keyboard("Yes", "No"))
    sent = fake_api.last_message(alice.id)
    assert sent.buttons == [[("Yes", "yes"), ("No", "no")]]
    assert sent.find_button("No") == ("No", "no")


async def test_callback_data_over_64_bytes_is_refused(bot: Bot, alice: FakeUser) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 33)]])
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(alice.id, "Pick", reply_markup=markup)


async def test_redundant_edits_are_refused_as_not_modified(
    bot: Bot, fake_api: FakeBotApi, alice: FakeUser
) -> None:
    sent = await bot.send_message(
        alice.id, "<b>Q1</b>", parse_mode="HTML", reply_markup=keyboard("A")
    )
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "<strong>Q1</strong>",
            alice.id,
            sent.message_id,
            parse_mode="HTML",
            reply_markup=keyboard("A"),
        )
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(alice.id, sent.message_id, reply_markup=keyboard("A"))
    # Editing the text without a markup removes the keyboard, as in Telegram.
    await bot.edit_message_text("<b>Q1</b> answered", alice.id, sent.message_id, parse_mode="HTML")
    stored = fake_api.last_message(alice.id)
    assert (stored.edited, stored.buttons, stored.plain) == (True, [], "Q1 answered")
    assert stored.history == ["<b>Q1</b>"]
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(alice.id, sent.message_id)


async def test_deleted_messages_cannot_be_edited_or_deleted_again(
    bot: Bot, fake_api: FakeBotApi, alice: FakeUser
) -> None:
    sent = await bot.send_message(alice.id, "bye")
    assert await bot.delete_message(alice.id, sent.message_id)
    assert fake_api.messages(alice.id) == []
    assert fake_api.messages(alice.id, include_deleted=True)[0].deleted
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(alice.id, sent.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", alice.id, sent.message_id)


@pytest.mark.parametrize(
    "text",
    [
        "<b>bold",  # never closed
        "1 < 2",  # bare '<'
        "line<br>break",  # unsupported tag
        "</b>",  # end tag without start
        "<b><i>x</b></i>",  # crossed tags
        '<span class="x">y</span>',  # span must be a spoiler
        "<a href=x>link",  # unclosed
    ],
)
async def test_malformed_html_is_refused_like_telegram(
    bot: Bot, alice: FakeUser, text: str
) -> None:
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(alice.id, text, parse_mode="HTML")


async def test_well_formed_html_is_accepted_and_decoded(
    bot: Bot, fake_api: FakeBotApi, alice: FakeUser
) -> None:
    text = (
        '&lt;tag&gt; AT&T &#39;q&#x27; <a href="https://example.org/?a=1&amp;b=2">link</a> <i>é</i>'
    )
    message = await bot.send_message(alice.id, text, parse_mode="HTML")
    assert fake_api.last_message(alice.id).plain == "<tag> AT&T 'q' link é"
    assert message.text == "<tag> AT&T 'q' link é"
    link = message.entities[0]
    assert (link.type, link.url) == ("text_link", "https://example.org/?a=1&b=2")
    # The same text without parse mode is plain text: no validation, shown as is.
    await bot.send_message(alice.id, "1 < 2 <b>", parse_mode=None)
    assert fake_api.last_message(alice.id).plain == "1 < 2 <b>"


async def test_empty_and_overlong_text_are_refused(bot: Bot, alice: FakeUser) -> None:
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(alice.id, "<b> </b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(alice.id, "x" * 4097)


async def test_send_photo_stores_the_uploaded_png(
    bot: Bot, fake_api: FakeBotApi, alice: FakeUser
) -> None:
    png = tiny_png(3, 2)
    message = await bot.send_photo(alice.id, png, caption="Stats", filename="stats.png")
    stored = fake_api.last_message(alice.id)
    assert stored.photo == png and stored.filename == "stats.png" and stored.text == "Stats"
    assert (message.photo[-1].width, message.photo[-1].height) == (3, 2)
    # Re-sending by file_id needs no upload and shows the same bytes.
    await bot.send_photo(alice.id, message.photo[-1].file_id)
    assert fake_api.last_message(alice.id).photo == png
    assert fake_api.files[message.photo[-1].file_id].mime_type == "image/png"
    files_before = len(fake_api.files)
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_photo(alice.id, b"not an image")
    assert len(fake_api.files) == files_before  # a refused upload stores nothing


async def test_sounds_and_files_get_telegram_like_ids_that_resend_without_upload(
    bot: Bot, fake_api: FakeBotApi, alice: FakeUser
) -> None:
    mp3, ogg = b"ID3" + bytes(40), b"OggS" + bytes(40)
    audio = await bot.send_audio(alice.id, InputFile(mp3, filename="bonjour.mp3"))
    voice = await bot.send_voice(alice.id, InputFile(ogg, filename="hello.ogg"))
    document = await bot.send_document(alice.id, InputFile(b"q,a\n", filename="deck.csv"))
    photo = await bot.send_photo(alice.id, tiny_png())
    assert audio.audio is not None and voice.voice is not None and document.document is not None
    ids = [
        audio.audio.file_id,
        voice.voice.file_id,
        document.document.file_id,
        photo.photo[-1].file_id,
    ]
    assert [i[:4] for i in ids] == ["CQAC", "AwAC", "BQAC", "AgAC"]  # as Telegram's begin
    assert all(len(i) > 50 and i.isascii() and " " not in i for i in ids)
    assert len(set(ids)) == 4
    assert fake_api.last_message(alice.id).photo is not None
    # By id: no upload, the same bytes reach the chat.
    again = await bot.send_audio(alice.id, audio.audio.file_id)
    assert again.audio is not None and again.audio.file_id == audio.audio.file_id
    assert fake_api.last_message(alice.id).audio == mp3
    await bot.send_voice(alice.id, voice.voice.file_id)
    assert fake_api.last_message(alice.id).voice == ogg
    assert fake_api.uploads("sendAudio") == [True, False]
    assert fake_api.uploads("sendVoice") == [True, False]
    # An id Telegram does not know (or no longer knows) gets its 400; so does a wrong kind.
    fake_api.forget_file(audio.audio.file_id)
    with pytest.raises(BadRequest, match="Wrong file identifier/http url specified"):
        await bot.send_audio(alice.id, audio.audio.file_id)
    with pytest.raises(BadRequest, match="Type of file mismatch"):
        await bot.send_audio(alice.id, photo.photo[-1].file_id)


async def test_send_document_from_a_file_object(
    bot: Bot, fake_api: FakeBotApi, alice: FakeUser
) -> None:
    await bot.send_document(alice.id, InputFile(b"front,back\n", filename="export.csv"))
    stored = fake_api.last_message(alice.id)
    assert (stored.document, stored.filename) == (b"front,back\n", "export.csv")
    assert fake_api.calls_of("sendDocument")[0].files["document"].data == b"front,back\n"


async def test_uploaded_file_can_be_fetched_and_downloaded(bot: Bot, fake_api: FakeBotApi) -> None:
    file_id = fake_api.add_file(b"q,a\n2+2,4\n", "deck.csv", "text/csv")
    telegram_file = await bot.get_file(file_id)
    assert telegram_file.file_size == 10
    assert bytes(await telegram_file.download_as_bytearray()) == b"q,a\n2+2,4\n"
    with pytest.raises(BadRequest, match="Invalid file_id"):
        await bot.get_file("nope")


async def test_answering_a_callback_twice_is_refused(
    bot: Bot, fake_api: FakeBotApi, alice: FakeUser
) -> None:
    await bot.send_message(alice.id, "Pick", reply_markup=keyboard("A"))
    update = fake_api.user_press(alice, fake_api.last_message(alice.id), "A")
    query_id = update["callback_query"]["id"]
    assert fake_api.unanswered_callbacks() == [query_id]
    assert await bot.answer_callback_query(query_id, "ok")
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id, "again")
    assert fake_api.unanswered_callbacks() == []


async def test_commands_menu_button_and_chat_action(
    bot: Bot, fake_api: FakeBotApi, alice: FakeUser
) -> None:
    from telegram import BotCommand, MenuButtonCommands

    await bot.set_my_commands([BotCommand("quiz", "Start a quiz")])
    await bot.set_my_commands([BotCommand("quiz", "开始测验")], language_code="zh")
    assert fake_api.commands_for() == [("quiz", "Start a quiz")]
    assert fake_api.commands_for("zh") == [("quiz", "开始测验")]
    assert [c.command for c in await bot.get_my_commands(language_code="zh")] == ["quiz"]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    await bot.set_chat_menu_button(menu_button=MenuButtonCommands())
    assert isinstance(await bot.get_chat_menu_button(), MenuButtonCommands)
    await bot.send_chat_action(alice.id, "upload_photo")
    assert fake_api.chat_actions == [(alice.id, "upload_photo")]


async def test_unknown_methods_get_a_clear_error(
    bot: Bot, fake_api: FakeBotApi, alice: FakeUser
) -> None:
    with pytest.raises(TelegramError, match="'sendDice' is not implemented by the fake"):
        await bot.send_dice(alice.id)
    assert fake_api.calls[-1].error is not None


async def test_an_update_built_before_a_confirmed_one_is_refused_not_lost(
    bot: Bot, fake_api: FakeBotApi, alice: FakeUser
) -> None:
    early = fake_api.user_message(alice, "built first, sent late")
    later = fake_api.user_message(alice, "built second, sent first")
    fake_api.queue_update(later)
    await bot.get_updates(timeout=0)
    await bot.get_updates(offset=later["update_id"] + 1, timeout=0)
    with pytest.raises(ValueError, match="build updates when they are sent"):
        fake_api.queue_update(early)


async def test_a_long_poll_left_behind_does_not_deafen_the_next_one(
    bot: Bot, fake_api: FakeBotApi, alice: FakeUser
) -> None:
    abandoned = asyncio.create_task(bot.get_updates(timeout=0.2))  # a killed bot's poll
    await asyncio.sleep(0.05)
    current = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.3)  # the abandoned poll times out and cleans up after itself
    assert await abandoned == ()
    fake_api.queue_update(fake_api.user_message(alice, "hello"))
    updates = await asyncio.wait_for(current, 5)
    assert [u.message.text for u in updates if u.message] == ["hello"]


async def test_get_updates_serves_queued_updates_and_honours_offset(
    bot: Bot, fake_api: FakeBotApi, alice: FakeUser
) -> None:
    first = fake_api.user_message(alice, "one")
    second = fake_api.user_message(alice, "two")
    fake_api.queue_update(first)
    fake_api.queue_update(second)
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates if u.message] == ["one", "two"]
    confirmed = await bot.get_updates(offset=second["update_id"], timeout=0)
    assert [u.update_id for u in confirmed] == [second["update_id"]]
    await bot.set_webhook("https://example.org/hook")
    with pytest.raises(Conflict):
        await bot.get_updates(timeout=0)
    await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates(timeout=0) == ()


async def test_a_wrong_token_is_unauthorized(fake_api: FakeBotApi) -> None:
    from telegram.error import InvalidToken

    stranger = Bot("42:not-the-fakes-token", request=fake_api, get_updates_request=fake_api)
    with pytest.raises(InvalidToken):
        await stranger.initialize()
