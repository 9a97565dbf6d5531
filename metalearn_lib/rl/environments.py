"""The batched-environment protocol every trainer and evaluator of :mod:`metalearn_lib.rl` accepts.

A *task distribution* samples a batch of tasks from a stateless seed, and every task of the batch
steps at once (tensors with a leading batch axis): no Python loop over tasks. Chapter 5's bandit
trials (:class:`metalearn_lib.bandits.rl2.BanditTrials`) follow :class:`BatchedEpisodicEnv`; an
environment that also knows each action's mean reward follows :class:`ExpectedRewardsEnv`, which
:class:`metalearn_lib.rl.a2c.A2CConfig`'s ``expected_rewards`` needs.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import tensorflow as tf

from metalearn_lib.tasks import SeedLike
from metalearn_lib.validation import check_int

__all__ = ["BatchedEpisodicEnv", "ExpectedRewardsEnv", "StatefulEpisodicEnv", "check_env", "env_transition"]


@runtime_checkable
class BatchedEpisodicEnv(Protocol):
    """A distribution of tasks whose trials run as one batch — what :func:`~metalearn_lib.rl.train_a2c` accepts.

    A *trial* is ``horizon`` steps of one task (possibly several episodes: ``step`` reports
    ``done`` where one ends and then returns the next episode's first observation). All tensors
    have a leading batch axis B.

    Attributes:
        num_actions: A, the number of discrete actions.
        observation_size: O, the length of an observation vector (0 for bandits, which have no
            state).
        horizon: T, the steps of one trial.
    """

    num_actions: int
    observation_size: int
    horizon: int

    def sample_tasks(self, num_tasks: int, seed: SeedLike) -> Any:
        """``num_tasks`` tasks (any nest of tensors with leading axis ``num_tasks``), stateless."""
        ...

    def initial_observations(self, tasks: Any) -> tf.Tensor:
        """The first observation of each trial, ``[B, observation_size]`` (float)."""
        ...

    def step(self, tasks: Any, actions: tf.Tensor, t: int | tf.Tensor, seed: tf.Tensor
             ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """Take ``actions [B]`` (int32) at step ``t`` in [0, horizon) — a Python int, or an int32
        scalar tensor when the trial runs as a ``tf.range`` loop (long horizons).

        ``seed`` is a stateless seed pair for this step's randomness. Returns ``(rewards [B],
        observations [B, observation_size], done [B])`` — rewards and observations float, done
        1.0 where an episode ended with this step (0.0 otherwise), all in float32.
        """
        ...


@runtime_checkable
class ExpectedRewardsEnv(BatchedEpisodicEnv, Protocol):
    """A :class:`BatchedEpisodicEnv` that also gives the mean reward of the actions taken.

    Needed by ``A2CConfig(expected_rewards=True)``: the trainer, which knows the task it drew,
    computes returns from E[r_t | task, a_t] instead of the sampled r_t (same objective, less
    noise). Environments without it still follow :class:`BatchedEpisodicEnv`.
    """

    def expected_rewards(self, tasks: Any, actions: tf.Tensor) -> tf.Tensor:
        """E[r_t | task, a_t] for ``actions [B, T]`` (int32): ``[B, T]`` float."""
        ...


@runtime_checkable
class StatefulEpisodicEnv(Protocol):
    """A task distribution whose steps depend on a state the environment carries (an MDP's current state).

    The same trials as :class:`BatchedEpisodicEnv` — ``num_actions``, ``observation_size``,
    ``horizon``, ``sample_tasks`` and ``initial_observations`` mean the same — but instead of a
    stateless ``step`` it has ``initial_state`` and ``transition``, which thread a state (any nest
    of tensors with leading axis B) through the trial. Chapter 7's MDPs follow it; the rollouts of
    :mod:`metalearn_lib.rl` accept either protocol (:func:`env_transition`).
    """

    num_actions: int
    observation_size: int
    horizon: int

    def sample_tasks(self, num_tasks: int, seed: SeedLike) -> Any:
        """``num_tasks`` tasks (any nest of tensors with leading axis ``num_tasks``), stateless."""
        ...

    def initial_observations(self, tasks: Any) -> tf.Tensor:
        """The first observation of each trial, ``[B, observation_size]`` (float)."""
        ...

    def initial_state(self, tasks: Any) -> Any:
        """The state at the start of each trial (a nest of tensors with leading axis B)."""
        ...

    def transition(self, tasks: Any, state: Any, actions: tf.Tensor, t: int | tf.Tensor, seed: tf.Tensor
                   ) -> tuple[Any, tf.Tensor, tf.Tensor, tf.Tensor]:
        """Take ``actions [B]`` (int32) in ``state`` at step ``t``: ``(next state, rewards [B],
        observations [B, observation_size], done [B])``, as :meth:`BatchedEpisodicEnv.step` (where an
        episode ends, the next state and observation are the next episode's first)."""
        ...

    # Optional, for ``A2CConfig(expected_rewards=True)``:
    # ``mean_rewards(tasks, state, actions) -> [B]``, E[r | task, state, action] of the step about
    # to be taken (the trainer's Rao–Blackwellised returns; the agent still sees sampled rewards).


def env_transition(env: Any, tasks: Any) -> tuple[Any, Any]:
    """``(initial state, transition)`` of either protocol: a :class:`StatefulEpisodicEnv`'s own, or
    for a stateless :class:`BatchedEpisodicEnv` the empty state ``()`` and its ``step`` (the same
    operations, so stateless trials are unchanged)."""
    if callable(getattr(env, "transition", None)):
        return env.initial_state(tasks), env.transition

    def stateless(tasks: Any, state: Any, actions: tf.Tensor, t: Any, seed: tf.Tensor) -> tuple[Any, ...]:
        return (state, *env.step(tasks, actions, t, seed))

    return (), stateless


def check_env(env: Any) -> None:
    """Raise a TypeError naming what ``env`` lacks of :class:`BatchedEpisodicEnv` (or of
    :class:`StatefulEpisodicEnv`, when it has a ``transition``), or a
    ValueError for a size out of range (``num_actions``, ``horizon`` ≥ 1, ``observation_size`` ≥ 0)."""
    attributes = ("num_actions", "observation_size", "horizon")
    stateful = callable(getattr(env, "transition", None))
    methods = ("sample_tasks", "initial_observations", *(("initial_state",) if stateful else ("step",)))
    missing = [n for n in attributes if not hasattr(env, n)]
    missing += [n for n in methods if not callable(getattr(env, n, None))]
    if missing:
        raise TypeError(f"env must follow BatchedEpisodicEnv (num_actions, observation_size, horizon, sample_tasks(), "
                        f"initial_observations(), step()) or StatefulEpisodicEnv (initial_state() and transition() "
                        f"instead of step()); {type(env).__name__} lacks {', '.join(missing)}")
    for name in attributes:
        check_int(f"env.{name}", getattr(env, name), 0 if name == "observation_size" else 1)
