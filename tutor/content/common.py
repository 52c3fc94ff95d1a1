"""Small helpers shared by the importers: slugs, derived ids, language, deck set-up."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from pathlib import PurePosixPath, PureWindowsPath

from tutor.content.errors import ContentError
from tutor.content.messages import Place
from tutor.items import Deck, Item

SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_NON_SLUG = re.compile(r"[^a-z0-9]+")
_MAX_SLUG = 60


def slugify(name: str) -> str:
    """A lowercase letters/digits/hyphens slug for ``name``.

    Names without any Latin letters or digits (e.g. ``中国历史``) get ``deck-`` plus a
    short hash of the name, so the slug is still stable.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _NON_SLUG.sub("-", ascii_name.lower()).strip("-")[:_MAX_SLUG].strip("-")
    if slug:
        return slug
    return "deck-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]


def derived_id(question: str) -> str:
    """A stable id for an entry that has none: a hash of its question text."""
    return "q-" + hashlib.sha1(question.strip().encode("utf-8")).hexdigest()[:12]


def file_stem(filename: str) -> str:
    """The file name without folders and extension (``decks/Geo.csv`` -> ``Geo``)."""
    name = PureWindowsPath(PurePosixPath(filename).name).name
    return name.rsplit(".", 1)[0] if "." in name[1:] else name


def name_from_filename(filename: str) -> str:
    """A deck name for a file without one: ``ancient-rome.csv`` -> ``Ancient Rome``.

    Only all-lowercase stems joined by ``-`` or ``_`` are prettified, so the slug of the
    result is the stem again and an exported ``<slug>.csv`` re-imports into the same deck.
    """
    stem = file_stem(filename)
    if stem == stem.lower() and re.fullmatch(r"[a-z0-9]+(?:[-_][a-z0-9]+)+", stem):
        return " ".join(word.capitalize() for word in re.split(r"[-_]", stem))
    return stem


def extension(filename: str) -> str:
    """The lower-case extension without the dot (``''`` when none)."""
    name = PurePosixPath(filename).name
    return name.rsplit(".", 1)[1].lower() if "." in name[1:] else ""


_HAN = re.compile(r"[\u3400-\u9fff\U00020000-\U0003ffff]")
_LETTER = re.compile(r"[^\W\d_]")
_SAMPLE_CHARS = 200_000


def detect_language(texts: Iterable[str]) -> str:
    """``"zh"`` when Han characters make up at least a third of the letters, else ``"en"``.

    Looks at the first 200,000 characters only; that is plenty to tell.
    """
    sample: list[str] = []
    size = 0
    for text in texts:
        sample.append(text)
        size += len(text)
        if size >= _SAMPLE_CHARS:
            break
    joined = "\n".join(sample)
    han, letters = len(_HAN.findall(joined)), len(_LETTER.findall(joined))
    return "zh" if letters and han * 3 >= letters else "en"


def safe_media_name(name: str) -> bool:
    """True for a plain file name: no folders, no parent references, no control chars."""
    return bool(
        name
        and name not in (".", "..")
        and "/" not in name
        and "\\" not in name
        and not any(ord(ch) < 32 for ch in name)
        and ":" not in name
    )


def check_image_name(name: str, where: Place, field: str = "image") -> str:
    """Validate a media value (``image``, ``audio``) from a deck file and return it stripped."""
    name = name.strip()
    if name.startswith("media/"):
        name = name[len("media/") :]
    if not safe_media_name(name):
        raise ContentError("bad_media_name", where=where, field=field, name=name)
    return name


def make_deck(name: str, items: Iterable[Item]) -> Deck:
    """A deck named ``name`` with a slug from the name and a language guessed from items."""
    name = name.strip() or "Imported deck"
    return Deck(
        slug=slugify(name),
        name=name,
        language=detect_language(item.prompt for item in items),
    )
