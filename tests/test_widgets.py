"""Widgets are driven here exactly as a learner drives them: set a control, read the screen."""

from __future__ import annotations

import ipywidgets
import numpy as np
import pytest

from metalearn_lib.welcome import stable_softmax
from metalearn_lib.widgets import SCORE_PRESETS, View, WidgetApp, softmax_explorer, softmax_view
from tests.check_tools import assert_every_setting_follows_the_kit


def test_default_view_shows_the_softmax_of_the_default_scores():
    app = softmax_explorer()
    scores = SCORE_PRESETS[app.controls["preset"].value]
    np.testing.assert_allclose(app.view.data["weights"], stable_softmax(scores, 1.0))
    assert "τ = 1 " in app.readout.value and "0.631" in app.readout.value
    assert bytes(app.image.value).startswith(b"\x89PNG")


def test_moving_the_temperature_slider_updates_readout_and_picture():
    app = softmax_explorer()
    readout_before, image_before = app.readout.value, app.image.value
    app.controls["temperature"].value = 0.1
    assert app.readout.value != readout_before
    assert app.image.value != image_before
    assert "τ = 0.1 " in app.readout.value
    assert app.view.data["weights"][2] == pytest.approx(1.0, abs=1e-4)  # the best score wins


def test_large_temperature_flattens_and_entropy_approaches_log_n():
    app = softmax_explorer(temperature=30.0)
    assert app.view.data["entropy"] == pytest.approx(np.log(4), abs=0.01)


def test_huge_scores_preset_shows_the_naive_formula_failing():
    app = softmax_explorer()
    app.controls["preset"].value = "rewards 1001, 1002, 1003, 1000.5"
    assert np.all(np.isnan(app.view.data["naive"]))
    assert "naive formula gives [nan, nan, nan, nan]" in app.readout.value
    np.testing.assert_allclose(app.view.data["weights"], stable_softmax([1, 2, 3, 0.5]))


def test_losses_preset_gives_the_lowest_loss_the_largest_weight():
    app = softmax_explorer(preset="losses 0.2, 0.4, 0.1, 0.9 (negated)")
    assert int(np.argmax(app.view.data["weights"])) == 2


def test_every_setting_follows_the_widget_kit():
    app = softmax_explorer()
    assert assert_every_setting_follows_the_kit(app) == 2 + len(SCORE_PRESETS)
    assert app._repr_mimebundle_()[0]["text/plain"].startswith("τ = 1 ")


def test_container_carries_the_css_classes_the_browser_test_uses():
    app = softmax_explorer()
    assert "metalearn-widget" in app.container._dom_classes
    assert "metalearn-readout" in app.readout._dom_classes


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"preset": "nope"}, ValueError, "preset"),
    ({"temperature": 0.0}, ValueError, "temperature"),
    ({"temperature": 100.0}, ValueError, "temperature"),
])
def test_explorer_validates_its_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        softmax_explorer(**kwargs)


def test_widget_app_validates_controls():
    with pytest.raises(ValueError, match="controls"):
        WidgetApp({}, lambda: None)
    with pytest.raises(TypeError, match="controls"):
        WidgetApp({"x": ipywidgets.Button()}, lambda x: None)


def test_a_generic_app_rerenders_on_every_control():
    calls = []

    def render(a: int, b: str) -> View:
        calls.append((a, b))
        return softmax_view([0.0, float(a)], 1.0)

    app = WidgetApp({"a": ipywidgets.IntSlider(value=1), "b": ipywidgets.Dropdown(options=["x", "y"])}, render)
    app.controls["a"].value = 3
    app.controls["b"].value = "y"
    assert calls == [(1, "x"), (3, "x"), (3, "y")]


def test_the_naive_formulas_overflow_is_said_on_the_figure():
    app = softmax_explorer()
    assert app.view.notes == []
    app.controls["preset"].value = "rewards 1001, 1002, 1003, 1000.5"
    assert app.view.notes == ["naive formula: exp(1e+03) = inf and inf/inf = nan "
                              "bars: the stable softmax (largest score subtracted first)"]
