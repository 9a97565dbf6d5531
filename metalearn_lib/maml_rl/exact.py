"""A task small enough to enumerate, where the MAML-RL meta-gradient is known exactly.

A two-step chain: state 0 at t = 0; action a₀ ∈ {0, 1} leads to state 1 + a₀ at t = 1, where a
second action a₁ ends the episode; rewards r₀(a₀) and r₁(a₀, a₁). Four trajectories in all. The
policy is tabular, π_θ(a | s) = softmax(θ_s)_a with θ ∈ R^{3×2}.

With N = 2 inner trajectories there are 16 possible inner batches and, with one outer
trajectory, 4 outer ones, so both the meta-objective ::

    J(θ) = Σ_{τ₁, τ₂} P_θ(τ₁) P_θ(τ₂) Σ_{τ'} P_{θ'(θ; τ₁, τ₂)}(τ') R(τ')

and the *expectation* of any gradient estimator, Σ_{τ₁, τ₂, τ'} P(τ₁, τ₂, τ') ∇L(θ; τ₁, τ₂, τ'),
are finite sums. :func:`exact_meta_objective`, finite-differenced (:func:`finite_difference_gradient`),
is the ground truth that :func:`expected_meta_gradient` is held against — with the exact
sampling term, with DiCE's inner objective, and with the naive inner loss.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from metalearn_lib.maml_rl.algorithm import PolicyGradientBatch, adapt_policy, log_probs, meta_surrogate
from metalearn_lib.rl.policy_gradient import normalize_advantages, reward_to_go

__all__ = [
    "FIRST_REWARD",
    "SECOND_REWARD",
    "chain_batch",
    "exact_meta_objective",
    "expected_meta_gradient",
    "finite_difference_gradient",
    "tabular_log_prob",
]

#: r₀(a₀).
FIRST_REWARD = np.array([0.0, 0.3])
#: r₁(a₀, a₁).
SECOND_REWARD = np.array([[1.0, 0.0], [0.0, 0.5]])
NUM_TRAJECTORIES = 4


def _trajectory(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Trajectory k = 2a₀ + a₁: one-hot observations [2, 3], actions [2], rewards [2]."""
    a0, a1 = divmod(k, 2)
    return np.eye(3)[[0, 1 + a0]], np.array([a0, a1]), np.array([FIRST_REWARD[a0], SECOND_REWARD[a0, a1]])


def tabular_log_prob(params: tf.Tensor, observations: tf.Tensor, actions: tf.Tensor) -> tf.Tensor:
    """log softmax(s θ)[a] for per-task logits θ [T, 3, 2], one-hot s [T, M, 3], actions [T, M]."""
    logits = tf.matmul(tf.cast(observations, params.dtype), params)
    return tf.gather(tf.nn.log_softmax(logits, axis=-1), tf.cast(actions, tf.int32), batch_dims=2)


def inner_chain_advantages(rewards: tf.Tensor, masks: tf.Tensor) -> tf.Tensor:
    """The inner step's Â on the chain: reward-to-go (γ = 1), standardised per task."""
    return normalize_advantages(reward_to_go(rewards, 1.0), masks)


def chain_batch(rows: list[tuple[int, ...]],
                advantages_fn: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]) -> tuple[PolicyGradientBatch, tf.Tensor]:
    """A batch whose task i holds the trajectories ``rows[i]``; ``(batch, rewards [T, N, 2])``."""
    trajectories = [[_trajectory(k) for k in row] for row in rows]
    obs = tf.constant([[t[0] for t in row] for row in trajectories], tf.float64)
    actions = tf.constant([[t[1] for t in row] for row in trajectories], tf.int32)
    rewards = tf.constant([[t[2] for t in row] for row in trajectories], tf.float64)
    masks = tf.ones_like(rewards)
    return PolicyGradientBatch(obs, actions, masks, advantages_fn(rewards, masks)), rewards


def _log_prob_of_batch(theta: tf.Tensor, batch: PolicyGradientBatch) -> tf.Tensor:
    return tf.reduce_sum(log_probs(tabular_log_prob, theta, batch), axis=[1, 2])


def exact_meta_objective(theta: tf.Tensor, inner_lr: float) -> tf.Tensor:
    """J(θ) of the module docstring, every trajectory enumerated (θ: ``[3, 2]`` logits)."""
    pairs = list(itertools.product(range(NUM_TRAJECTORIES), repeat=2))
    inner, _ = chain_batch(pairs, inner_chain_advantages)
    tiled = tf.broadcast_to(theta, [len(pairs), 3, 2])
    adapted = adapt_policy(tiled, inner, inner_lr=inner_lr, log_prob_fn=tabular_log_prob)
    p_inner = tf.exp(_log_prob_of_batch(tiled, inner))
    every, rewards = chain_batch([tuple(range(NUM_TRAJECTORIES))] * len(pairs), lambda r, m: r)
    p_outer = tf.exp(tf.reduce_sum(log_probs(tabular_log_prob, adapted, every), axis=2))  # [16, 4]
    return tf.reduce_sum(p_inner * tf.reduce_sum(p_outer * tf.reduce_sum(rewards, axis=2), axis=1))


def expected_meta_gradient(theta: tf.Tensor, inner_lr: float, *, sampling_term: bool, estimator: str = "reinforce",
                           first_order: bool = False) -> np.ndarray:
    """E[∇L] of :func:`~metalearn_lib.maml_rl.algorithm.meta_surrogate` over every (τ₁, τ₂, τ'), exactly.

    The outer advantages are the reward-to-go (no baseline) and the sampling term's weight is
    R(τ') (a zero baseline), so the estimator is unbiased when it is complete.
    """
    combos = list(itertools.product(range(NUM_TRAJECTORIES), repeat=3))
    inner, _ = chain_batch([c[:2] for c in combos], inner_chain_advantages)
    outer, outer_rewards = chain_batch([c[2:] for c in combos], lambda r, m: reward_to_go(r, 1.0))
    num = len(combos)
    tiled_old = tf.broadcast_to(theta, [num, 3, 2])
    adapted_old = adapt_policy(tiled_old, inner, inner_lr=inner_lr, log_prob_fn=tabular_log_prob)
    outer_old = log_probs(tabular_log_prob, adapted_old, outer)
    inner_old = log_probs(tabular_log_prob, tiled_old, inner)
    probability = tf.exp(_log_prob_of_batch(tiled_old, inner) + tf.reduce_sum(outer_old, axis=[1, 2]))
    weights = tf.reduce_sum(outer_rewards, axis=[1, 2]) if sampling_term else None
    with tf.GradientTape() as tape:
        tape.watch(theta)
        value, _ = meta_surrogate(tf.broadcast_to(theta, [num, 3, 2]), inner, outer, outer_old, inner_lr=inner_lr,
                                  sampling_weights=weights, inner_old_log_probs=inner_old,
                                  log_prob_fn=tabular_log_prob, first_order=first_order, estimator=estimator)
        total = tf.reduce_sum(tf.stop_gradient(probability) * value)
    return tape.gradient(total, theta).numpy()


def finite_difference_gradient(function: Callable[[tf.Tensor], tf.Tensor], theta: tf.Tensor,
                               eps: float = 1e-6) -> np.ndarray:
    """Central differences (f(θ + εe_k) − f(θ − εe_k)) / 2ε for every entry k of θ (float64)."""
    base = np.asarray(theta, dtype=np.float64)
    grad = np.zeros_like(base)
    for index in np.ndindex(base.shape):
        step = np.zeros_like(base)
        step[index] = eps
        forward, backward = function(tf.constant(base + step)), function(tf.constant(base - step))
        grad[index] = (float(forward) - float(backward)) / (2 * eps)
    return grad
