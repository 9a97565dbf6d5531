"""The widget kit's rules (metalearn_lib.widgets.core and the plotting helpers it relies on), tested
on small stand-in explorers, so that every chapter's explorer inherits them."""

from __future__ import annotations

import base64

import ipywidgets
import numpy as np
import pytest

from metalearn_lib.plotting import (
    PIXEL_RATIO,
    figure_size_px,
    figure_to_png,
    hidden_since,
    mark_problem,
    new_figure,
    off_chart_step,
    overflowing_texts,
    png_size,
    problems,
)
from metalearn_lib.widgets.core import (
    MAX_FIGURE_WIDTH_IN,
    NOTE_CLASS,
    SLIDER_TRACK_PX,
    STATIC_CAPTION,
    View,
    WidgetApp,
    plural,
    size_control,
)
from tests.check_tools import assert_follows_the_kit


def line_view(width: float = 4.0, height: float = 2.5, note: str | None = None):
    def render(level: int) -> View:
        figure, axes = new_figure(width=width, height=height)
        axes[0, 0].plot([0, 1], [0, level])
        if note:
            mark_problem(axes[0, 0], note)
        return View(figure=figure, readout=f"level {level}")

    return render


def slider() -> ipywidgets.IntSlider:
    return ipywidgets.IntSlider(value=1, min=0, max=20, description="number of steps")


# ----------------------------------------------------------------------------------- the picture
def test_the_picture_is_displayed_at_the_figures_natural_width_from_twice_the_pixels():
    app = WidgetApp({"level": slider()}, line_view(width=4.0, height=2.5))
    assert figure_size_px(app.view.figure) == (400, 250)
    assert app.image.layout.width == "400px"
    assert png_size(bytes(app.image.value)) == (400 * PIXEL_RATIO, 250 * PIXEL_RATIO)
    assert PIXEL_RATIO == 2
    assert_follows_the_kit(app)


def test_a_figure_too_wide_for_a_laptop_screen_is_refused_with_the_limit():
    with pytest.raises(ValueError, match=f"at most {MAX_FIGURE_WIDTH_IN:g} inches wide"):
        WidgetApp({"level": slider()}, line_view(width=10.0))


def test_png_size_reads_the_header_and_refuses_other_bytes():
    figure, _ = new_figure(width=3.0, height=2.0)
    assert png_size(figure_to_png(figure)) == (300, 200)
    with pytest.raises(ValueError, match="PNG"):
        png_size(b"GIF89a" + bytes(30))


def test_cut_texts_are_found_and_fitting_ones_are_not():
    figure, axes = new_figure(width=3.0, height=2.0)
    axes[0, 0].plot([0, 1], [0, 1])
    assert overflowing_texts(figure) == []
    axes[0, 0].set_title("a title far too long to fit into a figure only three inches wide")
    assert overflowing_texts(figure) == ["a title far too long to fit into a figure only three inches wide"]


# ---------------------------------------------------------------------------------- the controls
def test_sliders_keep_their_track_whatever_their_label():
    short, long = ipywidgets.IntSlider(description="K"), ipywidgets.IntSlider(description="a very long label here")
    for control in (short, long):
        size_control(control)
    widths = [int(c.layout.width.removesuffix("px")) for c in (short, long)]
    labels = [int(c.style.description_width.removesuffix("px")) for c in (short, long)]
    assert widths[1] - widths[0] == labels[1] - labels[0]  # a longer label widens the slider, not shortens the track
    assert all(w - label >= SLIDER_TRACK_PX for w, label in zip(widths, labels, strict=True))
    assert short.layout.flex == "0 0 auto"


def test_a_dropdown_is_wide_enough_for_its_longest_option():
    options = ["short", "tempered BMA: softmax(log-likelihood / τ)"]
    dropdown = ipywidgets.Dropdown(options=options, description="weights")
    size_control(dropdown)
    assert int(dropdown.layout.width.removesuffix("px")) >= 8 * len(options[1]) + 8 * len("weights")


def test_controls_wrap_onto_a_second_row_rather_than_shrink():
    controls = {f"c{i}": ipywidgets.IntSlider(description=f"control {i}") for i in range(5)}
    app = WidgetApp(controls, lambda **values: line_view()(level=values["c0"]))
    assert app.controls_row.layout.flex_flow == "row wrap"
    assert all(c.layout.flex == "0 0 auto" for c in controls.values())


# ------------------------------------------------------------------------------ failure states
def test_a_problem_marked_on_the_figure_is_repeated_under_the_readout():
    app = WidgetApp({"level": slider()}, line_view(note="MAML diverged at step 7:\nnot drawn"))
    assert app.view.notes == ["MAML diverged at step 7: not drawn"]
    assert app.readout.value.count(NOTE_CLASS) == 1 and "⚠ MAML diverged at step 7: not drawn" in app.readout.value
    assert app.text_summary() == "level 1\n⚠ MAML diverged at step 7: not drawn"
    assert_follows_the_kit(app)


def test_problems_stack_down_the_panel_and_are_read_back_in_order():
    figure, axes = new_figure()
    first, second = mark_problem(axes[0, 0], "first"), mark_problem(axes[0, 0], "second")
    assert problems(figure) == ["first", "second"]
    assert second.get_position()[1] < first.get_position()[1]
    with pytest.raises(ValueError, match="message"):
        mark_problem(axes[0, 0], "  ")


def test_off_chart_step_names_the_first_step_a_curve_cannot_be_seen():
    ylim = (-1.0, 1.0)
    visible = np.array([[0.0, 0.5], [0.2, 0.9]])
    assert off_chart_step(visible, ylim) is None
    assert off_chart_step(np.array([[0.0, 0.5], [3.0, 4.0], [np.nan, 1.0]]), ylim) == (1, "off the chart")
    assert off_chart_step(np.array([[0.0, 0.5], [np.inf, 0.0]]), ylim) == (1, "not finite")
    crossing = np.array([[-5.0, 5.0]])  # both ends outside, but the segment crosses the panel
    assert off_chart_step(crossing, ylim) is None
    assert off_chart_step(np.array([0.5, 7.0]), ylim) == (1, "off the chart")  # one value a step


@pytest.mark.parametrize(("count", "noun", "expected"), [
    (0, "pull", "0 pulls"), (1, "step", "1 step"), (2, "step", "2 steps"), (1, "support point", "1 support point"),
    (3, "query", "3 queries"),
])
def test_plural(count, noun, expected):
    assert plural(count, noun, "queries" if noun == "query" else None) == expected


# ------------------------------------------------------------------------------ static fallback
def test_the_static_fallback_is_captioned_and_sized_by_its_metadata():
    app = WidgetApp({"level": slider()}, line_view(width=4.0, height=2.5))
    bundle, metadata = app._repr_mimebundle_()
    picture = base64.b64decode(bundle["image/png"])
    width, height = png_size(picture)
    assert height > 250 * PIXEL_RATIO * 0.95  # the figure, plus the caption's strip below it
    assert metadata["image/png"] == {"width": -(-width // PIXEL_RATIO), "height": -(-height // PIXEL_RATIO)}
    assert bundle["text/plain"] == f"level 1\n({STATIC_CAPTION})"
    assert "run the cells above" in STATIC_CAPTION
    assert problems(app.view.figure) == [] and app.view.figure.texts == []  # the caption was taken away again
    plain = figure_to_png(app.view.figure, dpi=200, bbox_inches="tight", pad_inches=0.08)
    assert png_size(plain)[1] < height  # without the caption the picture is shorter


def test_hidden_since_names_where_the_last_curve_went_out_of_sight():
    ylim = (-1.0, 1.0)
    assert hidden_since(np.array([[5.0, 5.0], [0.0, 0.5]]), ylim) is None  # back in sight at the end
    assert hidden_since(np.array([[0.0, 0.5], [5.0, 5.0], [0.0, 0.1], [4.0, 4.0], [6.0, 6.0]]), ylim) == \
        (3, "off the chart")
    assert hidden_since(np.array([[0.0, 0.5], [5.0, 5.0], [np.nan, 1.0], [np.nan, np.nan]]), ylim) == \
        (2, "not finite")
    assert hidden_since(np.array([[3.0, 3.0], [4.0, 4.0]]), ylim) == (0, "off the chart")
