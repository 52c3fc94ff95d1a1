"""Baseline: logistic regression on count features ("Best-LR", Gervet et al. 2020)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tutor.evaluation.baselines._common import mean_correct, sigmoid
from tutor.evaluation.logs import FloatArray, LearnerLog


@dataclass
class _Features:
    """Sparse design of one or more learners (row = attempt)."""

    item: npt.NDArray[np.int64]  # vocabulary index, 0 = not seen in training
    dense: FloatArray  # [n, 4]: log1p total wins/fails, log1p item wins/fails
    sk_row: npt.NDArray[np.int64]  # one entry per (attempt, skill)
    sk_idx: npt.NDArray[np.int64]
    sk_win: FloatArray  # log1p earlier wins / fails on that skill
    sk_fail: FloatArray


def _features(
    logs: Sequence[LearnerLog], item_vocab: dict[int, int], skill_vocab: dict[int, int]
) -> _Features:
    items: list[int] = []
    dense: list[tuple[float, float, float, float]] = []
    sk_row: list[int] = []
    sk_idx: list[int] = []
    sk_win: list[float] = []
    sk_fail: list[float] = []
    log1p = np.log1p
    row = 0
    for log in logs:
        wins = fails = 0
        item_counts: dict[int, list[int]] = {}
        skill_counts: dict[int, list[int]] = {}
        for item, skills, ok in zip(
            log.items.tolist(), log.skills, log.correct.tolist(), strict=True
        ):
            items.append(item_vocab.get(item, 0))
            ic = item_counts.setdefault(item, [0, 0])
            dense.append((log1p(wins), log1p(fails), log1p(ic[0]), log1p(ic[1])))
            for s in skills:
                sc = skill_counts.setdefault(s, [0, 0])
                sk_row.append(row)
                sk_idx.append(skill_vocab.get(s, 0))
                sk_win.append(log1p(sc[0]))
                sk_fail.append(log1p(sc[1]))
                sc[0 if ok else 1] += 1
            ic[0 if ok else 1] += 1
            if ok:
                wins += 1
            else:
                fails += 1
            row += 1
    return _Features(
        np.array(items, dtype=np.int64),
        np.array(dense, dtype=np.float64).reshape(-1, 4),
        np.array(sk_row, dtype=np.int64),
        np.array(sk_idx, dtype=np.int64),
        np.array(sk_win, dtype=np.float64),
        np.array(sk_fail, dtype=np.float64),
    )


class BestLR:
    """Logistic regression on item and skill indicators and counts of earlier answers.

    Features of attempt ``t`` (from the learner's attempts before ``t`` only): a weight per
    item (items unseen in training share one weight), per skill of the attempt an
    indicator plus skill-specific weights on log(1 + earlier wins) and log(1 + earlier
    fails) on that skill, and shared weights on log(1 + total wins / fails) and on
    log(1 + earlier wins / fails on this same item). Fitted by full-batch Adam with a small
    L2 penalty on the training learners (``l2 / 2 * |w|^2`` on the summed log loss, like
    scikit-learn's ``C = 1 / l2``, so it matters on small logs only).
    """

    name = "best_lr"

    def __init__(self, steps: int = 250, lr: float = 0.1, l2: float = 1.0) -> None:
        self.steps = steps
        self.lr = lr
        self.l2 = l2
        self.item_vocab: dict[int, int] = {}
        self.skill_vocab: dict[int, int] = {}
        self.bias = 0.0
        self.w_item = np.zeros(1)
        self.w_skill = np.zeros((1, 3))
        self.w_dense = np.zeros(4)

    def fit(self, train: Sequence[LearnerLog], *, seed: int) -> None:
        """Build the design matrix of the training learners and fit the weights."""
        import torch

        torch.manual_seed(seed)
        self.item_vocab = {}
        self.skill_vocab = {}
        for log in train:
            for i in log.items.tolist():
                self.item_vocab.setdefault(i, len(self.item_vocab) + 1)
            for tags in log.skills:
                for s in tags:
                    self.skill_vocab.setdefault(s, len(self.skill_vocab) + 1)
        f = _features(train, self.item_vocab, self.skill_vocab)
        y = torch.tensor(np.concatenate([log.correct for log in train]), dtype=torch.float32)
        n_rows = len(y)
        item = torch.tensor(f.item)
        dense = torch.tensor(f.dense, dtype=torch.float32)
        sk_row, sk_idx = torch.tensor(f.sk_row), torch.tensor(f.sk_idx)
        sk_x = torch.stack(
            [
                torch.ones(len(f.sk_idx)),
                torch.tensor(f.sk_win, dtype=torch.float32),
                torch.tensor(f.sk_fail, dtype=torch.float32),
            ],
            dim=1,
        )
        m = mean_correct(train)
        bias = torch.tensor([float(np.log(m / (1 - m)))], requires_grad=True)
        w_item = torch.zeros(len(self.item_vocab) + 1, requires_grad=True)
        w_skill = torch.zeros(len(self.skill_vocab) + 1, 3, requires_grad=True)
        w_dense = torch.zeros(4, requires_grad=True)
        params = [bias, w_item, w_skill, w_dense]
        opt = torch.optim.Adam(params, lr=self.lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.steps)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        for _ in range(self.steps):
            opt.zero_grad()
            z = bias + w_item[item] + dense @ w_dense
            sk = (w_skill[sk_idx] * sk_x).sum(dim=1)
            z = z.index_add(0, sk_row, sk)
            penalty = w_item.square().sum() + w_skill.square().sum() + w_dense.square().sum()
            loss = loss_fn(z, y) + 0.5 * self.l2 / max(n_rows, 1) * penalty
            loss.backward()
            opt.step()
            sched.step()
        self.bias = float(bias.detach()[0])
        self.w_item = w_item.detach().numpy().astype(np.float64)
        self.w_skill = w_skill.detach().numpy().astype(np.float64)
        self.w_dense = w_dense.detach().numpy().astype(np.float64)

    def predict(self, learner: LearnerLog) -> FloatArray:
        """Score every attempt from the counts of the attempts before it."""
        f = _features([learner], self.item_vocab, self.skill_vocab)
        z = self.bias + self.w_item[f.item] + f.dense @ self.w_dense
        w = self.w_skill[f.sk_idx]
        sk = w[:, 0] + w[:, 1] * f.sk_win + w[:, 2] * f.sk_fail
        np.add.at(z, f.sk_row, sk)
        return sigmoid(z)
