"""The course's one plotting style.

Every figure in the course comes from here, so all chapters look alike: the same colours
(Okabe–Ito, readable with colour-vision deficiencies), fonts, grid and sizes.

Figures are built as :class:`matplotlib.figure.Figure` objects, not through ``pyplot``'s global
state, so a widget can redraw one without a notebook displaying it twice. In a notebook, a
figure returned as a cell's last value is shown by the inline backend as usual.

Sizes: one figure inch is :data:`PIXELS_PER_INCH` CSS pixels on screen (a 6.5-inch figure is
650 px wide, its *natural* width). Widgets render their PNG at :data:`PIXEL_RATIO` times that
many pixels and display it at the natural width, so it stays crisp on high-DPI screens.

Failure states are said on the figure, not only in text: :func:`mark_problem` writes a boxed
message on a panel ("MAML diverged at step 7: not drawn"), and :func:`problems` reads the
messages of a figure back (the widgets show them in their readout too). :func:`off_chart_step`
finds the first step at which a curve stops being drawable, :func:`hidden_since` the step since
which the last one has been out of sight, and :func:`overflowing_texts` lists
the texts cut by the figure's edge (the tests keep every explorer free of them).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text

__all__ = [
    "COLORS",
    "PIXELS_PER_INCH",
    "PIXEL_RATIO",
    "PROBLEM_COLOR",
    "STYLE",
    "bar_weights",
    "figure_size_px",
    "figure_to_png",
    "hidden_since",
    "legend_below",
    "mark_problem",
    "new_figure",
    "off_chart_step",
    "overflowing_texts",
    "png_size",
    "problems",
]

#: CSS pixels per figure inch: a figure's natural on-screen width is ``width × PIXELS_PER_INCH``.
PIXELS_PER_INCH = 100
#: Device pixels per CSS pixel of the PNGs widgets display (2: crisp on high-DPI screens).
PIXEL_RATIO = 2
#: Frame and text colour of a failure message on a figure (vermillion, as in :data:`COLORS`).
PROBLEM_COLOR = "#D55E00"
_PROBLEM_GID = "metalearn-problem"

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
    "figure.dpi": PIXELS_PER_INCH,
    "savefig.dpi": PIXELS_PER_INCH,
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


def legend_below(figure: Figure, handles: Sequence[Artist], *, ncol: int, fontsize: float = 8) -> Legend:
    """One legend for all panels of a :func:`new_figure`, centred under them in a band the layout keeps free.

    Unlike ``figure.legend(loc="outside lower center")`` it is anchored in figure fractions, so a save with
    ``bbox_inches="tight"`` that adds a caption under the figure (the widgets' static picture) leaves it in
    place instead of moving it onto the caption.
    """
    legend = figure.legend(handles=list(handles), loc="lower center", bbox_to_anchor=(0.5, 0.0),
                           bbox_transform=figure.transFigure, ncol=ncol, fontsize=fontsize)
    top = legend.get_window_extent(figure.canvas.get_renderer()).y1 + 4 * figure.dpi / 72  # and a 4-pt gap
    band = top / figure.bbox.height
    engine = figure.get_layout_engine()
    if engine is not None:
        engine.set(rect=(0.0, band, 1.0, 1.0 - band))
    return legend


def figure_to_png(figure: Figure, *, dpi: int = PIXELS_PER_INCH, **savefig_kwargs: object) -> bytes:
    """Render ``figure`` to PNG bytes, identical bytes for identical figures (no timestamp).

    ``dpi`` is device pixels per inch: :data:`PIXELS_PER_INCH` gives the natural size, twice that
    a high-DPI picture. Other keyword arguments go to ``savefig`` (e.g. ``bbox_inches="tight"``).
    """
    buffer = io.BytesIO()
    with mpl.rc_context(STYLE):
        figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None}, **savefig_kwargs)
    return buffer.getvalue()


def figure_size_px(figure: Figure) -> tuple[int, int]:
    """The figure's natural on-screen size in CSS pixels, ``(width, height)``."""
    width, height = figure.get_size_inches()
    return round(width * PIXELS_PER_INCH), round(height * PIXELS_PER_INCH)


def png_size(png: bytes) -> tuple[int, int]:
    """``(width, height)`` in pixels of PNG bytes, read from the IHDR header.

    Raises:
        ValueError: ``png`` is not a PNG.
    """
    if len(png) < 24 or not bytes(png[:8]) == b"\x89PNG\r\n\x1a\n" or bytes(png[12:16]) != b"IHDR":
        raise ValueError("png must be the bytes of a PNG image")
    width, height = struct.unpack(">II", bytes(png[16:24]))
    return int(width), int(height)


def mark_problem(ax: Axes, message: str, *, y: float | None = None) -> Text:
    """Say a failure state on the panel itself: a framed message across ``ax``.

    Use it wherever a curve is missing, left the axes or stopped ("MAML diverged at step 7: its
    curve is not drawn"); :func:`problems` reads the messages back, so the readout can repeat them.

    Args:
        y: the message's centre in axes units; by default the middle of the panel, and each
            further message on the same panel 0.17 lower.

    Raises:
        ValueError: an empty message.
    """
    if not isinstance(message, str) or not message.strip():
        raise ValueError(f"message must be a non-empty string, got {message!r}")
    if y is None:
        y = 0.5 - 0.17 * sum(t.get_gid() == _PROBLEM_GID for t in ax.texts)
    text = ax.text(
        0.5, y, message, transform=ax.transAxes, ha="center", va="center", fontsize=9, color=PROBLEM_COLOR,
        zorder=10, bbox={"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": PROBLEM_COLOR, "alpha": 0.95},
    )
    text.set_gid(_PROBLEM_GID)
    return text


def problems(figure: Figure) -> list[str]:
    """The messages written on ``figure`` by :func:`mark_problem`, panel by panel."""
    return [t.get_text() for ax in figure.axes for t in ax.texts if t.get_gid() == _PROBLEM_GID]


def _as_steps(curves: np.ndarray) -> np.ndarray:
    """``curves`` as ``[steps, points]`` float64 (one value a step becomes one point a step)."""
    values = np.asarray(curves, np.float64)
    return values.reshape(values.shape[0], -1) if values.ndim else values.reshape(1, 1)


def _why_hidden(curve: np.ndarray, low: float, high: float) -> str | None:
    """``"not finite"``, ``"off the chart"`` (no point inside [low, high] and no segment crossing the
    band from above to below), or ``None`` when the curve can be seen."""
    if not np.all(np.isfinite(curve)):
        return "not finite"
    above, below = curve > high, curve < low
    crosses = np.any(above[:-1] & below[1:]) or np.any(below[:-1] & above[1:])
    return "off the chart" if np.all(above | below) and not crosses else None


def off_chart_step(curves: np.ndarray, ylim: tuple[float, float]) -> tuple[int, str] | None:
    """The first step at which a curve can no longer be seen, and why, or ``None``.

    Args:
        curves: ``[steps, points]``, the curve after each step (or ``[steps]``: one value a step).
        ylim: the panel's ``(low, high)``.

    Returns:
        ``(step, "not finite")`` where the curve first holds NaN or ±inf, ``(step, "off the chart")``
        where no part of it is inside ``ylim`` any more (no point inside, and no segment crossing
        the band from above to below), whichever comes first; ``None`` when it is drawable at
        every step.
    """
    low, high = float(min(ylim)), float(max(ylim))
    for step, curve in enumerate(_as_steps(curves)):
        reason = _why_hidden(curve, low, high)
        if reason is not None:
            return step, reason
    return None


def hidden_since(curves: np.ndarray, ylim: tuple[float, float]) -> tuple[int, str] | None:
    """Whether the last curve of a run can be seen, and if not since when: ``None`` when the curve
    after the last step is visible in ``ylim``; otherwise ``(step, reason)`` — the step from which it
    has been out of sight without a break, and why (``"not finite"`` or ``"off the chart"``, as in
    :func:`off_chart_step`; for ``"not finite"`` the step where it first became NaN or inf).
    """
    low, high = float(min(ylim)), float(max(ylim))
    status = [_why_hidden(curve, low, high) for curve in _as_steps(curves)]
    reason = status[-1]
    if reason is None:
        return None
    step = len(status) - 1
    while step > 0 and status[step - 1] is not None and (reason != "not finite" or status[step - 1] == reason):
        step -= 1
    return step, reason


def _drawn_texts(figure: Figure) -> list[Text]:
    """The texts a draw of ``figure`` shows: figure texts and legends, and per panel its titles, axis
    labels, notes, legend and the tick labels inside the view (not the ones matplotlib keeps but
    does not draw)."""
    texts: list[Text] = list(figure.texts)
    legends = list(figure.legends)
    for ax in figure.axes:
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis._update_ticks():  # the ticks inside the view interval, as drawn
                texts += [tick.label1, tick.label2]
        if ax.get_legend() is not None:
            legends.append(ax.get_legend())
    for legend in legends:
        texts += [*legend.get_texts(), legend.get_title()]
    return [t for t in texts if t.get_visible() and t.get_text().strip()]


def overflowing_texts(figure: Figure, *, tolerance_px: float = 1.0) -> list[str]:
    """Texts of ``figure`` (titles, labels, ticks, legends, notes) that the figure's edge cuts.

    Drawn at the natural size; a text is cut when its box reaches more than ``tolerance_px``
    beyond the figure.
    """
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    width, height = figure.bbox.width, figure.bbox.height
    cut = []
    for text in _drawn_texts(figure):
        box = text.get_window_extent(renderer)
        if box.x0 < -tolerance_px or box.y0 < -tolerance_px or box.x1 > width + tolerance_px \
                or box.y1 > height + tolerance_px:
            cut.append(text.get_text())
    return cut


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
