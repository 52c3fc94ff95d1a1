"""Stories of sounds on students' own cards: Ada, learning French words, records how they
sound; her cards play them in her quizzes the way a deck's words do."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver
from bot.fake_telegram.faults import DOWNLOAD
from bot.i18n import plain
from storage.database import fetch_all
from tests.bot.stories.conftest import ADA, LEI, story_settings
from tests.bot.stories.test_own_cards import JPEG, _question, only_own_cards
from tests.tutor.content.test_sounds import M4A, MP3, OGG
from tutor.content import parse_deck_file
from tutor.own_cards import OwnCards
from tutor.service import TutorService


async def _media_names(tutor: TutorService) -> list[str]:
    async with tutor.db.read() as conn:
        rows = await fetch_all(
            conn,
            "SELECT m.name FROM media m JOIN decks d ON d.id = m.deck_id"
            " WHERE d.owner_id IS NOT NULL ORDER BY m.name",
        )
    return [row[0] for row in rows]


async def test_a_voice_note_at_the_front_plays_with_the_question(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await only_own_cards(chat, tutor, ADA)
    await chat.send(ADA, "/new")
    turn = await chat.send_sound(ADA, OGG, "voice.ogg", voice=True, duration=2)
    assert turn.text == (
        "🔊 Sound kept: it will play with the question. Now send the card's front (the"
        " question). /cancel stops."
    )
    await chat.send(ADA, "What do you hear?")
    turn = await chat.send(ADA, "chien (dog)")
    assert turn.text.startswith("✅ Card saved 🔊 (1 of 500): What do you hear? → chien (dog)")
    assert turn.text.endswith("🔊 Its sound plays just before the question.")

    turn = await chat.send(ADA, "/mycards")
    assert "1. What do you hear? → chien (dog) 🔊" in turn.text

    turn = await chat.send(ADA, "/quiz 1")
    sound, question = turn.new
    assert sound.voice == OGG  # a voice note comes back as one
    assert "What do you hear?" in question.plain and "My cards" in question.plain
    turn = await chat.press(ADA, plain("en", "button.show_answer"), message=question)
    assert all(m.voice is None and m.audio is None for m in turn.new)


async def test_a_sound_with_the_back_plays_with_the_answer_and_a_picture_comes_too(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await only_own_cards(chat, tutor, ADA)
    await chat.send(ADA, "/new")
    await chat.send_photo(ADA, JPEG)  # the picture first
    await chat.send(ADA, "This animal in French")
    turn = await chat.send_sound(ADA, MP3, "chien.mp3", caption="le chien")
    assert turn.text.startswith("✅ Card saved 🖼 🔊 (1 of 500): This animal in French → le chien")
    assert turn.text.endswith(
        "🔊 Its sound plays with the answer, once you have answered (or shown the back)."
    )
    assert await _media_names(tutor) == ["card-1-answer.mp3", "card-1.jpg"]

    turn = await chat.send(ADA, "/quiz 1")
    [question] = turn.new
    assert question.photo is not None and "This animal in French" in question.plain
    turn = await chat.press(ADA, plain("en", "button.show_answer"), message=question)
    [answer_sound] = turn.new
    assert answer_sound.audio == MP3 and answer_sound.filename == "card-1-answer.mp3"


async def test_a_sound_with_the_whole_card_as_its_caption_and_one_out_of_the_blue(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await only_own_cards(chat, tutor, ADA)
    turn = await chat.send_sound(ADA, M4A, "bonjour.m4a", caption="bonjour | hello")
    assert "✅ Card saved 🔊 (1 of 500): bonjour → hello" in turn.text
    assert "plays just before the question" in turn.text
    turn = await chat.send_sound(ADA, OGG, "voice.ogg", voice=True)
    assert turn.text == (
        "To put this sound on a card, send it again with the caption front | back, or send"
        " /new first (a sound sent with the front plays with the question, with the back after"
        " the answer)."
    )
    assert await _media_names(tutor) == ["card-1-question.m4a"]


async def test_a_sound_over_a_limit_is_refused_and_the_card_waits(
    chat: ChatDriver, tutor: TutorService, fake: FakeBotApi
) -> None:
    await only_own_cards(chat, tutor, ADA)
    await chat.send(ADA, "/new")
    await chat.send(ADA, "chien")
    turn = await chat.send_sound(ADA, OGG, "voice.ogg", voice=True, duration=61)
    assert turn.text == (
        "That sound lasts longer than 60 seconds, the most a card's sound may last. Nothing was"
        " saved; record a shorter one (a word or a sentence), or send the card without a sound"
        " (/cancel stops)."
    )
    turn = await chat.send_sound(ADA, MP3 + bytes(1024 * 1024), "long.mp3", duration=30)
    assert turn.text.startswith("That sound is larger than 1024 KB, the most a card may carry.")
    turn = await chat.send_sound(ADA, b"fLaC" + bytes(100), "chien.flac")
    assert turn.text == (
        "A card's sound must be a voice note or an audio file Telegram plays (MP3/M4A/OGG Opus),"
        " and this one is not. Nothing was saved; record a voice note instead, or send the card"
        " without a sound (/cancel stops)."
    )
    # an MP3 by name whose bytes are no sound is found out once fetched
    turn = await chat.send_sound(ADA, b"RIFF" + bytes(100), "chien.mp3", caption="dog")
    assert turn.text.startswith("A card's sound must be a voice note or an audio file")
    # an OGG Vorbis file kept for a later step is refused when sent, not after the text
    await chat.send(ADA, "/new")
    turn = await chat.send_sound(ADA, b"OggS\x00\x02" + bytes(22) + b"\x01vorbis", "c.ogg")
    assert turn.text.startswith("A card's sound must be a voice note or an audio file")
    turn = await chat.send(ADA, "chien")
    assert turn.text.startswith("Now the back of “chien”")
    assert await _media_names(tutor) == []
    # Telegram cannot hand the sound over: nothing is lost, the same sound again works
    fake.fail_next(DOWNLOAD, "network")
    turn = await chat.send_sound(ADA, OGG, "voice.ogg", voice=True, caption="dog")
    assert turn.text == (
        "I could not fetch that sound from Telegram. Nothing was saved; send it again, or the"
        " card without a sound."
    )
    turn = await chat.send_sound(ADA, OGG, "voice.ogg", voice=True, caption="dog")
    assert "✅ Card saved 🔊 (1 of 500): chien → dog" in turn.text
    assert "plays with the answer" in turn.text
    assert await _media_names(tutor) == ["card-1-answer.ogg"]


async def test_an_edit_replaces_the_sound_and_a_delete_removes_it(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await only_own_cards(chat, tutor, ADA)
    await chat.send_sound(ADA, OGG, "voice.ogg", voice=True, caption="chat | cat")
    await chat.send(ADA, "chien | dog")
    turn = await chat.send(ADA, "/mycards")
    listing = turn.new[0]
    assert "1. chat → cat 🔊" in listing.plain and "2. chien → dog\n" not in listing.plain
    assert listing.plain.endswith("2. chien → dog")
    turn = await chat.press(ADA, "✏️ 1", message=listing)
    assert "a voice note or an audio file sent now replaces its sound" in turn.text
    turn = await chat.send_sound(ADA, MP3, "chat.mp3")
    assert turn.text == (
        "✅ New sound saved on the card “chat”; its text stays. /mycards lists your cards.\n"
        "🔊 Its sound plays just before the question."
    )
    assert await _media_names(tutor) == ["card-1-question.mp3"]
    # card 2 had none: the sound and the new text in one message
    await chat.press(ADA, "✏️ 2", message=listing)
    turn = await chat.send_sound(ADA, OGG, "voice.ogg", voice=True, caption="chien | le chien")
    assert turn.text == (
        "✅ Card changed: chien → le chien. /mycards lists your cards.\n"
        "🔊 Its new sound plays just before the question."
    )
    turn = await chat.send(ADA, "/mycards")
    assert "2. chien → le chien 🔊" in turn.text
    listing = turn.new[0]
    await chat.press(ADA, "🗑 1", message=listing)
    await chat.press(ADA, "🗑 1", message=listing)
    assert "You have no cards of your own yet." in listing.plain
    assert await _media_names(tutor) == []


async def test_the_export_carries_sounds_in_an_anki_package_and_names_them_in_csv(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await only_own_cards(chat, tutor, ADA)
    await chat.send_sound(ADA, OGG, "voice.ogg", voice=True, caption="chat | cat")
    turn = await chat.send(ADA, "/export")
    [document] = turn.new
    assert document.filename == "my-cards.csv" and document.document is not None
    assert "card-1-question.ogg" in document.document.decode()
    assert document.plain == (
        "Your own cards: 1. /mycards manages them.\n"
        "Pictures and sounds are only named in this file; /export apkg sends them too (an Anki"
        " package)."
    )
    turn = await chat.send(ADA, "/export apkg")
    [document] = turn.new
    assert document.plain == "Your own cards: 1. /mycards manages them."
    assert document.document is not None
    parsed = parse_deck_file(document.document, "my-cards.apkg")
    assert parsed.media == {"card-1-question.ogg": OGG}


@pytest.mark.parametrize("status", [400, 502])
async def test_a_sound_telegram_will_not_take_in_the_quiz_is_said_once(
    chat: ChatDriver, tutor: TutorService, fake: FakeBotApi, status: int
) -> None:
    """sendAudio fails once (a refused file, or Telegram down a moment): the answer's sound is
    one line after the feedback; sendVoice fails once: the question still comes, with one line
    saying its sound could not be sent. Neither is sent twice."""
    await only_own_cards(chat, tutor, ADA)
    await chat.send(ADA, "/new")
    await chat.send_sound(ADA, OGG, "voice.ogg", voice=True)
    await chat.send(ADA, "Listen: which word?")
    await chat.send_sound(ADA, MP3, "dog.mp3", caption="le chien;")  # replaces it, answer side
    turn = await chat.send(ADA, "/mycards")
    assert "Listen: which word? → le chien 🔊" in turn.text

    fake.fail_next("sendAudio", status)
    await chat.send(ADA, "/quiz 1")
    question = _question(chat)
    assert "Listen: which word?" in question.plain
    turn = await chat.send(ADA, "le chien")
    assert "✅ Correct!" in turn.text
    assert "(The answer's sound could not be sent; the quiz goes on.)" in turn.text
    assert [call.ok for call in fake.calls_of("sendAudio")] == [False]

    await chat.send(ADA, "/new")
    await chat.send_sound(ADA, OGG, "voice.ogg", voice=True, caption="Say it | bonjour")
    await tutor.leave(ADA.id, "test-deck")
    fake.fail_next("sendVoice", status)
    turn = await chat.send(ADA, "/quiz 1")
    question = _question(chat)
    assert "Say it" in question.plain
    assert (
        "(The sound of this question could not be sent: answer from what you see, or send"
        " /stop and try again later.)" in question.plain
    )
    assert [call.ok for call in fake.calls_of("sendVoice")] == [False]


async def test_sounds_on_cards_in_chinese(chat: ChatDriver, tutor: TutorService) -> None:
    await only_own_cards(chat, tutor, LEI)
    await chat.send(LEI, "/new")
    await chat.send(LEI, "狗")
    turn = await chat.send_sound(LEI, OGG, "voice.ogg", voice=True)
    assert turn.text == "🔊 声音已收到：它会随答案播放。现在请发送“狗”的背面。/cancel 取消。"
    turn = await chat.send_sound(LEI, OGG, "voice.ogg", voice=True, duration=90)
    assert turn.text.startswith("这段声音超过了 60 秒，卡片的声音不能更长。")
    turn = await chat.send(LEI, "le chien")
    assert turn.text.startswith("✅ 卡片已保存 🔊（1/500）：狗 → le chien")
    assert turn.text.endswith("🔊 它的声音会在你作答（或翻看背面）之后随答案播放。")
    turn = await chat.send(LEI, "/mycards")
    assert "1. 狗 → le chien 🔊" in turn.text
    turn = await chat.send_sound(LEI, OGG, "voice.ogg", voice=True)
    assert "要把这段声音放到卡片上" in turn.text


async def test_a_sound_during_setup_says_to_finish_it_first(chat: ChatDriver) -> None:
    """Mid-setup a sound with a whole card as its caption made the card, while /new said to
    finish setting up first; now the sound says so too, and nothing is kept."""
    await chat.send(ADA, "/start")
    turn = await chat.send_sound(ADA, OGG, "voice.ogg", voice=True, caption="chat | cat")
    assert turn.text.startswith("Let's finish setting up first")
    assert chat.buttons(ADA) == ["✓ English", "简体中文"]


async def test_a_voice_note_that_meets_a_bug_is_apologised_for_as_something_sent(
    chat: ChatDriver, tutor: TutorService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash while a voice note was handled got the apology for a typed message ("what you
    wrote"); it is something sent, like a photo or a file."""

    async def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    await only_own_cards(chat, tutor, ADA)
    monkeypatch.setattr(OwnCards, "add", crash)
    chat.raise_errors = False
    turn = await chat.send_sound(ADA, OGG, "voice.ogg", voice=True, caption="chat | cat")
    assert turn.text == (
        "Sorry, what you sent (a file, a photo or a sound) could not be handled: something went"
        " wrong on my side. Send it again in a minute; /help lists what I can do."
    )


async def test_a_picture_and_a_sound_sent_before_a_restart_are_on_the_card_after_it(
    chat: ChatDriver, tutor: TutorService, fake: FakeBotApi, service_factory: Any
) -> None:
    await only_own_cards(chat, tutor, ADA)
    await chat.send(ADA, "/new")
    await chat.send_photo(ADA, JPEG)
    await chat.send(ADA, "This bird in French")
    await chat.send_sound(ADA, MP3, "rouge-gorge.mp3")  # with the back: after the answer
    # The bot restarts before Ada's back: a new process, the same database.
    restarted = await service_factory()
    async with ChatDriver(build_application(story_settings(), restarted, request=fake)) as again:
        turn = await again.send(ADA, "le rouge-gorge")
    assert turn.text.startswith("✅ Card saved 🖼 🔊 (1 of 500): This bird in French")
    assert "plays with the answer" in turn.text
    assert await _media_names(tutor) == ["card-1-answer.mp3", "card-1.jpg"]
