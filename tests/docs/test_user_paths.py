"""docs/user_paths.md lists every path a user can take, each with tests that exist.

The paths are read from the real bot: the handlers of an application built as the bot builds
it, the kinds of button data the callback parser knows (and the prefixes other handlers claim),
and the subcommands of the ``metatutor`` command. A command, button or CLI command added
without a row in the checklist fails here, by name.
"""

from __future__ import annotations

import argparse
import ast
import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telegram import Chat, Message, Update, User
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    PollAnswerHandler,
    TypeHandler,
)

from bot import callbacks
from bot.app import build_application
from bot.cli import _parser
from bot.fake_telegram.api import FakeBotApi
from bot.handlers.admin import ADMIN_GROUP
from bot.handlers.settings import TYPED_MENUS
from bot.settings import Settings
from tutor.service import TutorService

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "user_paths.md"
DOC_NAME = "docs/user_paths.md"

STUDENTS, GROUPS, ADMINS, OPERATORS = "Students", "Groups", "Bot admins", "Operators"
SECTIONS = (STUDENTS, GROUPS, ADMINS, OPERATORS)

# Button kinds whose second field names a choice the parser checks against a fixed set:
# each choice gets its own row.
SUB_KINDS: dict[str, frozenset[str]] = {
    "s": callbacks.SETTINGS,
    "o": callbacks.ONBOARDING_STEPS,
    "d": callbacks.DECK_OPS,
    "c": callbacks.GROUP_SETTINGS,
}

_NODE = re.compile(r"tests/[\w/]+\.py::[\w:\[\]\-. ]+")
_CODE = re.compile(r"`([^`]+)`")
_PATTERN_KIND = re.compile(r"^\^([a-z]+):")


# -- the checklist ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One row of the checklist."""

    section: str
    line: int
    path: str
    context: tuple[str, ...]
    """The path cell's other `code`: e.g. the button whose menu waits for typed text."""
    tests: tuple[str, ...]


def _cells(line: str) -> list[str]:
    """A Markdown table row's cells (``\\|`` inside a cell is not a separator)."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


@functools.cache
def checklist() -> tuple[Row, ...]:
    """Every table row of the checklist, with its section and its test node ids."""
    rows: list[Row] = []
    section = ""
    for number, line in enumerate(DOC.read_text("utf-8").splitlines(), start=1):
        if line.startswith("## "):
            title = line[3:].strip()
            section = next((name for name in SECTIONS if title.startswith(name)), "")
            continue
        if not line.startswith("|") or not section:
            continue
        cells = _cells(line)
        if len(cells) < 4 or set(cells[0]) <= set("-: ") or cells[0] == "path":
            continue  # the separator or the header
        path, *context = _CODE.findall(cells[0]) or [""]
        assert path, f"{DOC_NAME}:{number}: the path cell has no `code`: {cells[0]}"
        tests = tuple(node.strip() for node in _NODE.findall(cells[-1]))
        rows.append(Row(section, number, path, tuple(context), tests))
    return tuple(rows)


def _paths(section: str | None = None) -> set[str]:
    return {row.path for row in checklist() if section is None or row.section == section}


def _has_row(key: str, paths: set[str], separators: str) -> bool:
    """True if a path is ``key``, or starts with it where a field ends (``s:lang`` for ``s:``,
    ``/exam off`` for ``/exam``; never ``/exams`` for ``/exam``)."""

    def ends(path: str) -> bool:
        return key[-1] in separators or path[len(key)] in separators

    return any(path == key or (path.startswith(key) and ends(path)) for path in paths)


# -- what the bot has ------------------------------------------------------------------------


@pytest.fixture
async def application(service: TutorService) -> Application[Any, Any, Any, Any, Any, Any]:
    """The bot as it runs: admin ids set, flood limit on (its guard is a path too)."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, telegram_bot_token=None, admin_ids=frozenset({1})
    )
    return build_application(settings, service, request=FakeBotApi())


def _update_in(chat_type: str) -> Update:
    chat = Chat(-5 if chat_type != Chat.PRIVATE else 5, chat_type)
    message = Message(
        1, datetime(2026, 1, 1, tzinfo=UTC), chat, from_user=User(5, "A", False), text="/x"
    )
    return Update(1, message=message)


def _where(handler: CommandHandler[Any, Any], group: int) -> list[str]:
    """The checklist sections a command belongs in, by the chats its filter lets through."""
    sections = []
    if handler.filters.check_update(_update_in(Chat.PRIVATE)):
        sections.append(ADMINS if group == ADMIN_GROUP else STUDENTS)
    if handler.filters.check_update(_update_in(Chat.SUPERGROUP)):
        sections.append(GROUPS)
    return sections


def _name(handler: BaseHandler[Any, Any, Any]) -> str:
    callback = handler.callback
    return str(getattr(callback, "__name__", type(callback).__name__))


def registered(
    application: Application[Any, Any, Any, Any, Any, Any],
) -> tuple[set[tuple[str, str]], set[str], set[str]]:
    """(command, section) pairs, button kinds, and other handlers' callback names."""
    commands: set[tuple[str, str]] = set()
    kinds: set[str] = set()
    others: set[str] = set()
    for group, handlers in application.handlers.items():
        for handler in handlers:
            if isinstance(handler, CommandHandler):
                for command in handler.commands:
                    commands |= {(f"/{command}", where) for where in _where(handler, group)}
            elif isinstance(handler, CallbackQueryHandler):
                pattern = handler.pattern
                if pattern is None:  # the catch-all: every kind the parser knows
                    kinds |= set(callbacks.KINDS)
                else:
                    match = _PATTERN_KIND.match(getattr(pattern, "pattern", str(pattern)))
                    assert match, f"a button handler with pattern {pattern!r}: no kind prefix"
                    kinds.add(match.group(1))
            elif isinstance(
                handler, MessageHandler | TypeHandler | PollAnswerHandler | ChatMemberHandler
            ):
                others.add(_name(handler))
            else:
                raise AssertionError(
                    f"a {type(handler).__name__} ({_name(handler)}): teach registered() in"
                    f" tests/docs/test_user_paths.py to read it, and add its rows to {DOC_NAME}"
                )
    return commands, kinds, others


def button_keys(kinds: set[str]) -> set[str]:
    """``a:`` for each kind, and ``s:lang`` and the like for choices the parser fixes."""
    keys = {f"{kind}:" for kind in kinds}
    for kind, choices in SUB_KINDS.items():
        keys |= {f"{kind}:{choice}" for choice in choices}
    return keys


def cli_commands(parser: argparse.ArgumentParser, prefix: str = "metatutor") -> set[str]:
    """Every runnable ``metatutor`` command (``metatutor db upgrade``, not ``metatutor db``)."""
    found: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                below = cli_commands(sub, f"{prefix} {name}")
                found |= below or {f"{prefix} {name}"}
    return found


# -- the tests -------------------------------------------------------------------------------


async def test_every_registered_command_has_a_row_in_its_section(
    application: Application[Any, Any, Any, Any, Any, Any],
) -> None:
    commands, _, _ = registered(application)
    assert ("/quiz", GROUPS) in commands and ("/import", ADMINS) in commands  # the walk works
    missing = sorted(
        f'{command} (section "## {section}")'
        for command, section in commands
        if not _has_row(command, _paths(section), " ")
    )
    assert not missing, (
        f"commands without a row in {DOC_NAME}: {', '.join(missing)}. Add a row for each"
        f" under that section of {DOC_NAME}: path `/command`, what the user does and sees,"
        " and the tests that cover it."
    )


async def test_every_button_kind_has_a_row(
    application: Application[Any, Any, Any, Any, Any, Any],
) -> None:
    _, kinds, _ = registered(application)
    assert {"a", "x", "p", "c"} <= kinds  # the parser's kinds and the other handlers' prefixes
    paths = _paths()
    missing = sorted(key for key in button_keys(kinds) if not _has_row(key, paths, ":"))
    assert not missing, (
        f"button data without a row in {DOC_NAME}: {', '.join(missing)}. Add a row for each"
        f" to {DOC_NAME} (path `kind:...` as the button's data, with the tests that press it)."
    )


async def test_every_other_handler_has_a_row(
    application: Application[Any, Any, Any, Any, Any, Any],
) -> None:
    _, _, others = registered(application)
    assert {"text_message", "poll_answer", "FloodGuard"} <= others
    paths = _paths()
    missing = sorted(name for name in others if name not in paths)
    assert not missing, (
        f"handlers without a row in {DOC_NAME}: {', '.join(missing)}. Add a row for what the"
        f" user sends that reaches each (path `handler_name`) to {DOC_NAME}, with its tests."
    )


def test_every_typed_setting_has_a_row() -> None:
    """Text typed while a settings menu waits for it (``TYPED_MENUS``) has its own row."""
    typed = {item for row in checklist() if row.path == "text_message" for item in row.context}
    missing = sorted(f"s:menu:{menu}" for menu in TYPED_MENUS if f"s:menu:{menu}" not in typed)
    assert not missing, (
        f"settings menus that wait for typed text without a row in {DOC_NAME}:"
        f" {', '.join(missing)}. Add a row with the path `text_message` after `s:menu:NAME`."
    )


def test_every_cli_command_has_a_row_under_operators() -> None:
    commands = cli_commands(_parser())
    assert {"metatutor serve", "metatutor db upgrade"} <= commands
    paths = _paths(OPERATORS)
    missing = sorted(command for command in commands if not _has_row(command, paths, " "))
    assert not missing, (
        f"CLI commands without a row in {DOC_NAME}: {', '.join(missing)}. Add a row for each"
        f" to the section {OPERATORS} of {DOC_NAME} (path `metatutor ...`), with its tests."
    )


def test_every_row_names_a_test() -> None:
    rows = checklist()
    assert len(rows) > 50
    assert {row.section for row in rows} == set(SECTIONS)
    bare = [f"{DOC_NAME}:{row.line} ({row.path})" for row in rows if not row.tests]
    assert not bare, f"rows without a test: {', '.join(bare)}. Name the tests that cover them."


@functools.cache
def _test_names(path: Path) -> frozenset[str]:
    """``name`` and ``Class::name`` of every test function in a test file."""
    names: set[str] = set()
    tree = ast.parse(path.read_text("utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names |= {
                f"{node.name}::{member.name}"
                for member in node.body
                if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef)
            }
    return frozenset(name for name in names if name.rpartition("::")[2].startswith("test"))


def node_exists(node: str, root: Path = ROOT) -> bool:
    """True if ``tests/x.py::test_y`` (or ``::Class::test_y``, ``[param]``) is a test."""
    file, _, name = node.partition("::")
    path = root / file
    return path.is_file() and name.partition("[")[0] in _test_names(path)


def test_every_named_test_exists() -> None:
    nodes = {(row.line, node) for row in checklist() for node in row.tests}
    assert nodes
    gone = [f"{DOC_NAME}:{line}: {node}" for line, node in sorted(nodes) if not node_exists(node)]
    assert not gone, f"tests named in the checklist that do not exist: {'; '.join(gone)}"


def test_node_ids_are_checked_for_real(tmp_path: Path) -> None:
    """The existence check itself: functions, methods of classes, parametrised ids."""
    here = "tests/docs/test_user_paths.py"
    assert node_exists(f"{here}::test_every_row_names_a_test")
    assert node_exists(f"{here}::test_every_row_names_a_test[some-param]")
    assert not node_exists(f"{here}::test_that_is_not_there")
    assert not node_exists("tests/docs/test_nothing_here.py::test_x")
    assert not node_exists(f"{here}::checklist")  # a function, but no test
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_kinds.py").write_text(
        "class TestPress:\n    def test_twice(self): ...\n    def helper(self): ...\n"
    )
    assert node_exists("tests/test_kinds.py::TestPress::test_twice", tmp_path)
    assert not node_exists("tests/test_kinds.py::TestPress::helper", tmp_path)
    assert not node_exists("tests/test_kinds.py::test_twice", tmp_path)
