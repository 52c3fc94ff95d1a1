"""Message catalogs: every word a student reads comes from ``bot/locales/<lang>.json``.

Catalog strings are Telegram HTML. :func:`t` escapes every string parameter, so deck
content and user text can never add markup; pass :class:`Html` for a fragment that is
already safe (built from other catalog strings and escaped content). :func:`plain` formats
without escaping, for button labels and callback answers, which Telegram shows verbatim.
"""

from __future__ import annotations

import html
import json
import string
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("en", "zh")
DEFAULT_LANGUAGE = "en"


class Html(str):
    """A string that is already valid, safe Telegram HTML."""

    __slots__ = ()


@cache
def catalog(lang: str) -> dict[str, str]:
    """The message catalog of one language."""
    text = resources.files("bot").joinpath("locales", f"{lang}.json").read_text("utf-8")
    data: dict[str, str] = json.loads(text)
    return data


def language_for(code: str | None) -> str:
    """Our language for a Telegram ``language_code`` (``zh-hans`` and friends → ``zh``)."""
    if code and code.lower().startswith("zh"):
        return "zh"
    return DEFAULT_LANGUAGE


def _template(lang: str, key: str) -> str:
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    found = catalog(lang).get(key)
    if found is None:
        found = catalog(DEFAULT_LANGUAGE)[key]  # a missing key is a bug: KeyError
    return found


def _format_value(value: Any, escape: bool) -> str:
    if isinstance(value, Html) or not escape:
        return str(value)
    return html.escape(str(value), quote=False)


def t(lang: str, key: str, **params: Any) -> Html:
    """The message ``key`` in ``lang`` as safe HTML, with escaped ``params`` filled in."""
    values = {name: _format_value(value, escape=True) for name, value in params.items()}
    return Html(_template(lang, key).format(**values))


def plain(lang: str, key: str, **params: Any) -> str:
    """The message ``key`` as plain text (for buttons and callback answers)."""
    values = {name: _format_value(value, escape=False) for name, value in params.items()}
    return _template(lang, key).format(**values)


def listed(lang: str, names: Iterable[str]) -> str:
    """Names in a sentence, separated as ``lang`` writes a list ("A, B" or "A、B")."""
    return plain(lang, "list.separator").join(names)


MEGABYTE = 1024 * 1024


def size_text(lang: str, count: int) -> str:
    """A number of bytes in ``lang``'s words: bytes below 1 MB, megabytes (one decimal) above."""
    if count < MEGABYTE:
        return plain(lang, "size.bytes", n=f"{count:,}")
    return plain(lang, "size.megabytes", n=f"{count / MEGABYTE:.1f}")


def placeholders(template: str) -> frozenset[str]:
    """The ``{names}`` a catalog string expects."""
    return frozenset(
        name for _, name, _, _ in string.Formatter().parse(template) if name is not None
    )


def counted(key: str, n: int) -> str:
    """``key``, or its ``key_one`` form when ``n`` is 1 and the catalog has one (English
    says "1 answer", not "1 answers"; every language has both keys)."""
    return f"{key}_one" if n == 1 and f"{key}_one" in catalog(DEFAULT_LANGUAGE) else key
