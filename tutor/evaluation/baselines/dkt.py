"""Baseline: deep knowledge tracing (a GRU over item/skill-response embeddings)."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from tutor.evaluation.logs import FloatArray, LearnerLog


class _Vocab:
    """Item and skill ids seen in training; 0 stands for anything unseen."""

    def __init__(self, train: Sequence[LearnerLog]) -> None:
        self.items: dict[int, int] = {}
        self.skills: dict[int, int] = {}
        self.max_skills = 1
        for log in train:
            for i in log.items.tolist():
                self.items.setdefault(i, len(self.items) + 1)
            for tags in log.skills:
                self.max_skills = max(self.max_skills, len(tags))
                for s in tags:
                    self.skills.setdefault(s, len(self.skills) + 1)

    def encode(self, log: LearnerLog) -> tuple[np.ndarray, np.ndarray]:
        """Item indices [T] and padded skill indices [T, K] (0 = none/unseen)."""
        items = np.array([self.items.get(i, 0) for i in log.items.tolist()], dtype=np.int64)
        skills = np.zeros((len(log), self.max_skills), dtype=np.int64)
        for t, tags in enumerate(log.skills):
            for k, s in enumerate(tags[: self.max_skills]):
                skills[t, k] = self.skills.get(s, 0)
        return items, skills


def _build_net(
    n_items: int, n_skills: int, dim: int, hidden: int, use_items: bool, item_bias: bool
) -> Any:
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.item_in = nn.Embedding(2 * (n_items + 1), dim)
            self.skill_in = nn.Embedding(2 * (n_skills + 1), dim, padding_idx=0)
            self.item_q = nn.Embedding(n_items + 1, dim)
            self.resp = nn.Embedding(2, dim)
            self.skill_q = nn.Embedding(n_skills + 1, dim, padding_idx=0)
            self.gru = nn.GRU(dim, hidden, batch_first=True)
            self.h0 = nn.Parameter(torch.zeros(hidden))
            self.bias = nn.Embedding(n_items + 1, 1)
            nn.init.zeros_(self.bias.weight)
            self.out = nn.Sequential(
                nn.Linear(hidden + dim, hidden), nn.ReLU(), nn.Linear(hidden, 1)
            )

        def _skills(self, table: Any, idx: Any) -> Any:
            count = (idx > 0).sum(-1, keepdim=True).clamp(min=1)
            return table(idx).sum(-2) / count

        def forward(self, items: Any, skills: Any, correct: Any) -> Any:
            """Logits [B, T]; step t sees the answers of steps < t only."""
            c = correct.long()
            sk_resp = torch.where(skills > 0, skills * 2 + c.unsqueeze(-1), skills)
            # the outcome itself, so answers on unseen items and skills still count
            x = self.resp(c) + self._skills(self.skill_in, sk_resp)
            if use_items:
                x = x + self.item_in(items * 2 + c)
            h, _ = self.gru(x)
            start = self.h0.expand(h.shape[0], 1, h.shape[2])
            prev = torch.cat([start, h[:, :-1]], dim=1)
            q = self._skills(self.skill_q, skills)
            if use_items:
                q = q + self.item_q(items)
            logit = self.out(torch.cat([prev, q], dim=-1)).squeeze(-1)
            if item_bias:
                logit = logit + self.bias(items).squeeze(-1)
            return logit

    return Net()


class DKT:
    """GRU knowledge tracing on item and skill ids, trained on the training learners.

    Input at step ``t``: embeddings of the outcome, of (skill, correct) averaged over the
    attempt's skills and, with ``use_items``, of (item, correct). The prediction of attempt
    ``t`` combines the GRU state after attempts ``< t`` with embeddings of attempt ``t``'s
    skills (and item, with ``use_items``), plus a learned per-item bias (``item_bias``, a
    difficulty per item). Ids unseen in training share one embedding. Training cuts
    sequences into windows of ``window`` steps and runs Adam for ``epochs`` epochs (more on
    small logs, to make ``min_steps`` steps), keeping the weights with the best loss on a
    tenth of the training learners held out, stopping after ``patience`` epochs without
    improvement or once ``time_budget_s`` seconds of CPU time are spent (CPU, not wall
    clock, so a busy machine does not cut training short). Test learners are run over their
    whole sequence.
    """

    name = "dkt"

    def __init__(
        self,
        dim: int = 64,
        hidden: int = 64,
        window: int = 200,
        batch: int = 64,
        epochs: int = 3,
        min_steps: int = 200,
        patience: int = 2,
        lr: float = 5e-3,
        time_budget_s: float = 60.0,
        use_items: bool = False,
        item_bias: bool = True,
    ) -> None:
        self.use_items, self.item_bias = use_items, item_bias
        self.dim, self.hidden, self.window, self.batch = dim, hidden, window, batch
        self.epochs, self.min_steps, self.patience = epochs, min_steps, patience
        self.lr, self.time_budget_s = lr, time_budget_s
        self.vocab: _Vocab | None = None
        self.net: Any = None

    def fit(self, train: Sequence[LearnerLog], *, seed: int) -> None:
        """Train the GRU on windows of the training sequences, early-stopped on held-out ones."""
        import copy

        import torch

        torch.manual_seed(seed)
        rng = random.Random(seed)
        self.vocab = _Vocab(train)
        self.net = _build_net(
            len(self.vocab.items),
            len(self.vocab.skills),
            self.dim,
            self.hidden,
            self.use_items,
            self.item_bias,
        )
        order = list(range(len(train)))
        rng.shuffle(order)
        n_val = len(order) // 10
        fit_batches = self._batches([train[i] for i in order[n_val:]])
        val_batches = self._batches([train[i] for i in order[:n_val]])
        if not fit_batches:
            return
        opt = torch.optim.Adam(self.net.parameters(), lr=self.lr)
        loss_fn = torch.nn.BCEWithLogitsLoss(reduction="sum")
        deadline = time.process_time() + self.time_budget_s
        best = (float("inf"), copy.deepcopy(self.net.state_dict()))
        stale = 0
        epochs = max(self.epochs, -(-self.min_steps // len(fit_batches)))
        for _ in range(epochs):
            self.net.train()
            rng.shuffle(fit_batches)
            for items, skills, correct, mask in fit_batches:
                logits = self.net(items, skills, correct)
                loss = loss_fn(logits[mask], correct[mask].float()) / mask.sum()
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
                opt.step()
                if time.process_time() > deadline:
                    break
            if val_batches:
                val = self._loss(val_batches, loss_fn)
                if val < best[0]:
                    best, stale = (val, copy.deepcopy(self.net.state_dict())), 0
                else:
                    stale += 1
            if time.process_time() > deadline or stale >= self.patience:
                break
        if val_batches:
            self.net.load_state_dict(best[1])
        self.net.eval()

    def _batches(self, logs: Sequence[LearnerLog]) -> list[tuple[Any, Any, Any, Any]]:
        assert self.vocab is not None
        windows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for log in logs:
            items, skills = self.vocab.encode(log)
            for s in range(0, len(log), self.window):
                e = s + self.window
                windows.append((items[s:e], skills[s:e], log.correct[s:e]))
        # batches of similar length waste little padding
        windows.sort(key=lambda w: len(w[0]))
        return [_pad(windows[i : i + self.batch]) for i in range(0, len(windows), self.batch)]

    def _loss(self, batches: list[tuple[Any, Any, Any, Any]], loss_fn: Any) -> float:
        import torch

        self.net.eval()
        total = count = 0.0
        with torch.no_grad():
            for items, skills, correct, mask in batches:
                logits = self.net(items, skills, correct)
                total += float(loss_fn(logits[mask], correct[mask].float()))
                count += float(mask.sum())
        return total / max(count, 1.0)

    def predict(self, learner: LearnerLog) -> FloatArray:
        """Run the GRU over the learner's whole sequence."""
        import torch

        if self.vocab is None or self.net is None:
            raise RuntimeError("fit() first")
        if len(learner) == 0:
            return np.zeros(0)
        items, skills = self.vocab.encode(learner)
        with torch.no_grad():
            logits = self.net(
                torch.from_numpy(items)[None],
                torch.from_numpy(skills)[None],
                torch.from_numpy(learner.correct.astype(np.int64))[None],
            )[0]
        return torch.sigmoid(logits.double()).numpy()


def _pad(group: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[Any, Any, Any, Any]:
    import torch

    length = max(len(w[0]) for w in group)
    k = group[0][1].shape[1]
    items = np.zeros((len(group), length), dtype=np.int64)
    skills = np.zeros((len(group), length, k), dtype=np.int64)
    correct = np.zeros((len(group), length), dtype=np.int64)
    mask = np.zeros((len(group), length), dtype=bool)
    for b, (it, sk, co) in enumerate(group):
        n = len(it)
        items[b, :n], skills[b, :n], correct[b, :n], mask[b, :n] = it, sk, co, True
    return (
        torch.from_numpy(items),
        torch.from_numpy(skills),
        torch.from_numpy(correct),
        torch.from_numpy(mask),
    )
