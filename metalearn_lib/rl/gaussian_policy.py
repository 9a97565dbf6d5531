"""A Gaussian MLP policy for continuous actions: π_θ(a | s) = N(a; μ_θ(s), diag σ²), σ = exp(log σ).

The mean μ_θ is an MLP (:func:`metalearn_lib.models.forward`, ReLU hidden layers, linear output);
log σ is a learned vector, one entry per action dimension, that does not depend on the state —
the policy of the MAML paper's locomotion and navigation experiments (two hidden layers of 100
ReLU units, σ = 1 at the start). Its log-density of an action vector a ∈ R^d is ::

    log π_θ(a | s) = −½ Σ_k ((a_k − μ_k(s)) / σ_k)² − Σ_k log σ_k − (d/2) log 2π.

The parameters are a :class:`GaussianPolicyParams` (a ``NamedTuple``: a nest tapes, ``tf.nest``
and checkpoints handle). Every function takes shared parameters (``W1: [in, out]``, ``log_std:
[d]``) or per-task ones with a leading task axis (``W1: [tasks, in, out]``, ``log_std: [tasks,
d]``) — what a MAML inner step produces, one adapted policy per task.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import tensorflow as tf

from metalearn_lib.models import forward, init_mlp, is_batched
from metalearn_lib.tasks import SeedLike, normal01, seed_pair
from metalearn_lib.validation import check_int, check_number

__all__ = [
    "GaussianPolicyParams",
    "as_gaussian_policy",
    "gaussian_kl",
    "gaussian_log_prob",
    "init_gaussian_policy",
    "policy_mean",
    "sample_gaussian_actions",
    "tile_policy",
]


class GaussianPolicyParams(NamedTuple):
    """θ of a Gaussian MLP policy.

    Attributes:
        mean_net: ``[W1, b1, …, WL, bL]`` of the mean network μ_θ (as :func:`metalearn_lib.models.init_mlp`).
        log_std: ``[d]`` log σ (or ``[tasks, d]`` for per-task parameters).
    """

    mean_net: list[tf.Tensor]
    log_std: tf.Tensor


def init_gaussian_policy(
    observation_size: int,
    action_size: int,
    seed: int,
    *,
    hidden_sizes: Sequence[int] = (100, 100),
    init_std: float = 1.0,
    dtype: tf.DType = tf.float32,
) -> GaussianPolicyParams:
    """θ₀: Glorot-uniform weights, zero biases (rllab's and the MAML code's choice), log σ = log ``init_std``.

    Args:
        observation_size: the input width ≥ 1.
        action_size: d ≥ 1.
        seed: int ≥ 0; same seed, same parameters.
        hidden_sizes: widths of the hidden layers (each ≥ 1); the paper's policy is (100, 100).
        init_std: σ at the start, > 0.
        dtype: floating dtype (float64 for gradient checks).

    Raises:
        ValueError, TypeError: a size < 1, a bad seed, ``init_std`` ≤ 0.
    """
    observation_size = check_int("observation_size", observation_size)
    action_size = check_int("action_size", action_size)
    init_std = check_number("init_std", init_std)
    sizes = [observation_size, *(check_int("hidden_sizes[]", h) for h in hidden_sizes), action_size]
    mean_net = init_mlp(sizes, check_int("seed", seed, 0), init="glorot", dtype=dtype)
    return GaussianPolicyParams(mean_net, tf.fill([action_size], tf.constant(math.log(init_std), dtype)))


def tile_policy(params: GaussianPolicyParams, num_tasks: int) -> GaussianPolicyParams:
    """θ_i = θ for i = 1..num_tasks (a leading task axis; the gradient of Σ_i L_i(θ_i) with respect
    to θ is Σ_i ∇L_i, while ∂/∂θ_i gives each task its own gradient)."""
    return tf.nest.map_structure(lambda p: tf.broadcast_to(p, [num_tasks, *p.shape]), params)


def policy_mean(params: GaussianPolicyParams, observations: tf.Tensor) -> tf.Tensor:
    """μ_θ(s) for ``observations [tasks, points, in]`` → ``[tasks, points, d]``.

    Shared parameters apply to every task; per-task parameters (leading task axis) each to its
    own task's points.
    """
    return forward(params.mean_net, observations, activation="relu")


def _log_std_for(params: GaussianPolicyParams, observations: tf.Tensor) -> tf.Tensor:
    """log σ broadcastable against ``[tasks, points, d]``."""
    if is_batched(params.mean_net):
        return params.log_std[:, tf.newaxis, :]
    return params.log_std


def gaussian_log_prob(params: GaussianPolicyParams, observations: tf.Tensor, actions: tf.Tensor) -> tf.Tensor:
    """log π_θ(a | s) of the module docstring: ``[tasks, points, in]``, ``[tasks, points, d]`` → ``[tasks, points]``."""
    mean = policy_mean(params, observations)
    log_std = _log_std_for(params, observations)
    z = (tf.cast(actions, mean.dtype) - mean) * tf.exp(-log_std)
    d = float(mean.shape[-1])
    return -0.5 * tf.reduce_sum(tf.square(z), axis=-1) - tf.reduce_sum(log_std * tf.ones_like(mean), axis=-1) \
        - 0.5 * d * math.log(2.0 * math.pi)


def gaussian_kl(old_mean: tf.Tensor, old_log_std: tf.Tensor, params: GaussianPolicyParams,
                observations: tf.Tensor) -> tf.Tensor:
    """KL(π_old(· | s) ‖ π_θ(· | s)) per point, ``[tasks, points]``, in closed form::

        Σ_k [ log σ_k − log σ_old,k + (σ_old,k² + (μ_old,k − μ_k)²) / (2 σ_k²) − ½ ].

    ``old_mean``: ``[tasks, points, d]``; ``old_log_std``: broadcastable to it.
    """
    mean = policy_mean(params, observations)
    log_std = _log_std_for(params, observations) * tf.ones_like(mean)
    old_log_std = old_log_std * tf.ones_like(mean)
    var = tf.exp(2.0 * log_std)
    kl = log_std - old_log_std + (tf.exp(2.0 * old_log_std) + tf.square(old_mean - mean)) / (2.0 * var) - 0.5
    return tf.reduce_sum(kl, axis=-1)


def sample_gaussian_actions(mean: tf.Tensor, log_std: tf.Tensor, seed: SeedLike) -> tf.Tensor:
    """a = μ + σ ⊙ ε, ε ~ N(0, I) from the stateless seed (Box–Muller on raw Philox bits,
    :func:`metalearn_lib.tasks.normal01`: the same draw in eager, graph and XLA code). ``mean``
    needs a static shape."""
    noise = normal01(mean.shape.as_list(), seed_pair(seed), mean.dtype)
    return mean + tf.exp(log_std) * noise


def as_gaussian_policy(params: Any) -> GaussianPolicyParams:
    """``params`` as a :class:`GaussianPolicyParams` of tensors (a 2-tuple (mean_net, log_std) is accepted).

    Raises:
        ValueError: not a (mean_net, log_std) pair, or a log σ that does not fit the mean network.
    """
    if not isinstance(params, (tuple, list)) or len(params) != 2 or not isinstance(params[0], (list, tuple)):
        raise ValueError("params must be a GaussianPolicyParams(mean_net=[W1, b1, ...], log_std) from "
                         "init_gaussian_policy")
    mean_net = [tf.convert_to_tensor(p) for p in params[0]]
    log_std = tf.convert_to_tensor(params[1], mean_net[0].dtype)
    batched = is_batched(mean_net)
    width = mean_net[-1].shape[-1]
    if log_std.shape.rank != (2 if batched else 1) or log_std.shape[-1] != width:
        raise ValueError(f"log_std must have shape {'[tasks, ' if batched else '['}{width}] to fit the mean "
                         f"network, got {log_std.shape}")
    return GaussianPolicyParams(mean_net, log_std)
