"""Benchmark predictors: ``metatutor`` and its no-adaptation ablation ``metatutor_noadapt``
(both with the default inputs, :data:`tutor.model.ability.IRT_EXTRAS` included), and
``metatutor_noirt``, the full model without those inputs.

Both train a network on the dataset's training learners (:func:`tutor.model.train.train`) and
walk each test learner's attempts in order, predicting attempt ``t`` from attempts ``< t``. The
ablation is the same architecture trained and run with the user state frozen at its initial
value (no recurrent state, no user-level features).

Where the benchmark marks per-learner refit points (``split_points``: the per-user time split,
where FSRS refits its parameters on the learner's earlier reviews), ``metatutor`` also
fine-tunes its head on the learner's attempts before each point
(:mod:`tutor.model.finetune`); the ablation does not adapt per learner at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from tutor.model.ability import IRT_EXTRAS
from tutor.model.finetune import FinetuneConfig, finetune_head
from tutor.model.history import AnswerStats
from tutor.model.item_effects import ITEM_EFFECTS
from tutor.model.learner_log import FloatArray, LearnerLog
from tutor.model.train import (
    TrainConfig,
    build_net,
    needs_effects,
    predict_sequences,
    prepare,
    train,
)
from tutor.model.transfer import TRANSFER_EVIDENCE, TRANSFER_INPUT
from tutor.model.weights import TrainedWeights

FIRST_REFIT = 500


def refit_points(n: int) -> tuple[int, ...]:
    """Where a long learner's head is refitted when the benchmark marks no points: after 500
    attempts, then 1,000, 2,000, ... (the schedule of the per-user FSRS baseline)."""
    points = []
    k = FIRST_REFIT
    while k < n:
        points.append(k)
        k *= 2
    return tuple(points)


class MetatutorPredictor:
    """The learner model as a :class:`tutor.evaluation.logs.Predictor`."""

    def __init__(
        self,
        name: str = "metatutor",
        *,
        config: TrainConfig | None = None,
        use_state: bool = True,
        finetune: FinetuneConfig | None = None,
        progress: bool = False,
    ) -> None:
        self.name = name
        self.config = replace(config or TrainConfig(), use_state=use_state)
        self.progress = progress
        self.finetune = finetune
        self.weights: TrainedWeights | None = None
        self._stats = AnswerStats()
        self._net: object | None = None

    def fit(self, train_logs: Sequence[LearnerLog], *, seed: int) -> None:
        """Train on ``train_logs`` (one thread, so runs are reproducible)."""
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            self.weights = train(
                [("train", train_logs)], self.config, seed=seed, progress=self.progress
            )
        finally:
            torch.set_num_threads(threads)
        self._net = build_net(self.weights)
        self.set_tallies(train_logs)

    def fit_transfer(
        self,
        sources: Sequence[tuple[str, Sequence[LearnerLog]]],
        own_train: Sequence[LearnerLog],
        *,
        seed: int,
    ) -> None:
        """A new deployment: the network learns from ``sources`` (other datasets' learners,
        each with its own item statistics) and never from ``own_train``, whose answers only
        supply the item and tag tallies the deployment's students would (as in the service).
        """
        import torch

        if not sources:
            raise ValueError("leave-one-out needs at least one other dataset to train on")
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            self.weights = train(list(sources), self.config, seed=seed, progress=self.progress)
        finally:
            torch.set_num_threads(threads)
        self._net = build_net(self.weights)
        self.set_tallies(own_train)

    def set_tallies(self, logs: Sequence[LearnerLog]) -> None:
        """Take the item and tag answer tallies from ``logs`` (the weights stay)."""
        extra = () if self.weights is None else self.weights.config.get("extra_features", ())
        self._stats = AnswerStats.from_logs(logs, effects=needs_effects(tuple(extra)))

    def predict(self, learner: LearnerLog) -> FloatArray:
        """P(correct) of every attempt of ``learner`` from its earlier attempts only."""
        if self.weights is None or self._net is None:
            raise RuntimeError("fit() first")
        if len(learner) == 0:
            return np.zeros(0, dtype=np.float64)
        extra = tuple(self.weights.config.get("extra_features", ()))
        seq = prepare(learner, self._stats, leave_out=False, extra=extra)
        (probs,) = predict_sequences(self._net, [seq], self.weights.temperature)  # type: ignore[arg-type]
        splits = tuple(getattr(learner, "split_points", ()))
        if not splits and learner.timestamps is not None:
            # measured: refits help on the timestamped Anki logs, hurt on ASSISTments
            splits = refit_points(len(learner))
        if self.finetune is not None and splits:
            probs = self._refit_at_splits(seq, probs, tuple(splits), self.finetune)
        return probs.astype(np.float64)

    def _refit_at_splits(
        self, seq: object, probs: np.ndarray, splits: tuple[int, ...], cfg: FinetuneConfig
    ) -> np.ndarray:
        import torch

        from tutor.model.network import GUESS_INDEX, LearnerNet

        net = self._net
        assert isinstance(net, LearnerNet) and self.weights is not None
        x = torch.from_numpy(seq.x)  # type: ignore[attr-defined]
        step = torch.from_numpy(seq.step)  # type: ignore[attr-defined]
        dt = torch.from_numpy(seq.dt)  # type: ignore[attr-defined]
        y = torch.from_numpy(seq.y)  # type: ignore[attr-defined]
        with torch.no_grad():
            xm = net.mask_user(x[None])
            h, _ = net.states(xm, step[None], dt[None])
        xm, h = xm[0], h[0].detach()
        out = probs.copy()
        bounds = [*splits, len(y)]
        temp = self.weights.temperature
        for k, start in enumerate(splits):
            if start < cfg.min_answers:
                continue
            tuned = finetune_head(
                net, xm[:start], h[:start], dt[:start], y[:start], cfg, temperature=temp
            )
            stop = bounds[k + 1]
            with torch.no_grad():
                z = tuned.logits(xm[start:stop], h[start:stop], dt[start:stop]) / temp
                out[start:stop] = tuned.prob(z, xm[start:stop, GUESS_INDEX]).numpy()
        return out


def metatutor() -> MetatutorPredictor:
    """The full model (with the ability-adjusted difficulty inputs, as shipped)."""
    return MetatutorPredictor("metatutor", use_state=True, finetune=FinetuneConfig())


def metatutor_lodo() -> MetatutorPredictor:
    """The full model for leave-one-dataset-out: fitted with :meth:`fit_transfer`."""
    return MetatutorPredictor("metatutor_lodo", use_state=True, finetune=FinetuneConfig())


def metatutor_item() -> MetatutorPredictor:
    """The full model with the item-level effect inputs (:mod:`tutor.model.item_effects`)
    beside the default ones: a benchmark variant, not served."""
    cfg = TrainConfig(extra_features=(*IRT_EXTRAS, *ITEM_EFFECTS))
    return MetatutorPredictor("metatutor_item", config=cfg, finetune=FinetuneConfig())


def metatutor_transfer() -> MetatutorPredictor:
    """The full model with the item-item transfer input (:mod:`tutor.model.transfer`) beside
    the default ones: a benchmark variant, not served."""
    cfg = TrainConfig(extra_features=(*IRT_EXTRAS, TRANSFER_INPUT))
    return MetatutorPredictor("metatutor_transfer", config=cfg, finetune=FinetuneConfig())


def metatutor_transfer_lodo() -> MetatutorPredictor:
    """:func:`metatutor_transfer` for leave-one-dataset-out (fitted with :meth:`fit_transfer`:
    the pair tallies come from the deployment's own training learners)."""
    cfg = TrainConfig(extra_features=(*IRT_EXTRAS, TRANSFER_INPUT))
    return MetatutorPredictor("metatutor_transfer_lodo", config=cfg, finetune=FinetuneConfig())


def metatutor_transfer_n() -> MetatutorPredictor:
    """:func:`metatutor_transfer` with the transfer input's evidence beside it (a benchmark
    variant, not served)."""
    cfg = TrainConfig(extra_features=(*IRT_EXTRAS, TRANSFER_INPUT, TRANSFER_EVIDENCE))
    return MetatutorPredictor("metatutor_transfer_n", config=cfg, finetune=FinetuneConfig())


def metatutor_transfer_n_lodo() -> MetatutorPredictor:
    """:func:`metatutor_transfer_n` for leave-one-dataset-out (fitted with
    :meth:`fit_transfer`: the pair tallies and their evidence come from the deployment's own
    training learners)."""
    cfg = TrainConfig(extra_features=(*IRT_EXTRAS, TRANSFER_INPUT, TRANSFER_EVIDENCE))
    return MetatutorPredictor("metatutor_transfer_n_lodo", config=cfg, finetune=FinetuneConfig())


def metatutor_noadapt() -> MetatutorPredictor:
    """The ablation: user state frozen at its initial value."""
    return MetatutorPredictor("metatutor_noadapt", use_state=False)


def metatutor_noirt() -> MetatutorPredictor:
    """The full model without the ability-adjusted difficulty inputs (the default until they
    were served), for comparison."""
    cfg = TrainConfig(extra_features=())
    return MetatutorPredictor("metatutor_noirt", config=cfg, finetune=FinetuneConfig())
