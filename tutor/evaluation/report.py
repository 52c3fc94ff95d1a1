"""Render benchmark rows: Markdown tables, JSON with machine details, and a plot."""

from __future__ import annotations

import json
import math
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tutor.evaluation.metrics import BUCKET_NAMES
from tutor.evaluation.runner import Row, Timing


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}f}"


def _ordered(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


def overall_table(rows: Sequence[Row]) -> str:
    """One line per (dataset, model): n and the overall AUC, log loss, RMSE(bins)."""
    lines = [
        "| dataset | model | n | AUC | log loss | RMSE(bins) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r["bucket"] == "all":
            lines.append(
                f"| {r['dataset']} | {r['model']} | {r['n']:,} | {_fmt(r['auc'])} | "
                f"{_fmt(r['logloss'])} | {_fmt(r['rmse_bins'])} |"
            )
    return "\n".join(lines)


def bucket_tables(rows: Sequence[Row]) -> str:
    """Per dataset, a table of AUC / log loss for every bucket of t."""
    out: list[str] = []
    for dataset in _ordered([r["dataset"] for r in rows]):
        sub = [r for r in rows if r["dataset"] == dataset]
        counts = {r["bucket"]: r["n"] for r in sub}
        head = " | ".join(f"{b} (n={counts.get(b, 0):,})" for b in BUCKET_NAMES)
        out.append(f"**{dataset}**: AUC / log loss by t (0-based attempt index)\n")
        out.append(f"| model | {head} |")
        out.append("|---|" + "---:|" * len(BUCKET_NAMES))
        for model in _ordered([r["model"] for r in sub]):
            cells = {r["bucket"]: r for r in sub if r["model"] == model}
            vals = [
                f"{_fmt(cells[b]['auc'])} / {_fmt(cells[b]['logloss'])}" if b in cells else "–"
                for b in BUCKET_NAMES
            ]
            out.append(f"| {model} | " + " | ".join(vals) + " |")
        out.append("")
    return "\n".join(out)


def timing_table(timings: Sequence[Timing]) -> str:
    """Fit and predict seconds (wall clock and CPU) per dataset and model; a fit of 0 s was
    shared with an earlier dataset of the same training learners."""
    lines = [
        "| dataset | model | fit s | predict s | fit CPU s | predict CPU s |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for t in timings:
        lines.append(
            f"| {t.dataset} | {t.model} | {t.fit_s:.1f} | {t.predict_s:.1f} "
            f"| {t.fit_cpu_s:.1f} | {t.predict_cpu_s:.1f} |"
        )
    cpu = sum(t.fit_cpu_s + t.predict_cpu_s for t in timings)
    lines.append(f"\nCPU time of all fits and predictions: {cpu:.0f} s")
    return "\n".join(lines)


def markdown(rows: Sequence[Row], timings: Sequence[Timing]) -> str:
    """The whole report: overall table, per-bucket tables, timings."""
    return (
        "## Overall\n\n"
        + overall_table(rows)
        + "\n\n## By attempt index t\n\n"
        + bucket_tables(rows)
        + "\n## Timings\n\n"
        + timing_table(timings)
        + "\n"
    )


def machine_info(threads: int) -> dict[str, Any]:
    """CPU, cores, versions and date of this run."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import torch

        torch_version = str(torch.__version__)
    except ImportError:
        torch_version = "not installed"
    try:
        from importlib.metadata import version

        fsrs_version = version("fsrs")
    except Exception:
        fsrs_version = "not installed"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": threads,
        "python": sys.version.split()[0],
        "torch": torch_version,
        "fsrs": fsrs_version,
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _clean(x: Any) -> Any:
    if isinstance(x, float) and math.isnan(x):
        return None
    return x


def write_json(
    path: Path,
    rows: Sequence[Row],
    timings: Sequence[Timing],
    *,
    machine: dict[str, Any],
    settings: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> None:
    """Write ``{"rows": [...], "timings": [...], "machine": {...}, "settings": {...}}`` (and
    the ``extra`` keys)."""
    payload: dict[str, Any] = {
        "rows": [{k: _clean(v) for k, v in r.items()} for r in rows],
        "timings": [asdict(t) for t in timings],
        "machine": machine,
        "settings": settings,
        **(extra or {}),
    }
    path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


def plot(path: Path, rows: Sequence[Row]) -> None:
    """AUC and log loss against the bucket of t, one column of panels per dataset."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = _ordered([r["dataset"] for r in rows])
    buckets = [b for b in BUCKET_NAMES if b != "all"]
    fig, axes = plt.subplots(
        2, max(len(datasets), 1), figsize=(4 * max(len(datasets), 1), 7), squeeze=False
    )
    for col, dataset in enumerate(datasets):
        sub = [r for r in rows if r["dataset"] == dataset and r["bucket"] != "all"]
        for model in _ordered([r["model"] for r in sub]):
            by = {r["bucket"]: r for r in sub if r["model"] == model}
            for row_i, metric in enumerate(("auc", "logloss")):
                ys = [_clean(by[b][metric]) if b in by else None for b in buckets]
                xs = [i for i, v in enumerate(ys) if v is not None]
                axes[row_i][col].plot(xs, [ys[i] for i in xs], marker="o", label=model)
        for row_i, label in enumerate(("AUC", "log loss")):
            ax = axes[row_i][col]
            ax.set_xticks(range(len(buckets)), buckets, rotation=45)
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
        axes[0][col].set_title(dataset)
        axes[1][col].set_xlabel("attempt index t")
    if datasets:
        axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
