"""An importer's reasons (a refused file, a skipped entry) in the admin's language.

The importers say what is wrong as a code with parameters (``tutor.content.messages``); this
renders the code from the catalogs (``import_error.<code>``, ``import_where.<kind>``). A
parameter that is itself a reason or a place is rendered the same way, a size in the admin's
units; any other is the file's own data or a library's technical detail, shown as it is.
"""

from __future__ import annotations

from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, catalog, size_text
from tutor.content.messages import Place, Reason, Size
from tutor.errors import ContentRejected, TutorError, UnknownDeck
from tutor.items import SkippedEntry


def _fill(lang: str, key: str, **values: object) -> str:
    """The catalog text ``key`` with raw values: its templates use format specs and ``!r``
    like the English ones in tutor/content (a count with ``:,``, a name quoted by ``!r``)."""
    found = catalog(lang if lang in LANGUAGES else DEFAULT_LANGUAGE).get(key)
    if found is None:
        found = catalog(DEFAULT_LANGUAGE)[key]  # a missing key is a bug: KeyError
    return found.format(**values)


def _value(lang: str, value: object) -> object:
    if isinstance(value, Reason):
        return reason_text(lang, value)
    if isinstance(value, Place):
        return place_text(lang, value)
    if isinstance(value, Size):
        return size_text(lang, value.count)
    if isinstance(value, tuple):
        separator = _fill(lang, "admin.import_list_separator")
        return separator.join(str(_value(lang, v)) for v in value)
    return value


def reason_text(lang: str, why: Reason) -> str:
    """What is wrong, as plain text in ``lang``."""
    return _fill(lang, f"import_error.{why.code}", **{k: _value(lang, v) for k, v in why.args})


def place_text(lang: str, where: Place) -> str:
    """Where in the file, as plain text in ``lang``."""
    return _fill(lang, f"import_where.{where.kind}", **{k: _value(lang, v) for k, v in where.args})


def located(lang: str, where: Place | None, why: Reason) -> str:
    """``where: why`` in ``lang`` (just the reason when there is no place)."""
    if where is None:
        return reason_text(lang, why)
    return _fill(
        lang, "admin.import_reason_at", where=place_text(lang, where), reason=reason_text(lang, why)
    )


def refusal_text(lang: str, error: TutorError) -> str:
    """Why an import (or export) was refused, as plain text in ``lang``.

    The importer's refusals carry their code; a deck reference that names no deck gets its
    own sentence; anything else is said in the service's words."""
    detail = error.params.get("why")
    if isinstance(error, ContentRejected) and isinstance(detail, Reason):
        where = error.params.get("place")
        return located(lang, where if isinstance(where, Place) else None, detail)
    if isinstance(error, UnknownDeck):
        deck = str(error.params.get("deck") or error)
        return _fill(lang, "import_error.unknown_deck", deck=deck)
    return str(error)


def skipped_text(lang: str, entry: SkippedEntry) -> str:
    """One skipped entry, ``where: why``, as plain text in ``lang``."""
    if entry.detail is None:
        return _fill(lang, "admin.import_reason_at", where=entry.where, reason=entry.reason)
    where = entry.place if entry.place is not None else entry.where
    if isinstance(where, Place):
        return located(lang, where, entry.detail)
    return _fill(
        lang, "admin.import_reason_at", where=where, reason=reason_text(lang, entry.detail)
    )
