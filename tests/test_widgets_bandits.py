"""The explorer of ``05_meta_rl_bandits``, driven without a browser."""

from __future__ import annotations

import numpy as np
import pytest

from metalearn_lib.bandits import BayesOptimal
from metalearn_lib.bandits.rl2 import RL2Agent
from metalearn_lib.rl import agent_input_size, init_recurrent_actor_critic
from metalearn_lib.widgets.bandits import (
    bandit_explorer,
    exploration_figure,
    play_trace,
    posterior_figure,
    training_curve_figure,
)
from tests.check_tools import move_first_control


@pytest.fixture(scope="module")
def agent():
    return RL2Agent(init_recurrent_actor_critic(agent_input_size(3), 16, 3, seed=0), 3, 6, seed=0)


def test_moving_the_first_mean_changes_readout_and_picture(agent):
    app = bandit_explorer(agent, means=[0.2, 0.5, 0.8], pulls=4)
    assert list(app.controls)[0] == "mean_0"
    app.controls["mean_0"].value = 0.1
    move_first_control(app)  # 0.1 → 1.1 is clipped to the slider's max 1.0: still a change
    assert app.view.data["means"][0] == 1.0
    assert "means = [1.00, 0.50, 0.80]" in app.readout.value


def test_stepping_the_trial_shows_the_pulls_so_far(agent):
    app = bandit_explorer(agent, means=[0.2, 0.5, 0.8], pulls=0)
    assert app.view.data["pulls"] == 0 and len(app.view.data["actions"]) == 0
    app.controls["pulls"].value = 6
    assert len(app.view.data["actions"]) == 6 and "the trial is over" in app.readout.value
    trace = play_trace(agent, [0.2, 0.5, 0.8], seed=0)
    np.testing.assert_array_equal(app.view.data["actions"], trace.actions)
    assert app.view.data["total_reward"] == trace.rewards.sum()


def test_the_bayes_optimal_comparison_is_right(agent):
    app = bandit_explorer(agent, means=[0.3, 0.6, 0.9], pulls=2)
    trace = play_trace(agent, [0.3, 0.6, 0.9], seed=0)
    s, f = trace.counts(2, 3)
    np.testing.assert_allclose(app.view.data["q_values"], BayesOptimal(3, 6).q_values(s, f, 4))
    np.testing.assert_allclose(app.view.data["policy"], trace.probabilities[2])
    solver = BayesOptimal(3, 6)
    agreed = 0
    for t in range(2):
        q = solver.q_values(*trace.counts(t, 3), 6 - t)
        agreed += q[trace.actions[t]] >= q.max() - 1e-12
    assert app.view.data["agreed"] == agreed
    assert f"at {agreed} of 2 pulls" in app.readout.value


def test_traces_are_repeatable_and_rewards_follow_the_means(agent):
    first, again = play_trace(agent, [0.2, 0.4, 0.6], seed=3), play_trace(agent, [0.2, 0.4, 0.6], seed=3)
    np.testing.assert_array_equal(first.actions, again.actions)  # repeatable
    higher = play_trace(agent, [0.9, 0.9, 0.9], seed=3)
    lower = play_trace(agent, [0.1, 0.1, 0.1], seed=3)
    assert higher.rewards.sum() >= lower.rewards.sum()


def test_explorer_validates_its_arguments(agent):
    with pytest.raises(TypeError, match="agent"):
        bandit_explorer("not an agent")
    with pytest.raises(ValueError, match="means"):
        bandit_explorer(agent, means=[0.5, 0.5])
    with pytest.raises(ValueError, match="means"):
        bandit_explorer(agent, means=[0.5, 1.5, 0.5])
    with pytest.raises(ValueError, match="pulls"):
        bandit_explorer(agent, pulls=7)


def test_lecture_figures_build_and_validate():
    assert posterior_figure([1, 0, 3], [2, 0, 1], means=[0.3, 0.5, 0.7]).axes
    assert training_curve_figure(np.linspace(5, 6.5, 50), references={"random": 5.0}).axes
    assert exploration_figure({"agent": np.linspace(1, 0, 10)}, ylabel="share").axes
    with pytest.raises(ValueError, match="successes"):
        posterior_figure([1, 2], [1])
    with pytest.raises(ValueError, match="rewards"):
        training_curve_figure([])
    with pytest.raises(ValueError, match="curves"):
        exploration_figure({}, ylabel="x")


def test_the_end_of_the_trial_is_said_instead_of_a_next_choice(agent):
    app = bandit_explorer(agent, means=[0.2, 0.5, 0.8], pulls=6)
    assert app.view.notes == ["all 6 pulls are played: there is no next choice to compare with the Bayes-optimal one"]
    titles = [ax.get_title() for ax in app.view.figure.axes]
    assert "the trial is over: where the 6 pulls went" in titles
    assert not any("next" in title for title in titles)
    app.controls["pulls"].value = 0
    assert app.view.notes == [] and "no pulls yet" in app.readout.value
    app.controls["pulls"].value = 1
    assert "at 1 of 1 pull\n" in app.view.readout + "\n" or app.view.readout.endswith("1 of 1 pull")
