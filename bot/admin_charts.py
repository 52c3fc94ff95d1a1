"""The /admin_stats chart: answers per day with accuracy, and accuracy per deck (PNG).

Titles and axis labels come from the ``admin_chart.*`` catalog strings, in the admin's
language; Chinese text draws in the font :mod:`bot.chart_fonts` ships.
"""

from __future__ import annotations

import io
import warnings

from bot.chart_fonts import chart_language, font_rc
from bot.i18n import plain
from tutor.admin import AdminStats

_BLUE = "#3b6ea8"
_GREEN = "#4c9a5f"
_ORANGE = "#d9822b"
MAX_DECKS = 10


def admin_chart(stats: AdminStats, lang: str = "en") -> bytes:
    """Two panels side by side; matplotlib's object API on an Agg canvas (thread-safe)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    lang = chart_language(lang)
    with matplotlib.rc_context(font_rc(lang)), warnings.catch_warnings():  # type: ignore[arg-type]
        warnings.filterwarnings("ignore", message="Glyph .* missing")  # deck names in CJK
        figure = Figure(figsize=(10, 3.6), dpi=100, layout="constrained")
        FigureCanvasAgg(figure)
        per_day, per_deck = figure.subplots(1, 2, width_ratios=[1.4, 1])
        days = stats.per_day
        x = list(range(len(days)))
        per_day.set_title(plain(lang, "admin_chart.per_day"), fontsize=10)
        per_day.bar(x, [d.answers for d in days], color=_BLUE)
        per_day.set_ylabel(plain(lang, "admin_chart.answers"), color=_BLUE)
        per_day.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts, never 0.5
        step = max(1, len(days) // 7)
        per_day.set_xticks(x[::step], [d.day.strftime("%m-%d") for d in days][::step], fontsize=8)
        right = per_day.twinx()
        points = [(i, d.correct / d.answers) for i, d in zip(x, days, strict=True) if d.answers]
        right.plot([p[0] for p in points], [p[1] for p in points], color=_ORANGE, marker="o")
        right.set_ylim(0, 1.05)
        right.set_ylabel(plain(lang, "admin_chart.accuracy"), color=_ORANGE)
        right.yaxis.set_major_formatter(lambda value, _pos: f"{value:.0%}")
        per_deck.set_title(plain(lang, "admin_chart.per_deck"), fontsize=10)
        decks = stats.per_deck[:MAX_DECKS]
        if decks:
            y = list(range(len(decks)))
            labels = [name if len(name) <= 20 else name[:19] + "…" for name, _, _ in decks]
            per_deck.barh(y, [c / n for _, n, c in decks], color=_GREEN)
            per_deck.set_yticks(y, labels, fontsize=8)
            per_deck.set_xlim(0, 1)
            per_deck.xaxis.set_major_formatter(lambda value, _pos: f"{value:.0%}")
        else:
            no_data = plain(lang, "admin_chart.no_data")
            per_deck.text(0.5, 0.5, no_data, ha="center", va="center", color="grey")
            per_deck.set_xticks([])
            per_deck.set_yticks([])
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return buffer.getvalue()
