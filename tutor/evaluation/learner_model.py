"""The learner model's predictors, registered with the benchmark (imported by its registry)."""

from __future__ import annotations

from tutor.evaluation.registry import register_predictor
from tutor.model.predictor import (
    metatutor,
    metatutor_item,
    metatutor_lodo,
    metatutor_noadapt,
    metatutor_noirt,
    metatutor_transfer,
    metatutor_transfer_lodo,
    metatutor_transfer_n,
    metatutor_transfer_n_lodo,
)

register_predictor("metatutor", metatutor)
register_predictor("metatutor_noadapt", metatutor_noadapt)
# comparison (the inputs before the ability-adjusted difficulties): only when named in --models
register_predictor("metatutor_noirt", metatutor_noirt, in_default=False)
# leave-one-dataset-out: trained on the other datasets (``--leave-one-out`` adds it)
register_predictor("metatutor_lodo", metatutor_lodo, in_default=False, transfer=True)
# item-level effects beside the default inputs (not served): only when named in --models
register_predictor("metatutor_item", metatutor_item, in_default=False)
# item-item transfer from the pair tallies (not served): only when named in --models
register_predictor("metatutor_transfer", metatutor_transfer, in_default=False)
register_predictor(
    "metatutor_transfer_lodo", metatutor_transfer_lodo, in_default=False, transfer=True
)
register_predictor("metatutor_transfer_n", metatutor_transfer_n, in_default=False)
register_predictor(
    "metatutor_transfer_n_lodo", metatutor_transfer_n_lodo, in_default=False, transfer=True
)
