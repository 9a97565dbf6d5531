"""Tests for metalearn_lib.rl's policy-gradient pieces: trajectories, reward-to-go, the linear baseline, TRPO."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.maml_rl.navigation import PointNavigation
from metalearn_lib.rl.gaussian_policy import gaussian_kl, init_gaussian_policy, policy_mean, tile_policy
from metalearn_lib.rl.policy_gradient import (
    baseline_features,
    linear_feature_baseline,
    normalize_advantages,
    reinforce_surrogate,
    reward_to_go,
    sample_trajectories,
)
from metalearn_lib.rl.sampling import derive_seed
from metalearn_lib.rl.trpo import conjugate_gradient, flatten, hessian_vector_product, trpo_step, unflatten


def test_reward_to_go_matches_a_loop() -> None:
    rewards = np.random.default_rng(0).normal(size=(2, 3, 7))
    got = reward_to_go(tf.constant(rewards), 0.9).numpy()
    expected = np.zeros_like(rewards)
    running = np.zeros(rewards.shape[:-1])
    for t in reversed(range(7)):
        running = rewards[..., t] + 0.9 * running
        expected[..., t] = running
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_linear_baseline_is_a_per_task_least_squares_fit() -> None:
    rng = np.random.default_rng(1)
    obs = rng.normal(size=(2, 4, 5, 2))
    masks = np.ones((2, 4, 5))
    masks[0, 1, 3:] = 0.0  # an episode that ended early
    features = baseline_features(tf.constant(obs)).numpy()
    weights = rng.normal(size=(2, features.shape[-1]))
    returns = np.einsum("tnhf,tf->tnh", features, weights)  # exactly linear in the features
    fitted = linear_feature_baseline(tf.constant(obs), tf.constant(returns), tf.constant(masks), reg_coeff=1e-9)
    np.testing.assert_allclose(fitted.numpy(), returns * masks, atol=1e-5)
    assert features.shape[-1] == 2 * 2 + 4


def test_advantages_are_standardised_per_task_over_alive_steps() -> None:
    rng = np.random.default_rng(2)
    advantages = tf.constant(rng.normal(3.0, 2.0, size=(3, 4, 6)))
    masks = tf.constant((rng.uniform(size=(3, 4, 6)) > 0.3).astype(np.float64))
    normed = normalize_advantages(advantages, masks).numpy()
    for task in range(3):
        alive = normed[task][masks.numpy()[task] > 0]
        assert abs(alive.mean()) < 1e-9 and abs(alive.std() - 1.0) < 1e-6
    assert np.all(normed[masks.numpy() == 0] == 0)


def test_reinforce_surrogate_averages_over_alive_steps_per_task() -> None:
    log_probs = tf.constant([[[1.0, 2.0], [3.0, 4.0]]])
    advantages = tf.constant([[[1.0, 1.0], [2.0, -1.0]]])
    masks = tf.constant([[[1.0, 1.0], [1.0, 0.0]]])
    assert float(reinforce_surrogate(log_probs, advantages, masks)[0]) == pytest.approx((1 + 2 + 6) / 3)


def test_trajectories_are_batched_deterministic_and_masked_after_the_goal() -> None:
    env = PointNavigation(horizon=30)
    policy = init_gaussian_policy(2, 2, 0, hidden_sizes=(8,), init_std=0.3)
    goals = tf.constant([[0.05, 0.0], [0.4, -0.3]])
    sample = tf.function(lambda p: sample_trajectories(p, env, goals, 16, tf.constant([3, 1], tf.int64)))
    first, again = sample(policy), sample(policy)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert first.observations.shape == (2, 16, 30, 2) and first.actions.shape == (2, 16, 30, 2)
    np.testing.assert_array_equal(first.observations[:, :, 0].numpy(), 0.0)  # every trajectory starts at 0
    masks = first.masks.numpy()
    assert np.all(np.diff(masks, axis=-1) <= 0), "a trajectory never comes back to life"
    assert np.all(first.rewards.numpy()[masks == 0] == 0)
    # the positions are the running sum of clipped velocities
    velocity = 0.1 * np.clip(first.actions.numpy(), -1, 1)
    np.testing.assert_allclose(first.observations[:, :, 1:].numpy(), np.cumsum(velocity, axis=2)[:, :, :-1], atol=1e-5)
    per_task = sample_trajectories(tile_policy(policy, 2), env, goals, 16, tf.constant([3, 1], tf.int64))
    np.testing.assert_allclose(per_task.actions.numpy(), first.actions.numpy(), atol=1e-6)


def test_conjugate_gradient_solves_a_positive_definite_system() -> None:
    rng = np.random.default_rng(4)
    a = rng.normal(size=(6, 6))
    matrix = tf.constant(a @ a.T + 6 * np.eye(6))
    b = tf.constant(rng.normal(size=6))
    x = conjugate_gradient(lambda v: tf.linalg.matvec(matrix, v), b, num_iterations=6)
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(matrix.numpy(), b.numpy()), rtol=1e-8)


def test_trpo_step_improves_the_surrogate_within_the_trust_region() -> None:
    policy = init_gaussian_policy(2, 2, 5, hidden_sizes=(6,), dtype=tf.float64)
    obs = tf.constant(np.random.default_rng(5).normal(size=(1, 40, 2)))
    target = tf.constant(np.random.default_rng(6).normal(size=(1, 40, 2)))
    old_mean = policy_mean(policy, obs)

    def surrogate(p):
        return -tf.reduce_mean(tf.square(policy_mean(p, obs) - target))

    def kl(p):
        return tf.reduce_mean(gaussian_kl(old_mean, policy.log_std, p, obs))

    new, stats = trpo_step(policy, surrogate, kl, max_kl=0.01)
    assert float(stats.accepted) == 1.0
    assert float(surrogate(new)) > float(surrogate(policy))
    assert 0.0 < float(kl(new)) <= 0.01 + 1e-12
    vector = tf.ones_like(flatten(policy))
    assert float(tf.reduce_sum(vector * hessian_vector_product(kl, policy)(vector))) > 0.0
    np.testing.assert_array_equal(flatten(unflatten(flatten(policy), policy)).numpy(), flatten(policy).numpy())


def test_sampling_uses_its_own_seed_per_step() -> None:
    assert not np.array_equal(derive_seed(tf.constant([0, 0], tf.int64), 1).numpy(),
                              derive_seed(tf.constant([0, 0], tf.int64), 2).numpy())


def test_linear_baseline_survives_a_policy_that_repeats_one_trajectory() -> None:
    """40 copies of one trajectory parked far away: constant feature columns make the Gram matrix
    singular in float32 (λ = 1e-5 is below its resolution); the fit runs in float64."""
    observations = np.full((1, 40, 100, 2), 10.0, np.float32)
    masks = np.ones((1, 40, 100), np.float32)
    returns = np.broadcast_to(np.arange(100, 0, -1, dtype=np.float32), (1, 40, 100)).copy()
    fitted = linear_feature_baseline(tf.constant(observations), tf.constant(returns), tf.constant(masks))
    assert fitted.dtype == tf.float32 and np.all(np.isfinite(fitted.numpy()))
    np.testing.assert_allclose(fitted.numpy(), returns, atol=1e-2)  # t, t², t³ fit a linear ramp
