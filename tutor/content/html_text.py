"""Anki field HTML to safe plain text, plus the images and sounds it references."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

_SOUND = re.compile(r"\[sound:([^\]]*)\]")
_BLOCK_TAGS = frozenset(
    {"div", "p", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "hr"}
)
_DROP_CONTENT = frozenset({"script", "style"})
_SPACE_RUN = re.compile(r"[ \t\u00a0]+")
_NEWLINE_RUN = re.compile(r"\n{3,}")


@dataclass(frozen=True, slots=True)
class FieldText:
    """Plain text of one field and the image and sound file names it showed, in order."""

    text: str
    images: tuple[str, ...] = ()
    sounds: tuple[str, ...] = ()


class _Extractor(HTMLParser):
    """Collects text and image sources; everything else in the markup is dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.images: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_CONTENT:
            self._skip_depth += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self._line_break()
        elif tag == "img":
            src = dict(attrs).get("src")
            if src:
                self.images.append(src.strip())

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _DROP_CONTENT:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_CONTENT:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self._line_break()

    def _line_break(self) -> None:
        """Start a new line unless already at the start of one (``</div><div>``)."""
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def html_to_text(markup: str) -> FieldText:
    """Turn field HTML into plain text.

    Tags are removed (``<br>`` and block elements become line breaks), entities are
    decoded (``&nbsp;`` becomes a space), ``[sound:...]`` references leave the text and
    their file names are collected, as is the ``src`` of every ``<img>``. Lines are
    trimmed and runs of blank lines squeezed, so the result is safe to show as plain text
    anywhere.
    """
    sounds = tuple(name for m in _SOUND.finditer(markup) if (name := m.group(1).strip()))
    markup = _SOUND.sub("", markup)
    images: tuple[str, ...] = ()
    if "<" not in markup and "&" not in markup:
        raw = markup  # plain text: no parser needed
    else:
        extractor = _Extractor()
        extractor.feed(markup)
        extractor.close()
        raw, images = "".join(extractor.parts), tuple(s for s in extractor.images if s)
    lines = [_SPACE_RUN.sub(" ", line).strip() for line in raw.split("\n")]
    text = _NEWLINE_RUN.sub("\n\n", "\n".join(lines)).strip()
    return FieldText(text=text, images=images, sounds=sounds)


def plain_text(markup: str) -> str:
    """Only the text of :func:`html_to_text`."""
    return html_to_text(markup).text
