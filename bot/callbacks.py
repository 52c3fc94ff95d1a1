"""Callback data of inline buttons: a compact scheme, built and parsed strictly.

Telegram allows 1-64 bytes. The scheme is ``<kind>:<field>[:<field>]``:

* ``a:<question_id>:<choice>`` answer a multiple-choice or true/false question;
* ``r:<question_id>`` show the answer of a flashcard or cloze;
* ``g:<question_id>:<grade>`` self-grade 1-4 (Again, Hard, Good, Easy);
* ``n:<question_id>`` more new questions today instead of this extra-practice one;
* ``s:<setting>:<value>`` a settings menu choice;
* ``d:<op>:<deck_id>`` enrol (``e``) in or leave (``l``) a deck;
* ``o:<step>:<value>`` an onboarding step;
* ``q:go`` start a quiz; ``q:on`` carry on with the running one; ``q:new:<n>`` start a new
  one of n questions (0: the student's quiz length) although one is running;
* ``c:<setting>:<value>`` a group's settings button (``/group_settings``; only the group's
  admins may use it, which the handler asks Telegram).
* ``m:p:<page>`` a page of ``/mycards``; ``m:e:<item_id>`` edit, ``m:d:<item_id>`` delete one
  of the student's own cards; ``m:x`` cancel adding or editing a card.

Anything else (old formats, tampering, junk) parses to None; handlers then answer
"this button no longer works". Whether a question belongs to the presser is checked by the
service, not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tutor.items import MAX_OPTIONS, Grade

MAX_BYTES = 64
_ID = r"[1-9][0-9]{0,17}"
_VALUE = r"[A-Za-z0-9_+\-/]{1,40}"

SETTINGS = frozenset({"menu", "lang", "tz", "time", "quiet", "goal", "len", "ret"})
ONBOARDING_STEPS = frozenset({"lang", "deck", "tz", "tzoff", "time", "exam"})
DECK_OPS = frozenset({"e", "l"})
GROUP_SETTINGS = frozenset({"deck", "time", "len", "secs", "members", "lang"})


@dataclass(frozen=True, slots=True)
class AnswerPress:
    """A press on one of a question's choices."""

    question_id: int
    choice: int


@dataclass(frozen=True, slots=True)
class RevealPress:
    """ "Show answer" on a flashcard or cloze."""

    question_id: int


@dataclass(frozen=True, slots=True)
class GradePress:
    """A self-grade after the answer was shown."""

    question_id: int
    grade: Grade


@dataclass(frozen=True, slots=True)
class MoreNewPress:
    """ "More new questions today" under an extra-practice question."""

    question_id: int


@dataclass(frozen=True, slots=True)
class SettingPress:
    """A settings menu button."""

    setting: str
    value: str


@dataclass(frozen=True, slots=True)
class DeckPress:
    """Enrol in or leave a deck."""

    op: str
    deck_id: int


@dataclass(frozen=True, slots=True)
class OnboardingPress:
    """An onboarding choice."""

    step: str
    value: str


@dataclass(frozen=True, slots=True)
class QuizPress:
    """Start a quiz (``go``), carry on with the running one (``on``), or start a new one of
    ``length`` questions although one is running (``new``; 0: the student's quiz length)."""

    action: str = "go"
    length: int = 0


@dataclass(frozen=True, slots=True)
class GroupSettingPress:
    """A group settings button."""

    setting: str
    value: str


@dataclass(frozen=True, slots=True)
class OwnCardPress:
    """A ``/mycards`` button: a page (``p``), edit (``e``) or delete (``d``) a card, or cancel
    (``x``) a card being added or edited. ``value`` is the page or the card's item id."""

    action: str
    value: int = 0


Press = (
    AnswerPress
    | RevealPress
    | GradePress
    | MoreNewPress
    | SettingPress
    | DeckPress
    | OnboardingPress
    | QuizPress
    | GroupSettingPress
    | OwnCardPress
)

_PATTERNS: dict[str, re.Pattern[str]] = {
    "a": re.compile(rf"a:({_ID}):(0|[1-9][0-9]?)"),
    "r": re.compile(rf"r:({_ID})"),
    "g": re.compile(rf"g:({_ID}):([1-4])"),
    "n": re.compile(rf"n:({_ID})"),
    "s": re.compile(rf"s:([a-z]{{1,8}}):({_VALUE})"),
    "d": re.compile(rf"d:([a-z]):({_ID})"),
    "o": re.compile(rf"o:([a-z]{{1,8}}):({_VALUE})"),
    "q": re.compile(r"q:(go|on|new:(0|[1-9][0-9]?))"),
    "c": re.compile(r"c:([a-z]{1,8}):([a-z0-9]{1,12})"),
    "m": re.compile(rf"m:(?:(p):(0|[1-9][0-9]{{0,5}})|([ed]):({_ID})|(x))"),
}


KINDS = frozenset(_PATTERNS)
"""Every kind of button data (its first field); each has a row in docs/user_paths.md."""


def parse(data: str | None) -> Press | None:
    """The press that ``data`` encodes, or None if it is not valid current callback data."""
    if not data or len(data.encode("utf-8")) > MAX_BYTES:
        return None
    pattern = _PATTERNS.get(data[:1])
    match = pattern.fullmatch(data) if pattern else None
    if match is None:
        return None
    kind = data[0]
    if kind == "a":
        choice = int(match.group(2))
        return AnswerPress(int(match.group(1)), choice) if choice < MAX_OPTIONS else None
    if kind == "r":
        return RevealPress(int(match.group(1)))
    if kind == "g":
        return GradePress(int(match.group(1)), Grade(int(match.group(2))))
    if kind == "n":
        return MoreNewPress(int(match.group(1)))
    if kind == "s":
        name = match.group(1)
        return SettingPress(name, match.group(2)) if name in SETTINGS else None
    if kind == "d":
        op = match.group(1)
        return DeckPress(op, int(match.group(2))) if op in DECK_OPS else None
    if kind == "o":
        step = match.group(1)
        return OnboardingPress(step, match.group(2)) if step in ONBOARDING_STEPS else None
    if kind == "c":
        name = match.group(1)
        return GroupSettingPress(name, match.group(2)) if name in GROUP_SETTINGS else None
    if kind == "m":
        if match.group(5):
            return OwnCardPress("x")
        if match.group(1):
            return OwnCardPress("p", int(match.group(2)))
        return OwnCardPress(match.group(3), int(match.group(4)))
    action, _, length = match.group(1).partition(":")
    return QuizPress(action, int(length or 0))


def _checked(data: str) -> str:
    if parse(data) is None:
        raise ValueError(f"callback data would not parse back: {data!r}")
    return data


def answer(question_id: int, choice: int) -> str:
    """Data for a choice button."""
    return _checked(f"a:{question_id}:{choice}")


def reveal(question_id: int) -> str:
    """Data for "Show answer"."""
    return _checked(f"r:{question_id}")


def grade(question_id: int, value: Grade) -> str:
    """Data for a self-grade button."""
    return _checked(f"g:{question_id}:{int(value)}")


def more_new(question_id: int) -> str:
    """Data for "more new questions today"."""
    return _checked(f"n:{question_id}")


def setting(name: str, value: str) -> str:
    """Data for a settings button."""
    return _checked(f"s:{name}:{value}")


def deck(op: str, deck_id: int) -> str:
    """Data for an enrol/leave button."""
    return _checked(f"d:{op}:{deck_id}")


def onboarding(step: str, value: str) -> str:
    """Data for an onboarding button."""
    return _checked(f"o:{step}:{value}")


def start_quiz() -> str:
    """Data for "Start a quiz"."""
    return "q:go"


def carry_on_quiz() -> str:
    """Data for "Carry on" with the running quiz."""
    return "q:on"


def new_quiz(length: int | None) -> str:
    """Data for "New quiz" of ``length`` questions (None: the student's quiz length)."""
    return _checked(f"q:new:{length or 0}")


def group_setting(name: str, value: str) -> str:
    """Data for a group settings button."""
    return _checked(f"c:{name}:{value}")


def own_cards_page(page: int) -> str:
    """Data for a page of ``/mycards``."""
    return _checked(f"m:p:{page}")


def own_card(action: str, item_id: int) -> str:
    """Data for editing (``e``) or deleting (``d``) one of the student's own cards."""
    return _checked(f"m:{action}:{item_id}")


def cancel_card() -> str:
    """Data for cancelling a card being added or edited."""
    return "m:x"
