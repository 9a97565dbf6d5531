"""RL² on MDPs (chapter 7): the recipes, training, saving and the shipped agents' documented numbers."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from metalearn_lib.meta_rl_mdps import (
    RL2_RECIPES,
    Gridworld,
    RandomTabularMDPs,
    evaluate_rl2_mdp,
    gridworld_bayes_optimal,
    load_shipped_rl2,
    save_rl2,
    shipped_rl2_info,
    shipped_rl2_path,
    train_rl2_mdp,
)
from metalearn_lib.rl import A2CConfig, agent_input_size, load_checkpoint

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "meta_rl_mdps_full.json"


def test_recipes_name_the_two_families_and_read_the_done_flag():
    assert set(RL2_RECIPES) == {"tabular_n10", "gridworld"}
    assert isinstance(RL2_RECIPES["tabular_n10"].env, RandomTabularMDPs)
    assert RL2_RECIPES["tabular_n10"].env.num_episodes == 10
    assert isinstance(RL2_RECIPES["gridworld"].env, Gridworld)
    for recipe in RL2_RECIPES.values():
        assert recipe.config.use_done_flag and recipe.config.gamma == 1.0
        assert recipe.config.entropy_anneal_iterations == recipe.num_iterations


@pytest.mark.parametrize("function", [train_rl2_mdp, shipped_rl2_path, shipped_rl2_info, load_shipped_rl2])
def test_an_unknown_recipe_is_refused_by_name(function):
    with pytest.raises(ValueError, match="name must be one of"):
        function("tabular_n25")


def test_a_short_run_is_deterministic_and_survives_a_save(tmp_path):
    first = train_rl2_mdp("gridworld", num_iterations=20)
    second = train_rl2_mdp("gridworld", num_iterations=20)
    for a, b in zip(first.params, second.params, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    path = tmp_path / "agent.npz"
    save_rl2(path, first, {"command": "test"})
    assert json.loads(path.with_suffix(".json").read_text())["command"] == "test"
    reloaded = load_checkpoint(path).params
    before = evaluate_rl2_mdp(first.params, "gridworld", num_tasks=50)
    after = evaluate_rl2_mdp(reloaded, "gridworld", num_tasks=50)
    assert before.mean_return == after.mean_return
    # the per-episode split adds up to the trial's return
    np.testing.assert_allclose(before.episode_returns.sum(axis=1).mean(), before.mean_return, atol=1e-4)
    assert before.episode_returns.shape == (50, 4) and before.episode_means.shape == (4,)


def test_the_task_baseline_trains_on_tabular_mdps_and_changes_the_gradient():
    from metalearn_lib.rl import train_a2c

    env = RandomTabularMDPs(num_episodes=2)
    base = A2CConfig(hidden_size=8, batch_size=16, gamma=1.0, lam=0.95, use_done_flag=True, expected_rewards=True,
                     jit_compile=False, unroll=False, seed=0)
    with_baseline = A2CConfig(**{**base.to_dict(), "task_baseline": True})
    a = train_a2c(env, with_baseline, num_iterations=2, iterations_per_call=2)
    b = train_a2c(env, with_baseline, num_iterations=2, iterations_per_call=2)
    c = train_a2c(env, base, num_iterations=2, iterations_per_call=2)
    np.testing.assert_array_equal(np.asarray(a.params[0]), np.asarray(b.params[0]))
    assert not np.allclose(np.asarray(a.params[0]), np.asarray(c.params[0]))
    np.testing.assert_array_equal(a.rewards[:1], c.rewards[:1])  # the same first trials: only the update differs


def test_the_seed_override_changes_the_run():
    a = train_rl2_mdp("gridworld", num_iterations=2)
    b = train_rl2_mdp("gridworld", num_iterations=2, seed=1)
    assert not np.allclose(np.asarray(a.params[0]), np.asarray(b.params[0]))
    with pytest.raises(ValueError, match="seed"):
        train_rl2_mdp("gridworld", num_iterations=2, seed=-1)


# --------------------------------------------------------------------------------------------
# the shipped agents
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def results():
    return json.loads(RESULTS.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(RL2_RECIPES))
def test_each_agent_is_shipped_small_with_its_command_and_recipe(name):
    path = shipped_rl2_path(name)
    assert path.exists() and path.stat().st_size <= 1_000_000
    info = shipped_rl2_info(name)
    assert info["command"].startswith("python benchmarks/meta_rl_mdps.py") and "--ship" in info["command"]
    recipe = RL2_RECIPES[name]
    recorded = info["config"]
    for key, value in json.loads(json.dumps(dataclasses.asdict(recipe.config))).items():
        default = json.loads(json.dumps(getattr(A2CConfig(), key)))  # a field added after the agent was trained
        assert recorded.get(key, default) == value, key
    assert info["num_iterations"] == recipe.num_iterations and info["seed"] == recipe.config.seed
    params = load_shipped_rl2(name)
    env = recipe.env
    assert params.input_size == agent_input_size(env.num_actions, env.observation_size, use_done_flag=True)


@pytest.mark.parametrize("name", sorted(RL2_RECIPES))
def test_the_shipped_agents_reproduce_their_documented_evaluation(name, results):
    info = shipped_rl2_info(name)
    evaluation = info["evaluation"]
    env = RL2_RECIPES[name].env
    tasks = env.sample_tasks(evaluation["tasks"], evaluation["task_seed"])
    for mode in ("sampled", "greedy"):
        again = evaluate_rl2_mdp(load_shipped_rl2(name), name, tasks=tasks, seed=evaluation["seed"],
                                 greedy=mode == "greedy")
        documented = evaluation[mode]
        assert abs(again.mean_return - documented["mean"]) <= documented["ci95"]
        assert abs(again.ci95 - documented["ci95"]) <= 0.1 * documented["ci95"]
    row = next(r for r in results["rows"] if r["policy"] == "rl2" and
               (r["env"] == "gridworld") == (name == "gridworld"))
    value = row["mean_return"] if name == "gridworld" else row["mean_reward"]
    assert value == pytest.approx(evaluation["sampled"]["mean"]) and row["ci95"] == pytest.approx(
        evaluation["sampled"]["ci95"])


def test_rl2_on_the_gridworld_is_within_5_percent_of_bayes_optimal_and_beats_posterior_sampling(results):
    rows = {r["policy"]: r for r in results["rows"] if r["env"] == "gridworld"}
    optimum = gridworld_bayes_optimal(Gridworld()).expected_return
    assert rows["bayes_optimal"]["mean_return"] == pytest.approx(optimum)
    rl2 = rows["rl2"]
    assert rl2["mean_return"] - rl2["ci95"] > rows["posterior_sampling"]["mean_return"]
    assert rl2["mean_return"] >= 0.95 * optimum
    assert rl2["mean_return"] + rl2["ci95"] < optimum  # no agent beats the exact limit
