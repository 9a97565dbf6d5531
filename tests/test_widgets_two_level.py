"""The adaptation explorer of ``02_two_level_learning``, driven as a learner drives it: set a control,
read the screen."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.models import forward, init_mlp, mse
from metalearn_lib.tasks import SinusoidFamily
from metalearn_lib.two_level import adapt
from metalearn_lib.widgets.two_level import INNER_LRS, AdaptationGallery, adaptation_explorer, adaptation_figure
from tests.check_tools import assert_every_setting_follows_the_kit, move_first_control

FAMILY = SinusoidFamily()
#: Two untrained initialisations stand in for the trained ones (the widget only fine-tunes).
INITS = {"glorot": init_mlp([1, 16, 16, 1], seed=1, init="glorot"),
         "he": init_mlp([1, 16, 16, 1], seed=2, init="he")}


@pytest.fixture(scope="module")
def app():
    return adaptation_explorer(INITS, FAMILY, num_tasks=4, max_steps=5)


@pytest.fixture(autouse=True)
def _reset(app):
    yield
    values = {"num_shots": 5, "num_steps": 1, "inner_lr": 0.01, "task": 0}
    for name, value in values.items():
        app.controls[name].value = value


def direct_mse(params, gallery, task, num_shots, num_steps, inner_lr):
    batch = gallery.batch.task(task)
    adapted = adapt(params, batch.support_x[:, :num_shots], batch.support_y[:, :num_shots], inner_lr=inner_lr,
                    num_inner_steps=num_steps, first_order=True)
    return float(mse(forward(adapted, batch.query_x), batch.query_y)[0])


def test_controls_are_k_first_then_steps_then_the_learning_rate_then_the_task(app):
    assert list(app.controls) == ["num_shots", "num_steps", "inner_lr", "task"]
    assert (app.controls["num_shots"].min, app.controls["num_shots"].max) == (1, 20)
    assert (app.controls["num_steps"].min, app.controls["num_steps"].max) == (0, 5)
    assert tuple(app.controls["inner_lr"].options) == INNER_LRS
    assert (app.controls["task"].min, app.controls["task"].max) == (0, 3)


def test_default_view_reports_each_initialisations_query_error(app):
    view = app.view
    assert (view.data["num_shots"], view.data["num_steps"], view.data["inner_lr"]) == (5, 1, 0.01)
    assert set(view.data["fits"]) == set(INITS)
    assert view.data["support_x"].shape == (5,)
    for name, params in INITS.items():
        assert view.data["query_mse"][name] == pytest.approx(direct_mse(params, app.gallery, 0, 5, 1, 0.01), rel=1e-4)
        assert view.data["query_mse_before"][name] == pytest.approx(direct_mse(params, app.gallery, 0, 5, 0, 0.01),
                                                                    rel=1e-4)
        assert f"{name} {view.data['query_mse_before'][name]:.3f} → {view.data['query_mse'][name]:.3f}" \
            in app.readout.value
    assert "K = 5" in app.readout.value and "1 step of SGD, α = 0.01" in app.readout.value
    assert bytes(app.image.value).startswith(b"\x89PNG")


def test_moving_the_first_slider_changes_the_readout_and_the_picture(app):
    """The browser test moves the first slider in the container; both outputs must react."""
    errors = app.view.data["query_mse"]
    move_first_control(app)
    assert app.view.data["query_mse"] != errors
    assert "K = 6" in app.readout.value


def test_zero_steps_leave_the_initialisation_unchanged(app):
    app.controls["num_steps"].value = 0
    view = app.view
    for name in INITS:
        np.testing.assert_array_equal(view.data["fits"][name], view.data["fits_before"][name])
        assert view.data["query_mse"][name] == view.data["query_mse_before"][name]
    assert "0 steps" in app.readout.value


def test_steps_and_learning_rate_and_task_each_change_the_result(app):
    app.controls["num_steps"].value = 5
    five = dict(app.view.data["query_mse"])
    assert five == pytest.approx({n: direct_mse(p, app.gallery, 0, 5, 5, 0.01) for n, p in INITS.items()}, rel=1e-4)
    app.controls["inner_lr"].value = 0.05
    assert app.view.data["query_mse"] != five
    assert "α = 0.05" in app.readout.value
    app.controls["task"].value = 2
    assert "task 2 (true A = " in app.readout.value


def test_the_truth_is_the_tasks_sinusoid():
    gallery = AdaptationGallery(INITS, FAMILY, num_tasks=2, max_steps=1)
    amplitude, phase = (gallery.batch.task_params[k].numpy()[1] for k in ("amplitude", "phase"))
    np.testing.assert_allclose(gallery.truth[1], amplitude * np.sin(gallery.grid - phase), rtol=1e-4, atol=1e-4)


def test_the_paper_figure_has_one_row_per_initialisation_and_one_column_per_k():
    gallery = AdaptationGallery(INITS, FAMILY, num_tasks=2, max_steps=10)
    figure = adaptation_figure(gallery, 1, shots=(5, 10), steps=(0, 1, 10))
    assert len(figure.axes) == 4
    assert [ax.get_title() for ax in figure.axes] == ["glorot, K = 5", "glorot, K = 10", "he, K = 5", "he, K = 10"]
    assert len(figure.axes[0].lines) == 4  # the truth and three step counts


def test_every_setting_follows_the_widget_kit(app):
    assert assert_every_setting_follows_the_kit(app) == 6 + len(INNER_LRS)
    assert app._repr_mimebundle_()[0]["text/plain"].startswith("task 0 (")


def test_container_carries_the_css_classes_the_browser_test_uses(app):
    assert "metalearn-widget" in app.container._dom_classes
    assert "metalearn-readout" in app.readout._dom_classes


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: adaptation_explorer({}, FAMILY), TypeError, "inits"),
    (lambda: adaptation_explorer({"a": 3}, FAMILY), TypeError, "inits"),
    (lambda: adaptation_explorer(INITS, object()), TypeError, "family"),
    (lambda: adaptation_explorer(INITS, FAMILY, inner_lr=0.3), ValueError, "inner_lr"),
    (lambda: adaptation_explorer(INITS, FAMILY, num_tasks=2, task=2), ValueError, "task"),
    (lambda: adaptation_explorer(INITS, FAMILY, num_shots=21), ValueError, "num_shots"),
    (lambda: adaptation_explorer(INITS, FAMILY, max_steps=3, num_steps=4), ValueError, "num_steps"),
    (lambda: adaptation_figure(AdaptationGallery(INITS, FAMILY, num_tasks=1, max_steps=1), shots=()), ValueError,
     "shots"),
])
def test_bad_arguments_are_rejected_with_a_clear_message(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_tensor_dtype_is_kept():
    assert INITS["glorot"][0].dtype == tf.float32


def broken_gallery(app, num_shots: int = 5, inner_lr: float = 0.01):
    """The gallery's cached run for (K, α), with "glorot" blowing up from step 2 (NaN from step 4)
    and "he" shifted far above the panel from step 3: the failure states of a too-large α."""
    run = app.gallery._run(num_shots, inner_lr)
    fits, errors = (array.copy() for array in run["glorot"])
    fits[2:] = 1e6  # far above the panel (a curve scaled up instead would cross it: still visible)
    errors[2:] = 1e9
    fits[4:], errors[4:] = np.nan, np.nan
    run["glorot"] = (fits, errors)
    fits_he, errors_he = (array.copy() for array in run["he"])
    fits_he[3:] += 1e3
    run["he"] = (fits_he, errors_he)
    return run


def test_a_diverged_or_vanished_fit_is_said_in_words_with_its_step():
    app = adaptation_explorer(INITS, FAMILY, num_tasks=4, max_steps=5)
    broken_gallery(app)
    app.controls["num_steps"].value = 5
    assert app.view.data["failed"] == {"glorot": (4, "not finite"), "he": (3, "off the chart")}
    assert app.view.notes == [
        "glorot diverged: NaN from step 4 (query MSE 1e+09 at step 3); its curve is not drawn — try a smaller α",
        f"he's fit left the plot at step 3 (query MSE {app.gallery.query_mse(0, 5, 3, 0.01)['he']:.3f})",
    ]
    assert "glorot " in app.view.readout and "→ diverged" in app.view.readout  # not "→ nan"
    legend = [t.get_text() for t in app.view.figure.axes[0].get_legend().get_texts()]
    assert "glorot, 5 steps (not visible)" in legend
    app.controls["num_steps"].value = 2  # before the trouble starts, glorot is huge but finite: off the chart
    assert app.view.data["failed"] == {"glorot": (2, "off the chart")}
    app.controls["num_steps"].value = 1
    assert app.view.notes == [] and "1 step of SGD" in app.view.readout
