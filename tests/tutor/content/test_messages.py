"""The importers' reasons and places: every code used is in the tables, and a reason takes
exactly its template's parameters."""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import pytest

from tutor.content import ContentError, parse_csv, parse_deck_file
from tutor.content.messages import PLACES, REASONS, line, place, reason
from tutor.errors import ContentRejected
from tutor.library import parse_upload

TUTOR = Path(__file__).resolve().parents[3] / "tutor"
_MAKERS = {"ContentError": 0, "reason": 0, "content_reason": 0, "skipped": 1, "place": 0}
"""Functions whose argument at this index is a code (``skipped(where, code, ...)``)."""


def _codes_in_source() -> dict[str, set[str]]:
    """Every string literal passed as a code, by the function it goes to."""
    found: dict[str, set[str]] = {name: set() for name in _MAKERS}
    for path in [*(TUTOR / "content").glob("*.py"), TUTOR / "deck_store.py"]:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            index = _MAKERS.get(node.func.id)
            if index is None or len(node.args) <= index:
                continue
            arg = node.args[index]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found[node.func.id].add(arg.value)
    return found


def test_every_code_the_importers_use_has_a_template() -> None:
    found = _codes_in_source()
    reasons = found["ContentError"] | found["reason"] | found["content_reason"] | found["skipped"]
    assert len(reasons) > 80  # the scan sees the raise sites
    assert reasons <= set(REASONS), reasons - set(REASONS)
    assert found["place"] <= set(PLACES)


def test_a_reason_takes_exactly_its_templates_parameters() -> None:
    assert str(reason("option_count", min=2, max=6, count=1)) == (
        "multiple_choice needs 2-6 options, got 1"
    )
    with pytest.raises(TypeError, match="'answer_empty' takes"):
        reason("answer_empty", line=3)
    with pytest.raises(TypeError, match="'option_count' takes"):
        reason("option_count", min=2, max=6)
    with pytest.raises(KeyError):
        reason("no_such_code")


def test_an_error_carries_its_code_parameters_and_place() -> None:
    with pytest.raises(ContentError) as caught:
        parse_csv(b"question,answer\nA?,a\nB?,\n", filename="d.csv")
    error = caught.value
    assert str(error) == "line 3: answer is empty"
    assert error.reason == reason("answer_empty") and error.place == line(3)
    nested = reason("all_skipped", count=1200, where=place("note", note=7), reason=error.reason)
    assert str(nested) == "all 1,200 entries were skipped (first: note 7: answer is empty)"


def test_a_refusal_crosses_the_import_workers_pipe_with_its_code() -> None:
    with pytest.raises(ContentRejected) as caught:
        parse_upload(b"prompt,reply\nA?,a\n", "quiz.csv", None, 1024 * 1024)
    params = pickle.loads(pickle.dumps(caught.value)).params
    assert params["why"] == caught.value.params["why"]
    assert params["why"].code == "missing_columns" and params["place"] == line(1)
    assert params["reason"].startswith("line 1: missing required column(s): question, answer")


def test_skipped_entries_say_the_same_in_english_and_as_codes() -> None:
    data = b"id,question,answer,type,audio\ndog,Dog?,chien,flashcard,dog.wav\n"
    [entry] = parse_deck_file(data, "d.csv").skipped
    assert entry.where == "line 2" and entry.place == line(2)
    assert entry.detail is not None and entry.detail.code == "sound_unsupported"
    assert entry.reason == str(entry.detail)
    assert "sound 'dog.wav' is not a kind Telegram plays" in entry.reason
    assert pickle.loads(pickle.dumps(entry)) == entry
