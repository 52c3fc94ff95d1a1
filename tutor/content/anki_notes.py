"""Turn Anki notes into items, using each note type's templates.

Mapping:

* cloze note types: one cloze item per cloze number of the ``{{cloze:Field}}`` field
  (external id ``<guid>::c<N>``); other non-empty fields become the explanation;
* standard note types: one item per template (external id ``<guid>::<ord>``). The question
  is the text of the fields the front template shows; a template with ``{{type:Field}}``
  gives a typed item accepting that field, any other a flashcard whose back is the fields
  the back template adds. ``{{#Field}}`` / ``{{^Field}}`` sections show or hide their
  content as in Anki, and a card whose question side is left empty that way is not made,
  so "Basic (optional reversed card)" yields the reverse only when "Add Reverse" is filled;
* when the templates name no usable field (unknown or broken note types), a flashcard from
  the first two non-empty fields (``<guid>::0``).

Empty sides and empty clozes are skipped and reported with the note id. A card in a
subdeck gets the tag ``deck::<full deck name>`` when that differs from the imported deck.

Sounds (``[sound:name]``) go with the side that shows them: the first on the question side
becomes the item's ``audio``, the first the answer side adds its ``answer_audio``. A sound
missing from the package, or one that cannot be played, is left out and reported; the
card is kept.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tutor.content.anki_collection import Note, NoteType, Template
from tutor.content.anki_fields import fields_record, is_metatutor_notetype
from tutor.content.cloze import parse_cloze
from tutor.content.common import safe_media_name
from tutor.content.errors import ContentError
from tutor.content.html_text import FieldText, html_to_text
from tutor.content.messages import Place, Reason, reason, skipped, skipped_for
from tutor.content.records import record_items
from tutor.items import Item, ItemKind, SkippedEntry

_TAG = re.compile(r"\{\{([#^/]?)\s*([^}]*?)\s*\}\}")
_SPECIAL = frozenset({"FrontSide", "Tags", "Deck", "Subdeck", "Card", "CardFlag", "Type"})


@dataclass(frozen=True, slots=True)
class _Refs:
    """Field references of one template side."""

    shown: tuple[str, ...]
    typed: str | None
    cloze: str | None


@functools.lru_cache(maxsize=256)
def _tokens(fmt: str) -> tuple[tuple[str, str], ...]:
    """The ``{{...}}`` tags of a template as (section marker, body); templates repeat."""
    return tuple(_TAG.findall(fmt))


@functools.lru_cache(maxsize=256)
def _all_refs(fmt: str) -> _Refs:
    """:func:`_refs` with every section shown (cached: it depends on the template only)."""
    return _refs(fmt)


def _refs(fmt: str, filled: Callable[[str], bool] | None = None) -> _Refs:
    """Fields a template side shows; with ``filled``, sections are evaluated as Anki does.

    ``{{#F}}...{{/F}}`` shows its content only when field F is filled, ``{{^F}}`` only when
    it is empty. Without ``filled`` every section counts as shown.
    """
    shown: list[str] = []
    typed = cloze = None
    hidden: list[bool] = []  # one entry per open section: is it hidden?
    for marker, body in _tokens(fmt):
        if marker in ("#", "^"):
            visible = filled is None or filled(body) == (marker == "#")
            hidden.append(not visible)
            continue
        if marker == "/":
            if hidden:
                hidden.pop()
            continue
        if any(hidden):
            continue
        filters, _, name = body.rpartition(":")
        name = name.strip()
        if name in _SPECIAL or not name:
            continue
        if "type" in filters.split(":"):
            typed = typed or name
        elif "cloze" in filters.split(":"):
            cloze = cloze or name
        elif name not in shown:
            shown.append(name)
    return _Refs(tuple(shown), typed, cloze)


@dataclass(slots=True)
class NoteContext:
    """What the mapping needs besides the note: deck lookup, media and output sinks."""

    deck_name: str
    card_deck: Callable[[int, int], str | None]
    """(note id, card ordinal) -> full deck name of that card, if known."""
    media_names: Mapping[str, str] = field(default_factory=dict)
    """Image name as written in fields -> media name available in the package."""
    used_media: set[str] = field(default_factory=set)
    skipped: list[SkippedEntry] = field(default_factory=list)
    sound_problem: Callable[[str], Reason | None] = lambda _name: None
    """Why the package's media file of this name cannot be used as a sound (None: it can)."""
    reported: set[tuple[Place, str]] = field(default_factory=set)
    """(note, sound) problems already reported: a note's cards share their fields."""


def _tags(note: Note, ctx: NoteContext, ordinal: int) -> tuple[str, ...]:
    tags = list(dict.fromkeys(note.tags))
    deck = ctx.card_deck(note.id, ordinal)
    if deck and deck != ctx.deck_name:
        tags.append(f"deck::{deck}")
    return tuple(tags)


def _image(sides: list[FieldText], ctx: NoteContext) -> str | None:
    for side in sides:
        for src in side.images:
            name = ctx.media_names.get(src)
            if name and safe_media_name(name):
                ctx.used_media.add(name)
                return name
    return None


def _sound(sides: list[FieldText], ctx: NoteContext, where: Place) -> str | None:
    """The first usable sound of ``sides``; the unusable ones are reported once per note."""
    chosen: str | None = None
    for side in sides:
        for src in side.sounds:
            name = ctx.media_names.get(src)
            problem: Reason | None
            if name is None or not safe_media_name(name):
                problem = reason("sound_missing", name=src)
            else:
                problem = ctx.sound_problem(name)
            if problem is None:
                assert name is not None
                ctx.used_media.add(name)
                chosen = chosen or name
            elif (where, src) not in ctx.reported:
                ctx.reported.add((where, src))
                ctx.skipped.append(skipped_for(where, problem))
    return chosen


def _join(texts: list[FieldText]) -> str:
    return "\n".join(t.text for t in texts if t.text)


def _has_content(texts: list[FieldText], ctx: NoteContext) -> bool:
    return any(
        t.text or any(src in ctx.media_names for src in (*t.images, *t.sounds)) for t in texts
    )


def _cloze_items(
    note: Note, notetype: NoteType, values: dict[str, FieldText], ctx: NoteContext
) -> list[Item]:
    where = note.where
    named = [r.cloze for t in notetype.templates if (r := _all_refs(t.qfmt)).cloze in values]
    cloze_field = named[0] if named else (notetype.fields[0] if notetype.fields else None)
    text = values.get(cloze_field or "", FieldText(""))
    if not text.text:
        ctx.skipped.append(skipped(where, "cloze_field_empty", field=cloze_field))
        return []
    if "image-occlusion:" in text.text:
        ctx.skipped.append(skipped(where, "image_occlusion"))
        return []
    try:
        result = parse_cloze(text.text)
    except ContentError as exc:
        ctx.skipped.append(skipped_for(where, exc.reason))
        return []
    for number in result.empty_numbers:
        ctx.skipped.append(skipped(where, "cloze_number_empty", number=number))
    extra = [v for name, v in values.items() if name != cloze_field]
    image = _image([text, *extra], ctx)
    audio, answer_audio = _sound([text], ctx, where), _sound(extra, ctx, where)
    return [
        Item(
            kind=ItemKind.CLOZE,
            prompt=card.prompt,
            external_id=f"{note.guid}::c{card.number}",
            answer=card.answer,
            accepted=(card.answer,),
            explanation=_join(extra),
            tags=_tags(note, ctx, card.number - 1),
            image=image,
            audio=audio,
            answer_audio=answer_audio,
        )
        for card in result.cards
    ]


def _template_item(
    note: Note, template: Template, values: dict[str, FieldText], ctx: NoteContext
) -> Item | None:
    """The item for one template, or None when Anki would not make that card."""
    where = note.where

    def filled(name: str) -> bool:
        value = values.get(name)
        return bool(value and (value.text or value.images))

    front, back = _refs(template.qfmt, filled), _refs(template.afmt, filled)
    front_texts = [values[n] for n in front.shown if n in values]
    typed = front.typed or back.typed
    if not _has_content(front_texts, ctx):
        everything = [values[n] for n in _all_refs(template.qfmt).shown if n in values]
        if _has_content(everything, ctx):
            return None  # hidden by a {{#Field}} section: Anki makes no such card
        ctx.skipped.append(skipped(where, "card_question_empty", card=template.name))
        return None
    ext_id = f"{note.guid}::{template.ord}"
    back_texts = [values[n] for n in back.shown if n in values and n not in front.shown]
    audio = _sound(front_texts, ctx, where)
    if not (_join(front_texts) or audio or _image(front_texts, ctx)):
        # Only a sound that had to be left out (reported above) was on the question side.
        ctx.skipped.append(skipped(where, "card_question_empty", card=template.name))
        return None
    if typed is not None:
        typed_value = values.get(typed, FieldText(""))
        if not typed_value.text:
            ctx.skipped.append(skipped(where, "card_typed_empty", card=template.name, field=typed))
            return None
        return Item(
            kind=ItemKind.TYPED,
            prompt=_join(front_texts),
            external_id=ext_id,
            accepted=(typed_value.text,),
            tags=_tags(note, ctx, template.ord),
            image=_image(front_texts, ctx),
            audio=audio,
            answer_audio=_sound([typed_value, *back_texts], ctx, where),
        )
    answer_audio = _sound(back_texts, ctx, where)
    picture = any(src in ctx.media_names for t in back_texts for src in t.images)
    if not (_join(back_texts) or answer_audio or picture):
        ctx.skipped.append(skipped(where, "card_answer_empty", card=template.name))
        return None
    return Item(
        kind=ItemKind.FLASHCARD,
        prompt=_join(front_texts),
        external_id=ext_id,
        answer=_join(back_texts),
        tags=_tags(note, ctx, template.ord),
        image=_image(front_texts + back_texts, ctx),
        audio=audio,
        answer_audio=answer_audio,
    )


def _fallback_item(note: Note, values: list[FieldText], ctx: NoteContext) -> list[Item]:
    filled = [v for v in values if v.text]
    if len(filled) < 2:
        ctx.skipped.append(skipped(note.where, "too_few_fields"))
        return []
    return [
        Item(
            kind=ItemKind.FLASHCARD,
            prompt=filled[0].text,
            external_id=f"{note.guid}::0",
            answer=filled[1].text,
            tags=_tags(note, ctx, 0),
            image=_image(filled[:2], ctx),
            audio=_sound(filled[:1], ctx, note.where),
            answer_audio=_sound(filled[1:2], ctx, note.where),
        )
    ]


def _metatutor_items(note: Note, notetype: NoteType, ctx: NoteContext) -> list[Item]:
    """Items of a note metatutor exported: the entry its fields hold, exactly."""
    raw = dict(zip(notetype.fields, note.fields, strict=False))

    def shown(name: str) -> list[FieldText]:
        return [html_to_text(raw.get(name, ""))]

    media = {
        "image": _image(shown("Picture"), ctx),
        "audio": _sound(shown("Sound"), ctx, note.where),
        "answer_audio": _sound(shown("Answer sound"), ctx, note.where),
    }
    tags = tuple(dict.fromkeys(note.tags))
    record = fields_record(notetype.name, raw, where=note.where, tags=tags, media=media)
    try:
        items, skipped = record_items(record)
    except ContentError as exc:
        ctx.skipped.append(skipped_for(note.where, exc.reason))
        return []
    ctx.skipped.extend(skipped)
    return items


def note_items(note: Note, notetype: NoteType | None, ctx: NoteContext) -> list[Item]:
    """Items for one note; skipped parts are appended to ``ctx.skipped``."""
    if notetype is not None and is_metatutor_notetype(notetype.name, notetype.fields):
        return _metatutor_items(note, notetype, ctx)
    converted = [html_to_text(raw) for raw in note.fields]
    if notetype is None:
        return _fallback_item(note, converted, ctx)
    values = dict(zip(notetype.fields, converted, strict=False))
    if notetype.is_cloze:
        return _cloze_items(note, notetype, values, ctx)
    known = set(notetype.fields)
    usable = [t for t in notetype.templates if any(n in known for n in _all_refs(t.qfmt).shown)]
    if not usable:
        return _fallback_item(note, converted, ctx)
    items: list[Item] = []
    for template in usable:
        item = _template_item(note, template, values, ctx)
        if item is not None:
            items.append(item)
    return items
