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
