"""Sounds in decks: Anki's [sound:...] on the side it belongs to, and the audio columns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tutor.content import parse_anki_package, parse_csv, parse_json
from tutor.content.sound import MAX_SOUND_BYTES, is_voice, sound_problem
from tutor.items import ItemKind

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 16
OGG = b"OggS\x00\x02" + bytes(40) + b"OpusHead"
M4A = b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00" + bytes(16)


def sound_package(folder: Path, notes: list[tuple[str, ...]], media: dict[str, bytes]) -> bytes:
    """An .apkg written by genanki: Basic notes (front, back), type-in notes (front, back,
    "typed") and cloze notes (text, extra, "cloze"), with ``media`` as the package's files."""
    import genanki

    deck = genanki.Deck(2059400777, "French words")
    for number, note in enumerate(notes):
        model = genanki.BASIC_MODEL
        if note[2:] == ("typed",):
            model = genanki.BASIC_TYPE_IN_THE_ANSWER_MODEL
        elif note[2:] == ("cloze",):
            model = genanki.CLOZE_MODEL
        deck.add_note(genanki.Note(model=model, fields=list(note[:2]), guid=f"fr{number}"))
    paths = []
    for name, data in media.items():
        (folder / name).write_bytes(data)
        paths.append(str(folder / name))
    out = folder / "french.apkg"
    genanki.Package(deck, media_files=paths).write_to_file(str(out))
    return out.read_bytes()


def test_sounds_go_with_the_side_that_shows_them(tmp_path: Path) -> None:
    data = sound_package(
        tmp_path,
        [
            ("bonjour [sound:bonjour.mp3]", "hello [sound:hello.ogg]"),
            ("[sound:merci.m4a]", "thank you", "typed"),
            ("Le {{c1::chat}} dort.", "The cat sleeps. [sound:chat.mp3]", "cloze"),
            ("au revoir", "goodbye"),
        ],
        {"bonjour.mp3": MP3, "hello.ogg": OGG, "merci.m4a": M4A, "chat.mp3": MP3},
    )
    parsed = parse_anki_package(data, filename="french.apkg")
    items = {item.external_id: item for item in parsed.items}
    card = items["fr0::0"]
    assert (card.prompt, card.answer) == ("bonjour", "hello")
    assert (card.audio, card.answer_audio) == ("bonjour.mp3", "hello.ogg")
    listening = items["fr1::0"]  # the sound alone is the question
    assert listening.kind is ItemKind.TYPED and listening.prompt == ""
    assert (listening.audio, listening.accepted) == ("merci.m4a", ("thank you",))
    cloze = items["fr2::c1"]
    assert (cloze.audio, cloze.answer_audio) == (None, "chat.mp3")
    assert cloze.explanation == "The cat sleeps."
    plain = items["fr3::0"]
    assert (plain.audio, plain.answer_audio) == (None, None)
    assert parsed.media == {
        "bonjour.mp3": MP3,
        "hello.ogg": OGG,
        "merci.m4a": M4A,
        "chat.mp3": MP3,
    }
    assert parsed.skipped == []


def test_a_missing_or_broken_sound_is_skipped_with_a_reason_and_the_note_kept(
    tmp_path: Path,
) -> None:
    data = sound_package(
        tmp_path,
        [
            ("chien [sound:gone.mp3]", "dog"),
            ("chat [sound:broken.mp3]", "cat [sound:cat.ogg]"),
            ("oiseau [sound:bird.wav]", "bird"),
            ("poisson [sound:empty.ogg]", "fish"),
        ],
        {
            "broken.mp3": b"<html>not found</html>",
            "cat.ogg": OGG,
            "bird.wav": b"RIFF",
            "empty.ogg": b"",
        },
    )
    parsed = parse_anki_package(data, filename="french.apkg")
    items = {item.external_id: item for item in parsed.items}
    assert [items[f"fr{n}::0"].prompt for n in range(4)] == ["chien", "chat", "oiseau", "poisson"]
    assert all(items[f"fr{n}::0"].audio is None for n in range(4))
    assert items["fr1::0"].answer_audio == "cat.ogg"  # the good sound of the same note stays
    reasons = [entry.reason for entry in parsed.skipped]
    assert reasons == [
        "sound 'gone.mp3' is missing from the file; the note is kept without it",
        "sound 'broken.mp3' is damaged or not an MP3 file; the entry is kept without it",
        "sound 'bird.wav' is not a kind Telegram plays (M4A, MP3, OGA, OGG, OPUS);"
        " the entry is kept without it",
        "sound 'empty.ogg' is empty; the entry is kept without it",
    ]
    assert all(entry.where.startswith("note ") for entry in parsed.skipped)
    assert set(parsed.media) == {"cat.ogg"}  # broken files are not stored


def test_a_sound_on_both_cards_of_a_note_is_reported_once(tmp_path: Path) -> None:
    import genanki

    deck = genanki.Deck(2059400778, "Both ways")
    deck.add_note(
        genanki.Note(
            model=genanki.BASIC_AND_REVERSED_CARD_MODEL,
            fields=["gato [sound:gone.mp3]", "cat"],
            guid="both",
        )
    )
    genanki.Package(deck).write_to_file(str(tmp_path / "both.apkg"))
    parsed = parse_anki_package((tmp_path / "both.apkg").read_bytes(), filename="both.apkg")
    assert len(parsed.items) == 2
    assert len(parsed.skipped) == 1


def test_csv_and_json_carry_audio_columns() -> None:
    csv_data = (
        b"id,question,answer,audio,answer_audio\n"
        b"w1,bonjour,hello,media/bonjour.mp3,hello.ogg\n"
        b"w2,chat,cat,,\n"
        b"w3,chien,dog,chien.wav,\n"
    )
    parsed = parse_csv(csv_data, filename="words.csv")
    items = {item.external_id: item for item in parsed.items}
    assert (items["w1"].audio, items["w1"].answer_audio) == ("bonjour.mp3", "hello.ogg")
    assert (items["w2"].audio, items["w2"].answer_audio) == (None, None)
    assert items["w3"].audio is None and items["w3"].prompt == "chien"
    [skipped] = parsed.skipped
    assert (
        skipped.where == "line 4" and "'chien.wav' is not a kind Telegram plays" in skipped.reason
    )

    document = {
        "metatutor": 1,
        "items": [{"id": "w1", "question": "", "answer": "hello", "audio": "hello.mp3"}],
    }
    [item] = parse_json(json.dumps(document).encode(), filename="words.json").items
    assert (item.prompt, item.audio) == ("", "hello.mp3")  # a sound alone may be the question


@pytest.mark.parametrize("value", ["../secret.mp3", "a/b.mp3"])
def test_an_audio_name_must_be_a_plain_file_name(value: str) -> None:
    from tutor.content import ContentError

    with pytest.raises(ContentError, match=r"audio .* must be a plain file name"):
        parse_csv(f"question,answer,audio\nq,a,{value}\n".encode(), filename="x.csv")


def test_sound_checks() -> None:
    assert sound_problem("a.mp3", MP3) is None
    assert sound_problem("a.ogg", OGG) is None
    assert sound_problem("a.m4a", M4A) is None
    assert sound_problem("a.mp3", b"\xff\xf3" + bytes(10)) is None  # no ID3 tag, a bare frame
    too_big = b"ID3" + bytes(MAX_SOUND_BYTES)
    assert "more than the 20.0 MB allowed" in str(sound_problem("a.mp3", too_big))
    assert is_voice("a.ogg") and is_voice("b.OPUS") and not is_voice("c.mp3")


def test_a_card_whose_side_is_only_a_sound(tmp_path: Path) -> None:
    data = sound_package(
        tmp_path,
        [
            ("le chien", "[sound:chien.mp3]"),  # the answer is how it sounds
            ("[sound:broken.mp3]", "dog"),  # nothing left to ask once the sound is out
        ],
        {"chien.mp3": MP3, "broken.mp3": b"not a sound"},
    )
    parsed = parse_anki_package(data, filename="french.apkg")
    [card] = parsed.items
    assert (card.prompt, card.answer, card.answer_audio) == ("le chien", "", "chien.mp3")
    assert [entry.reason for entry in parsed.skipped] == [
        "sound 'broken.mp3' is damaged or not an MP3 file; the entry is kept without it",
        "card 'Card 1': the question side is empty",
    ]
    # Such a card goes out and comes back unchanged.
    from tutor.content import export_deck, parse_json
    from tutor.content.anki_export import export_package

    assert parse_json(export_deck(parsed.deck, [card], "json"), filename="x.json").items == [card]
    package = export_package(parsed.deck, [card], parsed.media)
    assert parse_anki_package(package, filename="x.apkg").items == [card]
