"""Which predictors a run includes."""

from __future__ import annotations


def test_experimental_variants_run_only_when_named() -> None:
    from tutor.evaluation.cli import _select
    from tutor.evaluation.registry import available_predictors

    registry = available_predictors()
    assert not registry["metatutor_noirt"].in_default
    default = {e.name for e in _select(None)}
    assert "metatutor" in default and "metatutor_noirt" not in default
    assert [e.name for e in _select("metatutor_noirt")] == ["metatutor_noirt"]
