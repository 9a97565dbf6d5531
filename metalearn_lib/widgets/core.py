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

What the kit guarantees, so that every chapter's explorer looks and behaves alike:

* **The picture at its natural size.** The PNG is rendered at :data:`~metalearn_lib.plotting.PIXEL_RATIO`
  times the figure's pixels and displayed at the figure's natural CSS width (inches ×
  :data:`~metalearn_lib.plotting.PIXELS_PER_INCH`), never stretched to the output's width: crisp
  on ordinary and high-DPI screens. Explorer figures are at most :data:`MAX_FIGURE_WIDTH_IN`
  wide, so they fit JupyterLab on a 1366-pixel laptop screen with the file browser open.
* **Controls a mouse can use.** Every slider gets a fixed label width and a track of
  :data:`SLIDER_TRACK_PX`; every dropdown is wide enough for its longest option; the controls
  wrap onto a second row instead of shrinking.
* **Failure states in words.** Messages a render function writes on its figure with
  :func:`~metalearn_lib.plotting.mark_problem` ("MAML diverged at step 7") are repeated under the
  readout, marked ⚠ (:attr:`View.notes`).
* **A static fallback that says what it is.** Where widgets cannot render (nbviewer, GitHub,
  ``nbconvert --to html``, or JupyterLab before the cells have run) the output shows a PNG of the
  default view captioned :data:`STATIC_CAPTION`, and its readout as text (``_repr_mimebundle_``).
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import ipywidgets
from matplotlib.figure import Figure

from metalearn_lib.plotting import PIXEL_RATIO, PIXELS_PER_INCH, PROBLEM_COLOR, figure_to_png, png_size, problems

__all__ = [
    "CONTAINER_CLASS",
    "MAX_FIGURE_WIDTH_IN",
    "NOTE_CLASS",
    "READOUT_CLASS",
    "SLIDER_TRACK_PX",
    "STATIC_CAPTION",
    "View",
    "WidgetApp",
    "plural",
    "size_control",
]

#: CSS classes the browser test looks for.
CONTAINER_CLASS = "metalearn-widget"
READOUT_CLASS = "metalearn-readout"
NOTE_CLASS = "metalearn-note"

#: The widest explorer figure, in inches: JupyterLab's output area is about 930 CSS px wide on a
#: 1366-px screen with the file browser open.
MAX_FIGURE_WIDTH_IN = 9.0
#: The track of every slider, in CSS px (the browser test requires at least 120).
SLIDER_TRACK_PX = 160
#: What the static fallback picture says about itself.
STATIC_CAPTION = "A static picture of the explorer: run the cells above to get its controls."

# Text widths are estimated generously (13 px sans-serif averages about 7 px a character), so a
# label never takes room from a slider's track and an option is never cut.
_CHAR_PX = 8
_LABEL_PAD_PX = 10
_READOUT_MIN_PX = 74  # ipywidgets' minimum readout width
_DROPDOWN_PAD_PX = 40  # the arrow, borders and margins of a <select>
_SLIDERS = (ipywidgets.IntSlider, ipywidgets.FloatSlider, ipywidgets.FloatLogSlider, ipywidgets.SelectionSlider,
            ipywidgets.IntRangeSlider, ipywidgets.FloatRangeSlider, ipywidgets.SelectionRangeSlider)


def plural(count: float, noun: str, plural_form: str | None = None) -> str:
    """``"1 step"``, ``"2 steps"``, ``"0 pulls"``: the count and the noun in the right number."""
    word = noun if count == 1 else (plural_form or noun + "s")
    return f"{count:g} {word}" if isinstance(count, float) else f"{count} {word}"


@dataclass
class View:
    """What an explorer shows for one setting of its controls."""

    figure: Figure
    readout: str  #: plain text, one or a few lines
    data: dict[str, Any] = field(default_factory=dict)  #: the numbers behind the view, for tests

    @property
    def notes(self) -> list[str]:
        """The failure states the figure states (see :func:`~metalearn_lib.plotting.mark_problem`),
        each on one line."""
        return [" ".join(note.split()) for note in problems(self.figure)]


def _text_px(text: str) -> int:
    return _CHAR_PX * len(text) + _LABEL_PAD_PX if text else 0


def _readout_px(control: ipywidgets.ValueWidget) -> int:
    if isinstance(control, ipywidgets.SelectionSlider):
        longest = max((len(str(label)) for label in control._options_labels), default=1)
    elif isinstance(control, ipywidgets.FloatLogSlider):
        bounds = (control.min, control.max)
        longest = max(len(format(control.base**bound, control.readout_format)) for bound in bounds)
    else:
        bounds = (control.min, control.max)
        fmt = getattr(control, "readout_format", "d")
        longest = max(len(format(bound, fmt)) for bound in bounds)
        if isinstance(control, ipywidgets.IntRangeSlider | ipywidgets.FloatRangeSlider):
            longest = 2 * longest + 3
    return max(_READOUT_MIN_PX, _CHAR_PX * longest + _LABEL_PAD_PX)


def size_control(control: ipywidgets.ValueWidget) -> None:
    """Give ``control`` the kit's size: a fixed label width, a :data:`SLIDER_TRACK_PX` track for a
    slider, room for the longest option of a dropdown, and no shrinking in a row."""
    label_px = _text_px(control.description) if hasattr(control, "description") else 0
    if label_px and hasattr(control, "style") and hasattr(control.style, "description_width"):
        control.style.description_width = f"{label_px}px"
    if isinstance(control, _SLIDERS):
        width = label_px + SLIDER_TRACK_PX + _readout_px(control) if control.readout else label_px + SLIDER_TRACK_PX
        control.layout.width = f"{width}px"
    elif isinstance(control, ipywidgets.Dropdown):
        longest = max((len(str(label)) for label in control._options_labels), default=1)
        control.layout.width = f"{label_px + _CHAR_PX * longest + _DROPDOWN_PAD_PX}px"
    control.layout.flex = "0 0 auto"


class WidgetApp:
    """Controls + readout + figure, re-rendered by ``render(**values)`` whenever a control moves.

    Args:
        controls: name → ipywidgets value widget; the names are ``render``'s keyword arguments.
        render: computes a :class:`View` from the controls' values.
        title: a short heading shown above the controls.

    Raises:
        ValueError: no controls, or a view whose figure is wider than :data:`MAX_FIGURE_WIDTH_IN`.
        TypeError: a control that is not an ipywidgets value widget.
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
        for control in self.controls.values():
            size_control(control)
        self.render = render
        self.readout = ipywidgets.HTML()
        self.readout.add_class(READOUT_CLASS)
        self.image = ipywidgets.Image(format="png", layout=ipywidgets.Layout(max_width="100%", align_self="flex-start"))
        self.controls_row = ipywidgets.HBox(
            list(self.controls.values()), layout=ipywidgets.Layout(flex_flow="row wrap", align_items="center")
        )
        children: list[ipywidgets.Widget] = []
        if title:
            children.append(ipywidgets.HTML(f"<b>{html.escape(title)}</b>"))
        children += [self.controls_row, self.readout, self.image]
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
        width_in = float(view.figure.get_size_inches()[0])
        if width_in > MAX_FIGURE_WIDTH_IN + 1e-9:
            raise ValueError(f"an explorer's figure may be at most {MAX_FIGURE_WIDTH_IN:g} inches wide (it must fit "
                             f"JupyterLab on a laptop screen), got {width_in:g}")
        self.view = view
        notes = "".join(f"<div class='{NOTE_CLASS}' style='color:{PROBLEM_COLOR};font-weight:bold'>⚠ "
                        f"{html.escape(note)}</div>" for note in view.notes)
        self.readout.value = ("<pre style='margin:0;white-space:pre-wrap'>" + html.escape(view.readout) + "</pre>"
                              + notes)
        self.image.value = figure_to_png(view.figure, dpi=PIXELS_PER_INCH * PIXEL_RATIO)
        self.image.layout.width = f"{round(width_in * PIXELS_PER_INCH)}px"
        return view

    def _on_change(self, _change: Mapping[str, Any]) -> None:
        self.refresh()

    def text_summary(self) -> str:
        """The readout and its notes as plain text (what renderers without widgets print)."""
        return "\n".join([self.view.readout, *(f"⚠ {note}" for note in self.view.notes)])

    def static_picture(self) -> bytes:
        """The current view as a high-DPI PNG captioned :data:`STATIC_CAPTION` (the fallback picture)."""
        figure = self.view.figure
        caption = figure.text(0.5, 0.0, STATIC_CAPTION, ha="center", va="top", fontsize=9, style="italic",
                              color="#555555")
        try:
            return figure_to_png(figure, dpi=PIXELS_PER_INCH * PIXEL_RATIO, bbox_inches="tight", pad_inches=0.08)
        finally:
            caption.remove()

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """The live widget, plus a static PNG (displayed at its natural width) and a text summary
        for renderers without widgets."""
        bundle = dict(self.container._repr_mimebundle_(**kwargs))
        picture = self.static_picture()
        width, height = png_size(picture)
        bundle["image/png"] = base64.b64encode(picture).decode("ascii")
        bundle["text/plain"] = f"{self.text_summary()}\n({STATIC_CAPTION})"
        metadata = {"image/png": {"width": math.ceil(width / PIXEL_RATIO), "height": math.ceil(height / PIXEL_RATIO)}}
        return bundle, metadata
