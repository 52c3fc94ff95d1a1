"""Registers the learner model's predictors with the benchmark (imported by its registry)."""

from __future__ import annotations

from tutor.evaluation.registry import register_predictor
from tutor.model.predictor import metatutor, metatutor_noadapt

register_predictor("metatutor", metatutor)
register_predictor("metatutor_noadapt", metatutor_noadapt)
