"""Read note types, decks, notes and cards out of an Anki collection (SQLite).

Two layouts exist: schema 11 (``collection.anki2`` / ``.anki21``) keeps note types and
decks as JSON in the ``col`` table; schema 18 (``collection.anki21b``) has ``notetypes``,
``fields``, ``templates`` and ``decks`` tables whose ``config`` columns are protobuf.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutor.content.anki_proto import first_int, first_str
from tutor.content.errors import ContentError
from tutor.content.messages import Place, place

FIELD_SEPARATOR = "\x1f"
_CLOZE_KIND = 1


@dataclass(frozen=True, slots=True)
class Template:
    """One card template: which fields go on the question and answer side."""

    name: str
    ord: int
    qfmt: str
    afmt: str


@dataclass(frozen=True, slots=True)
class NoteType:
    """An Anki note type (model), reduced to what the importer needs."""

    id: int
    name: str
    is_cloze: bool
    fields: tuple[str, ...]
    templates: tuple[Template, ...] = ()


@dataclass(frozen=True, slots=True)
class Note:
    """One note: its GUID, note type, raw field HTML and tags."""

    id: int
    guid: str
    notetype_id: int
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    label: Place | None = None
    """Where the note came from in messages; defaults to ``note <id>``."""

    @property
    def where(self) -> Place:
        """How skipped entries name this note."""
        return self.label or place("note", note=self.id)


@dataclass(slots=True)
class Collection:
    """Everything read from one collection file."""

    notetypes: dict[int, NoteType] = field(default_factory=dict)
    decks: dict[int, str] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    card_decks: dict[tuple[int, int], int] = field(default_factory=dict)
    """(note id, card ordinal) -> deck id."""


def _tables(db: sqlite3.Connection) -> set[str]:
    return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _legacy_notetypes(models: dict[str, Any]) -> dict[int, NoteType]:
    result: dict[int, NoteType] = {}
    for key, model in models.items():
        fields = sorted(model.get("flds", []), key=lambda f: f.get("ord", 0))
        templates = sorted(model.get("tmpls", []), key=lambda t: t.get("ord", 0))
        result[int(key)] = NoteType(
            id=int(key),
            name=str(model.get("name", "")),
            is_cloze=model.get("type") == _CLOZE_KIND,
            fields=tuple(str(f.get("name", "")) for f in fields),
            templates=tuple(
                Template(
                    name=str(t.get("name", "")),
                    ord=int(t.get("ord", i)),
                    qfmt=str(t.get("qfmt", "")),
                    afmt=str(t.get("afmt", "")),
                )
                for i, t in enumerate(templates)
            ),
        )
    return result


def _read_legacy(db: sqlite3.Connection, col: Collection) -> None:
    row = db.execute("SELECT models, decks FROM col").fetchone()
    if row is None:
        raise ContentError("no_col_row")
    try:
        models = json.loads(row[0]) if row[0] else {}
        decks = json.loads(row[1]) if row[1] else {}
    except (json.JSONDecodeError, TypeError) as exc:
        raise ContentError("notetypes_json", detail=str(exc)) from None
    if not isinstance(models, dict) or not isinstance(decks, dict):
        raise ContentError("notetypes_malformed")
    col.notetypes = _legacy_notetypes(models)
    col.decks = {int(k): str(v.get("name", "")) for k, v in decks.items() if isinstance(v, dict)}


def _read_tables(db: sqlite3.Connection, col: Collection) -> None:
    fields: dict[int, list[tuple[int, str]]] = {}
    for ntid, ord_, name in db.execute("SELECT ntid, ord, name FROM fields"):
        fields.setdefault(ntid, []).append((ord_, name))
    templates: dict[int, list[Template]] = {}
    for ntid, ord_, name, config in db.execute("SELECT ntid, ord, name, config FROM templates"):
        templates.setdefault(ntid, []).append(
            Template(name=name, ord=ord_, qfmt=first_str(config, 1), afmt=first_str(config, 2))
        )
    for ntid, name, config in db.execute("SELECT id, name, config FROM notetypes"):
        col.notetypes[ntid] = NoteType(
            id=ntid,
            name=name,
            is_cloze=first_int(config, 1) == _CLOZE_KIND,
            fields=tuple(n for _, n in sorted(fields.get(ntid, []))),
            templates=tuple(sorted(templates.get(ntid, []), key=lambda t: t.ord)),
        )
    for did, name in db.execute("SELECT id, name FROM decks"):
        col.decks[did] = str(name).replace(FIELD_SEPARATOR, "::")


def read_collection(path: Path, max_notes: int) -> Collection:
    """Read a collection file opened read-only.

    Raises:
        ContentError: when the file is not an SQLite database, is damaged, or lacks the
            tables of an Anki collection; or has more than ``max_notes`` notes.
    """
    col = Collection()
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise ContentError("collection_unopenable", detail=str(exc)) from None
    try:
        db.text_factory = lambda b: b.decode("utf-8", "replace")
        tables = _tables(db)
        if not {"col", "notes", "cards"} <= tables:
            raise ContentError("collection_no_tables")
        if "notetypes" in tables:
            _read_tables(db, col)
        else:
            _read_legacy(db, col)
        (count,) = db.execute("SELECT count(*) FROM notes").fetchone()
        if count > max_notes:
            raise ContentError("collection_too_many_notes", count=count)
        for nid, guid, mid, tags, flds in db.execute(
            "SELECT id, guid, mid, tags, flds FROM notes ORDER BY id"
        ):
            col.notes.append(
                Note(
                    id=int(nid),
                    guid=str(guid),
                    notetype_id=int(mid),
                    fields=tuple(str(flds).split(FIELD_SEPARATOR)),
                    tags=tuple(str(tags).split()),
                )
            )
        for nid, ord_, did in db.execute("SELECT nid, ord, did FROM cards ORDER BY id"):
            col.card_decks.setdefault((int(nid), int(ord_)), int(did))
    except sqlite3.DatabaseError as exc:
        raise ContentError("collection_corrupt", detail=str(exc)) from None
    finally:
        db.close()
    return col
