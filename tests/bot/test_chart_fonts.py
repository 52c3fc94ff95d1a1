"""Chart fonts: a CJK family is picked when installed; without one, charts stay English."""

from __future__ import annotations

import pytest

from bot import chart_fonts
from bot.admin_charts import admin_chart
from tutor.admin import AdminStats


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
