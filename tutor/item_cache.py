"""Parsed items kept across quiz steps: choosing an item reads every enrolled item each time."""

from __future__ import annotations

import sqlite3
from typing import Any

from storage import Connection
from storage import content as content_rows
from storage.database import run_sync
from tutor.convert import item_from_record
from tutor.items import Item

MAX_ITEMS = 50_000
"""Beyond this many cached items the cache starts afresh (bounds memory, about 2 KB each)."""
MAX_DECKS = 256
"""Beyond this many cached decks, those not asked for are dropped."""


class ItemCache:
    """Items by id, each reused while its stored row is exactly the one it was parsed from.

    Rows are compared whole (payload text, tags, kind, deck, position...), so an edited,
    moved or re-imported item is parsed again, and no invalidation is needed. A deck's list
    of live items is kept with the deck's ``items_version`` (moved by database triggers on
    every change to its items) and reread only when that version moved.
    """

    def __init__(self, max_items: int = MAX_ITEMS, max_decks: int = MAX_DECKS) -> None:
        self._items: dict[int, tuple[tuple[Any, ...], Item]] = {}
        self._decks: dict[int, tuple[int, list[Item]]] = {}
        self._max_items = max_items
        self._max_decks = max_decks
        self.deck_reads = 0
        """How many deck item lists were read from the database (for tests)."""

    async def enrolled(
        self,
        conn: Connection,
        user_id: int,
        decks: list[tuple[int, int, int]] | None = None,
    ) -> list[Item]:
        """The live items of the student's active decks, in study order; ``decks``: those
        decks as already read (``content.enrolled_decks_query``), else they are read now."""
        known = {deck: version for deck, (version, _) in self._decks.items()}
        if decks is not None and _distinct(decks) and all(known.get(d) == v for d, _, v in decks):
            return self._listed(decks, {})  # nothing to read

        def read(raw: sqlite3.Connection) -> tuple[Any, Any]:
            found = decks if decks is not None else content_rows.read_enrolled_decks(raw, user_id)
            if not _distinct(found):
                # Decks enrolled at the same instant interleave their items by position.
                return None, content_rows.read_enrolled_item_rows(raw, user_id)
            stale = {
                deck: (version, content_rows.read_deck_item_rows(raw, deck))
                for deck, _, version in found
                if known.get(deck) != version
            }
            return found, stale

        found_decks, found = await run_sync(conn, read)
        if found_decks is None:
            return self.items(found)
        return self._listed(found_decks, found)

    def _listed(
        self, decks: list[tuple[int, int, int]], stale: dict[int, tuple[int, list[Any]]]
    ) -> list[Item]:
        """The decks' items, with those of ``stale`` decks (read again) parsed and kept."""
        for deck, (version, rows) in stale.items():
            self.deck_reads += 1
            self._decks[deck] = (version, self.items(rows))
        if len(self._decks) > self._max_decks:
            wanted = {deck for deck, _, _ in decks}
            for deck in [deck for deck in self._decks if deck not in wanted]:
                del self._decks[deck]
        return [item for deck, _, _ in decks for item in self._decks[deck][1]]

    def items(self, rows: list[tuple[Any, ...]]) -> list[Item]:
        """Items for raw item rows, parsing only those not seen in this exact form."""
        if len(self._items) > self._max_items:
            self._items.clear()
        found = []
        for row in rows:
            hit = self._items.get(row[0])
            if hit is None or hit[0] != row:
                item = item_from_record(content_rows.item_from_row(row))
                self._items[row[0]] = (row, item)
                found.append(item)
            else:
                found.append(hit[1])
        return found


def _distinct(decks: list[tuple[int, int, int]]) -> bool:
    """Whether no two decks were enrolled at the same instant."""
    return len({enrolled_ms for _, enrolled_ms, _ in decks}) == len(decks)
