"""Fonts for the charts: Noto Sans SC from a PyPI package, so Chinese draws on any install.

matplotlib's default DejaVu Sans has no Chinese glyphs: Chinese titles and tags would print as
boxes. The project depends on ``pylopdf-fonts-zh-cn``, a data-only package that ships Noto Sans
SC (Simplified Chinese glyph forms and Latin, SIL Open Font License 1.1), and registers that
file with matplotlib on first use. Should the file be missing (a trimmed install), an installed
system family with CJK glyphs is used instead; with neither, the charts fall back to English.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

# System families, preferred first; a prefix matches every member ("Noto Sans CJK SC", "... JP").
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


def packaged_font_path() -> Path | None:
    """The Noto Sans SC file the font package installed, or None if it is not there."""
    try:
        from pylopdf_fonts_zh_cn import sans_path
    except ImportError:
        return None
    path = Path(sans_path())
    return path if path.is_file() else None


@cache
def cjk_font() -> str | None:
    """The family the charts use for Chinese: the packaged font, else a system one, else None."""
    from matplotlib import font_manager

    path = packaged_font_path()
    if path is not None:
        font_manager.fontManager.addfont(str(path))
        return font_manager.FontProperties(fname=str(path)).get_name()
    return pick_cjk_family(frozenset(font.name for font in font_manager.fontManager.ttflist))


def chart_language(lang: str) -> str:
    """The language a chart can actually be drawn in (Chinese needs a CJK font)."""
    return lang if lang != "zh" or cjk_font() else "en"


def font_rc(lang: str) -> dict[str, Any]:
    """matplotlib settings for a chart in ``lang`` (from :func:`chart_language`).

    Chinese charts use the CJK family first; English ones keep DejaVu Sans and fall back to the
    CJK family glyph by glyph, since deck names and tags may hold Chinese.
    """
    font = cjk_font()
    if font is None:
        return {}
    return {"font.family": [font, "DejaVu Sans"] if lang == "zh" else ["DejaVu Sans", font]}
