"""Registers the learner model's predictors with the benchmark (imported by its registry)."""

from __future__ import annotations

from tutor.evaluation.registry import register_predictor
from tutor.model.predictor import (
    metatutor,
    metatutor_irt,
    metatutor_irt_noadapt,
    metatutor_noadapt,
)

register_predictor("metatutor", metatutor)
register_predictor("metatutor_noadapt", metatutor_noadapt)
# experimental (inputs the serving path lacks): only when named in --models
register_predictor("metatutor_irt", metatutor_irt, in_default=False)
register_predictor("metatutor_irt_noadapt", metatutor_irt_noadapt, in_default=False)
