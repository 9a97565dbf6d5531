"""Explorers for ``00_welcome``: the softmax with a temperature."""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets
import numpy as np

from metalearn_lib.plotting import bar_weights, mark_problem, new_figure
from metalearn_lib.welcome import naive_softmax, stable_softmax
from metalearn_lib.widgets.core import View, WidgetApp

__all__ = ["SCORE_PRESETS", "softmax_explorer", "softmax_view"]


#: Score vectors the softmax explorer offers: ordinary scores, and the same scores shifted by
#: 1000, where the formula taken literally overflows.
SCORE_PRESETS: dict[str, tuple[float, ...]] = {
    "rewards 1, 2, 3, 0.5": (1.0, 2.0, 3.0, 0.5),
    "rewards 1001, 1002, 1003, 1000.5": (1001.0, 1002.0, 1003.0, 1000.5),
    "losses 0.2, 0.4, 0.1, 0.9 (negated)": (-0.2, -0.4, -0.1, -0.9),
}


def softmax_view(scores: Sequence[float], temperature: float, labels: Sequence[str] | None = None) -> View:
    """The softmax explorer's render function: bars of ``stable_softmax(scores, temperature)``."""
    scores_array = np.asarray(scores, dtype=np.float64)
    labels = list(labels) if labels is not None else [f"learner {i + 1}" for i in range(len(scores_array))]
    weights = stable_softmax(scores_array, temperature)
    naive = naive_softmax(scores_array, temperature)
    figure, axes = new_figure(width=5.5, height=3.0)
    bar_weights(axes[0, 0], labels, weights, title=f"softmax weights at temperature τ = {temperature:.3g}")
    if not np.all(np.isfinite(naive)):
        largest = float(np.max(scores_array / temperature))
        axes[0, 0].set_ylim(0.0, 1.6)  # room above the bars for the message
        axes[0, 0].set_yticks(np.linspace(0.0, 1.0, 6))
        mark_problem(axes[0, 0], f"naive formula: exp({largest:.3g}) = inf and inf/inf = nan\n"
                                 "bars: the stable softmax (largest score subtracted first)", y=0.85)
    entropy = float(-(weights * np.log(np.clip(weights, 1e-300, None))).sum())
    readout = (
        f"τ = {temperature:.3g}   weights = [{', '.join(f'{w:.3f}' for w in weights)}]   "
        f"entropy = {entropy:.3f} nats (uniform: {np.log(len(weights)):.3f})\n"
        f"naive formula gives [{', '.join(f'{w:.3f}' for w in naive)}]"
    )
    return View(figure=figure, readout=readout, data={"weights": weights, "naive": naive, "entropy": entropy})


def softmax_explorer(temperature: float = 1.0, preset: str = next(iter(SCORE_PRESETS))) -> WidgetApp:
    """A temperature slider (log scale, τ from 0.03 to 30) and a choice of scores, showing the weights.

    Raises:
        ValueError: ``preset`` is not one of :data:`SCORE_PRESETS`, or the temperature is out of range.
    """
    if preset not in SCORE_PRESETS:
        raise ValueError(f"preset must be one of {list(SCORE_PRESETS)}, got {preset!r}")
    if not 0.03 <= temperature <= 30:
        raise ValueError(f"temperature must be in [0.03, 30] for the slider, got {temperature}")
    temperature_slider = ipywidgets.FloatLogSlider(
        value=temperature, base=10, min=-1.5, max=1.5, step=0.05, description="temperature τ",
        readout_format=".3g", continuous_update=False, style={"description_width": "initial"},
    )
    preset_dropdown = ipywidgets.Dropdown(options=list(SCORE_PRESETS), value=preset, description="scores")

    def render(temperature: float, preset: str) -> View:
        return softmax_view(SCORE_PRESETS[preset], temperature)

    return WidgetApp(
        {"temperature": temperature_slider, "preset": preset_dropdown},
        render,
        title="Softmax with a temperature: from scores to weights",
    )
