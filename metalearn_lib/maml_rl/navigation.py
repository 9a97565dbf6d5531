"""2D point navigation: the reinforcement-learning task family of MAML (Finn et al. 2017, §5.3).

A point agent starts at the origin of the plane and must reach a goal g it cannot see; it
observes only its own position. With position x_t (x_0 = 0), normalised action a_t ∈ R² and
v = ``max_speed`` (0.1), ::

    x_{t+1} = x_t + v·clip(a_t, −1, 1)                  (a velocity clipped to [−v, v]²)
    r_t     = −‖x_{t+1} − g‖₂                           (minus the distance to the goal)
    d_t     = 1[|x_{t+1,1} − g_1| < ε and |x_{t+1,2} − g_2| < ε]   (done; ε = ``goal_tolerance``)

for at most H = ``horizon`` (100) steps; the episode ends at the first step with d_t = 1 (its
reward counted). A task is a goal g ~ U[−``goal_range``, ``goal_range``]² (U[−0.5, 0.5]²).

This is cbfinn/maml_rl's ``maml_examples/point_env_randgoal.py`` as it was trained, i.e. behind
rllab's ``normalize()`` wrapper: the raw env's action space is Box(−0.1, 0.1), and normalize()
maps the policy's [−1, 1] onto it and clips, hence v·clip(a, −1, 1). The reward is the plain L2
distance, as in that code; the paper's text says "negative squared distance", but the published
returns were produced by the code, so we follow the code to be comparable with them.

Two views of the same dynamics (as in :mod:`metalearn_lib.bandits.env`):

* :class:`PointNavigation` — the task family and a batched, functional environment: T tasks
  (goals ``[T, 2]``) × N trajectories each, TensorFlow ops only, no Python loop over tasks or
  trajectories, so whole batches of rollouts run inside ``tf.function``. It never stops: a
  sampler keeps stepping after ``done`` and discards later steps with :func:`episode_mask`.
* :class:`PointNavigationEnv` — one goal behind Gymnasium's ``Env`` API; it passes
  ``gymnasium.utils.env_checker.check_env`` and gives the batched env's rewards bit for bit.

The optimum is known in closed form (:meth:`PointNavigation.optimal_return`): the ceiling of
every learning curve of the chapter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import gymnasium
import numpy as np
import tensorflow as tf

from metalearn_lib.tasks import SeedLike, seed_pair, uniform01
from metalearn_lib.validation import check_int, check_number

__all__ = ["PointNavigation", "PointNavigationEnv", "episode_mask"]


def _goals_array(goals: Any, name: str = "goals") -> np.ndarray:
    """``goals`` (tensor or array-like) as a finite float64 array of shape ``[B, 2]``."""
    try:
        array = np.asarray(goals, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of shape [num_goals, 2], got {type(goals).__name__}") from None
    if array.ndim != 2 or array.shape[1] != 2 or array.shape[0] == 0:
        raise ValueError(f"{name} must be an array of shape [num_goals, 2] with num_goals >= 1, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite")
    return array


@dataclass(frozen=True)
class PointNavigation:
    """The point-navigation task family, as a batched functional environment.

    Shapes: T tasks, N trajectories per task; tensors are float32 (the dtype of the goals).

    * a task is a goal, ``goals[T, 2]`` (:meth:`sample_tasks`);
    * the state is the positions ``[T, N, 2]``, and so is the observation (:meth:`reset`);
    * :meth:`step` moves every trajectory: x ← x + v·clip(a, −1, 1), r = −‖x − g‖₂,
      d = 1[max_i abs(x_i − g_i) < ε] (see the module docstring).

    Attributes:
        horizon: H ≥ 1, the steps of an episode (100 as in MAML).
        max_speed: v > 0, the largest move per step and coordinate (0.1).
        goal_range: R > 0, goals are drawn from U[−R, R]² (0.5).
        goal_tolerance: ε ≥ 0, an episode ends when both coordinates are within ε of the goal
            (0.01); ε = 0 disables the done rule.

    Raises:
        ValueError, TypeError: a field out of range or of the wrong type (the error names it).
    """

    horizon: int = 100
    max_speed: float = 0.1
    goal_range: float = 0.5
    goal_tolerance: float = 0.01

    def __post_init__(self) -> None:
        object.__setattr__(self, "horizon", check_int("horizon", self.horizon))
        object.__setattr__(self, "max_speed", check_number("max_speed", self.max_speed))
        object.__setattr__(self, "goal_range", check_number("goal_range", self.goal_range))
        object.__setattr__(self, "goal_tolerance",
                           check_number("goal_tolerance", self.goal_tolerance, positive=False))

    @property
    def observation_size(self) -> int:
        """2: the agent observes its position (x, y)."""
        return 2

    @property
    def action_size(self) -> int:
        """2: a normalised velocity (a_x, a_y), clipped to [−1, 1] and scaled by ``max_speed``."""
        return 2

    # ----------------------------------------------------------------------------------------
    # the batched environment
    # ----------------------------------------------------------------------------------------
    def sample_tasks(self, num_tasks: int, seed: SeedLike) -> tf.Tensor:
        """Goals g = R·(2u − 1), u ~ U[0, 1)², i.e. g ~ U[−R, R)², float32 ``[num_tasks, 2]``.

        Stateless: the same ``seed`` (an int, or an int tensor of shape [2] inside compiled
        loops; the int s is the pair [s, 0]) gives the same goals in eager and graph mode.

        Raises:
            ValueError, TypeError: ``num_tasks`` < 1 or a malformed seed.
        """
        num_tasks = check_int("num_tasks", num_tasks)
        u = uniform01([num_tasks, 2], seed_pair(seed), tf.float32)
        return self.goal_range * (2.0 * u - 1.0)

    def reset(self, tasks: tf.Tensor, num_trajectories: int) -> tuple[tf.Tensor, tf.Tensor]:
        """Start ``num_trajectories`` episodes of every task at the origin.

        Args:
            tasks: goals ``[T, 2]``.
            num_trajectories: N ≥ 1.

        Returns:
            ``(state, observations)``, both the positions x_0 = 0 of shape ``[T, N, 2]``.

        Raises:
            ValueError, TypeError: ``tasks`` not of shape [T, 2], or ``num_trajectories`` < 1.
        """
        num_trajectories = check_int("num_trajectories", num_trajectories)
        tasks = tf.convert_to_tensor(tasks, dtype_hint=tf.float32)
        if tasks.shape.rank != 2 or tasks.shape[-1] not in (None, 2):
            raise ValueError(f"tasks must be goals of shape [num_tasks, 2], got {tasks.shape}")
        positions = tf.zeros([tf.shape(tasks)[0], num_trajectories, 2], dtype=tasks.dtype)
        return positions, positions

    def step(self, tasks: tf.Tensor, state: tf.Tensor, actions: tf.Tensor, t: int | tf.Tensor,
             seed: SeedLike | None = None) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
        """One step of every trajectory of every task. ::

            x' = x + v·clip(a, −1, 1),   r = −‖x' − g‖₂,   d = 1[|x'_1 − g_1| < ε and |x'_2 − g_2| < ε].

        Only static shape checks (this runs inside compiled loops). The dynamics are
        deterministic and do not depend on time: ``t`` (int or int32 scalar tensor) and ``seed``
        are accepted for the batched-environment protocol and ignored. Steps after ``done``
        are computed like any other (the agent keeps moving); mask them with :func:`episode_mask`.

        Args:
            tasks: goals ``[T, 2]``.
            state: positions ``[T, N, 2]``.
            actions: normalised actions ``[T, N, 2]``, any real values (clipped to [−1, 1]).
            t: the step index, unused.
            seed: unused.

        Returns:
            ``(state, observations, rewards, dones)``: the new positions ``[T, N, 2]`` (twice),
            the rewards ``[T, N]`` and the done flags ``[T, N]`` (1.0 or 0.0), in the dtype of
            ``state``.
        """
        del t, seed
        state = tf.convert_to_tensor(state)
        actions = tf.convert_to_tensor(actions, dtype=state.dtype)
        tasks = tf.convert_to_tensor(tasks, dtype=state.dtype)
        if actions.shape.rank not in (None, 3) or actions.shape[-1] not in (None, 2):
            raise ValueError(f"actions must have shape [num_tasks, num_trajectories, 2], got {actions.shape}")
        if tasks.shape.rank not in (None, 2):
            raise ValueError(f"tasks must be goals of shape [num_tasks, 2], got {tasks.shape}")
        positions = state + self.max_speed * tf.clip_by_value(actions, -1.0, 1.0)
        offsets = positions - tasks[:, tf.newaxis, :]
        rewards = -tf.sqrt(tf.reduce_sum(tf.square(offsets), axis=-1))
        dones = tf.cast(tf.reduce_all(tf.abs(offsets) < self.goal_tolerance, axis=-1), state.dtype)
        return positions, positions, rewards, dones

    # ----------------------------------------------------------------------------------------
    # the optimum, in closed form
    # ----------------------------------------------------------------------------------------
    def optimal_positions(self, goals: Any) -> np.ndarray:
        """The optimal path x*_t = clip(g, −v·t, v·t), t = 1..H, float64 numpy ``[B, H, 2]``.

        See :meth:`optimal_return` for why it is optimal.
        """
        goals = _goals_array(goals)
        reach = self.max_speed * np.arange(1, self.horizon + 1, dtype=np.float64)  # v·t
        return np.clip(goals[:, np.newaxis, :], -reach[:, np.newaxis], reach[:, np.newaxis])

    def optimal_actions(self, goals: Any) -> np.ndarray:
        """The normalised actions a*_t = (x*_{t+1} − x*_t)/v of the optimal path, float32 numpy
        ``[B, H, 2]`` (each in [−1, 1]; x*_0 = 0). Fed to :meth:`step`, they earn
        :meth:`optimal_return` (up to float32 rounding of the positions)."""
        positions = self.optimal_positions(goals)
        previous = np.concatenate([np.zeros_like(positions[:, :1]), positions[:, :-1]], axis=1)
        return np.clip((positions - previous) / self.max_speed, -1.0, 1.0).astype(np.float32)

    def optimal_return(self, goals: Any) -> np.ndarray:
        """The exact optimal undiscounted return of each goal, float64 numpy ``[B]``::

            G*(g) = −Σ_{t=1}^{τ} ‖g − clip(g, −v·t, v·t)‖₂,
            τ = min({t ≥ 1 : max_i |g_i − clip(g_i, −v·t, v·t)| < ε} ∪ {H}).

        Why. Each coordinate moves at most v per step, so the positions reachable after t steps
        form the box [−v·t, v·t]², and the point of that box closest to g — per coordinate and
        hence in L2 — is x*_t = clip(g, −v·t, v·t). The path x*_1, x*_2, … is feasible, since
        abs(x*_{t+1,i} − x*_{t,i}) ≤ v (clip is 1-Lipschitz in its bound). So at every t at once it
        (i) has the least distance ‖x_t − g‖ any policy can have, and (ii) satisfies the done
        test max_i abs(x_{t,i} − g_i) < ε whenever any policy can: it ends the episode at the
        earliest possible step τ. Any other policy ends at some τ' ≥ τ, and as every reward is
        ≤ 0, its return is ≤ −Σ_{t≤τ} ‖x_t − g‖ ≤ −Σ_{t≤τ} ‖x*_t − g‖ = G*(g).

        Args:
            goals: ``[B, 2]`` goals (tensor or array-like).

        Raises:
            ValueError, TypeError: ``goals`` not a finite array of shape [B, 2].
        """
        goals = _goals_array(goals)
        # beyond t = ⌈max_i |g_i| / v⌉ the path sits on the goal (distance 0, done): stop there
        steps = int(min(self.horizon, math.ceil(float(np.max(np.abs(goals))) / self.max_speed) + 1))
        reach = self.max_speed * np.arange(1, steps + 1, dtype=np.float64)[:, np.newaxis]
        offsets = goals[:, np.newaxis, :] - np.clip(goals[:, np.newaxis, :], -reach, reach)  # [B, t, 2]
        distances = np.sqrt(np.sum(offsets**2, axis=-1))
        dones = np.all(np.abs(offsets) < self.goal_tolerance, axis=-1)
        in_episode = np.cumsum(dones, axis=-1) - dones == 0  # no done before t: t ≤ τ
        return 0.0 - np.sum(distances * in_episode, axis=-1)  # 0.0 −: no −0.0

    def expected_optimal_return(self, num_goals: int = 100_000, seed: SeedLike = 0) -> float:
        """E_g[G*(g)], g ~ U[−R, R]²: the mean :meth:`optimal_return` of ``num_goals`` goals drawn
        by :meth:`sample_tasks` (a Monte Carlo estimate). For the default family G* has standard
        deviation ≈ 0.336, so the standard error is ≈ 0.001 at the default 100 000 goals; the
        mean is ≈ −0.506 (−0.5061 on a 2000 × 2000 midpoint grid of the square)."""
        num_goals = check_int("num_goals", num_goals)
        return float(np.mean(self.optimal_return(self.sample_tasks(num_goals, seed))))


def episode_mask(dones: Any, axis: int = -1) -> tf.Tensor:
    """Which steps belong to the episode: m_t = ∏_{s<t} (1 − d_s), i.e. 1.0 up to and including
    the first step with d_t = 1 and 0.0 after it (the batched env keeps stepping after done).

    Args:
        dones: done flags (1.0/0.0), time along ``axis``, e.g. ``[T, N, H]``.
        axis: the time axis.

    Returns:
        A float mask of the shape and dtype of ``dones`` (float32 for non-float input).
    """
    dones = tf.convert_to_tensor(dones)
    if not dones.dtype.is_floating:
        dones = tf.cast(dones, tf.float32)
    ended_before = tf.cumsum(dones, axis=axis, exclusive=True)
    return tf.cast(ended_before < 0.5, dones.dtype)


class PointNavigationEnv(gymnasium.Env):
    """One point-navigation episode as a Gymnasium environment (the dynamics of
    :class:`PointNavigation`, computed in float32 exactly as its batched :meth:`~PointNavigation.step`).

    * observation: the position, ``Box(−inf, inf, (2,), float32)``, (0, 0) after ``reset``;
    * action: a normalised velocity, ``Box(−1, 1, (2,), float32)``; values outside are clipped;
    * reward: −‖x − g‖₂ after the move; ``terminated`` when both coordinates are within
      ``goal_tolerance`` of the goal, ``truncated`` when ``horizon`` steps are done without that.

    ``reset(seed=s)`` draws the goal g ~ U[−R, R]² from Gymnasium's seeded generator, or uses
    ``options={"goal": (gx, gy)}``; ``info`` holds the goal, the step count and the distance.

    Args: as the fields of :class:`PointNavigation`.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, horizon: int = 100, max_speed: float = 0.1, goal_range: float = 0.5,
                 goal_tolerance: float = 0.01) -> None:
        super().__init__()
        self.family = PointNavigation(horizon, max_speed, goal_range, goal_tolerance)
        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float32)
        self.action_space = gymnasium.spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self.goal = np.zeros(2, dtype=np.float32)
        self.position = np.zeros(2, dtype=np.float32)
        self.t = 0
        self._over = True

    def _info(self) -> dict[str, Any]:
        distance = float(np.sqrt(np.sum(np.square(self.position - self.goal))))
        return {"goal": self.goal.copy(), "t": self.t, "distance": distance}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode at the origin with a new goal (or ``options["goal"]``)."""
        super().reset(seed=seed)
        if options is not None and "goal" in options:
            goal = np.asarray(options["goal"], dtype=np.float64)
            if goal.shape != (2,) or not np.all(np.isfinite(goal)):
                raise ValueError(f"options['goal'] must be 2 finite numbers (gx, gy), got {options['goal']!r}")
        else:
            goal = self.np_random.uniform(-self.family.goal_range, self.family.goal_range, size=2)
        self.goal = goal.astype(np.float32)
        self.position = np.zeros(2, dtype=np.float32)
        self.t = 0
        self._over = False
        return self.position.copy(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Move by v·clip(action, −1, 1); reward −‖x − g‖₂."""
        if self._over:
            raise RuntimeError("the episode is over: call reset() first")
        action = np.asarray(action, dtype=np.float32)
        if action.shape != (2,) or not np.all(np.isfinite(action)):
            raise ValueError(f"action must be 2 finite numbers, got {action!r}")
        family = self.family
        velocity = np.float32(family.max_speed) * np.clip(action, np.float32(-1.0), np.float32(1.0))
        self.position = (self.position + velocity).astype(np.float32)
        offsets = self.position - self.goal
        reward = -float(np.sqrt(np.sum(np.square(offsets))))
        self.t += 1
        terminated = bool(np.all(np.abs(offsets) < np.float32(family.goal_tolerance)))
        truncated = not terminated and self.t >= family.horizon
        self._over = terminated or truncated
        return self.position.copy(), reward, terminated, truncated, self._info()
