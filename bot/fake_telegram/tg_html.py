"""Telegram's HTML parse mode: a strict parser with Telegram's error messages.

The offline Bot API fake uses it to reject text that real Telegram would reject, and the
terminal chat uses it to show what the user would see. The rules follow the Bot API's
"HTML style" section: a fixed set of tags, only ``&lt; &gt; &amp; &quot;`` and numeric
entities are decoded, every bare ``<`` must start a supported tag.
"""

from __future__ import annotations

from dataclasses import dataclass

# Tag name -> entity type.
_TAG_ENTITIES: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class HtmlParseError(ValueError):
    """Text that Telegram refuses with "can't parse entities"."""


@dataclass(frozen=True)
class Entity:
    """A formatting entity over ``plain[offset:offset + length]`` (code points)."""

    type: str
    offset: int
    length: int
    url: str | None = None


@dataclass
class _Open:
    tag: str
    start: int
    attrs: dict[str, str]


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_entity(text: str, i: int) -> tuple[str, int] | None:
    """Decode an HTML entity starting at ``text[i] == '&'``; None means a literal '&'."""
    end = text.find(";", i + 1, i + 12)
    if end == -1:
        return None
    name = text[i + 1 : end]
    if name in _NAMED_ENTITIES:
        return _NAMED_ENTITIES[name], end + 1
    try:
        if name.startswith(("#x", "#X")):
            code = int(name[2:], 16)
        elif name.startswith("#"):
            code = int(name[1:], 10)
        else:
            return None
        return chr(code), end + 1
    except (ValueError, OverflowError):
        return None


def _parse_attrs(text: str, i: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    """Parse attributes after a tag name; return them and the index after ``>``."""
    attrs: dict[str, str] = {}
    n = len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        if text[i] == ">":
            return attrs, i + 1
        name_start = i
        while i < n and not text[i].isspace() and text[i] not in "=>":
            i += 1
        name = text[name_start:i].lower()
        if i >= n or text[i] != "=":
            if name == "expandable":  # the only value-less attribute Telegram knows
                attrs[name] = ""
                continue
            raise HtmlParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {_byte_offset(text, begin)}"
            )
        i += 1
        if i < n and text[i] in "\"'":
            quote = text[i]
            close = text.find(quote, i + 1)
            if close == -1:
                raise HtmlParseError(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
            raw = text[i + 1 : close]
            i = close + 1
        else:
            value_start = i
            while i < n and not text[i].isspace() and text[i] != ">":
                i += 1
            raw = text[value_start:i]
        attrs[name] = unescape(raw)


def parse_html(text: str) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML into plain text and entities.

    Raises:
        HtmlParseError: with Telegram's description (without the "can't parse entities" prefix).
    """
    out: list[str] = []
    length = 0
    stack: list[_Open] = []
    entities: list[Entity] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            decoded = _decode_entity(text, i)
            if decoded is not None:
                out.append(decoded[0])
                length += len(decoded[0])
                i = decoded[1]
                continue
        if ch != "<":
            out.append(ch)
            length += 1
            i += 1
            continue
        begin = i
        if i + 1 < n and text[i + 1] == "/":
            close = text.find(">", i)
            if close == -1:
                raise HtmlParseError(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
            name = text[i + 2 : close].strip().lower()
            if not stack:
                offset = _byte_offset(text, begin)
                raise HtmlParseError(f"Unexpected end tag at byte offset {offset}")
            top = stack[-1]
            if name != top.tag:
                raise HtmlParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                    f'expected "</{top.tag}>", found "</{name}>"'
                )
            stack.pop()
            entity = _make_entity(top, length)
            if entity is not None:
                entities.append(entity)
            i = close + 1
            continue
        j = i + 1
        while j < n and not text[j].isspace() and text[j] not in "<>":
            j += 1
        if j >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        tag = text[i + 1 : j].lower()
        if tag not in _TAG_ENTITIES:
            raise HtmlParseError(
                f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
            )
        attrs, i = _parse_attrs(text, j, tag, begin)
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlParseError('Tag "span" must have class "tg-spoiler"')
        if tag == "tg-emoji" and "emoji-id" not in attrs:
            raise HtmlParseError('Tag "tg-emoji" must have attribute "emoji-id"')
        stack.append(_Open(tag, length, attrs))
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e.offset, -e.length))
    return "".join(out), entities


def _make_entity(tag: _Open, end: int) -> Entity | None:
    if end == tag.start:
        return None  # Telegram drops empty entities
    kind = _TAG_ENTITIES[tag.tag]
    url = None
    if tag.tag == "a":
        url = tag.attrs.get("href")
        if not url:
            return None
    if tag.tag == "blockquote" and "expandable" in tag.attrs:
        kind = "expandable_blockquote"
    return Entity(kind, tag.start, end - tag.start, url)


def unescape(text: str) -> str:
    """Decode the entities Telegram decodes, leaving other '&' literal."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "&":
            decoded = _decode_entity(text, i)
            if decoded is not None:
                out.append(decoded[0])
                i = decoded[1]
                continue
        out.append(text[i])
        i += 1
    return "".join(out)


def to_plain(text: str, parse_mode: str | None) -> str:
    """What a Telegram user reads: tags removed and entities decoded for HTML text."""
    if parse_mode is None or parse_mode.upper() != "HTML":
        return text
    try:
        return parse_html(text)[0]
    except HtmlParseError:
        return text


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2
