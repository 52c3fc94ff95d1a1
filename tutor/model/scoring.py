"""Fast scoring of many candidate items for one learner (the hot path of ``LearnerModel.predict``).

The reference path (:meth:`LearnerModel._raw` + :func:`build_features` + the torch network)
builds all raw columns and features for every candidate. Here the network's first layer, which
is linear, is split into blocks of features, each computed only where it varies:

* per candidate and fixed (guess rate, self-graded): cached per batch and weights;
* per distinct tag set and tag counts (a *group*: usually a handful per deck): the tags'
  statistics and the learner's history on them, plus the user-level features and the recurrent
  state, which are the same for every candidate;
* per candidate the learner has answered: their history on the item;
* per candidate: the item's smoothed success rate and answer count (they depend on the group's
  rate and on the learner's own answers to the item) and, with weights that take it, its
  ability-adjusted difficulty ``item_irt``.

All blocks but the last are computed with :func:`build_features` on the few rows where they vary,
so the feature definitions stay in :mod:`tutor.model.features`; the last mirrors three lines of it
(``tests/tutor/model/test_scoring.py`` checks the whole path against the reference on random
learners and decks). The head then runs as three float32 matrix products in torch.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from tutor.model.ability import RAW_EXTRAS, irt_step
from tutor.model.features import (
    FEATURE_NAMES,
    ITEM_PRIOR_WEIGHT,
    RAW_FIELDS,
    SECONDS_PER_DAY,
    SKILL_PRIOR_WEIGHT,
    USER_FEATURES,
    RawColumns,
    build_features,
    build_row,
)

if TYPE_CHECKING:
    from tutor.model.network import LearnerNet

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
IDX = npt.NDArray[np.intp]

#: Features computed per candidate here (mirrors of build_features' first two columns and,
#: when the weights take it, of the ``item_irt`` extra input).
ROW_FEATURES = ("item_logodds", "item_log_n")
ROW_EXTRAS = ("item_irt",)
#: Extra inputs computed per group of candidates (by build_features, as the standard ones).
GROUP_EXTRAS = ("skill_irt",)
#: Fixed per candidate: depend only on the candidate's kind and number of options.
STATIC_FEATURES = ("guess", "self_graded")


def _blocks(extra: Sequence[str] = ()) -> dict[str, list[int]] | None:
    """Feature indices per block (``extra``: the weights' extra inputs, after the standard
    ones), or None when a feature is of no known block."""
    blocks: dict[str, list[int]] = {"row": [], "static": [], "const": [], "ui": [], "group": []}
    for j, name in enumerate((*FEATURE_NAMES, *extra)):
        if name in ROW_FEATURES or name in ROW_EXTRAS:
            blocks["row"].append(j)
        elif name in STATIC_FEATURES:
            blocks["static"].append(j)
        elif name == "prior_logit":
            blocks["const"].append(j)
        elif name.startswith("ui_"):
            blocks["ui"].append(j)
        elif name in GROUP_EXTRAS or (
            j < len(FEATURE_NAMES)
            and (name.startswith(("us_", "skill_", "u_")) or name == "no_skills")
        ):
            blocks["group"].append(j)
        else:
            return None
    names = (*FEATURE_NAMES, *extra)
    if [names[j] for j in blocks["row"]] != [*ROW_FEATURES, *(e for e in extra if e in ROW_EXTRAS)]:
        return None
    if [FEATURE_NAMES[j] for j in blocks["ui"]] != list(UI_FEATURES):
        return None
    return blocks


def mirrors_agree(
    blocks: dict[str, list[int]], extra: Sequence[str] = (), rows: int = 256, seed: int = 0
) -> bool:
    """Whether :func:`ui_features` and :func:`item_features` still compute what
    :func:`build_features` does (with the extra inputs ``extra``), on random raw rows (guards
    against the definitions drifting)."""
    rng = np.random.default_rng(seed)
    raw = RawColumns.empty(rows)
    for name in RAW_FIELDS:
        raw.cols[name] = rng.integers(0, 8, rows) * rng.random(rows) * 3
    for name in ("item_n", "item_c", "skill_n", "skill_c"):  # own answers subtracted
        raw.cols[name] -= rng.integers(0, 3, rows)
    for name in ("item_r", "skill_r"):  # residual sums: either sign
        raw.cols[name] = rng.normal(0.0, 5.0, rows)
    for name in ("item_v", "skill_v"):  # own shares subtracted: float noise below 0
        raw.cols[name] = rng.random(rows) * rng.integers(0, 30, rows) - 1e-9 * rng.random(rows)
    raw.cols["ui_last"] = rng.integers(-1, 2, rows).astype(np.float64)
    raw.cols["ui_grade"] = rng.integers(0, 5, rows).astype(np.float64)
    for name in ("ui_dt", "ui_ivl", "ui_fsrs_s", "ui_fsrs_d"):
        vals = (rng.random(rows) - 0.1) * 10.0 ** rng.integers(0, 7, rows)
        vals[rng.random(rows) < 0.25] = np.nan
        raw.cols[name] = vals
    prior = float(rng.random())
    raw.cols["prior_rate"][:] = prior  # one prior per model online
    x, dt = build_features(raw, extra)
    ui, ui_dt = ui_features(raw.cols)
    c = raw.cols
    rate = skill_rate(prior, c["skill_n"], c["skill_c"])
    irt = "item_irt" in extra
    item = item_features(
        c["item_n"], c["item_c"], rate, (c["item_r"], c["item_v"]) if irt else None
    )
    return bool(
        np.allclose(ui.astype(np.float32), x[:, blocks["ui"]], rtol=1e-6, atol=1e-6)
        and np.allclose(ui_dt, dt, rtol=1e-6, atol=1e-7)
        and np.allclose(item.astype(np.float32), x[:, blocks["row"]], rtol=1e-6, atol=1e-6)
    )


def _logit(p: F64) -> F64:
    """``log(p) - log1p(-p)`` as one logarithm (the same to float64 rounding; half the time)."""
    p = np.clip(p, 1e-4, 1.0 - 1e-4)
    return np.asarray(np.log(p / (1.0 - p)), dtype=np.float64)


def _log1p(x: F64, out: F64 | None = None) -> F64:
    """``log1p`` of counts (``x >= 0``) as ``log(1 + x)``: equal to float64 rounding at
    these magnitudes, and numpy's ``log`` is much faster than its ``log1p``."""
    y = x + 1.0
    return np.log(y, out=y if out is None else out)


def skill_rate(prior_rate: float, skill_n: F64, skill_c: F64) -> F64:
    """Smoothed success rate of a tag set (as in :func:`build_features`)."""
    prior = min(max(prior_rate, 0.02), 0.98)
    n = np.maximum(skill_n, 0.0)
    c = np.clip(skill_c, 0.0, n)
    return np.asarray((c + SKILL_PRIOR_WEIGHT * prior) / (n + SKILL_PRIOR_WEIGHT), np.float64)


def item_features(
    item_n: F64, item_c: F64, rate_of_tags: F64, sums: tuple[F64, F64] | None = None
) -> F64:
    """``[n, 2]``: the ``item_logodds`` and ``item_log_n`` columns of :func:`build_features`;
    ``[n, 3]`` with the ``item_irt`` extra input from the residual ``sums`` (others', as
    ``item_r``, ``item_v``)."""
    n = np.maximum(item_n, 0.0)
    c = np.clip(item_c, 0.0, n)
    out = np.empty((n.shape[0], 2 if sums is None else 3), np.float64)
    out[:, 0] = _logit((c + ITEM_PRIOR_WEIGHT * rate_of_tags) / (n + ITEM_PRIOR_WEIGHT))
    out[:, 1] = _log1p(n) / 5.0
    if sums is not None:
        out[:, 2] = irt_step(*sums)
    return out


#: The ``ui_*`` features in the order of :data:`FEATURE_NAMES` (mirrors build_features).
UI_FEATURES = (
    "ui_log_correct",
    "ui_log_wrong",
    "ui_seen",
    "ui_last_correct",
    "ui_log_gap",
    "ui_grade",
    "ui_has_grade",
    "ui_log_last_ivl",
    "ui_has_time",
    "ui_fsrs_log_s",
    "ui_fsrs_d",
)


def ui_features(c: dict[str, F64]) -> tuple[F64, F32]:
    """``[n, 11]`` ``ui_*`` features and the elapsed days of rows the learner answered (as
    :func:`build_features` computes them from the ``ui_*`` raw columns)."""
    seen = c["ui_last"] >= 0
    grade = c["ui_grade"]
    has_grade = grade > 0
    ivl = c["ui_ivl"]
    has_time = np.isfinite(c["ui_dt"]) & seen
    fsrs_s = c["ui_fsrs_s"]
    has_fsrs = np.isfinite(fsrs_s) & seen
    x = np.empty((seen.shape[0], len(UI_FEATURES)), np.float64)
    _log1p(c["ui_c"], out=x[:, 0])
    _log1p(c["ui_w"], out=x[:, 1])
    x[:, 2] = seen
    np.maximum(c["ui_last"], 0.0, out=x[:, 3])
    _log1p(c["ui_gap"], out=x[:, 4])
    x[:, 5] = np.where(has_grade, (grade - 2.5) / 1.5, 0.0)
    x[:, 6] = has_grade
    finite = np.isfinite(ivl)
    x[:, 7] = np.where(finite, np.log1p(np.maximum(np.where(finite, ivl, 0.0), 0.0) / 3600.0), 0.0)
    x[:, 7] /= 3.0
    x[:, 8] = has_time
    x[:, 9] = np.where(has_fsrs, np.log(np.maximum(np.where(has_fsrs, fsrs_s, 1.0), 1e-3)), 0.0)
    x[:, 9] /= 3.0
    d = c["ui_fsrs_d"]
    x[:, 10] = np.where(has_fsrs, (np.where(np.isnan(d), 0.0, d) - 5.0) / 3.0, 0.0)
    elapsed = np.maximum(np.where(has_time, c["ui_dt"], 0.0), 0.0) / SECONDS_PER_DAY
    dt = np.where(has_time, elapsed, -1.0)
    return x, dt.astype(np.float32)


FEW_ROWS = 4
"""Up to this many rows, :func:`features` computes them one by one (numpy's per-call cost
exceeds the work on so few rows: a single item's due time scores one candidate)."""


def features(
    raw: RawColumns, extra: Sequence[str] = (), only: Collection[str] | None = None
) -> tuple[F32, F32]:
    """:func:`build_features`, by :func:`build_row` when there are :data:`FEW_ROWS` or fewer
    (``only``: the columns wanted, when there are more rows)."""
    n = len(raw)
    if n > FEW_ROWS:
        return build_features(raw, extra, only=only)
    cols = {name: values.tolist() for name, values in raw.cols.items()}
    rows = [build_row({name: values[k] for name, values in cols.items()}, extra) for k in range(n)]
    x = np.array([r[0] for r in rows], np.float32).reshape(n, len(FEATURE_NAMES) + len(extra))
    return x, np.array([r[1] for r in rows], np.float32)


#: A batch's tag tallies, the columns of :attr:`Groups.tallies`.
GROUP_TALLIES = ("skill_n", "skill_c", "skill_r", "skill_v")


@dataclass(frozen=True, slots=True)
class Groups:
    """Candidates grouped by (tag keys in order, tag tallies, tag count)."""

    of: I64  # group of each candidate
    owner: I64  # group of each flat tag key, sorted
    keys: I64
    tallies: dict[str, F64]  # the tags' tallies of each group, by GROUP_TALLIES name
    n_skills: F64

    def __len__(self) -> int:
        return int(self.n_skills.shape[0])


def group_candidates(
    tag_owner: I64, tag_keys: I64, tallies: dict[str, F64], n_skills: F64
) -> Groups:
    """Group candidates whose tag rows are identical (``tag_owner`` sorted by candidate;
    ``tallies``: tag tally columns of each candidate, by name)."""
    n = n_skills.shape[0]
    bounds = np.searchsorted(tag_owner, np.arange(n + 1)).tolist()
    keys = tag_keys.tolist()
    values = [col.tolist() for col in tallies.values()]
    rows: list[tuple[float, ...]] = list(zip(*values, strict=True)) if values else [()] * n
    ns = n_skills.tolist()
    index: dict[tuple[Any, ...], int] = {}
    of = np.empty(n, np.int64)
    first: list[int] = []
    for i in range(n):
        key = (tuple(keys[bounds[i] : bounds[i + 1]]), rows[i], ns[i])
        g = index.get(key)
        if g is None:
            g = index[key] = len(first)
            first.append(i)
        of[i] = g
    owner: list[int] = []
    flat: list[int] = []
    for g, i in enumerate(first):
        part = keys[bounds[i] : bounds[i + 1]]
        owner.extend([g] * len(part))
        flat.extend(part)
    pick = np.asarray(first, np.intp)
    return Groups(
        of=of,
        owner=np.asarray(owner, np.int64),
        keys=np.asarray(flat, np.int64),
        tallies={name: col[pick] for name, col in tallies.items()},
        n_skills=n_skills[pick].copy(),
    )


@dataclass(frozen=True, slots=True)
class Layout:
    """Candidates grouped by tag keys (in order) and tag count alone: what :class:`Groups`
    would be if every group's tag tallies were equal, which they are when the tallies are
    sums over the tags (as the service's are). Independent of the tallies, so it is kept
    across calls (:func:`groups_of` checks the tallies against it on every call)."""

    of: I64  # group of each candidate
    owner: I64  # group of each flat tag key, sorted
    keys: I64
    first: IDX  # one candidate of each group
    n_skills: F64

    def __len__(self) -> int:
        return int(self.first.shape[0])


def layout_candidates(tag_owner: I64, tag_keys: I64, n_skills: F64) -> Layout:
    """The :class:`Layout` of candidates (``tag_owner`` sorted by candidate)."""
    g = group_candidates(tag_owner, tag_keys, {}, n_skills)
    _, first = np.unique(g.of, return_index=True)  # groups are numbered in order of first use
    return Layout(of=g.of, owner=g.owner, keys=g.keys, first=first, n_skills=g.n_skills)


def join_layouts(layouts: Sequence[Layout], sizes: Sequence[int]) -> Layout:
    """The layout of consecutive runs of candidates (``sizes[k]`` candidates in run ``k``);
    groups are not merged across runs."""
    group_off = np.cumsum([0, *(len(x) for x in layouts)])[:-1]
    item_off = np.cumsum([0, *sizes])[:-1]

    def cat(arrays: list[Any], dtype: Any) -> Any:
        return np.concatenate(arrays) if arrays else np.zeros(0, dtype)

    return Layout(
        of=cat([x.of + o for x, o in zip(layouts, group_off, strict=True)], np.int64),
        owner=cat([x.owner + o for x, o in zip(layouts, group_off, strict=True)], np.int64),
        keys=cat([x.keys for x in layouts], np.int64),
        first=cat([x.first + o for x, o in zip(layouts, item_off, strict=True)], np.intp),
        n_skills=cat([x.n_skills for x in layouts], np.float64),
    )


def groups_of(layout: Layout, cols: dict[str, F64]) -> Groups | None:
    """The candidates' :class:`Groups` from their layout and a batch's columns (its tag
    tallies, :data:`GROUP_TALLIES`); None when two candidates of a layout group have different
    tallies (then group with :func:`group_candidates`)."""
    per_group: dict[str, F64] = {}
    for name in GROUP_TALLIES:
        col = cols[name]
        per_group[name] = first = col[layout.first]
        if not np.array_equal(first[layout.of], col):
            return None
    return Groups(
        of=layout.of,
        owner=layout.owner,
        keys=layout.keys,
        tallies=per_group,
        n_skills=layout.n_skills,
    )


class Head:
    """The network's head as plain float32 arrays, with its first layer split in blocks."""

    def __init__(self, net: LearnerNet, temperature: float, prior_rate: float) -> None:
        import torch
        from torch import nn

        extra = tuple(net.cfg.extra_features)
        blocks = _blocks(extra) if RAW_EXTRAS.issuperset(extra) else None
        mlp = list(net.mlp)
        shapes_ok = (
            len(mlp) == 4
            and isinstance(mlp[0], nn.SiLU)
            and isinstance(mlp[1], nn.Linear)
            and isinstance(mlp[2], nn.SiLU)
            and isinstance(mlp[3], nn.Linear)
            and net.fh.bias is None
        )
        if blocks is None or not shapes_ok or not mirrors_agree(blocks, extra):
            raise ValueError("network or features of an unknown shape")
        self.blocks = blocks
        self.extra = extra
        names = (*FEATURE_NAMES, *extra)
        self._names = {
            "static": [names[j] for j in blocks["static"]],
            "group": [names[j] for j in blocks["group"]],
        }
        #: whether the per-candidate block holds ``item_irt`` (from the items' residual sums)
        self.item_irt = "item_irt" in extra
        self.use_state = net.cfg.use_state
        self.prior_rate = prior_rate
        self.temperature = temperature

        def arr(t: torch.Tensor) -> F32:
            return np.ascontiguousarray(t.detach().numpy().astype(np.float32))

        assert isinstance(mlp[1], nn.Linear) and isinstance(mlp[3], nn.Linear)
        self.w_in = arr(net.fx.weight.T)  # [F, H]
        if not self.use_state:
            self.w_in[USER_FEATURES] = 0.0  # the ablation zeroes the user-level features
        self.w_state = arr(net.fh.weight.T)  # [S, H]
        self.fx_bias = arr(net.fx.bias)
        self.h0 = arr(net.h0)
        self.floor_scale = float(torch.sigmoid(net.floor_q.detach()))
        self.w1 = torch.from_numpy(arr(mlp[1].weight.T))
        self.b1 = torch.from_numpy(arr(mlp[1].bias))
        self.w2_t = torch.from_numpy(arr(mlp[3].weight))  # [3, H]
        self.b2_col = torch.from_numpy(arr(mlp[3].bias)[:, None].copy())
        self._torch = torch
        # features of a candidate with no history at all: the constant and default-ui blocks
        empty = RawColumns.empty(1)
        empty.cols["prior_rate"][:] = prior_rate
        x0, _ = build_features(empty, extra)
        fixed = blocks["const"] + blocks["ui"]
        self.ui_default = x0[0, blocks["ui"]].copy()
        self.bias = (net.fx.bias.detach().numpy() + x0[0, fixed] @ self.w_in[fixed]).astype(
            np.float32
        )

        def rows(block: str) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(self.w_in[blocks[block]]))

        self.w_user = rows("ui")
        self.w_group = rows("group")
        self.w_row = rows("row")
        self.w_static = rows("static")
        self.w_h = torch.from_numpy(self.w_state)
        self.guess_index = FEATURE_NAMES.index("guess")

    def mm(self, a: npt.NDArray[Any], w: Any) -> F32:
        """``a @ w`` in float32 by torch (one thread; numpy's BLAS may spin up its own)."""
        torch = self._torch
        with torch.inference_mode():
            out: F32 = (torch.from_numpy(np.ascontiguousarray(a, np.float32)) @ w).numpy()
        return out

    def static(self, raw: RawColumns) -> tuple[F32, F32]:
        """Per candidate: the fixed part of the first layer ``[n, H]`` and the guess rate."""
        x, _ = features(raw, self.extra, self._names["static"])
        base = self.mm(x[:, self.blocks["static"]], self.w_static) + self.bias
        return np.ascontiguousarray(base, np.float32), x[:, self.guess_index].copy()

    def group_part(self, raw: RawColumns, h: F32) -> F32:
        """Per group: its first-layer contribution plus the user-level and recurrent ones."""
        x, _ = features(raw, self.extra, self._names["group"])
        part = self.mm(x[:, self.blocks["group"]], self.w_group)
        part += self.mm((h if self.use_state else self.h0)[None], self.w_h)
        return part

    def dense(self, x: F32, h: F32) -> F32:
        """The first layer's output ``[n, H]`` from whole feature rows ``x`` (few rows)."""
        state = h if self.use_state else self.h0
        out: F32 = x @ self.w_in + self.fx_bias + state @ self.w_state
        return np.ascontiguousarray(out, np.float32)

    def first_layer(
        self, base: F32, group: F32, of: I64, item: F64, found: IDX, ui: F64 | None
    ) -> F32:
        """The first layer's output ``[n, H]``: ``base`` (:meth:`static`) plus each candidate's
        group row of ``group`` (:meth:`group_part`), its item features (:func:`item_features`)
        and, for the ``found`` candidates the learner answered, their ``ui`` features
        (:func:`ui_features`)."""
        torch = self._torch
        with torch.inference_mode():
            pre = torch.index_select(torch.from_numpy(group), 0, torch.from_numpy(of))
            pre += torch.from_numpy(base)
            pre.addmm_(torch.from_numpy(item.astype(np.float32)), self.w_row)
            if ui is not None:  # only the answered candidates' rows: the others' are defaults
                seen = torch.from_numpy(ui.astype(np.float32) - self.ui_default) @ self.w_user
                pre.index_add_(0, torch.from_numpy(found), seen)
            out: F32 = pre.numpy()
        return out

    def outputs(self, pre: F32) -> F32:
        """The head's outputs ``[n, 3]`` (base logit, log stability, decay) from the first
        layer's output ``[n, H]`` (overwritten): all that does not depend on the time asked."""
        torch = self._torch
        nnf = torch.nn.functional
        with torch.inference_mode():
            a = nnf.silu(torch.from_numpy(pre), inplace=True)
            a = nnf.silu(torch.addmm(self.b1, a, self.w1), inplace=True)
            # [3, n] = w2^T a^T: BLAS is several times faster at this shape than at a @ w2
            # (an output only 3 wide); the result is returned as its [n, 3] view
            out_t = torch.mm(self.w2_t, a.T)
            out_t += self.b2_col
            out: F32 = out_t.numpy().T
        return out

    def recall(self, out: F32, dt: F32, guess: F32) -> F32:
        """P(correct) from the head's outputs (:meth:`outputs`), the elapsed days since the
        item's last answer (-1 = never answered) and the guess rate, row by row."""
        z = out[:, 0] / np.float32(self.temperature)
        # the forgetting term, only where the item was answered before (0 elsewhere)
        seen = np.flatnonzero(dt >= 0)
        if seen.shape[0]:
            log_s, dec = out[seen, 1], out[seen, 2]
            ratio = dt[seen] * np.exp(-np.minimum(np.maximum(log_s, -12.0), 12.0))
            forget = np.logaddexp(np.float32(0.0), dec) * np.log1p(ratio)
            z[seen] -= forget / np.float32(self.temperature)
        floor = guess * np.float32(self.floor_scale)
        p: F32 = np.clip(floor + (1.0 - floor) / (1.0 + np.exp(-z)), 1e-5, 1.0 - 1e-5)
        return p.astype(np.float32, copy=False)

    def probs(self, pre: F32, dt: F32, guess: F32) -> F32:
        """P(correct) from the first layer's output ``[n, H]`` (overwritten)."""
        return self.recall(self.outputs(pre), dt, guess)
