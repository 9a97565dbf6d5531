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

__all__ = ["BatchedEpisodicEnv", "ExpectedRewardsEnv", "check_env"]


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


def check_env(env: Any) -> None:
    """Raise a TypeError naming what ``env`` lacks of :class:`BatchedEpisodicEnv`, or a
    ValueError for a size out of range (``num_actions``, ``horizon`` ≥ 1, ``observation_size`` ≥ 0)."""
    attributes = ("num_actions", "observation_size", "horizon")
    methods = ("sample_tasks", "initial_observations", "step")
    missing = [n for n in attributes if not hasattr(env, n)]
    missing += [n for n in methods if not callable(getattr(env, n, None))]
    if missing:
        raise TypeError(f"env must follow BatchedEpisodicEnv (num_actions, observation_size, horizon, sample_tasks(), "
                        f"initial_observations(), step()); {type(env).__name__} lacks {', '.join(missing)}")
    for name in attributes:
        check_int(f"env.{name}", getattr(env, name), 0 if name == "observation_size" else 1)
