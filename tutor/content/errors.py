"""The one error every importer raises for bad input, and the limits it enforces."""

from __future__ import annotations

from dataclasses import dataclass

from tutor.content.messages import Place, Reason, Size, reason


class ContentError(Exception):
    """A deck file that cannot be imported, with a message a person can act on.

    ``code`` and the keyword parameters name the problem (a template of
    :data:`~tutor.content.messages.REASONS`; ``reason`` holds both); ``where`` optionally
    names the place (line 7, item 3 with its id, note 1690000000000, the header...), and
    ``str(error)`` is the English of both. ``cause`` is a stable code for the likely cause
    when one is known (e.g. ``"not_anki_notes"``), so a caller can say it in its own words.
    """

    def __init__(
        self, code: str, *, where: Place | None = None, cause: str = "", **params: object
    ) -> None:
        self.reason = reason(code, **params)
        self.place = where
        self.message = str(self.reason)
        self.where = str(where) if where else None
        self.cause = cause
        super().__init__(f"{self.where}: {self.message}" if where else self.message)

    @classmethod
    def of(cls, why: Reason, *, where: Place | None = None, cause: str = "") -> ContentError:
        """The error for a reason already made (another error's, placed anew)."""
        return cls(why.code, where=where, cause=cause, **dict(why.args))


@dataclass(frozen=True, slots=True)
class ImportLimits:
    """Bounds on what one import may read, so a hostile file cannot exhaust the host."""

    max_file_bytes: int = 50 * 1024 * 1024
    """Size of the uploaded file itself."""
    max_uncompressed_bytes: int = 200 * 1024 * 1024
    """Total bytes read out of an archive (collection plus media), after decompression."""
    max_members: int = 20_000
    """Entries in an archive."""
    max_items: int = 100_000
    """Items produced from one file."""


def check_file_size(data: bytes, filename: str, limits: ImportLimits) -> None:
    """Reject empty files and files over the size limit."""
    if not data:
        raise ContentError("file_empty", file=filename)
    if len(data) > limits.max_file_bytes:
        size, limit = Size(len(data)), Size(limits.max_file_bytes)
        raise ContentError("file_too_large", file=filename, size=size, limit=limit)


def check_item_count(count: int, limits: ImportLimits) -> None:
    """Reject files that yield more items than allowed."""
    if count > limits.max_items:
        raise ContentError("too_many_items", limit=limits.max_items)


DEFAULT_LIMITS = ImportLimits()
"""The limits used when a caller passes none."""
