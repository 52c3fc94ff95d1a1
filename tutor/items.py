"""Decks and items: the content a student studies."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # tutor.content imports this module
    from tutor.content.messages import Place, Reason


class ItemKind(enum.StrEnum):
    """How a question is asked and answered."""

    MULTIPLE_CHOICE = "multiple_choice"
    TRUE_FALSE = "true_false"
    TYPED = "typed"
    FLASHCARD = "flashcard"
    CLOZE = "cloze"

    @property
    def self_graded(self) -> bool:
        """True when the student grades their own recall (Again/Hard/Good/Easy)."""
        return self in (ItemKind.FLASHCARD, ItemKind.CLOZE)


class Grade(enum.IntEnum):
    """A self-grade, numbered like Anki's answer buttons."""

    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4

    @property
    def recalled(self) -> bool:
        """Anything but Again counts as recalled."""
        return self is not Grade.AGAIN


MIN_OPTIONS = 2
MAX_OPTIONS = 12


@dataclass(frozen=True, slots=True)
class Item:
    """One question.

    Which fields matter depends on ``kind``:

    * multiple choice: ``prompt``, ``options`` (2-12), ``correct_option`` (index);
    * true/false: ``prompt``, ``correct_option`` (0 = true, 1 = false), ``options`` empty;
    * typed: ``prompt``, ``accepted`` (answers matched tolerantly);
    * flashcard: ``prompt`` is the front, ``answer`` the back;
    * cloze: ``prompt`` is the text with the deletion shown as ``[...]``, ``answer`` the
      deleted text, ``accepted`` the same for typed matching.

    ``external_id`` is the stable id an import updates by (an Anki note GUID plus card
    ordinal, or the ``id`` column of a CSV/JSON file). ``id`` is the database id, 0 until
    stored.
    """

    kind: ItemKind
    prompt: str
    external_id: str
    options: tuple[str, ...] = ()
    correct_option: int | None = None
    accepted: tuple[str, ...] = ()
    answer: str = ""
    explanation: str = ""
    tags: tuple[str, ...] = ()
    image: str | None = None
    id: int = 0
    deck_id: int = 0
    audio: str | None = None
    """Media name of the sound played with the question."""
    answer_audio: str | None = None
    """Media name of the sound played with the answer, once it is revealed or answered."""

    @property
    def n_options(self) -> int:
        """Number of choices offered (0 for free recall)."""
        if self.kind is ItemKind.TRUE_FALSE:
            return 2
        if self.kind is ItemKind.MULTIPLE_CHOICE:
            return len(self.options)
        return 0

    @property
    def correct_text(self) -> str:
        """The correct answer as a student would read it."""
        if self.kind is ItemKind.MULTIPLE_CHOICE and self.correct_option is not None:
            return self.options[self.correct_option]
        if self.kind is ItemKind.TRUE_FALSE:
            return "true" if self.correct_option == 0 else "false"
        if self.kind is ItemKind.TYPED:
            return self.accepted[0] if self.accepted else ""
        return self.answer

    def to_payload(self) -> dict[str, Any]:
        """The kind-specific fields, as stored (JSON-serialisable)."""
        payload: dict[str, Any] = {"prompt": self.prompt}
        if self.options:
            payload["options"] = list(self.options)
        if self.correct_option is not None:
            payload["correct_option"] = self.correct_option
        if self.accepted:
            payload["accepted"] = list(self.accepted)
        if self.answer:
            payload["answer"] = self.answer
        if self.explanation:
            payload["explanation"] = self.explanation
        return payload

    @classmethod
    def from_payload(
        cls,
        *,
        kind: str,
        payload: dict[str, Any],
        external_id: str,
        tags: tuple[str, ...] = (),
        image: str | None = None,
        id: int = 0,
        deck_id: int = 0,
        audio: str | None = None,
        answer_audio: str | None = None,
    ) -> Item:
        """Rebuild an item from its stored form."""
        return cls(
            kind=ItemKind(kind),
            prompt=str(payload["prompt"]),
            external_id=external_id,
            options=tuple(payload.get("options", ())),
            correct_option=payload.get("correct_option"),
            accepted=tuple(payload.get("accepted", ())),
            answer=str(payload.get("answer", "")),
            explanation=str(payload.get("explanation", "")),
            tags=tags,
            image=image,
            id=id,
            deck_id=deck_id,
            audio=audio,
            answer_audio=answer_audio,
        )


@dataclass(frozen=True, slots=True)
class Deck:
    """A named collection of items. ``slug`` is the stable name used in links and files."""

    slug: str
    name: str
    description: str = ""
    language: str = "en"
    id: int = 0
    bundled: bool = False


@dataclass(slots=True)
class ParsedDeck:
    """What an importer read from one file, before it is stored.

    ``slug_given`` is True when the file states its deck's slug (a JSON deck header): it
    then imports into the deck of that slug, else into the deck of ``deck.name``.
    """

    deck: Deck
    items: list[Item] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)
    skipped: list[SkippedEntry] = field(default_factory=list)
    slug_given: bool = False


@dataclass(frozen=True, slots=True)
class SkippedEntry:
    """An entry an importer left out, and why. ``where`` is a line number or note id.

    ``where`` and ``reason`` are English; ``place`` and ``detail`` (a
    :class:`~tutor.content.messages.Place` and :class:`~tutor.content.messages.Reason`) say
    the same as codes with parameters, for a reader in another language.
    """

    where: str
    reason: str
    place: Place | None = None
    detail: Reason | None = None
