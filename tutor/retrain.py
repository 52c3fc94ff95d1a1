"""Refit the shared learner model on the deployment's own students (``metatutor train --from-db``).

The attempts log is read once, from a read-only snapshot (:mod:`storage.training`), into one
:class:`LearnerLog` per student with the columns the service's model sees (time, outcome,
grade, latency, the item's tags, number of options and whether the student grades it). A
seeded fifth of the students is held out; a candidate is trained on the others (by default
fine-tuned from the current weights) and both weights predict each held-out attempt from
that student's earlier attempts only, with item statistics from the training students, as
the model benchmark does. The candidate is better only with a lower log loss and an AUC that
is not lower.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from storage import Database
from storage.training import TrainingAttempt, training_attempts
from tutor.evaluation.metrics import auc, log_loss
from tutor.items import ItemKind
from tutor.model.history import AnswerStats
from tutor.model.learner_log import LearnerLog
from tutor.model.train import TrainConfig, build_net, predict_sequences, prepare, train
from tutor.model.weights import TrainedWeights

MIN_ANSWERS = 500
"""Fewer answers than this teach the shared model nothing it can be trusted with."""
MIN_STUDENTS = 5
"""At least one student held out, and four to train on."""
HELD_OUT = 0.2

FINE_TUNE = TrainConfig(lr=1e-3, max_minutes=20.0, min_tokens=100_000, max_epochs=20)
"""Fine-tuning from the current weights: a lower learning rate keeps what they know, and a
small deployment's log is passed over at most 20 times."""
FROM_SCRATCH = TrainConfig(max_minutes=20.0)


class RefitError(Exception):
    """The database cannot give a candidate: the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Figures:
    """Held-out figures of one set of weights."""

    log_loss: float
    auc: float


@dataclass(frozen=True, slots=True)
class Refit:
    """What a refit found: the parts' sizes, both weights' figures and the candidate."""

    train_students: int
    train_attempts: int
    held_students: int
    held_attempts: int
    current: Figures
    candidate: Figures
    weights: TrainedWeights
    fine_tuned: bool
    #: validation log loss (on a tenth of the training students) of each start tried
    validation: dict[str, float]

    @property
    def better(self) -> bool:
        """The candidate has a lower held-out log loss and an AUC that is not lower."""
        cur, new = self.current, self.candidate
        auc_ok = math.isnan(cur.auc) or (not math.isnan(new.auc) and new.auc >= cur.auc)
        return new.log_loss < cur.log_loss and auc_ok


async def read_logs(db: Database) -> list[LearnerLog]:
    """One log per student with answers, from one consistent read of the attempts log."""
    tag_ids: dict[str, int] = {}
    logs: list[LearnerLog] = []
    rows: list[TrainingAttempt] = []
    async with db.read() as conn:
        async for batch in training_attempts(conn):
            for row in batch:
                if rows and rows[-1].user_id != row.user_id:
                    logs.append(_log(rows, tag_ids))
                    rows = []
                rows.append(row)
    if rows:
        logs.append(_log(rows, tag_ids))
    return logs


def _n_options(row: TrainingAttempt) -> int:
    if row.kind == ItemKind.TRUE_FALSE:
        return 2
    return row.n_listed_options if row.kind == ItemKind.MULTIPLE_CHOICE else 0


def _log(rows: Sequence[TrainingAttempt], tag_ids: dict[str, int]) -> LearnerLog:
    """A student's attempts as the learner model reads them (as the service's model sees)."""
    return LearnerLog(
        user=str(rows[0].user_id),
        items=np.array([r.item_id for r in rows], np.int64),
        skills=tuple(tuple(tag_ids.setdefault(t, len(tag_ids)) for t in r.tags) for r in rows),
        correct=np.array([r.correct for r in rows], np.int8),
        timestamps=np.array([r.answered_ms / 1000 for r in rows], np.float64),
        grades=np.array([r.grade or 0 for r in rows], np.int8),
        durations_ms=np.array(
            [np.nan if r.latency_ms is None else r.latency_ms for r in rows], np.float64
        ),
        n_options=np.array([_n_options(r) for r in rows], np.int8),
        self_graded=np.array([ItemKind(r.kind).self_graded for r in rows], np.bool_),
    )


def split_students(
    logs: Sequence[LearnerLog], seed: int
) -> tuple[list[LearnerLog], list[LearnerLog]]:
    """(training, held-out): a seeded fifth of the students (at least one) held out."""
    order = sorted(logs, key=lambda log: int(log.user))
    rng = np.random.default_rng(seed)
    n_held = max(1, round(len(order) * HELD_OUT))
    held = set(rng.permutation(len(order))[:n_held].tolist())
    return (
        [log for i, log in enumerate(order) if i not in held],
        [log for i, log in enumerate(order) if i in held],
    )


def check_size(logs: Sequence[LearnerLog]) -> None:
    """Raise :class:`RefitError` when the log is too small to train and judge a candidate."""
    answers = sum(len(log) for log in logs)
    if answers == 0:
        raise RefitError(
            f"the database has no answers yet; at least {MIN_ANSWERS} answers from"
            f" {MIN_STUDENTS} students are needed to refit the learner model"
        )
    if answers < MIN_ANSWERS or len(logs) < MIN_STUDENTS:
        raise RefitError(
            f"the database has {answers} answers from {len(logs)} students; at least"
            f" {MIN_ANSWERS} answers from {MIN_STUDENTS} students are needed to refit the"
            " learner model: try again when more students have studied"
        )


def held_out_predictions(
    weights: TrainedWeights, train_logs: Sequence[LearnerLog], held: Sequence[LearnerLog]
) -> tuple[np.ndarray, np.ndarray]:
    """(outcomes, predictions) of every held-out attempt, each from the student's earlier
    attempts only, with item and tag statistics from the training students."""
    stats = AnswerStats.from_logs(train_logs)
    extra = tuple(weights.config.get("extra_features", ()))
    seqs = [prepare(log, stats, leave_out=False, extra=extra) for log in held if len(log)]
    probs = predict_sequences(build_net(weights), seqs, weights.temperature)
    y = np.concatenate([s.y for s in seqs]) if seqs else np.zeros(0)
    p = np.concatenate(probs) if probs else np.zeros(0)
    return y.astype(np.float64), p.astype(np.float64)


def figures(
    weights: TrainedWeights, train_logs: Sequence[LearnerLog], held: Sequence[LearnerLog]
) -> Figures:
    """Held-out log loss and AUC of ``weights``."""
    y, p = held_out_predictions(weights, train_logs, held)
    return Figures(log_loss=log_loss(y, p), auc=auc(y, p))


STARTS = ("fine-tuned", "from scratch")


def refit(
    logs: Sequence[LearnerLog],
    current: TrainedWeights,
    *,
    seed: int = 0,
    starts: Sequence[str] = STARTS,
    configs: dict[str, TrainConfig] | None = None,
    progress: bool = False,
) -> Refit:
    """Train a candidate on four fifths of the students and judge both weights on the rest.

    Each of ``starts`` is trained (fine-tuned from ``current``, or from scratch); the one
    with the lower validation loss on the training students' own validation tenth becomes
    the candidate (the held-out students judge it and nothing else).
    """
    import torch

    check_size(logs)
    train_logs, held = split_students(logs, seed)
    chosen = {"fine-tuned": FINE_TUNE, "from scratch": FROM_SCRATCH} | (configs or {})
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # reproducible on one machine, whatever its cores
    try:
        tried: dict[str, TrainedWeights] = {}
        for start in starts:
            tried[start] = train(
                [("deployment", train_logs)],
                chosen[start],
                seed=seed,
                progress=progress,
                init=current if start == "fine-tuned" else None,
            )
        validation = {k: float(w.meta["best_val_logloss"]) for k, w in tried.items()}
        best = min(validation, key=lambda k: validation[k])
        weights = tried[best]
        cur, new = figures(current, train_logs, held), figures(weights, train_logs, held)
    finally:
        torch.set_num_threads(threads)
    weights.meta["deployment"] = {
        "students": len(logs),
        "answers": sum(len(log) for log in logs),
        "held_out_students": len(held),
        "seed": seed,
    }
    return Refit(
        train_students=len(train_logs),
        train_attempts=sum(len(log) for log in train_logs),
        held_students=len(held),
        held_attempts=sum(len(log) for log in held),
        current=cur,
        candidate=new,
        weights=weights,
        fine_tuned=best == "fine-tuned",
        validation=validation,
    )


def table(result: Refit) -> str:
    """The refit's figures as a Markdown table."""
    rows = [
        "| part | students | answers |",
        "|---|---:|---:|",
        f"| training | {result.train_students:,} | {result.train_attempts:,} |",
        f"| held out | {result.held_students:,} | {result.held_attempts:,} |",
        "",
        "| candidate start | validation log loss (training students) |",
        "|---|---:|",
        *(f"| {k} | {v:.4f} |" for k, v in result.validation.items()),
        "",
        "| weights | held-out log loss | held-out AUC |",
        "|---|---:|---:|",
        f"| current | {result.current.log_loss:.4f} | {result.current.auc:.4f} |",
        f"| candidate ({'fine-tuned' if result.fine_tuned else 'from scratch'}) |"
        f" {result.candidate.log_loss:.4f} | {result.candidate.auc:.4f} |",
    ]
    return "\n".join(rows)
