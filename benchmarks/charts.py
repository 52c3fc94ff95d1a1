"""What drawing the charts in Chinese costs: the packaged Noto Sans SC against English.

    .venv/bin/python -m benchmarks.charts --renders 20 --json benchmarks/results/charts.json

The /stats chart (three panels, 28 days, 7 tags, Chinese tag names) and the /admin_stats chart
are drawn in English (DejaVu Sans, with the CJK font only as fallback for the tags: the
baseline, and what a Chinese student got before on a plain install) and in Chinese (Noto Sans
SC first). For each: the first chart of a fresh process (imports matplotlib and, for Chinese,
registers and opens the font file), then the median and p90 of ``--renders`` more, and the
PNG's size. Also the disk space the font package takes.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import percentile, table, write_json

_FIRST = """
import json, sys, time
began = time.perf_counter()
from benchmarks.charts import sample_stats
from bot.admin_charts import admin_chart
from bot.charts import stats_chart
student, admin = sample_stats()
png = (stats_chart if sys.argv[1] == "stats" else admin_chart)(
    student if sys.argv[1] == "stats" else admin, sys.argv[2]
)
print(json.dumps({"seconds": time.perf_counter() - began}))
"""


def sample_stats() -> tuple[Any, Any]:
    """A month of answers, seven tags (mostly Chinese), two weeks of reviews, three decks."""
    from tutor.admin import AdminStats
    from tutor.views import DayCount, StudentStats, TagRecall

    rng = random.Random(7)
    first = date(2026, 3, 1)
    days = []
    for i in range(28):
        answers = rng.randint(0, 30)
        days.append(DayCount(first + timedelta(days=i), answers, rng.randint(0, answers)))
    names = ["历史::罗马", "地理", "生物::细胞", "animals", "数学", "化学反应", "Vocabulary::动词"]
    tags = [TagRecall(name, rng.random(), rng.randint(1, 20)) for name in names]
    due = [(first + timedelta(days=28 + i), rng.randint(0, 15)) for i in range(14)]
    student = StudentStats(10, 80, 0.7, 4, 30, 120, days, tags, due)
    decks = [("古罗马", 100, 70), ("Silk Road 丝绸之路", 50, 20), ("Sample", 10, 9)]
    return student, AdminStats(per_day=days, per_deck=decks, hardest=[])


def first_chart(chart: str, lang: str) -> float:
    """Seconds to the first chart in a fresh interpreter (imports included)."""
    done = subprocess.run(
        [sys.executable, "-c", _FIRST, chart, lang],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


def steady(chart: str, lang: str, renders: int) -> tuple[list[float], int]:
    """Seconds of each of ``renders`` charts after a warm-up one, and the PNG's bytes."""
    from bot.admin_charts import admin_chart
    from bot.charts import stats_chart

    student, admin = sample_stats()

    def draw() -> bytes:
        if chart == "stats":
            return stats_chart(student, lang)
        return admin_chart(admin, lang)

    png = draw()
    times = []
    for _ in range(renders):
        began = time.perf_counter()
        draw()
        times.append(time.perf_counter() - began)
    return times, len(png)


def font_package_mb() -> float:
    """Disk space of the installed font package."""
    from bot.chart_fonts import packaged_font_path

    path = packaged_font_path()
    if path is None:
        return float("nan")
    return sum(f.stat().st_size for f in path.parent.rglob("*") if f.is_file()) / 1e6


def main() -> None:
    """Run and print the table; save it with ``--json``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    results: list[dict[str, Any]] = []
    for chart in ("stats", "admin_stats"):
        for lang, font in (("en", "DejaVu Sans (baseline)"), ("zh", "Noto Sans SC")):
            first = first_chart(chart, lang)
            times, size = steady(chart, lang, args.renders)
            median, p90 = statistics.median(times), percentile(times, 0.9)
            rows.append([f"/{chart}", lang, font, first * 1e3, median * 1e3, p90 * 1e3, size / 1e3])
            results.append(
                {
                    "chart": chart,
                    "lang": lang,
                    "font": font,
                    "first_ms": first * 1e3,
                    "median_ms": median * 1e3,
                    "p90_ms": p90 * 1e3,
                    "png_kb": size / 1e3,
                }
            )
    headers = ["chart", "lang", "font", "first (ms)", "median (ms)", "p90 (ms)", "PNG (kB)"]
    print(table(headers, rows))
    font_mb = font_package_mb()
    print(f"\nfont package on disk: {font_mb:.1f} MB")
    write_json(args.json, {"renders": args.renders, "font_package_mb": font_mb, "rows": results})


if __name__ == "__main__":
    main()
