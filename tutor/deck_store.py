"""Storing a parsed deck in short steps, so that no import holds students up.

Each step is one short transaction; after it the import rests as long as the step took, so
students' requests (in this process, behind the database lock, and in the bot while the
command line imports, behind SQLite's write lock) go in between. Students see an import
whole or not at all:

* a new deck is *built* hidden (see :mod:`storage.imports`) and published by one statement;
* for an existing deck, its items are read in steps and compared with the file's; the new
  and changed items are all written by one last transaction, the *switch*, whose cost grows
  with the number of new and changed rows only: unchanged rows are not in it;
* pictures with new names are stored before the switch (no item shows them yet), changed
  ones in the switch.

An exception deletes the build (in steps); after a crash the build stays hidden, and a later
import deletes it once its process is gone or its heartbeat is older than ten minutes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from storage import Connection, Database
from storage import audit as audit_rows
from storage import content as content_rows
from storage import imports as import_rows
from storage.records import AuditRecord, DeckRow, ItemValues
from tutor.content.messages import reason as content_reason
from tutor.errors import ContentRejected
from tutor.items import Deck, Item, ParsedDeck
from tutor.processes import alive as _alive
from tutor.views import ImportReport

log = logging.getLogger(__name__)

STALE_BUILD_MS = 10 * 60 * 1000
"""A build whose heartbeat is this old is abandoned, whoever started it."""


@dataclass(frozen=True, slots=True)
class Pace:
    """How an import shares the database: rows per step, and the rest after each step."""

    rows: int = 1000
    """Items written or read per step (about 10 ms of SQLite work here)."""
    media_bytes: int = 4 * 1024 * 1024
    """Picture bytes written per step."""
    rest: float = 1.0
    """Rest after a step, as a multiple of the step's duration."""
    min_rest_s: float = 0.001


DEFAULT_PACE = Pace()


@dataclass(frozen=True, slots=True)
class Target:
    """Where an import goes: the deck header to store, and the deck's row if it exists."""

    deck: Deck
    existing: DeckRow | None = None
    source_digest: str | None = None


@dataclass(frozen=True, slots=True)
class _Counts:
    added: int
    updated: int
    unchanged: int


# Builds this process is running now (a build of ours not in here was abandoned).
_RUNNING: set[str] = set()


def item_values(items: Sequence[Item]) -> list[ItemValues]:
    """Items in stored form, positioned in file order."""
    return [
        ItemValues(
            external_id=item.external_id,
            kind=item.kind.value,
            payload=content_rows.payload_text(item.to_payload()),
            tags=" ".join(item.tags),
            image=item.image,
            position=position,
            audio=item.audio,
            answer_audio=item.answer_audio,
        )
        for position, item in enumerate(items)
    ]


async def store(
    db: Database,
    parsed: ParsedDeck,
    target: Target,
    *,
    now_ms: Callable[[], int],
    actor_id: int | None = None,
    source: str = "",
    pace: Pace | None = None,
) -> ImportReport:
    """Store ``parsed`` into ``target`` in steps; students see all of it at once or none.

    ``pace`` defaults to :data:`DEFAULT_PACE`.

    Raises:
        ContentRejected: the deck's slug was taken by another import while this one ran.
    """
    pace = pace or DEFAULT_PACE
    await collect_abandoned_builds(db, now_ms(), pace)
    # Serialising 100,000 items takes a second: off the event loop.
    values = await asyncio.to_thread(item_values, parsed.items)
    if target.existing is None:
        deck_id, counts = await _build_new(
            db, parsed, target, values, now_ms, pace, actor_id, source
        )
    else:
        deck_id = target.existing.id
        counts = await _update_existing(
            db, parsed, target, target.existing, values, now_ms, pace, actor_id, source
        )
    stored = Deck(
        slug=target.deck.slug,
        name=target.deck.name,
        description=target.deck.description,
        language=target.deck.language,
        id=deck_id,
        bundled=target.deck.bundled,
    )
    return ImportReport(
        stored,
        counts.added,
        counts.updated,
        list(parsed.skipped),
        len(parsed.media),
        unchanged=counts.unchanged,
    )


@asynccontextmanager
async def _step(db: Database, pace: Pace, *, write: bool = True) -> AsyncIterator[Connection]:
    """One short transaction (or read), then a rest so that others go in between."""
    started = time.perf_counter()
    if write:
        async with db.transaction() as conn:
            yield conn
    else:
        async with db.read() as conn:
            yield conn
    await asyncio.sleep(max(pace.min_rest_s, (time.perf_counter() - started) * pace.rest))


def _chunks(values: Sequence[ItemValues], size: int) -> Iterator[Sequence[ItemValues]]:
    for start in range(0, len(values), max(1, size)):
        yield values[start : start + max(1, size)]


def _media_batches(media: dict[str, bytes], limit: int) -> Iterator[list[tuple[str, bytes]]]:
    batch: list[tuple[str, bytes]] = []
    size = 0
    for name, data in sorted(media.items()):
        if batch and size + len(data) > limit:
            yield batch
            batch, size = [], 0
        batch.append((name, data))
        size += len(data)
    if batch:
        yield batch


async def _audit(
    conn: Connection,
    actor_id: int | None,
    now_ms: int,
    slug: str,
    source: str,
    counts: _Counts,
    skipped: int,
) -> None:
    if actor_id is None:
        return
    detail = json.dumps(
        {
            "file": source,
            "added": counts.added,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
            "skipped": skipped,
        }
    )
    await audit_rows.record(conn, AuditRecord(now_ms, actor_id, "import", slug, detail))


def _build_slug() -> str:
    return f"{import_rows.BUILD_PREFIX}{uuid.uuid4().hex[:12]}-{os.getpid()}@{socket.gethostname()}"


async def _build_new(
    db: Database,
    parsed: ParsedDeck,
    target: Target,
    values: list[ItemValues],
    now_ms: Callable[[], int],
    pace: Pace,
    actor_id: int | None,
    source: str,
) -> tuple[int, _Counts]:
    deck = target.deck
    build_slug = _build_slug()
    _RUNNING.add(build_slug)
    deck_id = 0
    try:
        async with _step(db, pace) as conn:
            deck_id = await import_rows.create_build(
                conn,
                build_slug=build_slug,
                name=deck.name,
                description=deck.description,
                language=deck.language,
                bundled=deck.bundled,
                source_digest=target.source_digest,
                now_ms=now_ms(),
            )
        for chunk in _chunks(values, pace.rows):
            async with _step(db, pace) as conn:
                await import_rows.insert_items(conn, deck_id, chunk, now_ms())
                await import_rows.heartbeat(conn, deck_id, now_ms())
        for batch in _media_batches(parsed.media, pace.media_bytes):
            async with _step(db, pace) as conn:
                for name, data in batch:
                    await content_rows.put_media(conn, deck_id, name, data)
                await import_rows.heartbeat(conn, deck_id, now_ms())
        counts = _Counts(len(values), 0, 0)
        # The switch: one row.
        async with db.transaction() as conn:
            if await import_rows.deck_by_slug(conn, deck.slug) is not None:
                why = content_reason("deck_created_meanwhile", deck=deck.name)
                raise ContentRejected(
                    str(why),
                    reason=str(why),
                    cause="deck_created_meanwhile",
                    deck=deck.name,
                    why=why,
                    place=None,
                )
            await import_rows.publish_build(conn, deck_id, deck.slug, now_ms())
            await _audit(conn, actor_id, now_ms(), deck.slug, source, counts, len(parsed.skipped))
    except BaseException:
        if deck_id:
            await _discard_quietly(db, deck_id, pace)
        raise
    finally:
        _RUNNING.discard(build_slug)
    return deck_id, counts


async def _update_existing(
    db: Database,
    parsed: ParsedDeck,
    target: Target,
    existing: DeckRow,
    values: list[ItemValues],
    now_ms: Callable[[], int],
    pace: Pace,
    actor_id: int | None,
    source: str,
) -> _Counts:
    wanted = {value.external_id: value for value in values}
    changed: list[tuple[int, ItemValues]] = []
    found: set[str] = set()
    unchanged = 0
    after = 0
    while True:
        async with _step(db, pace, write=False) as conn:
            rows = await import_rows.item_rows(conn, existing.id, after, pace.rows)
        if not rows:
            break
        after = rows[-1].id
        for row in rows:
            value = wanted.get(row.values.external_id)
            if value is None:
                continue  # not in the file: kept as it is
            found.add(value.external_id)
            if row.deleted or row.values != value:
                changed.append((row.id, value))
            else:
                unchanged += 1
    new = [value for value in values if value.external_id not in found]
    replaced: list[tuple[str, bytes]] = []
    fresh: dict[str, bytes] = {}
    for name, data in sorted(parsed.media.items()):
        async with _step(db, pace, write=False) as conn:
            same = await import_rows.media_matches(conn, existing.id, name, data)
        if same is None:
            fresh[name] = data
        elif not same:
            replaced.append((name, data))
    for batch in _media_batches(fresh, pace.media_bytes):
        async with _step(db, pace) as conn:
            for name, data in batch:
                await content_rows.put_media(conn, existing.id, name, data)
    counts = _Counts(len(new), len(changed), unchanged)
    deck = target.deck
    # The switch: every new and changed row, nothing else.
    async with db.transaction() as conn:
        for name, data in replaced:
            await content_rows.put_media(conn, existing.id, name, data)
        if changed:
            await import_rows.update_items(conn, changed, now_ms())
        if new:
            await import_rows.insert_items(conn, existing.id, new, now_ms())
        await import_rows.refresh_deck(
            conn,
            existing.id,
            name=deck.name,
            description=deck.description,
            language=deck.language,
            bundled=deck.bundled,
            source_digest=target.source_digest,
            now_ms=now_ms(),
        )
        await _audit(conn, actor_id, now_ms(), deck.slug, source, counts, len(parsed.skipped))
    return counts


async def _discard(db: Database, deck_id: int, pace: Pace) -> None:
    """Delete a build in steps."""
    done = False
    while not done:
        async with _step(db, pace) as conn:
            done = await import_rows.delete_build_step(conn, deck_id, pace.rows)


async def _discard_quietly(db: Database, deck_id: int, pace: Pace) -> None:
    """Delete a failed build; if that fails too, a later import collects it."""
    try:
        await asyncio.shield(_discard(db, deck_id, pace))
    except Exception as error:  # the import's own error is the one to report
        log.warning("could not delete the failed import's build (deck %s): %s", deck_id, error)


def _abandoned(build_slug: str, heartbeat_ms: int, now_ms: int) -> bool:
    """True for a build no running import owns."""
    if now_ms - heartbeat_ms > STALE_BUILD_MS:
        return True
    owner, _, host = build_slug.rpartition("@")
    pid_text = owner.rpartition("-")[2]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another machine's (a shared disk): only its heartbeat tells
    pid = int(pid_text)
    if pid == os.getpid():
        return build_slug not in _RUNNING
    return not _alive(pid)


async def collect_abandoned_builds(db: Database, now_ms: int, pace: Pace | None = None) -> int:
    """Delete the builds of imports that crashed; returns how many were deleted."""
    pace = pace or DEFAULT_PACE
    async with db.read() as conn:
        found = await import_rows.builds(conn)
    collected = 0
    for deck_id, build_slug, heartbeat_ms in found:
        if _abandoned(build_slug, heartbeat_ms, now_ms):
            log.info("deleting the build of an abandoned import (deck %s)", deck_id)
            await _discard(db, deck_id, pace)
            collected += 1
    return collected
