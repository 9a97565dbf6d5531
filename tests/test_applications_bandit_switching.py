"""Chapter 8's switching bandits: the environment, dynamic regret, sliding-window UCB, the shipped agent."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.applications.bandit_switching import (
    SWITCHING_RL2_CONFIG,
    SlidingWindowUCBPolicy,
    SwitchingBanditTrials,
    dynamic_regret,
    evaluate_switching_methods,
    load_switching_rl2,
    regret_per_pull,
    run_switching_policy,
    switch_indicators,
    switching_rl2_info,
    train_switching_rl2,
    tune_sliding_window_ucb,
)
from metalearn_lib.bandits import ThompsonPolicy, UCB1Policy
from metalearn_lib.rl import (
    BatchedEpisodicEnv,
    ExpectedRewardsEnv,
    agent_input_size,
    evaluate_agent,
    init_recurrent_actor_critic,
)


def test_env_follows_the_protocol_and_validates():
    env = SwitchingBanditTrials(3, 20, 0.1)
    assert isinstance(env, BatchedEpisodicEnv) and isinstance(env, ExpectedRewardsEnv)
    assert (env.num_actions, env.observation_size, env.horizon) == (3, 0, 20)
    assert env.expected_switches == pytest.approx(1.9)
    with pytest.raises(ValueError, match="switch_probability"):
        SwitchingBanditTrials(2, 10, 1.5)
    with pytest.raises(ValueError, match="num_arms"):
        SwitchingBanditTrials(0, 10, 0.1)
    with pytest.raises(TypeError, match="num_pulls"):
        SwitchingBanditTrials(2, 10.0, 0.1)


def test_tasks_are_piecewise_constant_and_stateless():
    env = SwitchingBanditTrials(3, 30, 0.2)
    means = env.sample_tasks(64, 5).numpy()
    assert means.shape == (64, 30, 3) and means.dtype == np.float32 and np.all((means >= 0) & (means < 1))
    np.testing.assert_array_equal(means, env.sample_tasks(64, 5).numpy())
    compiled = tf.function(lambda seed: env.sample_tasks(64, seed))(tf.constant([5, 0], tf.int64))
    np.testing.assert_array_equal(means, compiled.numpy())
    switches = switch_indicators(means)
    changed = np.any(means[:, 1:] != means[:, :-1], axis=-1)
    unchanged_everywhere = np.all(means[:, 1:] == means[:, :-1], axis=-1)
    np.testing.assert_array_equal(changed, ~unchanged_everywhere)  # all arms switch together, or none
    np.testing.assert_array_equal(switches[:, 1:], changed)
    assert not switches[:, 0].any()
    assert SwitchingBanditTrials(2, 10, 0.5).sample_tasks(3, 0, dtype=tf.float64).dtype == tf.float64


@pytest.mark.parametrize("hazard", [0.03, 0.3])
def test_switch_statistics_match_the_hazard_rate(hazard):
    env = SwitchingBanditTrials(2, 50, hazard)
    switches = switch_indicators(env.sample_tasks(4000, 1).numpy())[:, 1:]
    se = math.sqrt(hazard * (1 - hazard) / switches.size)
    assert abs(switches.mean() - hazard) < 5 * se
    counts = switches.sum(axis=1)  # Binomial(n − 1, h) per trial
    assert abs(counts.var() - 49 * hazard * (1 - hazard)) < 0.15 * 49 * hazard * (1 - hazard)
    # new means are fresh U[0, 1] draws: the best arm's mean of a k = 2 bandit averages 2/3
    means = env.sample_tasks(4000, 1).numpy()
    assert abs(means.max(axis=2).mean() - 2 / 3) < 0.01


def test_no_hazard_is_stationary_and_full_hazard_switches_every_pull():
    stationary = SwitchingBanditTrials(2, 15, 0.0).sample_tasks(50, 3).numpy()
    assert np.all(stationary == stationary[:, :1])
    always = switch_indicators(SwitchingBanditTrials(2, 15, 1.0).sample_tasks(50, 3).numpy())
    assert always[:, 1:].all()


def test_step_pays_the_means_of_that_pull():
    env = SwitchingBanditTrials(2, 4, 0.5)
    tasks = tf.constant([[[0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]]] * 3, tf.float32)  # [3, 4, 2]
    for t, (arm, paid) in enumerate([(1, 1.0), (0, 0.0), (0, 1.0), (1, 0.0)]):
        rewards, obs, done = env.step(tasks, tf.constant([arm] * 3), t, tf.constant([7, t], tf.int64))
        np.testing.assert_array_equal(rewards.numpy(), [paid] * 3)
        assert obs.shape == (3, 0) and done.numpy().tolist() == [float(t == 3)] * 3
    actions = tf.constant([[1, 0, 0, 1]] * 3)
    np.testing.assert_array_equal(env.expected_rewards(tasks, actions).numpy(), [[1, 0, 1, 0]] * 3)
    means = tf.constant([[[0.3, 0.7]] * 4], tf.float32)
    rewards = np.stack([env.step(tf.repeat(means, 20_000, axis=0), tf.fill([20_000], 1), 0,
                                 tf.constant([s, 0], tf.int64))[0].numpy() for s in range(3)])
    assert abs(rewards.mean() - 0.7) < 5 * math.sqrt(0.21 / rewards.size)


def test_dynamic_regret_on_a_hand_computed_case():
    means = np.array([[[0.2, 0.8], [0.2, 0.8], [0.9, 0.1]]])
    actions = np.array([[0, 1, 1]])
    np.testing.assert_allclose(regret_per_pull(means, actions), [[0.6, 0.0, 0.8]])
    np.testing.assert_allclose(dynamic_regret(means, actions), [1.4])
    with pytest.raises(ValueError, match="actions"):
        dynamic_regret(means, np.array([[0, 2, 1]]))
    with pytest.raises(ValueError, match="means"):
        dynamic_regret(means[0], actions)


def test_sliding_window_ucb_with_a_long_window_is_ucb1():
    env = SwitchingBanditTrials(3, 40, 0.05)
    means = env.sample_tasks(300, 2).numpy()
    for c in (0.0, 0.5):
        ucb1 = run_switching_policy(UCB1Policy(c), means, seed=4)
        for window in (40, 1000):
            sw = run_switching_policy(SlidingWindowUCBPolicy(window, c), means, seed=4)
            np.testing.assert_array_equal(sw.actions, ucb1.actions)
    short = run_switching_policy(SlidingWindowUCBPolicy(5, 0.5), means, seed=4)
    assert not np.array_equal(short.actions, run_switching_policy(UCB1Policy(0.5), means, seed=4).actions)
    with pytest.raises(ValueError, match="window"):
        SlidingWindowUCBPolicy(0, 0.5)
    with pytest.raises(ValueError, match="c must be"):
        SlidingWindowUCBPolicy(10, -1.0)


def test_windowed_counts_are_the_last_tau_pulls():
    seen = []

    class Recorder:
        window = 4
        name = "recorder"

        def __call__(self, successes, failures, t, num_pulls, rng):
            seen.append((successes, failures))
            return rng.integers(2, size=successes.shape[0])

    means = SwitchingBanditTrials(2, 12, 0.2).sample_tasks(20, 0).numpy()
    result = run_switching_policy(Recorder(), means, seed=1)
    for t, (successes, failures) in enumerate(seen):
        lo = max(0, t - 4)
        for arm in range(2):
            pulled = result.actions[:, lo:t] == arm
            np.testing.assert_array_equal(successes[:, arm], (pulled * result.rewards[:, lo:t]).sum(axis=1))
            np.testing.assert_array_equal(failures[:, arm], (pulled * (1 - result.rewards[:, lo:t])).sum(axis=1))


def test_rewards_are_common_random_numbers_and_means_are_checked():
    means = SwitchingBanditTrials(2, 10, 0.3).sample_tasks(50, 0).numpy()
    a = run_switching_policy(ThompsonPolicy(), means, seed=3)
    b = run_switching_policy(UCB1Policy(0.2), means, seed=3)
    same = a.actions == b.actions
    np.testing.assert_array_equal(a.rewards[same], b.rewards[same])
    regret, ci = a.mean_dynamic_regret
    assert regret == pytest.approx(dynamic_regret(means, a.actions).mean()) and ci > 0
    with pytest.raises(ValueError, match="means"):
        run_switching_policy(ThompsonPolicy(), means[0], seed=0)


def test_tuning_picks_the_grid_minimum():
    env = SwitchingBanditTrials(2, 30, 0.1)
    best, regrets = tune_sliding_window_ucb((5, 30), (0.0, 0.5), env, num_bandits=200, seed=1)
    assert regrets.shape == (2, 2)
    i, j = np.unravel_index(np.argmin(regrets), regrets.shape)
    assert (best.window, best.c) == ((5, 30)[i], (0.0, 0.5)[j])
    with pytest.raises(ValueError, match="non-empty"):
        tune_sliding_window_ucb((), (0.5,), env, 10, 1)


def test_evaluation_compares_methods_on_the_same_bandits():
    env = SwitchingBanditTrials(2, 24, 0.1)
    params = init_recurrent_actor_critic(agent_input_size(2), 8, 2, 0)
    out = evaluate_switching_methods(env, policies={"ucb1": UCB1Policy(0.3)}, agents={"rl2": params},
                                     num_bandits=50, seed=9)
    for score in out.values():
        assert score["regret_curve"].shape == (24,) and score["regret"] == pytest.approx(score["regret_curve"][-1])
        assert np.all(np.diff(score["regret_curve"]) >= -1e-12)  # cumulative regret never decreases
    trial = evaluate_agent(params, env, tasks=env.sample_tasks(50, 9), seed=9)
    np.testing.assert_allclose(out["rl2"]["dynamic_regret"],
                               dynamic_regret(trial.tasks.astype(np.float64), trial.rollout.actions))
    ucb1 = run_switching_policy(UCB1Policy(0.3), env.sample_tasks(50, 9).numpy(), seed=9)
    np.testing.assert_allclose(out["ucb1"]["dynamic_regret"], ucb1.dynamic_regret)


@pytest.mark.slow
def test_training_runs_on_switching_bandits():
    env = SwitchingBanditTrials(2, 24, 0.1)
    config = dataclasses.replace(SWITCHING_RL2_CONFIG, hidden_size=8, batch_size=16)
    result = train_switching_rl2(env, config, num_iterations=2, iterations_per_call=1)
    assert result.rewards.shape == (2,) and result.checkpoint.extra["switch_probability"] == 0.1
    assert result.params.input_size == agent_input_size(2) and result.params.num_actions == 2


def test_the_shipped_switching_agent_loads_and_beats_the_stationary_one():
    info = switching_rl2_info()
    agent = load_switching_rl2()
    assert (agent.num_arms, agent.num_pulls) == (2, 100) and info["switch_probability"] == 0.03
    assert {"command", "seed", "config", "wall_s", "evaluation"} <= set(info)
    evaluation = info["evaluation"]
    switching, stationary = evaluation["rl2_switching"], evaluation["rl2_stationary"]
    assert switching["dynamic_regret"] + switching["ci95"] < stationary["dynamic_regret"]
    env = SwitchingBanditTrials(2, 100, info["switch_probability"])
    out = evaluate_switching_methods(env, agents={"rl2": agent}, num_bandits=1000, seed=evaluation["seed"])
    assert out["rl2"]["regret"] == pytest.approx(switching["dynamic_regret"], abs=1e-6)  # the record reproduces
