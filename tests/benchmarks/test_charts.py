"""The chart benchmark draws what it claims: both charts, both languages, timed."""

from __future__ import annotations

import pytest

from benchmarks.charts import font_package_mb, steady


@pytest.mark.parametrize("chart", ["stats", "admin_stats"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_chart_is_drawn_and_timed(chart: str, lang: str) -> None:
    times, size = steady(chart, lang, renders=2)
    assert len(times) == 2 and all(t > 0 for t in times)
    assert size > 10_000  # a real PNG of three or two panels, not an empty figure


def test_the_font_package_size_is_measured() -> None:
    assert 5 < font_package_mb() < 50
