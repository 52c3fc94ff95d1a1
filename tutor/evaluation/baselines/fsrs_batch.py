"""FSRS-6 memory states for many cards at once, and a batched fit of its parameters.

The ``fsrs`` package updates one card at a time in Python (its optimizer spends about
11 ms per review here: 55 s for a log of 4,872 reviews), far too slow for the benchmark's
time budget. This module evaluates the package's own equations (``Scheduler.review_card``:
initial, short-term, recall and forget stability, difficulty with mean reversion,
clamping; retrievability with whole elapsed days) over all cards of a learner in parallel
with torch, and fits the 21 parameters the way ``fsrs.Optimizer`` does: the package's
defaults and bounds, Adam with learning rate 0.04, 5 epochs, cosine annealing, mini-batches
of about 512 reviews (of cards of similar length, for speed; the package cuts its shuffled
stream of cards every 512 reviews), binary cross-entropy on reviews one or more whole days after the
previous one, the first 64 reviews of each card, the defaults when fewer than 512 such
reviews exist, and the epoch with the lowest loss on all reviews. A test checks the states
against ``fsrs.Scheduler``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DAY_S = 86_400.0
MAX_SEQ_LEN = 64
MINI_BATCH = 512
EPOCHS = 5
LEARNING_RATE = 4e-2


def default_parameters() -> list[float]:
    """FSRS-6 default parameters of the installed ``fsrs`` package."""
    from fsrs.scheduler import DEFAULT_PARAMETERS

    return list(DEFAULT_PARAMETERS)


@dataclass(frozen=True, slots=True)
class Cards:
    """A learner's reviews regrouped per card, padded to ``[n_cards, length]``."""

    rating: np.ndarray  # int64, 0 = padding
    elapsed_s: np.ndarray  # seconds since the card's previous review (0 at the first)
    index: np.ndarray  # attempt index in the learner's sequence (-1 = padding)

    @property
    def mask(self) -> np.ndarray:
        return np.asarray(self.index >= 0)


def group_cards(
    items: np.ndarray, grades: np.ndarray, timestamps: np.ndarray, upto: int | None = None
) -> Cards:
    """Regroup attempts ``0..upto-1`` by item, in time order within each card."""
    n = len(items) if upto is None else upto
    positions: dict[int, list[int]] = {}
    for t, item in enumerate(items[:n].tolist()):
        positions.setdefault(item, []).append(t)
    length = max((len(v) for v in positions.values()), default=1)
    rating = np.zeros((len(positions), length), dtype=np.int64)
    elapsed = np.zeros((len(positions), length), dtype=np.float64)
    index = np.full((len(positions), length), -1, dtype=np.int64)
    for c, pos in enumerate(positions.values()):
        p = np.array(pos)
        rating[c, : len(p)] = grades[p]
        index[c, : len(p)] = p
        elapsed[c, 1 : len(p)] = np.diff(timestamps[p])
    return Cards(rating, elapsed, index)


def forward(w: Any, rating: Any, elapsed_s: Any, *, fractional_same_day: bool) -> Any:
    """Retrievability before every review (column 0 = first review: NaN).

    Args:
        w: The 21 parameters (torch float64 tensor, may require grad).
        rating: ``[C, L]`` ratings 1-4 (0 = padding).
        elapsed_s: ``[C, L]`` seconds since the card's previous review.
        fractional_same_day: Reviews less than a whole day after the previous one get the
            forgetting curve at the fractional elapsed time (the package reports 1.0 there).
    """
    import torch

    n_cards, length = rating.shape
    decay = -w[20]
    factor = 0.9 ** (1.0 / decay) - 1.0
    days_int = torch.floor(elapsed_s / DAY_S)
    days_frac = elapsed_s / DAY_S
    r0 = rating[:, 0].clamp(min=1)
    s = w[(r0 - 1)].clamp(min=0.001)
    d = (w[4] - torch.exp(w[5] * (r0 - 1)) + 1).clamp(1.0, 10.0)
    d_easy = w[4] - torch.exp(w[5] * 3) + 1
    out = [torch.full((n_cards,), float("nan"), dtype=torch.float64)]
    for col in range(1, length):
        r = rating[:, col]
        valid = r > 0
        rf = r.clamp(min=1).to(torch.float64)
        t_int = days_int[:, col]
        short = t_int < 1
        ret_int = (1 + factor * t_int / s) ** decay
        if fractional_same_day:
            ret_pred = torch.where(short, (1 + factor * days_frac[:, col] / s) ** decay, ret_int)
        else:
            ret_pred = ret_int
        out.append(ret_pred)
        # short-term stability
        inc = torch.exp(w[17] * (rf - 3 + w[18])) * s ** (-w[19])
        inc = torch.where(rf >= 2, inc.clamp(min=1.0), inc)
        s_short = s * inc
        # long-term recall / forget stability
        hard = torch.where(rf == 2, w[15], torch.ones_like(rf))
        easy = torch.where(rf == 4, w[16], torch.ones_like(rf))
        s_recall = s * (
            1
            + torch.exp(w[8])
            * (11 - d)
            * s ** (-w[9])
            * (torch.exp((1 - ret_int) * w[10]) - 1)
            * hard
            * easy
        )
        s_forget = torch.minimum(
            w[11] * d ** (-w[12]) * ((s + 1) ** w[13] - 1) * torch.exp((1 - ret_int) * w[14]),
            s / torch.exp(w[17] * w[18]),
        )
        s_long = torch.where(rf == 1, s_forget, s_recall)
        s_new = torch.where(short, s_short, s_long).clamp(min=0.001)
        delta = -w[6] * (rf - 3)
        d_new = (w[7] * d_easy + (1 - w[7]) * (d + (10 - d) * delta / 9)).clamp(1.0, 10.0)
        s = torch.where(valid, s_new, s)
        d = torch.where(valid, d_new, d)
    return torch.stack(out, dim=1)


def predict_cards(params: Sequence[float], cards: Cards) -> np.ndarray:
    """Retrievability before every review of ``cards`` (NaN at first reviews and padding)."""
    import torch

    w = torch.tensor(list(params), dtype=torch.float64)
    with torch.no_grad():
        ret = forward(
            w,
            torch.from_numpy(cards.rating),
            torch.from_numpy(cards.elapsed_s),
            fractional_same_day=True,
        )
    out = ret.numpy().copy()
    out[~cards.mask] = np.nan
    return np.asarray(out)


def fit_parameters(cards: Cards, *, seed: int = 42) -> list[float]:
    """Fit FSRS-6 parameters to one learner's reviews (see the module docstring)."""
    import torch
    from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

    rating_all = torch.from_numpy(cards.rating[:, :MAX_SEQ_LEN])
    elapsed_all = torch.from_numpy(cards.elapsed_s[:, :MAX_SEQ_LEN])
    y_all = (rating_all > 1).to(torch.float64)
    counted = (rating_all > 0) & (torch.floor(elapsed_all / DAY_S) >= 1)
    counted[:, 0] = False
    per_card = counted.sum(1).numpy()
    n_reviews = int(per_card.sum())
    if n_reviews < MINI_BATCH:
        return default_parameters()
    lower = torch.tensor(LOWER_BOUNDS_PARAMETERS, dtype=torch.float64)
    upper = torch.tensor(UPPER_BOUNDS_PARAMETERS, dtype=torch.float64)
    w = torch.tensor(default_parameters(), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([w], lr=LEARNING_RATE)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(
        opt, T_max=math.ceil(n_reviews / MINI_BATCH) * EPOCHS
    )
    rng = random.Random(seed)
    card_ids = [c for c in range(len(per_card)) if per_card[c] > 0]

    def batch_loss(sel: Any, params: Any, width: int = MAX_SEQ_LEN) -> Any:
        ret = forward(
            params, rating_all[sel, :width], elapsed_all[sel, :width], fractional_same_day=False
        )
        m = counted[sel, :width]
        p = ret[m].clamp(1e-6, 1 - 1e-6)
        y = y_all[sel, :width][m]
        return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).sum()

    every = torch.tensor(card_ids)
    # Mini-batches of cards of similar length (the recurrence runs to the longest card in a
    # batch), visited in a new random order every epoch.
    lengths = (rating_all > 0).sum(1).numpy()
    card_ids.sort(key=lambda c: (int(lengths[c]), c))
    batches: list[Any] = []
    batch: list[int] = []
    size = 0
    for c in card_ids:
        batch.append(c)
        size += int(per_card[c])
        if size >= MINI_BATCH:
            batches.append(batch)
            batch, size = [], 0
    if batch:
        batches.append(batch)
    width = [int(lengths[b].max()) for b in batches]
    best_w = default_parameters()
    with torch.no_grad():
        best_loss = float(batch_loss(every, w)) / n_reviews
    for _ in range(EPOCHS):
        order = list(range(len(batches)))
        rng.shuffle(order)
        for b in order:
            sel = torch.tensor(batches[b])
            opt.zero_grad()
            batch_loss(sel, w, width[b]).backward()
            opt.step()
            sched.step()
            with torch.no_grad():
                w.copy_(torch.maximum(torch.minimum(w, upper), lower))
        with torch.no_grad():
            loss = float(batch_loss(every, w)) / n_reviews
        if loss < best_loss:
            best_loss, best_w = loss, [float(x) for x in w.detach()]
    return best_w
