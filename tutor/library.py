"""Decks in the database: importing files into the right deck, exporting, bundled decks."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from storage import Database
from storage import content as content_rows
from storage import imports as import_rows
from tutor import deck_store
from tutor.content import parse_deck_file
from tutor.content.anki_export import export_package
from tutor.content.common import slugify
from tutor.content.errors import ContentError, ImportLimits
from tutor.content.export import FORMATS, export_deck
from tutor.content.messages import reason as content_reason
from tutor.convert import deck_from_record, item_from_record
from tutor.deck_store import Pace, Target
from tutor.errors import ContentRejected, UnknownDeck
from tutor.items import Deck, ParsedDeck
from tutor.views import ImportReport

_DECK_ID = re.compile(r"^(?:deck_)?(\d+)$")


def bundled_deck_files() -> list[tuple[str, bytes]]:
    """(file name, bytes) of every deck shipped with the package."""
    folder = resources.files("tutor.decks")
    return sorted(
        (entry.name, entry.read_bytes())
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    )


def bundled_media() -> dict[str, bytes]:
    """Images of the bundled decks, by file name."""
    folder = resources.files("tutor.decks").joinpath("media")
    if not folder.is_dir():
        return {}
    return {entry.name: entry.read_bytes() for entry in folder.iterdir() if entry.is_file()}


async def resolve_target(db: Database, parsed: ParsedDeck, deck_ref: str | None) -> Target:
    """The deck a parsed file goes into.

    1. ``deck_ref`` (``--deck``, ``/import NAME``) always wins: the live deck of that id,
       slug or name, else a new deck of that name.
    2. A file that states its slug (a JSON deck header) goes into the deck of that slug.
    3. Otherwise the deck the file names (a CSV/TSV ``deck`` column, the Anki deck, else the
       file name): the live deck of that name or slug, else a new one.

    A deleted deck of the same slug is revived. An existing deck keeps its name (renaming
    is ``/deck_rename``'s) and language.
    """
    header = parsed.deck
    async with db.read() as conn:
        existing = None
        ref = (deck_ref or "").strip()
        if ref:
            header = Deck(
                slug=slugify(ref),
                name=ref[:100],
                description=header.description,
                language=header.language,
            )
            match = _DECK_ID.match(ref)
            if match:
                existing = await content_rows.get_deck(conn, int(match.group(1)))
                if existing is None:
                    raise UnknownDeck(ref[:64], deck=ref[:64])
            existing = existing or await content_rows.find_deck(conn, ref)
        elif not parsed.slug_given:
            existing = await content_rows.find_deck(conn, header.name)
        row = await import_rows.deck_by_id(conn, existing.id) if existing else None
        row = row or await import_rows.deck_by_slug(conn, header.slug)
    if row is None:
        return Target(header)
    if row.deleted:
        revived = dataclasses.replace(header, slug=row.slug, bundled=row.bundled)
        return Target(revived, row, row.source_digest)
    kept = Deck(
        slug=row.slug,
        name=row.name,
        description=header.description or row.description,
        language=row.language,
        bundled=row.bundled,
    )
    # A bundled deck keeps its digest: the next start does not undo what this file changed.
    return Target(kept, row, source_digest=row.source_digest)


async def import_parsed(
    db: Database,
    parsed: ParsedDeck,
    *,
    deck_ref: str | None,
    now_ms: Callable[[], int],
    actor_id: int | None,
    source: str = "",
    pace: Pace | None = None,
) -> ImportReport:
    """Store a parsed file into its deck (see :func:`resolve_target`), in short steps."""
    target = await resolve_target(db, parsed, deck_ref)
    return await deck_store.store(
        db, parsed, target, now_ms=now_ms, actor_id=actor_id, source=source, pace=pace
    )


def parse_upload(data: bytes, filename: str, deck_name: str | None, max_bytes: int) -> ParsedDeck:
    """Parse an uploaded deck file.

    Raises:
        ContentRejected: with ``params`` ``reason`` (the importer's message), ``cause`` (a
            stable code for the likely cause, or ""), ``filename``, and ``why`` and
            ``place`` (the message as a code with parameters, for other languages). A file
            that yields no item is rejected too: nothing is created for it.
    """
    try:
        return parse_deck_file(
            data, filename, deck_name=deck_name, limits=ImportLimits(max_file_bytes=max_bytes)
        )
    except ContentError as error:
        raise ContentRejected(
            str(error),
            reason=str(error),
            cause=error.cause,
            filename=filename,
            why=error.reason,
            place=error.place,
        ) from error


def bundled_digest(data: bytes, media: dict[str, bytes]) -> str:
    """What a bundled deck is synced from: its file and the pictures it uses."""
    digest = hashlib.sha256(data)
    for name in sorted(media):
        digest.update(b"\0" + name.encode("utf-8") + b"\0" + media[name])
    return digest.hexdigest()


async def install_bundled(
    db: Database, now_ms: Callable[[], int], pace: Pace | None = None
) -> list[ImportReport]:
    """Import the decks shipped with the package, or refresh those whose content changed.

    A deck whose file and pictures are as last synced is not touched (no write, no new
    ``items_version``); that also keeps an admin's edits of it until the package changes it.
    """
    media = bundled_media()
    reports = []
    for name, data in bundled_deck_files():
        parsed = parse_deck_file(data, name)
        wanted = {n for i in parsed.items for n in (i.image, i.audio, i.answer_audio) if n}
        parsed.media.update({key: media[key] for key in wanted if key in media})
        digest = bundled_digest(data, parsed.media)
        async with db.read() as conn:
            row = await import_rows.deck_by_slug(conn, parsed.deck.slug)
        if row is not None and row.source_digest == digest:
            continue
        deck = dataclasses.replace(parsed.deck, bundled=True)
        target = Target(
            dataclasses.replace(deck, slug=row.slug) if row else deck, row, source_digest=digest
        )
        reports.append(await deck_store.store(db, parsed, target, now_ms=now_ms, pace=pace))
    return reports


async def export(
    db: Database, deck_id: int, fmt: str, *, owner_id: int | None = None
) -> tuple[str, bytes]:
    """The deck as a CSV, TSV or JSON file, or an Anki package with its pictures and sounds,
    that imports back to the same deck.

    A student's personal deck is found only with its ``owner_id``.

    Raises:
        ContentRejected: an unknown format, or an item the format cannot carry unchanged
            (``params``: ``reason``, ``cause`` "unknown_format" or "not_exportable",
            ``deck``, ``format``).
        UnknownDeck: no live deck ``deck_id``.
    """
    if fmt not in FORMATS:
        why = content_reason("export_format", format=fmt, formats=tuple(FORMATS))
        raise ContentRejected(
            str(why),
            reason=f"unknown export format {fmt!r}",
            cause="unknown_format",
            format=fmt,
            formats=FORMATS,
            why=why,
            place=None,
        )
    async with db.read() as conn:
        record = await content_rows.get_deck(conn, deck_id, owner_id=owner_id)
        if record is None:
            raise UnknownDeck(str(deck_id), deck=str(deck_id))
        items = [item_from_record(row) for row in await content_rows.deck_items(conn, deck_id)]
        media: dict[str, bytes] = {}
        if fmt == "apkg":
            names = {n for i in items for n in (i.image, i.audio, i.answer_audio) if n}
            for name in sorted(names):
                found = await content_rows.get_media(conn, deck_id, name)
                if found is not None:
                    media[name] = found
    deck = deck_from_record(record)
    try:
        if fmt == "apkg":
            data = await asyncio.to_thread(export_package, deck, items, media)
        else:
            data = await asyncio.to_thread(export_deck, deck, items, fmt)
    except ContentError as error:
        raise ContentRejected(
            str(error),
            reason=str(error),
            cause="not_exportable",
            deck=deck.name,
            format=fmt,
            why=error.reason,
            place=error.place,
        ) from error
    return f"{Path(deck.slug).name}.{fmt}", data
