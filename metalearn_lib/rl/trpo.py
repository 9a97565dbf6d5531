"""Trust-region policy optimisation's step (Schulman et al. 2015), for any parameter nest.

Given a surrogate objective L(θ) to *maximise* and a mean KL divergence D(θ) between the policy
that collected the data (θ_old) and π_θ, TRPO solves ::

    maximise L(θ)   subject to   D(θ) ≤ δ

approximately: with g = ∇L(θ_old) and F = ∇²D(θ_old) (the Fisher information of the policy,
reached through Hessian-vector products only), the natural direction x ≈ F⁻¹g comes from
:func:`conjugate_gradient`, the step is scaled to the constraint's edge, β = √(2δ / xᵀFx), and a
backtracking line search θ_old + ρᵏβx (k = 0, 1, …) takes the first candidate that improves L and
keeps D ≤ δ (:func:`trpo_step`); if none does, θ stays θ_old.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import tensorflow as tf

__all__ = ["TRPOStats", "conjugate_gradient", "flatten", "hessian_vector_product", "trpo_step", "unflatten"]


class TRPOStats(NamedTuple):
    """What one :func:`trpo_step` did (scalars).

    Attributes:
        surrogate_before: L(θ_old).
        surrogate_after: L at the accepted parameters (= before if no candidate was accepted).
        kl: D at the accepted parameters.
        backtracks: k of the accepted candidate (``max_backtracks`` when none was).
        accepted: 1.0 if a candidate was accepted, else 0.0.
        gradient_norm: ‖g‖.
    """

    surrogate_before: tf.Tensor
    surrogate_after: tf.Tensor
    kl: tf.Tensor
    backtracks: tf.Tensor
    accepted: tf.Tensor
    gradient_norm: tf.Tensor


def flatten(nest: Any) -> tf.Tensor:
    """All tensors of a nest as one vector (in ``tf.nest.flatten`` order)."""
    return tf.concat([tf.reshape(t, [-1]) for t in tf.nest.flatten(nest)], axis=0)


def unflatten(vector: tf.Tensor, like: Any) -> Any:
    """The inverse of :func:`flatten`: a nest shaped like ``like`` from a vector."""
    leaves = tf.nest.flatten(like)
    sizes = [int(t.shape.num_elements()) for t in leaves]
    parts = tf.split(vector, sizes)
    return tf.nest.pack_sequence_as(like, [tf.reshape(p, t.shape) for p, t in zip(parts, leaves, strict=True)])


def hessian_vector_product(function: Callable[[Any], tf.Tensor], params: Any) -> Callable[[tf.Tensor], tf.Tensor]:
    """v ↦ ∇²f(θ) v by double back-propagation: ∇_θ (∇_θ f(θ) · v), v and the result flat."""

    def product(vector: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as outer:
            outer.watch(params)
            with tf.GradientTape() as inner:
                inner.watch(params)
                value = function(params)
            grads = flatten(inner.gradient(value, params, unconnected_gradients=tf.UnconnectedGradients.ZERO))
            directional = tf.reduce_sum(grads * tf.stop_gradient(vector))
        return flatten(outer.gradient(directional, params, unconnected_gradients=tf.UnconnectedGradients.ZERO))

    return product


def conjugate_gradient(product: Callable[[tf.Tensor], tf.Tensor], b: tf.Tensor, num_iterations: int = 10,
                       residual_tol: float = 1e-10) -> tf.Tensor:
    """x ≈ A⁻¹b for a symmetric positive-definite A known only through v ↦ Av (Hestenes–Stiefel).

    r₀ = p₀ = b, x₀ = 0; α_k = r_kᵀr_k / p_kᵀAp_k, x ← x + α_k p_k, r ← r − α_k Ap_k,
    p ← r + (r_newᵀr_new / r_kᵀr_k) p_k; at most ``num_iterations`` steps (exact after dim A).
    """
    x = tf.zeros_like(b)
    r = b
    p = b
    rr = tf.reduce_sum(r * r)
    for _ in tf.range(num_iterations):
        if rr < residual_tol:
            break
        ap = product(p)
        alpha = rr / (tf.reduce_sum(p * ap) + 1e-12)
        x = x + alpha * p
        r = r - alpha * ap
        rr_new = tf.reduce_sum(r * r)
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


def trpo_step(
    params: Any,
    surrogate: Callable[[Any], tf.Tensor],
    kl: Callable[[Any], tf.Tensor],
    *,
    max_kl: float = 0.01,
    cg_iterations: int = 10,
    cg_damping: float = 1e-5,
    backtrack_ratio: float = 0.8,
    max_backtracks: int = 15,
    hvp: Callable[[tf.Tensor], tf.Tensor] | None = None,
    gradient: tf.Tensor | None = None,
) -> tuple[Any, TRPOStats]:
    """One TRPO update of the module docstring; returns ``(new_params, stats)``.

    Args:
        params: θ_old, any nest of float tensors.
        surrogate: θ ↦ L(θ), a scalar to maximise.
        kl: θ ↦ D(θ), the mean KL from the data-collecting policy (0 with zero gradient at θ_old).
        max_kl: δ > 0.
        cg_iterations: conjugate-gradient steps.
        cg_damping: λ ≥ 0; CG solves (F + λI)x = g (rllab's 1e-5).
        backtrack_ratio: ρ in (0, 1).
        max_backtracks: candidates tried, ≥ 1.
        hvp: v ↦ Fv on flat vectors; default :func:`hessian_vector_product` of ``kl``.
        gradient: g as a flat vector, if the caller already has it (saves one backward pass).

    Use inside a ``tf.function`` (the line search is a ``tf.range`` loop).
    """
    if gradient is None:
        with tf.GradientTape() as tape:
            tape.watch(params)
            before = surrogate(params)
        gradient = flatten(tape.gradient(before, params, unconnected_gradients=tf.UnconnectedGradients.ZERO))
    else:
        before = surrogate(params)
    before = tf.stop_gradient(before)
    fisher = hvp if hvp is not None else hessian_vector_product(kl, params)

    def damped(vector: tf.Tensor) -> tf.Tensor:
        return fisher(vector) + cg_damping * vector

    direction = conjugate_gradient(damped, gradient, cg_iterations)
    shs = tf.reduce_sum(direction * damped(direction))
    scale = tf.sqrt(2.0 * max_kl / (shs + 1e-12))
    full_step = scale * direction
    flat_old = flatten(params)
    best = flat_old
    after, kl_after = before, tf.zeros_like(before)
    backtracks = tf.constant(max_backtracks, tf.int32)
    accepted = tf.constant(0.0, before.dtype)
    for k in tf.range(max_backtracks):
        candidate = flat_old + tf.pow(tf.cast(backtrack_ratio, before.dtype), tf.cast(k, before.dtype)) * full_step
        candidate_params = unflatten(candidate, params)
        value = surrogate(candidate_params)
        divergence = kl(candidate_params)
        if value > before and divergence <= max_kl and tf.math.is_finite(value):
            best, after, kl_after, backtracks, accepted = candidate, value, divergence, k, tf.ones_like(accepted)
            break
    stats = TRPOStats(before, after, kl_after, backtracks, accepted, tf.norm(gradient))
    return unflatten(best, params), stats
