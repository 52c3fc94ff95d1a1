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


def test_every_model_variant_has_its_leave_one_out_twin_with_the_same_inputs() -> None:
    from tutor.evaluation.registry import available_predictors
    from tutor.model.predictor import MetatutorPredictor

    registry = available_predictors()
    twins = {
        "metatutor": "metatutor_lodo",
        "metatutor_transfer": "metatutor_transfer_lodo",
        "metatutor_transfer_n": "metatutor_transfer_n_lodo",
    }
    for own, lodo in twins.items():
        assert not registry[own].transfer and registry[lodo].transfer, lodo
        assert not registry[lodo].in_default, lodo
        own_model, lodo_model = registry[own].factory(), registry[lodo].factory()
        assert isinstance(own_model, MetatutorPredictor)
        assert isinstance(lodo_model, MetatutorPredictor)
        assert lodo_model.name == lodo and lodo_model.config == own_model.config, lodo
