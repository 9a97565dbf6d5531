"""Interactive explorers for the notebooks, built so their logic can be tested without a browser.

Every explorer is a :class:`WidgetApp`: named controls (ipywidgets sliders, dropdowns), a text
readout (``ipywidgets.HTML``) and a picture (``ipywidgets.Image`` holding a PNG). Moving a
control calls a plain Python *render function* with the controls' values; it returns a
:class:`View` (figure + readout text) and the app puts them on screen. There is no
``ipywidgets.Output`` and no ``interact``: updates are widget state, not printed output, so
they behave the same in JupyterLab, Voilà, nbval and pytest.

In pytest::

    app = softmax_explorer()
    app.controls["temperature"].value = 0.1   # as if the learner moved the slider
    assert app.view.data["weights"][-1] > 0.9

Where widgets cannot render (nbviewer, GitHub, ``nbconvert --to html``) the displayed output
still carries a static PNG of the default view and a text summary (see ``_repr_mimebundle_``).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ipywidgets
import numpy as np
from matplotlib.figure import Figure

from metalearn_lib.plotting import bar_weights, figure_to_png, new_figure
from metalearn_lib.welcome import naive_softmax, stable_softmax

__all__ = ["SCORE_PRESETS", "View", "WidgetApp", "softmax_explorer", "softmax_view"]

#: CSS classes the browser test looks for.
CONTAINER_CLASS = "metalearn-widget"
READOUT_CLASS = "metalearn-readout"


@dataclass
class View:
    """What an explorer shows for one setting of its controls."""

    figure: Figure
    readout: str  #: plain text, one or a few lines
    data: dict[str, Any] = field(default_factory=dict)  #: the numbers behind the view, for tests


class WidgetApp:
    """Controls + readout + figure, re-rendered by ``render(**values)`` whenever a control moves.

    Args:
        controls: name → ipywidgets value widget; the names are ``render``'s keyword arguments.
        render: computes a :class:`View` from the controls' values.
        title: a short heading shown above the controls.
    """

    def __init__(
        self,
        controls: Mapping[str, ipywidgets.ValueWidget],
        render: Callable[..., View],
        title: str = "",
    ) -> None:
        if not controls:
            raise ValueError("controls must name at least one widget")
        for name, control in controls.items():
            if not isinstance(control, ipywidgets.ValueWidget):
                raise TypeError(f"controls[{name!r}] must be an ipywidgets value widget, got {type(control).__name__}")
        self.controls: dict[str, ipywidgets.ValueWidget] = dict(controls)
        self.render = render
        self.readout = ipywidgets.HTML()
        self.readout.add_class(READOUT_CLASS)
        self.image = ipywidgets.Image(format="png")
        children: list[ipywidgets.Widget] = []
        if title:
            children.append(ipywidgets.HTML(f"<b>{html.escape(title)}</b>"))
        children += [ipywidgets.HBox(list(self.controls.values())), self.readout, self.image]
        self.container = ipywidgets.VBox(children)
        self.container.add_class(CONTAINER_CLASS)
        self.view: View = self.refresh()
        for control in self.controls.values():
            control.observe(self._on_change, names="value")

    def values(self) -> dict[str, Any]:
        """The current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def refresh(self) -> View:
        """Re-render from the controls' current values and update the readout and picture."""
        view = self.render(**self.values())
        self.view = view
        self.readout.value = "<pre style='margin:0'>" + html.escape(view.readout) + "</pre>"
        self.image.value = figure_to_png(view.figure)
        return view

    def _on_change(self, _change: Mapping[str, Any]) -> None:
        self.refresh()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The live widget, plus a static PNG and a text summary for renderers without widgets."""
        bundle = dict(self.container._repr_mimebundle_(**kwargs))
        bundle["image/png"] = base64.b64encode(bytes(self.image.value)).decode("ascii")
        bundle["text/plain"] = self.view.readout
        return bundle


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
