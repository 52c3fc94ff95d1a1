"""The note types metatutor writes into Anki packages, and how an item maps onto their fields.

An exported package carries two note types: "metatutor item" (multiple choice, true/false,
typed answers and flashcards) and "metatutor cloze" (Anki's cloze kind, so Anki shows the
gaps). Their fields hold the same entry a JSON deck would, so a package written by
:mod:`tutor.content.anki_export` imports back to the very same items, and what Anki shows
is readable: the question with its options, picture and sound, then the answer, the
explanation and the answer's sound. Field text is HTML (Anki's), escaped, with line breaks
as ``<br>``; a field edited in Anki with other markup is read as plain text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from tutor.content.html_text import plain_text
from tutor.content.messages import Place
from tutor.content.records import Record
from tutor.items import ItemKind

ITEM_NOTETYPE = "metatutor item"
CLOZE_NOTETYPE = "metatutor cloze"
ITEM_FIELDS = (
    "Question",
    "Answer",
    "Options",
    "Explanation",
    "Picture",
    "Sound",
    "Answer sound",
    "Type",
    "Id",
)
CLOZE_FIELDS = ("Text", "Explanation", "Picture", "Sound", "Answer sound", "Id")

_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_OTHER_TAG = re.compile(r"<(?!br\s*/?>)[a-zA-Z/!]", re.IGNORECASE)


def to_field(text: str) -> str:
    """Plain text as Anki field HTML."""
    return html.escape(text, quote=False).replace("\n", "<br>")


def from_field(markup: str) -> str:
    """Field HTML written by :func:`to_field` back to its text (other markup: plain text)."""
    if _OTHER_TAG.search(markup):
        return plain_text(markup)
    return html.unescape(_BR.sub("\n", markup))


def is_metatutor_notetype(name: str, fields: tuple[str, ...]) -> bool:
    """True for the note types metatutor writes (by name and fields, as written)."""
    return (name, fields) in ((ITEM_NOTETYPE, ITEM_FIELDS), (CLOZE_NOTETYPE, CLOZE_FIELDS))


def _answer_text(record: Record) -> str:
    answer = record.answer
    if isinstance(answer, bool):
        return "true" if answer else "false"
    if isinstance(answer, list):
        return "\n".join(answer)
    return answer or ""


def record_fields(record: Record) -> tuple[str, list[str]]:
    """The note type name and field HTML for an entry (an exported item)."""
    picture = f'<img src="{html.escape(record.image)}">' if record.image else ""
    sound = f"[sound:{record.audio}]" if record.audio else ""
    answer_sound = f"[sound:{record.answer_audio}]" if record.answer_audio else ""
    if record.type == ItemKind.CLOZE.value:
        text = [record.question, record.explanation]
        fields = [*map(to_field, text), picture, sound, answer_sound, to_field(record.id)]
        return CLOZE_NOTETYPE, fields
    texts = [record.question, _answer_text(record), "\n".join(record.options), record.explanation]
    return ITEM_NOTETYPE, [
        *map(to_field, texts),
        picture,
        sound,
        answer_sound,
        to_field(record.type),
        to_field(record.id),
    ]


def fields_record(
    notetype: str,
    values: Mapping[str, str],
    *,
    where: Place,
    tags: tuple[str, ...],
    media: Mapping[str, str | None],
) -> Record:
    """The entry a metatutor note holds. ``media`` gives the picture, sound and answer sound
    as found usable in the package (``image``, ``audio``, ``answer_audio``)."""
    text = {name: from_field(value) for name, value in values.items()}
    cloze = notetype == CLOZE_NOTETYPE
    kind = ItemKind.CLOZE.value if cloze else text.get("Type", "").strip()
    raw_answer = text.get("Answer", "")
    answer: str | list[str] | None = None if cloze else raw_answer
    if kind == ItemKind.TYPED.value:
        answer = [line for line in raw_answer.split("\n") if line.strip()]
    return Record(
        where=where,
        id=text.get("Id", "").strip(),
        type=kind,
        question=text.get("Text" if cloze else "Question", ""),
        answer=answer,
        options=[line for line in text.get("Options", "").split("\n") if line.strip()],
        explanation=text.get("Explanation", ""),
        tags=tags,
        image=media.get("image"),
        audio=media.get("audio"),
        answer_audio=media.get("answer_audio"),
    )
