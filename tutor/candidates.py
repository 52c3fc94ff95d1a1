"""The learner model's view of a student's items, built without re-deriving what never changes.

Scoring needs, per item, what the item is (kind, options, tags: fixed while the item is) and
how all students have done on it and its tags (tallies: change with every answer). The fixed
part of a deck's items is prepared once (:class:`DeckFeatures`, kept in :class:`FeatureCache`
while the deck's items are the same objects or equal); the tallies are read fresh on every
request and laid over it with array operations. The result equals
``LearnerModel.prepare([CandidateFeatures(...) for item in items])`` exactly.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from tutor.items import Item
from tutor.model.batch import TALLY_COLS

if TYPE_CHECKING:
    from tutor.model.online import CandidateBatch, CandidateFeatures

MIN_CACHED = 8
"""Runs of fewer items than this (one answered item) are prepared directly, not cached."""
MAX_DECKS = 64
"""Decks whose prepared features are kept (least recently used dropped first)."""

Tally = tuple[int, int] | tuple[int, int, float, float]
"""(answers, correct) of an item or tag from all students, optionally followed by the residual
sums (summed ``correct - p`` and ``p (1 - p)``, see ``storage.attempts``)."""
Tallies = Mapping[int, Tally]
TagTallies = Mapping[str, Tally]
WIDTH = 4


def _same(a: tuple[Item, ...], b: Sequence[Item]) -> bool:
    """True when the two lists hold equal items in the same order (the same objects, usually:
    the tuple comparison then runs at C speed on identity)."""
    return a == tuple(b)


def _rows(tallies: Mapping[Any, Tally], keys: Sequence[Any]) -> np.ndarray:
    """``[len(keys), 4]``: the tallies of ``keys`` (zeros for a missing key; the residual sums
    0 when the mapping's tallies have none)."""
    width = len(next(iter(tallies.values()))) if tallies else WIDTH
    zero = (0,) * width
    flat = chain.from_iterable(map(tallies.get, keys, repeat(zero)))
    found = np.fromiter(flat, np.float64, width * len(keys)).reshape(len(keys), width)
    if width == WIDTH:
        return found
    out = np.zeros((len(keys), WIDTH), np.float64)
    out[:, :width] = found
    return out


class DeckFeatures:
    """The fixed candidate features of a run of items (usually one deck's live items)."""

    def __init__(self, items: Sequence[Item]) -> None:
        from tutor.model.online import CandidateFeatures, LearnerModel

        self.items = tuple(items)
        self.id_list = [item.id for item in items]
        self.ids = np.array(self.id_list, np.int64)
        self.tags = sorted({tag for item in items for tag in item.tags})
        index = {tag: k for k, tag in enumerate(self.tags)}
        pairs = [(k, index[tag]) for k, item in enumerate(items) for tag in item.tags]
        self.pair_item = np.fromiter((p[0] for p in pairs), np.int64, len(pairs))
        self.pair_tag = np.fromiter((p[1] for p in pairs), np.int64, len(pairs))
        self.fixed = LearnerModel.prepare(
            [
                CandidateFeatures(
                    item_id=item.id, tags=item.tags, n_options=item.n_options, kind=item.kind
                )
                for item in items
            ]
        )

    def __len__(self) -> int:
        return len(self.items)


class FeatureCache:
    """Prepared fixed features per deck; reused while the deck's items are unchanged."""

    def __init__(self, max_decks: int = MAX_DECKS, min_cached: int = MIN_CACHED) -> None:
        self._decks: OrderedDict[int, DeckFeatures] = OrderedDict()
        self._max_decks = max_decks
        self._min_cached = min_cached
        self.builds = 0
        """How many runs were prepared for the cache (for tests)."""

    def runs(self, items: Sequence[Item]) -> list[DeckFeatures]:
        """Fixed features of ``items`` as consecutive runs of one deck each."""
        out: list[DeckFeatures] = []
        start, n = 0, len(items)
        while start < n:
            deck = items[start].deck_id
            end = self._cached_end(items, start)
            if end is None:
                end = start + 1
                while end < n and items[end].deck_id == deck:
                    end += 1
            out.append(self._run(items[start:end]))
            start = end
        return out

    def _cached_end(self, items: Sequence[Item], start: int) -> int | None:
        """Where the run at ``start`` ends when it is the cached run of its deck (checked
        without walking the items one by one), else None."""
        found = self._decks.get(items[start].deck_id)
        if found is None:
            return None
        end = start + len(found)
        if end > len(items) or (end < len(items) and items[end].deck_id == found.items[0].deck_id):
            return None
        return end if _same(found.items, items[start:end]) else None

    def _run(self, items: Sequence[Item]) -> DeckFeatures:
        if len(items) < self._min_cached:
            return DeckFeatures(items)
        deck = items[0].deck_id
        found = self._decks.get(deck)
        if found is not None and _same(found.items, items):
            self._decks.move_to_end(deck)
            return found
        self.builds += 1
        found = self._decks[deck] = DeckFeatures(items)
        self._decks.move_to_end(deck)
        while len(self._decks) > self._max_decks:
            self._decks.popitem(last=False)
        return found


class Candidates(Sequence["CandidateFeatures"]):
    """The items' candidate features with current tallies: a batch, and each one on demand."""

    def __init__(self, runs: Sequence[DeckFeatures], tallies: Tallies, tag_tallies: TagTallies):
        from tutor.model.online import CandidateBatch

        self.items = list(chain.from_iterable(run.items for run in runs))
        n = len(self.items)
        # item answers, correct, tag answers, correct, then the residual sums likewise
        counts = np.zeros((n, 8), np.float64)
        parts: dict[str, list[np.ndarray]] = {}
        owners, keys = [], []
        offset = 0
        for run in runs:
            m = len(run)
            sl = slice(offset, offset + m)
            if m:
                item = _rows(tallies, run.id_list)
                counts[sl, 0:2] = item[:, 0:2]
                counts[sl, 4:6] = item[:, 2:4]
                tags = _rows(tag_tallies, run.tags)
                for k, col in enumerate((2, 3, 6, 7)):
                    counts[sl, col] = np.bincount(run.pair_item, tags[run.pair_tag, k], m)
            for name, values in run.fixed.cols.items():
                parts.setdefault(name, []).append(values)
            owners.append(run.fixed.tag_owner + offset)
            keys.append(run.fixed.tag_keys)
            offset += m
        self.counts = counts
        cols = {name: np.concatenate(values) for name, values in parts.items()}
        for k, name in enumerate(TALLY_COLS):
            cols[name] = counts[:, k].copy()
        empty = np.zeros(0, np.int64)
        self.batch: CandidateBatch = CandidateBatch(
            item_ids=np.concatenate([run.ids for run in runs]) if runs else empty,
            cols=cols,
            tag_owner=np.concatenate(owners) if owners else empty,
            tag_keys=np.concatenate(keys) if keys else empty,
            parts=tuple(run.fixed for run in runs),
        )

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> CandidateFeatures: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[CandidateFeatures]: ...

    def __getitem__(self, index: int | slice) -> CandidateFeatures | Sequence[CandidateFeatures]:
        if isinstance(index, slice):
            return [self[k] for k in range(*index.indices(len(self)))]
        from tutor.model.online import CandidateFeatures

        item = self.items[index]
        row = self.counts[index].tolist()
        n, c, tag_n, tag_c = (int(v) for v in row[:4])
        return CandidateFeatures(
            item_id=item.id,
            tags=item.tags,
            n_options=item.n_options,
            kind=item.kind,
            item_attempts=n,
            item_correct=c,
            tag_attempts=tag_n,
            tag_correct=tag_c,
            item_resid=row[4],
            item_var=row[5],
            tag_resid=row[6],
            tag_var=row[7],
        )

    def __iter__(self) -> Iterator[CandidateFeatures]:
        return (self[k] for k in range(len(self)))
