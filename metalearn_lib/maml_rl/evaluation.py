"""Evaluating a policy the paper's way: the return after 0, 1, 2, 3 policy-gradient steps on new goals.

Protocol (Finn et al. 2017, appendix): for each test goal, sample ``num_trajectories`` = 40
trajectories with the current policy, record their mean (undiscounted) return, take one REINFORCE
step on them (the inner step of training, :func:`metalearn_lib.maml_rl.algorithm.adapt_policy`),
and repeat; the step size is α = 0.1 for the first step and 0.05 after (``step_sizes``). The same
protocol applies to every starting policy — MAML's meta-learned θ, a policy pretrained on all
goals, a random initialisation — and the oracle's exact optimal return of each goal
(:meth:`metalearn_lib.maml_rl.navigation.PointNavigation.optimal_return`) is the ceiling.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from metalearn_lib.maml_rl.algorithm import PolicyGradientBatch, adapt_policy, inner_advantages
from metalearn_lib.optim import build_cached
from metalearn_lib.rl.evaluation import mean_ci95
from metalearn_lib.rl.gaussian_policy import GaussianPolicyParams, as_gaussian_policy, tile_policy
from metalearn_lib.rl.policy_gradient import Trajectories, sample_trajectories
from metalearn_lib.rl.sampling import derive_seed
from metalearn_lib.tasks import SeedLike, seed_pair
from metalearn_lib.validation import check_int, check_number

__all__ = ["PAPER_STEP_SIZES", "AdaptationCurve", "adaptation_curve"]

#: α of the first adaptation step and of every later one (the paper's evaluation).
PAPER_STEP_SIZES = (0.1, 0.05)
#: Goals evaluated in one compiled call (bounds memory: 25 goals × 40 trajectories × 100 steps).
GOALS_PER_CALL = 25


@dataclass(frozen=True)
class AdaptationCurve:
    """What :func:`adaptation_curve` returns (G goals, K adaptation steps).

    Attributes:
        returns: ``[K + 1, G]`` mean return over each goal's trajectories after k = 0 … K steps.
        mean: ``[K + 1]`` mean over goals.
        ci95: ``[K + 1]`` 1.96 · std / √G (NaN for one goal).
        goals: ``[G, 2]``.
        step_sizes: α of steps 1 … K.
        trajectories: with ``keep_trajectories``, the K + 1 :class:`Trajectories` (numpy), else ``None``.
    """

    returns: np.ndarray
    mean: np.ndarray
    ci95: np.ndarray
    goals: np.ndarray
    step_sizes: tuple[float, ...]
    trajectories: list[Trajectories] | None = None


def _step_sizes(step_sizes: Sequence[float], num_steps: int) -> tuple[float, ...]:
    if isinstance(step_sizes, (int, float)):
        step_sizes = (step_sizes,)
    sizes = [check_number("step_sizes[]", s) for s in step_sizes]
    if not sizes:
        raise ValueError("step_sizes must hold at least one number > 0")
    return tuple(sizes[min(k, len(sizes) - 1)] for k in range(num_steps))


def _compiled_curve(env: Any, num_trajectories: int, step_sizes: tuple[float, ...], discount: float) -> Any:
    @tf.function
    def run(policy: GaussianPolicyParams, goals: tf.Tensor, seed: tf.Tensor) -> list[Trajectories]:
        current = tile_policy(policy, goals.shape[0])
        batches = []
        for k in range(len(step_sizes) + 1):
            trajectories = sample_trajectories(current, env, goals, num_trajectories, derive_seed(seed, k))
            batches.append(trajectories)
            if k < len(step_sizes):
                batch = PolicyGradientBatch(trajectories.observations, trajectories.actions, trajectories.masks,
                                            inner_advantages(trajectories, discount))
                current = adapt_policy(current, batch, inner_lr=step_sizes[k], first_order=True)
        return batches

    return run


def adaptation_curve(
    policy: Any,
    env: Any,
    goals: Any,
    *,
    num_steps: int = 3,
    step_sizes: Sequence[float] = PAPER_STEP_SIZES,
    num_trajectories: int = 40,
    discount: float = 0.99,
    seed: SeedLike = 1_000_000,
    keep_trajectories: bool = False,
) -> AdaptationCurve:
    """The mean return on each goal after 0 … ``num_steps`` REINFORCE steps from ``policy``.

    Goals run ``GOALS_PER_CALL`` at a time as one batch; chunk c, step k samples with
    ``derive_seed([seed, c], k)`` (so a goal's numbers depend on its chunk, and the same call
    gives the same numbers).

    Args:
        policy: the starting θ (a :class:`~metalearn_lib.rl.gaussian_policy.GaussianPolicyParams`).
        env: the task family (e.g. :class:`~metalearn_lib.maml_rl.navigation.PointNavigation`).
        goals: ``[G, 2]`` tasks, G ≥ 1 (with one goal the CIs are NaN).
        num_steps: K ≥ 0.
        step_sizes: α of step 1, 2, … (the last repeats); the paper's (0.1, 0.05).
        num_trajectories: trajectories per goal and step, ≥ 2.
        discount: γ of the reward-to-go in the steps (the returns reported are undiscounted).
        seed: stateless seed; keep it away from training seeds.
        keep_trajectories: also return every step's trajectories (memory: for a few goals).

    Raises:
        ValueError, TypeError: an argument out of range.
    """
    policy = as_gaussian_policy(policy)
    num_steps = check_int("num_steps", num_steps, 0)
    sizes = _step_sizes(step_sizes, num_steps)
    num_trajectories = check_int("num_trajectories", num_trajectories, 2)
    goals = tf.convert_to_tensor(goals, tf.float32)
    if goals.shape.rank != 2 or goals.shape[0] < 1 or goals.shape[1] != env.observation_size:
        raise ValueError(f"goals must have shape [G >= 1, {env.observation_size}], got {goals.shape}")
    run = build_cached(_compiled_curve, env, num_trajectories, sizes, float(discount))
    pair = seed_pair(seed)
    returns, kept = [], []
    for chunk in range(math.ceil(goals.shape[0] / GOALS_PER_CALL)):
        part = goals[chunk * GOALS_PER_CALL:(chunk + 1) * GOALS_PER_CALL]
        batches = run(policy, part, tf.stack([pair[0], pair[1] + chunk]))
        returns.append(np.stack([tf.reduce_mean(tf.reduce_sum(b.rewards, -1), 1).numpy() for b in batches]))
        if keep_trajectories:
            kept.append([Trajectories(*(t.numpy() for t in b)) for b in batches])
    per_goal = np.concatenate(returns, axis=1)
    if per_goal.shape[1] > 1:
        mean, ci = mean_ci95(per_goal, axis=1)
    else:
        mean, ci = per_goal[:, 0], np.full(num_steps + 1, np.nan)
    trajectories = None
    if keep_trajectories:
        trajectories = [Trajectories(*(np.concatenate([c[k][f] for c in kept]) for f in range(4)))
                        for k in range(num_steps + 1)]
    return AdaptationCurve(per_goal, np.asarray(mean), np.asarray(ci), goals.numpy(), sizes, trajectories)
