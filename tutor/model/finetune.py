"""Per-learner fine-tuning of the network's head on the learner's own earlier answers.

Used where a learner has a long history (the per-user time split of the Anki benchmark, or a
long-time user of the tutor): the recurrent state is computed once, then the head (the layers
that map features and state to a prediction) takes a few full-batch steps on the learner's
answers, pulled toward the shared weights by an L2 penalty (a MAP estimate around the
population model). The shared network is not modified.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from tutor.model.network import LearnerNet


@dataclass(frozen=True, slots=True)
class FinetuneConfig:
    """Steps, learning rate and the pull toward the shared weights."""

    steps: int = 40
    lr: float = 5e-3
    l2: float = 1.0
    min_answers: int = 50


def finetune_head(
    net: LearnerNet,
    x: torch.Tensor,
    h: torch.Tensor,
    dt: torch.Tensor,
    y: torch.Tensor,
    cfg: FinetuneConfig,
    *,
    temperature: float = 1.0,
) -> LearnerNet:
    """A copy of ``net`` whose head is fitted to one learner's answers.

    Args:
        net: the shared network.
        x, h, dt, y: features ``[T, F]`` (user-masked), states before each answer ``[T, S]``,
            elapsed days ``[T]`` and outcomes ``[T]`` of the learner's earlier answers.
        cfg: optimisation settings.
        temperature: the shared calibration, folded into the head's start.
    """
    import torch

    from tutor.model.network import GUESS_INDEX

    tuned = copy.deepcopy(net)
    params = [*tuned.fx.parameters(), *tuned.fh.parameters(), *tuned.mlp.parameters()]
    anchor = [p.detach().clone() for p in params]
    for p in tuned.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.Adam(params, lr=cfg.lr)
    n = float(y.shape[0])
    guess = x[:, GUESS_INDEX]
    for _ in range(cfg.steps):
        z = tuned.logits(x, h, dt) / temperature
        prob = tuned.prob(z, guess)
        nll = -(y * torch.log(prob) + (1 - y) * torch.log1p(-prob)).sum()
        pull = sum(((a - b) ** 2).sum() for a, b in zip(params, anchor, strict=True))
        loss = (nll + cfg.l2 * pull) / n
        opt.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
    for p in tuned.parameters():
        p.requires_grad_(False)
    tuned.eval()
    return tuned
