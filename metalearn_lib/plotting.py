"""The course's one plotting style.

Every figure in the course comes from here, so all chapters look alike: the same colours
(Okabe–Ito, readable with colour-vision deficiencies), fonts, grid and sizes.

Figures are built as :class:`matplotlib.figure.Figure` objects, not through ``pyplot``'s global
state, so a widget can redraw one without a notebook displaying it twice. In a notebook, a
figure returned as a cell's last value is shown by the inline backend as usual.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = [
    "COLORS",
    "STYLE",
    "bar_weights",
    "figure_to_png",
    "new_figure",
]

#: Okabe–Ito palette, in the order lines and bars use it.
COLORS: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # green
    "#D55E00",  # vermillion
    "#CC79A7",  # purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)

#: rcParams applied to every course figure (through :func:`new_figure`).
STYLE: dict[str, object] = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=list(COLORS)),
    "legend.frameon": False,
    "svg.hashsalt": "metalearn",  # deterministic SVG ids
}


def _register_png_display() -> None:
    """Let IPython show a bare ``Figure`` returned by a cell (pyplot normally does this)."""
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to register
        return
    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["image/png"].for_type(Figure, figure_to_png)


def new_figure(
    nrows: int = 1, ncols: int = 1, *, width: float = 6.0, height: float = 3.5
) -> tuple[Figure, np.ndarray]:
    """A figure in the course style and its axes, always as a 2-D array ``[nrows, ncols]``.

    Args:
        nrows, ncols: grid of panels, each ≥ 1.
        width, height: figure size in inches, each > 0.

    Raises:
        ValueError: a count < 1 or a size ≤ 0.
    """
    if nrows < 1 or ncols < 1:
        raise ValueError(f"nrows and ncols must be ≥ 1, got nrows={nrows}, ncols={ncols}")
    if width <= 0 or height <= 0:
        raise ValueError(f"width and height must be > 0 inches, got width={width}, height={height}")
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(width, height), layout="constrained")
        FigureCanvasAgg(figure)  # attach a canvas so the figure can be drawn and saved
        axes = figure.subplots(nrows, ncols, squeeze=False)
    _register_png_display()
    return figure, axes


def figure_to_png(figure: Figure, *, dpi: int = 100) -> bytes:
    """Render ``figure`` to PNG bytes, identical bytes for identical figures (no timestamp)."""
    buffer = io.BytesIO()
    with mpl.rc_context(STYLE):
        figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def bar_weights(
    ax: Axes,
    labels: Sequence[str],
    weights: Sequence[float],
    *,
    title: str = "",
    ylabel: str = "weight",
) -> None:
    """Draw weights (e.g. softmax outputs) as labelled bars with their values on top, y in [0, 1]."""
    if len(labels) != len(weights):
        raise ValueError(f"labels and weights must have the same length, got {len(labels)} and {len(weights)}")
    positions = np.arange(len(weights))
    colors = [COLORS[i % len(COLORS)] for i in range(len(weights))]
    bars = ax.bar(positions, weights, color=colors)
    ax.bar_label(bars, labels=[f"{w:.2f}" for w in weights], padding=2)
    ax.set_xticks(positions, labels)
    ax.set_ylim(0.0, 1.1)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
