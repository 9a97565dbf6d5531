"""A generic evaluation harness: play trials of many tasks, report the mean return with a 95 % CI.

For any environment of the batched protocol (:class:`~metalearn_lib.rl.environments.BatchedEpisodicEnv`)
and the recurrent agent: :func:`evaluate_agent` plays one trial of each task as one compiled
batch and returns a :class:`TrialEvaluation` — the mean return per trial ± 1.96·s/√B, the mean
reward at every step with its CI, and the full trajectories. Chapter 5's
:func:`metalearn_lib.bandits.rl2.evaluate_rl2` is a thin wrapper over it; :func:`mean_ci95` is the
one definition of "mean ± 95 % CI" every chapter's evaluation uses.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from metalearn_lib.optim import build_cached
from metalearn_lib.rl.environments import BatchedEpisodicEnv, check_env
from metalearn_lib.rl.networks import ActorCriticParams, agent_input_size, as_actor_critic_params
from metalearn_lib.rl.rollouts import Rollout, play_trial
from metalearn_lib.tasks import SeedLike, seed_pair
from metalearn_lib.validation import check_int

__all__ = ["TrialEvaluation", "evaluate_agent", "infer_done_flag", "mean_ci95"]


def mean_ci95(values: Any, axis: int = 0) -> tuple[Any, Any]:
    """Mean and 95 % CI half-width 1.96·s/√n along ``axis`` (s the sample std, ddof = 1).

    Floats for a 1-D input, arrays otherwise; computed in the values' own floating precision.

    Raises:
        ValueError: fewer than two values along ``axis``.
    """
    values = np.asarray(values)
    if not np.issubdtype(values.dtype, np.floating):
        values = values.astype(np.float64)
    count = values.shape[axis] if values.ndim else 0
    if count < 2:
        raise ValueError(f"values must hold at least 2 entries along axis {axis}, got {count}")
    mean = values.mean(axis=axis)
    ci = 1.96 * values.std(axis=axis, ddof=1) / math.sqrt(count)
    if np.ndim(mean) == 0:
        return float(mean), float(ci)
    return mean, ci


@dataclass(frozen=True)
class TrialEvaluation:
    """What :func:`evaluate_agent` returns (B tasks, T steps a trial).

    Attributes:
        mean_return: mean over tasks of the trial's total reward.
        ci95: 1.96 · std / √B (sample std, ddof = 1).
        returns: ``[B]`` total reward of each trial.
        step_mean: ``[T]`` mean reward at each step of the trial.
        step_ci95: ``[T]`` its 95 % CI half-width.
        tasks: the tasks played (numpy, as ``env.sample_tasks`` gave them).
        rollout: the :class:`~metalearn_lib.rl.rollouts.Rollout` (numpy arrays).
        greedy: whether actions were the policy's arg-max.
    """

    mean_return: float
    ci95: float
    returns: np.ndarray
    step_mean: np.ndarray
    step_ci95: np.ndarray
    tasks: Any
    rollout: Rollout
    greedy: bool


def infer_done_flag(params: ActorCriticParams, env: BatchedEpisodicEnv) -> bool:
    """Whether ``params`` read the previous done flag: from its input size on ``env``.

    Raises:
        ValueError: the network fits ``env`` neither with nor without the flag.
    """
    without = agent_input_size(env.num_actions, env.observation_size)
    if params.input_size not in (without, without + 1) or params.num_actions != env.num_actions:
        raise ValueError(f"params do not fit this environment: the network reads {params.input_size} inputs and "
                         f"has {params.num_actions} actions (expected {without} or {without + 1} inputs, "
                         f"{env.num_actions} actions)")
    return params.input_size == without + 1


def _compiled_trial(env: BatchedEpisodicEnv, greedy: bool, use_done_flag: bool) -> Callable[..., Rollout]:
    @tf.function
    def run(params: ActorCriticParams, tasks: Any, seed: tf.Tensor) -> Rollout:
        return play_trial(params, env, tasks, seed, greedy, use_done_flag)

    return run


def evaluate_agent(
    params: Any,
    env: BatchedEpisodicEnv,
    *,
    num_tasks: int = 1000,
    seed: SeedLike = 1_000_000,
    tasks: Any = None,
    greedy: bool = False,
) -> TrialEvaluation:
    """Play one trial of each of ``num_tasks`` tasks with the agent and report the returns.

    The tasks are ``tasks`` if given, else ``env.sample_tasks(num_tasks, seed)``; with the seed
    pair s = ``seed``, the action at step t is drawn with ``derive_seed(s, 2t + 1)`` (the arg-max
    of π when ``greedy``) and the environment's step uses ``derive_seed(s, 2t + 2)``, as in
    :func:`~metalearn_lib.rl.rollouts.rollout`. Whether the agent reads the done flag is inferred
    from its input size. The whole batch runs in one compiled call (cached per environment).

    Args:
        params: the agent's :class:`~metalearn_lib.rl.networks.ActorCriticParams`.
        env: a :class:`~metalearn_lib.rl.environments.BatchedEpisodicEnv`.
        num_tasks: B ≥ 2 when ``tasks`` is not given.
        seed: stateless seed (an int or an int pair); keep it away from training seeds.
        tasks: play these tasks (leading axis B ≥ 2) instead of sampling.
        greedy: take the most probable action instead of sampling.

    Returns:
        A :class:`TrialEvaluation`.

    Raises:
        ValueError, TypeError: an argument out of range or of the wrong type, or params that do
            not fit ``env``.
    """
    check_env(env)
    params = as_actor_critic_params(params)
    if not isinstance(greedy, bool):
        raise TypeError(f"greedy must be a bool, got {type(greedy).__name__}")
    pair = seed_pair(seed)
    if tasks is None:
        tasks = env.sample_tasks(check_int("num_tasks", num_tasks, 2), pair)
    batch = int(tf.nest.flatten(tasks)[0].shape[0])
    check_int("the number of tasks", batch, 2)
    use_done_flag = infer_done_flag(params, env)
    run = build_cached(_compiled_trial, env, greedy, use_done_flag)
    ro = run(params, tasks, pair)
    ro = Rollout(*(None if t is None else t.numpy() for t in ro))
    mean, ci = mean_ci95(ro.rewards.sum(axis=1))
    step_mean, step_ci = mean_ci95(ro.rewards)
    return TrialEvaluation(mean_return=mean, ci95=ci, returns=ro.rewards.sum(axis=1), step_mean=step_mean,
                           step_ci95=step_ci, tasks=tf.nest.map_structure(lambda t: np.asarray(t), tasks),
                           rollout=ro, greedy=greedy)
