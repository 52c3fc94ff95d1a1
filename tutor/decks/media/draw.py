"""Draw the images used by the bundled demo deck.

Run from anywhere with ``python tutor/decks/media/draw.py``; the PNG files are written
next to this script. The drawings are deterministic, so re-running reproduces them.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: no display needed

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Rectangle

MEDIA_DIR = Path(__file__).resolve().parent
"""Where the images are written (beside this script)."""

DPI = 100

# Colours of the French tricolour as commonly reproduced on screen.
FRANCE_BLUE = "#002395"
FRANCE_WHITE = "#FFFFFF"
FRANCE_RED = "#ED2939"


def _blank_figure(width_in: float, height_in: float) -> tuple[Figure, Axes]:
    """A figure whose single axes fills it, with no ticks or frame."""
    fig = plt.figure(figsize=(width_in, height_in), dpi=DPI)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    return fig, ax


def draw_flag_france(path: Path) -> None:
    """Draw the flag of France: three equal vertical bands, ratio 2:3."""
    fig, ax = _blank_figure(3.0, 2.0)
    ax.set_xlim(0, 3)
    ax.set_ylim(0, 2)
    for i, colour in enumerate((FRANCE_BLUE, FRANCE_WHITE, FRANCE_RED)):
        ax.add_patch(Rectangle((i, 0), 1, 2, facecolor=colour, edgecolor="none"))
    # A thin grey border so the white band stays visible on a white chat background.
    ax.add_patch(Rectangle((0, 0), 3, 2, fill=False, edgecolor="#999999", linewidth=2))
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def regular_polygon(n_sides: int, radius: float = 1.0) -> list[tuple[float, float]]:
    """Vertices of a regular polygon centred on the origin, one vertex at the top."""
    if n_sides < 3:
        raise ValueError(f"a polygon needs at least 3 sides, got {n_sides}")
    return [
        (
            radius * math.cos(math.pi / 2 + 2 * math.pi * k / n_sides),
            radius * math.sin(math.pi / 2 + 2 * math.pi * k / n_sides),
        )
        for k in range(n_sides)
    ]


def draw_polygon(path: Path, n_sides: int) -> None:
    """Draw a filled regular polygon with ``n_sides`` sides on a white square."""
    fig, ax = _blank_figure(2.4, 2.4)
    ax.set_xlim(-1.2, 1.2)
    ax.set_ylim(-1.2, 1.2)
    ax.set_aspect("equal")
    ax.add_patch(
        Polygon(
            regular_polygon(n_sides),
            closed=True,
            facecolor="#4C9BE8",
            edgecolor="#1B4F8A",
            linewidth=3,
        )
    )
    fig.savefig(path, dpi=DPI, facecolor="white")
    plt.close(fig)


def main() -> None:
    """Write every demo image into :data:`MEDIA_DIR`."""
    draw_flag_france(MEDIA_DIR / "flag_france.png")
    draw_polygon(MEDIA_DIR / "hexagon.png", 6)


if __name__ == "__main__":
    main()
