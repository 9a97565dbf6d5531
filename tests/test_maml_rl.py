"""Tests for chapter 6's MAML-RL: the inner step, the exact meta-gradient, TRPO through the inner step."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.maml_rl import exact
from metalearn_lib.maml_rl.algorithm import (
    MAMLRLConfig,
    PolicyGradientBatch,
    adapt_policy,
    gaussian_policy_kl,
    inner_advantages,
    meta_fisher_product,
)
from metalearn_lib.maml_rl.navigation import PointNavigation
from metalearn_lib.rl.gaussian_policy import gaussian_log_prob, init_gaussian_policy, tile_policy
from metalearn_lib.rl.policy_gradient import sample_trajectories
from metalearn_lib.rl.sampling import derive_seed
from metalearn_lib.rl.trpo import flatten, hessian_vector_product, unflatten

# --------------------------------------------------------------------------------------------
# the enumerable two-step chain (metalearn_lib.maml_rl.exact)
# --------------------------------------------------------------------------------------------
INNER_LR = 1.5
THETA = tf.constant(np.random.default_rng(3).normal(scale=0.8, size=(3, 2)), tf.float64)


def exact_meta_objective(theta: tf.Tensor, inner_lr: float = INNER_LR) -> tf.Tensor:
    return exact.exact_meta_objective(theta, inner_lr)


def expected_estimate(theta: tf.Tensor, *, sampling_term: bool, first_order: bool = False,
                      estimator: str = "reinforce", inner_lr: float = INNER_LR) -> np.ndarray:
    return exact.expected_meta_gradient(theta, inner_lr, sampling_term=sampling_term, estimator=estimator,
                                        first_order=first_order)


def test_the_meta_gradient_with_the_sampling_term_matches_finite_differences() -> None:
    reference = exact.finite_difference_gradient(exact_meta_objective, THETA)
    estimate = expected_estimate(THETA, sampling_term=True)
    np.testing.assert_allclose(estimate, reference, rtol=1e-6, atol=1e-8)


def test_dropping_the_sampling_term_or_the_hessian_gives_a_different_gradient() -> None:
    reference = exact.finite_difference_gradient(exact_meta_objective, THETA)
    naive = expected_estimate(THETA, sampling_term=False)
    first_order = expected_estimate(THETA, sampling_term=False, first_order=True)
    scale = np.linalg.norm(reference)
    # the naive estimate is off by ~13 % of the gradient's norm here (the exact one by ~1e-9)
    assert np.linalg.norm(naive - reference) / scale > 0.08
    assert np.linalg.norm(first_order - reference) / scale > 0.08


def test_inner_step_is_one_reinforce_ascent_step() -> None:
    inner, rewards = exact.chain_batch([(0, 3), (1, 2)], exact.inner_chain_advantages)
    tiled = tf.broadcast_to(THETA, [2, 3, 2])
    adapted = adapt_policy(tiled, inner, inner_lr=INNER_LR, log_prob_fn=exact.tabular_log_prob)
    # by hand: ∇ mean_{n,t} log π(a|s) Â with softmax scores onehot(a) − π(·|s)
    manual = np.array(tiled)
    for task in range(2):
        grad = np.zeros((3, 2))
        for n in range(2):
            for t in range(2):
                s = int(np.argmax(inner.observations[task, n, t]))
                a = int(inner.actions[task, n, t])
                probs = tf.nn.softmax(THETA[s]).numpy()
                grad[s] += (np.eye(2)[a] - probs) * float(inner.advantages[task, n, t]) / 4.0
        manual[task] += INNER_LR * grad
    np.testing.assert_allclose(adapted.numpy(), manual, rtol=1e-10)
    assert float(tf.reduce_sum(rewards)) > 0.0


# --------------------------------------------------------------------------------------------
# the Gaussian policy on the navigation task: TRPO's curvature through the inner step
# --------------------------------------------------------------------------------------------
def _navigation_batches(num_tasks: int = 3, num_trajectories: int = 4, horizon: int = 6):
    env = PointNavigation(horizon=horizon)
    policy = init_gaussian_policy(2, 2, 1, hidden_sizes=(5,), dtype=tf.float32)
    policy = tf.nest.map_structure(lambda t: tf.cast(t, tf.float64), policy)
    seed = tf.constant([7, 0], tf.int64)
    goals = tf.cast(env.sample_tasks(num_tasks, derive_seed(seed, 0)), tf.float64)
    inner_traj = sample_trajectories(policy, env, goals, num_trajectories, derive_seed(seed, 1))
    inner = PolicyGradientBatch(inner_traj.observations, inner_traj.actions, inner_traj.masks,
                                inner_advantages(inner_traj, 0.99))
    adapted = adapt_policy(tile_policy(policy, num_tasks), inner, inner_lr=0.1)
    outer_traj = sample_trajectories(adapted, env, goals, num_trajectories, derive_seed(seed, 2))
    outer = PolicyGradientBatch(outer_traj.observations, outer_traj.actions, outer_traj.masks,
                                tf.zeros_like(outer_traj.rewards))
    return policy, inner, outer, adapted


def test_fisher_product_through_the_inner_step_equals_the_kl_hessian() -> None:
    policy, inner, outer, adapted = _navigation_batches()

    def kl(params):
        return gaussian_policy_kl(adapted, adapt_policy(tile_policy(params, 3), inner, inner_lr=0.1), outer)

    assert abs(float(kl(policy))) < 1e-12
    vector = unflatten(tf.cast(tf.sin(tf.range(flatten(policy).shape[0], dtype=tf.float64)), tf.float64), policy)
    exact = hessian_vector_product(kl, policy)(flatten(vector))  # third derivatives, the slow way
    fast = flatten(meta_fisher_product(policy, adapted, inner, outer, vector, inner_lr=0.1))
    np.testing.assert_allclose(fast.numpy(), exact.numpy(), rtol=1e-6, atol=1e-10)
    first_order = flatten(meta_fisher_product(policy, adapted, inner, outer, vector, inner_lr=0.1, first_order=True))
    assert np.linalg.norm(first_order.numpy() - exact.numpy()) > 1e-4 * np.linalg.norm(exact.numpy())


def test_gaussian_log_prob_is_the_diagonal_normal_density() -> None:
    policy = init_gaussian_policy(2, 2, 0, hidden_sizes=(4,), init_std=0.5, dtype=tf.float64)
    obs = tf.constant(np.random.default_rng(0).normal(size=(1, 5, 2)))
    actions = tf.constant(np.random.default_rng(1).normal(size=(1, 5, 2)))
    from metalearn_lib.rl.gaussian_policy import policy_mean

    mean = policy_mean(policy, obs).numpy()
    expected = (-0.5 * ((actions.numpy() - mean) / 0.5) ** 2 - np.log(0.5) - 0.5 * np.log(2 * np.pi)).sum(-1)
    np.testing.assert_allclose(gaussian_log_prob(policy, obs, actions).numpy(), expected, rtol=1e-7)


def test_config_validation_names_the_field() -> None:
    with pytest.raises(ValueError, match="num_inner_steps"):
        MAMLRLConfig(num_inner_steps=2)
    with pytest.raises(ValueError, match="backtrack_ratio"):
        MAMLRLConfig(backtrack_ratio=1.0)
    with pytest.raises(TypeError, match="hidden_sizes"):
        MAMLRLConfig(hidden_sizes=[100, 100])


@pytest.mark.parametrize("estimator", ["dice", "lvc"])
@pytest.mark.parametrize("inner_lr", [0.05, 0.4])
def test_dice_and_lvc_inner_objectives_recover_most_of_the_sampling_term(inner_lr, estimator) -> None:
    """DiCE's and LVC's second derivatives carry the inner samples' score products: their expected
    meta-gradients are ≥ 10× closer to the exact one than the naive estimate (not exact: the
    advantages' batch standardisation couples the trajectories, which both treat one by one; on
    this two-step chain LVC's dropped cross-step products are small)."""
    reference = exact.finite_difference_gradient(lambda theta: exact_meta_objective(theta, inner_lr), THETA)
    naive = expected_estimate(THETA, sampling_term=False, inner_lr=inner_lr)
    estimate = expected_estimate(THETA, sampling_term=False, estimator=estimator, inner_lr=inner_lr)
    naive_error = np.linalg.norm(naive - reference)
    estimate_error = np.linalg.norm(estimate - reference)
    assert naive_error > 1e-3 * np.linalg.norm(reference)
    assert estimate_error < naive_error / 10.0


def test_lvc_and_dice_differ_only_in_the_second_derivative() -> None:
    """Same inner step (the gradient), different ∂θ'/∂θ (the Hessian): on a six-step batch DiCE's
    cross-step score products, which LVC drops, are not zero."""
    policy, inner, _, _ = _navigation_batches()
    tiled = tile_policy(policy, 3)
    steps, jacobian_rows = {}, {}
    for estimator in ("dice", "lvc"):
        with tf.GradientTape() as tape:
            tape.watch(tiled)
            adapted = adapt_policy(tiled, inner, inner_lr=0.1, estimator=estimator)
            probe = tf.reduce_sum(adapted.log_std)
        steps[estimator] = flatten(adapted).numpy()
        jacobian_rows[estimator] = flatten(tape.gradient(probe, tiled)).numpy()
    np.testing.assert_allclose(steps["lvc"], steps["dice"], rtol=1e-12, atol=1e-14)
    difference = np.linalg.norm(jacobian_rows["lvc"] - jacobian_rows["dice"])
    assert difference > 1e-2 * np.linalg.norm(jacobian_rows["dice"])
