"""Chapter 6's task family: MAML's 2D point navigation as tensors, its closed-form optimum, a Gymnasium env."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import tensorflow as tf
from gymnasium.utils.env_checker import check_env

from metalearn_lib.maml_rl import PointNavigation, PointNavigationEnv, episode_mask


def one_step(nav, goals, actions):
    """One step of one trajectory per goal from the origin: (positions [B, 2], rewards [B], dones [B])."""
    goals = tf.constant(goals, tf.float32)
    state, _ = nav.reset(goals, 1)
    positions, _, rewards, dones = nav.step(goals, state, tf.constant(actions, tf.float32)[:, None, :], 0)
    return positions[:, 0].numpy(), rewards[:, 0].numpy(), dones[:, 0].numpy()


def open_loop_returns(nav, goals, actions):
    """Returns of the action sequences ``actions[B, H, 2]`` run through the batched env, one per goal."""
    goals = tf.constant(goals, tf.float32)
    state, _ = nav.reset(goals, 1)
    rewards, dones = [], []
    for t in range(actions.shape[1]):
        state, _, r, d = nav.step(goals, state, tf.constant(actions[:, t:t + 1]), t)
        rewards.append(r)
        dones.append(d)
    rewards, dones = tf.stack(rewards, axis=-1), tf.stack(dones, axis=-1)  # [B, 1, H]
    return tf.reduce_sum(rewards * episode_mask(dones), axis=-1)[:, 0].numpy()


# ----------------------------------------------------------------------------------------------
# the task family
# ----------------------------------------------------------------------------------------------


def test_sample_tasks_shape_range_and_moments():
    goals = PointNavigation().sample_tasks(20000, seed=0)
    assert goals.shape == (20000, 2) and goals.dtype == tf.float32
    goals = goals.numpy()
    assert goals.min() >= -0.5 and goals.max() <= 0.5
    # U[−0.5, 0.5]: mean 0, variance 1/12, the two coordinates independent
    np.testing.assert_allclose(goals.mean(axis=0), 0.0, atol=0.01)
    np.testing.assert_allclose(goals.var(axis=0), 1 / 12, atol=0.003)
    assert abs(np.corrcoef(goals.T)[0, 1]) < 0.03
    wide = PointNavigation(goal_range=2.0).sample_tasks(5000, seed=0).numpy()
    assert wide.min() >= -2.0 and wide.max() <= 2.0 and wide.max() > 1.9 and wide.min() < -1.9


def test_sample_tasks_is_deterministic_and_the_same_inside_tf_function():
    nav = PointNavigation()
    eager = nav.sample_tasks(64, seed=7).numpy()
    np.testing.assert_array_equal(eager, nav.sample_tasks(64, seed=7).numpy())
    assert not np.array_equal(eager, nav.sample_tasks(64, seed=8).numpy())
    compiled = tf.function(lambda seed: nav.sample_tasks(64, seed=seed))
    np.testing.assert_array_equal(eager, compiled(tf.constant([7, 0])).numpy())  # int s ≡ pair [s, 0]


def test_sizes():
    nav = PointNavigation()
    assert (nav.observation_size, nav.action_size) == (2, 2)
    assert (nav.horizon, nav.max_speed, nav.goal_range, nav.goal_tolerance) == (100, 0.1, 0.5, 0.01)


# ----------------------------------------------------------------------------------------------
# the batched environment
# ----------------------------------------------------------------------------------------------


def test_reset_starts_every_trajectory_at_the_origin():
    nav = PointNavigation()
    state, observations = nav.reset(nav.sample_tasks(3, seed=0), 5)
    assert state.shape == observations.shape == (3, 5, 2) and state.dtype == tf.float32
    assert not np.any(state.numpy()) and not np.any(observations.numpy())


def test_step_shapes_and_clipped_moves():
    nav = PointNavigation()
    goals = nav.sample_tasks(3, seed=1)
    state, _ = nav.reset(goals, 4)
    actions = tf.constant([[5.0, -5.0], [0.5, -0.25], [1.0, 0.0], [-1.0, 2.0]])
    actions = tf.tile(actions[None], [3, 1, 1])
    state, observations, rewards, dones = nav.step(goals, state, actions, 0, tf.constant([0, 0]))
    assert state.shape == observations.shape == (3, 4, 2)
    assert rewards.shape == dones.shape == (3, 4)
    np.testing.assert_array_equal(state.numpy(), observations.numpy())
    expected = np.array([[0.1, -0.1], [0.05, -0.025], [0.1, 0.0], [-0.1, 0.1]], np.float32)
    np.testing.assert_allclose(state.numpy(), np.tile(expected, [3, 1, 1]), atol=1e-7)
    # a second step adds to the position
    state, *_ = nav.step(goals, state, actions, 1, None)
    np.testing.assert_allclose(state.numpy(), np.tile(2 * expected, [3, 1, 1]), atol=1e-7)


def test_reward_is_minus_the_euclidean_distance_after_the_move():
    positions, rewards, _ = one_step(PointNavigation(), [[0.3, 0.4], [0.4, 0.4], [-0.2, 0.1]],
                                     [[0.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    np.testing.assert_allclose(rewards, [-0.5, -math.hypot(0.3, 0.3), -math.hypot(0.3, 0.0)], atol=1e-6)
    np.testing.assert_allclose(positions[1], [0.1, 0.1], atol=1e-7)


def test_done_needs_both_coordinates_within_the_tolerance():
    goals = [[0.1, 0.1], [0.109, 0.109], [0.111, 0.1], [0.1, 0.089], [0.0, 0.0], [0.5, 0.5]]
    _, rewards, dones = one_step(PointNavigation(), goals, [[1.0, 1.0]] * 5 + [[1.0, 1.0]])
    # (0.109, 0.109) is 0.0127 away in L2 but within 0.01 in each coordinate: done (the reference's rule)
    np.testing.assert_array_equal(dones, [1.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    assert rewards[1] < -0.01
    _, _, dones = one_step(PointNavigation(goal_tolerance=0.05), goals, [[1.0, 1.0]] * 6)
    np.testing.assert_array_equal(dones, [1.0, 1.0, 1.0, 1.0, 0.0, 0.0])
    _, _, dones = one_step(PointNavigation(goal_tolerance=0.0), goals, [[1.0, 1.0]] * 6)
    assert not np.any(dones)  # tolerance 0: never done


def test_step_ignores_time_and_seed_and_compiles():
    nav = PointNavigation()
    goals = nav.sample_tasks(8, seed=2)
    state, _ = nav.reset(goals, 3)
    actions = tf.random.stateless_normal([8, 3, 2], seed=[1, 2])
    eager = nav.step(goals, state, actions, 0, tf.constant([0, 0]))
    compiled = tf.function(nav.step)(goals, state, actions, tf.constant(57, tf.int32), tf.constant([9, 9]))
    for a, b in zip(eager, compiled, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_step_refuses_actions_of_the_wrong_shape():
    nav = PointNavigation()
    goals = nav.sample_tasks(2, seed=0)
    state, _ = nav.reset(goals, 3)
    with pytest.raises(ValueError, match="actions"):
        nav.step(goals, state, tf.zeros([2, 3, 3]), 0)
    with pytest.raises(ValueError, match="actions"):
        nav.step(goals, state, tf.zeros([2, 3]), 0)


def test_episode_mask_keeps_the_steps_up_to_the_first_done():
    dones = tf.constant([[0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(episode_mask(dones).numpy(), [[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]])
    np.testing.assert_array_equal(episode_mask(tf.transpose(dones), axis=0).numpy(),
                                  np.transpose(episode_mask(dones).numpy()))
    assert episode_mask(tf.constant([0, 1, 1])).dtype == tf.float32


# ----------------------------------------------------------------------------------------------
# the optimum
# ----------------------------------------------------------------------------------------------


def test_optimal_return_of_hand_computed_goals():
    nav = PointNavigation()
    returns = nav.optimal_return([[0.5, 0.5], [0.0, 0.0], [0.05, -0.02], [0.3, -0.1], [0.109, 0.0]])
    # (0.5, 0.5): distances (0.4 + 0.3 + 0.2 + 0.1)·√2, done at t = 5; (0.109, 0): 0.009 < 0.01, done at t = 1
    np.testing.assert_allclose(returns, [-math.sqrt(2), 0.0, 0.0, -0.3, -0.009], atol=1e-12)
    assert isinstance(returns, np.ndarray) and returns.dtype == np.float64
    # the horizon cuts the sum: two steps towards (0.5, 0)
    np.testing.assert_allclose(PointNavigation(horizon=2).optimal_return([[0.5, 0.0]]), [-0.7], atol=1e-12)
    # a wider tolerance ends earlier: (0.5, 0.5) is done at t = 3, 0.2 from the goal, when ε = 0.25
    np.testing.assert_allclose(PointNavigation(goal_tolerance=0.25).optimal_return([[0.5, 0.5]]),
                               [-0.9 * math.sqrt(2)], atol=1e-12)


def grid_search_returns(nav, goals, levels):
    """The return of every open-loop sequence of ``horizon`` actions from the grid levels², by brute
    force through the batched env: ``[num_goals, len(levels)**(2·horizon)]``."""
    grid = np.stack(np.meshgrid(levels, levels, indexing="ij"), -1).reshape(-1, 2).astype(np.float32)
    A = len(grid)
    goals = tf.constant(goals, tf.float32)
    G = goals.shape[0]
    state, _ = nav.reset(goals, 1)
    total = tf.zeros([G, 1])
    alive = tf.ones([G, 1])
    for _ in range(nav.horizon):  # branch every sequence into A continuations
        n = state.shape[1]
        state = tf.repeat(state, A, axis=1)
        actions = tf.tile(tf.constant(grid)[None], [G, n, 1])
        state, _, rewards, dones = nav.step(goals, state, actions, 0)
        total = tf.repeat(total, A, axis=1) + tf.repeat(alive, A, axis=1) * rewards
        alive = tf.repeat(alive, A, axis=1) * (1.0 - dones)
    return total.numpy()


def test_closed_form_optimum_matches_a_fine_brute_force_search():
    nav = PointNavigation(horizon=2, goal_range=0.3)
    hand = [[0.05, -0.02], [0.109, 0.109], [0.15, 0.05], [0.25, -0.28], [0.0, 0.0], [-0.19, 0.12]]
    goals = np.concatenate([hand, nav.sample_tasks(30, seed=3).numpy()]).astype(np.float32)
    closed = nav.optimal_return(goals)
    assert np.sum(closed == 0.0) >= 2 and np.sum(closed < -0.1) >= 5  # goals done at once and goals out of reach
    best = grid_search_returns(nav, goals, np.linspace(-1.0, 1.0, 21)).max(axis=1)  # 194 481 sequences
    assert np.all(best <= closed + 1e-5), "an action sequence beats the closed-form optimum"
    # within the grid's resolution: each position is within 0.005 of the optimal one per coordinate
    assert np.all(best >= closed - nav.horizon * 0.005 * math.sqrt(2) - 1e-5)


def test_closed_form_optimum_is_unbeaten_over_three_steps():
    nav = PointNavigation(horizon=3, goal_range=0.4)
    goals = nav.sample_tasks(12, seed=4).numpy()
    closed = nav.optimal_return(goals)
    best = grid_search_returns(nav, goals, np.linspace(-1.0, 1.0, 9)).max(axis=1)  # 531 441 sequences
    assert np.all(best <= closed + 1e-5), "an action sequence beats the closed-form optimum"
    assert np.all(best >= closed - nav.horizon * 0.0125 * math.sqrt(2) - 1e-5)


def test_optimal_actions_earn_the_optimal_return_through_step():
    nav = PointNavigation()
    goals = nav.sample_tasks(512, seed=5).numpy()
    actions = nav.optimal_actions(goals)
    assert actions.shape == (512, 100, 2) and actions.dtype == np.float32
    assert np.abs(actions).max() <= 1.0 and np.abs(actions).max() == pytest.approx(1.0)
    np.testing.assert_allclose(open_loop_returns(nav, goals, actions), nav.optimal_return(goals), atol=2e-5)
    # and doing anything else is worse: half speed, or overshooting by a little
    assert np.all(open_loop_returns(nav, goals, 0.5 * actions) <= nav.optimal_return(goals) + 2e-5)
    np.testing.assert_allclose(nav.optimal_positions(goals)[:, -1], goals, atol=1e-7)


def test_expected_optimal_return():
    nav = PointNavigation()
    value = nav.expected_optimal_return(num_goals=200_000, seed=0)
    assert value == pytest.approx(-0.506, abs=0.004)  # a 2000 × 2000 midpoint grid gives −0.5061
    assert value == nav.expected_optimal_return(num_goals=200_000, seed=0)
    assert value == pytest.approx(float(np.mean(nav.optimal_return(nav.sample_tasks(200_000, seed=0)))))
    # a longer reach costs more: goals twice as far
    assert PointNavigation(goal_range=1.0).expected_optimal_return(num_goals=20_000) < 2 * value


# ----------------------------------------------------------------------------------------------
# the Gymnasium environment
# ----------------------------------------------------------------------------------------------


def test_the_env_passes_gymnasiums_checker():
    with warnings.catch_warnings():
        # "Not able to test alternative render modes ... not having a spec": the env has no renderer
        warnings.filterwarnings("ignore", message=".*render modes.*", category=UserWarning)
        # "A Box observation space minimum value is -infinity": positions are unbounded, as in the reference
        warnings.filterwarnings("ignore", message=".*infinity.*", category=UserWarning)
        check_env(PointNavigationEnv())


def run_env(env, goal, actions):
    env.reset(seed=0, options={"goal": goal})
    rewards = []
    for action in actions:
        _, reward, terminated, truncated, _ = env.step(action)
        rewards.append(reward)
        if terminated or truncated:
            return np.array(rewards, np.float32), terminated, truncated
    raise AssertionError("the episode did not end within the horizon")


@pytest.mark.parametrize("policy", ["random", "optimal"])
def test_the_env_gives_the_batched_envs_rewards_exactly(policy):
    nav = PointNavigation()
    goals = nav.sample_tasks(4, seed=6).numpy()
    if policy == "optimal":
        actions = nav.optimal_actions(goals)
    else:  # some far outside [−1, 1]: both clip
        actions = 2.0 * np.random.default_rng(0).standard_normal((4, 100, 2)).astype(np.float32)
    state, _ = nav.reset(goals, 1)
    batched_rewards, batched_dones = [], []
    for t in range(100):
        state, _, r, d = nav.step(goals, state, actions[:, t:t + 1], t)
        batched_rewards.append(r[:, 0].numpy())
        batched_dones.append(d[:, 0].numpy())
    batched_rewards, batched_dones = np.stack(batched_rewards, 1), np.stack(batched_dones, 1)
    env = PointNavigationEnv()
    for b in range(4):
        rewards, terminated, truncated = run_env(env, goals[b], actions[b])
        ends = np.flatnonzero(batched_dones[b])
        length = ends[0] + 1 if len(ends) else 100
        assert (terminated, truncated) == (len(ends) > 0, len(ends) == 0)
        np.testing.assert_array_equal(rewards, batched_rewards[b, :length])
        if policy == "optimal":
            assert terminated and length < 10
            assert float(np.sum(rewards)) == pytest.approx(nav.optimal_return(goals[b:b + 1])[0], abs=2e-5)


def test_env_episode_is_truncated_at_the_horizon_and_then_over():
    env = PointNavigationEnv(horizon=3)
    obs, info = env.reset(seed=0, options={"goal": (0.4, -0.3)})
    assert obs.dtype == np.float32 and not np.any(obs) and info["t"] == 0
    np.testing.assert_allclose(info["goal"], [0.4, -0.3], rtol=1e-6)
    for t in range(3):
        obs, reward, terminated, truncated, info = env.step(np.array([5.0, 0.0], np.float32))
        np.testing.assert_allclose(obs, [0.1 * (t + 1), 0.0], atol=1e-6)
        assert reward == pytest.approx(-math.hypot(0.4 - 0.1 * (t + 1), 0.3), abs=1e-6)
        assert not terminated and truncated == (t == 2) and info["distance"] == pytest.approx(-reward)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(2, np.float32))


def test_env_reset_draws_the_goal_from_its_seed():
    env = PointNavigationEnv()
    first = env.reset(seed=3)[1]["goal"]
    np.testing.assert_array_equal(first, env.reset(seed=3)[1]["goal"])
    assert not np.array_equal(first, env.reset(seed=4)[1]["goal"])
    goals = np.array([env.reset()[1]["goal"] for _ in range(200)])
    assert goals.min() >= -0.5 and goals.max() <= 0.5 and goals.std() > 0.2


# ----------------------------------------------------------------------------------------------
# argument checks
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, error, name", [
    ({"horizon": 0}, ValueError, "horizon"),
    ({"horizon": 2.5}, TypeError, "horizon"),
    ({"max_speed": 0.0}, ValueError, "max_speed"),
    ({"max_speed": "fast"}, TypeError, "max_speed"),
    ({"goal_range": -0.5}, ValueError, "goal_range"),
    ({"goal_tolerance": -0.01}, ValueError, "goal_tolerance"),
    ({"goal_tolerance": float("nan")}, ValueError, "goal_tolerance"),
])
def test_bad_families_are_refused(kwargs, error, name):
    with pytest.raises(error, match=name):
        PointNavigation(**kwargs)
    with pytest.raises(error, match=name):
        PointNavigationEnv(**kwargs)


def test_bad_arguments_name_themselves():
    nav = PointNavigation()
    with pytest.raises(ValueError, match="num_tasks"):
        nav.sample_tasks(0, seed=0)
    with pytest.raises(ValueError, match="seed"):
        nav.sample_tasks(3, seed=-1)
    with pytest.raises(ValueError, match="num_trajectories"):
        nav.reset(nav.sample_tasks(3, seed=0), 0)
    with pytest.raises(ValueError, match="tasks"):
        nav.reset(tf.zeros([3]), 2)
    with pytest.raises(ValueError, match="goals"):
        nav.optimal_return(np.zeros([3, 3]))
    with pytest.raises(ValueError, match="goals"):
        nav.optimal_actions([[float("nan"), 0.0]])
    with pytest.raises(TypeError, match="goals"):
        nav.optimal_return("far")
    with pytest.raises(ValueError, match="num_goals"):
        nav.expected_optimal_return(num_goals=0)
    env = PointNavigationEnv()
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(2, np.float32))
    with pytest.raises(ValueError, match="goal"):
        env.reset(options={"goal": (0.1, 0.2, 0.3)})
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="action"):
        env.step(np.array([np.inf, 0.0], np.float32))
