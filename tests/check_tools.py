"""Helpers shared by the tests of the exercise checks and the widgets."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from metalearn_lib.checks import CheckFailed
from metalearn_lib.widgets import WidgetApp


def verdict_of(check: Callable[[Any], None], implementation: Callable[..., Any]) -> str:
    """The verdict ``check`` gives ``implementation``, which must fail it the friendly way.

    Asserts the verdict shows expected / got / hint and no traceback; returns it with runs of
    whitespace collapsed (hints are wrapped at 88 columns: compare words, not lines).
    """
    with pytest.raises(CheckFailed) as failure:
        check(implementation)
    verdict = str(failure.value)
    assert verdict.startswith("❌ ")
    assert "expected:" in verdict and "got:" in verdict and "hint:" in verdict
    rendered = "\n".join(failure.value._render_traceback_())
    assert "Traceback" not in rendered and 'File "' not in rendered
    return " ".join(verdict.split())


def move_first_control(app: WidgetApp) -> tuple[str, bytes]:
    """Move the container's first control one step, as the browser test does; assert that both
    the readout and the picture changed, and return the readout and picture from before."""
    first = next(iter(app.controls.values()))
    readout, image = app.readout.value, bytes(app.image.value)
    first.value = first.value + 1
    assert app.readout.value != readout, "moving the first control must change the readout"
    assert bytes(app.image.value) != image, "moving the first control must change the picture"
    return readout, image


def assert_follows_the_kit(app: WidgetApp) -> None:
    """The widget kit's rules (metalearn_lib.widgets.core) for the app's current view.

    The picture is a high-DPI PNG displayed at the figure's natural width, the figure fits a laptop
    screen and no text is cut by its edge; the controls wrap instead of shrinking, sliders keep
    their track and dropdowns their longest option; the figure's failure notes are in the readout;
    the static fallback is captioned, sized by its metadata, and its text says what it is.
    """
    import ipywidgets

    from metalearn_lib.plotting import PIXEL_RATIO, figure_size_px, overflowing_texts, png_size
    from metalearn_lib.widgets.core import (
        _CHAR_PX,
        MAX_FIGURE_WIDTH_IN,
        NOTE_CLASS,
        SLIDER_TRACK_PX,
        STATIC_CAPTION,
        _text_px,
    )

    figure = app.view.figure
    width_px, height_px = figure_size_px(figure)
    assert figure.get_size_inches()[0] <= MAX_FIGURE_WIDTH_IN
    assert app.image.layout.width == f"{width_px}px", "the picture must be displayed at its natural width"
    assert png_size(bytes(app.image.value)) == (PIXEL_RATIO * width_px, PIXEL_RATIO * height_px)
    assert overflowing_texts(figure) == [], "texts cut by the figure's edge"
    assert app.controls_row.layout.flex_flow == "row wrap"
    for control in app.controls.values():
        assert control.layout.flex == "0 0 auto", f"{control.description!r} may shrink"
        label_px = _text_px(control.description)
        if isinstance(control, ipywidgets.Dropdown):
            longest = max(len(str(label)) for label in control._options_labels)
            assert int(control.layout.width.removesuffix("px")) >= label_px + _CHAR_PX * longest
        elif hasattr(control, "readout") and hasattr(control, "min"):
            assert control.style.description_width == f"{label_px}px"
            assert int(control.layout.width.removesuffix("px")) >= label_px + SLIDER_TRACK_PX
    for note in app.view.notes:
        assert note in app.text_summary()
    assert app.readout.value.count(NOTE_CLASS) == len(app.view.notes)
    bundle, metadata = app._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    picture = base64.b64decode(bundle["image/png"])
    picture_width, picture_height = png_size(picture)
    assert picture_height > PIXEL_RATIO * height_px * 0.9, "the fallback shows the whole figure"
    assert metadata["image/png"]["width"] == -(-picture_width // PIXEL_RATIO)
    assert bundle["text/plain"] == f"{app.text_summary()}\n({STATIC_CAPTION})"


def assert_every_setting_follows_the_kit(app: WidgetApp) -> int:
    """Move each control in turn to each end of its range (each option of a dropdown) and check
    :func:`assert_follows_the_kit` there; put every control back. Returns the settings checked."""
    import ipywidgets

    checked = 0
    assert_follows_the_kit(app)
    for control in app.controls.values():
        start = control.value
        if isinstance(control, ipywidgets.Dropdown | ipywidgets.SelectionSlider):
            values = [value for _, value in control.options] if isinstance(control.options[0], tuple) \
                else list(control.options)
        elif isinstance(control, ipywidgets.FloatLogSlider):
            values = [control.base ** control.min, control.base ** control.max]
        else:
            values = [control.min, control.max]
        for value in values:
            control.value = value
            assert_follows_the_kit(app)
            checked += 1
        control.value = start
    return checked
