"""Contract checks for the decks shipped in ``tutor/decks`` (JSON format, version 1).

Only the standard library reads the files, so these tests stay independent of the
importer: they check the files themselves against the documented format.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

DECKS_DIR = Path(__file__).resolve().parents[2] / "tutor" / "decks"
MEDIA_DIR = DECKS_DIR / "media"

ITEM_TYPES = frozenset({"multiple_choice", "true_false", "typed", "flashcard", "cloze"})
SELF_GRADED = frozenset({"flashcard", "cloze"})
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CLOZE = re.compile(r"\{\{c(\d+)::(.+?)(?:::(.*?))?\}\}")
CJK = re.compile(r"[\u4e00-\u9fff]")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_OPTION_CHARS = 40
"""Options are shown on Telegram inline buttons, which truncate long labels."""
MAX_IMAGE_BYTES = 30_000

# file name -> (slug, name, language, id prefix, minimum item count)
BUNDLED: dict[str, tuple[str, str, str, str, int]] = {
    "world_history.json": ("world-history", "World History", "en", "wh-", 150),
    "chinese_history.json": ("chinese-history", "中国历史", "zh", "zh-", 100),
    "demo.json": ("demo", "Demo: quick tour", "en", "demo-", 10),
}
HISTORY_DECKS = ("world_history.json", "chinese_history.json")
MIN_ITEMS_PER_TAG = 5


def load(name: str) -> dict[str, Any]:
    """Parse one bundled deck file."""
    with (DECKS_DIR / name).open(encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def items_of(name: str) -> list[dict[str, Any]]:
    """The item list of one bundled deck."""
    items: list[dict[str, Any]] = load(name)["items"]
    return items


def _non_empty_str(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def item_problems(item: dict[str, Any]) -> list[str]:
    """Every way ``item`` breaks the JSON deck contract (empty when it is valid)."""
    problems: list[str] = []
    kind = item.get("type")
    if kind not in ITEM_TYPES:
        return [f"unknown type {kind!r}"]
    if not _non_empty_str(item.get("question")):
        problems.append("question missing or empty")
    answer = item.get("answer")
    if kind == "multiple_choice":
        options = item.get("options")
        if not isinstance(options, list) or not all(_non_empty_str(o) for o in options):
            problems.append("options must be a list of non-empty strings")
        else:
            if not 2 <= len(options) <= 12:
                problems.append(f"{len(options)} options, need 2-12")
            if len(set(options)) != len(options):
                problems.append("options are not distinct")
            if answer not in options:
                problems.append(f"answer {answer!r} is not among the options")
            long = [o for o in options if len(o) > MAX_OPTION_CHARS]
            if long:
                problems.append(f"options too long for a button: {long}")
    elif kind == "true_false":
        if not isinstance(answer, bool):
            problems.append(f"true_false answer must be a JSON boolean, got {answer!r}")
    elif kind == "typed":
        accepted = [answer] if isinstance(answer, str) else answer
        if not isinstance(accepted, list) or not accepted:
            problems.append("typed answer must be a string or a non-empty list")
        elif not all(_non_empty_str(a) for a in accepted):
            problems.append("typed answers must be non-empty strings")
        elif len(set(accepted)) != len(accepted):
            problems.append("typed answers repeat")
    elif kind == "flashcard":
        if not _non_empty_str(answer):
            problems.append("flashcard back (answer) missing or empty")
    elif kind == "cloze":
        deletions = CLOZE.findall(item.get("question", ""))
        if not deletions:
            problems.append("cloze text has no {{cN::...}} deletion")
        elif not all(text.strip() for _, text, _ in deletions):
            problems.append("cloze deletion with empty text")
    if kind not in SELF_GRADED and not _non_empty_str(item.get("explanation")):
        problems.append("explanation missing")
    if "explanation" in item and not _non_empty_str(item["explanation"]):
        problems.append("explanation present but empty")
    tags = item.get("tags", [])
    if not isinstance(tags, list) or not all(
        _non_empty_str(t) and not re.search(r"\s", t) and all(t.split("::")) for t in tags
    ):
        problems.append(f"bad tags {tags!r}")
    return problems


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_header_matches_the_format(name: str) -> None:
    data = load(name)
    slug, title, language, _, _ = BUNDLED[name]
    assert data["metatutor"] == 1
    deck = data["deck"]
    assert deck["slug"] == slug and SLUG.fullmatch(deck["slug"])
    assert deck["name"] == title
    assert deck["language"] == language
    assert _non_empty_str(deck.get("description"))
    assert isinstance(data["items"], list)


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_every_item_keeps_the_contract(name: str) -> None:
    problems = {str(item.get("id")): p for item in items_of(name) if (p := item_problems(item))}
    assert problems == {}


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_ids_are_unique_and_prefixed(name: str) -> None:
    prefix = BUNDLED[name][3]
    ids = [item.get("id") for item in items_of(name)]
    assert all(isinstance(i, str) and i.startswith(prefix) for i in ids)
    assert [i for i, n in Counter(ids).items() if n > 1] == []


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_no_question_is_asked_twice(name: str) -> None:
    questions = [" ".join(item["question"].casefold().split()) for item in items_of(name)]
    assert [q for q, n in Counter(questions).items() if n > 1] == []


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_deck_is_large_enough(name: str) -> None:
    assert len(items_of(name)) >= BUNDLED[name][4]


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_referenced_images_exist_and_are_small_pngs(name: str) -> None:
    for item in items_of(name):
        if "image" not in item:
            continue
        path = MEDIA_DIR / item["image"]
        assert path.is_file(), f"{item['id']}: missing {path}"
        assert path.read_bytes()[:8] == PNG_SIGNATURE
        assert path.stat().st_size < MAX_IMAGE_BYTES


@pytest.mark.parametrize("name", HISTORY_DECKS)
def test_history_decks_mix_types_and_tag_every_item(name: str) -> None:
    items = items_of(name)
    kinds = Counter(item["type"] for item in items)
    assert set(kinds) == ITEM_TYPES
    assert kinds["multiple_choice"] / len(items) >= 0.5
    assert all(item.get("tags") for item in items)
    per_tag = Counter(tag for item in items for tag in item["tags"])
    assert {t: n for t, n in per_tag.items() if n < MIN_ITEMS_PER_TAG} == {}


def test_world_history_tags_are_hierarchical() -> None:
    tags = {tag for item in items_of("world_history.json") for tag in item["tags"]}
    assert 8 <= len(tags) <= 15
    assert all(re.fullmatch(r"[a-z0-9-]+::[a-z0-9-]+", tag) for tag in tags)


def test_chinese_history_is_written_in_chinese() -> None:
    for item in items_of("chinese_history.json"):
        assert CJK.search(item["question"]), item["id"]
        if item["type"] == "typed":
            assert all(CJK.search(a) or a.isdigit() for a in item["answer"]), item["id"]


def test_demo_shows_every_item_type_and_an_image() -> None:
    items = items_of("demo.json")
    assert 10 <= len(items) <= 12
    assert {item["type"] for item in items} == ITEM_TYPES
    assert any(item["type"] == "multiple_choice" and "image" in item for item in items)


def test_item_problems_catches_broken_items() -> None:
    """The checker itself must reject what the format forbids."""
    good: dict[str, Any] = {
        "id": "x",
        "type": "typed",
        "question": "Q?",
        "answer": ["a"],
        "explanation": "e",
    }
    assert item_problems(good) == []
    broken: list[dict[str, Any]] = [
        {**good, "type": "essay"},
        {**good, "answer": []},
        {**good, "explanation": ""},
        {**good, "tags": ["two words"]},
        {**good, "type": "true_false", "answer": "yes"},
        {**good, "type": "multiple_choice", "options": ["a", "a"], "answer": "a"},
        {**good, "type": "multiple_choice", "options": ["a", "b"], "answer": "c"},
        {**good, "type": "multiple_choice", "options": ["a"], "answer": "a"},
        {"id": "y", "type": "cloze", "question": "No deletion here."},
        {"id": "z", "type": "flashcard", "question": "front", "answer": " "},
    ]
    assert all(item_problems(item) for item in broken)
    assert item_problems({"id": "c", "type": "cloze", "question": "{{c1::Rome::city}} fell."}) == []
