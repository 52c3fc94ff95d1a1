"""Anki cloze deletions: ``{{c1::text}}`` and ``{{c1::text::hint}}``, nesting allowed."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from tutor.content.errors import ContentError

_TOKEN = re.compile(r"\{\{c(\d+)::|::|\}\}")
PLACEHOLDER = "[...]"


@dataclass(slots=True)
class _Deletion:
    number: int
    children: list[_Node] = field(default_factory=list)
    hint: list[_Node] | None = None


_Node = str | _Deletion


@dataclass(frozen=True, slots=True)
class ClozeCard:
    """What one cloze number asks: the prompt with its gaps and the deleted texts."""

    number: int
    prompt: str
    answers: tuple[str, ...]

    @property
    def answer(self) -> str:
        """All deleted texts of this number, in order (comma-separated when several)."""
        return ", ".join(self.answers)


@dataclass(frozen=True, slots=True)
class ClozeResult:
    """Cards for the non-empty cloze numbers, and the numbers left out as empty."""

    cards: tuple[ClozeCard, ...]
    empty_numbers: tuple[int, ...]


def _parse(text: str) -> list[_Node]:
    """Parse cloze markup into a tree; raises ContentError on an unclosed deletion."""
    root: list[_Node] = []
    stack: list[_Deletion] = []

    def target() -> list[_Node]:
        if not stack:
            return root
        top = stack[-1]
        return top.hint if top.hint is not None else top.children

    buf: list[str] = []

    def flush() -> None:
        joined = "".join(buf)
        if joined:
            target().append(joined)
        buf.clear()

    pos = 0
    for token in _TOKEN.finditer(text):
        buf.append(text[pos : token.start()])
        pos = token.end()
        number, marker = token.group(1), token.group()
        if number is not None and int(number) >= 1:
            flush()
            deletion = _Deletion(number=int(number))
            target().append(deletion)
            stack.append(deletion)
        elif marker == "::" and stack and stack[-1].hint is None:
            flush()
            stack[-1].hint = []
        elif marker == "}}" and stack:
            flush()
            stack.pop()
        else:
            buf.append(marker)
    buf.append(text[pos:])
    if stack:
        raise ContentError("cloze_unclosed", number=stack[0].number)
    flush()
    return root


def _render(nodes: list[_Node], number: int | None) -> str:
    """Text with deletions of ``number`` shown as gaps and all others in full."""
    out: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif node.number == number:
            hint = _render(node.hint, None).strip() if node.hint is not None else ""
            out.append(f"[{hint}]" if hint else PLACEHOLDER)
        else:
            out.append(_render(node.children, number))
    return "".join(out)


def _collect(nodes: list[_Node], found: dict[int, list[str]]) -> None:
    """Map each cloze number to its deleted texts (nested deletions shown in full)."""
    for node in nodes:
        if isinstance(node, _Deletion):
            found.setdefault(node.number, []).append(_render(node.children, None).strip())
            _collect(node.children, found)


def cloze_numbers(text: str) -> list[int]:
    """The cloze numbers used in ``text``, ascending."""
    found: dict[int, list[str]] = {}
    _collect(_parse(text), found)
    return sorted(found)


def parse_cloze(text: str) -> ClozeResult:
    """Expand cloze text into one card per cloze number.

    Raises:
        ContentError: when the text has no cloze deletion or one is not closed.
    """
    tree = _parse(text)
    found: dict[int, list[str]] = {}
    _collect(tree, found)
    if not found:
        raise ContentError("cloze_no_deletion")
    cards: list[ClozeCard] = []
    empty: list[int] = []
    for number in sorted(found):
        answers = tuple(a for a in found[number] if a)
        if not answers:
            empty.append(number)
            continue
        cards.append(ClozeCard(number, _render(tree, number).strip(), answers))
    return ClozeResult(cards=tuple(cards), empty_numbers=tuple(empty))


_GAP = re.compile(r"\[[^\[\]\n]*\]")
_MAX_FILL_TRIES = 200


def _gap_choices(prompt: str, count: int) -> Iterator[tuple[re.Match[str], ...]]:
    """Ways to pick ``count`` gaps, likeliest first: exactly the ``[...]`` gaps, then any
    bracketed text (a gap with a hint) as long as no ``[...]`` is left unfilled."""
    gaps = list(_GAP.finditer(prompt))
    plain = tuple(gap for gap in gaps if gap.group() == PLACEHOLDER)
    if len(plain) == count:
        yield plain
    for chosen in itertools.islice(itertools.combinations(gaps, count), _MAX_FILL_TRIES):
        if chosen != plain and all(gap in chosen for gap in plain):
            yield chosen


def filled_in(prompt: str, answer: str) -> tuple[tuple[str, bool], ...] | None:
    """A cloze prompt with its gaps filled in: (text, is_answer) parts in reading order.

    An item keeps only its prompt (gaps shown as ``[...]`` or ``[hint]``) and its answer
    (several deleted texts joined by ", "), so the gaps are found again by putting the
    answer back and checking that the cloze parser turns the result into this very prompt
    and answer. None when no way of filling the gaps does.
    """
    splits = [[answer]]
    parts = answer.split(", ")
    if len(parts) > 1:
        splits.insert(0, parts)  # several gaps of one number first: "Qin, Qin"
    for texts in splits:
        for chosen in _gap_choices(prompt, len(texts)):
            pieces: list[tuple[str, bool]] = []
            source: list[str] = []
            last = 0
            for gap, text in zip(chosen, texts, strict=True):
                hint = gap.group()[1:-1]
                before = prompt[last : gap.start()]
                pieces += [(before, False), (text, True)]
                deletion = f"{text}::{hint}" if gap.group() != PLACEHOLDER else text
                source += [before, f"{{{{c1::{deletion}}}}}"]
                last = gap.end()
            pieces.append((prompt[last:], False))
            source.append(prompt[last:])
            try:
                cards = parse_cloze("".join(source)).cards
            except ContentError:
                continue
            if len(cards) == 1 and cards[0].prompt == prompt.strip() and cards[0].answer == answer:
                return tuple(piece for piece in pieces if piece[0])
    return None
