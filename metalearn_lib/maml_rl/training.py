"""Meta-training MAML-RL (and its "pretrained" baseline) with TRPO, one compiled meta-iteration at a time.

Meta-iteration i (every random number from the stateless seed s_i = [seed, i]):

1. draw ``meta_batch_size`` goals (``derive_seed(s_i, 0)``);
2. sample N trajectories of each with π_θ (``derive_seed(s_i, 1)``) and adapt: θ'_j = θ + α∇Ĵ_j(θ);
3. sample N trajectories of each adapted policy π_{θ'_j} (``derive_seed(s_i, 2)``);
4. one TRPO step on the meta-surrogate (:func:`metalearn_lib.maml_rl.algorithm.meta_surrogate`)
   with the KL of the adapted policies, both functions of θ through the inner step.

With ``num_inner_steps=0`` step 2 adapts nothing and TRPO improves π_θ's own return on all goals:
the "pretrained on all tasks" baseline of the paper. That ``one_iteration`` is all this module
writes of the loop; :func:`metalearn_lib.optim.compile_training_loop` compiles a chunk of them and
:func:`metalearn_lib.optim.run_in_chunks` drives the run. TRPO keeps no optimiser state, so a run
resumed from its parameters and iteration count continues exactly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from metalearn_lib.maml_rl.algorithm import (
    MAMLRLConfig,
    PolicyGradientBatch,
    adapt_policy,
    gaussian_policy_kl,
    inner_advantages,
    log_probs,
    meta_fisher_product,
    meta_surrogate,
    outer_advantages,
)
from metalearn_lib.optim import build_cached, compile_training_loop, run_in_chunks
from metalearn_lib.rl.gaussian_policy import (
    GaussianPolicyParams,
    as_gaussian_policy,
    gaussian_log_prob,
    init_gaussian_policy,
    tile_policy,
)
from metalearn_lib.rl.policy_gradient import Trajectories, reward_to_go, sample_trajectories
from metalearn_lib.rl.sampling import derive_seed
from metalearn_lib.rl.trpo import flatten, trpo_step, unflatten
from metalearn_lib.validation import check_int

__all__ = ["METRICS", "TrainMAMLRLResult", "load_policy", "save_policy", "train_maml_rl"]

#: The per-iteration metrics :func:`train_maml_rl` records, in column order.
METRICS = ("pre_return", "post_return", "surrogate_gain", "kl", "backtracks", "accepted")


def _batch(trajectories: Trajectories, advantages: tf.Tensor) -> PolicyGradientBatch:
    return PolicyGradientBatch(trajectories.observations, trajectories.actions, trajectories.masks, advantages)


def _first_trajectories(batch: PolicyGradientBatch, count: int) -> PolicyGradientBatch:
    return PolicyGradientBatch(*(t[:, :count] for t in batch))


def _mean_return(trajectories: Trajectories) -> tf.Tensor:
    """The mean undiscounted return Σ_t r_t over all trajectories of all tasks."""
    return tf.reduce_mean(tf.reduce_sum(trajectories.rewards, axis=-1))


def _leave_one_out_weights(trajectories: Trajectories, discount: float) -> tf.Tensor:
    """w_j = R̄'_j − mean_{k≠j} R̄'_k, R̄'_j the mean discounted return of task j's trajectories."""
    returns = tf.reduce_mean(reward_to_go(trajectories.rewards, discount)[..., 0], axis=1)  # [T]
    count = tf.cast(tf.shape(returns)[0], returns.dtype)
    others = (tf.reduce_sum(returns) - returns) / (count - 1.0)
    return returns - others


def _make_chunk(env: Any, config: MAMLRLConfig) -> Callable[..., Any]:
    num_tasks, num_trajectories = config.meta_batch_size, config.num_trajectories
    trpo = dict(max_kl=config.max_kl, cg_iterations=config.cg_iterations, cg_damping=config.cg_damping,
                backtrack_ratio=config.backtrack_ratio, max_backtracks=config.max_backtracks)

    def one_iteration(policy: GaussianPolicyParams, iteration: tf.Tensor) -> tuple[GaussianPolicyParams, tf.Tensor]:
        seed = tf.stack([tf.constant(config.seed, tf.int64), iteration])
        tasks = env.sample_tasks(num_tasks, derive_seed(seed, 0))
        inner_traj = sample_trajectories(policy, env, tasks, num_trajectories, derive_seed(seed, 1))
        old_tiled = tile_policy(policy, num_tasks)
        hvp = None
        if config.num_inner_steps == 0:  # pretraining: TRPO on the policy's own return over all goals
            batch = _batch(inner_traj, outer_advantages(inner_traj, config.discount))
            old_log_probs = log_probs(gaussian_log_prob, old_tiled, batch)
            post_return = _mean_return(inner_traj)

            def surrogate(params: GaussianPolicyParams) -> tf.Tensor:
                ratio = tf.exp(log_probs(gaussian_log_prob, tile_policy(params, num_tasks), batch) - old_log_probs)
                return tf.reduce_mean(tf.reduce_sum(ratio * batch.advantages * batch.masks, axis=[1, 2])
                                      / float(num_trajectories))

            def kl(params: GaussianPolicyParams) -> tf.Tensor:
                return gaussian_policy_kl(old_tiled, tile_policy(params, num_tasks), batch)
        else:
            inner = _batch(inner_traj, inner_advantages(inner_traj, config.discount))
            adapted_old = adapt_policy(old_tiled, inner, inner_lr=config.inner_lr)
            outer_traj = sample_trajectories(adapted_old, env, tasks, num_trajectories, derive_seed(seed, 2))
            outer = _batch(outer_traj, outer_advantages(outer_traj, config.discount))
            outer_old = log_probs(gaussian_log_prob, adapted_old, outer)
            inner_old = log_probs(gaussian_log_prob, old_tiled, inner)
            weights = _leave_one_out_weights(outer_traj, config.discount) if config.sampling_term else None
            post_return = _mean_return(outer_traj)

            def surrogate(params: GaussianPolicyParams) -> tf.Tensor:
                value, _ = meta_surrogate(tile_policy(params, num_tasks), inner, outer, outer_old,
                                          inner_lr=config.inner_lr, sampling_weights=weights,
                                          inner_old_log_probs=inner_old, first_order=config.first_order,
                                          estimator=config.inner_estimator)
                return tf.reduce_mean(value)

            def kl(params: GaussianPolicyParams) -> tf.Tensor:
                adapted = adapt_policy(tile_policy(params, num_tasks), inner, inner_lr=config.inner_lr,
                                       first_order=config.first_order, estimator=config.inner_estimator)
                return gaussian_policy_kl(adapted_old, adapted, outer)

            keep = config.fisher_trajectories or num_trajectories
            fisher_inner, fisher_outer = _first_trajectories(inner, keep), _first_trajectories(outer, keep)

            def hvp(vector: tf.Tensor) -> tf.Tensor:  # through the inner step, no third derivatives
                return flatten(meta_fisher_product(policy, adapted_old, fisher_inner, fisher_outer,
                                                   unflatten(vector, policy), inner_lr=config.inner_lr,
                                                   first_order=config.first_order,
                                                   estimator=config.inner_estimator))

        new_policy, stats = trpo_step(policy, surrogate, kl, hvp=hvp, **trpo)
        dtype = stats.kl.dtype
        metrics = tf.stack([_mean_return(inner_traj), post_return, stats.surrogate_after - stats.surrogate_before,
                            stats.kl, tf.cast(stats.backtracks, dtype), stats.accepted])
        return new_policy, metrics

    return compile_training_loop(one_iteration, jit_compile=config.jit_compile, metrics_dtype=tf.float32)


@dataclass(frozen=True)
class TrainMAMLRLResult:
    """What :func:`train_maml_rl` returns.

    Attributes:
        policy: the meta-trained θ (shared, no task axis).
        metrics: ``[num_iterations, len(METRICS)]`` per meta-iteration (see :data:`METRICS`):
            the mean return before and after adaptation on the training batch, the surrogate's
            gain, the KL of the accepted step, the line search's backtracks, whether a step was
            accepted.
        iteration: meta-iterations done so far (resumptions included).
        wall_s: seconds spent (tracing and compiling included).
        iterations_per_s: ``num_iterations / wall_s``.
        config: the :class:`~metalearn_lib.maml_rl.algorithm.MAMLRLConfig`.
    """

    policy: GaussianPolicyParams
    metrics: np.ndarray
    iteration: int
    wall_s: float
    iterations_per_s: float
    config: MAMLRLConfig

    def metric(self, name: str) -> np.ndarray:
        """One column of :attr:`metrics` by name."""
        return self.metrics[:, METRICS.index(name)]


def train_maml_rl(
    env: Any,
    config: MAMLRLConfig | None = None,
    *,
    num_iterations: int,
    resume: TrainMAMLRLResult | None = None,
    iterations_per_call: int = 10,
    progress: bool | None = None,
) -> TrainMAMLRLResult:
    """Meta-train a Gaussian MLP policy on ``env``'s tasks (see the module docstring).

    Args:
        env: a batched functional control environment (``sample_tasks``, ``reset``, ``step``,
            ``observation_size``, ``action_size``, ``horizon``), e.g.
            :class:`~metalearn_lib.maml_rl.navigation.PointNavigation`.
        config: hyperparameters (ignored when resuming); default :class:`MAMLRLConfig`.
        num_iterations: meta-iterations to run now, ≥ 1.
        resume: continue this run (its policy, config and iteration count).
        iterations_per_call: meta-iterations per compiled call, ≥ 1.
        progress: a ``tqdm.auto`` bar (``None``: only for runs longer than a few seconds).

    Returns:
        A :class:`TrainMAMLRLResult`.
    """
    num_iterations = check_int("num_iterations", num_iterations)
    if resume is not None:
        if not isinstance(resume, TrainMAMLRLResult):
            raise TypeError(f"resume must be a TrainMAMLRLResult, got {type(resume).__name__}")
        config, policy, start = resume.config, as_gaussian_policy(resume.policy), resume.iteration
    else:
        config = MAMLRLConfig() if config is None else config
        if not isinstance(config, MAMLRLConfig):
            raise TypeError(f"config must be a MAMLRLConfig, got {type(config).__name__}")
        policy = init_gaussian_policy(env.observation_size, env.action_size, config.seed,
                                      hidden_sizes=config.hidden_sizes, init_std=config.init_std)
        start = 0
    run_chunk = build_cached(_make_chunk, env, config)
    label = "MAML-RL" if config.num_inner_steps else "pretraining"
    policy, metrics, wall_s = run_in_chunks(
        run_chunk, policy, num_iterations=num_iterations, start=start, iterations_per_call=iterations_per_call,
        progress=progress, desc=label,
        postfix=lambda m: {"after": f"{float(np.mean(m[:, 1])):.2f}", "before": f"{float(np.mean(m[:, 0])):.2f}"})
    if resume is not None:
        metrics = np.concatenate([resume.metrics, metrics])
    return TrainMAMLRLResult(policy, metrics, start + num_iterations, wall_s, num_iterations / wall_s, config)


def save_policy(path: str | os.PathLike[str], result: TrainMAMLRLResult, **metadata: Any) -> None:
    """Write the policy (``mean_net_0 …``, ``log_std``), its config, iteration count and ``metadata``
    (JSON-ready) to one compressed ``.npz``."""
    arrays = {f"mean_net_{i}": np.asarray(p) for i, p in enumerate(result.policy.mean_net)}
    arrays["log_std"] = np.asarray(result.policy.log_std)
    meta = {"config": result.config.to_dict(), "iteration": result.iteration, "extra": metadata}
    arrays["meta"] = np.asarray(json.dumps(meta, sort_keys=True))
    directory = os.path.dirname(os.fspath(path))
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(os.fspath(path), "wb") as f:
        np.savez_compressed(f, **arrays)


def load_policy(path: str | os.PathLike[str]) -> tuple[GaussianPolicyParams, MAMLRLConfig, dict[str, Any]]:
    """``(policy, config, meta)`` from a file of :func:`save_policy` (``meta`` holds ``iteration`` and ``extra``).

    Raises:
        ValueError: the file is not such a policy.
    """
    with np.load(os.fspath(path), allow_pickle=False) as data:
        if "meta" not in data.files or "log_std" not in data.files:
            raise ValueError(f"{os.fspath(path)} is not a policy written by save_policy")
        meta = json.loads(str(data["meta"]))
        count = len([k for k in data.files if k.startswith("mean_net_")])
        policy = GaussianPolicyParams([tf.constant(data[f"mean_net_{i}"]) for i in range(count)],
                                      tf.constant(data["log_std"]))
    fields = dict(meta["config"])
    fields["hidden_sizes"] = tuple(fields["hidden_sizes"])
    return policy, MAMLRLConfig(**fields), meta
