"""Which item-level signals does the learner model miss? A residual probe on one fold.

The network (``metatutor``, trained on the fold's training learners, or loaded from
``--cache``) predicts every attempt of the test learners; then each candidate input, computed
from the training learners' tallies and the test learner's earlier answers only, is added to
the network's logit by a logistic regression fitted on half of the test learners and scored
on the other half (and the other way round). A candidate that lowers the log loss of this
two-fold fit carries signal the network does not have; one that does not, need not be tried
as an input. Candidates (``K``: pseudo-answers shrinking a conditional rate toward the
item's smoothed rate ``r``; each is ``logit(conditional rate) - logit(r)``):

* ``after previous outcome``: the item's rate given the learner's previous answer was right
  or wrong (any item);
* ``after tag state``: given the learner's last answer on the item's tags (none/wrong/right);
* ``after previous item``: given the item answered just before (pair tallies);
* ``transfer W=w``: the mean over the distinct (item, outcome) of the learner's last ``w``
  answers of the item's rate given that context (:mod:`tutor.model.transfer`, ``w = 5``);
* ``answerers' ability``: the logit of the mean running accuracy of the item's answerers.

    nice -n 10 .venv/bin/python -m benchmarks.item_signal --data-dir ../shared/data \\
        --dataset assist2009 --fold 1 --cache /tmp/item_signal \\
        --json benchmarks/results/item_signal/assist2009_fold1.json
"""

from __future__ import annotations

import argparse
import math
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks.common import table, write_json
from tutor.evaluation.datasets import load_dataset
from tutor.evaluation.logs import LearnerLog
from tutor.evaluation.metrics import auc, log_loss
from tutor.model.ability import ability_residuals
from tutor.model.predictor import metatutor
from tutor.model.train import build_net
from tutor.model.weights import TrainedWeights

F64 = npt.NDArray[np.float64]
Key = tuple[object, ...]
#: (context name, how many previous answers) of the conditional-rate candidates.
CONTEXTS: tuple[tuple[str, int], ...] = (
    ("after previous outcome", 0),
    ("after tag state", 0),
    ("after previous item", 0),
    ("transfer W=1", 1),
    ("transfer W=3", 3),
    ("transfer W=5", 5),
    ("transfer W=10", 10),
    ("transfer W=20", 20),
)


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1.0 - 1e-4)
    return math.log(p) - math.log1p(-p)


def _keys(log: LearnerLog) -> list[dict[str, list[Key]]]:
    """Per attempt, per candidate: its context keys (from earlier answers only)."""
    out: list[dict[str, list[Key]]] = []
    recent: list[tuple[int, int]] = []
    last_tag: dict[int, tuple[int, int]] = {}
    for t, (item, skills, y) in enumerate(
        zip(log.items.tolist(), log.skills, log.correct.tolist(), strict=True)
    ):
        seen = [last_tag[s] for s in skills if s in last_tag]
        tag_state = 2 if not seen else max(seen)[1]
        prev = recent[-1] if recent else (-1, -1)
        keys: dict[str, list[Key]] = {
            "after previous outcome": [(item, prev[1])],
            "after tag state": [(item, tag_state)],
            "after previous item": [(prev[0], item)],
        }
        for name, w in CONTEXTS:
            if w:
                keys[name] = [(i, o, item) for i, o in dict.fromkeys(recent[-w:])]
        out.append(keys)
        recent.append((item, int(y)))
        for s in skills:
            last_tag[s] = (t, int(y))
    return out


def candidates(train: Sequence[LearnerLog], test: Sequence[LearnerLog]) -> dict[str, F64]:
    """Every candidate input of every test attempt (in order), from ``train``'s tallies."""
    item_n: dict[int, float] = defaultdict(float)
    item_c: dict[int, float] = defaultdict(float)
    item_r: dict[int, float] = defaultdict(float)
    tag_n: dict[int, float] = defaultdict(float)
    tag_c: dict[int, float] = defaultdict(float)
    cond: dict[str, dict[Key, list[float]]] = {name: {} for name, _ in CONTEXTS}
    total = right = 0.0
    for log in train:
        resid, _ = ability_residuals(log)
        for item, skills, y, r, keys in zip(
            log.items.tolist(), log.skills, log.correct.tolist(), resid, _keys(log), strict=True
        ):
            item_n[item] += 1
            item_c[item] += y
            item_r[item] += r
            total += 1
            right += y
            for s in skills:
                tag_n[s] += 1
                tag_c[s] += y
            for name, found in keys.items():
                for key in found:
                    rec = cond[name].setdefault(key, [0.0, 0.0])
                    rec[0] += 1
                    rec[1] += y
    prior = (right + 1) / (total + 2)
    cols: dict[str, list[float]] = defaultdict(list)
    for log in test:
        for item, skills, keys in zip(log.items.tolist(), log.skills, _keys(log), strict=True):
            sn = sum(tag_n[s] for s in skills)
            sc = sum(tag_c[s] for s in skills)
            rate = (item_c[item] + 5 * (sc + 20 * prior) / (sn + 20)) / (item_n[item] + 5)
            for name, found in keys.items():
                shifts = [
                    _logit((rec[1] + rate) / (rec[0] + 1)) - _logit(rate)
                    for rec in (cond[name].get(key, [0.0, 0.0]) for key in found)
                ]
                cols[name].append(float(np.mean(shifts)) if shifts else 0.0)
            n = item_n[item]
            mean_ability = (item_c[item] - item_r[item] + 2 * prior) / (n + 2)
            cols["answerers' ability"].append(_logit(mean_ability) - _logit(prior))
            cols["log answers"].append(math.log1p(n))
    return {name: np.asarray(v, np.float64) for name, v in cols.items()}


def _fit(x: F64, y: F64, steps: int = 25) -> F64:
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-x @ w))
        hess = (x * (p * (1 - p))[:, None]).T @ x + 1e-3 * np.eye(x.shape[1])
        w += np.linalg.solve(hess, x.T @ (y - p))
    return w


def two_fold(z: F64, y: F64, first: npt.NDArray[np.bool_], extra: Sequence[F64]) -> F64:
    """P(correct) from ``[1, z, *extra]`` fitted on one half of the learners, per other half."""
    x = np.column_stack([np.ones_like(z), z, *extra])
    out = np.zeros_like(z)
    for part in (first, ~first):
        w = _fit(x[part], y[part])
        out[~part] = 1.0 / (1.0 + np.exp(-x[~part] @ w))
    return out


def _network(name: str, fold: int, data_dir: Path, cache: Path | None) -> tuple[Any, float]:
    data = load_dataset(name, fold=fold, data_dir=data_dir)
    path = None if cache is None else cache / f"{name}_fold{fold}.pt"
    started = time.monotonic()
    predictor = metatutor()
    if path is not None and path.exists():
        predictor.weights = TrainedWeights.load(path)
        predictor._net = build_net(predictor.weights)
        predictor.set_tallies(data.train)
    else:
        predictor.fit(data.train, seed=0)
        if path is not None and predictor.weights is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            predictor.weights.save(path)
    return (data, predictor), time.monotonic() - started


def run(name: str, fold: int, data_dir: Path, cache: Path | None) -> list[dict[str, Any]]:
    (data, predictor), fit_s = _network(name, fold, data_dir, cache)
    p = np.concatenate([predictor.predict(log) for log in data.test])
    y = np.concatenate([log.correct for log in data.test]).astype(np.float64)
    q = np.clip(p, 1e-6, 1 - 1e-6)
    z = np.log(q) - np.log1p(-q)
    users = sorted({log.user for log in data.test})
    half = set(users[::2])
    first = np.concatenate([np.full(len(log), log.user in half) for log in data.test])
    cols = candidates(data.train, data.test)
    log_n = cols.pop("log answers")
    rows: list[dict[str, Any]] = []

    def row(label: str, probs: F64) -> None:
        rows.append({"candidate": label, "auc": auc(y, probs), "logloss": log_loss(y, probs)})

    row("network alone", p)
    row("network, refitted (no candidate)", two_fold(z, y, first, []))
    for cand, col in cols.items():
        row(f"+ {cand}", two_fold(z, y, first, [col]))
        row(f"+ {cand}, x log answers", two_fold(z, y, first, [col, col * log_n]))
    for r in rows:
        r |= {"dataset": name, "fold": fold, "attempts": int(y.shape[0]), "fit_s": fit_s}
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--dataset", default="assist2009")
    parser.add_argument("--fold", type=int, default=1)
    parser.add_argument("--cache", type=Path, help="save/load the fitted network here")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rows = run(args.dataset, args.fold, args.data_dir, args.cache)
    base = rows[1]
    print(
        table(
            ["candidate", "AUC", "log loss", "AUC change", "log loss change"],
            [
                [
                    r["candidate"],
                    f"{r['auc']:.4f}",
                    f"{r['logloss']:.4f}",
                    f"{r['auc'] - base['auc']:+.4f}",
                    f"{r['logloss'] - base['logloss']:+.4f}",
                ]
                for r in rows
            ],
        )
    )
    write_json(args.json, {"dataset": args.dataset, "fold": args.fold, "rows": rows})


if __name__ == "__main__":
    main()
