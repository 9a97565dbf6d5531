"""What an agent can know about the gridworld's goal, and posterior sampling, the policy that acts on it.

**The belief.** The goal g is uniform over the candidate cells C (:class:`~metalearn_lib.meta_rl_mdps.gridworld.
Gridworld`), and a step that ends on cell p tells exactly whether g = p (reward +1) or not (−0.1). Bayes' rule, ::

    b'(c) = b(c)·P(r | g = c, p) / Σ_c' b(c')·P(r | g = c', p),
    P(+1 | g = c, p) = 1[c = p],   P(−0.1 | g = c, p) = 1[c ≠ p],

so a visited cell that is not the goal leaves the belief, the rest is renormalised, and finding the goal collapses
the belief onto it. After any history the belief is uniform over the candidates not yet visited, or a point mass
on the goal once found: the small :class:`BeliefState` (cell, remaining candidates as a bitmask, step, goal)
is a sufficient statistic of the history, which :mod:`~metalearn_lib.meta_rl_mdps.bayes_optimal` plans over.

**Posterior sampling over goals** (:func:`play_posterior_sampling`): at each episode's start draw a goal ĝ ~ b, walk
to it by a shortest path (:attr:`Gridworld.toward_actions`) and stay there. When the walk reaches ĝ and it is not
the goal, ĝ is *re-drawn* from the updated belief (as when it is refuted by the goal being found elsewhere).
Why: a drawn cell that has not been refuted is still distributed as the current belief (uniform over C' ⊂ C
conditioned on lying in C' is uniform over C'), so the agent always acts on a fair sample of the posterior;
keeping a refuted ĝ until the episode ends would make it stand still on an empty cell. Its exact expected return
is :func:`posterior_sampling_expected_return` (a recursion memoised at the draws).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import tensorflow as tf

from metalearn_lib.meta_rl_mdps.gridworld import GOAL_REWARD, STEP_REWARD, Gridworld
from metalearn_lib.rl.sampling import derive_seed
from metalearn_lib.tasks import SeedLike, seed_pair, uniform01

__all__ = [
    "BeliefState",
    "GridworldTrial",
    "belief_after",
    "belief_state_after",
    "belief_update",
    "belief_vector",
    "check_goals",
    "play_posterior_sampling",
    "posterior_sampling_expected_return",
    "prior_belief",
    "reached_cells",
]


class BeliefState(NamedTuple):
    """The sufficient statistic of a gridworld history.

    Attributes:
        position: the agent's cell now (the start cell after an episode's last step).
        remaining: bitmask of the candidate cells not yet visited (bit c for cell c): the belief's support while
            the goal is unknown.
        step: t, the steps taken so far, in [0, T].
        goal: the goal's cell once found, −1 before.
    """

    position: int
    remaining: int
    step: int
    goal: int = -1


class GridworldTrial(NamedTuple):
    """One trial of a batch of gridworld tasks played by a policy.

    Attributes:
        actions: ``[B, T]`` int32.
        rewards: ``[B, T]`` float32.
    """

    actions: tf.Tensor
    rewards: tf.Tensor

    @property
    def returns(self) -> tf.Tensor:
        """``[B]``: each trial's total reward."""
        return tf.reduce_sum(self.rewards, axis=1)

    def episode_returns(self, episode_length: int) -> tf.Tensor:
        """``[B, E]``: the total reward of each episode (H = ``episode_length`` steps)."""
        return tf.reduce_sum(tf.reshape(self.rewards, [tf.shape(self.rewards)[0], -1, episode_length]), axis=2)


def check_goals(env: Gridworld, tasks: Any) -> tf.Tensor:
    """``tasks`` as ``[B]`` int32 goals on candidate cells.

    Raises:
        TypeError: ``env`` is not a :class:`Gridworld`.
        ValueError: not a non-empty 1-D array of candidate cells.
    """
    if not isinstance(env, Gridworld):
        raise TypeError(f"env must be a Gridworld, got {type(env).__name__}")
    goals = np.asarray(tasks)
    if goals.ndim != 1 or goals.size == 0 or not np.issubdtype(goals.dtype, np.integer):
        raise ValueError(f"tasks must be a non-empty [num_tasks] array of goal cells, got {goals.dtype} {goals.shape}")
    if np.any(goals < 0) or np.any(goals >= env.num_cells) or not np.all(env.candidate_mask[goals]):
        raise ValueError(f"tasks must be candidate cells of the grid ({env.num_candidates} of them), got "
                         f"{sorted(set(goals.tolist()) - set(env.candidate_cells))}")
    return tf.constant(goals, tf.int32)


def prior_belief(env: Gridworld, num_tasks: int) -> tf.Tensor:
    """b₀(c) = 1[c ∈ C]/#C for ``num_tasks`` tasks, ``[num_tasks, N²]`` float32."""
    row = tf.constant(env.candidate_mask / env.num_candidates, tf.float32)
    return tf.tile(row[tf.newaxis], [num_tasks, 1])


def belief_update(belief: Any, positions: Any, rewards: Any) -> tf.Tensor:
    """One step of Bayes' rule for a batch: the belief after a step ended on ``positions`` with ``rewards``.

    b'(c) ∝ b(c)·1[c = p] if r = +1 (the goal is found: b' = onehot(p)), b'(c) ∝ b(c)·1[c ≠ p] if r = −0.1.

    Args:
        belief: ``[B, N²]`` probabilities over the cells.
        positions: ``[B]`` int cells the step ended on (before an episode's reset).
        rewards: ``[B]`` the rewards, +1 or −0.1.

    Returns:
        ``[B, N²]`` float32, each row summing to 1.

    Raises:
        ValueError: (eagerly) bad shapes, or a step the belief calls impossible (reward +1 on a cell of belief 0,
            or the last candidate visited without reward).
    """
    belief = tf.cast(tf.convert_to_tensor(belief), tf.float32)
    positions = tf.cast(tf.convert_to_tensor(positions), tf.int32)
    rewards = tf.cast(tf.convert_to_tensor(rewards), tf.float32)
    if belief.shape.rank != 2 or positions.shape.rank != 1 or rewards.shape.rank != 1:
        raise ValueError(f"belief must be [B, num_cells], positions and rewards [B]; got {belief.shape}, "
                         f"{positions.shape}, {rewards.shape}")
    on_cell = tf.one_hot(positions, tf.shape(belief)[1], dtype=tf.float32)
    found = rewards[:, tf.newaxis] > 0.0
    posterior = belief * tf.where(found, on_cell, 1.0 - on_cell)  # b(c)·P(r | g = c, p)
    total = tf.reduce_sum(posterior, axis=1, keepdims=True)
    if tf.executing_eagerly() and bool(tf.reduce_any(total <= 0.0)):
        rows = tf.where(total[:, 0] <= 0.0)[:, 0].numpy().tolist()
        raise ValueError(f"the step is impossible under the belief in rows {rows}: reward +1 on a cell of "
                         "belief 0, or the last candidate visited without the reward")
    return tf.math.divide_no_nan(posterior, total)


def reached_cells(env: Gridworld, actions: Any) -> np.ndarray:
    """The cell each step of ``actions`` (``[B, t]`` or ``[t]``, t ≤ T) ends on, from the start, resetting after
    every episode's last step: same shape, int64.

    Raises:
        ValueError: not ints in [0, 5), or longer than the horizon T.
    """
    actions = np.asarray(actions)
    if actions.ndim not in (1, 2) or (actions.size and not np.issubdtype(actions.dtype, np.integer)):
        raise ValueError(f"actions must be ints of shape [t] or [B, t], got {actions.dtype} {actions.shape}")
    if actions.shape[-1] > env.horizon or np.any(actions < 0) or np.any(actions >= env.num_actions):
        raise ValueError(f"actions must be at most horizon={env.horizon} ints in [0, {env.num_actions - 1}], got "
                         f"shape {actions.shape}")
    batch = (actions if actions.ndim == 2 else actions[np.newaxis]).astype(np.int64)
    cells = np.full(batch.shape[0], env.start_cell, dtype=np.int64)
    out = np.empty_like(batch)
    for t in range(batch.shape[1]):
        out[:, t] = env.next_cells[cells, batch[:, t]]
        cells = np.full_like(cells, env.start_cell) if (t + 1) % env.episode_length == 0 else out[:, t]
    return out.reshape(actions.shape)


def belief_after(env: Gridworld, actions: Any, rewards: Any) -> tf.Tensor:
    """The belief over the goal after a history: b₀ followed by :func:`belief_update` at every step.

    Args:
        env: the :class:`Gridworld`.
        actions: ``[B, t]`` (or ``[t]``) ints, the actions from the trial's start.
        rewards: rewards of the same shape.

    Returns:
        ``[B, N²]`` (or ``[N²]``) float32.

    Raises:
        ValueError: bad shapes, or a history no goal explains.
    """
    cells = reached_cells(env, actions)
    rewards = np.asarray(rewards, dtype=np.float64)
    if rewards.shape != cells.shape:
        raise ValueError(f"rewards must have the shape of actions {cells.shape}, got {rewards.shape}")
    flat_cells = cells if cells.ndim == 2 else cells[np.newaxis]
    flat_rewards = rewards if rewards.ndim == 2 else rewards[np.newaxis]
    belief = prior_belief(env, flat_cells.shape[0])
    for t in range(flat_cells.shape[1]):
        belief = belief_update(belief, flat_cells[:, t], flat_rewards[:, t])
    return belief[0] if cells.ndim == 1 else belief


def belief_state_after(env: Gridworld, actions: Sequence[int], rewards: Sequence[float]) -> BeliefState:
    """The :class:`BeliefState` after one history (``actions``, ``rewards``: ``[t]``, from the trial's start).

    Raises:
        ValueError: bad shapes, rewards other than +1 and −0.1, or rewards no single goal explains.
    """
    cells = reached_cells(env, np.asarray(actions, dtype=np.int64).reshape(-1))
    rewards = np.asarray(rewards, dtype=np.float64).reshape(-1)
    if rewards.shape != cells.shape:
        raise ValueError(f"rewards must have the length of actions ({cells.size}), got {rewards.size}")
    on_goal = np.isclose(rewards, GOAL_REWARD, atol=1e-6)
    if not np.all(on_goal | np.isclose(rewards, STEP_REWARD, atol=1e-6)):
        raise ValueError(f"rewards must be {GOAL_REWARD} or {STEP_REWARD}, got {sorted(set(rewards.tolist()))}")
    goal = int(cells[np.argmax(on_goal)]) if on_goal.any() else -1
    if (goal >= 0 and (not env.candidate_mask[goal] or np.any(on_goal != (cells == goal)))):
        raise ValueError("rewards are not those of any goal: +1 must come exactly on the steps ending on one "
                         "candidate cell")
    visited = 0
    for c in set(cells.tolist()):
        visited |= 1 << c
    remaining = sum(1 << c for c in env.candidate_cells) & ~visited
    if goal < 0 and remaining == 0:
        raise ValueError("every candidate cell was visited without the reward: no goal explains these rewards")
    t = cells.size
    position = env.start_cell if t == 0 or t % env.episode_length == 0 else int(cells[-1])
    return BeliefState(position, remaining, t, goal)


def belief_vector(env: Gridworld, state: BeliefState) -> np.ndarray:
    """The belief of a :class:`BeliefState`, ``[N²]`` float64: onehot(goal), or uniform over ``remaining``."""
    if state.goal >= 0:
        return np.eye(env.num_cells)[state.goal]
    support = np.array([(state.remaining >> c) & 1 for c in range(env.num_cells)], dtype=np.float64)
    return support / support.sum()


def _sample_cells(belief: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """ĝ_b ~ b_b by inversion: ĝ = #{c : F(c) ≤ u·F(N² − 1)}, F the cumulative belief, u ~ U[0, 1); ``[B]`` int32."""
    cdf = tf.cumsum(belief, axis=1)
    u = uniform01([belief.shape[0]], seed, tf.float32)[:, tf.newaxis] * cdf[:, -1:]
    return tf.minimum(tf.reduce_sum(tf.cast(cdf <= u, tf.int32), axis=1), belief.shape[1] - 1)


def play_posterior_sampling(env: Gridworld, tasks: Any, seed: SeedLike) -> GridworldTrial:
    """Play posterior sampling over goals (module docstring) for one trial of every task of a batch.

    One Python step per time step, TensorFlow over the batch. The draw at episode start t uses
    ``derive_seed(seed, 2t)``, a re-draw after step t ``derive_seed(seed, 2t + 1)``.

    Args:
        env: the :class:`Gridworld`.
        tasks: ``[B]`` goal cells (e.g. ``env.sample_tasks(B, seed)``).
        seed: an int, or an int tensor of shape [2].

    Returns:
        :class:`GridworldTrial`.

    Raises:
        TypeError, ValueError: a bad ``env``, ``tasks`` or ``seed``.
    """
    goals = check_goals(env, tasks)
    pair = seed_pair(seed)
    toward = tf.constant(env.toward_actions, tf.int32)
    belief = prior_belief(env, int(goals.shape[0]))
    cells = env.initial_state(goals)
    target = cells
    actions, rewards = [], []
    for t in range(env.horizon):
        if t % env.episode_length == 0:
            target = _sample_cells(belief, derive_seed(pair, 2 * t))  # ĝ ~ b at each episode's start
        action = tf.gather_nd(toward, tf.stack([cells, target], axis=1))
        reached = env.step_cells(cells, action)
        cells, reward, _, _ = env.transition(goals, cells, action, t, pair)
        belief = belief_update(belief, reached, reward)
        refuted = tf.gather(belief, target, batch_dims=1) <= 0.0
        target = tf.where(refuted, _sample_cells(belief, derive_seed(pair, 2 * t + 1)), target)
        actions.append(action)
        rewards.append(reward)
    return GridworldTrial(tf.stack(actions, axis=1), tf.stack(rewards, axis=1))


@functools.lru_cache(maxsize=16)
def posterior_sampling_expected_return(env: Gridworld) -> float:
    """The exact expected return of :func:`play_posterior_sampling`, by a recursion memoised at the draws.

    At a draw (cell p, remaining R, step t) ĝ is uniform over R; the agent then walks the fixed shortest path
    p₁, p₂, … to ĝ until it arrives or the episode ends. With the goal uniform over R, each new cell p_i ∈ R_i
    (m_i of them) is the goal with probability 1/m_i given the walk got there, so (expected steps on the goal) ::

        D(p, R, t) = mean_{ĝ∈R} [ Σ_i S_i·1[p_i ∈ R_i]·n_{t+i−1}(p_i)/m_i + S_end·D(next draw) ],
        S_{i+1} = S_i·(1 − 1[p_i ∈ R_i]/m_i),   R_{i+1} = R_i ∖ {p_i},
        n_t(c) = (H − t mod H) + (E − 1 − ⌊t/H⌋)·(H + 1 − d(s₀, c))⁺,

    n_t(c) the steps on the goal c of a finder (it stays, then goes straight to c in later episodes); the next draw
    is at ĝ when it is reached (and refuted) or at s₀ when the episode ends first. E[R] = −0.1·T + 1.1·D(s₀, C, 0).
    Cached per environment. Later episodes start from many different R, so the reference task takes about half a
    minute (one episode: half a second); the mean return of :func:`play_posterior_sampling` is the quick estimate.

    Raises:
        TypeError: ``env`` is not a :class:`Gridworld`.
    """
    if not isinstance(env, Gridworld):
        raise TypeError(f"env must be a Gridworld, got {type(env).__name__}")
    H, E, T = env.episode_length, env.num_episodes, env.horizon
    moves = [[int(env.next_cells[c, env.toward_actions[c, g]]) for g in range(env.num_cells)]
             for c in range(env.num_cells)]
    later = [max(0, H + 1 - int(env.distances[env.start_cell, c])) for c in range(env.num_cells)]
    draws: dict[tuple[int, int, int], float] = {}

    def draw(cell: int, remaining: int, t: int) -> float:
        key = (cell, remaining, t)
        if key in draws:
            return draws[key]
        total, targets = 0.0, [g for g in range(env.num_cells) if remaining >> g & 1]
        for target in targets:
            here, rest, step, alive, value = cell, remaining, t, 1.0, 0.0
            while True:  # walk towards the target until it is reached or the episode ends
                here = moves[here][target]
                if rest >> here & 1:
                    m = bin(rest).count("1")
                    value += alive * ((H - step % H) + (E - 1 - step // H) * later[here]) / m
                    alive, rest = alive * (1.0 - 1.0 / m), rest & ~(1 << here)
                step += 1
                if not rest or step == T:
                    break
                if step % H == 0:
                    value += alive * draw(env.start_cell, rest, step)
                    break
                if here == target:
                    value += alive * draw(here, rest, step)
                    break
            total += value
        draws[key] = total / len(targets)
        return draws[key]

    on_goal = draw(env.start_cell, sum(1 << c for c in env.candidate_cells), 0)
    return float(STEP_REWARD * T + (GOAL_REWARD - STEP_REWARD) * on_goal)
