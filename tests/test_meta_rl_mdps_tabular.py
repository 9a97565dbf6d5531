"""Chapter 7's random tabular MDPs: the batched environment, its Gymnasium twin, and what RL² plays on it."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
import tensorflow as tf
from gymnasium.utils.env_checker import check_env as gymnasium_check_env

from metalearn_lib.meta_rl_mdps.tabular import RandomTabularMDPs, TabularMDP, TabularMDPEnv
from metalearn_lib.rl import (
    StatefulEpisodicEnv,
    agent_input_size,
    check_env,
    init_recurrent_actor_critic,
    rollout,
)


def test_defaults_are_the_rl2_papers():
    env = RandomTabularMDPs()
    assert (env.num_states, env.num_actions, env.episode_length, env.num_episodes) == (10, 5, 10, 10)
    assert (env.reward_prior_mean, env.reward_prior_std, env.reward_noise_std, env.transition_concentration) \
        == (1.0, 1.0, 1.0, 1.0)
    assert env.observation_size == 10 and env.horizon == 100
    assert RandomTabularMDPs(num_episodes=25).horizon == 250


def test_sample_tasks_is_stateless_and_well_formed():
    env = RandomTabularMDPs()
    a, b, c = env.sample_tasks(3, 7), env.sample_tasks(3, 7), env.sample_tasks(3, 8)
    assert isinstance(a, TabularMDP)
    assert a.reward_means.shape == (3, 10, 5) and a.transitions.shape == (3, 10, 5, 10)
    assert a.reward_means.dtype == tf.float32
    np.testing.assert_array_equal(a.reward_means, b.reward_means)
    np.testing.assert_array_equal(a.transitions, b.transitions)
    assert not np.allclose(a.reward_means, c.reward_means)
    same = env.sample_tasks(3, tf.constant([7, 0], tf.int64))
    np.testing.assert_array_equal(a.transitions, same.transitions)
    p = env.sample_tasks(2, 0, dtype=tf.float64).transitions.numpy()
    assert p.dtype == np.float64 and np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, atol=1e-12)


@pytest.mark.parametrize("concentration", [1.0, 2.5])
def test_prior_moments(concentration):
    """μ ~ N(m₀, s₀²) and Dirichlet(α) rows: mean 1/S, variance (1/S)(1 − 1/S)/(Sα + 1)."""
    env = RandomTabularMDPs(num_states=4, num_actions=3, reward_prior_mean=-0.5, reward_prior_std=2.0,
                            transition_concentration=concentration)
    tasks = env.sample_tasks(4000, 3, dtype=tf.float64)
    mu, p = tasks.reward_means.numpy(), tasks.transitions.numpy()
    assert abs(mu.mean() - (-0.5)) < 4 * 2.0 / np.sqrt(mu.size)
    assert abs(mu.std() - 2.0) < 0.05
    S = 4
    np.testing.assert_allclose(p.mean(axis=(0, 1, 2)), 1 / S, atol=0.005)
    expected_var = (1 / S) * (1 - 1 / S) / (S * concentration + 1)
    np.testing.assert_allclose(p.var(axis=(0, 1, 2)), expected_var, rtol=0.05)


def _tiled(reward_means, transitions, copies):
    r = tf.constant(np.repeat(np.asarray(reward_means, np.float64)[None], copies, axis=0))
    p = tf.constant(np.repeat(np.asarray(transitions, np.float64)[None], copies, axis=0))
    return TabularMDP(r, p)


def test_transition_samples_rewards_and_next_states_from_the_model():
    env = RandomTabularMDPs(num_states=3, num_actions=2, episode_length=4, num_episodes=2, reward_noise_std=0.5)
    reward_means = [[1.0, -2.0], [0.0, 0.0], [3.0, 0.0]]
    transitions = np.array([[[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]], [[1 / 3] * 3] * 2, [[0.0, 1.0, 0.0]] * 2])
    copies = 20000
    tasks = _tiled(reward_means, transitions, copies)
    state = tf.fill([copies], 0)
    actions = tf.zeros([copies], tf.int32)
    next_state, rewards, obs, done = env.transition(tasks, state, actions, 0, tf.constant([1, 2], tf.int64))
    assert next_state.dtype == tf.int32 and obs.dtype == tf.float32 and done.dtype == tf.float32
    frequencies = np.bincount(next_state.numpy(), minlength=3) / copies
    np.testing.assert_allclose(frequencies, [0.2, 0.3, 0.5], atol=0.015)
    assert abs(rewards.numpy().mean() - 1.0) < 0.02 and abs(rewards.numpy().std() - 0.5) < 0.02
    np.testing.assert_array_equal(obs.numpy(), np.eye(3, dtype=np.float32)[next_state.numpy()])
    assert np.all(done.numpy() == 0.0)
    # state 2, action 1 pays 0 and moves to 1 surely; at step t = 3 = L − 1 the episode ends instead
    state = tf.fill([copies], 2)
    ones = tf.ones([copies], tf.int32)
    nxt, _, _, done = env.transition(tasks, state, ones, tf.constant(2), tf.constant([1, 3], tf.int64))
    assert np.all(nxt.numpy() == 1) and np.all(done.numpy() == 0.0)
    nxt, _, obs, done = env.transition(tasks, state, ones, tf.constant(3), tf.constant([1, 3], tf.int64))
    assert np.all(nxt.numpy() == 0) and np.all(done.numpy() == 1.0) and np.all(obs.numpy()[:, 0] == 1.0)
    _, _, _, done = env.transition(tasks, state, ones, 7, tf.constant([1, 3], tf.int64))  # end of episode 2
    assert np.all(done.numpy() == 1.0)


def test_it_is_a_stateful_episodic_env_and_rl2_can_play_it():
    env = RandomTabularMDPs(episode_length=3, num_episodes=2)
    assert isinstance(env, StatefulEpisodicEnv)
    check_env(env)
    tasks = env.sample_tasks(4, 0)
    np.testing.assert_array_equal(env.initial_observations(tasks).numpy(), np.tile(np.eye(10)[0], (4, 1)))
    params = init_recurrent_actor_critic(agent_input_size(env.num_actions, env.observation_size), 8,
                                         env.num_actions, seed=0)
    for unroll in (True, False):  # a Python loop (int t) and a tf.range loop (tensor t)
        _, trial = rollout(params, env, 4, seed=5, unroll=unroll)
        assert trial.actions.shape == (4, 6) and trial.logits.shape == (4, 6, 5)
        np.testing.assert_array_equal(trial.dones.numpy(), np.tile([0, 0, 1, 0, 0, 1], (4, 1)))
        assert np.all(np.isfinite(trial.rewards.numpy()))
        if unroll:
            first = trial
    np.testing.assert_allclose(first.rewards.numpy(), trial.rewards.numpy(), rtol=1e-6)


@pytest.mark.parametrize(("kwargs", "error", "name"), [
    ({"num_states": 0}, ValueError, "num_states"),
    ({"num_actions": 2.0}, TypeError, "num_actions"),
    ({"episode_length": -1}, ValueError, "episode_length"),
    ({"num_episodes": 0}, ValueError, "num_episodes"),
    ({"reward_noise_std": 0.0}, ValueError, "reward_noise_std"),
    ({"reward_prior_std": -1.0}, ValueError, "reward_prior_std"),
    ({"transition_concentration": 0.0}, ValueError, "transition_concentration"),
    ({"reward_prior_mean": float("nan")}, TypeError, "reward_prior_mean"),
])
def test_bad_settings_are_named(kwargs, error, name):
    with pytest.raises(error, match=name):
        RandomTabularMDPs(**kwargs)


def test_sample_tasks_rejects_bad_arguments():
    env = RandomTabularMDPs()
    with pytest.raises(ValueError, match="num_tasks"):
        env.sample_tasks(0, 1)
    with pytest.raises(ValueError, match="seed"):
        env.sample_tasks(1, -1)
    with pytest.raises(ValueError, match="dtype"):
        env.sample_tasks(1, 1, dtype=tf.int32)


def test_gymnasium_env_passes_the_checker():
    env = TabularMDPEnv(num_states=4, num_actions=3, episode_length=5, num_episodes=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # the checker's complaints are warnings: make them fail
        gymnasium_check_env(env, skip_render_check=True)


def test_gymnasium_env_plays_a_trial_of_episodes():
    env = TabularMDPEnv(num_states=3, num_actions=2, episode_length=4, num_episodes=3)
    assert isinstance(env.observation_space, gymnasium.spaces.Discrete) and env.observation_space.n == 3
    obs, info = env.reset(seed=0)
    first_model = env.transitions.copy()
    assert obs == 0 and info["episode"] == 0
    np.testing.assert_allclose(first_model.sum(axis=-1), 1.0)
    terminated, steps = False, 0
    while not terminated:
        obs, reward, terminated, truncated, info = env.step(steps % 2)
        steps += 1
        assert env.observation_space.contains(obs) and not truncated and np.isfinite(reward)
        assert info["episode_done"] == (steps % 4 == 0)
        if info["episode_done"]:
            assert obs == 0
    assert steps == 12 and info["t"] == 12
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    env.reset(seed=0)
    np.testing.assert_array_equal(env.transitions, first_model)  # the seed fixes the MDP
    with pytest.raises(ValueError, match="action"):
        env.step(2)


def test_gymnasium_env_plays_a_given_mdp():
    """``options["mdp"]`` is the MDP played: a deterministic cycle 0 → 1 → 2 → 0 (reset to 0 after L = 5)."""
    env = TabularMDPEnv(num_states=3, num_actions=2, episode_length=5, num_episodes=1, reward_noise_std=1e-9)
    cycle = np.zeros((3, 2, 3))
    for s in range(3):
        cycle[s, :, (s + 1) % 3] = 1.0
    rewards = np.repeat(np.arange(3.0)[:, None], 2, axis=1)
    env.reset(seed=1, options={"mdp": (rewards, cycle)})
    seen = [env.step(0)[0] for _ in range(4)]
    assert seen == [1, 2, 0, 1]
    with pytest.raises(ValueError, match="options"):
        env.reset(options={"mdp": (np.zeros((2, 2)), np.full((2, 2, 2), 0.5))})


def test_mean_rewards_are_the_reward_means_of_the_pairs_taken() -> None:
    """The trainer's Rao–Blackwellised rewards: sampled r − E[r | s, a] is the unit noise."""
    from metalearn_lib.rl import agent_input_size, init_recurrent_actor_critic, play_trial

    env = RandomTabularMDPs(num_episodes=2)
    params = init_recurrent_actor_critic(agent_input_size(5, 10, use_done_flag=True), 8, 5, seed=0)
    tasks = env.sample_tasks(400, 0)
    ro = play_trial(params, env, tasks, tf.constant([1, 2], tf.int64), False, True, unroll=False, mean_rewards=True)
    noise = (ro.rewards - ro.mean_rewards).numpy()
    assert abs(noise.mean()) < 0.02 and abs(noise.std() - 1.0) < 0.02
    assert np.all(np.isin(ro.mean_rewards.numpy()[:, 0], tasks.reward_means.numpy()[:, 0, :]))  # state 0 first


def test_oracle_values_are_the_true_mdps_reward_to_go() -> None:
    """V*_k(s_t) + (n − 1 − e)·V*_0(0), against the numpy value iteration of the planning module."""
    from metalearn_lib.meta_rl_mdps.planning import value_iteration

    env = RandomTabularMDPs(num_episodes=3)
    tasks = env.sample_tasks(6, 5)
    _, v = value_iteration(np.asarray(tasks.reward_means, np.float64), np.asarray(tasks.transitions, np.float64), 10)
    states = tf.constant([0, 3, 5, 9, 1, 2])
    for t in (0, 7, 10, 19, 29):
        step, episode = t % 10, t // 10
        want = v[np.arange(6), step, states.numpy()] + (2 - episode) * v[:, 0, 0]
        np.testing.assert_allclose(env.oracle_values(tasks, states, t).numpy(), want, rtol=1e-5, atol=1e-4)
    # at t = 0 the whole trial: n·V*_0(0); on the last step the best mean reward of the state
    np.testing.assert_allclose(env.oracle_values(tasks, tf.zeros([6], tf.int32), 0).numpy(), 3 * v[:, 0, 0],
                               rtol=1e-5)
    np.testing.assert_allclose(env.oracle_values(tasks, states, 29).numpy(),
                               tasks.reward_means.numpy()[np.arange(6), states.numpy()].max(axis=1), rtol=1e-6)


def test_a_trial_records_the_oracle_values_of_the_states_it_visits() -> None:
    from metalearn_lib.rl import agent_input_size, init_recurrent_actor_critic, play_trial

    env = RandomTabularMDPs(num_episodes=2)
    params = init_recurrent_actor_critic(agent_input_size(5, 10, use_done_flag=True), 8, 5, seed=0)
    tasks = env.sample_tasks(50, 1)
    ro = play_trial(params, env, tasks, tf.constant([1, 2], tf.int64), False, True, unroll=False, task_values=True)
    plain = play_trial(params, env, tasks, tf.constant([1, 2], tf.int64), False, True, unroll=False)
    assert plain.task_values is None
    np.testing.assert_array_equal(ro.actions, plain.actions)  # recording changes nothing the agent does
    np.testing.assert_allclose(ro.task_values[:, 0], env.oracle_values(tasks, tf.zeros([50], tf.int32), 0), rtol=1e-6)
    np.testing.assert_allclose(ro.task_values[:, 10], env.oracle_values(tasks, tf.zeros([50], tf.int32), 10),
                               rtol=1e-6)  # episode 2 starts in state 0
