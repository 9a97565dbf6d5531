"""VariBAD's gridworld (Zintgraf et al. 2020, §5.1): find a hidden goal cell, then exploit it for the rest of the task.

An N × N grid (N = ``grid_size``, 5), cells (x, y) with 0 ≤ x, y < N, numbered c = x·N + y (the reference
code's ``task_to_id``). Every episode starts at s₀ = (0, 0). Actions, in the reference order::

    0 stay · 1 up (y + 1) · 2 right (x + 1) · 3 down (y − 1) · 4 left (x − 1),   moves clipped at the walls.

A task is a goal g, uniform over the *candidate cells*: every cell but the b × b block at the start's corner
(b = ``excluded_block``: b = 2 excludes the start and its three neighbours (0, 1), (1, 0), (1, 1), the reference's
21 goals on 5 × 5; b = 1 excludes only the start). The reward of a step is ::

    r_t = +1 if s_{t+1} = g else −0.1  =  −0.1 + 1.1·1[s_{t+1} = g],                              (1)

so the return of a trial is −0.1·T + 1.1·(number of steps that end on the goal). An episode is H =
``episode_length`` (15) steps with no early end; a trial is E = ``num_episodes`` (4) episodes of the same goal,
T = H·E steps; after each episode's last step (``done`` = 1) the agent is back at s₀.

Two views of the same dynamics, as in :mod:`metalearn_lib.bandits.env`:

* :class:`Gridworld` — the task distribution and a batched environment following
  :class:`~metalearn_lib.rl.environments.StatefulEpisodicEnv` (state = the agents' cells ``[B]``), for RL² and
  the batched players of :mod:`~metalearn_lib.meta_rl_mdps.gridworld_beliefs` and
  :mod:`~metalearn_lib.meta_rl_mdps.bayes_optimal`;
* :class:`GridworldEnv` — one trial behind Gymnasium's ``Env`` API (passes ``gymnasium.utils.env_checker``).

**Observation.** The agent's cell as coordinates (x, y) (``observation="coordinates"``, the reference's choice:
2 numbers whose geometry a network can use), or as a one-hot vector of the N² cells (``"one_hot"``, which lets a
recurrent agent keep a per-cell memory of visits more easily). Neither shows the goal.

**Deviations from the reference** (``environments/navigation/gridworld.py``): the grid is square but of any size,
the excluded block any size b < N (the reference hard-codes b = 2); raw coordinates as floats as there, but no hint
or belief-oracle variants; the trial, not the episode, is the Gymnasium episode here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import gymnasium
import numpy as np
import tensorflow as tf

from metalearn_lib.tasks import SeedLike, seed_pair, uniform01
from metalearn_lib.validation import check_int

__all__ = ["GRIDWORLD_ACTIONS", "Gridworld", "GridworldEnv", "cell_moves"]

#: The five actions, in the reference code's order.
GRIDWORLD_ACTIONS = ("stay", "up", "right", "down", "left")
#: (dx, dy) of each action.
_ACTION_OFFSETS = ((0, 0), (0, 1), (1, 0), (0, -1), (-1, 0))
_OBSERVATIONS = ("coordinates", "one_hot")
#: Rewards of (1): on the goal, anywhere else.
GOAL_REWARD = 1.0
STEP_REWARD = -0.1


def cell_moves(grid_size: int) -> np.ndarray:
    """The cell each action leads to, ``[N², 5]`` int64: move(c, a) = clip((x, y) + offset(a)) as a cell index."""
    n = check_int("grid_size", grid_size, 2)
    cells = np.arange(n * n)
    x, y = cells // n, cells % n
    return np.stack([np.clip(x + dx, 0, n - 1) * n + np.clip(y + dy, 0, n - 1) for dx, dy in _ACTION_OFFSETS],
                    axis=1).astype(np.int64)


@dataclass(frozen=True)
class Gridworld:
    """VariBAD's goal-search gridworld as a task distribution and a batched environment (see the module docstring).

    Tasks are goals, ``[B]`` int32 cell indices; the state is the agents' cells, ``[B]`` int32.

    Attributes:
        grid_size: N ≥ 2 (5).
        episode_length: H ≥ 1 steps an episode (15).
        num_episodes: E ≥ 1 episodes a trial, same goal (4).
        excluded_block: b in [1, N − 1]: the cells with x < b and y < b are never the goal (2).
        observation: ``"coordinates"`` ((x, y), the reference's) or ``"one_hot"`` (the N² cells).

    Raises:
        TypeError, ValueError: a field of the wrong type or out of range (the message names it).
    """

    grid_size: int = 5
    episode_length: int = 15
    num_episodes: int = 4
    excluded_block: int = 2
    observation: str = "coordinates"

    def __post_init__(self) -> None:
        n = check_int("grid_size", self.grid_size, 2)
        check_int("episode_length", self.episode_length)
        check_int("num_episodes", self.num_episodes)
        check_int("excluded_block", self.excluded_block)
        if self.excluded_block >= n:
            raise ValueError(f"excluded_block must be an int in [1, grid_size - 1] = [1, {n - 1}], "
                             f"got {self.excluded_block}")
        if not isinstance(self.observation, str):
            raise TypeError(f"observation must be one of {_OBSERVATIONS}, got {type(self.observation).__name__}")
        if self.observation not in _OBSERVATIONS:
            raise ValueError(f"observation must be one of {_OBSERVATIONS}, got {self.observation!r}")

    # ------------------------------------------------------------------------------------------
    # the layout
    # ------------------------------------------------------------------------------------------

    num_actions = len(GRIDWORLD_ACTIONS)
    start_cell = 0

    @property
    def num_cells(self) -> int:
        """N²."""
        return self.grid_size**2

    @property
    def observation_size(self) -> int:
        """O: 2 for coordinates, N² for one-hot cells."""
        return 2 if self.observation == "coordinates" else self.num_cells

    @property
    def horizon(self) -> int:
        """T = H·E, the steps of a trial."""
        return self.episode_length * self.num_episodes

    @functools.cached_property
    def candidate_cells(self) -> tuple[int, ...]:
        """The cells that can be the goal, increasing: those with x ≥ b or y ≥ b."""
        n, b = self.grid_size, self.excluded_block
        return tuple(c for c in range(n * n) if c // n >= b or c % n >= b)

    @property
    def num_candidates(self) -> int:
        """#C = N² − b², the number of candidate cells C (21 on the reference's 5 × 5 grid)."""
        return len(self.candidate_cells)

    @functools.cached_property
    def candidate_mask(self) -> np.ndarray:
        """``[N²]`` bool: which cells can be the goal."""
        mask = np.zeros(self.num_cells, dtype=bool)
        mask[list(self.candidate_cells)] = True
        mask.flags.writeable = False
        return mask

    @functools.cached_property
    def next_cells(self) -> np.ndarray:
        """``[N², 5]`` int64: the cell each action leads to (:func:`cell_moves`)."""
        table = cell_moves(self.grid_size)
        table.flags.writeable = False
        return table

    @functools.cached_property
    def distances(self) -> np.ndarray:
        """``[N², N²]`` int64: d(c, c') = abs(x − x') + abs(y − y'), the fewest steps from c to c'."""
        n = self.grid_size
        x, y = np.divmod(np.arange(n * n), n)
        table = np.abs(x[:, None] - x[None, :]) + np.abs(y[:, None] - y[None, :])
        table.flags.writeable = False
        return table

    @functools.cached_property
    def toward_actions(self) -> np.ndarray:
        """``[N², N²]`` int64: the lowest-numbered action on a shortest path from c to c' (0, stay, when c = c')."""
        closer = self.distances[self.next_cells] < self.distances[:, None, :]  # [c, a, c']
        table = np.where(closer.any(axis=1), np.argmax(closer, axis=1), 0)
        table.flags.writeable = False
        return table

    def coordinates(self, cells: Any) -> np.ndarray:
        """(x, y) of ``cells`` (int array-like), ``[..., 2]`` int64."""
        cells = np.asarray(cells, dtype=np.int64)
        return np.stack(np.divmod(cells, self.grid_size), axis=-1)

    def cell(self, x: int, y: int) -> int:
        """The index x·N + y of cell (x, y).

        Raises:
            TypeError, ValueError: a coordinate not an int in [0, N − 1].
        """
        n = self.grid_size
        for name, value in (("x", x), ("y", y)):
            check_int(name, value, 0)
            if value >= n:
                raise ValueError(f"{name} must be an int in [0, {n - 1}], got {value}")
        return int(x) * n + int(y)

    # ------------------------------------------------------------------------------------------
    # the batched environment (StatefulEpisodicEnv)
    # ------------------------------------------------------------------------------------------

    def sample_tasks(self, num_tasks: int, seed: SeedLike) -> tf.Tensor:
        """Goals uniform over the candidate cells, ``[num_tasks]`` int32: g = C[⌊u·#C⌋], u ~ U[0, 1), stateless.

        Raises:
            TypeError, ValueError: ``num_tasks`` < 1 or a malformed seed.
        """
        num_tasks = check_int("num_tasks", num_tasks)
        u = uniform01([num_tasks], seed_pair(seed), tf.float32)
        index = tf.minimum(tf.cast(u * self.num_candidates, tf.int32), self.num_candidates - 1)
        return tf.gather(tf.constant(self.candidate_cells, tf.int32), index)

    def observe(self, cells: tf.Tensor) -> tf.Tensor:
        """The observation of agents on ``cells [B]``: ``[B, O]`` float32 ((x, y), or one-hot cells)."""
        cells = tf.cast(cells, tf.int32)
        if self.observation == "one_hot":
            return tf.one_hot(cells, self.num_cells, dtype=tf.float32)
        return tf.cast(tf.stack([cells // self.grid_size, cells % self.grid_size], axis=-1), tf.float32)

    def initial_state(self, tasks: tf.Tensor) -> tf.Tensor:
        """Every agent at the start cell: ``[B]`` int32 zeros."""
        return tf.zeros_like(tf.convert_to_tensor(tasks, tf.int32))

    def initial_observations(self, tasks: tf.Tensor) -> tf.Tensor:
        """The observation of the start cell for every task, ``[B, O]``."""
        return self.observe(self.initial_state(tasks))

    def step_cells(self, cells: tf.Tensor, actions: tf.Tensor) -> tf.Tensor:
        """s_{t+1} = move(s_t, a_t) for a batch, ``[B]`` int32 (before any end-of-episode reset)."""
        index = tf.stack([tf.cast(cells, tf.int32), tf.cast(actions, tf.int32)], axis=-1)
        return tf.gather_nd(tf.constant(self.next_cells, tf.int32), index)

    def transition(self, tasks: tf.Tensor, state: tf.Tensor, actions: tf.Tensor, t: int | tf.Tensor,
                   seed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
        """Take ``actions [B]`` at step ``t``: s' = move(s, a), r = (1), done = 1[(t + 1) mod H = 0].

        Deterministic (``seed`` is unused). Where an episode ends the next state and observation are the start's.

        Returns:
            ``(next cells [B] int32, rewards [B], observations [B, O], done [B])``, floats in float32.
        """
        goals = tf.cast(tasks, tf.int32)
        reached = self.step_cells(state, actions)
        rewards = tf.where(tf.equal(reached, goals), GOAL_REWARD, STEP_REWARD)
        ends = tf.equal(tf.math.floormod(tf.cast(t, tf.int32) + 1, self.episode_length), 0)
        done = tf.fill(tf.shape(goals), tf.cast(ends, tf.float32))
        next_cells = tf.where(ends, tf.zeros_like(reached), reached)
        return next_cells, rewards, self.observe(next_cells), done

    def random_policy_expected_return(self) -> float:
        """The exact expected return of the uniformly random policy (each action with probability 1/5).

        It ignores what it sees, so its cell is a Markov chain, p_{k+1} = p_k·M with M = (1/5)·Σ_a onehot(move(·, a)),
        restarted at s₀ each episode, independent of the goal; by (1), E[R] = −0.1·T + 1.1·E·Σ_{k=1..H} p_k(C)/#C.
        """
        moves = np.zeros((self.num_cells, self.num_cells))
        np.add.at(moves, (np.repeat(np.arange(self.num_cells), self.num_actions), self.next_cells.ravel()), 0.2)
        p = np.zeros(self.num_cells)
        p[self.start_cell] = 1.0
        on_goal = 0.0
        for _ in range(self.episode_length):
            p = p @ moves
            on_goal += p[self.candidate_mask].sum() / self.num_candidates  # P(s_k = g), g uniform over C
        return float(STEP_REWARD * self.horizon + (GOAL_REWARD - STEP_REWARD) * self.num_episodes * on_goal)


class GridworldEnv(gymnasium.Env):
    """One trial of :class:`Gridworld` (E episodes of H steps, one goal) as a Gymnasium environment.

    * action: ``Discrete(5)`` (stay, up, right, down, left);
    * observation: the agent's cell, ``Box(0, N − 1, (2,), float32)`` coordinates or ``Box(0, 1, (N²,))`` one-hot;
    * reward: (1); ``terminated`` after the trial's T steps; after each episode's last step the agent is back at the
      start and ``info["episode_done"]`` is True (the batched env's ``done``).

    ``reset(seed=s)`` draws the goal uniformly over the candidate cells from Gymnasium's seeded generator, or uses
    ``options={"goal": (x, y)}``; ``info`` holds the goal, the step t, the episode and ``reached`` (the cell the
    last step ended on, which the observation no longer shows after an episode's end). The rewards are those of
    :meth:`Gridworld.transition` for the same goal and actions.

    Args: as the fields of :class:`Gridworld`.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, grid_size: int = 5, episode_length: int = 15, num_episodes: int = 4, excluded_block: int = 2,
                 observation: str = "coordinates") -> None:
        super().__init__()
        self.world = Gridworld(grid_size, episode_length, num_episodes, excluded_block, observation)
        n = self.world.grid_size
        self.action_space = gymnasium.spaces.Discrete(self.world.num_actions)
        if observation == "coordinates":
            self.observation_space = gymnasium.spaces.Box(0.0, float(n - 1), shape=(2,), dtype=np.float32)
        else:
            self.observation_space = gymnasium.spaces.Box(0.0, 1.0, shape=(n * n,), dtype=np.float32)
        self.goal = self.world.candidate_cells[0]
        self.position = self.world.start_cell
        self.reached = self.world.start_cell
        self.t = 0
        self._over = True

    def _observation(self) -> np.ndarray:
        if self.world.observation == "one_hot":
            return np.eye(self.world.num_cells, dtype=np.float32)[self.position]
        return self.world.coordinates(self.position).astype(np.float32)

    def _info(self) -> dict[str, Any]:
        return {"goal": tuple(int(v) for v in self.world.coordinates(self.goal)), "t": self.t,
                "episode": min(self.t // self.world.episode_length, self.world.num_episodes - 1),
                "reached": tuple(int(v) for v in self.world.coordinates(self.reached))}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a trial at the start cell with a new goal (or ``options["goal"]`` = (x, y), a candidate cell)."""
        super().reset(seed=seed)
        world = self.world
        if options is not None and "goal" in options:
            goal = options["goal"]
            try:
                x, y = (int(v) for v in goal)
            except (TypeError, ValueError):
                raise ValueError(f"options['goal'] must be a cell (x, y), got {goal!r}") from None
            if not (0 <= x < world.grid_size and 0 <= y < world.grid_size) or not world.candidate_mask[
                    x * world.grid_size + y]:
                raise ValueError(f"options['goal'] must be a candidate cell (x >= {world.excluded_block} or "
                                 f"y >= {world.excluded_block}, inside the {world.grid_size} x {world.grid_size} "
                                 f"grid), got {goal!r}")
            self.goal = world.cell(x, y)
        else:
            self.goal = world.candidate_cells[int(self.np_random.integers(world.num_candidates))]
        self.position = self.reached = world.start_cell
        self.t = 0
        self._over = False
        return self._observation(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Move (clipped at the walls); reward +1 on the goal, −0.1 elsewhere; back to the start after an episode."""
        if self._over:
            raise RuntimeError("the trial is over: call reset() first")
        if not self.action_space.contains(action):
            raise ValueError(f"action must be an int in [0, {self.world.num_actions - 1}], got {action!r}")
        world = self.world
        self.reached = int(world.next_cells[self.position, int(action)])
        reward = GOAL_REWARD if self.reached == self.goal else STEP_REWARD
        self.t += 1
        episode_done = self.t % world.episode_length == 0
        self.position = world.start_cell if episode_done else self.reached
        self._over = self.t >= world.horizon
        info = self._info()
        info["episode_done"] = episode_done
        return self._observation(), reward, self._over, False, info
