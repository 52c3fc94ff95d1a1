"""The /stats chart: answers and accuracy per day, recall per tag, reviews due ahead.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, no display, no global state,
safe to call from a worker thread). Titles and axis labels come from the catalogs, in the
student's language; Chinese text draws in the font :mod:`bot.chart_fonts` ships.
"""

from __future__ import annotations

import io
import warnings

from bot.chart_fonts import chart_language, font_rc
from bot.i18n import plain
from tutor.views import StudentStats

MAX_TAGS = 12
_BLUE = "#3b6ea8"
_GREEN = "#4c9a5f"
_ORANGE = "#d9822b"


def stats_chart(stats: StudentStats, lang: str = "en") -> bytes:
    """A PNG of the student's stats: three panels side by side."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    lang = chart_language(lang)
    with matplotlib.rc_context(font_rc(lang)), warnings.catch_warnings():  # type: ignore[arg-type]
        # Tags may hold glyphs no installed font has; boxes are acceptable, noise is not.
        warnings.filterwarnings("ignore", message="Glyph .* missing")
        figure = Figure(figsize=(12, 3.6), dpi=100, layout="constrained")
        FigureCanvasAgg(figure)
        per_day, by_tag, due = figure.subplots(1, 3, width_ratios=[1.4, 1, 1])
        _per_day(per_day, stats, lang)
        _recall_by_tag(by_tag, stats, lang)
        _due_forecast(due, stats, lang)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _empty(axes: object, lang: str) -> None:
    axes.text(  # type: ignore[attr-defined]
        0.5,
        0.5,
        plain(lang, "chart.no_data"),
        ha="center",
        va="center",
        color="grey",
        transform=axes.transAxes,  # type: ignore[attr-defined]
    )
    axes.set_xticks([])  # type: ignore[attr-defined]
    axes.set_yticks([])  # type: ignore[attr-defined]


def _per_day(axes: object, stats: StudentStats, lang: str) -> None:
    from matplotlib.axes import Axes
    from matplotlib.ticker import MaxNLocator

    assert isinstance(axes, Axes)
    axes.set_title(plain(lang, "chart.per_day"), fontsize=10)
    days = list(stats.per_day)
    if not days or not any(d.answers for d in days):
        _empty(axes, lang)
        return
    x = list(range(len(days)))
    axes.bar(x, [d.answers for d in days], color=_BLUE, label=plain(lang, "chart.answers"))
    axes.set_ylabel(plain(lang, "chart.answers"), color=_BLUE)  # the label names its series
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.2 answers
    step = max(1, len(days) // 7)
    axes.set_xticks(x[::step], [d.day.strftime("%m-%d") for d in days][::step], fontsize=8)
    right = axes.twinx()
    points = [(i, d.correct / d.answers) for i, d in zip(x, days, strict=True) if d.answers]
    right.plot([p[0] for p in points], [p[1] for p in points], color=_ORANGE, marker="o", ms=3)
    right.set_ylim(0, 1.05)
    right.set_ylabel(plain(lang, "chart.accuracy"), color=_ORANGE)
    right.yaxis.set_major_formatter(lambda value, _pos: f"{value:.0%}")


def _recall_by_tag(axes: object, stats: StudentStats, lang: str) -> None:
    from matplotlib.axes import Axes

    assert isinstance(axes, Axes)
    axes.set_title(plain(lang, "chart.recall_by_tag"), fontsize=10)
    tags = sorted(stats.recall_by_tag, key=lambda r: (-r.n_items, r.tag))[:MAX_TAGS]
    if not tags:
        _empty(axes, lang)
        return
    tags.sort(key=lambda r: r.recall)
    labels = [r.tag if len(r.tag) <= 18 else r.tag[:17] + "…" for r in tags]
    y = list(range(len(tags)))
    axes.barh(y, [r.recall for r in tags], color=_GREEN)
    axes.set_yticks(y, labels, fontsize=8)
    axes.set_xlim(0, 1)
    axes.xaxis.set_major_formatter(lambda value, _pos: f"{value:.0%}")


def _due_forecast(axes: object, stats: StudentStats, lang: str) -> None:
    from matplotlib.axes import Axes
    from matplotlib.ticker import MaxNLocator

    assert isinstance(axes, Axes)
    axes.set_title(plain(lang, "chart.due_forecast"), fontsize=10)
    due = stats.due_forecast
    if not due:
        _empty(axes, lang)
        return
    x = list(range(len(due)))
    axes.bar(x, [count for _, count in due], color=_BLUE)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    step = max(1, len(due) // 7)
    axes.set_xticks(x[::step], [day.strftime("%m-%d") for day, _ in due][::step], fontsize=8)
