"""Returns and advantages of ``[B, T]`` reward sequences (time on axis 1).

**Discounted returns** (:func:`discounted_returns`): G_t = r_t + γ (1 − d_t) G_{t+1}, with d_t = 1
where an episode ends at step t.

**Advantages** (:func:`gae`): generalised advantage estimation (Schulman et al. 2016). With V_T
the bootstrap value, ::

    δ_t = r_t + γ (1 − d_t) V_{t+1} − V_t,
    Â_t = δ_t + γλ (1 − d_t) Â_{t+1},   Â_T = 0,
    R_t = Â_t + V_t                       (the λ-return, the value target).

λ = 1 gives Monte-Carlo advantages G_t − V_t; λ = 0 the one-step TD error δ_t.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

from metalearn_lib.validation import check_number

__all__ = ["check_batch_steps", "check_discount", "discounted_returns", "gae"]


def _time_major_scan(fn: Callable[[tf.Tensor, tuple[tf.Tensor, ...]], tf.Tensor], init: tf.Tensor,
                     elems: tuple[tf.Tensor, ...]) -> tf.Tensor:
    """Reverse scan over axis 1 of ``[B, T]`` tensors, result ``[B, T]``."""
    tm = tuple(tf.transpose(e) for e in elems)
    return tf.transpose(tf.scan(fn, tm, initializer=init, reverse=True))


def check_batch_steps(name: str, x: Any, dtype: tf.DType | None = None) -> tf.Tensor:
    """``x`` as a tensor of shape ``[batch, steps]`` (ValueError naming ``name`` otherwise)."""
    x = tf.convert_to_tensor(x, dtype)
    if x.shape.rank != 2:
        raise ValueError(f"{name} must have shape [batch, steps], got {x.shape}")
    return x


def check_discount(gamma: Any, lam: Any) -> tuple[float, float]:
    """γ and λ as floats, each a number in [0, 1] (ValueError/TypeError naming it otherwise)."""
    gamma = check_number("gamma", gamma, positive=False)
    lam = check_number("lam", lam, positive=False)
    if gamma > 1.0:
        raise ValueError(f"gamma must be a number in [0, 1], got {gamma}")
    if lam > 1.0:
        raise ValueError(f"lam must be a number in [0, 1], got {lam}")
    return gamma, lam


def discounted_returns(
    rewards: tf.Tensor, gamma: float, bootstrap_value: tf.Tensor | float = 0.0, dones: tf.Tensor | None = None
) -> tf.Tensor:
    """G_t = r_t + γ (1 − d_t) G_{t+1}, G_T = ``bootstrap_value``; ``[B, T]`` in, ``[B, T]`` out."""
    rewards = check_batch_steps("rewards", rewards)
    gamma, _ = check_discount(gamma, 0.0)
    dtype = rewards.dtype
    dones = tf.zeros_like(rewards) if dones is None else check_batch_steps("dones", dones, dtype)
    boot = tf.broadcast_to(tf.cast(bootstrap_value, dtype), tf.shape(rewards)[:1])
    return _time_major_scan(lambda g, e: e[0] + gamma * (1.0 - e[1]) * g, boot, (rewards, dones))


def gae(
    rewards: tf.Tensor,
    values: tf.Tensor,
    bootstrap_value: tf.Tensor | float,
    gamma: float,
    lam: float,
    dones: tf.Tensor | None = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Generalised advantage estimation (Schulman, Moritz, Levine, Jordan, Abbeel 2016).

    δ_t = r_t + γ (1 − d_t) V_{t+1} − V_t with V_T = ``bootstrap_value``;
    Â_t = δ_t + γλ (1 − d_t) Â_{t+1} with Â_T = 0, i.e. Â_t = Σ_{l≥0} (γλ)^l δ_{t+l} within an
    episode; the value targets are the λ-returns R_t = Â_t + V_t.

    Args:
        rewards: ``[B, T]`` r_t.
        values: ``[B, T]`` V(s_t) (treated as constants: wrap in ``tf.stop_gradient`` yourself
            if they come from a tape).
        bootstrap_value: V_T, ``[B]`` or a scalar — 0 when the trial ends at T.
        gamma: discount γ in [0, 1].
        lam: λ in [0, 1]; 1 gives G_t − V_t, 0 gives δ_t.
        dones: optional ``[B, T]``, 1 where an episode ends at step t (no bootstrapping across it).

    Returns:
        ``(advantages [B, T], returns [B, T])``.

    Raises:
        ValueError: shapes that are not ``[B, T]`` or differ, γ or λ outside [0, 1].
        TypeError: γ or λ not a number.
    """
    rewards = check_batch_steps("rewards", rewards)
    values = check_batch_steps("values", values, rewards.dtype)
    if not rewards.shape.is_compatible_with(values.shape):
        raise ValueError(f"rewards and values must have the same shape, got {rewards.shape} and {values.shape}")
    gamma, lam = check_discount(gamma, lam)
    dtype = rewards.dtype
    dones = tf.zeros_like(rewards) if dones is None else check_batch_steps("dones", dones, dtype)
    boot = tf.broadcast_to(tf.cast(bootstrap_value, dtype), tf.shape(rewards)[:1])
    next_values = tf.concat([values[:, 1:], boot[:, tf.newaxis]], axis=1)
    not_done = 1.0 - dones
    deltas = rewards + gamma * not_done * next_values - values
    advantages = _time_major_scan(lambda a, e: e[0] + gamma * lam * e[1] * a, tf.zeros_like(boot),
                                  (deltas, not_done))
    return advantages, advantages + values
