"""VariBAD's gridworld (chapter 7): layout, batched and Gymnasium environments, beliefs, posterior sampling."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
import tensorflow as tf
from gymnasium.utils.env_checker import check_env as gymnasium_check_env

from metalearn_lib.meta_rl_mdps.gridworld import GRIDWORLD_ACTIONS, Gridworld, GridworldEnv, cell_moves
from metalearn_lib.meta_rl_mdps.gridworld_beliefs import (
    BeliefState,
    belief_after,
    belief_state_after,
    belief_update,
    belief_vector,
    play_posterior_sampling,
    posterior_sampling_expected_return,
    prior_belief,
    reached_cells,
)
from metalearn_lib.rl import agent_input_size, check_env, init_recurrent_actor_critic, mean_ci95, rollout

UP, RIGHT, DOWN, LEFT, STAY = 1, 2, 3, 4, 0


# ----------------------------------------------------------------------------------------------
# layout
# ----------------------------------------------------------------------------------------------


def test_reference_layout():
    env = Gridworld()
    assert (env.grid_size, env.episode_length, env.num_episodes, env.horizon) == (5, 15, 4, 60)
    assert env.num_actions == 5 and GRIDWORLD_ACTIONS == ("stay", "up", "right", "down", "left")
    assert env.num_candidates == 21
    excluded = {tuple(xy) for xy in env.coordinates([c for c in range(25) if not env.candidate_mask[c]])}
    assert excluded == {(0, 0), (0, 1), (1, 0), (1, 1)}  # the start and its neighbours' block, as the reference
    assert env.cell(3, 1) == 16 and tuple(env.coordinates(16)) == (3, 1)  # c = x·N + y (reference task_to_id)
    assert env.observation_size == 2 and Gridworld(observation="one_hot").observation_size == 25


def test_excluded_block_generalises():
    assert Gridworld(grid_size=3, excluded_block=1).num_candidates == 8  # only the start
    assert Gridworld(grid_size=4, excluded_block=3).candidate_cells == (3, 7, 11, 12, 13, 14, 15)


def test_moves_follow_the_reference_order_and_stop_at_walls():
    env = Gridworld()
    centre = env.cell(2, 2)
    assert [tuple(env.coordinates(env.next_cells[centre, a])) for a in range(5)] == [
        (2, 2), (2, 3), (3, 2), (2, 1), (1, 2)]
    assert [int(c) for c in env.next_cells[0]] == [0, 1, 5, 0, 0]  # down and left clipped at (0, 0)
    corner = env.cell(4, 4)
    assert [int(c) for c in env.next_cells[corner]] == [corner, corner, corner, env.cell(4, 3), env.cell(3, 4)]
    np.testing.assert_array_equal(cell_moves(5), env.next_cells)


def test_toward_actions_are_shortest_paths():
    env = Gridworld(grid_size=4)
    for start in range(env.num_cells):
        for goal in range(env.num_cells):
            cell, steps = start, 0
            while cell != goal:
                cell, steps = int(env.next_cells[cell, env.toward_actions[cell, goal]]), steps + 1
            assert steps == env.distances[start, goal]
            assert env.toward_actions[goal, goal] == STAY


@pytest.mark.parametrize("kwargs, error, name", [
    ({"grid_size": 1}, ValueError, "grid_size"), ({"grid_size": 2.5}, TypeError, "grid_size"),
    ({"episode_length": 0}, ValueError, "episode_length"), ({"num_episodes": True}, TypeError, "num_episodes"),
    ({"excluded_block": 0}, ValueError, "excluded_block"), ({"excluded_block": 5}, ValueError, "excluded_block"),
    ({"observation": "pixels"}, ValueError, "observation"), ({"observation": 2}, TypeError, "observation"),
])
def test_validation_names_the_argument(kwargs, error, name):
    with pytest.raises(error, match=name):
        Gridworld(**kwargs)


def test_method_arguments_are_checked():
    with pytest.raises(ValueError, match="num_tasks"):
        Gridworld().sample_tasks(0, seed=0)
    with pytest.raises(ValueError, match="y must be"):
        Gridworld().cell(1, 5)


# ----------------------------------------------------------------------------------------------
# batched environment
# ----------------------------------------------------------------------------------------------


def test_sample_tasks_is_stateless_and_uniform_over_candidates():
    env = Gridworld()
    goals = env.sample_tasks(21_000, seed=3).numpy()
    np.testing.assert_array_equal(goals, env.sample_tasks(21_000, seed=3).numpy())
    assert not np.array_equal(goals, env.sample_tasks(21_000, seed=4).numpy())
    np.testing.assert_array_equal(env.sample_tasks(21_000, tf.constant([3, 0])).numpy(), goals)
    counts = np.bincount(goals, minlength=25)
    assert np.all(counts[~env.candidate_mask] == 0)
    assert np.all(np.abs(counts[env.candidate_mask] - 1000) < 5 * np.sqrt(1000))


def test_transition_rewards_done_and_reset():
    env = Gridworld(episode_length=3, num_episodes=2)
    goals = tf.constant([env.cell(0, 2), env.cell(2, 1)])
    state = env.initial_state(goals)
    np.testing.assert_array_equal(env.initial_observations(goals).numpy(), [[0, 0], [0, 0]])
    rewards, dones = [], []
    for t, action in enumerate([UP, UP, STAY, RIGHT, RIGHT, UP]):
        state, reward, obs, done = env.transition(goals, state, tf.constant([action, action]), tf.constant(t), None)
        rewards.append(reward.numpy())
        dones.append(done.numpy())
        if t == 1:
            np.testing.assert_array_equal(obs.numpy(), [[0, 2], [0, 2]])
        if t == 2:  # an episode's end: back at the start
            np.testing.assert_array_equal(state.numpy(), [0, 0])
            np.testing.assert_array_equal(obs.numpy(), [[0, 0], [0, 0]])
    np.testing.assert_allclose(np.array(rewards)[:, 0], [-0.1, 1, 1, -0.1, -0.1, -0.1], rtol=1e-6)
    np.testing.assert_allclose(np.array(rewards)[:, 1], [-0.1, -0.1, -0.1, -0.1, -0.1, 1], rtol=1e-6)
    np.testing.assert_array_equal(np.array(dones)[:, 0], [0, 0, 1, 0, 0, 1])


def test_one_hot_observations():
    env = Gridworld(observation="one_hot")
    obs = env.observe(tf.constant([0, 7])).numpy()
    assert obs.shape == (2, 25) and obs[1, 7] == 1.0 and obs.sum() == 2.0


def test_follows_the_rl_protocol_and_runs_an_rl2_rollout():
    env = Gridworld(episode_length=4, num_episodes=2)
    check_env(env)
    params = init_recurrent_actor_critic(agent_input_size(env.num_actions, env.observation_size, use_done_flag=True),
                                         16, env.num_actions, seed=0)
    tasks, trial = rollout(params, env, num_tasks=6, seed=1, use_done_flag=True)
    assert trial.actions.shape == (6, 8) and trial.rewards.shape == (6, 8)
    np.testing.assert_array_equal(trial.dones.numpy()[0], [0, 0, 0, 1, 0, 0, 0, 1])
    cells = reached_cells(env, trial.actions.numpy())
    np.testing.assert_allclose(trial.rewards.numpy(), np.where(cells == tasks.numpy()[:, None], 1.0, -0.1), rtol=1e-6)
    _, long_trial = rollout(params, Gridworld(), num_tasks=2, seed=1, use_done_flag=True)  # 60 steps: tf.range loop
    assert long_trial.rewards.shape == (2, 60)


def test_random_policy_expected_return():
    tiny = Gridworld(grid_size=2, episode_length=1, num_episodes=1, excluded_block=1)
    assert tiny.random_policy_expected_return() == pytest.approx(-0.1 + 1.1 * (2 / 5) / 3, abs=1e-12)
    env = Gridworld()
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 5, size=(4000, env.horizon))
    goals = np.array(env.candidate_cells)[rng.integers(0, 21, size=4000)]
    returns = np.where(reached_cells(env, actions) == goals[:, None], 1.0, -0.1).sum(axis=1)
    mean, ci = mean_ci95(returns)
    assert abs(mean - env.random_policy_expected_return()) < ci


# ----------------------------------------------------------------------------------------------
# Gymnasium environment
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("observation", ["coordinates", "one_hot"])
def test_gymnasium_env_passes_the_checker(observation):
    env = GridworldEnv(observation=observation)
    gymnasium_check_env(env, skip_render_check=True)
    assert isinstance(env.action_space, gymnasium.spaces.Discrete)


def test_gymnasium_env_matches_the_batched_env():
    env = GridworldEnv(grid_size=4, episode_length=5, num_episodes=3)
    world = env.world
    rng = np.random.default_rng(1)
    actions = rng.integers(0, 5, size=world.horizon)
    obs, info = env.reset(seed=0, options={"goal": (2, 1)})
    assert info["goal"] == (2, 1) and obs.tolist() == [0.0, 0.0]
    rewards, episode_done = [], []
    for a in actions:
        obs, reward, terminated, truncated, info = env.step(int(a))
        rewards.append(reward)
        episode_done.append(info["episode_done"])
    assert terminated and not truncated
    cells = reached_cells(world, actions)
    np.testing.assert_allclose(rewards, np.where(cells == world.cell(2, 1), 1.0, -0.1))
    assert np.flatnonzero(episode_done).tolist() == [4, 9, 14]
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    with pytest.raises(ValueError, match="goal"):
        env.reset(options={"goal": (1, 1)})  # excluded cell
    with pytest.raises(ValueError, match="action"):
        env.reset(seed=0)
        env.step(5)


# ----------------------------------------------------------------------------------------------
# beliefs
# ----------------------------------------------------------------------------------------------


def test_belief_update_removes_renormalises_and_collapses():
    env = Gridworld()
    prior = prior_belief(env, 4)
    np.testing.assert_allclose(prior.numpy().sum(axis=1), 1.0, rtol=1e-6)
    positions = [env.cell(0, 2), env.cell(1, 1), env.cell(3, 3), env.cell(0, 2)]
    rewards = [-0.1, -0.1, 1.0, -0.1]
    after = belief_update(prior, positions, rewards).numpy()
    np.testing.assert_allclose(after.sum(axis=1), 1.0, rtol=1e-6)  # renormalised
    assert after[0, env.cell(0, 2)] == 0.0  # a visited non-goal cell leaves the belief
    np.testing.assert_allclose(after[0][after[0] > 0], 1 / 20, rtol=1e-6)  # ... the others share its mass
    np.testing.assert_allclose(after[1], prior.numpy()[1], rtol=1e-6)  # an excluded cell teaches nothing
    np.testing.assert_array_equal(after[2], np.eye(25)[env.cell(3, 3)])  # the goal found: collapse
    again = belief_update(after, [0, 0, env.cell(3, 2), env.cell(4, 4)], [-0.1, -0.1, -0.1, -0.1]).numpy()
    np.testing.assert_array_equal(again[2], np.eye(25)[env.cell(3, 3)])  # collapsed stays collapsed
    np.testing.assert_allclose(again[3][again[3] > 0], 1 / 19, rtol=1e-6)


def test_belief_update_rejects_impossible_steps():
    env = Gridworld()
    belief = prior_belief(env, 1)
    with pytest.raises(ValueError, match="impossible"):
        belief_update(belief, [env.cell(1, 1)], [1.0])  # +1 on an excluded cell
    last = tf.one_hot([env.cell(4, 4)], 25)
    with pytest.raises(ValueError, match="impossible"):
        belief_update(last, [env.cell(4, 4)], [-0.1])
    with pytest.raises(ValueError, match="positions"):
        belief_update(belief, 3, [1.0])


def test_belief_after_a_history_with_episode_resets():
    env = Gridworld(episode_length=3, num_episodes=3)
    actions = [UP, UP, RIGHT, RIGHT, RIGHT, UP]  # (0,1) (0,2) (1,2) | (1,0) (2,0) (2,1)
    np.testing.assert_array_equal(reached_cells(env, actions), [1, 2, 7, 5, 10, 11])
    rewards = [-0.1] * 6
    state = belief_state_after(env, actions, rewards)
    assert state.position == 0 and state.step == 6 and state.goal == -1  # back at the start
    visited = {2, 7, 10, 11}
    assert state.remaining == sum(1 << c for c in env.candidate_cells if c not in visited)
    np.testing.assert_allclose(belief_after(env, actions, rewards).numpy(), belief_vector(env, state), rtol=1e-6)
    found = belief_state_after(env, actions[:5], [-0.1, -0.1, -0.1, -0.1, 1.0])
    assert found == BeliefState(env.cell(2, 0), found.remaining, 5, env.cell(2, 0))
    np.testing.assert_array_equal(belief_after(env, [actions[:5]] * 2, [[-0.1] * 4 + [1.0]] * 2).numpy(),
                                  np.eye(25)[[10, 10]])
    with pytest.raises(ValueError, match="rewards"):
        belief_state_after(env, actions[:2], [1.0, 1.0])  # +1 on two different cells
    with pytest.raises(ValueError, match="rewards"):
        belief_state_after(env, actions[:2], [0.5, -0.1])
    with pytest.raises(ValueError, match="actions"):
        reached_cells(env, [7])


# ----------------------------------------------------------------------------------------------
# posterior sampling
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", [Gridworld(grid_size=3, episode_length=4, num_episodes=3),
                                 Gridworld(grid_size=4, episode_length=6, num_episodes=2, excluded_block=1),
                                 Gridworld(num_episodes=1)], ids=["3x3", "4x4", "5x5-one-episode"])
def test_posterior_sampling_matches_its_exact_return(env):
    tasks = env.sample_tasks(4000, seed=5)
    trial = play_posterior_sampling(env, tasks, seed=6)
    mean, ci = mean_ci95(trial.returns.numpy())
    assert abs(mean - posterior_sampling_expected_return(env)) < ci
    np.testing.assert_array_equal(trial.actions.numpy(), play_posterior_sampling(env, tasks, seed=6).actions.numpy())
    np.testing.assert_allclose(trial.returns.numpy(), trial.episode_returns(env.episode_length).numpy().sum(axis=1),
                               rtol=1e-5)


def test_posterior_sampling_exploits_once_the_goal_is_found():
    env = Gridworld()
    tasks = env.sample_tasks(500, seed=0)
    trial = play_posterior_sampling(env, tasks, seed=1)
    rewards = trial.rewards.numpy().reshape(500, 4, 15)
    found_in_first = (rewards[:, 0] > 0).any(axis=1)
    d = env.distances[0, tasks.numpy()]
    straight = -0.1 * (d - 1) + (16 - d)  # walk d steps, stand on the goal for the rest
    np.testing.assert_allclose(rewards[found_in_first, 1].sum(axis=1), straight[found_in_first], rtol=1e-5)
    assert found_in_first.mean() > 0.3
    assert trial.returns.numpy().mean() > env.random_policy_expected_return() + 30
