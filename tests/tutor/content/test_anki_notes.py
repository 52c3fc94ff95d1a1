"""Note-to-item mapping details that the real packages do not exercise."""

from __future__ import annotations

from tutor.content import export_deck, parse_deck_file
from tutor.content.anki_collection import Note, NoteType, Template
from tutor.content.anki_notes import NoteContext, note_items
from tutor.content.anki_text import stock_notetype
from tutor.items import Deck, ItemKind


def _ctx(media: tuple[str, ...] = ()) -> NoteContext:
    return NoteContext(
        deck_name="D", card_deck=lambda _n, _o: "D", media_names={m: m for m in media}
    )


def _note(*fields: str) -> Note:
    return Note(id=42, guid="G", notetype_id=1, fields=fields, tags=())


def test_picture_alone_can_be_the_question_and_exports() -> None:
    basic = stock_notetype("Basic")
    ctx = _ctx(("flag.png",))
    (item,) = note_items(_note('<img src="flag.png">', "France"), basic, ctx)
    assert (item.prompt, item.answer, item.image) == ("", "France", "flag.png")
    assert ctx.used_media == {"flag.png"}
    deck = Deck(slug="d", name="D")
    for fmt in ("csv", "json"):
        data = export_deck(deck, [item], fmt)
        assert parse_deck_file(data, f"d.{fmt}").items == [item]


def test_picture_missing_from_package_leaves_an_empty_side() -> None:
    ctx = _ctx()
    assert note_items(_note('<img src="gone.png">', "France"), stock_notetype("Basic"), ctx) == []
    assert [s.reason for s in ctx.skipped] == ["card 'Card 1': the question side is empty"]


def test_image_occlusion_notes_are_skipped() -> None:
    cloze = stock_notetype("Cloze")
    ctx = _ctx()
    note = _note("{{c1::image-occlusion:rect:left=.1:top=.2:width=.3:height=.4}}", "")
    assert note_items(note, cloze, ctx) == []
    assert [s.where for s in ctx.skipped] == ["note 42"]


def test_unknown_template_fields_fall_back_to_first_two_non_empty_fields() -> None:
    odd = NoteType(1, "Odd", False, ("A", "B", "C"), (Template("T", 0, "{{Missing}}", ""),))
    (item,) = note_items(_note("", "one", "two"), odd, _ctx())
    assert (item.kind, item.prompt, item.answer, item.external_id) == (
        ItemKind.FLASHCARD,
        "one",
        "two",
        "G::0",
    )


def test_template_conditions_and_type_answer_in_own_note_type() -> None:
    nt = NoteType(
        1,
        "Spelling",
        False,
        ("Word", "Audio", "Hint"),
        (
            Template("Spell", 0, "{{Audio}}{{#Hint}}<br>{{Hint}}{{/Hint}}\n{{type:Word}}", ""),
            Template("Read", 1, "{{^Hint}}{{Word}}{{/Hint}}", "{{FrontSide}}<hr>{{Audio}}"),
        ),
    )
    items = note_items(_note("rhythm", "say it", "starts with r"), nt, _ctx())
    assert [(i.kind, i.prompt, i.accepted) for i in items] == [
        (ItemKind.TYPED, "say it\nstarts with r", ("rhythm",))
    ]
    items = note_items(_note("rhythm", "say it", ""), nt, _ctx())
    assert [(i.external_id, i.prompt, i.answer) for i in items] == [
        ("G::0", "say it", ""),
        ("G::1", "rhythm", "say it"),
    ]
