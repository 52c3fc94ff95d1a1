"""Turn one CSV/JSON entry into items, validating it as deck_format.md describes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tutor.content.cloze import parse_cloze
from tutor.content.errors import ContentError, ImportLimits, check_item_count
from tutor.content.messages import Place, skipped_for
from tutor.content.messages import skipped as skipped_entry
from tutor.content.sound import is_sound_name, unsupported_reason
from tutor.items import MAX_OPTIONS, MIN_OPTIONS, Item, ItemKind, SkippedEntry

_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


@dataclass(frozen=True, slots=True)
class Record:
    """One entry as read from a file, before checking. ``answer`` keeps its raw form."""

    where: Place
    id: str
    type: str
    question: str
    answer: str | bool | list[str] | None
    options: list[str] = field(default_factory=list)
    explanation: str = ""
    tags: tuple[str, ...] = ()
    image: str | None = None
    audio: str | None = None
    answer_audio: str | None = None


def _kind(record: Record) -> ItemKind:
    if not record.type:
        return ItemKind.MULTIPLE_CHOICE if record.options else ItemKind.FLASHCARD
    try:
        return ItemKind(record.type.strip().lower())
    except ValueError:
        known = tuple(k.value for k in ItemKind)
        raise ContentError(
            "unknown_type", where=record.where, type=record.type, known=known
        ) from None


def _answer_text(record: Record) -> str:
    if record.answer is None:
        return ""
    if isinstance(record.answer, bool):
        return "true" if record.answer else "false"
    if isinstance(record.answer, list):
        raise ContentError("answer_is_list", where=record.where)
    return record.answer.strip()


def _require_answer(record: Record) -> str:
    text = _answer_text(record)
    if not text:
        raise ContentError("answer_empty", where=record.where)
    return text


def _multiple_choice(record: Record, base: dict[str, object]) -> Item:
    options = [o.strip() for o in record.options]
    if any(not o for o in options):
        raise ContentError("option_empty", where=record.where)
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise ContentError(
            "option_count",
            where=record.where,
            min=MIN_OPTIONS,
            max=MAX_OPTIONS,
            count=len(options),
        )
    if len(set(options)) != len(options):
        raise ContentError("options_not_distinct", where=record.where)
    answer = _require_answer(record)
    if answer not in options:
        raise ContentError(
            "answer_not_option", where=record.where, answer=answer, options=" | ".join(options)
        )
    return Item(
        kind=ItemKind.MULTIPLE_CHOICE,
        options=tuple(options),
        correct_option=options.index(answer),
        **base,  # type: ignore[arg-type]
    )


def _true_false(record: Record, base: dict[str, object]) -> Item:
    answer = _require_answer(record).lower()
    if answer in _TRUE:
        correct = 0
    elif answer in _FALSE:
        correct = 1
    else:
        raise ContentError("true_false_answer", where=record.where, answer=answer)
    return Item(kind=ItemKind.TRUE_FALSE, correct_option=correct, **base)  # type: ignore[arg-type]


def _typed(record: Record, base: dict[str, object]) -> Item:
    raw = record.answer
    if isinstance(raw, bool) or raw is None:
        values: list[str] = [] if raw is None else [str(raw).lower()]
    elif isinstance(raw, list):
        values = raw
    else:
        values = raw.split("|")
    accepted = tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
    if not accepted:
        raise ContentError("typed_no_answer", where=record.where)
    return Item(kind=ItemKind.TYPED, accepted=accepted, **base)  # type: ignore[arg-type]


def record_items(record: Record) -> tuple[list[Item], list[SkippedEntry]]:
    """Items for one entry (several for a cloze) and the empty clozes left out.

    Raises:
        ContentError: naming ``record.where`` and what is wrong.
    """
    sounds, sound_skips = _sounds(record)
    if not record.question.strip() and not record.image and not sounds["audio"]:
        # A picture or a sound alone may be the question ("which flag is this?").
        raise ContentError("question_empty", where=record.where)
    kind = _kind(record)
    base: dict[str, object] = {
        "prompt": record.question.strip(),
        "external_id": record.id,
        "explanation": record.explanation.strip(),
        "tags": record.tags,
        "image": record.image,
        **sounds,
    }
    items, skipped = _kind_items(record, kind, base)
    return items, sound_skips + skipped


def _sounds(record: Record) -> tuple[dict[str, str | None], list[SkippedEntry]]:
    """The entry's sounds by item field; a kind Telegram cannot play is left out, reported."""
    sounds: dict[str, str | None] = {}
    skipped: list[SkippedEntry] = []
    for key, name in (("audio", record.audio), ("answer_audio", record.answer_audio)):
        if name and not is_sound_name(name):
            skipped.append(skipped_for(record.where, unsupported_reason(name)))
            name = None
        sounds[key] = name
    return sounds, skipped


def _kind_items(
    record: Record, kind: ItemKind, base: dict[str, object]
) -> tuple[list[Item], list[SkippedEntry]]:
    if kind is not ItemKind.MULTIPLE_CHOICE and record.options:
        raise ContentError("options_not_mc", where=record.where, kind=str(kind))
    if kind is ItemKind.MULTIPLE_CHOICE:
        return [_multiple_choice(record, base)], []
    if kind is ItemKind.TRUE_FALSE:
        return [_true_false(record, base)], []
    if kind is ItemKind.TYPED:
        return [_typed(record, base)], []
    if kind is ItemKind.FLASHCARD:
        # A card whose back is only a sound (a word's pronunciation) has no answer text.
        answer = _answer_text(record) if base["answer_audio"] else _require_answer(record)
        return [Item(kind=kind, answer=answer, **base)], []  # type: ignore[arg-type]
    try:
        result = parse_cloze(record.question.strip())
    except ContentError as exc:
        raise ContentError.of(exc.reason, where=record.where) from None
    items = [
        Item(
            kind=ItemKind.CLOZE,
            prompt=card.prompt,
            external_id=f"{record.id}::c{card.number}",
            answer=card.answer,
            accepted=(card.answer,),
            explanation=record.explanation.strip(),
            tags=record.tags,
            image=record.image,
            audio=base["audio"],  # type: ignore[arg-type]
            answer_audio=base["answer_audio"],  # type: ignore[arg-type]
        )
        for card in result.cards
    ]
    skipped = [
        skipped_entry(record.where, "cloze_id_empty", number=n, id=record.id)
        for n in result.empty_numbers
    ]
    return items, skipped


def build_items(
    records: Sequence[Record], limits: ImportLimits
) -> tuple[list[Item], list[SkippedEntry]]:
    """Items for all entries, rejecting duplicate ids (after cloze expansion)."""
    items: list[Item] = []
    skipped: list[SkippedEntry] = []
    seen: dict[str, Place] = {}
    for record in records:
        new_items, new_skipped = record_items(record)
        for item in new_items:
            first = seen.get(item.external_id)
            if first is not None:
                raise ContentError(
                    "duplicate_id_first", where=record.where, id=item.external_id, first=first
                )
            seen[item.external_id] = record.where
        items.extend(new_items)
        skipped.extend(new_skipped)
        check_item_count(len(items), limits)
    return items, skipped
