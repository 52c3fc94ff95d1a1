"""What the walk through a newcomer's first hour found, told as her story."""

from __future__ import annotations

from bot.fake_telegram.driver import ChatDriver
from tests.bot.stories.conftest import ADA, LEI, onboard

SOUND = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40


async def test_a_sound_for_a_card_is_refused_saying_what_a_card_can_carry(
    chat: ChatDriver,
) -> None:
    """Ada sends a sound file while writing a card. She used to read "I can only read text
    and button presses", which is not so (photos make cards) and did not say the card was
    still waiting for its text."""
    await onboard(chat, ADA)
    await chat.send(ADA, "/new")
    turn = await chat.upload(ADA, SOUND, "hello.wav")
    assert turn.text == (
        "A card can carry a picture, sent as a photo (not as a file), and a sound, sent as a"
        " voice note or an audio file, but not this kind of message. Nothing was saved: send"
        " the card's text (or a photo, or a sound), or /cancel to stop."
    )
    await chat.send(ADA, "Hello in French")
    turn = await chat.send(ADA, "Bonjour")
    assert "✅ Card saved (1 of 500): Hello in French → Bonjour" in turn.text  # the card went on

    # Outside a card, a file says what the bot reads, photos included, in her language.
    await onboard(chat, LEI)
    turn = await chat.upload(LEI, SOUND, "你好.wav")
    assert turn.text == (
        "我能读取文字、按钮、照片和声音（照片或语音消息配上说明“正面 | 背面”就成了你自己的卡片），"
        "读不了这类消息。发送 /help 查看我能做什么。"
    )
