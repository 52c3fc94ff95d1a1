"""The learner network: per-item features + an amortised recurrent user state + forgetting.

``P(correct) = floor + (1 - floor) * sigmoid(z)`` with

* ``z = base(x, h) - decay(x, h) * log1p(dt / stability(x, h))``: ``x`` are the content-agnostic
  features of (learner, item) from :mod:`tutor.model.features`, ``h`` the learner's GRU state
  after their previous answers, ``dt`` days since the learner last saw the item. ``decay`` and
  ``stability`` are positive, so recall falls monotonically with time without review (a power
  forgetting curve whose stability is learned per learner and item); the term is 0 when the
  time is unknown.
* ``floor = guess * sigmoid(q)``: a learned share of the ``1/n_options`` chance of guessing a
  multiple-choice question.

The GRU is trained across many learners so its state adapts to a new learner from a few answers
(the meta-learned part). With ``use_state=False`` (the no-adaptation ablation) the state stays at
its learned initial value and the user-level features are zeroed.

torch is imported here; import this module only where torch is wanted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as nnf

from tutor.model.ability import USER_EXTRA_FEATURES
from tutor.model.features import FEATURE_NAMES, USER_FEATURES

STEP_INPUTS = 2  # correct, scaled grade (see history.learner_rows)
GUESS_INDEX = FEATURE_NAMES.index("guess")
P_EPS = 1e-5


@dataclass(frozen=True, slots=True)
class NetConfig:
    """Sizes and switches of :class:`LearnerNet`."""

    n_features: int = len(FEATURE_NAMES)
    state_size: int = 48
    hidden: int = 32
    use_state: bool = True
    #: optional inputs appended after FEATURE_NAMES (``n_features`` counts them); the shipped
    #: weights have none
    extra_features: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra_features", tuple(self.extra_features))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (``extra_features`` only when there are any, so the
        configuration of weights without them is unchanged)."""
        out = asdict(self)
        if not self.extra_features:
            del out["extra_features"]
        else:
            out["extra_features"] = list(self.extra_features)
        return out


class LearnerNet(nn.Module):
    """See the module docstring."""

    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        s = cfg.state_size
        self.inp = nn.Linear(cfg.n_features + STEP_INPUTS + 2, s)
        self.gru = nn.GRU(s, s, batch_first=True)
        self.h0 = nn.Parameter(torch.zeros(s))
        self.fx = nn.Linear(cfg.n_features, cfg.hidden)
        self.fh = nn.Linear(s, cfg.hidden, bias=False)
        self.mlp = nn.Sequential(
            nn.SiLU(), nn.Linear(cfg.hidden, cfg.hidden), nn.SiLU(), nn.Linear(cfg.hidden, 3)
        )
        self.floor_q = nn.Parameter(torch.zeros(()))
        # start with a slow, mild forgetting term
        with torch.no_grad():
            last = self.mlp[-1]
            assert isinstance(last, nn.Linear)
            last.bias.copy_(torch.tensor([0.0, 1.0, -1.0]))

    def mask_user(self, x: torch.Tensor) -> torch.Tensor:
        """Zero the user-level features when the user state is disabled."""
        if self.cfg.use_state:
            return x
        return self.zero_user(x)

    def zero_user(self, x: torch.Tensor) -> torch.Tensor:
        """A copy of ``x`` with the user-level features (and user-level extras) zeroed."""
        x = x.clone()
        x[..., USER_FEATURES] = 0.0
        base = len(FEATURE_NAMES)
        for j, name in enumerate(self.cfg.extra_features):
            if name in USER_EXTRA_FEATURES:
                x[..., base + j] = 0.0
        return x

    def step_input(self, x: torch.Tensor, step: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:
        """GRU input for answered attempts: features, outcome, grade and log elapsed days."""
        known = (dt >= 0).to(x.dtype)
        log_dt = torch.log1p(dt.clamp(min=0.0)) * known
        u = torch.cat([x, step, log_dt.unsqueeze(-1), known.unsqueeze(-1)], dim=-1)
        return torch.tanh(self.inp(u))

    def initial_state(self, batch: int) -> torch.Tensor:
        """The learned state of a learner with no answers, ``[1, batch, state]``."""
        return self.h0.view(1, 1, -1).expand(1, batch, -1).contiguous()

    def run(
        self,
        x: torch.Tensor,
        step: torch.Tensor,
        dt: torch.Tensor,
        h_init: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits of every attempt of a batch of sequences.

        Args:
            x: features ``[B, T, F]``; step: ``[B, T, 2]``; dt: ``[B, T]`` (-1 = unknown).
            h_init: state before the first attempt ``[1, B, S]`` (default: initial state).

        Returns:
            ``(z, h_last)``: logits ``[B, T]`` where attempt ``t`` used answers ``< t`` only,
            and the state after the last attempt.
        """
        x = self.mask_user(x)
        before, h_last = self.states(x, step, dt, h_init)
        return self.logits(x, before, dt), h_last

    def states(
        self,
        x: torch.Tensor,
        step: torch.Tensor,
        dt: torch.Tensor,
        h_init: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """User state before each attempt ``[B, T, S]`` and after the last one ``[1, B, S]``
        (``x`` already passed through :meth:`mask_user`)."""
        h = self.initial_state(x.shape[0]) if h_init is None else h_init
        if not self.cfg.use_state:
            return h.transpose(0, 1).expand(-1, x.shape[1], -1), h
        out, h_last = self.gru(self.step_input(x, step, dt), h)
        return torch.cat([h.transpose(0, 1), out[:, :-1]], dim=1), h_last

    def logits(self, x: torch.Tensor, h: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:
        """``z`` for features ``x [..., F]``, states ``h [..., S]`` and elapsed days ``dt``."""
        out = self.mlp(self.fx(x) + self.fh(h))
        return self.combine(out, dt)

    @staticmethod
    def combine(out: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:
        """Apply the forgetting term to the head's outputs ``[..., 3]``."""
        base, log_s, dec = out[..., 0], out[..., 1], out[..., 2]
        known = (dt >= 0).to(out.dtype)
        ratio = dt.clamp(min=0.0) * torch.exp(-log_s.clamp(-12.0, 12.0))
        return base - nnf.softplus(dec) * torch.log1p(ratio) * known

    def prob(self, z: torch.Tensor, guess: torch.Tensor) -> torch.Tensor:
        """P(correct) from logits and the guess rate ``1/n_options`` (0 for free recall)."""
        floor = guess * torch.sigmoid(self.floor_q)
        p = floor + (1.0 - floor) * torch.sigmoid(z)
        return p.clamp(P_EPS, 1.0 - P_EPS)
