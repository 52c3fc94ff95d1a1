"""The architecture as the folders promise it: who may import whom.

``tutor/`` (the domain) never imports Telegram; ``storage/`` knows neither Telegram nor the
domain nor torch; ``bot/`` never touches torch; the product's learner model
(``tutor/model/``) needs no benchmark or simulation code. Imports anywhere in a module count,
lazy ones inside functions too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# (folder, import prefixes it must never use, why)
RULES = [
    ("tutor", ("telegram", "bot"), "the domain is pure: no Telegram, no handlers"),
    ("storage", ("telegram", "bot", "tutor", "torch"), "storage knows only SQL"),
    ("bot", ("torch",), "handlers never touch the model's tensors"),
    (
        "tutor/model",
        ("tutor.evaluation", "tutor.simulation", "benchmarks"),
        "the product's model needs no benchmark code",
    ),
]
# The offline Bot API is test equipment shipped in bot/: it may know nothing of the tutor.
FAKE_TELEGRAM = ("bot/fake_telegram", ("tutor", "storage", "torch"), "a stand-in for Telegram")


def imported_names(path: Path) -> Iterator[tuple[int, str]]:
    """Every module a file imports (absolute names; relative imports are not used here)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def offences(folder: str, banned: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for line, name in imported_names(path):
            if any(name == prefix or name.startswith(prefix + ".") for prefix in banned):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return found


@pytest.mark.parametrize(("folder", "banned", "why"), [*RULES, FAKE_TELEGRAM])
def test_layer_imports(folder: str, banned: tuple[str, ...], why: str) -> None:
    assert offences(folder, banned) == [], why


def test_the_rules_see_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from telegram.ext import Application\n", encoding="utf-8")
    assert [name for _, name in imported_names(module)] == ["telegram.ext"]


# No import circles: the modules a module imports when it is loaded (not lazily inside a
# function, not only for type checking) never lead back to it. A package's __init__ runs
# when anything below it is imported first, so importing ``a.b.c`` from outside ``a.b``
# also depends on ``a/__init__`` and ``a/b/__init__`` (the cycle that once broke
# ``import bot.group_quizzes``: it imported bot.handlers.common, whose package imports the
# group handlers, which import bot.group_quizzes).
PACKAGES = ("bot", "tutor", "storage")


def module_files(root: Path) -> dict[str, Path]:
    """Module name to file for every module of the packages under ``root``."""
    found = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _load_time_imports(body: list[ast.stmt]) -> Iterator[tuple[str, tuple[str, ...]]]:
    for node in body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.If | ast.Try):
            yield from _load_time_imports(node.body)
            for handler in getattr(node, "handlers", []):
                yield from _load_time_imports(handler.body)
            yield from _load_time_imports(node.orelse)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, tuple(alias.name for alias in node.names)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module to the modules (and packages) its loading runs."""
    modules = module_files(root)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for importer, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name, names in _load_time_imports(tree.body):
            parts = name.split(".")
            wanted = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
            wanted |= {f"{name}.{member}" for member in names}
            for target in wanted & modules.keys():
                # The importer's own packages are already loading: no new dependency.
                if target != importer and not importer.startswith(target + "."):
                    graph[importer].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other (strongly connected, more than one)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circles() -> None:
    assert cycles(import_graph(ROOT)) == []


def test_the_circle_check_sees_a_circle_through_a_package(tmp_path: Path) -> None:
    """The shape of the old bot.group_quizzes cycle, in miniature."""
    handlers = tmp_path / "bot" / "handlers"
    handlers.mkdir(parents=True)
    (tmp_path / "bot" / "__init__.py").write_text("", encoding="utf-8")
    (handlers / "__init__.py").write_text("from bot.handlers import groups\n", encoding="utf-8")
    (handlers / "common.py").write_text("KEY = 1\n", encoding="utf-8")
    (handlers / "groups.py").write_text("from bot.jobs import run\n", encoding="utf-8")
    (tmp_path / "bot" / "jobs.py").write_text(
        "from typing import TYPE_CHECKING\nfrom bot.handlers.common import KEY\n"
        "if TYPE_CHECKING:\n    from bot.handlers import groups\n"
        "def run():\n    from bot.handlers import groups\n",
        encoding="utf-8",
    )
    (tmp_path / "tutor").mkdir()
    (tmp_path / "storage").mkdir()
    assert cycles(import_graph(tmp_path)) == [["bot.handlers", "bot.handlers.groups", "bot.jobs"]]
    (tmp_path / "bot" / "jobs.py").write_text("KEY = 1\n", encoding="utf-8")
    assert cycles(import_graph(tmp_path)) == []
