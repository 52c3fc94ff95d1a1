"""Parsed items kept across quiz steps: choosing an item reads every enrolled item each time."""

from __future__ import annotations

from typing import Any

from storage import Connection
from storage import content as content_rows
from tutor.convert import item_from_record
from tutor.items import Item

MAX_ITEMS = 50_000
"""Beyond this many cached items the cache starts afresh (bounds memory, about 2 KB each)."""


class ItemCache:
    """Items by id, each reused while its stored row is exactly the one it was parsed from.

    Rows are compared whole (payload text, tags, kind, deck, position...), so an edited,
    moved or re-imported item is parsed again, and no invalidation is needed.
    """

    def __init__(self, max_items: int = MAX_ITEMS) -> None:
        self._items: dict[int, tuple[tuple[Any, ...], Item]] = {}
        self._max_items = max_items

    async def enrolled(self, conn: Connection, user_id: int) -> list[Item]:
        """The live items of the student's active decks, in study order."""
        return self.items(await content_rows.enrolled_item_rows(conn, user_id))

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
