"""The teacher explorer of ``04_teacher_guided_loop``, driven as a learner drives it: set a control, read the screen."""

from __future__ import annotations

import numpy as np
import pytest

from metalearn_lib.teacher import CurriculumTeacher, max_stable_learning_rate, run_curriculum
from metalearn_lib.widgets.teacher import (
    TEACHERS,
    LineTask,
    alphas_figure,
    curriculum_figure,
    horizon_figure,
    loss_curves_figure,
    make_teacher,
    teacher_explorer,
)
from tests.check_tools import assert_every_setting_follows_the_kit, move_first_control

_rng = np.random.default_rng(0)
X = _rng.uniform(-2, 2, 20)
Y = 1.5 * X + 0.5 + 0.3 * _rng.normal(size=20)


@pytest.fixture(scope="module")
def app():
    return teacher_explorer(X, Y)


@pytest.fixture(autouse=True)
def _reset(app):
    yield
    app.controls["strength"].value = 0.1
    app.controls["teacher"].value = TEACHERS[0]


def test_controls_are_the_strength_first_then_the_teacher(app):
    assert list(app.controls) == ["strength", "teacher"]
    assert tuple(app.controls["teacher"].options) == TEACHERS
    assert app.controls["strength"].value == pytest.approx(0.1)


def test_default_view_is_gradient_descent_reaching_the_target(app):
    view = app.view
    task = app.task
    assert view.data["stopped"] == "target"
    assert view.data["final_loss"] <= task.target
    assert view.data["losses"][0] > view.data["losses"][-1]
    assert f"final loss {view.data['final_loss']:.3g}" in app.readout.value
    assert f"steps to target: {view.data['steps_to_target']}" in app.readout.value
    assert bytes(app.image.value).startswith(b"\x89PNG")


def test_moving_the_first_control_changes_the_readout_and_the_picture(app):
    """The browser test moves the first control in the container; both outputs must react."""
    move_first_control(app)
    assert "strength 1.1" in app.readout.value
    # η = 1.1 is above 2/λ_max of this loss: gradient descent diverges
    assert max_stable_learning_rate(app.task.x) < 1.1
    assert app.view.data["stopped"] == "diverged"
    assert "diverged" in app.readout.value


def test_the_article_teacher_stalls_and_the_exact_teacher_lands_in_one_step(app):
    app.controls["strength"].value = 1.0
    app.controls["teacher"].value = TEACHERS[1]
    assert "stalled" in app.readout.value
    xty = (app.task.x.numpy().T @ app.task.y.numpy()).ravel()
    np.testing.assert_allclose(app.view.data["final_params"], xty, rtol=1e-9)
    app.controls["teacher"].value = TEACHERS[2]
    assert app.view.data["stopped"] == "diverged"
    app.controls["teacher"].value = TEACHERS[3]
    assert app.view.data["steps_to_target"] == 1
    assert app.view.data["final_loss"] == pytest.approx(app.task.loss_star, rel=1e-9)


def test_a_gradient_teacher_below_the_stability_limit_converges(app):
    task = app.task
    limit = max_stable_learning_rate(task.x)
    app.controls["strength"].value = 0.8 * limit
    assert app.view.data["stopped"] == "target"


def test_every_setting_follows_the_widget_kit(app):
    assert assert_every_setting_follows_the_kit(app) == 2 + len(TEACHERS)
    assert app._repr_mimebundle_()[0]["text/plain"].startswith(TEACHERS[0])


def test_figures_have_the_expected_panels():
    task = LineTask(X, Y)
    runs = {name: task.run(name, 0.1).losses for name in TEACHERS}
    assert len(loss_curves_figure(runs, optimum=task.loss_star).axes[0].lines) == 5
    figure = alphas_figure([np.full((1, 3), 0.1), np.full(3, 0.2)], ["W1", "b1"], initial=0.01)
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["W1", "b1"]
    result = {"horizons": [1, 5], "initial": (1.0, 0.1),
              **{k: {1: (0.9, 0.1), 5: (0.5, 0.1)} for k in ("learned", "sgd", "adam")}}
    assert len(horizon_figure(result).axes[0].containers) == 3
    run = run_curriculum(CurriculumTeacher(), seed=0)
    assert len(curriculum_figure(run.choices, run.per_task_loss).axes) == 2


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: teacher_explorer(X, Y, teacher="oracle"), ValueError, "teacher"),
    (lambda: teacher_explorer(X, Y, strength=0.0), ValueError, "strength"),
    (lambda: teacher_explorer(X, Y[:3]), ValueError, "same number"),
    (lambda: teacher_explorer(X, Y, max_steps=0), ValueError, "max_steps"),
    (lambda: make_teacher(TEACHERS[0], -1.0, X, Y), ValueError, "strength"),
    (lambda: loss_curves_figure({}), ValueError, "curves"),
    (lambda: alphas_figure([np.ones(2)], ["a", "b"]), ValueError, "alphas"),
])
def test_bad_arguments_are_rejected_with_a_clear_message(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_a_diverging_teacher_says_so_on_the_figure_and_under_the_readout(app):
    app.controls["strength"].value = 3.0  # the gradient teacher far beyond its stability limit
    notes = app.view.notes
    assert app.view.data["stopped"] == "diverged"
    steps = app.view.data["losses"].size - 1
    assert notes[0] == f"diverged: the loss exceeded 10⁶ (or overflowed) at step {steps}"
    assert f"⚠ {notes[0]}" in app.text_summary()
    assert "\ndiverged" not in app.view.readout  # said once, as a note, not twice


def test_a_line_that_leaves_the_fit_panel_is_reported_with_the_step_and_the_loss():
    x = np.linspace(1.0, 3.0, 20)
    task = LineTask(x, 1.5 * x - 3.0, max_steps=40)  # θ₀ = 0 (the line y = 0) is inside the panel
    view = task.view(1.0, TEACHERS[1])  # the article's teacher (replace) jumps to θ = Xᵀy, far above the data
    step = view.data["left_plot_at"]
    assert step == 1
    assert f"the learner's line left the plot at step 1: loss {view.data['losses'][1]:.3g}" in view.notes
    assert any(note.startswith("stalled:") for note in view.notes)
    legend = [t.get_text() for t in view.figure.axes[1].get_legend().get_texts()]
    assert f"learner after {view.data['losses'].size - 1} steps (not visible)" in legend


def test_one_step_is_singular():
    task = LineTask(X, Y, max_steps=40)
    view = task.view(1.0, TEACHERS[3])  # the exact teacher lands in one step
    legend = [t.get_text() for t in view.figure.axes[1].get_legend().get_texts()]
    assert "learner after 1 step" in legend and view.notes == []
