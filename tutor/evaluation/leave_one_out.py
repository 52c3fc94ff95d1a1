"""Leave-one-dataset-out: the learner network trained on every *other* dataset predicts one.

This is how a new deployment meets the model: its weights were learned on other people and
other items, while the item and tag answer tallies come from the deployment's own students
(here: the left-out dataset's training learners, which never train the weights).

Datasets form families by their source: the Anki views (``anki``, ``anki_time``,
``anki_days``, ``anki_single``) are all left out together, since they share their people and
cards. Each other family contributes the training learners of the same fold, at most
:data:`MAX_SOURCE_ATTEMPTS` attempts of them (whole learners in a seeded order): one fit costs
less than fitting ASSIST2009 alone (about 40 CPU s), and the three ASSISTments sets do not
outweigh the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tutor.evaluation.folds import FoldSummary
from tutor.evaluation.logs import Dataset, LearnerLog

#: The families, each named by the dataset whose training learners it contributes.
FAMILIES: tuple[str, ...] = ("assist2009", "assist2015", "assist2017", "ednet", "eedi", "anki")
_FAMILY_OF = {"anki_time": "anki", "anki_days": "anki", "anki_single": "anki"}
MAX_SOURCE_ATTEMPTS = 40_000
#: The benchmark's name of the transfer model, and the models it is compared with.
TRANSFER_MODEL = "metatutor_lodo"
OWN_MODEL = "metatutor"
#: The learner model and its variants are not baselines (every other model is).
MODEL_PREFIX = "metatutor"


def family(name: str) -> str:
    """The family of dataset ``name`` (``anki`` for every Anki view)."""
    return _FAMILY_OF.get(name, name)


def cap_attempts(logs: Sequence[LearnerLog], limit: int, *, seed: int) -> list[LearnerLog]:
    """Whole learners in a seeded order until ``limit`` attempts (at least one learner)."""
    order = np.random.default_rng(seed).permutation(len(logs)).tolist()
    kept: list[LearnerLog] = []
    total = 0
    for i in order:
        if kept and total + len(logs[i]) > limit:
            continue
        kept.append(logs[i])
        total += len(logs[i])
    return kept


def transfer_sources(
    target: str,
    load: Callable[[str], Dataset],
    *,
    seed: int,
    limit: int = MAX_SOURCE_ATTEMPTS,
) -> list[tuple[str, list[LearnerLog]]]:
    """``(family, training learners)`` of every family but ``target``'s, each capped."""
    own = family(target)
    if own not in FAMILIES:
        raise ValueError(
            f"leave-one-out runs on the shared datasets ({', '.join(FAMILIES)} and the Anki "
            f"views), not on {target!r}"
        )
    return [
        (name, cap_attempts(load(name).train, limit, seed=seed)) for name in FAMILIES if name != own
    ]


def _cell(s: FoldSummary | None) -> str:
    return "–" if s is None else f"{s.auc_mean:.3f} / {s.logloss_mean:.3f}"


def lodo_markdown(summaries: Sequence[FoldSummary]) -> str:
    """Per dataset: the transfer model, the model trained on the dataset itself, and the best
    baseline trained on the dataset itself (by AUC, and by log loss), AUC / log loss, means
    over the folds run; "loses" names the metrics where the transfer model is behind that
    best baseline."""
    lines = [
        f"| dataset | {TRANSFER_MODEL} (other datasets) | {OWN_MODEL} (own) "
        "| best baseline AUC (own) | best baseline log loss (own) | transfer behind on |",
        "|---|---:|---:|---|---|---|",
    ]
    for dataset in dict.fromkeys(s.dataset for s in summaries):
        sub = {s.model: s for s in summaries if s.dataset == dataset}
        lodo = sub.get(TRANSFER_MODEL)
        if lodo is None:
            continue
        base = [s for m, s in sub.items() if not m.startswith(MODEL_PREFIX)]
        by_auc = max(base, key=lambda s: s.auc_mean, default=None)
        by_ll = min(base, key=lambda s: s.logloss_mean, default=None)
        behind = []
        if by_auc is not None and lodo.auc_mean < by_auc.auc_mean:
            behind.append("AUC")
        if by_ll is not None and lodo.logloss_mean > by_ll.logloss_mean:
            behind.append("log loss")
        lines.append(
            f"| {dataset} | {_cell(lodo)} | {_cell(sub.get(OWN_MODEL))} "
            f"| {'–' if by_auc is None else f'{by_auc.model} {by_auc.auc_mean:.3f}'} "
            f"| {'–' if by_ll is None else f'{by_ll.model} {by_ll.logloss_mean:.3f}'} "
            f"| {', '.join(behind) or ('none' if base else 'no baseline run')} |"
        )
    return "\n".join(lines) + "\n"
