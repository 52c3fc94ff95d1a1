"""Variants of the new-deployment model (``metatutor_lodo``) on left-out datasets, fold 1.

For each dataset the network is trained on the other families' training learners (as the
benchmark's ``--leave-one-out`` does, ``--limit`` attempts per family), or loaded from
``--cache`` when an earlier run saved it there, then scored on the dataset's test learners
under variants that need no retraining:

* ``deployment rate``: the inputs relative to the deployment's own base rate, from its
  training learners' tallies (the benchmark's ``metatutor_lodo``, and the service since
  :mod:`tutor.model.base_rate`);
* ``weights rate``: relative to the rate stored in the weights (the training mix's), as the
  service did before;
* ``tally shift``: the deployment rate plus one logit shift, chosen so that the population
  prediction of each item (a first attempt of a new learner) matches the deployment's item
  tallies on average, weighted by answers: a calibration from tallies alone.

    nice -n 10 .venv/bin/python -m benchmarks.lodo_variants --data-dir ../shared/data \\
        --datasets eedi,assist2017,assist2009 --cache /tmp/lodo_weights \\
        --json benchmarks/results/lodo_variants.json
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import table, write_json
from tutor.evaluation.datasets import load_dataset
from tutor.evaluation.leave_one_out import MAX_SOURCE_ATTEMPTS, transfer_sources
from tutor.evaluation.logs import Dataset, LearnerLog
from tutor.evaluation.metrics import auc, log_loss
from tutor.model.history import AnswerStats
from tutor.model.predictor import MetatutorPredictor, metatutor_lodo
from tutor.model.train import build_net, prepare
from tutor.model.weights import TrainedWeights


class _FixedRate(AnswerStats):
    """Tallies whose base rate is fixed (the weights' rate, as the service used)."""

    fixed = 0.5

    @property
    def prior_rate(self) -> float:
        return self.fixed


def _weights(name: str, data_dir: Path, limit: int, cache: Path | None) -> TrainedWeights:
    path = None if cache is None else cache / f"{name}_{limit}.pt"
    if path is not None and path.exists():
        return TrainedWeights.load(path)
    sources = transfer_sources(
        name, lambda other: load_dataset(other, fold=1, data_dir=data_dir), seed=0, limit=limit
    )
    predictor = metatutor_lodo()
    predictor.fit_transfer(sources, [], seed=0)
    assert predictor.weights is not None
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        predictor.weights.save(path)
    return predictor.weights


def _predictor(weights: TrainedWeights, train: Sequence[LearnerLog]) -> MetatutorPredictor:
    predictor = metatutor_lodo()
    predictor.weights = weights
    predictor._net = build_net(weights)
    predictor.set_tallies(train)
    return predictor


def _score(predictor: MetatutorPredictor, data: Dataset) -> dict[str, float]:
    ys, ps = [], []
    for learner in data.test:
        p = predictor.predict(learner)
        keep = learner.eval_mask if learner.eval_mask is not None else slice(None)
        ys.append(learner.correct[keep].astype(np.float64))
        ps.append(p[keep])
    y, p = np.concatenate(ys), np.concatenate(ps)
    return {"auc": auc(y, p), "logloss": log_loss(y, p), "mean_p": p.mean(), "observed": y.mean()}


def tally_shift(predictor: MetatutorPredictor, train: Sequence[LearnerLog]) -> float:
    """The logit shift making the items' population predictions match their tallies."""
    import torch

    from tutor.model.network import GUESS_INDEX

    weights, net, stats = predictor.weights, predictor._net, predictor._stats
    assert weights is not None and net is not None
    skills: dict[int, tuple[int, ...]] = {}
    for log in train:
        for item, tags in zip(log.items.tolist(), log.skills, strict=True):
            skills.setdefault(item, tags)
    items = sorted(skills)
    extra = tuple(weights.config.get("extra_features", ()))
    rows = [
        prepare(
            LearnerLog("pop", np.array([i]), (skills[i],), np.zeros(1, np.int8)),
            stats,
            leave_out=False,
            extra=extra,
        ).x[0]
        for i in items
    ]
    x = torch.from_numpy(np.stack(rows))
    with torch.no_grad():
        h = net.h0.view(1, -1).expand(len(items), -1)  # type: ignore[attr-defined]
        dt = torch.full((len(items),), -1.0)
        z = (net.logits(net.zero_user(x), h, dt) / weights.temperature).numpy()  # type: ignore[attr-defined]
        floor = float(torch.sigmoid(net.floor_q))  # type: ignore[attr-defined]
    g = x[:, GUESS_INDEX].numpy().astype(np.float64) * floor
    n = np.array([stats.item_n[i] for i in items])
    c = np.array([stats.item_c[i] for i in items])
    lo, hi = -4.0, 4.0
    for _ in range(60):
        mid = (lo + hi) / 2
        p = g + (1 - g) / (1 + np.exp(-(z.astype(np.float64) + mid)))
        lo, hi = (lo, mid) if float((n * p).sum()) > float(c.sum()) else (mid, hi)
    return (lo + hi) / 2


def _shifted(weights: TrainedWeights, shift: float) -> TrainedWeights:
    """``weights`` with ``shift`` added to every logit (folded into the head's last bias)."""
    state = {k: v.clone() for k, v in weights.state_dict.items()}
    last = [k for k in state if k.startswith("mlp.") and k.endswith(".bias")][-1]
    state[last][0] += shift * weights.temperature
    return replace(weights, state_dict=state)


def run(
    names: Sequence[str], data_dir: Path, limit: int, cache: Path | None
) -> list[dict[str, Any]]:
    """Every variant's figures on every dataset."""
    import torch

    torch.set_num_threads(1)
    out: list[dict[str, Any]] = []
    for name in names:
        data = load_dataset(name, fold=1, data_dir=data_dir)
        start = time.perf_counter()
        weights = _weights(name, data_dir, limit, cache)
        fit_s = time.perf_counter() - start
        own = _predictor(weights, data.train)
        rows = {"deployment rate": _score(own, data)}
        fixed = _FixedRate(**{k: getattr(own._stats, k) for k in AnswerStats.__slots__})
        fixed.fixed = weights.prior_rate
        other = _predictor(weights, data.train)
        other._stats = fixed
        rows["weights rate"] = _score(other, data)
        shift = tally_shift(own, data.train)
        rows[f"tally shift {shift:+.3f}"] = _score(
            _predictor(_shifted(weights, shift), data.train), data
        )
        for variant, figures in rows.items():
            out.append(
                {
                    "dataset": name,
                    "variant": variant,
                    "limit": limit,
                    "deployment_rate": own._stats.prior_rate,
                    "weights_rate": weights.prior_rate,
                    "train_attempts": weights.meta.get("n_train_attempts"),
                    "fit_s": fit_s,
                    **figures,
                }
            )
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--datasets", default="eedi,assist2017")
    parser.add_argument("--limit", type=int, default=MAX_SOURCE_ATTEMPTS)
    parser.add_argument("--cache", type=Path, help="save/load the fitted weights here")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rows = run(args.datasets.split(","), args.data_dir, args.limit, args.cache)
    print(
        table(
            ["dataset", "variant", "AUC", "log loss", "mean predicted", "observed"],
            [
                [
                    r["dataset"],
                    r["variant"],
                    f"{r['auc']:.4f}",
                    f"{r['logloss']:.4f}",
                    f"{r['mean_p']:.3f}",
                    f"{r['observed']:.3f}",
                ]
                for r in rows
            ],
        )
    )
    write_json(args.json, {"limit": args.limit, "rows": rows})


if __name__ == "__main__":
    main()
