"""What the importers say, as stable codes with parameters, and each code's English template.

A :class:`Reason` (why a file or an entry was refused or skipped) and a :class:`Place` (the
line, item, note, header or file it is about) are data: ``str()`` gives the English from the
tables below (what the CLI prints and ``str(ContentError)`` says), and the bot renders the same
code from its catalogs (``import_error.<code>``, ``import_where.<kind>``) in the admin's
language. A parameter may itself be a Reason or Place, or a tuple of them (a list in the
sentence), or a :class:`Size` (a number of bytes, said in the reader's units); any other value
is data from the file or a library's own message, shown as is.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import cache

from tutor.errors import ContentRejected
from tutor.items import SkippedEntry

PLACES: dict[str, str] = {
    "line": "line {line}",
    "line_column": "line {line}, column {column}",
    "item": "item {index}",
    "item_id": "item {index} (id {id!r})",
    "item_ref": "item {id!r}",
    "note": "note {note}",
    "header": "header",
    "deck": "deck",
    "file": "{file}",
}
"""Place kind -> English template."""

REASONS: dict[str, str] = {
    # the file as a whole
    "file_empty": "{file} is empty",
    "file_too_large": "{file} is {size}, over the limit of {limit}",
    "too_many_items": "the file has more than {limit} items, the import limit",
    "zip_not_type": "{file} is a zip archive, not a .{ext} file",
    "unsupported_type": "{file}: unsupported file type .{ext} (use {supported})",
    "no_questions": "{file} yields no questions: {found}",
    "no_questions_not_anki_notes": (
        "{file} yields no questions: {found}. It does not look like an Anki notes export"
        " (those begin with '#separator:' and '#notetype:' lines); for your own questions,"
        " use a CSV or TSV file with 'question' and 'answer' columns"
    ),
    "no_questions_anki": (
        "{file} yields no questions: {found}. None of its notes has a note type metatutor"
        " reads with its fields filled in"
    ),
    "all_skipped": "all {count:,} entries were skipped (first: {where}: {reason})",
    "no_entries": "it has no entries",
    # CSV / TSV
    "not_utf8": (
        "{file} is not UTF-8 text: byte 0x{byte} at offset {offset} cannot be decoded"
        " (save the file as UTF-8)"
    ),
    "duplicate_column": "column {name!r} appears twice in the header",
    "missing_columns": "missing required column(s): {missing} (found: {found})",
    "missing_columns_looks_tsv": (
        "missing required column(s): {missing} (found: {found}); the file looks tab-separated"
    ),
    "missing_columns_looks_csv": (
        "missing required column(s): {missing} (found: {found}); the file looks comma-separated"
    ),
    "no_columns_found": "none",
    "column_name": "{name!r}",
    "row_width": (
        "row has {count} fields but the header has {width} (check quoting and the delimiter)"
    ),
    "malformed_row": "malformed row: {detail}",
    "unclosed_quote": (
        'a cell opens a quote (") that is never closed; close it, or write "" for a quote'
        " inside a quoted cell"
    ),
    "text_after_quote": (
        'text follows the closing quote of a cell; put the whole cell in quotes and write ""'
        " for each quote inside it"
    ),
    "cell_too_long": "a cell is longer than {limit} characters",
    "header_only": "{file} has a header but no entries",
    "several_decks": (
        "the {column!r} column names {count} decks: {listed}; a file imports into one deck"
        " (split the file, or empty the {column!r} column)"
    ),
    "deck_named_at": "{name!r} ({where})",
    # one entry (CSV, TSV, JSON, a metatutor note)
    "unknown_type": "type {type!r} is not one of {known}",
    "answer_is_list": "answer must be a single string here, not a list",
    "answer_empty": "answer is empty",
    "option_empty": "an option is empty",
    "option_count": "multiple_choice needs {min}-{max} options, got {count}",
    "options_not_distinct": "options must be distinct",
    "answer_not_option": "answer {answer!r} is not among the options ({options})",
    "true_false_answer": "true_false answer must be true or false, got {answer!r}",
    "typed_no_answer": "typed needs at least one accepted answer",
    "question_empty": "question is empty",
    "options_not_mc": "options are only for multiple_choice, not {kind}",
    "duplicate_id_first": "duplicate id {id!r} (first used at {first})",
    "duplicate_id": "duplicate id {id!r}",
    "bad_media_name": "{field} {name!r} must be a plain file name",
    "cloze_unclosed": "cloze deletion c{number} is not closed with '}}}}'",
    "cloze_no_deletion": "cloze text has no deletion like {{{{c1::...}}}}",
    "cloze_id_empty": "cloze c{number} of id {id!r} is empty",
    # sounds
    "sound_unsupported": (
        "sound {name!r} is not a kind Telegram plays ({kinds}); the entry is kept without it"
    ),
    "sound_empty": "sound {name!r} is empty; the entry is kept without it",
    "sound_too_large": (
        "sound {name!r} is {size}, more than the {limit} allowed; the entry is kept without it"
    ),
    "sound_damaged": (
        "sound {name!r} is damaged or not an {kind} file; the entry is kept without it"
    ),
    "sound_missing": "sound {name!r} is missing from the file; the note is kept without it",
    # JSON
    "json_invalid": "{file} is not valid JSON: {detail}",
    # what a JSON reader stopped at (the detail of json_invalid)
    "json_expecting_value": (
        "a value is missing here (a text in double quotes, a number, a list or an object)"
    ),
    "json_expecting_comma": "a comma is missing between two entries",
    "json_expecting_colon": "a colon is missing after a name",
    "json_expecting_name": (
        "a name in double quotes is expected here (a comma before }} or ], or single quotes,"
        " are not JSON)"
    ),
    "json_unterminated_string": "a text in double quotes is not closed",
    "json_extra_data": "there is more after the deck's closing }}",
    "json_control_character": "a line break or tab inside a text in quotes (write \\n or \\t)",
    "json_bad_escape": "a backslash that starts no escape (write \\\\ for a backslash)",
    "json_not_object": "{file} must hold a JSON object with 'deck' and 'items'",
    "json_version": '{file} must start with "metatutor": {version} (got {got!r})',
    "json_no_items_list": "{file} needs an 'items' list",
    "json_no_items": "{file} has no items",
    "field_missing": "field {name!r} is missing",
    "field_not_string": "field {name!r} must be a string, not {type}",
    "field_not_string_list": "field {name!r} must be a list of strings",
    "deck_not_object": "'deck' must be an object",
    "bad_slug": "slug {slug!r} must use only lowercase letters, digits and hyphens",
    "bad_language": "language {language!r} must be one of {languages}",
    "item_not_object": "each item must be an object",
    "id_missing": "field 'id' is missing or not a non-empty string",
    "unknown_fields": "unknown field(s): {fields}",
    "answer_type": "field 'answer' must be a string, boolean or list",
    # Anki text export
    "unknown_separator": "unknown #separator {value!r}",
    "column_not_number": "#{name} column must be a column number, got {value!r}",
    "no_notes": "{file} has no notes",
    # Anki notes
    "cloze_field_empty": "cloze field {field!r} is empty",
    "image_occlusion": "image occlusion notes are not supported",
    "cloze_number_empty": "cloze c{number} is empty",
    "card_question_empty": "card {card!r}: the question side is empty",
    "card_typed_empty": "card {card!r}: {field!r} is empty",
    "card_answer_empty": "card {card!r}: the answer side is empty",
    "too_few_fields": "fewer than two non-empty fields",
    # archives and Anki packages
    "not_zip": "{file} is not a valid zip archive ({detail})",
    "too_many_members": "{file} has {count} files inside, more than the limit of {limit}",
    "unsafe_member": (
        "{file} contains a file named {name!r}; names with folders going up, absolute paths"
        " or drive letters are not allowed"
    ),
    "archive_too_large": "{file} expands to more than {limit}, the limit for archives",
    "member_oversize": (
        "{file} has a member larger than its declared size; the archive is damaged or hostile"
    ),
    "no_member": "{file} has no member {name!r}",
    "member_unreadable": "{file}: cannot read {name!r} ({detail})",
    "member_damaged": "{file}: {name!r} is damaged and cannot be decompressed ({detail})",
    "not_anki_package": (
        "{file} is not an Anki package: it has no collection.anki21b, collection.anki21"
        " or collection.anki2"
    ),
    "media_list_damaged": "the media list is damaged",
    "media_list_damaged_detail": "the media list is damaged ({detail})",
    "protobuf_varint": "malformed protobuf data in the package (bad varint)",
    "protobuf_truncated": "malformed protobuf data in the package (truncated field)",
    "protobuf_wire": "malformed protobuf data in the package (wire type {wire})",
    "no_col_row": "the collection has no 'col' row",
    "notetypes_json": "the collection's note types are not valid JSON ({detail})",
    "notetypes_malformed": "the collection's note types or decks are malformed",
    "collection_unopenable": "the collection cannot be opened ({detail})",
    "collection_no_tables": "the collection is corrupt: it lacks Anki's notes/cards tables",
    "collection_too_many_notes": "the collection has {count} notes, more than the import limit",
    "collection_corrupt": "the collection is corrupt ({detail})",
    # export
    "unknown_export_format": "unknown export format {format!r} (use csv, tsv or json)",
    "cloze_not_exportable": "cloze item {id!r} cannot be written back as a cloze text",
    "item_not_exportable": "item {id!r} cannot be exported unchanged",
    "export_pipe_accepted": "an accepted answer contains '|'; export JSON",
    "export_pipe_option": "an option contains '|'; export JSON instead",
    "export_tag_space": "a tag contains a space; export JSON instead",
    "anki_tag_space": "item {id!r}: Anki tags cannot contain spaces",
    # storing the parsed file
    "deck_created_meanwhile": (
        "deck {deck!r} was created by another import while this one ran;"
        " import the file again to update it"
    ),
    "unknown_deck": (
        "there is no deck {deck!r} to import into; give an existing deck's name or id,"
        " or a new name"
    ),
    # one-line forms (/add, an item's edit), deck names, announcements, export formats
    "question_too_long": "the question is longer than {limit} characters",
    "answer_too_long": "an answer is longer than {limit} characters",
    "choice_one_answer": "a multiple-choice question has one correct answer",
    "choice_option_count": "multiple choice needs 2 to {max} different options",
    "deck_name_length": "a deck name has 1 to {max} characters",
    "announcement_empty": "the announcement is empty",
    "announcement_too_long": "an announcement has at most {limit} characters",
    "export_format": "unknown export format {format!r} (use {formats})",
}
"""Reason code -> English template."""


@cache
def template_params(template: str) -> frozenset[str]:
    """The parameter names a template uses."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


Args = tuple[tuple[str, object], ...]


def _args(table: dict[str, str], code: str, params: dict[str, object]) -> Args:
    expected = template_params(table[code])  # an unknown code is a bug: KeyError
    if set(params) != expected:
        raise TypeError(f"{code!r} takes {sorted(expected)}, got {sorted(params)}")
    return tuple(params.items())


MEGABYTE = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Size:
    """A number of bytes in a sentence: each language says it in its own units."""

    count: int

    def __str__(self) -> str:
        if self.count < MEGABYTE:
            return f"{self.count:,} bytes"
        return f"{self.count / MEGABYTE:.1f} MB"


def _english(value: object) -> object:
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Reason | Place):
        return str(value)
    return value


@dataclass(frozen=True, slots=True)
class Place:
    """Where in a file: a kind of :data:`PLACES` and its parameters."""

    kind: str
    args: Args = ()

    def __str__(self) -> str:
        return PLACES[self.kind].format(**{k: _english(v) for k, v in self.args})


@dataclass(frozen=True, slots=True)
class Reason:
    """What is wrong: a code of :data:`REASONS` and its parameters."""

    code: str
    args: Args = ()

    def __str__(self) -> str:
        return REASONS[self.code].format(**{k: _english(v) for k, v in self.args})


def place(kind: str, **params: object) -> Place:
    """A place; the parameters must be exactly the template's."""
    return Place(kind, _args(PLACES, kind, params))


def reason(code: str, **params: object) -> Reason:
    """A reason; the parameters must be exactly the template's."""
    return Reason(code, _args(REASONS, code, params))


def rejected(code: str, **params: object) -> ContentRejected:
    """A refusal of an admin's or a student's input as a coded reason: English in
    ``str()``, and ``why`` for the bot to say it in the reader's language."""
    why = reason(code, **params)
    return ContentRejected(str(why), reason=str(why), why=why, place=None)


def line(number: int) -> Place:
    """Line ``number`` of a text file (made for every row: built without the check)."""
    return Place("line", (("line", number),))


def item(index: int, entry_id: str | None = None) -> Place:
    """Item ``index`` of a JSON deck, with its id once known (made for every item: built
    without the check)."""
    if entry_id is None:
        return Place("item", (("index", index),))
    return Place("item_id", (("index", index), ("id", entry_id)))


def in_file(filename: str) -> Place:
    """The file itself (a problem inside a package, said after its name)."""
    return place("file", file=filename)


HEADER = Place("header")
DECK = Place("deck")


def skipped(where: Place, code: str, **params: object) -> SkippedEntry:
    """An entry left out at ``where``, with its English and its code."""
    why = reason(code, **params)
    return SkippedEntry(str(where), str(why), place=where, detail=why)


def skipped_for(where: Place, why: Reason) -> SkippedEntry:
    """An entry left out at ``where`` for a reason already made."""
    return SkippedEntry(str(where), str(why), place=where, detail=why)
