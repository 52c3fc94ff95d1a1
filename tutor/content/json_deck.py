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
from tutor.content.errors import DEFAULT_LIMITS, ContentError, ImportLimits, check_file_size
from tutor.content.records import Record, build_items
from tutor.content.tabular import decode_utf8
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


def _text(value: Any, name: str, where: str, *, required: bool = False) -> str:
    if value is None:
        if required:
            raise ContentError(f"field {name!r} is missing", where=where)
        return ""
    if not isinstance(value, str):
        raise ContentError(
            f"field {name!r} must be a string, not {type(value).__name__}", where=where
        )
    return value


def _string_list(value: Any, name: str, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ContentError(f"field {name!r} must be a list of strings", where=where)
    return value


def _deck(raw: Any, deck_name: str | None, filename: str) -> tuple[Deck, bool]:
    """The deck header; the bool says whether ``language`` was given."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ContentError("'deck' must be an object", where="deck")
    name = deck_name or _text(raw.get("name"), "name", "deck") or name_from_filename(filename)
    slug = _text(raw.get("slug"), "slug", "deck") or slugify(name)
    if not SLUG_PATTERN.fullmatch(slug):
        raise ContentError(
            f"slug {slug!r} must use only lowercase letters, digits and hyphens", where="deck"
        )
    language = _text(raw.get("language"), "language", "deck")
    if language and language not in LANGUAGES:
        raise ContentError(
            f"language {language!r} must be one of {', '.join(LANGUAGES)}", where="deck"
        )
    deck = Deck(
        slug=slug,
        name=name.strip(),
        description=_text(raw.get("description"), "description", "deck").strip(),
        language=language or "en",
    )
    return deck, bool(language)


def _record(index: int, raw: Any) -> Record:
    where = f"item {index}"
    if not isinstance(raw, dict):
        raise ContentError("each item must be an object", where=where)
    entry_id = raw.get("id")
    if not isinstance(entry_id, str) or not entry_id.strip():
        raise ContentError("field 'id' is missing or not a non-empty string", where=where)
    where = f"item {index} (id {entry_id!r})"
    unknown = sorted(set(raw) - _ITEM_KEYS)
    if unknown:
        raise ContentError(f"unknown field(s): {', '.join(unknown)}", where=where)
    answer = raw.get("answer")
    if answer is not None and not isinstance(answer, str | bool | list):
        raise ContentError("field 'answer' must be a string, boolean or list", where=where)
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


def parse_json(
    data: bytes,
    *,
    filename: str,
    deck_name: str | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> ParsedDeck:
    """Parse a metatutor JSON deck."""
    check_file_size(data, filename, limits)
    text = decode_utf8(data, filename)
    if not text.strip():
        raise ContentError(f"{filename} is empty")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContentError(
            f"{filename} is not valid JSON: {exc.msg}", where=f"line {exc.lineno}"
        ) from None
    if not isinstance(document, dict):
        raise ContentError(f"{filename} must hold a JSON object with 'deck' and 'items'")
    version = document.get("metatutor")
    if version != FORMAT_VERSION:
        raise ContentError(
            f'{filename} must start with "metatutor": {FORMAT_VERSION} (got {version!r})'
        )
    raw_items = document.get("items")
    if not isinstance(raw_items, list):
        raise ContentError(f"{filename} needs an 'items' list")
    if not raw_items:
        raise ContentError(f"{filename} has no items")
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
