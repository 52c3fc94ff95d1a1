"""metatutor JSON decks (version 1), as described in deck_format.md."""

from __future__ import annotations

import json
from typing import Any

from tutor.content.common import (
    SLUG_PATTERN,
    check_image_name,
    detect_language,
    name_from_filename,
    slugify,
)
from tutor.content.errors import DEFAULT_LIMITS, ContentError, ImportLimits
from tutor.content.messages import DECK, Place, Reason, item, place, reason
from tutor.content.records import Record, build_items
from tutor.content.tabular import read_text
from tutor.items import Deck, ParsedDeck

FORMAT_VERSION = 1
LANGUAGES = ("en", "zh")
_ITEM_KEYS = frozenset(
    {
        "id",
        "type",
        "question",
        "answer",
        "options",
        "explanation",
        "tags",
        "image",
        "audio",
        "answer_audio",
    }
)


def _text(value: Any, name: str, where: Place, *, required: bool = False) -> str:
    if value is None:
        if required:
            raise ContentError("field_missing", where=where, name=name)
        return ""
    if not isinstance(value, str):
        raise ContentError("field_not_string", where=where, name=name, type=type(value).__name__)
    return value


def _string_list(value: Any, name: str, where: Place) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ContentError("field_not_string_list", where=where, name=name)
    return value


def _deck(raw: Any, deck_name: str | None, filename: str) -> tuple[Deck, bool]:
    """The deck header; the bool says whether ``language`` was given."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ContentError("deck_not_object", where=DECK)
    name = deck_name or _text(raw.get("name"), "name", DECK) or name_from_filename(filename)
    slug = _text(raw.get("slug"), "slug", DECK) or slugify(name)
    if not SLUG_PATTERN.fullmatch(slug):
        raise ContentError("bad_slug", where=DECK, slug=slug)
    language = _text(raw.get("language"), "language", DECK)
    if language and language not in LANGUAGES:
        raise ContentError(
            "bad_language", where=DECK, language=language, languages=tuple(LANGUAGES)
        )
    deck = Deck(
        slug=slug,
        name=name.strip(),
        description=_text(raw.get("description"), "description", DECK).strip(),
        language=language or "en",
    )
    return deck, bool(language)


def _record(index: int, raw: Any) -> Record:
    if not isinstance(raw, dict):
        raise ContentError("item_not_object", where=item(index))
    entry_id = raw.get("id")
    if not isinstance(entry_id, str) or not entry_id.strip():
        raise ContentError("id_missing", where=item(index))
    where = item(index, entry_id)
    unknown = sorted(set(raw) - _ITEM_KEYS)
    if unknown:
        raise ContentError("unknown_fields", where=where, fields=tuple(unknown))
    answer = raw.get("answer")
    if answer is not None and not isinstance(answer, str | bool | list):
        raise ContentError("answer_type", where=where)
    if isinstance(answer, list):
        answer = _string_list(answer, "answer", where)
    image = _text(raw.get("image"), "image", where)
    sounds: dict[str, str | None] = {}
    for key in ("audio", "answer_audio"):
        value = _text(raw.get(key), key, where)
        sounds[key] = check_image_name(value, where, key) if value.strip() else None
    tags = _string_list(raw.get("tags"), "tags", where)
    return Record(
        where=where,
        id=entry_id.strip(),
        type=_text(raw.get("type"), "type", where),
        question=_text(raw.get("question"), "question", where, required=True),
        answer=answer,
        options=_string_list(raw.get("options"), "options", where),
        explanation=_text(raw.get("explanation"), "explanation", where),
        tags=tuple(dict.fromkeys("_".join(t.split()) for t in tags if t.strip())),
        image=check_image_name(image, where) if image.strip() else None,
        audio=sounds["audio"],
        answer_audio=sounds["answer_audio"],
    )


_JSON_FAULTS = (
    ("Expecting value", "json_expecting_value"),
    ("Expecting ',' delimiter", "json_expecting_comma"),
    ("Expecting ':' delimiter", "json_expecting_colon"),
    ("Expecting property name", "json_expecting_name"),
    ("Unterminated string", "json_unterminated_string"),
    ("Extra data", "json_extra_data"),
    ("Invalid control character", "json_control_character"),
    ("Invalid \\", "json_bad_escape"),
)


def _json_fault(message: str) -> Reason | str:
    """What the JSON reader stopped at, as a reason the admin's language can say (the
    reader's English for anything else)."""
    for start, code in _JSON_FAULTS:
        if message.startswith(start):
            return reason(code)
    return message


def parse_json(
    data: bytes,
    *,
    filename: str,
    deck_name: str | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> ParsedDeck:
    """Parse a metatutor JSON deck."""
    text = read_text(data, filename, limits)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContentError(
            "json_invalid",
            where=place("line_column", line=exc.lineno, column=exc.colno),
            file=filename,
            detail=_json_fault(exc.msg),
        ) from None
    if not isinstance(document, dict):
        raise ContentError("json_not_object", file=filename)
    version = document.get("metatutor")
    if version != FORMAT_VERSION:
        raise ContentError("json_version", file=filename, version=FORMAT_VERSION, got=version)
    raw_items = document.get("items")
    if not isinstance(raw_items, list):
        raise ContentError("json_no_items_list", file=filename)
    if not raw_items:
        raise ContentError("json_no_items", file=filename)
    deck, language_given = _deck(document.get("deck"), deck_name, filename)
    records = [_record(index, raw) for index, raw in enumerate(raw_items, start=1)]
    items, skipped = build_items(records, limits)
    if not language_given:
        deck = Deck(
            slug=deck.slug,
            name=deck.name,
            description=deck.description,
            language=detect_language(item.prompt for item in items),
        )
    header = document.get("deck")
    slug_given = isinstance(header, dict) and bool(header.get("slug"))
    return ParsedDeck(deck=deck, items=items, skipped=skipped, slug_given=slug_given)
