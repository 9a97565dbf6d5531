"""Interactive explorers for the notebooks, built so their logic can be tested without a browser.

Every explorer is a :class:`WidgetApp`: named controls (ipywidgets sliders, dropdowns), a text
readout (``ipywidgets.HTML``) and a picture (``ipywidgets.Image`` holding a PNG). Moving a
control calls a plain Python *render function* with the controls' values; it returns a
:class:`View` (figure + readout text) and the app puts them on screen. There is no
``ipywidgets.Output`` and no ``interact``: updates are widget state, not printed output, so
they behave the same in JupyterLab, Voilà, nbval and pytest.

In pytest (see tests/test_widgets.py)::

    app = softmax_explorer()
    app.controls["temperature"].value = 0.1   # as if the learner moved the slider
    assert app.view.data["weights"][2] > 0.99

Each chapter's explorers live in the module named after the chapter (``widgets.welcome``, …).

Where widgets cannot render (nbviewer, GitHub, ``nbconvert --to html``) the displayed output
still carries a static PNG of the default view and a text summary (see ``_repr_mimebundle_``).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import ipywidgets
from matplotlib.figure import Figure

from metalearn_lib.plotting import figure_to_png

__all__ = ["CONTAINER_CLASS", "READOUT_CLASS", "View", "WidgetApp"]

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
