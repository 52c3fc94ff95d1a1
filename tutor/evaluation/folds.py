"""Aggregate benchmark rows over learner folds: mean and spread per dataset and model.

An all-folds run names its datasets ``name/fold`` (``assist2009/3``); a plain run names them
``name`` (fold 1 unless stated). :func:`summarize` groups the overall rows (bucket ``all``) by
dataset and model and gives the mean and the sample standard deviation of AUC and log loss
over the folds present. ``python -m tutor.evaluation.folds a.json [b.json ...]`` prints the
tables of saved runs (``--json`` of ``bench model``), so folds run separately can be merged.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tutor.evaluation.runner import Row


@dataclass(frozen=True, slots=True)
class FoldSummary:
    """One model on one dataset over its folds."""

    dataset: str
    model: str
    folds: tuple[int, ...]
    auc_mean: float
    auc_sd: float  # sample standard deviation; nan for one fold
    logloss_mean: float
    logloss_sd: float
    n_mean: float  # scored attempts per fold


def split_name(name: str) -> tuple[str, int]:
    """``("assist2009", 3)`` from ``"assist2009/3"``; a name without a fold is fold 1."""
    base, sep, fold = name.rpartition("/")
    if sep and fold.isdigit():
        return base, int(fold)
    return name, 1


def _mean_sd(values: Sequence[float]) -> tuple[float, float]:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    if not vals:
        return math.nan, math.nan
    mean = sum(vals) / len(vals)
    if len(vals) < 2:
        return mean, math.nan
    var = sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)
    return mean, math.sqrt(var)


def summarize(rows: Iterable[Row]) -> list[FoldSummary]:
    """Mean and spread over folds of every (dataset, model), in first-seen order.

    A fold seen twice for the same dataset and model (two merged runs) counts once: the
    later row wins.
    """
    groups: dict[tuple[str, str], dict[int, Row]] = {}
    for r in rows:
        if r.get("bucket") != "all":
            continue
        base, fold = split_name(str(r["dataset"]))
        groups.setdefault((base, str(r["model"])), {})[fold] = r
    out = []
    for (dataset, model), by_fold in groups.items():
        folds = tuple(sorted(by_fold))
        picked = [by_fold[k] for k in folds]
        auc = _mean_sd([_num(r.get("auc")) for r in picked])
        ll = _mean_sd([_num(r.get("logloss")) for r in picked])
        n = sum(float(r.get("n", 0)) for r in picked) / len(picked)
        out.append(FoldSummary(dataset, model, folds, auc[0], auc[1], ll[0], ll[1], n))
    return out


def _num(x: object) -> float:
    return math.nan if x is None else float(x)  # type: ignore[arg-type]


def _pm(mean: float, sd: float) -> str:
    if math.isnan(mean):
        return "–"
    return f"{mean:.3f}" if math.isnan(sd) else f"{mean:.3f} ± {sd:.3f}"


def _folds(folds: tuple[int, ...]) -> str:
    if len(folds) > 1 and folds == tuple(range(folds[0], folds[-1] + 1)):
        return f"{folds[0]}-{folds[-1]}"
    return ",".join(str(k) for k in folds)


def fold_markdown(summaries: Sequence[FoldSummary]) -> str:
    """A table per dataset: model, AUC mean ± sd, log loss mean ± sd, folds; the best mean
    AUC and log loss of each dataset in bold."""
    out: list[str] = []
    datasets = list(dict.fromkeys(s.dataset for s in summaries))
    for dataset in datasets:
        sub = [s for s in summaries if s.dataset == dataset]
        best_auc = max((s.auc_mean for s in sub if not math.isnan(s.auc_mean)), default=None)
        best_ll = min((s.logloss_mean for s in sub if not math.isnan(s.logloss_mean)), default=None)
        out.append(f"**{dataset}** (mean ± sd over folds; {sub[0].n_mean:,.0f} attempts a fold)\n")
        out.append("| model | AUC | log loss | folds |")
        out.append("|---|---:|---:|---|")
        for s in sub:
            auc = _pm(s.auc_mean, s.auc_sd)
            ll = _pm(s.logloss_mean, s.logloss_sd)
            if best_auc is not None and s.auc_mean == best_auc:
                auc = f"**{auc}**"
            if best_ll is not None and s.logloss_mean == best_ll:
                ll = f"**{ll}**"
            out.append(f"| {s.model} | {auc} | {ll} | {_folds(s.folds)} |")
        out.append("")
    return "\n".join(out)


def summary_rows(summaries: Sequence[FoldSummary]) -> list[Row]:
    """The summaries as JSON-ready rows (NaN as None)."""
    rows = []
    for s in summaries:
        rows.append(
            {
                "dataset": s.dataset,
                "model": s.model,
                "folds": list(s.folds),
                "auc_mean": _clean(s.auc_mean),
                "auc_sd": _clean(s.auc_sd),
                "logloss_mean": _clean(s.logloss_mean),
                "logloss_sd": _clean(s.logloss_sd),
                "n_mean": s.n_mean,
            }
        )
    return rows


def _clean(x: float) -> float | None:
    return None if math.isnan(x) else x


def main(argv: list[str] | None = None) -> int:
    """Print the fold tables of saved benchmark JSON files (merged, later files win)."""
    p = argparse.ArgumentParser(
        prog="python -m tutor.evaluation.folds", description="Fold means of saved runs."
    )
    p.add_argument("files", nargs="+", type=Path, help="JSON files written by --json")
    args = p.parse_args(argv)
    rows: list[Row] = []
    for path in args.files:
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            rows.extend(payload["rows"])
        except (OSError, ValueError, KeyError) as exc:
            print(
                f"error: {path}: {exc}; give files written by bench model --json", file=sys.stderr
            )
            return 2
    summaries = summarize(rows)
    print(fold_markdown(summaries))
    from tutor.evaluation.leave_one_out import TRANSFER_MODEL, lodo_markdown

    if any(s.model == TRANSFER_MODEL for s in summaries):
        print("## Leave one dataset out\n")
        print(lodo_markdown(summaries))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
