"""The figures and explorer of ``07_meta_rl_mdps``, driven without a browser."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.meta_rl_mdps import (
    Gridworld,
    gridworld_bayes_optimal,
    play_posterior_sampling,
    reached_cells,
)
from metalearn_lib.plotting import new_figure, overflowing_texts, problems
from metalearn_lib.rl import agent_input_size, init_recurrent_actor_critic, play_trial
from metalearn_lib.tasks import seed_pair
from metalearn_lib.widgets.meta_rl_mdps import (
    GridworldAgent,
    History,
    bayes_optimal_agent,
    draw_gridworld,
    episode_returns_figure,
    gridworld_explorer,
    play_agent,
    posterior_sampling_agent,
    recurrent_agent,
    search_paths_figure,
    tabular_returns_figure,
)
from tests.check_tools import assert_follows_the_kit, move_first_control
from tests.notebook_tools import REPO_ROOT

ENV = Gridworld()
GOAL = ENV.cell(3, 0)


@pytest.fixture(scope="module")
def params():
    return init_recurrent_actor_critic(agent_input_size(5, ENV.observation_size, use_done_flag=True), 16, 5, seed=0)


@pytest.fixture(scope="module")
def agents(params):
    return {"Bayes-optimal": bayes_optimal_agent(ENV), "posterior sampling": posterior_sampling_agent(ENV, seed=1),
            "RL²": recurrent_agent(params, ENV)}


def _arrows(ax):
    return [t for t in ax.texts if t.get_gid() == "metalearn-path-step"]


class Stubborn:
    """Goes up, then fails at step 5: an agent that cannot act."""

    def reset(self):
        pass

    def act(self, history):
        if len(history.actions) == 5:
            raise RuntimeError("the network returned NaN logits")
        return 1


def test_a_panel_shows_the_belief_the_path_and_the_goal():
    figure, axes = new_figure(1, 1, width=3.2, height=3.4)
    ax = axes[0, 0]
    belief = np.where(ENV.candidate_mask, 1.0, 0.0)
    belief[[ENV.cell(0, 2), ENV.cell(0, 3)]] = 0.0
    belief /= belief.sum()
    draw_gridworld(ax, ENV, goal=GOAL, belief=belief, path=[0, 1, 2, 3, 3, 3], position=3, title="t", status="s")
    shading = np.asarray(ax.images[0].get_array())
    assert shading.shape == (5, 5) and shading.sum() == pytest.approx(1.0)
    assert shading[2, 0] == 0 and shading[1, 1] == 0 and shading[0, 3] == pytest.approx(1 / 19)  # [y, x]
    assert len(_arrows(ax)) == 3  # three moves; staying draws no arrow
    labels = {t.get_text() for t in ax.texts}
    assert {"S", "1", "2", "3–5"} <= labels  # it stayed on (0, 3) at steps 3 … 5
    assert overflowing_texts(figure) == []
    for bad, match in (({"path": [0, 2]}, "one cell a step"), ({"goal": 0}, "candidate"),
                       ({"belief": np.ones(24)}, "belief"), ({"position": 25}, "position")):
        with pytest.raises(ValueError, match=match):
            draw_gridworld(ax, ENV, **bad)


def test_search_paths_show_each_agent_and_episode(agents):
    trials = {name: play_agent(agent, ENV, GOAL) for name, agent in agents.items()}
    figure = search_paths_figure(ENV, trials, goal=GOAL)
    assert len(figure.axes) == 6 and not problems(figure) and overflowing_texts(figure) == []
    titles = [ax.get_title() for ax in figure.axes]
    assert titles[:2] == ["Bayes-optimal · episode 1", "posterior sampling · episode 1"]
    bottom = figure.axes[-1].xaxis.label.get_window_extent()
    assert figure.legends[0].get_window_extent().y1 < bottom.y0  # the legend is under the panels (legend_below)
    bayes = figure.axes[0]
    assert bayes.get_xlabel().startswith("14 new cells, 0 revisits, not found")  # never steps on a searched cell
    assert len(_arrows(bayes)) == 15
    later = np.asarray(figure.axes[3].images[0].get_array())  # Bayes-optimal, episode 2: belief after episode 1
    assert later.sum() == pytest.approx(1.0) and np.count_nonzero(later) == 21 - 14
    plan = gridworld_bayes_optimal(ENV).plan
    searched = reached_cells(ENV, plan[:15])
    assert all(later[y, x] == 0 for x, y in ENV.coordinates(searched))
    with pytest.raises(ValueError, match="too few"):
        search_paths_figure(ENV, {"short": plan[:20]}, goal=GOAL, episodes=(0, 1, 2))
    with pytest.raises(ValueError, match="goal"):
        search_paths_figure(ENV, {"plan": plan}, goal=0)


def test_return_figures_draw_the_references():
    solver = gridworld_bayes_optimal(ENV)
    figure = episode_returns_figure({"posterior sampling": ([1.5, 9.0, 10.2, 10.6], [0.4, 0.3, 0.3, 0.3])},
                                    bayes_optimal=solver.episode_returns())
    labels = figure.axes[0].get_legend_handles_labels()[1]
    assert set(labels) == {"posterior sampling", "Bayes-optimal (exact)"} and overflowing_texts(figure) == []
    results = json.loads((REPO_ROOT / "benchmarks/results/meta_rl_mdps_full.json").read_text(encoding="utf-8"))
    figure = tabular_returns_figure(results["rows"], published=results["published"])
    ax = figure.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "oracle (knows the MDP): the ceiling" and labels[-1] == "random: the floor"
    assert "RL², published" in labels and len(labels) == 7 and overflowing_texts(figure) == []
    ceiling = next(line for line in ax.get_lines() if line.get_label().endswith("ceiling"))
    np.testing.assert_allclose(ceiling.get_ydata(), 21.9, atol=0.05)  # n·V₀(0) / n
    with pytest.raises(ValueError, match="tabular results"):
        tabular_returns_figure([row for row in results["rows"] if row["env"] == "gridworld"])
    with pytest.raises(ValueError, match="no rows"):
        tabular_returns_figure(results["rows"], policies=["psrl_n25"])
    with pytest.raises(ValueError, match="one length"):
        episode_returns_figure({"x": ([1, 2], [0.1])})


def test_the_adapters_play_as_the_library_players(params):
    solver = gridworld_bayes_optimal(ENV)
    goals = [GOAL, ENV.cell(4, 4), ENV.cell(1, 3)]
    bayes = solver.play(tf.constant(goals))
    for i, goal in enumerate(goals):
        trial = play_agent(bayes_optimal_agent(ENV), ENV, goal)
        assert trial.actions == tuple(bayes.actions[i].numpy()) and trial.failure is None
        dp = solver.returns_by_goal()[ENV.candidate_cells.index(goal)].sum()
        assert trial.total_reward == pytest.approx(dp)
        sampling = play_posterior_sampling(ENV, tf.constant([goal]), seed=7)  # row b draws the b-th uniform
        played = play_agent(posterior_sampling_agent(ENV, seed=7), ENV, goal)
        assert played.actions == tuple(sampling.actions[0].numpy())
    rl2 = recurrent_agent(params, ENV, greedy=False, seed=3)
    assert isinstance(rl2, GridworldAgent)
    reference = play_trial(params, ENV, tf.constant([GOAL]), seed_pair(3), greedy=False, use_done_flag=True)
    assert play_agent(rl2, ENV, GOAL).actions == tuple(reference.actions[0].numpy())
    assert rl2.probabilities.shape == (5,) and rl2.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    first = rl2.act(History())  # not a continuation of its trial: it starts again
    assert first == reference.actions[0, 0] and rl2.act(History((first,), (-0.1,))) in range(5)
    with pytest.raises(ValueError, match="params do not fit"):
        recurrent_agent(init_recurrent_actor_critic(12, 4, 5, seed=0), ENV)


def test_stepping_playing_and_resetting_the_explorer(agents):
    app = gridworld_explorer(agents, goal=(3, 0), steps=0)
    assert list(app.controls) == ["steps", "goal"] and "no steps yet" in app.view.readout
    move_first_control(app)  # steps 0 → 1
    app.step_button.click()
    data = app.view.data
    assert data["steps"] == 2 and all(len(a) == 2 for a in data["actions"].values())
    for name, belief in data["beliefs"].items():
        visited = reached_cells(ENV, np.asarray(data["actions"][name]))
        assert belief.sum() == pytest.approx(1.0) and np.all(belief[visited] == 0)
    app.play.value = ENV.horizon  # as the play button does at the end
    dp = gridworld_bayes_optimal(ENV).returns_by_goal()[ENV.candidate_cells.index(GOAL)].sum()
    assert app.view.data["returns"]["Bayes-optimal"] == pytest.approx(dp) == app.view.data["bayes_optimal_return"]
    assert "the trial is over" in app.view.readout and f"{dp:.1f}" in app.view.readout
    app.step_button.click()  # nothing beyond the trial's end
    assert app.view.data["steps"] == ENV.horizon and app.play.value == ENV.horizon
    app.controls["goal"].value = ENV.cell(4, 4)
    assert "goal (4, 4)" in app.readout.value and len(app.trials) == 2
    app.reset_button.click()
    assert app.view.data["steps"] == 0 and app.play.value == 0 and len(app.trials) == 1
    before = app.image.value
    app.reset_button.click()  # at step 0 already: played again and redrawn all the same
    assert app.view.data["steps"] == 0 and bytes(app.image.value) == bytes(before)
    assert_follows_the_kit(app)


def test_an_agent_that_cannot_act_is_said_in_words(agents):
    app = gridworld_explorer({"Bayes-optimal": agents["Bayes-optimal"], "stubborn": Stubborn()}, steps=5)
    assert app.view.notes == []
    app.step_button.click()
    assert app.view.notes == ["stubborn could not act at step 6: RuntimeError: the network returned NaN logits"]
    assert "stubborn: return so far -0.5, stopped at step 6" in app.view.readout
    assert app.view.data["failures"]["stubborn"][0] == 5 and len(app.view.data["actions"]["stubborn"]) == 5
    assert_follows_the_kit(app)


def test_the_explorer_fits_one_to_four_agents_and_validates(agents):
    four = dict(agents, again=posterior_sampling_agent(ENV, seed=2))
    assert_follows_the_kit(gridworld_explorer(four, steps=ENV.horizon))
    assert_follows_the_kit(gridworld_explorer({"alone": agents["Bayes-optimal"]}, goal=(4, 4)))
    with pytest.raises(TypeError, match="reset"):
        gridworld_explorer({"x": object()})
    with pytest.raises(ValueError, match="1 to 4"):
        gridworld_explorer(dict(four, fifth=Stubborn()))
    with pytest.raises(ValueError, match="goal"):
        gridworld_explorer(agents, goal=(1, 1))
    with pytest.raises(ValueError, match="steps"):
        gridworld_explorer(agents, steps=ENV.horizon + 1)
