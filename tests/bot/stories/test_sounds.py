"""Stories of decks with sounds: a word is heard with its question, the answer's sound comes
with the answer, and each sound crosses the network once however many students hear it."""

from __future__ import annotations

from pathlib import Path

from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver
from bot.i18n import plain
from tests.bot.demo_bot import tiny_png
from tests.bot.http_chat import http_chat
from tests.bot.stories.conftest import ADA, EVE, LEI, onboard
from tests.bot.stories.test_answers_over_http import _onboard as onboard_over_http
from tests.conftest import ServiceFactory
from tests.tutor.content.test_sounds import MP3, OGG
from tutor.service import TutorService

FRENCH = "French words"


def french_package(folder: Path, *, flashcard: bool = False) -> bytes:
    """One French word as an Anki note: the French sound on the question, the English sound
    on the answer. A typed answer ("Basic (type in the answer)"), or a flashcard."""
    import genanki

    deck = genanki.Deck(2059400901, FRENCH)
    model = genanki.BASIC_MODEL if flashcard else genanki.BASIC_TYPE_IN_THE_ANSWER_MODEL
    fields = ["bonjour [sound:bonjour.mp3]", "hello [sound:hello.ogg]"]
    deck.add_note(genanki.Note(model=model, fields=fields, guid="fr-bonjour"))
    (folder / "bonjour.mp3").write_bytes(MP3)
    (folder / "hello.ogg").write_bytes(OGG)
    media = [str(folder / "bonjour.mp3"), str(folder / "hello.ogg")]
    genanki.Package(deck, media_files=media).write_to_file(str(folder / "french.apkg"))
    return (folder / "french.apkg").read_bytes()


async def french_deck(tutor: TutorService, folder: Path, *, flashcard: bool = False) -> None:
    """Import the French deck the way an admin would."""
    data = french_package(folder, flashcard=flashcard)
    report = await tutor.import_file(data, "french.apkg")
    assert report.added == 1 and report.skipped == []


def _sent_id(fake: FakeBotApi, method: str, index: int) -> str:
    """The file id Telegram returned for the ``index``-th successful call of ``method``."""
    message = [c for c in fake.calls_of(method) if c.ok][index].message
    assert message is not None and message.file_id is not None
    return message.file_id


async def test_a_word_is_heard_with_its_question_and_its_answer_sent_once_per_bot(
    chat: ChatDriver, tutor: TutorService, tmp_path: Path
) -> None:
    await french_deck(tutor, tmp_path)
    await onboard(chat, ADA, deck=FRENCH)

    turn = await chat.send(ADA, "/quiz 1")
    sound, question = turn.new
    assert sound.audio == MP3 and sound.filename == "bonjour.mp3"
    assert "bonjour" in question.plain and "Type your answer." in question.plain

    turn = await chat.send(ADA, "hello")
    feedback, answer_sound, summary = turn.new
    assert "✅ Correct!" in feedback.plain
    assert answer_sound.voice == OGG  # OGG/Opus comes as a voice message
    assert "Session done:" in summary.plain
    assert chat.fake.uploads("sendAudio") == [True]
    assert chat.fake.uploads("sendVoice") == [True]

    # The second student hears the same sounds; they are sent by Telegram's file ids.
    await onboard(chat, LEI, deck=FRENCH)
    turn = await chat.send(LEI, "/quiz 1")
    sound, question = turn.new
    assert sound.audio == MP3 and "bonjour" in question.plain
    turn = await chat.send(LEI, "hello")
    assert turn.new[1].voice == OGG
    assert chat.fake.uploads("sendAudio") == [True, False]
    assert chat.fake.uploads("sendVoice") == [True, False]
    by_id = chat.fake.calls_of("sendAudio")[1]
    assert by_id.params["audio"] == _sent_id(chat.fake, "sendAudio", 0)


async def test_a_flashcard_plays_its_answer_when_revealed_not_again_when_graded(
    chat: ChatDriver, tutor: TutorService, tmp_path: Path
) -> None:
    await french_deck(tutor, tmp_path, flashcard=True)
    await onboard(chat, ADA, deck=FRENCH)
    turn = await chat.send(ADA, "/quiz 1")
    assert [bool(m.audio) for m in turn.new] == [True, False]
    card = turn.new[1]
    turn = await chat.press(ADA, plain("en", "button.show_answer"), message=card)
    [answer_sound] = turn.new
    assert answer_sound.voice == OGG
    assert "hello" in card.plain  # the card now shows its answer, with the grade buttons
    turn = await chat.press(ADA, plain("en", "button.grade_3"), message=card)
    assert all(m.voice is None and m.audio is None for m in turn.new)
    assert chat.fake.uploads("sendVoice") == [True]


async def test_a_file_id_telegram_forgot_is_replaced_by_one_new_upload(
    chat: ChatDriver, tutor: TutorService, tmp_path: Path
) -> None:
    await french_deck(tutor, tmp_path)
    await onboard(chat, ADA, deck=FRENCH)
    await chat.send(ADA, "/quiz 1")
    first = _sent_id(chat.fake, "sendAudio", 0)
    chat.fake.forget_file(first)  # as after the bot's token changed

    await onboard(chat, LEI, deck=FRENCH)
    turn = await chat.send(LEI, "/quiz 1")
    sound, question = turn.new
    assert sound.audio == MP3  # Lei hears it all the same, and is told of no trouble
    assert plain("zh", "quiz.sound_missing") not in question.plain
    assert chat.fake.uploads("sendAudio") == [True, False, True]
    stale = chat.fake.calls_of("sendAudio")[1]
    assert not stale.ok and stale.params["audio"] == first
    fresh = _sent_id(chat.fake, "sendAudio", 1)
    assert fresh != first

    # The new id was stored: the next student gets it, with no upload.
    await onboard(chat, EVE, deck=FRENCH)
    await chat.send(EVE, "/quiz 1")
    assert chat.fake.uploads("sendAudio") == [True, False, True, False]
    assert chat.fake.calls_of("sendAudio")[3].params["audio"] == fresh


async def test_a_picture_is_uploaded_once_too(
    chat: ChatDriver, tutor: TutorService, tmp_path: Path
) -> None:
    import genanki

    deck = genanki.Deck(2059400902, "Flags")
    front = '<img src="fr.png">Which flag?'
    deck.add_note(genanki.Note(model=genanki.BASIC_MODEL, fields=[front, "France"]))
    (tmp_path / "fr.png").write_bytes(tiny_png())
    package = genanki.Package(deck, media_files=[str(tmp_path / "fr.png")])
    package.write_to_file(str(tmp_path / "flags.apkg"))
    await tutor.import_file((tmp_path / "flags.apkg").read_bytes(), "flags.apkg")
    for user in (ADA, LEI):
        await onboard(chat, user, deck="Flags")
        turn = await chat.send(user, "/quiz 1")
        assert turn.new[0].photo == tiny_png()
    assert chat.fake.uploads("sendPhoto") == [True, False]


async def test_over_http_the_second_student_gets_the_sound_by_its_file_id(
    service_factory: ServiceFactory, tmp_path: Path
) -> None:
    """The real bot over HTTP (PTB's own client, multipart uploads): one upload, then an id."""
    service = await service_factory()
    await french_deck(service, tmp_path)
    async with http_chat(service) as chat:
        for user in (ADA, LEI):
            await onboard_over_http(chat, user, FRENCH)
            turn = await chat.send(user, "/quiz 1")
            assert turn.new[0].audio == MP3
            turn = await chat.send(user, "hello")
            assert turn.new[1].voice == OGG
        assert chat.fake.uploads("sendAudio") == [True, False]
        assert chat.fake.uploads("sendVoice") == [True, False]
        assert chat.errors == []
