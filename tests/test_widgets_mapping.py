"""The fit explorer of ``01_mapping``, driven as a learner drives it: set a control, read the screen."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.mapping import RidgeLearner, compare_by_shots, fourier_features, support_mean_learner
from metalearn_lib.plotting import new_figure
from metalearn_lib.tasks import LinearFamily, SinusoidFamily
from metalearn_lib.widgets.mapping import (
    ALL_LEARNERS,
    FitGallery,
    draw_shots_comparison,
    draw_tasks,
    fit_explorer,
    fits_by_shots,
    true_curves,
)
from tests.check_tools import assert_every_setting_follows_the_kit, move_first_control

FAMILY = LinearFamily(num_features=1, weight_mean=2.0, weight_std=0.5, noise_std=0.3)
#: The family's own prior, in the ridge map's terms (no training needed): slope ~ N(2, 0.3²/0.36),
#: the bias pinned at 0.
TRUE_PRIOR = RidgeLearner(prior_mean=tf.constant([2.0, 0.0]), prior_precision=tf.constant([0.36, 1e4]))
LEARNERS = {"fixed prior": RidgeLearner(), "true prior": TRUE_PRIOR, "support mean": support_mean_learner}


@pytest.fixture(scope="module")
def app():
    return fit_explorer(LEARNERS, FAMILY, num_tasks=6)


@pytest.fixture(autouse=True)
def _reset(app):
    yield
    app.controls["task"].value, app.controls["num_shots"].value, app.controls["show"].value = 0, 1, ALL_LEARNERS


def direct_mse(learner, task: int, num_shots: int, gallery: FitGallery) -> float:
    batch = gallery.batch.task(task)
    pred = learner(batch.support_x[:, :num_shots], batch.support_y[:, :num_shots])(batch.query_x)
    return float(tf.reduce_mean(tf.square(tf.cast(pred, tf.float64) - tf.cast(batch.query_y, tf.float64))))


def test_controls_are_a_task_slider_then_a_k_slider_then_a_learner_choice(app):
    assert list(app.controls) == ["task", "num_shots", "show"]
    assert (app.controls["task"].min, app.controls["task"].max) == (0, 5)
    assert (app.controls["num_shots"].min, app.controls["num_shots"].max) == (1, 20)
    assert app.controls["show"].options == (ALL_LEARNERS, *LEARNERS)


def test_default_view_shows_every_learners_fit_and_query_error(app):
    view = app.view
    assert (view.data["task"], view.data["num_shots"]) == (0, 1)
    assert set(view.data["fits"]) == set(LEARNERS)
    assert view.data["support_x"].shape == (1,)
    for name, learner in LEARNERS.items():
        assert view.data["query_mse"][name] == pytest.approx(direct_mse(learner, 0, 1, app.gallery), rel=1e-5)
        assert f"{name} {view.data['query_mse'][name]:.3f}" in app.readout.value
    assert "task 0 (true weights = " in app.readout.value and "K = 1 support point" in app.readout.value
    assert bytes(app.image.value).startswith(b"\x89PNG")


def test_moving_the_first_slider_changes_the_readout_and_the_picture(app):
    """The browser test moves the first slider in the container; both outputs must react."""
    mse = app.view.data["query_mse"]
    move_first_control(app)
    assert app.view.data["query_mse"] != mse
    assert "task 1 (" in app.readout.value


def test_more_shots_show_more_points_and_the_fixed_prior_recovers(app):
    app.controls["num_shots"].value = 20
    view = app.view
    assert view.data["support_x"].shape == (20,)
    assert "K = 20 support points" in app.readout.value
    errors_20 = view.data["query_mse"]
    app.controls["num_shots"].value = 1
    errors_1 = app.view.data["query_mse"]
    assert errors_20["fixed prior"] < errors_1["fixed prior"]
    assert errors_20["fixed prior"] < 0.2  # 20 points pin a line down: about the noise variance 0.09


def test_the_true_prior_is_best_with_one_shot_on_average():
    gallery = FitGallery(LEARNERS, FAMILY, num_tasks=40)
    mean_mse = {n: np.mean([gallery.query_mse(t, 1)[n] for t in range(40)]) for n in LEARNERS}
    assert mean_mse["true prior"] < mean_mse["fixed prior"] < mean_mse["support mean"]


def test_choosing_one_learner_draws_only_its_fit_but_still_reports_all(app):
    image = app.image.value
    app.controls["show"].value = "true prior"
    assert list(app.view.data["fits"]) == ["true prior"]
    assert set(app.view.data["query_mse"]) == set(LEARNERS)
    assert app.image.value != image


def test_fits_are_the_learners_predictions_on_the_grid(app):
    app.controls["num_shots"].value = 5
    gallery = app.gallery
    batch = gallery.batch.task(0)
    grid = tf.constant(gallery.grid[None, :, None], tf.float32)
    predictor = TRUE_PRIOR(batch.support_x[:, :5], batch.support_y[:, :5])
    np.testing.assert_allclose(app.view.data["fits"]["true prior"], predictor(grid).numpy()[0, :, 0], rtol=1e-5,
                               atol=1e-6)
    weight = float(batch.task_params["weights"][0, 0])
    np.testing.assert_allclose(app.view.data["truth"], weight * gallery.grid, rtol=1e-5, atol=1e-6)


def test_the_same_seed_gives_the_same_tasks():
    a = FitGallery(LEARNERS, FAMILY, num_tasks=3, seed=7)
    b = FitGallery(LEARNERS, FAMILY, num_tasks=3, seed=7)
    np.testing.assert_array_equal(a.truth, b.truth)
    assert a.query_mse(2, 4) == b.query_mse(2, 4)


def test_every_setting_follows_the_widget_kit(app):
    assert assert_every_setting_follows_the_kit(app) == 4 + len(app.controls["show"].options)
    assert app._repr_mimebundle_()[0]["text/plain"].startswith("task 0 (")


def test_container_carries_the_css_classes_the_browser_test_uses(app):
    assert "metalearn-widget" in app.container._dom_classes
    assert "metalearn-readout" in app.readout._dom_classes


def test_sinusoids_with_fourier_features_work_too():
    sinusoids = SinusoidFamily()
    learner = RidgeLearner(prior_precision=1e-6, features=fourier_features)
    explorer = fit_explorer({"ridge on [sin x, cos x, 1]": learner}, sinusoids, num_tasks=3, num_shots=3)
    assert explorer.view.data["query_mse"]["ridge on [sin x, cos x, 1]"] < 1e-3  # 3 points fix a sinusoid
    assert "amplitude = " in explorer.readout.value and "phase = " in explorer.readout.value


def test_figure_helpers_draw_without_error():
    gallery = FitGallery(LEARNERS, FAMILY, num_tasks=2)
    figure = fits_by_shots(gallery, 1, shots=(1, 20))
    assert len(figure.axes) == 2
    fig, axes = new_figure(1, 2)
    draw_tasks(axes[0, 0], FAMILY, FAMILY.sample(4, 5, 1, seed=0), num_tasks=3, title="tasks")
    comparison = compare_by_shots(LEARNERS, FAMILY, shots=(1, 5), num_tasks=20, num_query=10)
    draw_shots_comparison(axes[0, 1], comparison, noise_floor=0.09)
    assert len(axes[0, 0].lines) == 3 and len(axes[0, 1].get_legend().get_texts()) == 4
    curves = true_curves(FAMILY, gallery.batch, np.array([0.0, 1.0]))
    np.testing.assert_allclose(curves[:, 1], gallery.batch.task_params["weights"].numpy()[:, 0], rtol=1e-6)


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: fit_explorer({}, FAMILY), TypeError, "learners"),
    (lambda: fit_explorer({"a": 3}, FAMILY), TypeError, "learners"),
    (lambda: fit_explorer({ALL_LEARNERS: RidgeLearner()}, FAMILY), ValueError, "reserved"),
    (lambda: fit_explorer(LEARNERS, object()), TypeError, "family"),
    (lambda: fit_explorer(LEARNERS, LinearFamily(num_features=2)), ValueError, "one input"),
    (lambda: fit_explorer(LEARNERS, FAMILY, num_tasks=3, task=3), ValueError, "task"),
    (lambda: fit_explorer(LEARNERS, FAMILY, num_shots=21), ValueError, "num_shots"),
    (lambda: fit_explorer(LEARNERS, FAMILY, max_shots=0), ValueError, "max_shots"),
    (lambda: FitGallery(LEARNERS, FAMILY, num_tasks=2).view(0, 1, show="nobody"), ValueError, "show"),
    (lambda: fits_by_shots(FitGallery(LEARNERS, FAMILY, num_tasks=2), 0, shots=()), ValueError, "shots"),
])
def test_bad_arguments_are_rejected_with_a_clear_message(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_a_fit_outside_the_panel_is_said_in_words():
    def far_away(support_x, support_y):
        return lambda x: tf.ones_like(x) * 1e4

    app = fit_explorer({"far away": far_away, **LEARNERS}, FAMILY, num_tasks=3)
    assert app.view.notes == ["far away's fit lies outside the plot (y from 1e+04 to 1e+04)"]
    app.controls["show"].value = "fixed prior"
    assert app.view.notes == []
