"""The gridworld's exact Bayes-optimal policy: brute-force expectimax, an independent belief-MDP DP, the 4.0 fact,
the batched player, symmetry and argument checks."""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import numpy as np
import pytest

from metalearn_lib.meta_rl_mdps.bayes_optimal import (
    GridworldBayesOptimal,
    bayes_optimal_action,
    gridworld_bayes_optimal,
)
from metalearn_lib.meta_rl_mdps.gridworld import Gridworld
from metalearn_lib.meta_rl_mdps.gridworld_beliefs import (
    BeliefState,
    belief_state_after,
    play_posterior_sampling,
    reached_cells,
)
from metalearn_lib.rl import mean_ci95

REFERENCE = Gridworld()


def expectimax(env: Gridworld, cell: int, step: int, goals: tuple[int, ...]) -> list[float]:
    """Q of the five actions at one node of the observation tree, by plain expectimax over every history.

    ``goals`` are the goals consistent with the history of this node, filtered afresh at each node: no memo, no
    merging of histories into belief states, no symmetry, no restriction of the actions.
    """
    out = []
    for a in range(env.num_actions):
        reached = int(env.next_cells[cell, a])
        after = env.start_cell if (step + 1) % env.episode_length == 0 else reached
        q = 0.0
        for reward, consistent in ((1.0, tuple(g for g in goals if g == reached)),
                                   (-0.1, tuple(g for g in goals if g != reached))):
            if consistent:
                rest = 0.0 if step + 1 == env.horizon else max(expectimax(env, after, step + 1, consistent))
                q += len(consistent) / len(goals) * (reward + rest)
        out.append(q)
    return out


def belief_mdp_value(env: Gridworld) -> float:
    """V(s₀, C, 0) by the textbook Bellman equation of the belief MDP in expected rewards: memoised over
    (cell, frozenset of remaining candidates, t), all five actions, no symmetry, no bounds."""
    H, T = env.episode_length, env.horizon

    @functools.cache
    def known(cell: int, goal: int, t: int) -> float:
        if t == T:
            return 0.0
        reached = int(env.next_cells[cell, env.toward_actions[cell, goal]])
        after = env.start_cell if (t + 1) % H == 0 else reached
        return (1.0 if reached == goal else -0.1) + known(after, goal, t + 1)

    @functools.cache
    def value(cell: int, remaining: frozenset[int], t: int) -> float:
        if t == T:
            return 0.0
        best = -math.inf
        for a in range(env.num_actions):
            reached = int(env.next_cells[cell, a])
            after = env.start_cell if (t + 1) % H == 0 else reached
            if reached in remaining:
                p = 1.0 / len(remaining)
                q = p * (1.0 + known(after, reached, t + 1))
                if len(remaining) > 1:
                    q += (1.0 - p) * (-0.1 + value(after, remaining - {reached}, t + 1))
            else:
                q = -0.1 + value(after, remaining, t + 1)
            best = max(best, q)
        return best

    return value(env.start_cell, frozenset(env.candidate_cells), 0)


#: (grid_size, episode_length, num_episodes, excluded_block) small enough for plain expectimax.
SMALL = [Gridworld(3, 6, 1, 2), Gridworld(3, 3, 2, 2), Gridworld(3, 4, 2, 2), Gridworld(3, 2, 3, 2),
         Gridworld(3, 5, 1, 1), Gridworld(3, 3, 2, 1), Gridworld(2, 2, 2, 1), Gridworld(4, 5, 1, 3),
         Gridworld(4, 3, 2, 2), Gridworld(4, 7, 1, 2)]


# ----------------------------------------------------------------------------------------------
# exactness
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", SMALL, ids=lambda e: f"{e.grid_size}x{e.grid_size}-H{e.episode_length}-"
                                                    f"E{e.num_episodes}-b{e.excluded_block}")
def test_matches_brute_force_expectimax(env):
    solver = GridworldBayesOptimal(env)
    assert solver.expected_return == pytest.approx(max(expectimax(env, 0, 0, env.candidate_cells)), abs=1e-9)


def test_actions_and_q_values_of_random_histories_match_brute_force():
    env = Gridworld(3, 3, 2, 2)
    solver = GridworldBayesOptimal(env)
    rng = np.random.default_rng(0)
    for _ in range(12):
        goal = int(rng.choice(env.candidate_cells))
        actions = rng.integers(0, 5, size=int(rng.integers(0, env.horizon)))
        rewards = np.where(reached_cells(env, actions) == goal, 1.0, -0.1)
        state = belief_state_after(env, actions, rewards)
        goals = (state.goal,) if state.goal >= 0 else tuple(c for c in env.candidate_cells
                                                           if state.remaining >> c & 1)
        q = expectimax(env, state.position, state.step, goals)
        np.testing.assert_allclose(solver.q_values(state), q, atol=1e-9)
        assert q[solver.action(state)] == pytest.approx(max(q), abs=1e-9)
        assert solver.value(state) == pytest.approx(max(q), abs=1e-9)


@pytest.mark.parametrize("env", [Gridworld(4, 5, 2, 2), Gridworld(5, 6, 2, 2), Gridworld(5, 8, 2, 2),
                                 Gridworld(4, 4, 3, 1), Gridworld(4, 6, 3, 2)],
                         ids=["4x4-H5-E2", "5x5-H6-E2", "5x5-H8-E2", "4x4-H4-E3-b1", "4x4-H6-E3"])
def test_matches_an_independent_belief_mdp_dp(env):
    expected = belief_mdp_value(env)
    for options in ({}, {"use_symmetry": False}, {"use_bounds": False}):
        assert GridworldBayesOptimal(env, **options).expected_return == pytest.approx(expected, abs=1e-9)


def test_one_episode_on_the_reference_grid_is_exactly_four():
    solver = GridworldBayesOptimal(Gridworld(num_episodes=1))
    assert solver.expected_return_fraction == Fraction(4)
    steps = np.sort(solver.discovery_steps()[solver.discovery_steps() >= 0])
    np.testing.assert_array_equal(steps, np.arange(1, 15))  # a new candidate on every step from the second on


# ----------------------------------------------------------------------------------------------
# the reference task
# ----------------------------------------------------------------------------------------------


def test_reference_task_values():
    solver = gridworld_bayes_optimal(REFERENCE)
    assert solver is gridworld_bayes_optimal(Gridworld(observation="one_hot"))  # cached per layout
    assert solver.expected_return_fraction == Fraction(521, 14)  # 37.214…, measured (W = 825 steps on the goal)
    episodes = solver.episode_returns()
    assert episodes.sum() == pytest.approx(solver.expected_return, abs=1e-9)
    assert episodes[0] == pytest.approx(4.0, abs=1e-12)  # the first episode searches as well as a lone episode can
    assert np.all(solver.discovery_steps() >= 0)  # every candidate is visited within the trial...
    assert np.all(solver.discovery_steps() < 2 * REFERENCE.episode_length)  # ... by the end of episode 2
    d = REFERENCE.distances[0, list(REFERENCE.candidate_cells)]
    straight = -0.1 * (d - 1) + (16 - d)  # walk d steps to the goal, stand on it for the rest
    np.testing.assert_allclose(solver.returns_by_goal()[:, 1:], straight[:, None].repeat(3, axis=1), atol=1e-12)
    posterior_sampling, ci = mean_ci95(play_posterior_sampling(REFERENCE, REFERENCE.sample_tasks(2000, 0), 1).returns)
    assert solver.expected_return > posterior_sampling + ci > REFERENCE.random_policy_expected_return()
    assert solver.num_belief_states < 20_000 and solver.solve_seconds < 30.0


def test_player_returns_the_dp_value():
    env = REFERENCE
    solver = gridworld_bayes_optimal(env)
    every_goal = solver.play(np.array(env.candidate_cells))
    np.testing.assert_allclose(every_goal.episode_returns(env.episode_length).numpy(), solver.returns_by_goal(),
                               atol=1e-5)
    assert every_goal.returns.numpy().mean() == pytest.approx(solver.expected_return, abs=1e-5)
    mean, ci = mean_ci95(solver.play(env.sample_tasks(4096, seed=2)).returns.numpy())
    assert abs(mean - solver.expected_return) < ci


def test_bayes_optimal_action_follows_the_plan_then_the_goal():
    env = REFERENCE
    solver = gridworld_bayes_optimal(env)
    goal = env.candidate_cells[int(np.argmax(solver.discovery_steps()))]  # the last one searched
    actions: list[int] = []
    rewards: list[float] = []
    for t in range(env.horizon):
        a = bayes_optimal_action(env, actions, rewards)
        state = belief_state_after(env, actions, rewards)
        assert a == (solver.plan[t] if state.goal < 0 else env.toward_actions[state.position, goal])
        actions.append(a)
        rewards.append(1.0 if reached_cells(env, actions)[-1] == goal else -0.1)
    assert sum(rewards) == pytest.approx(solver.returns_by_goal()[env.candidate_cells.index(goal)].sum())


def test_off_plan_histories_are_solved_on_demand():
    env = Gridworld(4, 4, 2, 2)
    solver = GridworldBayesOptimal(env)
    state = belief_state_after(env, [0, 0, 1], [-0.1, -0.1, -0.1])  # two idle steps: off the plan
    q = solver.q_values(state)
    assert q[solver.action(state)] == pytest.approx(q.max(), abs=1e-12)
    assert solver.value(state) == pytest.approx(q.max(), abs=1e-12)


# ----------------------------------------------------------------------------------------------
# symmetry and arguments
# ----------------------------------------------------------------------------------------------


def test_value_is_invariant_under_the_mirror():
    env = Gridworld(4, 4, 2, 2)
    solver = GridworldBayesOptimal(env)
    plain = GridworldBayesOptimal(env, use_symmetry=False)
    mirror = np.array([(c % 4) * 4 + c // 4 for c in range(16)])
    rng = np.random.default_rng(3)
    for _ in range(6):
        actions = rng.integers(0, 5, size=int(rng.integers(1, 6)))
        state = belief_state_after(env, actions, [-0.1] * len(actions))  # the goal not found yet
        flipped = BeliefState(int(mirror[state.position]),
                              sum(1 << int(mirror[c]) for c in range(16) if state.remaining >> c & 1), state.step)
        assert plain.value(flipped) == pytest.approx(plain.value(state), abs=1e-12)
        assert solver.value(flipped) == pytest.approx(plain.value(state), abs=1e-12)


def test_arguments_are_checked():
    with pytest.raises(TypeError, match="env"):
        GridworldBayesOptimal("5x5")
    with pytest.raises(ValueError, match="grid_size"):
        GridworldBayesOptimal(Gridworld(grid_size=8))
    with pytest.raises(ValueError, match="beam_width"):
        GridworldBayesOptimal(Gridworld(3, 2, 1), beam_width=0)
    with pytest.raises(ValueError, match="max_states"):
        GridworldBayesOptimal(Gridworld(5, 6, 2), use_bounds=False, max_states=100)
    solver = GridworldBayesOptimal(Gridworld(3, 2, 1))
    with pytest.raises(ValueError, match="state.step"):
        solver.action(BeliefState(0, 1 << 8, 2))
    with pytest.raises(ValueError, match="state.remaining"):
        solver.action(BeliefState(8, 1 << 8, 1))  # the agent stands on a "remaining" cell
    with pytest.raises(TypeError, match="state"):
        solver.action((0, 1 << 8, 0))
    with pytest.raises(ValueError, match="rewards"):
        bayes_optimal_action(Gridworld(3, 2, 1), [1], [1.0])  # (0, 1) is excluded: no goal pays there
