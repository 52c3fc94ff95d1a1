"""Item-item transfer learned from other learners' answers (the ``item_transfer`` input).

A deck's items are often met in a set order or alongside related ones: a learner who has
just answered item A right (or wrong) is more (or less) likely to get item B right than B's
smoothed rate says, and how much is a property of the pair (A, B), seen in the tallies of
the deployment's own students. For every answer to B, each distinct (item, outcome) among the
learner's :data:`WINDOW` previous answers is a *context*; the tallies count answers and
correct answers per (context item, context outcome, B). The input of an attempt at B is the
mean over its contexts of ``logit((c + K r) / (n + K)) - logit(r)``, ``r`` being B's smoothed
success rate (the ``item_logodds`` feature) and ``K`` = :data:`TRANSFER_PRIOR`: a pair seen
rarely moves the prediction little.

Training and the benchmark walk logs (each training learner's own answers taken out of the
tallies, as for the other inputs); the service does not keep pair tallies yet (they need a
table of their own), so only the benchmark variant ``metatutor_transfer`` uses it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tutor.model.learner_log import LearnerLog

F64 = npt.NDArray[np.float64]
#: How many previous answers of the learner count as context.
WINDOW = 5
#: Pseudo-answers shrinking a pair's rate toward the item's.
TRANSFER_PRIOR = 1.0
#: The input of this module (``TrainConfig.extra_features``).
TRANSFER_INPUT = "item_transfer"
#: Its evidence: the mean over the contexts of ``log1p(n) / 5`` (0 without contexts), so the
#: network can weigh a pair seen once less than one seen a hundred times.
TRANSFER_EVIDENCE = "item_transfer_n"
Pair = tuple[int, int, int]


def contexts(log: LearnerLog) -> Iterator[tuple[int, list[Pair]]]:
    """Per attempt of ``log``: its item and its keys (context item, context outcome, item),
    from the distinct (item, outcome) of the :data:`WINDOW` answers before it."""
    recent: list[tuple[int, int]] = []
    for item, y in zip(log.items.tolist(), log.correct.tolist(), strict=True):
        keys = [(i, o, item) for i, o in dict.fromkeys(recent)]
        yield item, keys
        recent.append((item, int(y)))
        if len(recent) > WINDOW:
            del recent[0]


@dataclass(slots=True)
class PairTallies:
    """Answers and correct answers per (context item, context outcome, item)."""

    pairs: dict[Pair, list[float]] = field(default_factory=dict)

    @classmethod
    def from_logs(cls, logs: Sequence[LearnerLog]) -> PairTallies:
        tallies = cls()
        for log in logs:
            tallies.add(log, 1.0)
        return tallies

    def add(self, log: LearnerLog, sign: float) -> None:
        """Add (``sign=1``) or take out (``sign=-1``) one learner's answers."""
        for (_, keys), y in zip(contexts(log), log.correct.tolist(), strict=True):
            for key in keys:
                rec = self.pairs.setdefault(key, [0.0, 0.0])
                rec[0] += sign
                rec[1] += sign * y


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1.0 - 1e-4)
    return math.log(p) - math.log1p(-p)


def transfer_columns(
    log: LearnerLog, tallies: PairTallies, item_rate: F64, *, leave_out: bool
) -> tuple[F64, F64]:
    """The ``item_transfer`` input of every attempt of ``log``, given each attempt's item
    smoothed rate ``item_rate``, and its evidence (``item_transfer_n``); with ``leave_out``
    the learner's own answers are taken out of ``tallies`` first."""
    own = PairTallies.from_logs([log]) if leave_out else PairTallies()
    out = np.zeros(len(log))
    evidence = np.zeros(len(log))
    zero = (0.0, 0.0)
    for t, ((_, keys), r) in enumerate(zip(contexts(log), item_rate.tolist(), strict=True)):
        if not keys:
            continue
        base = _logit(r)
        total = weight = 0.0
        for key in keys:
            rec, mine = tallies.pairs.get(key, zero), own.pairs.get(key, zero)
            n = max(rec[0] - mine[0], 0.0)
            c = min(max(rec[1] - mine[1], 0.0), n)
            total += _logit((c + TRANSFER_PRIOR * r) / (n + TRANSFER_PRIOR)) - base
            weight += math.log1p(n) / 5.0
        out[t] = total / len(keys)
        evidence[t] = weight / len(keys)
    return out, evidence


def transfer_column(
    log: LearnerLog, tallies: PairTallies, item_rate: F64, *, leave_out: bool
) -> F64:
    """The ``item_transfer`` input alone (:func:`transfer_columns`)."""
    return transfer_columns(log, tallies, item_rate, leave_out=leave_out)[0]
