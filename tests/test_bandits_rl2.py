"""Tests for metalearn_lib.bandits.rl2: training, evaluation, the pull-by-pull agent, shipped weights."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib import seed_everything
from metalearn_lib.bandits.bayes_optimal import bayes_optimal_solver, count_states
from metalearn_lib.bandits.rl2 import (
    PUBLISHED_RL2,
    BanditTrials,
    RL2Agent,
    evaluate_rl2,
    load_pretrained_rl2,
    pretrained_rl2_info,
    pretrained_rl2_path,
    train_rl2,
)
from metalearn_lib.rl import BatchedEpisodicEnv, init_recurrent_actor_critic


@pytest.fixture(autouse=True)
def _seed() -> None:
    seed_everything(0)


@pytest.fixture(scope="module")
def trained():
    """A small agent trained briefly at (n = 10, k = 5): ~10 s on two CPU cores."""
    return train_rl2(5, 10, num_iterations=1500, hidden_size=32, batch_size=128, learning_rate=5e-3,
                     entropy_coef=0.02, entropy_coef_final=0.0, seed=0)


def test_bandit_trials_follow_the_protocol() -> None:
    env = BanditTrials(5, 10)
    assert isinstance(env, BatchedEpisodicEnv)
    assert (env.num_actions, env.observation_size, env.horizon) == (5, 0, 10)
    means = env.sample_tasks(4, 0)
    rewards, obs, done = env.step(means, tf.constant([0, 1, 2, 3]), 9, tf.constant([1, 2], tf.int64))
    assert rewards.shape == (4,) and obs.shape == (4, 0) and np.all(done.numpy() == 1.0)
    assert np.all(env.step(means, tf.constant([0, 1, 2, 3]), 3, tf.constant([1, 2], tf.int64))[2].numpy() == 0.0)
    actions = tf.constant([[0, 4, 4], [1, 1, 2], [3, 0, 2], [2, 2, 2]])
    expected = env.expected_rewards(means, actions).numpy()
    np.testing.assert_array_equal(expected, np.take_along_axis(means.numpy(), actions.numpy(), axis=1))


@pytest.mark.slow
def test_a_briefly_trained_agent_clearly_beats_random(trained) -> None:
    assert trained.rewards.shape == (1500,)
    assert trained.rewards[-100:].mean() > trained.rewards[:100].mean() + 0.5
    ev = evaluate_rl2(trained.params, 5, 10, num_bandits=1000, seed=123)
    # random play scores n/2 = 5; a trained agent ~6.2 or more at this budget
    assert ev.mean_reward - ev.ci95 > 5.5, (ev.mean_reward, ev.ci95)
    assert ev.regret == pytest.approx(10 * 5 / 6 - ev.mean_reward)
    assert ev.actions.shape == (1000, 10) and ev.rewards.shape == (1000, 10) and ev.means.shape == (1000, 5)
    assert ev.probabilities.shape == (1000, 10, 5)
    np.testing.assert_allclose(ev.probabilities.sum(axis=-1), 1.0, rtol=1e-5)
    # the agent exploits: in the last pull it mostly picks an arm it has been paid by
    paid = np.zeros((1000, 5), bool)
    for t in range(9):
        paid[np.arange(1000), ev.actions[:, t]] |= ev.rewards[:, t] > 0
    assert paid[np.arange(1000), ev.actions[:, 9]].mean() > 0.8
    assert trained.config["num_arms"] == 5 and trained.config["hidden_size"] == 32
    assert trained.wall_s > 0 and trained.iterations_per_s > 0


def test_the_agent_stepping_equals_the_batched_evaluation() -> None:
    params = init_recurrent_actor_critic(7, 16, 5, seed=2)
    params = params._replace(w_pi=params.w_pi * 300.0)  # a policy with clear preferences, so arg-max ties cannot happen
    ev = evaluate_rl2(params, 5, 10, num_bandits=6, seed=11, greedy=True)
    agent = RL2Agent(params, 5, 10, greedy=True)
    for b in range(6):
        agent.reset()
        prev_a, prev_r = None, None
        for t in range(10):
            action = agent.act(prev_a, prev_r)
            assert action == ev.actions[b, t]
            np.testing.assert_allclose(agent.probabilities, ev.probabilities[b, t], rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(agent.value, ev.values[b, t], rtol=1e-5, atol=1e-6)
            prev_a, prev_r = int(ev.actions[b, t]), float(ev.rewards[b, t])
    with pytest.raises(RuntimeError, match="reset"):
        agent.act(0, 1.0)


def test_the_agent_plays_a_whole_bandit_like_the_evaluation() -> None:
    params = init_recurrent_actor_critic(7, 16, 5, seed=2)
    params = params._replace(w_pi=params.w_pi * 300.0)
    ev = evaluate_rl2(params, 5, 10, num_bandits=2, seed=11, greedy=True)
    actions, rewards = RL2Agent(params, 5, 10, greedy=True).play(ev.means[0], seed=11)
    np.testing.assert_array_equal(actions, ev.actions[0])
    # the batched rewards draw one uniform per bandit from the same stream: bandit 0 sees u_0
    np.testing.assert_array_equal(rewards, ev.rewards[0])


def test_sampling_agent_is_repeatable() -> None:
    params = init_recurrent_actor_critic(7, 8, 5, seed=0)
    runs = [RL2Agent(params, 5, 10, seed=4).play([0.1, 0.2, 0.3, 0.4, 0.5], seed=1) for _ in range(2)]
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_training_is_deterministic_and_resumable() -> None:
    kwargs = dict(num_iterations=8, hidden_size=8, batch_size=16, seed=5, iterations_per_call=4,
                  entropy_anneal_iterations=8)
    a = train_rl2(5, 10, **kwargs)
    b = train_rl2(5, 10, **kwargs)
    c = train_rl2(5, 10, **{**kwargs, "seed": 6})
    for x, y in zip(a.params, b.params, strict=True):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    np.testing.assert_array_equal(a.rewards, b.rewards)
    assert not np.array_equal(a.params[0].numpy(), c.params[0].numpy())
    first = train_rl2(5, 10, **{**kwargs, "num_iterations": 4})
    resumed = train_rl2(5, 10, num_iterations=4, resume=first)
    assert resumed.config["num_iterations"] == 8
    for x, y in zip(a.params, resumed.params, strict=True):
        np.testing.assert_array_equal(x.numpy(), y.numpy())


def test_save_and_load(tmp_path) -> None:
    params = init_recurrent_actor_critic(7, 8, 5, seed=0)
    agent = RL2Agent(params, 5, 10)
    agent.save(tmp_path / "agent.npz", note="test")
    back = RL2Agent.load(tmp_path / "agent.npz", greedy=True)
    assert (back.num_arms, back.num_pulls, back.greedy) == (5, 10, True)
    for x, y in zip(params, back.params, strict=True):
        np.testing.assert_array_equal(x.numpy(), y.numpy())


SHIPPED = [(5, 10), (10, 10), (5, 100), (10, 100), (2, 100)]  # (k, n): the five set-ups


@pytest.mark.parametrize(("num_arms", "num_pulls"), SHIPPED, ids=[f"k{k}_n{n}" for k, n in SHIPPED])
def test_shipped_weights_reproduce_their_documented_reward(num_arms: int, num_pulls: int) -> None:
    info = pretrained_rl2_info(num_arms, num_pulls)
    assert pretrained_rl2_path(num_arms, num_pulls).stat().st_size <= 1_000_000
    assert info["command"].startswith("python benchmarks/train_rl2.py") and "seed" in info
    agent = load_pretrained_rl2(num_arms, num_pulls)
    evaluation = info["evaluation"]
    ev = evaluate_rl2(agent, num_arms, num_pulls, num_bandits=evaluation["num_bandits"], seed=evaluation["seed"])
    documented = evaluation["sampled"]
    assert abs(ev.mean_reward - documented["mean"]) <= documented["ci95"]
    if (num_pulls, num_arms) in PUBLISHED_RL2:  # at or above the paper's RL² result within the CI
        assert ev.mean_reward + ev.ci95 >= PUBLISHED_RL2[(num_pulls, num_arms)], (ev.mean_reward, ev.ci95)
    if count_states(num_arms, num_pulls) <= 10_000_000:  # the exact Bayes optimum is tractable: within 2 % of it
        optimum = bayes_optimal_solver(num_arms, num_pulls).expected_total_reward()
        assert ev.mean_reward >= 0.98 * optimum, (ev.mean_reward, optimum)


def test_argument_errors_name_the_argument() -> None:
    params = init_recurrent_actor_critic(7, 8, 5, seed=0)
    with pytest.raises(ValueError, match="num_arms"):
        evaluate_rl2(params, 4, 10)
    with pytest.raises(ValueError, match="num_bandits"):
        evaluate_rl2(params, 5, 10, num_bandits=1)
    with pytest.raises(TypeError, match="greedy"):
        evaluate_rl2(params, 5, 10, greedy="yes")
    with pytest.raises(ValueError, match="num_arms"):
        train_rl2(0, 10, num_iterations=1)
    with pytest.raises(TypeError, match="num_iterations"):
        train_rl2(5, 10, num_iterations=1.0)
    agent = RL2Agent(params, 5, 10)
    agent.act()
    with pytest.raises(ValueError, match="prev_action"):
        agent.act(5, 1.0)
    with pytest.raises(ValueError, match="prev_reward"):
        agent.act(0, 2.0)
    with pytest.raises(ValueError, match="required"):
        agent.act()
    with pytest.raises(FileNotFoundError):
        load_pretrained_rl2(7, 3)
