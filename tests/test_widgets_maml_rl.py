"""The figures and explorer of ``06_maml_rl``, driven without a browser."""

from __future__ import annotations

import numpy as np
import pytest

from metalearn_lib.maml_rl import load_shipped_policy
from metalearn_lib.plotting import problems
from metalearn_lib.rl.gaussian_policy import init_gaussian_policy
from metalearn_lib.widgets.maml_rl import (
    action_field_figure,
    adapt_to_goal,
    adaptation_figure,
    maml_rl_explorer,
    returns_figure,
)
from tests.check_tools import assert_every_setting_follows_the_kit, assert_follows_the_kit, move_first_control


@pytest.fixture(scope="module")
def policies():
    return {"MAML": load_shipped_policy("maml")[0], "random init": init_gaussian_policy(2, 2, seed=0)}


def test_moving_the_goal_changes_readout_and_picture(policies):
    app = maml_rl_explorer(policies, goal=(0.3, -0.2), steps=3)
    assert list(app.controls)[0] == "goal_x"
    move_first_control(app)  # 0.3 + 1 is clipped to the slider's max 0.5
    assert "goal (0.50, -0.20)" in app.readout.value
    returns = app.view.data["returns"]
    assert returns.shape == (4,) and returns[-1] > returns[0] + 10  # the meta-learned policy adapts
    assert app.view.data["optimum"] > returns[-1]  # nobody beats the oracle


def test_zero_steps_says_how_to_adapt(policies):
    app = maml_rl_explorer(policies, steps=0)
    assert app.view.data["returns"].shape == (1,) and "move 'steps' to adapt it" in app.view.readout


def test_trajectories_that_leave_the_panel_are_said_in_words(policies):
    app = maml_rl_explorer(policies, steps=1)
    app.controls["name"].value = "random init"  # σ = 1: a random walk that wanders off the panel
    assert any("leave the panel" in note for note in app.view.notes)
    assert "⚠" in app.readout.value or "leave the panel" in app.readout.value
    assert_follows_the_kit(app)


def test_every_setting_follows_the_widget_kit(policies):
    app = maml_rl_explorer(policies)
    assert assert_every_setting_follows_the_kit(app) >= 8


def test_the_figures_draw_and_flag_nothing_for_the_meta_learned_policy(policies):
    curve = adapt_to_goal(policies["MAML"], (-0.35, 0.25))
    assert len(curve.trajectories) == 4 and np.isnan(curve.ci95).all()
    figure = adaptation_figure({"MAML": curve, "again": curve})
    assert not problems(figure)
    returns_figure({"MAML": (curve.returns[:, 0], np.zeros(4))}, oracle=-0.5, published=[-40, -12, -3, -3])
    action_field_figure(policies["MAML"])
    with pytest.raises(ValueError, match="goal must be two numbers"):
        maml_rl_explorer(policies, goal=(0.9, 0.0))
    with pytest.raises(ValueError, match="steps must be an int"):
        maml_rl_explorer(policies, steps=4)
