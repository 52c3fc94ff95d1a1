"""Students' own cards: a personal deck that only its owner sees, studies and exports.

A card is written ``FRONT | BACK`` (a flashcard: the student reveals the back and grades
their recall) or ``QUESTION | ANSWER1; ANSWER2`` (a typed answer: any listed answer counts;
a single typed answer ends with ``;``). The cards live in an ordinary deck with an owner,
so the learner model schedules them like any item; nothing outside this module and the
owner's own quizzes reaches that deck (see ``storage.content.get_deck``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from storage import content as content_rows
from storage import own_cards as card_rows
from tutor.card_sounds import CardSound, SoundSide, check_sound_data, sound_name
from tutor.clock import to_millis
from tutor.convert import item_from_record, item_to_record
from tutor.errors import TutorError, UnknownStudent
from tutor.items import Item, ItemKind
from tutor.library import export as export_deck

if TYPE_CHECKING:
    from tutor.service import TutorService

MAX_FRONT = 500
"""Characters on a card's front (or a typed card's question)."""
MAX_BACK = 300
"""Characters on a card's back (all typed answers together)."""
MAX_ANSWERS = 10
PAGE_SIZE = 5
PERSONAL_DECK_NAME = "My cards"
"""The stored name; students never see it (the bot names the deck in their language)."""
PICTURE_TYPES = {b"\xff\xd8\xff": "jpg", b"\x89PNG": "png", b"RIFF": "webp", b"GIF8": "gif"}


class CardIncomplete(TutorError):
    """A card needs a front and a back, separated by one ``|``."""

    code = "card_incomplete"


class CardTooLong(TutorError):
    """A side of the card is too long; ``params['limit']``."""

    code = "card_too_long"


class FrontTooLong(CardTooLong):
    """The front has more than :data:`MAX_FRONT` characters."""

    code = "card_front_too_long"


class BackTooLong(CardTooLong):
    """The back has more than :data:`MAX_BACK` characters."""

    code = "card_back_too_long"


class TooManyAnswers(CardTooLong):
    """A typed card lists more than :data:`MAX_ANSWERS` answers."""

    code = "card_too_many_answers"


class TooManyCards(TutorError):
    """The personal deck is full; ``params['limit']``."""

    code = "too_many_cards"


class PictureTooLarge(TutorError):
    """The card's picture is larger than allowed; ``params['limit_kb']``."""

    code = "picture_too_large"


class CardGone(TutorError):
    """The card was deleted, or is not the student's."""

    code = "card_gone"


class NoOwnCards(TutorError):
    """The student has no cards of their own (nothing to export)."""

    code = "no_own_cards"


class PrivateItem(TutorError):
    """The item is a student's own card: its content is theirs alone."""

    code = "private_item"


@dataclass(frozen=True, slots=True)
class CardText:
    """A card as typed: its kind, front, and back (a flashcard) or answers (typed)."""

    kind: ItemKind
    front: str
    back: str = ""
    answers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CardPage:
    """One page of a student's cards (``page`` counts from 0)."""

    cards: tuple[Item, ...]
    page: int
    pages: int
    total: int


def parse_line(text: str) -> CardText:
    """A card from ``FRONT | BACK``; raises CardIncomplete or CardTooLong."""
    fields = text.split("|")
    if len(fields) != 2:
        raise CardIncomplete(f"expected one '|', found {len(fields) - 1}")
    return parse_sides(fields[0], fields[1])


def parse_sides(front: str, back: str) -> CardText:
    """A card from its two sides (``;`` in the back makes it a typed-answer card)."""
    front, back = front.strip(), back.strip()
    if not front or not back:
        raise CardIncomplete("a card needs a front and a back")
    if len(front) > MAX_FRONT:
        raise FrontTooLong(str(len(front)), limit=MAX_FRONT)
    if len(back) > MAX_BACK:
        raise BackTooLong(str(len(back)), limit=MAX_BACK)
    if ";" not in back:
        return CardText(ItemKind.FLASHCARD, front, back=back)
    answers = tuple(dict.fromkeys(part.strip() for part in back.split(";") if part.strip()))
    if not answers:
        raise CardIncomplete("a typed card needs an answer")
    if len(answers) > MAX_ANSWERS:
        raise TooManyAnswers(str(len(answers)), limit=MAX_ANSWERS)
    return CardText(ItemKind.TYPED, front, answers=answers)


def card_item(
    card: CardText,
    external_id: str,
    image: str | None = None,
    sound: str | None = None,
    side: SoundSide = SoundSide.QUESTION,
) -> Item:
    """The item a card is stored as (``sound``: the media name of its sound, on ``side``)."""
    audio = sound if side is SoundSide.QUESTION else None
    answer_audio = sound if side is SoundSide.ANSWER else None
    if card.kind is ItemKind.TYPED:
        accepted = card.answers
        return Item(
            ItemKind.TYPED,
            card.front,
            external_id,
            accepted=accepted,
            image=image,
            audio=audio,
            answer_audio=answer_audio,
        )
    return Item(
        ItemKind.FLASHCARD,
        card.front,
        external_id,
        answer=card.back,
        image=image,
        audio=audio,
        answer_audio=answer_audio,
    )


def sound_side(item: Item) -> SoundSide | None:
    """Where the card's sound plays (None: it has none)."""
    if item.audio:
        return SoundSide.QUESTION
    return SoundSide.ANSWER if item.answer_audio else None


def _media_names(item: Item) -> tuple[str, ...]:
    return tuple(name for name in (item.image, item.audio, item.answer_audio) if name)


def card_line(item: Item) -> str:
    """A card as the student would type it (for editing: the text to start from)."""
    if item.kind is ItemKind.TYPED:
        answers = "; ".join(item.accepted)
        return f"{item.prompt} | {answers}" + (";" if len(item.accepted) == 1 else "")
    return f"{item.prompt} | {item.answer}"


def picture_type(data: bytes) -> str | None:
    """The file type of a picture from its first bytes (None: not a picture we keep)."""
    for magic, suffix in PICTURE_TYPES.items():
        if data.startswith(magic):
            return suffix
    return None


class OwnCards:
    """Adding, listing, editing, deleting and exporting a student's own cards."""

    def __init__(self, service: TutorService) -> None:
        self.service = service
        self.db = service.db

    def _now_ms(self) -> int:
        return to_millis(self.service.now())

    async def add(
        self,
        user_id: int,
        card: CardText,
        picture: bytes | None = None,
        sound: CardSound | None = None,
    ) -> Item:
        """Store a new card (with its picture and sound) in the student's personal deck, made
        on the first card; raises TooManyCards, PictureTooLarge, SoundTooLarge,
        SoundNotPlayable or UnknownStudent."""
        student = await self.service.student(user_id)
        if student is None:
            raise UnknownStudent(str(user_id))
        limit = self.service.config.max_own_cards
        picture_limit = self.service.config.max_card_picture_bytes
        if picture is not None and len(picture) > picture_limit:
            raise PictureTooLarge(str(len(picture)), limit_kb=math.ceil(picture_limit / 1024))
        if sound is not None:
            check_sound_data(sound)
        now_ms = self._now_ms()
        async with self.db.transaction() as conn:
            if await card_rows.count_cards(conn, user_id) >= limit:
                raise TooManyCards(str(limit), limit=limit)
            deck_id = await card_rows.personal_deck_id(conn, user_id)
            if deck_id is None:
                deck_id = await card_rows.create_personal_deck(
                    conn, user_id, PERSONAL_DECK_NAME, student.language, now_ms
                )
            position = await card_rows.next_position(conn, deck_id)
            external_id = f"card-{position + 1}"
            image = None
            if picture is not None:
                image = f"{external_id}.{picture_type(picture) or 'jpg'}"
                await content_rows.put_media(conn, deck_id, image, picture)
            audio = None
            if sound is not None:
                audio = sound_name(external_id, sound)
                await content_rows.put_media(conn, deck_id, audio, sound.data)
            side = sound.side if sound is not None else SoundSide.QUESTION
            item = card_item(card, external_id, image, audio, side)
            record = item_to_record(item, deck_id)
            record = dataclasses.replace(record, position=position)
            item_id = await card_rows.insert_card(conn, deck_id, record, now_ms)
        return await self.card(user_id, item_id)

    async def count(self, user_id: int) -> int:
        """How many cards the student has."""
        async with self.db.read() as conn:
            return await card_rows.count_cards(conn, user_id)

    async def with_media(self, user_id: int) -> int:
        """How many of the student's cards carry a picture or a sound (a CSV or JSON export
        names those files; only an Anki package holds them)."""
        async with self.db.read() as conn:
            return await card_rows.count_with_media(conn, user_id)

    async def page(self, user_id: int, page: int) -> CardPage:
        """A page of the student's cards; a page past the end shows the last one."""
        async with self.db.read() as conn:
            total = await card_rows.count_cards(conn, user_id)
            pages = max(1, math.ceil(total / PAGE_SIZE))
            page = max(0, min(page, pages - 1))
            rows = await card_rows.cards_page(conn, user_id, page * PAGE_SIZE, PAGE_SIZE)
        return CardPage(tuple(item_from_record(row) for row in rows), page, pages, total)

    async def card(self, user_id: int, item_id: int) -> Item:
        """One of the student's cards; raises CardGone."""
        async with self.db.read() as conn:
            record = await card_rows.get_card(conn, user_id, item_id)
        if record is None:
            raise CardGone(str(item_id))
        return item_from_record(record)

    async def edit(self, user_id: int, item_id: int, card: CardText) -> Item:
        """Replace a card's text (its picture, sound, answers and schedule stay); raises
        CardGone."""
        async with self.db.transaction() as conn:
            if await card_rows.get_card(conn, user_id, item_id) is None:
                raise CardGone(str(item_id))
            new = card_item(card, "")
            await card_rows.update_card(
                conn, item_id, new.kind.value, new.to_payload(), self._now_ms()
            )
        return await self.card(user_id, item_id)

    async def set_sound(self, user_id: int, item_id: int, sound: CardSound) -> Item:
        """Put ``sound`` on a card in place of its old one, on the old one's side if it had
        one (its text, picture and schedule stay); raises CardGone, SoundTooLarge or
        SoundNotPlayable."""
        check_sound_data(sound)
        async with self.db.transaction() as conn:
            record = await card_rows.get_card(conn, user_id, item_id)
            if record is None:
                raise CardGone(str(item_id))
            old = item_from_record(record)
            sound = dataclasses.replace(sound, side=sound_side(old) or sound.side)
            name = sound_name(old.external_id, sound)
            dropped = tuple(n for n in (old.audio, old.answer_audio) if n and n != name)
            await content_rows.put_media(conn, record.deck_id, name, sound.data)
            question = name if sound.side is SoundSide.QUESTION else None
            answer = name if sound.side is SoundSide.ANSWER else None
            await card_rows.set_card_sound(conn, item_id, question, answer, dropped, self._now_ms())
        return await self.card(user_id, item_id)

    async def delete(self, user_id: int, item_id: int) -> Item:
        """Delete a card with its picture and sound (its answers stay in the history); raises
        CardGone if already gone."""
        async with self.db.transaction() as conn:
            record = await card_rows.get_card(conn, user_id, item_id)
            if record is None:
                raise CardGone(str(item_id))
            await card_rows.delete_card(
                conn, item_id, _media_names(item_from_record(record)), self._now_ms()
            )
        return item_from_record(record)

    async def export(self, user_id: int, fmt: str = "csv") -> tuple[str, bytes]:
        """The student's cards as CSV, JSON or an Anki package (NoOwnCards if none)."""
        async with self.db.read() as conn:
            deck_id = await card_rows.personal_deck_id(conn, user_id)
            total = await card_rows.count_cards(conn, user_id)
        if deck_id is None or total == 0:
            raise NoOwnCards(str(user_id))
        _, data = await export_deck(self.db, deck_id, fmt, owner_id=user_id)
        return f"my-cards.{fmt}", data

    async def private_owner(self, item_id: int) -> int | None:
        """The student whose own card ``item_id`` is (None for a shared deck's item)."""
        async with self.db.read() as conn:
            return await card_rows.owner_of_item(conn, item_id)

    async def totals(self) -> tuple[int, int]:
        """(own cards, students with any), for admins: counts, never contents."""
        async with self.db.read() as conn:
            return await card_rows.totals(conn)
