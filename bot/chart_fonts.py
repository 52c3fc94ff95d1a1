"""Fonts for the charts: a CJK-capable family when one is installed, else none.

matplotlib's default DejaVu Sans has no Chinese glyphs, so a Chinese title would print as
boxes. The charts draw Chinese text only when :func:`cjk_font` finds a family that has them
(the Docker image installs ``fonts-noto-cjk``); otherwise they fall back to English.
"""

from __future__ import annotations

from functools import cache
from typing import Any

# Preferred first; a prefix matches every member of a family ("Noto Sans CJK SC", "... JP").
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Noto Sans CJK",
    "Source Han Sans",
    "WenQuanYi",
    "Noto Serif CJK",
)


def pick_cjk_family(installed: set[str] | frozenset[str]) -> str | None:
    """The first of :data:`CJK_FAMILIES` among ``installed`` family names (exact, then prefix)."""
    for wanted in CJK_FAMILIES:
        if wanted in installed:
            return wanted
        matches = sorted(name for name in installed if name.startswith(wanted))
        if matches:
            return matches[0]
    return None


@cache
def cjk_font() -> str | None:
    """An installed font family with Chinese glyphs, or None."""
    from matplotlib import font_manager

    return pick_cjk_family(frozenset(font.name for font in font_manager.fontManager.ttflist))


def chart_language(lang: str) -> str:
    """The language a chart can actually be drawn in (Chinese needs a CJK font)."""
    return lang if lang != "zh" or cjk_font() else "en"


def font_rc(lang: str) -> dict[str, Any]:
    """matplotlib settings for a chart in ``lang`` (from :func:`chart_language`).

    With a CJK family installed, Chinese charts use it first; English ones keep DejaVu Sans
    and fall back to it glyph by glyph, since deck names and tags may hold Chinese.
    """
    font = cjk_font()
    if font is None:
        return {}
    return {"font.family": [font, "DejaVu Sans"] if lang == "zh" else ["DejaVu Sans", font]}
