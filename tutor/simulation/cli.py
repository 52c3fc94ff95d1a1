"""``metatutor bench schedule``: compare scheduling policies on simulated students."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from tutor.simulation.bench import (
    BASELINE,
    GAP_SHARE,
    OURS,
    REFERENCES,
    Row,
    run_bench,
    scenarios,
)
from tutor.simulation.fit import PARAMS_FILE
from tutor.simulation.population import FAMILIES, People

PERCENT_METRICS = ("exam_recall", "mean_recall")
#: Metrics left out of the main table (``introduced`` has its own).
_SIDE = ("minutes", "introduced")


def _side(metric: str) -> bool:
    return metric in _SIDE or metric.startswith(GAP_SHARE)


def _fmt(row: Row) -> str:
    if row.metric.startswith(GAP_SHARE):
        return f"{row.mean:.2f} [{row.ci_low:.2f}, {row.ci_high:.2f}]"
    if row.metric.split("_minus_")[0] in PERCENT_METRICS:
        return f"{100 * row.mean:.1f}% [{100 * row.ci_low:.1f}, {100 * row.ci_high:.1f}]"
    return f"{row.mean:.1f} [{row.ci_low:.1f}, {row.ci_high:.1f}]"


def _label(policy: str) -> str:
    """A policy's name in the tables (references are marked as such)."""
    return f"{policy} (reference: true memory)" if policy in REFERENCES else policy


def markdown(rows: list[Row]) -> str:
    """One table per memory family: policies down, (scenario, metric) across."""
    out: list[str] = []
    by_family: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_family[r.scenario.split(":")[0]].append(r)
    for family, frows in by_family.items():
        main = [r for r in frows if "_minus_" not in r.metric and not _side(r.metric)]
        cols = list(dict.fromkeys((r.scenario.split(":")[1], r.metric) for r in main))
        names = list(dict.fromkeys(r.policy for r in main))
        cell = {(r.policy, r.scenario.split(":")[1], r.metric): _fmt(r) for r in main}
        out.append(f"### Simulated memory: {family}\n")
        out.append("| policy | " + " | ".join(f"{s} {m}" for s, m in cols) + " |")
        out.append("|---" * (len(cols) + 1) + "|")
        for n in names:
            vals = [cell.get((n, s, m), "") for s, m in cols]
            out.append(f"| {_label(n)} | " + " | ".join(vals) + " |")
        seen = [r for r in frows if r.metric == "introduced"]
        if seen:
            out.append("\nItems seen at least once by exam day (mean per student):\n")
            scs = list(dict.fromkeys(r.scenario.split(":")[1] for r in seen))
            out.append("| policy | " + " | ".join(scs) + " |")
            out.append("|---" * (len(scs) + 1) + "|")
            got = {(r.policy, r.scenario.split(":")[1]): f"{r.mean:.1f}" for r in seen}
            for n in names:
                cells = " | ".join(got.get((n, sc), "") for sc in scs)
                out.append(f"| {_label(n)} | {cells} |")
        out.extend(_gap_table(frows, names))
        diffs = [r for r in frows if "_minus_" in r.metric]
        if diffs:
            out.append("\nPaired differences (policy minus other, same students and draws):\n")
            out.append("| scenario | policy | difference | mean [95% CI] |")
            out.append("|---|---|---|---|")
            for r in diffs:
                out.append(f"| {r.scenario.split(':')[1]} | {r.policy} | {r.metric} | {_fmt(r)} |")
        out.append("")
    return "\n".join(out)


def _gap_table(rows: list[Row], names: list[str]) -> list[str]:
    """Share of the in-order-to-oracle gap each policy closes, per exam scenario, with the
    exam-day recall figures it is computed from."""
    shares = [r for r in rows if r.metric.startswith(GAP_SHARE)]
    if not shares:
        return []
    scs = list(dict.fromkeys(r.scenario.split(":")[1] for r in shares))
    oracle = {r.scenario.split(":")[1]: r.metric[len(GAP_SHARE) + 1 : -1] for r in shares}
    recall = {
        (r.policy, r.scenario.split(":")[1]): r.mean for r in rows if r.metric == "exam_recall"
    }
    share = {(r.policy, r.scenario.split(":")[1]): _fmt(r) for r in shares}
    out = [
        "\nShare of the in-order-to-oracle gap closed, (policy - in_order) / (oracle -"
        " in_order) of exam-day recall (oracle: the better true-memory reference; 95%"
        " bootstrap interval over students), after each policy's exam-day recall:\n",
        "| policy | " + " | ".join(f"{sc} (oracle: {oracle[sc]})" for sc in scs) + " |",
        "|---" * (len(scs) + 1) + "|",
    ]
    for n in names:
        cells = []
        for sc in scs:
            fig = recall.get((n, sc))
            head = "" if fig is None else f"{100 * fig:.1f}%"
            if n == BASELINE:
                cells.append(f"{head}: 0 by definition")
            else:
                cells.append(f"{head}: {share[(n, sc)]}" if (n, sc) in share else head)
        out.append(f"| {_label(n)} | " + " | ".join(cells) + " |")
    return out


def calibration_markdown(calibration: dict[str, list[dict[str, float]]]) -> str:
    """Our model's recall predictions (raw and calibrated) against the students' true recall,
    for the seen items it asked, by days since the item was last answered."""
    out = [
        "### Calibration of our recall predictions (seen items asked, by days since last answer)\n",
        "| scenario | gap (days) | answers | model (raw) | calibrated (used) | true recall |",
        "|---|---|---|---|---|---|",
    ]
    for label, table in calibration.items():
        for r in table:
            gap = f"{r['gap_from']:g}-{r['gap_to']:g}".replace("-inf", "+")
            out.append(
                f"| {label} | {gap} | {r['n']:.0f} | {100 * r['raw']:.1f}% "
                f"| {100 * r['calibrated']:.1f}% | {100 * r['true']:.1f}% |"
            )
    return "\n".join(out) + "\n"


def plot(rows: list[Row], path: Path) -> None:
    """Bar chart of the headline metric per scenario and policy, with 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    heads = [r for r in rows if r.metric in ("exam_recall", "recall_per_minute")]
    panels = list(dict.fromkeys(r.scenario for r in heads))
    ncols = min(5, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 3.6 * nrows), squeeze=False)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax, panel in zip(axes.flat, panels, strict=False):
        sel = [r for r in heads if r.scenario == panel]
        names = [r.policy for r in sel]
        means = [r.mean for r in sel]
        errs = [[r.mean - r.ci_low for r in sel], [r.ci_high - r.mean for r in sel]]
        colors = [
            "tab:red"
            if n == OURS
            else "tab:orange"
            if n.startswith(OURS)
            else "tab:green"
            if n in REFERENCES
            else "tab:gray"
            for n in names
        ]
        ax.bar(range(len(sel)), means, yerr=errs, color=colors, capsize=2)
        ax.set_xticks(range(len(sel)), names, rotation=60, ha="right", fontsize=7)
        ax.set_title(panel.replace(":", "\n"), fontsize=8)
        ax.set_ylabel(sel[0].metric, fontsize=7)
        if sel[0].metric == "exam_recall":
            ax.set_ylim(max(0.0, min(means) - 0.1), min(1.0, max(means) + 0.05))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the Markdown table; optionally write JSON rows and a plot."""
    ap = argparse.ArgumentParser(prog="metatutor bench schedule", description=__doc__)
    ap.add_argument("--students", type=int, default=None, help="simulated students (200)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="a small smoke run")
    ap.add_argument("--exams-only", action="store_true", help="skip the maintenance scenario")
    ap.add_argument("--families", default=",".join(FAMILIES), help="fsrs6,actr")
    ap.add_argument(
        "--scenarios",
        default="",
        help="only these scenarios, by name, comma-separated (e.g. exam_14d_10min_1000items)",
    )
    ap.add_argument("--params", type=Path, default=PARAMS_FILE, help="fitted people (JSON)")
    ap.add_argument(
        "--learner-model",
        type=Path,
        help="tutor.model weights that drive our policy (default: the shipped ones)",
    )
    ap.add_argument("--workers", type=int, default=2, help="processes (results do not change)")
    ap.add_argument(
        "--no-variants", action="store_true", help="skip the extra rows of our policy's variants"
    )
    ap.add_argument("--json", type=Path, help="write rows as a JSON list")
    ap.add_argument("--plot", type=Path, help="write a PNG bar chart")
    ap.add_argument(
        "--groups",
        action="store_true",
        help="the group scenario instead: classes of 20 answering shared daily quizzes",
    )
    ap.add_argument("--classes", type=int, default=None, help="classes with --groups (50)")
    args = ap.parse_args(argv)
    if args.groups:
        return _groups(args, ap, argv)
    n = args.students if args.students is not None else (16 if args.quick else 200)
    families = [f.strip() for f in args.families.split(",") if f.strip()]
    for f in families:
        if f not in FAMILIES:
            ap.error(f"unknown family {f!r} (choose from {', '.join(FAMILIES)})")
    only = [x.strip() for x in args.scenarios.split(",") if x.strip()]
    known = {sc.name for sc in scenarios(args.quick)}
    for name in only:
        if name not in known:
            ap.error(f"unknown scenario {name!r} (choose from {', '.join(sorted(known))})")
    t0 = time.perf_counter()
    people = People.load(args.params)
    calibration: dict[str, list[dict[str, float]]] = {}
    rows = run_bench(
        people,
        n,
        args.seed,
        args.quick,
        families,
        exams_only=args.exams_only,
        weights=args.learner_model,
        workers=args.workers,
        variants=not args.no_variants,
        calibration=calibration,
        only=only,
    )
    print(markdown(rows))
    print(calibration_markdown(calibration))
    print(f"{n} students per scenario, seed {args.seed}, {time.perf_counter() - t0:.0f} s")
    if args.json:
        from tutor.evaluation.report import machine_info

        doc = {
            "machine": machine_info(1),  # one torch thread per worker
            "command": [
                "metatutor",
                "bench",
                "schedule",
                *(sys.argv[1:] if argv is None else argv),
            ],
            "students": n,
            "seed": args.seed,
            "seconds": round(time.perf_counter() - t0, 1),
            "rows": [r.as_dict() for r in rows],
            "calibration": calibration,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=1) + "\n")
    if args.plot:
        plot(rows, args.plot)
    return 0


def _groups(args: argparse.Namespace, ap: argparse.ArgumentParser, argv: list[str] | None) -> int:
    """``--groups``: run the group scenario, print its tables, write JSON with the machine."""
    from tutor.evaluation.report import machine_info
    from tutor.simulation.group_bench import group_markdown, run_group_bench

    n = args.classes if args.classes is not None else (3 if args.quick else 50)
    if n < 2:
        ap.error("--classes needs at least 2 (for an interval)")
    families = [f.strip() for f in args.families.split(",") if f.strip()]
    for f in families:
        if f not in FAMILIES:
            ap.error(f"unknown family {f!r} (choose from {', '.join(FAMILIES)})")
    t0 = time.perf_counter()
    rows = run_group_bench(
        People.load(args.params),
        n,
        args.seed,
        args.quick,
        families,
        weights=args.learner_model,
        workers=args.workers,
    )
    seconds = time.perf_counter() - t0
    print(group_markdown(rows, n))
    print(f"{n} classes of 20 per scenario, seed {args.seed}, {seconds:.0f} s")
    if args.json:
        doc = {
            "machine": machine_info(1),
            "command": [
                "metatutor",
                "bench",
                "schedule",
                *(sys.argv[1:] if argv is None else argv),
            ],
            "classes": n,
            "seed": args.seed,
            "seconds": round(seconds, 1),
            "rows": [r.as_dict() for r in rows],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
