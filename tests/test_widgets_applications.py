"""Chapter 8's shift explorer, driven as a learner drives it (set a control, read the screen), and its figures.

No shipped weights: fresh networks stand in for the trained starts (the explorer only fine-tunes them).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.applications.families import shifted_family
from metalearn_lib.applications.multi_task import init_separate_regressors
from metalearn_lib.applications.shift import evaluate_start
from metalearn_lib.applications.starting_points import StartingPoint, scratch_start
from metalearn_lib.models import forward, mse
from metalearn_lib.plotting import overflowing_texts, problems
from metalearn_lib.two_level import adapt
from metalearn_lib.widgets.applications import (
    PHASE_SHIFTS,
    ShiftGallery,
    multi_task_figure,
    regressors_figure,
    sample_efficiency_figure,
    shift_curves_figure,
    shift_explorer,
)
from tests.check_tools import assert_every_setting_follows_the_kit, move_first_control

MAML = scratch_start(0)
#: A Meta-SGD-like start: one step size per parameter (0.02 everywhere).
META_SGD = StartingPoint("meta_sgd", scratch_start(2).params, [tf.fill(p.shape, 0.02) for p in scratch_start(2).params])
STARTS = {"MAML": MAML, "Meta-SGD": META_SGD}
NUM_TASKS, NUM_AVERAGE = 3, 4
DEFAULTS = {"amplitude_shift": 0.0, "phase_shift": 0.0, "num_steps": 1, "task": 0}


@pytest.fixture(scope="module")
def app():
    return shift_explorer(STARTS, num_tasks=NUM_TASKS, num_average_tasks=NUM_AVERAGE)


def show(app, **values):
    """Move the controls to ``values`` (the others to their defaults) and redraw once — what a learner who moved
    several sliders sees, without computing the offsets passed on the way."""
    for name, value in {**DEFAULTS, **values}.items():
        app.controls[name].unobserve(app._on_change, names="value")
        app.controls[name].value = value
        app.controls[name].observe(app._on_change, names="value")
    return app.refresh()


def direct(start, amplitude_shift, phase_shift, task, num_steps, grid, seed=3_000_000):
    """The drawn task computed from scratch: the family moved by both offsets, its tasks with the explorer's
    seed, and ``num_steps`` SGD steps of two_level.adapt on its 5 support points."""
    family = shifted_family("phase", phase_shift, base=shifted_family("amplitude", amplitude_shift))
    batch = family.sample(NUM_TASKS, 5, 100, seed=seed)
    adapted = adapt(start.params, batch.support_x[task:task + 1], batch.support_y[task:task + 1],
                    inner_lr=start.inner_lr, num_inner_steps=num_steps, first_order=True)
    fit = forward(adapted, tf.constant(grid[None, :, None], tf.float32)).numpy()[0, :, 0]
    error = float(mse(forward(adapted, batch.query_x[task:task + 1]), batch.query_y[task:task + 1])[0])
    return batch, fit, error


def test_controls_are_the_two_offsets_then_the_steps_then_the_task(app):
    assert list(app.controls) == ["amplitude_shift", "phase_shift", "num_steps", "task"]
    amplitude = app.controls["amplitude_shift"]
    assert (amplitude.min, amplitude.max, amplitude.step, amplitude.value) == (0.0, 7.5, 0.5, 0.0)
    phase = app.controls["phase_shift"]
    assert [label for label, _ in phase.options] == ["0", "π/8", "π/4", "3π/8", "π/2", "5π/8", "3π/4", "7π/8", "π"]
    np.testing.assert_allclose([value for _, value in phase.options], np.arange(9) * math.pi / 8)
    assert (app.controls["num_steps"].min, app.controls["num_steps"].max) == (0, 10)
    assert (app.controls["task"].min, app.controls["task"].max) == (0, NUM_TASKS - 1)
    assert tuple(PHASE_SHIFTS) == tuple(phase.options)


def test_the_amplitude_slider_moves_the_same_task_into_the_stated_range(app):
    before = dict(show(app).data)
    app.controls["amplitude_shift"].value = 2.5
    after = app.view.data
    assert after["amplitude_range"] == pytest.approx((2.6, 7.5))
    assert "A ∈ [2.6, 7.5]" in app.readout.value
    assert 2.6 <= after["amplitude"] <= 7.5
    assert after["amplitude"] == pytest.approx(before["amplitude"] + 2.5, abs=1e-5)  # the same uniform draw
    assert after["phase"] == pytest.approx(before["phase"], abs=1e-6)
    np.testing.assert_allclose(after["support_x"], before["support_x"], atol=1e-6)
    np.testing.assert_allclose(after["truth"], after["amplitude"] * np.sin(after["grid"] - after["phase"]), atol=1e-9)
    batch = shifted_family("amplitude", 2.5).sample(NUM_TASKS, 5, 100, seed=app.gallery.seed)
    assert after["amplitude"] == pytest.approx(float(batch.task_params["amplitude"][0]), abs=1e-6)
    np.testing.assert_allclose(after["support_y"], batch.support_y.numpy()[0, :, 0], atol=1e-5)


def test_the_phase_slider_moves_the_phase_range(app):
    phase = show(app).data["phase"]
    app.controls["phase_shift"].value = math.pi / 2
    assert app.view.data["phase_range"] == pytest.approx((math.pi / 2, 3 * math.pi / 2))
    assert app.view.data["phase"] == pytest.approx(phase + math.pi / 2, abs=1e-5)
    assert "φ ∈ [1.57, 4.71]" in app.readout.value


@pytest.mark.parametrize(("amplitude_shift", "phase_shift", "task", "num_steps"),
                         [(0.0, 0.0, 0, 1), (7.5, 0.0, 2, 10), (0.0, math.pi, 1, 3), (2.5, math.pi / 4, 2, 3)])
def test_each_fit_shown_is_two_level_adapt_on_the_drawn_support_points(app, amplitude_shift, phase_shift, task,
                                                                       num_steps):
    view = show(app, amplitude_shift=amplitude_shift, phase_shift=phase_shift, task=task, num_steps=num_steps)
    for label, start in STARTS.items():
        batch, fit, error = direct(start, amplitude_shift, phase_shift, task, num_steps, view.data["grid"])
        np.testing.assert_allclose(view.data["support_x"], batch.support_x.numpy()[task, :, 0], atol=1e-6)
        np.testing.assert_allclose(view.data["fits"][label], fit, rtol=1e-4, atol=1e-5)
        assert view.data["query_mse"][label] == pytest.approx(error, rel=1e-4)
        assert f"{label} {view.data['query_mse'][label]:.3f}" in app.readout.value
        assert any(t.startswith(f"{label}: task MSE {error:.3f}")
                   for t in (t.get_text() for t in view.figure.legends[0].get_texts()))


def test_the_average_is_evaluate_start_on_the_shifted_family(app):
    show(app, amplitude_shift=5.0, num_steps=4)
    family = shifted_family("phase", 0.0, base=shifted_family("amplitude", 5.0))
    for label, start in STARTS.items():
        ev = evaluate_start(start, family, num_tasks=NUM_AVERAGE, num_shots=5, steps=(4,), seed=10_005)
        assert app.view.data["average_mse"][label] == pytest.approx(ev.mean_mse[0], rel=1e-4)
        assert app.view.data["average_ci95"][label] == pytest.approx(ev.ci95[0], rel=1e-3)
        assert f"{label} {ev.mean_mse[0]:.3f} ±" in app.readout.value


def test_zero_steps_show_each_start_unchanged(app):
    show(app, amplitude_shift=7.5, num_steps=0)
    grid = tf.constant(app.view.data["grid"][:, None], tf.float32)
    for label, start in STARTS.items():
        np.testing.assert_allclose(app.view.data["fits"][label], forward(start.params, grid).numpy()[:, 0], atol=1e-6)
    assert "0 steps of SGD" in app.readout.value


def test_moving_the_first_slider_changes_the_readout_and_the_picture(app):
    show(app)
    move_first_control(app)
    assert app.view.data["amplitude_shift"] == 1.0 and "amplitude +1" in app.readout.value


def test_every_setting_follows_the_widget_kit(app):
    show(app)
    assert assert_every_setting_follows_the_kit(app) == 2 + len(PHASE_SHIFTS) + 2 + 2
    assert app._repr_mimebundle_()[0]["text/plain"].startswith("offsets: amplitude +0")


def test_offsets_are_computed_once_and_a_batch_of_offsets_equals_one_at_a_time():
    one, batched = (ShiftGallery({"MAML": MAML}, num_tasks=2, max_steps=2, num_average_tasks=3) for _ in range(2))
    offsets = [(0.0, 0.0), (2.5, math.pi / 8), (7.5, math.pi)]
    batched.precompute(offsets)
    for offset in offsets:
        kept = one.results(*offset)
        assert one.results(*offset) is kept  # computed once, then kept
        for name in ("amplitude", "phase", "support_x", "support_y"):
            np.testing.assert_allclose(kept[name], batched.results(*offset)[name], atol=1e-6)
        for name in ("fits", "query_mse", "mean", "ci95"):
            np.testing.assert_allclose(kept["MAML"][name], batched.results(*offset)["MAML"][name], rtol=1e-4, atol=1e-6)
    assert ShiftGallery.key(0.5 * 3, 3 * (math.pi / 8)) == ShiftGallery.key(1.5, 3 * math.pi / 8 + 1e-12)


def test_diverged_sgd_is_said_in_words_with_its_step():
    reckless = StartingPoint("maml", MAML.params, 20.0)  # α = 20: the steps blow up on large amplitudes
    app = shift_explorer({"reckless": reckless, "MAML": MAML}, num_tasks=1, max_steps=3, num_average_tasks=2,
                         amplitude_shift=7.5, num_steps=3)
    assert app.view.data["failed"]["reckless"][1] == "not finite"
    notes = app.view.notes
    assert any(n.startswith("reckless diverged at step 3: SGD with α = 20 gives NaN or inf") for n in notes)
    assert any(n.startswith("SGD diverged at this step size") and "reckless at step ≥ 1" in n for n in notes)
    assert "reckless diverged" in app.readout.value and "MAML " in app.readout.value
    assert "MAML" not in app.view.data["failed"]
    app.controls["num_steps"].value = 0
    assert not any("diverged at step" in n for n in app.view.notes)  # before any step: fine


# ----------------------------------------------------------------------------------------------
# figures
# ----------------------------------------------------------------------------------------------

def shift_rows(nan_at=None):
    rows = []
    for i, method in enumerate(("maml", "pretrained", "scratch")):
        for shift in (0.0, 2.5, 7.5):
            for steps in (1, 10):
                value = (1 + i) * (1 + shift) / steps
                if nan_at == (method, shift, steps):
                    value = None
                rows.append({"experiment": "shift_sinusoid", "method": method, "shift_kind": "amplitude",
                             "shift": shift, "steps": steps, "mse": value, "ci95": 0.1, "nmse": value,
                             "nmse_ci95": 0.1})
    rows.append({"experiment": "shift_sinusoid", "method": "maml", "shift_kind": "square", "shift": 0.0, "steps": 1,
                 "mse": 1.0, "ci95": 0.1, "nmse": 0.5, "nmse_ci95": 0.05})
    return rows + [{"experiment": "multi_task", "method": "maml", "steps": 1, "mse": 1.0, "ci95": 0.1}]


def test_shift_curves_have_one_panel_per_step_count_and_one_line_per_method():
    figure = shift_curves_figure(shift_rows(), "amplitude")
    assert [ax.get_title() for ax in figure.axes] == ["after 1 SGD step", "after 10 SGD steps"]
    for ax in figure.axes:
        assert len(ax.lines) == 3 and len(ax.collections) == 3 and ax.get_yscale() == "log"
        np.testing.assert_allclose(ax.lines[1].get_ydata(), 2 * (1 + np.array([0.0, 2.5, 7.5])) / (
            1 if ax is figure.axes[0] else 10))
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["MAML", "pretrained on all tasks", "from scratch"]
    assert problems(figure) == [] and overflowing_texts(figure) == []


def test_a_diverged_shift_result_is_said_in_words_not_drawn():
    figure = shift_curves_figure(shift_rows(nan_at=("scratch", 7.5, 10)), "amplitude", metric="nmse")
    assert problems(figure) == ["not drawn (diverged or > 1000):\nfrom scratch at s = 7.5"]
    assert np.isnan(figure.axes[1].lines[2].get_ydata()[-1])
    assert figure.axes[0].get_ylabel() == "normalised MSE (log scale)"
    assert overflowing_texts(figure) == []


def multi_task_rows():
    rows = []
    for method, base in (("maml", 0.5), ("pretrained", 2.3), ("multi_task_mean_reg", 2.8)):
        for steps in (0, 1, 5, 10):
            rows.append({"experiment": "multi_task", "method": method, "steps": steps, "mse": base + 1 / (1 + steps),
                         "ci95": 0.1, "published": None if steps == 0 else base})
    rows.append({"experiment": "multi_task", "method": "multi_task_l2_shared_init", "steps": 1, "mse": 40.0,
                 "ci95": 5.0, "published": None})
    return rows + [{"experiment": "multi_task", "method": "multi_task_l2_shared_init", "steps": 5, "mse": None,
                    "ci95": None, "published": None}]


def test_multi_task_bars_one_per_method_and_step_with_published_markers():
    figure = multi_task_figure(multi_task_rows(), methods=["maml", "pretrained", "multi_task_mean_reg"])
    ax = figure.axes[0]
    assert len(ax.patches) == 3 * 3
    assert [t.get_text() for t in ax.get_yticklabels()] == ["MAML", "pretrained on all tasks",
                                                            "multi-task, pulled to mean θ"]
    published = [line for line in ax.lines if line.get_label() == "published (Finn et al.)"]
    assert len(published) == 1 and sorted(published[0].get_xdata()) == sorted([0.5] * 3 + [2.3] * 3 + [2.8] * 3)
    assert ax.patches[0].get_width() == pytest.approx(1.0)  # maml after 1 step: 0.5 + 1/2
    assert overflowing_texts(figure) == []


def test_multi_task_bars_above_the_axis_or_diverged_say_so():
    figure = multi_task_figure(multi_task_rows(), methods=["maml", "multi_task_l2_shared_init"], steps=(1, 5))
    ax = figure.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["40 ›", "diverged (NaN)"]
    assert ax.patches[1].get_width() == 10.0 and ax.patches[1].get_hatch() == "////"
    assert "multi-task, ℓ2, one shared init" in [t.get_text() for t in ax.get_yticklabels()]


def test_sample_efficiency_lines_per_method_with_the_target_and_points_needed():
    rows = [{"experiment": "sample_efficiency", "method": method, "num_shots": k, "mse": scale / k, "ci95": 0.01,
             "protocol": "10 SGD steps"} for method, scale in (("maml", 2.0), ("pretrained", 40.0)) for k in (1, 5, 20)]
    figure = sample_efficiency_figure(rows + [{"experiment": "points_needed", "method": "maml"}], target_mse=0.5)
    ax = figure.axes[0]
    assert len(ax.lines) == 3 and ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert [t.get_text() for t in figure.legends[0].get_texts()] == [
        "MAML (10 SGD steps): K = 5", "pretrained on all tasks (10 SGD steps): not by K = 20", "target MSE 0.5"]
    assert ax.get_ylim()[0] < 0.1 and ax.get_ylim()[1] > 40.0
    assert overflowing_texts(figure) == []


def test_regressors_figure_shows_fits_over_their_sinusoids_and_the_average():
    stacked = init_separate_regressors([1, 8, 8, 1], 6, seed=0)
    amplitude, phase = np.linspace(1.0, 4.0, 6), np.linspace(0.0, 3.0, 6)
    average = [tf.reduce_mean(p, axis=0) for p in stacked]
    figure = regressors_figure(stacked, amplitude, phase, average, num_shown=3)
    left, right = figure.axes
    assert len(left.lines) == 2 * 3 and len(right.lines) == 3 + 1
    np.testing.assert_allclose(left.lines[0].get_ydata(), 1.0 * np.sin(left.lines[0].get_xdata()), atol=1e-9)
    x = tf.constant(left.lines[1].get_xdata()[None, :, None], tf.float32)
    np.testing.assert_allclose(left.lines[1].get_ydata(), forward([p[:1] for p in stacked], x).numpy()[0, :, 0],
                               rtol=1e-5, atol=1e-6)
    assert left.get_ylim() == right.get_ylim()
    assert overflowing_texts(figure) == []
    two = regressors_figure(stacked, amplitude, phase, {"no penalty": average, "zero": [tf.zeros_like(p) for p in
                                                                                       average]})
    assert len(two.axes[1].lines) == 4 + 2


STACKED = init_separate_regressors([1, 4, 1], 3, seed=0)


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: shift_explorer({}), TypeError, "starts"),
    (lambda: shift_explorer({"a": 3}), TypeError, "starts"),
    (lambda: shift_explorer(STARTS, phase_shift=0.3), ValueError, "phase_shift"),
    (lambda: shift_explorer(STARTS, amplitude_shift=8.0), ValueError, "amplitude_shift"),
    (lambda: shift_explorer(STARTS, num_steps=11), ValueError, "num_steps"),
    (lambda: shift_explorer(STARTS, num_tasks=2, task=2), ValueError, "task"),
    (lambda: shift_explorer(STARTS, num_average_tasks=1), ValueError, "num_average_tasks"),
    (lambda: shift_curves_figure(shift_rows(), "square"), ValueError, "kind"),
    (lambda: shift_curves_figure(shift_rows(), "amplitude", metric="rmse"), ValueError, "metric"),
    (lambda: shift_curves_figure(shift_rows(), "amplitude", steps=(50,)), ValueError, "steps"),
    (lambda: shift_curves_figure(shift_rows(), "amplitude", methods=["reptile"]), ValueError, "methods"),
    (lambda: shift_curves_figure({"method": "maml"}, "amplitude"), TypeError, "rows"),
    (lambda: shift_curves_figure([{"experiment": "shift_sinusoid", "method": "maml"}], "amplitude"), ValueError,
     "lacks"),
    (lambda: multi_task_figure(shift_rows()[:3]), ValueError, "multi-task rows"),
    (lambda: multi_task_figure(multi_task_rows()), ValueError, "missing"),
    (lambda: sample_efficiency_figure([]), ValueError, "sample-efficiency"),
    (lambda: sample_efficiency_figure([], target_mse=0.0), ValueError, "target_mse"),
    (lambda: regressors_figure([p[0] for p in STACKED], [1.0], [0.0], [p[0] for p in STACKED]), ValueError,
     "stacked_params"),
    (lambda: regressors_figure(STACKED, [1.0, 2.0], [0.0] * 3, [p[0] for p in STACKED]), ValueError, "amplitude"),
    (lambda: regressors_figure(STACKED, [1.0] * 3, [0.0] * 3, STACKED, num_shown=2), ValueError, "average_params"),
    (lambda: regressors_figure(STACKED, [1.0] * 3, [0.0] * 3, [p[0] for p in STACKED], num_shown=4), ValueError,
     "num_shown"),
])
def test_bad_arguments_are_rejected_with_a_clear_message(call, error, match):
    with pytest.raises(error, match=match):
        call()
