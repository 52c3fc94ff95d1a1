"""Chart fonts: Chinese draws in the packaged Noto Sans SC; charts speak the user's language."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import chart_fonts
from bot.admin_charts import admin_chart
from bot.charts import stats_chart
from bot.i18n import catalog, plain
from tutor.admin import AdminStats
from tutor.views import DayCount, StudentStats, TagRecall


@pytest.mark.parametrize(
    ("installed", "expected"),
    [
        ({"DejaVu Sans", "Noto Sans CJK JP", "Noto Sans CJK SC"}, "Noto Sans CJK SC"),
        ({"DejaVu Sans", "Noto Sans CJK JP"}, "Noto Sans CJK JP"),
        ({"WenQuanYi Zen Hei Sharp", "DejaVu Sans"}, "WenQuanYi Zen Hei Sharp"),
        ({"Source Han Sans CN"}, "Source Han Sans CN"),
        ({"DejaVu Sans", "Liberation Serif"}, None),
        (set(), None),
    ],
)
def test_pick_cjk_family(installed: set[str], expected: str | None) -> None:
    assert chart_fonts.pick_cjk_family(installed) == expected


def test_chinese_needs_a_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chart_fonts, "cjk_font", lambda: None)
    assert chart_fonts.chart_language("zh") == "en"
    assert chart_fonts.chart_language("en") == "en"
    assert chart_fonts.font_rc("zh") == {}
    monkeypatch.setattr(chart_fonts, "cjk_font", lambda: "Noto Sans CJK SC")
    assert chart_fonts.chart_language("zh") == "zh"
    assert chart_fonts.font_rc("zh") == {"font.family": ["Noto Sans CJK SC", "DejaVu Sans"]}
    assert chart_fonts.font_rc("en") == {"font.family": ["DejaVu Sans", "Noto Sans CJK SC"]}


def test_admin_chart_draws_in_either_language() -> None:
    empty = AdminStats(per_day=[], per_deck=[], hardest=[])
    for lang in ("en", "zh"):
        assert admin_chart(empty, lang).startswith(b"\x89PNG\r\n\x1a\n")


def _drawn(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The figures the charts save, to read their labels back."""
    from matplotlib.figure import Figure

    figures: list[Any] = []
    save = Figure.savefig

    def spy(self: Figure, *args: Any, **kwargs: Any) -> None:
        figures.append(self)
        save(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", spy)
    return figures


def _stats() -> tuple[StudentStats, AdminStats]:
    days = [DayCount(date(2026, 3, 1) + timedelta(days=i), 10 + i, 5 + i) for i in range(14)]
    tags = [
        TagRecall("历史::罗马", 0.8, 5),
        TagRecall("生物::细胞", 0.4, 3),
        TagRecall("maths", 0.6, 2),
    ]
    due = [(date(2026, 3, 15) + timedelta(days=i), i) for i in range(7)]
    student = StudentStats(3, 20, 0.7, 2, 5, 40, per_day=days, recall_by_tag=tags, due_forecast=due)
    admin = AdminStats(per_day=days, per_deck=[("古罗马", 10, 7), ("Sample", 5, 4)], hardest=[])
    return student, admin


def test_a_plain_install_draws_chinese_with_the_packaged_font() -> None:
    path = chart_fonts.packaged_font_path()
    assert path is not None and path.name == "NotoSansSC-Regular.otf"
    assert chart_fonts.cjk_font() == "Noto Sans SC"
    assert chart_fonts.chart_language("zh") == "zh"
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    family = chart_fonts.font_rc("zh")["font.family"]
    found = font_manager.findfont(font_manager.FontProperties(family=family))
    assert Path(found) == path  # the packaged file, not a system font
    font = FT2Font(str(path))
    student, admin = _stats()
    texts = [v for k, v in catalog("zh").items() if k.startswith(("chart.", "admin_chart."))]
    texts += [tag.tag for tag in student.recall_by_tag] + [name for name, _, _ in admin.per_deck]
    missing = {ch for text in texts for ch in text if font.get_char_index(ord(ch)) == 0}
    assert missing == set()  # no boxes: every character of the titles, labels and tags


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_charts_are_labelled_in_the_users_language(
    monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    figures = _drawn(monkeypatch)
    student, admin = _stats()
    stats_chart(student, lang)
    admin_chart(admin, lang)
    stats_figure, admin_figure = figures
    per_day, by_tag, due = stats_figure.axes[:3]
    assert [per_day.get_title(), by_tag.get_title(), due.get_title()] == [
        plain(lang, "chart.per_day"),
        plain(lang, "chart.recall_by_tag"),
        plain(lang, "chart.due_forecast"),
    ]
    assert per_day.get_ylabel() == plain(lang, "chart.answers")
    assert stats_figure.axes[3].get_ylabel() == plain(lang, "chart.accuracy")  # the twin axis
    assert {label.get_text() for label in by_tag.get_yticklabels()} == {
        "历史::罗马",
        "生物::细胞",
        "maths",
    }
    per_deck = admin_figure.axes[1]
    assert admin_figure.axes[0].get_title() == plain(lang, "admin_chart.per_day")
    assert admin_figure.axes[0].get_ylabel() == plain(lang, "admin_chart.answers")
    assert per_deck.get_title() == plain(lang, "admin_chart.per_deck")
    assert admin_figure.axes[2].get_ylabel() == plain(lang, "admin_chart.accuracy")


def test_counts_are_marked_in_whole_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """One answer, one review due: the count axes read 0, 1, not 0.2, 0.4, … (a student's
    first day); the accuracy axis keeps its percentages."""
    figures = _drawn(monkeypatch)
    days = [DayCount(date(2026, 3, 1), 1, 1)]
    due = [(date(2026, 3, 2), 0), (date(2026, 3, 3), 1)]
    student = StudentStats(1, 1, 1.0, 1, 1, 10, per_day=days, recall_by_tag=[], due_forecast=due)
    admin = AdminStats(per_day=days, per_deck=[("Sample", 1, 1)], hardest=[])
    stats_chart(student, "zh")
    admin_chart(admin, "en")
    stats_figure, admin_figure = figures
    counted = [stats_figure.axes[0], stats_figure.axes[2], admin_figure.axes[0]]
    for axes in counted:
        ticks = [value for value in axes.get_yticks() if 0 <= value <= axes.get_ylim()[1]]
        assert ticks and all(value == int(value) for value in ticks), ticks
