"""Sounds on own cards in the domain: which sounds a card takes, where they play, and that
they go with the card (replaced, deleted, exported, carried by a draft)."""

from __future__ import annotations

import json

import pytest

from storage import content as content_rows
from storage.database import fetch_all
from tests.tutor.content.test_sounds import M4A, MP3, OGG
from tutor.card_drafts import CardDraft, CardDrafts, DraftStep
from tutor.card_sounds import (
    MAX_SOUND_BYTES,
    MAX_SOUND_SECONDS,
    CardSound,
    SoundNotPlayable,
    SoundSide,
    SoundTooLarge,
    SoundTooLong,
    check_sound,
    check_sound_data,
    sound_suffix,
)
from tutor.content import parse_deck_file
from tutor.items import Grade
from tutor.own_cards import OwnCards, parse_line, sound_side
from tutor.service import TutorService
from tutor.views import Answer


async def _media_names(service: TutorService, deck_id: int) -> list[str]:
    async with service.db.read() as conn:
        rows = await fetch_all(
            conn, "SELECT name FROM media WHERE deck_id = ? ORDER BY name", (deck_id,)
        )
    return [row[0] for row in rows]


async def _media(service: TutorService, deck_id: int, name: str) -> bytes | None:
    async with service.db.read() as conn:
        return await content_rows.get_media(conn, deck_id, name)


def test_the_kinds_telegram_sends_are_told_apart() -> None:
    assert sound_suffix("audio/ogg", None) == "ogg"  # a voice note
    assert sound_suffix("audio/mpeg", "word.mp3") == "mp3"
    assert sound_suffix("audio/x-m4a", "word.m4a") == "m4a"
    assert sound_suffix(None, "Word.MP3") == "mp3"  # no MIME type: the file name says
    assert sound_suffix("audio/flac", "word.flac") is None
    assert sound_suffix("audio/x-wav", "word.wav") is None
    assert sound_suffix(None, None) is None


def test_the_limits_are_checked_before_anything_is_fetched() -> None:
    assert check_sound("ogg", MAX_SOUND_BYTES, MAX_SOUND_SECONDS) == "ogg"
    with pytest.raises(SoundTooLarge) as large:
        check_sound("mp3", MAX_SOUND_BYTES + 1, 5)
    assert large.value.params == {"limit_kb": 1024}
    with pytest.raises(SoundTooLong) as long:
        check_sound("ogg", 1000, MAX_SOUND_SECONDS + 1)
    assert long.value.params == {"limit": 60}
    with pytest.raises(SoundNotPlayable) as unknown:
        check_sound(None, 1000, 5)
    assert unknown.value.params == {"kinds": "MP3/M4A/OGG Opus"}


def test_the_fetched_bytes_must_be_the_sound_they_claim_to_be() -> None:
    for data, suffix in ((OGG, "ogg"), (MP3, "mp3"), (M4A, "m4a")):
        check_sound_data(CardSound(data, suffix))
    with pytest.raises(SoundNotPlayable):
        check_sound_data(CardSound(b"RIFF\x24\x00\x00\x00WAVEfmt ", "mp3"))
    with pytest.raises(SoundNotPlayable):
        check_sound_data(CardSound(b"", "ogg"))
    with pytest.raises(SoundNotPlayable):  # OGG Vorbis: Telegram plays only Opus in OGG
        check_sound_data(CardSound(b"OggS\x00\x02" + bytes(22) + b"\x01vorbis" + bytes(30), "ogg"))
    with pytest.raises(SoundTooLarge):
        check_sound_data(CardSound(OGG + bytes(MAX_SOUND_BYTES), "ogg"))


async def test_a_sound_plays_on_its_side_and_goes_with_the_card(service: TutorService) -> None:
    await service.register(1, 1, "N", "en")
    cards = OwnCards(service)
    asked = await cards.add(1, parse_line("chien | dog"), sound=CardSound(OGG, "ogg"))
    assert (asked.audio, asked.answer_audio) == ("card-1-question.ogg", None)
    said = await cards.add(
        1,
        parse_line("dog | chien"),
        picture=b"\xff\xd8\xffpicture",
        sound=CardSound(MP3, "mp3", SoundSide.ANSWER),
    )
    assert (said.image, said.audio, said.answer_audio) == ("card-2.jpg", None, "card-2-answer.mp3")
    assert sound_side(said) is SoundSide.ANSWER and sound_side(asked) is SoundSide.QUESTION
    deck = asked.deck_id
    assert await _media(service, deck, "card-2-answer.mp3") == MP3
    assert await cards.with_media(1) == 2

    # The quiz plays it like a deck's sound: with the question, or with the answer.
    question = await service.start_quiz(1, 2)
    seen = {}
    while question is not None:
        seen[question.item.prompt] = (question.sound, question.answer_sound)
        await service.answer(1, question.id, Answer(grade=Grade.GOOD))
        question = await service.next_question(1) if len(seen) < 2 else None
    sound, answer_sound = seen["chien"]
    assert sound is not None and sound.data == OGG and sound.voice and answer_sound is None
    sound, answer_sound = seen["dog"]
    assert sound is None and answer_sound is not None and answer_sound.data == MP3

    # An edit keeps the sound; a new sound takes the old one's side and name's place.
    edited = await cards.edit(1, said.id, parse_line("dog | le chien"))
    assert edited.answer_audio == "card-2-answer.mp3"
    replaced = await cards.set_sound(1, said.id, CardSound(M4A, "m4a"))
    assert (replaced.audio, replaced.answer_audio) == (None, "card-2-answer.m4a")
    assert replaced.answer == "le chien" and replaced.image == "card-2.jpg"
    assert await _media_names(service, deck) == [
        "card-1-question.ogg",
        "card-2-answer.m4a",
        "card-2.jpg",
    ]
    # A card without a sound gets it on the question's side.
    plain = await cards.add(1, parse_line("cat | chat"))
    assert (await cards.set_sound(1, plain.id, CardSound(OGG, "ogg"))).audio == (
        "card-3-question.ogg"
    )

    # Deleting a card removes its picture and its sound.
    await cards.delete(1, said.id)
    await cards.delete(1, plain.id)
    assert await _media_names(service, deck) == ["card-1-question.ogg"]


async def test_a_refused_sound_keeps_nothing(service: TutorService) -> None:
    await service.register(1, 1, "N", "en")
    cards = OwnCards(service)
    with pytest.raises(SoundNotPlayable):
        await cards.add(1, parse_line("a | b"), sound=CardSound(b"not a sound", "mp3"))
    assert await cards.count(1) == 0
    card = await cards.add(1, parse_line("a | b"), sound=CardSound(OGG, "ogg"))
    with pytest.raises(SoundTooLarge):
        await cards.set_sound(1, card.id, CardSound(OGG + bytes(MAX_SOUND_BYTES), "ogg"))
    assert await _media(service, card.deck_id, "card-1-question.ogg") == OGG


async def test_the_export_carries_the_sound_where_the_format_can(service: TutorService) -> None:
    await service.register(1, 1, "N", "en")
    cards = OwnCards(service)
    await cards.add(1, parse_line("chien | dog"), sound=CardSound(OGG, "ogg"))
    await cards.add(1, parse_line("dog | chien"), sound=CardSound(MP3, "mp3", SoundSide.ANSWER))
    # An Anki package holds the files, each on its side of the note.
    _, data = await cards.export(1, "apkg")
    parsed = parse_deck_file(data, "my-cards.apkg")
    assert parsed.media == {"card-1-question.ogg": OGG, "card-2-answer.mp3": MP3}
    by_prompt = {item.prompt: item for item in parsed.items}
    assert by_prompt["chien"].audio == "card-1-question.ogg"
    assert by_prompt["dog"].answer_audio == "card-2-answer.mp3"
    # JSON (and CSV) only name them.
    _, data = await cards.export(1, "json")
    entries = json.loads(data)["items"]
    assert [entry.get("audio") for entry in entries] == ["card-1-question.ogg", None]
    assert [entry.get("answer_audio") for entry in entries] == [None, "card-2-answer.mp3"]


async def test_a_draft_carries_its_sound_and_reads_an_older_draft(service: TutorService) -> None:
    await service.register(1, 1, "N", "en")
    drafts = CardDrafts(service)
    draft = CardDraft(
        DraftStep.BACK,
        "chien",
        picture="AgAC-photo",
        sound="AwAC-voice",
        sound_type="ogg",
        sound_side=SoundSide.ANSWER,
    )
    await drafts.put(1, draft)
    assert await drafts.get(1) == draft
    await drafts.put(1, CardDraft(DraftStep.FRONT, sound="CQAC-audio", sound_type="mp3"))
    got = await drafts.get(1)
    assert got is not None and got.picture is None and got.sound == "CQAC-audio"
    # A draft written before sounds (the column held the photo's file id alone) still reads.
    await drafts.put(1, CardDraft(DraftStep.FRONT, picture="AgAC-photo"))
    async with service.db.read() as conn:
        assert [
            tuple(row) for row in await fetch_all(conn, "SELECT picture FROM own_card_drafts")
        ] == [("AgAC-photo",)]
    assert await drafts.get(1) == CardDraft(DraftStep.FRONT, picture="AgAC-photo")
