"""Decks in the database: importing files (one transaction each), exporting, bundled decks."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from storage import Database
from storage import audit as audit_rows
from storage import content as content_rows
from storage.records import AuditRecord
from tutor.content import parse_deck_file
from tutor.content.errors import ContentError, ImportLimits
from tutor.content.export import export_deck
from tutor.convert import deck_from_record, item_from_record, item_to_record
from tutor.errors import ContentRejected, UnknownDeck
from tutor.items import Deck, ParsedDeck
from tutor.views import ImportReport


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


async def store_parsed(
    db: Database,
    parsed: ParsedDeck,
    *,
    now_ms: int,
    actor_id: int | None,
    bundled: bool = False,
    into: Deck | None = None,
    source: str = "",
) -> ImportReport:
    """Write a parsed deck in one transaction: all of it or nothing."""
    deck = into or parsed.deck
    async with db.transaction() as conn:
        deck_id, _ = await content_rows.upsert_deck(
            conn,
            slug=deck.slug,
            name=deck.name,
            description=deck.description or parsed.deck.description,
            language=deck.language,
            bundled=bundled or deck.bundled,
            now_ms=now_ms,
        )
        records = [item_to_record(item, deck_id) for item in parsed.items]
        added, updated = await content_rows.upsert_items(conn, deck_id, records, now_ms)
        for name, data in parsed.media.items():
            await content_rows.put_media(conn, deck_id, name, data)
        if actor_id is not None:
            detail = json.dumps(
                {"file": source, "added": added, "updated": updated, "skipped": len(parsed.skipped)}
            )
            await audit_rows.record(
                conn, AuditRecord(now_ms, actor_id, "import", deck.slug, detail)
            )
    stored = Deck(
        slug=deck.slug,
        name=deck.name,
        description=deck.description,
        language=deck.language,
        id=deck_id,
        bundled=bundled,
    )
    return ImportReport(stored, added, updated, list(parsed.skipped), len(parsed.media))


def parse_upload(data: bytes, filename: str, deck_name: str | None, max_bytes: int) -> ParsedDeck:
    """Parse an uploaded deck file; raises ContentRejected with the importer's message."""
    try:
        return parse_deck_file(
            data, filename, deck_name=deck_name, limits=ImportLimits(max_file_bytes=max_bytes)
        )
    except ContentError as error:
        raise ContentRejected(str(error), reason=str(error)) from error


async def install_bundled(db: Database, now_ms: int) -> list[ImportReport]:
    """Import (or refresh) the decks shipped with the package."""
    media = bundled_media()
    reports = []
    for name, data in bundled_deck_files():
        parsed = parse_deck_file(data, name)
        wanted = {item.image for item in parsed.items if item.image}
        parsed.media.update({key: media[key] for key in wanted if key in media})
        reports.append(await store_parsed(db, parsed, now_ms=now_ms, actor_id=None, bundled=True))
    return reports


async def export(db: Database, deck_id: int, fmt: str) -> tuple[str, bytes]:
    """The deck as a CSV or JSON file that imports back to the same deck."""
    if fmt not in ("csv", "json"):
        raise ContentRejected(f"unknown export format {fmt!r} (use csv or json)")
    async with db.read() as conn:
        record = await content_rows.get_deck(conn, deck_id)
        if record is None:
            raise UnknownDeck(str(deck_id))
        items = [item_from_record(row) for row in await content_rows.deck_items(conn, deck_id)]
    deck = deck_from_record(record)
    data = export_deck(deck, items, fmt)  # type: ignore[arg-type]
    return f"{Path(deck.slug).name}.{fmt}", data
