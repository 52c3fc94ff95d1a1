"""Training of the learner network on learner logs (seeded, with a progress bar).

``train(datasets, config, seed=...)`` fits one network on the training learners of one or more
datasets (each keeps its own item statistics, so a mix of datasets works) and returns
:class:`TrainedWeights`. ``metatutor train`` (:mod:`tutor.evaluation.shipped_weights`) builds
the shipped weights with it from the shared data.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from tutor.model.ability import IRT_EXTRAS
from tutor.model.extras import extra_columns
from tutor.model.features import build_features
from tutor.model.history import AnswerStats, learner_rows
from tutor.model.item_effects import ITEM_EFFECTS
from tutor.model.learner_log import LearnerLog
from tutor.model.transfer import TRANSFER_EVIDENCE, TRANSFER_INPUT
from tutor.model.weights import WEIGHTS_VERSION, TrainedWeights

if TYPE_CHECKING:
    import torch

    from tutor.model.network import LearnerNet

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Optimisation settings."""

    epochs: int = 6
    batch_size: int = 32
    chunk: int = 128
    lr: float = 3e-3
    weight_decay: float = 1e-5
    val_fraction: float = 0.1
    max_minutes: float = 25.0
    state_size: int = 48
    hidden: int = 32  # head width; scoring 5,000 candidates costs ~ hidden * (features + hidden)
    use_state: bool = True
    max_tokens_per_learner: int = 0  # 0 = whole sequences; else keep the first n attempts
    early_weight: float = 3.0  # loss weight of attempt t is 1 + early_weight / (1 + t)
    #: small logs: more epochs (up to max_epochs) until this many attempts are seen, in
    #: batches of a tenth of the learners (at least 8), else the network is undertrained
    min_tokens: int = 300_000
    max_epochs: int = 40
    #: weight of an auxiliary loss on the no-adaptation input (initial state, user features
    #: zeroed): the head also learns the population prediction a first attempt gets
    aux_noadapt: float = 0.5
    #: optional inputs from :data:`tutor.model.ability.EXTRA_FEATURES` appended after the
    #: standard ones; the default is the ability-adjusted difficulties the service computes
    extra_features: tuple[str, ...] = IRT_EXTRAS


@dataclass(slots=True)
class Sequence_:
    """One learner's prepared tensors (numpy)."""

    x: F32
    step: F32
    dt: F32
    y: F32

    def __len__(self) -> int:
        return int(self.y.shape[0])


def prepare(
    log: LearnerLog, stats: AnswerStats, *, leave_out: bool, extra: Sequence[str] = ()
) -> Sequence_:
    """Features of every attempt of ``log`` against ``stats`` (then the ``extra`` inputs)."""
    raw, step = learner_rows(log, stats, leave_out=leave_out)
    x, dt = build_features(raw)
    if extra:
        more = extra_columns(log, stats, extra, leave_out=leave_out, raw=raw)
        x = np.concatenate([x, more], axis=1)
    return Sequence_(x=x, step=step, dt=dt, y=log.correct.astype(np.float32))


def needs_effects(extra: Sequence[str]) -> bool:
    """Whether the ``extra`` inputs need the item-level effect sums (or the pair tallies)."""
    return bool(set(extra) & {*ITEM_EFFECTS, TRANSFER_INPUT, TRANSFER_EVIDENCE})


def _make_batches(
    seqs: list[Sequence_], batch_size: int, rng: np.random.Generator
) -> list[list[int]]:
    idx = sorted(range(len(seqs)), key=lambda i: (len(seqs[i]), i))
    batches = [idx[i : i + batch_size] for i in range(0, len(idx), batch_size)]
    rng.shuffle(batches)
    return batches


def _epoch_steps(seqs: list[Sequence_], batch_size: int, chunk: int) -> int:
    """Optimiser steps of one epoch (one per chunk of a batch's longest sequence)."""
    return sum(
        math.ceil(len(seqs[b[-1]]) / chunk)
        for b in _make_batches(seqs, batch_size, np.random.default_rng(0))
    )


def _pad(seqs: list[Sequence_], start: int, stop: int) -> tuple[torch.Tensor, ...]:
    import torch

    n_feat = seqs[0].x.shape[1]
    b = len(seqs)
    t = stop - start
    x = np.zeros((b, t, n_feat), dtype=np.float32)
    step = np.zeros((b, t, 2), dtype=np.float32)
    dt = np.full((b, t), -1.0, dtype=np.float32)
    y = np.zeros((b, t), dtype=np.float32)
    m = np.zeros((b, t), dtype=np.float32)
    for i, s in enumerate(seqs):
        n = max(0, min(len(s), stop) - start)
        if n:
            x[i, :n] = s.x[start : start + n]
            step[i, :n] = s.step[start : start + n]
            dt[i, :n] = s.dt[start : start + n]
            y[i, :n] = s.y[start : start + n]
            m[i, :n] = 1.0
    return tuple(torch.from_numpy(a) for a in (x, step, dt, y, m))


def _nll(p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    import torch

    return -(y * torch.log(p) + (1 - y) * torch.log1p(-p))


def predict_sequences(
    net: LearnerNet, seqs: Sequence[Sequence_], temperature: float = 1.0, chunk: int = 512
) -> list[F32]:
    """P(correct) for every attempt of every sequence (attempt t sees answers < t only)."""
    import torch

    from tutor.model.network import GUESS_INDEX

    out: list[F32] = []
    net.eval()
    with torch.no_grad():
        for s in seqs:
            h = None
            parts = []
            for start in range(0, max(len(s), 1), chunk):
                x, step, dt, _, _ = _pad([s], start, min(len(s), start + chunk))
                z, h = net.run(x, step, dt, h)
                parts.append(net.prob(z / temperature, x[..., GUESS_INDEX])[0].numpy())
            out.append(
                np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
            )
    return out


def fit_temperature(net: LearnerNet, seqs: Sequence[Sequence_]) -> float:
    """Temperature minimising log loss on ``seqs`` (a coarse-to-fine grid search)."""
    if not seqs:
        return 1.0
    import torch

    from tutor.model.network import GUESS_INDEX

    zs, gs, ys = [], [], []
    net.eval()
    with torch.no_grad():
        for s in seqs:
            x, step, dt, y, _ = _pad([s], 0, len(s))
            z, _ = net.run(x, step, dt)
            zs.append(z[0])
            gs.append(x[0, :, GUESS_INDEX])
            ys.append(y[0])
    z, g, y = torch.cat(zs), torch.cat(gs), torch.cat(ys)

    def loss(temp: float) -> float:
        with torch.no_grad():
            return float(_nll(net.prob(z / temp, g), y).mean())

    best = min(np.linspace(0.5, 2.0, 31).tolist(), key=loss)
    return float(min(np.linspace(best - 0.05, best + 0.05, 11).tolist(), key=loss))


def train(
    datasets: Sequence[tuple[str, Sequence[LearnerLog]]],
    config: TrainConfig | None = None,
    *,
    seed: int = 0,
    progress: bool = True,
    init: TrainedWeights | None = None,
) -> TrainedWeights:
    """Train one network on the learners of ``datasets`` (``(name, train_logs)`` pairs).

    With ``init`` the network starts from those weights (fine-tuning; their architecture and
    inputs win over ``config``'s) instead of from a seeded random start.

    Each dataset's item and tag statistics come from its own learners, with each learner's own
    answers left out of them, as for a learner never seen. A ``val_fraction`` of each dataset's
    learners is held out for early stopping and temperature calibration. Deterministic for a
    given seed (on one machine and thread count).
    """
    import torch
    from tqdm import tqdm

    from tutor.model.network import GUESS_INDEX, LearnerNet, NetConfig

    cfg = config or TrainConfig()
    if init is not None:
        cfg = replace(
            cfg,
            extra_features=tuple(init.config.get("extra_features", ())),
            use_state=bool(init.config.get("use_state", True)),
        )
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    train_seqs: list[Sequence_] = []
    val_seqs: list[Sequence_] = []
    prior_rates: dict[str, float] = {}
    for name, logs in datasets:
        logs = [log for log in logs if len(log) > 0]
        if cfg.max_tokens_per_learner:
            logs = [_head(log, cfg.max_tokens_per_learner) for log in logs]
        stats = AnswerStats.from_logs(logs, effects=needs_effects(cfg.extra_features))
        prior_rates[name] = stats.prior_rate
        perm = rng.permutation(len(logs))
        n_val = round(len(logs) * cfg.val_fraction) if len(logs) >= 10 else 0
        val_ids = set(perm[:n_val].tolist())
        for i, log in enumerate(
            tqdm(logs, desc=f"features {name}", disable=not progress, leave=False)
        ):
            seq = prepare(log, stats, leave_out=True, extra=cfg.extra_features)
            (val_seqs if i in val_ids else train_seqs).append(seq)
    if not train_seqs:
        raise ValueError("no training learners")
    net_cfg = NetConfig(state_size=cfg.state_size, hidden=cfg.hidden, use_state=cfg.use_state)
    if cfg.extra_features:
        net_cfg = replace(
            net_cfg,
            n_features=net_cfg.n_features + len(cfg.extra_features),
            extra_features=tuple(cfg.extra_features),
        )
    if init is not None:
        net_cfg = NetConfig(**init.config)
    net = LearnerNet(net_cfg)
    if init is not None:
        net.load_state_dict(init.state_dict)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    n_tokens = sum(len(s) for s in train_seqs)
    batch_size, epochs = cfg.batch_size, cfg.epochs
    if epochs * n_tokens < cfg.min_tokens:
        batch_size = min(batch_size, max(8, len(train_seqs) // 10))
        epochs = min(cfg.max_epochs, math.ceil(cfg.min_tokens / n_tokens))
    total_steps = epochs * _epoch_steps(train_seqs, batch_size, cfg.chunk)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=cfg.lr, total_steps=max(total_steps, 1), pct_start=0.1
    )
    best_state: dict[str, Any] | None = None
    best_val = math.inf
    history: list[dict[str, float]] = []
    started = time.monotonic()
    bar = tqdm(total=total_steps, desc="train", disable=not progress, unit="step")
    done_steps = 0
    for epoch in range(epochs):
        net.train()
        tot = cnt = 0.0
        for batch in _make_batches(train_seqs, batch_size, rng):
            seqs = [train_seqs[i] for i in batch]
            longest = max(len(s) for s in seqs)
            h = None
            for start in range(0, longest, cfg.chunk):
                x, step, dt, y, m = _pad(seqs, start, min(longest, start + cfg.chunk))
                if cfg.early_weight:
                    pos = torch.arange(start, start + m.shape[1], dtype=torch.float32)
                    m = m * (1.0 + cfg.early_weight / (1.0 + pos))
                z, h = net.run(x, step, dt, h)
                h = h.detach()
                p = net.prob(z, x[..., GUESS_INDEX])
                main = (_nll(p, y) * m).sum() / m.sum().clamp(min=1.0)
                loss = main
                if cfg.aux_noadapt and cfg.use_state:
                    loss = main + cfg.aux_noadapt * _aux_loss(net, x, dt, y, m)
                opt.zero_grad()
                loss.backward()  # type: ignore[no-untyped-call]
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                opt.step()
                if done_steps < total_steps:
                    sched.step()
                done_steps += 1
                tot += float(main.detach()) * float(m.sum())
                cnt += float(m.sum())
                bar.update(1)
            if time.monotonic() - started > cfg.max_minutes * 60:
                break
        val = _val_loss(net, val_seqs) if val_seqs else tot / max(cnt, 1.0)
        history.append(
            {"epoch": epoch + 1, "train_logloss": tot / max(cnt, 1.0), "val_logloss": val}
        )
        bar.set_postfix(train=f"{tot / max(cnt, 1.0):.4f}", val=f"{val:.4f}")
        if val < best_val:
            best_val = val
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        if time.monotonic() - started > cfg.max_minutes * 60:
            break
    bar.close()
    if best_state is not None:
        net.load_state_dict(best_state)
    temperature = fit_temperature(net, val_seqs) if val_seqs else 1.0
    return TrainedWeights(
        config=net_cfg.to_dict(),
        state_dict={k: v.detach().clone() for k, v in net.state_dict().items()},
        temperature=temperature,
        prior_rate=float(np.mean(list(prior_rates.values()))),
        meta={
            "version": WEIGHTS_VERSION,
            "seed": seed,
            "datasets": [name for name, _ in datasets],
            "fine_tuned_from": None if init is None else init.meta.get("datasets"),
            "train_config": asdict(cfg),
            "n_train_attempts": n_tokens,
            "history": history,
            "best_val_logloss": best_val,
            "minutes": (time.monotonic() - started) / 60,
        },
    )


def _aux_loss(
    net: LearnerNet, x: torch.Tensor, dt: torch.Tensor, y: torch.Tensor, m: torch.Tensor
) -> torch.Tensor:
    """Loss of the head given the initial state and no user-level features."""
    from tutor.model.network import GUESS_INDEX

    x0 = net.zero_user(x)
    h0 = net.initial_state(x.shape[0]).transpose(0, 1).expand(-1, x.shape[1], -1)
    p0 = net.prob(net.logits(x0, h0, dt), x[..., GUESS_INDEX])
    return (_nll(p0, y) * m).sum() / m.sum().clamp(min=1.0)


def _head(log: LearnerLog, n: int) -> LearnerLog:
    if len(log) <= n:
        return log
    sl = slice(0, n)
    return replace(
        log,
        items=log.items[sl],
        skills=log.skills[sl],
        correct=log.correct[sl],
        timestamps=None if log.timestamps is None else log.timestamps[sl],
        grades=None if log.grades is None else log.grades[sl],
        durations_ms=None if log.durations_ms is None else log.durations_ms[sl],
        n_options=None if log.n_options is None else log.n_options[sl],
        self_graded=None if log.self_graded is None else log.self_graded[sl],
    )


def _val_loss(net: LearnerNet, seqs: Sequence[Sequence_]) -> float:
    probs = predict_sequences(net, seqs)
    tot = cnt = 0.0
    for s, p in zip(seqs, probs, strict=True):
        pp = np.clip(p.astype(np.float64), 1e-6, 1 - 1e-6)
        tot += float(-(s.y * np.log(pp) + (1 - s.y) * np.log1p(-pp)).sum())
        cnt += len(s)
    return tot / max(cnt, 1.0)


def build_net(weights: TrainedWeights) -> LearnerNet:
    """Instantiate the network stored in ``weights``."""
    from tutor.model.network import LearnerNet, NetConfig

    net = LearnerNet(NetConfig(**weights.config))
    net.load_state_dict(weights.state_dict)
    net.eval()
    return net
