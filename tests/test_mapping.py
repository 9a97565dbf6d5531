"""Tests for metalearn_lib.mapping: the ridge map, learned priors, the amortised map, comparisons."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib import seed_everything
from metalearn_lib.mapping import (
    LOG_PRECISION_BOUNDS,
    AmortisedLearner,
    RidgeLearner,
    RidgePredictor,
    ShotsComparison,
    amortised_loss,
    amortised_predict,
    compare_by_shots,
    empirical_bayes_prior,
    encode_support,
    fourier_features,
    identity_features,
    init_amortised,
    learn_prior,
    linear_features,
    polynomial_features,
    prior_loss,
    prior_update,
    ridge_fit,
    ridge_predict,
    support_mean_learner,
    train_amortised,
)
from metalearn_lib.tasks import LinearFamily, SinusoidFamily, TaskBatch

#: The family of the learned-prior tests: the prior mean is far from 0, tasks vary little.
FAMILY = LinearFamily(num_features=1, weight_mean=2.0, weight_std=0.5, noise_std=0.3)
#: The Bayes-optimal precision in noise units for FAMILY's weight, Λ = σ_ε² / σ_w².
TRUE_LOG_PRECISION = math.log(0.3**2 / 0.5**2)


@pytest.fixture(autouse=True)
def _seed() -> None:
    seed_everything(0)


@pytest.fixture(scope="module")
def learned() -> RidgeLearner:
    """A prior learned by gradient descent on FAMILY (about a second)."""
    return learn_prior(FAMILY, num_iterations=300, seed=0, progress=False).learner


@pytest.fixture(scope="module")
def amortised() -> AmortisedLearner:
    """An amortised map briefly trained on FAMILY (a few seconds)."""
    return train_amortised(FAMILY, num_iterations=400, seed=0, progress=False).learner


def _normal_equations(X: np.ndarray, y: np.ndarray, mu: np.ndarray, Lam: np.ndarray) -> np.ndarray:
    """w = (XᵀX + Λ)⁻¹(Xᵀy + Λμ) for one task, in NumPy."""
    return np.linalg.solve(X.T @ X + Lam, X.T @ y[:, 0] + Lam @ mu)


# --------------------------------------------------------------------------------------------
# the ridge map
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["scalar", "diagonal", "matrix"])
def test_ridge_fit_solves_the_normal_equations(kind: str) -> None:
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(4, 3, 3)), rng.normal(size=(4, 3, 1))
    mu = np.array([0.5, -1.0, 2.0])
    precision = {"scalar": 0.7, "diagonal": np.array([0.1, 1.0, 5.0]),
                 "matrix": np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 0.3]])}[kind]
    Lam = precision * np.eye(3) if kind == "scalar" else np.diag(precision) if kind == "diagonal" else precision
    w = ridge_fit(X, y, prior_mean=mu, prior_precision=precision).numpy()
    assert w.shape == (4, 3)
    for i in range(4):  # the reference, task by task
        np.testing.assert_allclose(w[i], _normal_equations(X[i], y[i], mu, Lam), rtol=1e-7)


def test_ridge_without_prior_is_least_squares_and_infinite_precision_is_the_prior_mean() -> None:
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(3, 6, 2)), rng.normal(size=(3, 6, 1))
    w = ridge_fit(X, y, prior_precision=1e-12).numpy()
    for i in range(3):
        np.testing.assert_allclose(w[i], np.linalg.lstsq(X[i], y[i, :, 0], rcond=None)[0], rtol=1e-8)
    mu = np.array([3.0, -2.0])
    w = ridge_fit(X, y, prior_mean=mu, prior_precision=1e12).numpy()
    np.testing.assert_allclose(w, np.broadcast_to(mu, (3, 2)), atol=1e-9)


def test_ridge_predict_and_the_learner_as_a_map() -> None:
    batch = LinearFamily(num_features=2, noise_std=0.0, dtype=tf.float64).sample(5, 4, 7, seed=3)
    learner = RidgeLearner(prior_mean=0.0, prior_precision=1e-9)
    predictor = learner(batch.support_x, batch.support_y)  # D ↦ f_D
    assert isinstance(predictor, RidgePredictor) and callable(predictor)
    assert predictor.weights.shape == (5, 3)  # [x1, x2, 1]
    pred = predictor(batch.query_x)
    assert pred.shape == (5, 7, 1)
    np.testing.assert_allclose(pred.numpy(), batch.query_y.numpy(), atol=1e-6)  # noise-free: exact
    manual = ridge_predict(predictor.weights, linear_features(batch.query_x))
    np.testing.assert_allclose(pred.numpy(), manual.numpy())


def test_feature_maps() -> None:
    x = tf.constant([[[2.0], [-1.0]]])
    np.testing.assert_allclose(identity_features(x).numpy(), x.numpy())
    np.testing.assert_allclose(linear_features(x).numpy(), [[[2.0, 1.0], [-1.0, 1.0]]])
    np.testing.assert_allclose(polynomial_features(x, degree=3).numpy(),
                               [[[2.0, 4.0, 8.0, 1.0], [-1.0, 1.0, -1.0, 1.0]]])
    assert fourier_features(tf.zeros([2, 5, 3]), frequencies=(1.0, 2.0)).shape == (2, 5, 13)


def test_fourier_ridge_recovers_a_sinusoid_from_three_points() -> None:
    batch = SinusoidFamily(dtype=tf.float64).sample(6, 3, 50, seed=4)
    predictor = RidgeLearner(prior_precision=1e-10, features=fourier_features)(
        batch.support_x, batch.support_y)
    amp, phase = batch.task_params["amplitude"].numpy(), batch.task_params["phase"].numpy()
    expected = np.stack([amp * np.cos(phase), -amp * np.sin(phase), np.zeros(6)], axis=1)
    np.testing.assert_allclose(predictor.weights.numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(predictor(batch.query_x).numpy(), batch.query_y.numpy(), atol=1e-5)


# --------------------------------------------------------------------------------------------
# the learned prior
# --------------------------------------------------------------------------------------------
def _finite_difference(fn, value: np.ndarray, h: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(value)
    for j in range(value.size):
        e = np.zeros_like(value)
        e[j] = h
        grad[j] = (float(fn(value + e)) - float(fn(value - e))) / (2 * h)
    return grad


def test_prior_loss_gradients_match_finite_differences() -> None:
    batch = LinearFamily(num_features=2, weight_mean=1.0, dtype=tf.float64).sample(3, 2, 5, seed=5)
    mean, log_precision = np.array([0.3, -0.2, 0.1]), np.array([-0.5, 0.2, 1.0])
    with tf.GradientTape() as tape:
        m, r = tf.constant(mean), tf.constant(log_precision)
        tape.watch([m, r])
        loss = prior_loss(m, r, batch)
    grad_mean, grad_log_precision = tape.gradient(loss, [m, r])
    np.testing.assert_allclose(
        grad_mean.numpy(), _finite_difference(lambda v: prior_loss(v, log_precision, batch), mean),
        rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(
        grad_log_precision.numpy(),
        _finite_difference(lambda v: prior_loss(mean, v, batch), log_precision), rtol=1e-6, atol=1e-9)


def test_prior_update_is_one_gradient_step_that_lowers_the_loss() -> None:
    batch = FAMILY.sample(16, 2, 10, seed=6)
    mean, log_precision = tf.zeros([2]), tf.zeros([2])
    with tf.GradientTape() as tape:
        tape.watch([mean, log_precision])
        loss = prior_loss(mean, log_precision, batch)
    g_mean, g_log_precision = tape.gradient(loss, [mean, log_precision])
    new_mean, new_log_precision = prior_update(mean, log_precision, batch, outer_lr=0.1)
    np.testing.assert_allclose(new_mean.numpy(), (mean - 0.1 * g_mean).numpy(), rtol=1e-6)
    np.testing.assert_allclose(new_log_precision.numpy(), (log_precision - 0.1 * g_log_precision).numpy(),
                               rtol=1e-6)
    assert float(prior_loss(new_mean, new_log_precision, batch)) < float(loss)


def test_learned_prior_finds_the_true_prior(learned: RidgeLearner) -> None:
    mean = learned.prior_mean.numpy()
    log_precision = np.log(learned.prior_precision.numpy())
    assert abs(mean[0] - 2.0) < 0.1  # the weight's prior mean
    assert abs(mean[1]) < 0.1  # the bias the family does not have
    assert abs(log_precision[0] - TRUE_LOG_PRECISION) < 0.4
    assert log_precision[1] > log_precision[0] + 2  # the absent bias is pinned harder


def test_learn_prior_is_deterministic_given_a_seed(learned: RidgeLearner) -> None:
    again = learn_prior(FAMILY, num_iterations=300, seed=0, progress=False).learner
    np.testing.assert_array_equal(again.prior_mean.numpy(), learned.prior_mean.numpy())
    np.testing.assert_array_equal(again.prior_precision.numpy(), learned.prior_precision.numpy())


def test_progress_bar_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    learn_prior(FAMILY, num_iterations=4, iterations_per_call=4, progress=True)
    assert "learned prior" in capsys.readouterr().err
    learn_prior(FAMILY, num_iterations=4, iterations_per_call=2, progress=None)  # short: no bar
    assert "learned prior" not in capsys.readouterr().err


def test_empirical_bayes_matches_the_moments_of_the_family() -> None:
    result = learn_prior(FAMILY, method="empirical_bayes", num_iterations=100, meta_batch_size=40)
    mean = result.learner.prior_mean.numpy()
    log_precision = np.log(result.learner.prior_precision.numpy())
    assert abs(mean[0] - 2.0) < 0.05 and abs(mean[1]) < 0.05
    assert abs(log_precision[0] - TRUE_LOG_PRECISION) < 0.2
    assert result.losses.shape == (0,)
    batch = FAMILY.sample(50, 8, 1, seed=0)
    mean, log_precision = empirical_bayes_prior(batch.support_x, batch.support_y,
                                                features=identity_features)
    assert mean.shape == log_precision.shape == (1,)


def test_log_precision_stays_bounded_and_noise_free_tasks_keep_a_usable_prior() -> None:
    # Started far above the bound (ρ = log 1e8 ≈ 18.4), ρ is projected back after one step.
    high = learn_prior(FAMILY, num_iterations=2, init_precision=1e8, progress=False).learner
    log_precision = np.log(high.prior_precision.numpy())
    assert np.all(log_precision <= LOG_PRECISION_BOUNDS[1] + 1e-5)
    assert np.all(log_precision > LOG_PRECISION_BOUNDS[1] - 0.2)  # clipped, then one small step
    # Noise-free sinusoids: σ² = 0 would mean Λ = 0; the floor keeps K = 1 well posed.
    eb = learn_prior(SinusoidFamily(), method="empirical_bayes", features=fourier_features,
                     num_iterations=10, meta_batch_size=20).learner
    np.testing.assert_allclose(eb.prior_mean.numpy()[1], -2.55 * 2 / np.pi, atol=0.6)  # E[−A sin φ]
    batch = SinusoidFamily().sample(50, 5, 20, seed=11)
    one_shot = eb(batch.support_x[:, :1], batch.support_y[:, :1])(batch.query_x)
    five_shot = eb(batch.support_x, batch.support_y)(batch.query_x)
    assert np.all(np.isfinite(one_shot.numpy()))
    assert float(tf.reduce_mean(tf.square(five_shot - batch.query_y))) < 1e-3


def test_learned_prior_beats_the_fixed_prior_with_few_shots(learned: RidgeLearner) -> None:
    result = compare_by_shots({"fixed": RidgeLearner(), "learned": learned}, FAMILY,
                              shots=(1, 2, 20), num_tasks=500, num_query=50)
    fixed, mine = result.mean_mse["fixed"], result.mean_mse["learned"]
    ci = result.ci95["fixed"] + result.ci95["learned"]
    assert np.all(mine[:2] + ci[:2] < fixed[:2])  # K = 1, 2: clearly better
    assert fixed[0] / mine[0] > 4  # by a wide margin
    assert fixed[2] - mine[2] < 0.2 * (fixed[0] - mine[0])  # K = 20: the gap has mostly closed
    assert fixed[2] / mine[2] < 1.6


# --------------------------------------------------------------------------------------------
# the amortised map
# --------------------------------------------------------------------------------------------
def test_amortised_map_is_permutation_invariant_and_takes_any_k() -> None:
    learner = init_amortised(2, hidden_sizes=(8,), representation_size=4, seed=1)
    batch = LinearFamily(num_features=2).sample(3, 6, 4, seed=7)
    order = [5, 2, 0, 4, 1, 3]
    shuffled_x = tf.gather(batch.support_x, order, axis=1)
    shuffled_y = tf.gather(batch.support_y, order, axis=1)
    a = amortised_predict(learner, batch.support_x, batch.support_y, batch.query_x)
    b = amortised_predict(learner, shuffled_x, shuffled_y, batch.query_x)
    assert a.shape == (3, 4, 1)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    for k in (1, 3):
        assert encode_support(learner, batch.support_x[:, :k], batch.support_y[:, :k]).shape == (3, 4)


def test_trained_amortised_map_beats_the_support_mean(amortised: AmortisedLearner) -> None:
    result = compare_by_shots({"mean": support_mean_learner, "amortised": amortised}, FAMILY,
                              shots=(1, 5), num_tasks=300, num_query=50)
    assert np.all(result.mean_mse["amortised"] < 0.5 * result.mean_mse["mean"])
    assert result.mean_mse["amortised"][1] < result.mean_mse["amortised"][0]  # more shots help


def test_gaussian_amortised_map_trains_with_nll() -> None:
    result = train_amortised(FAMILY, loss="nll", num_iterations=60, num_shots=(1, 5),
                             meta_batch_size=8, learning_rate=3e-3, seed=2, progress=False)
    assert result.learner.gaussian and result.losses.shape == (60,)
    assert result.losses[-10:].mean() < result.losses[:10].mean()
    batch = FAMILY.sample(2, 3, 5, seed=8)
    mean, std = result.learner(batch.support_x, batch.support_y)(batch.query_x, return_std=True)
    assert mean.shape == std.shape == (2, 5, 1) and np.all(std.numpy() >= 0.1)
    assert np.isfinite(float(amortised_loss(result.learner, batch, loss="nll")))


# --------------------------------------------------------------------------------------------
# comparing learners
# --------------------------------------------------------------------------------------------
def test_compare_by_shots_shapes_nesting_and_confidence_intervals() -> None:
    seen: list[tuple[int, float]] = []

    def recording_learner(support_x: tf.Tensor, support_y: tf.Tensor):
        seen.append((int(support_x.shape[1]), float(support_x[0, 0, 0])))
        return support_mean_learner(support_x, support_y)

    result = compare_by_shots({"zero": RidgeLearner(prior_precision=1e9), "rec": recording_learner},
                              FAMILY, shots=(1, 3, 4), num_tasks=200, num_query=10, seed=9)
    assert isinstance(result, ShotsComparison) and result.names == ("zero", "rec")
    assert result.shots == (1, 3, 4)
    assert result.per_task_mse["rec"].shape == (3, 200)
    assert [k for k, _ in seen] == [1, 3, 4] and len({x for _, x in seen}) == 1  # nested supports
    per_task = result.per_task_mse["zero"]
    np.testing.assert_allclose(result.mean_mse["zero"], per_task.mean(axis=1))
    np.testing.assert_allclose(result.ci95["zero"], 1.96 * per_task.std(axis=1) / math.sqrt(200))
    assert np.all(result.ci95["zero"] > 0) and np.all(result.ci95["zero"] < result.mean_mse["zero"])
    # predicting 0 everywhere: the MSE is E[(xw)²] + σ² whatever K, = (4 + 0.25) / 3 + 0.09
    np.testing.assert_allclose(result.mean_mse["zero"], (4.25 / 3 + 0.09), rtol=0.15)
    assert result.table().count("\n") == 4 and "±" in result.table()


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------
X3, Y3 = tf.zeros([2, 3, 2]), tf.zeros([2, 3, 1])


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: ridge_fit(tf.zeros([3, 2]), Y3), ValueError, "support_x"),
        (lambda: ridge_fit(X3, tf.zeros([2, 3, 2])), ValueError, "support_y"),
        (lambda: ridge_fit(X3, tf.zeros([2, 4, 1])), ValueError, "agree"),
        (lambda: ridge_fit(X3, Y3, prior_mean=[1.0, 2.0, 3.0]), ValueError, "prior_mean"),
        (lambda: ridge_fit(X3, Y3, prior_precision=-1.0), ValueError, "prior_precision"),
        (lambda: ridge_fit(X3, Y3, prior_precision=tf.ones([2, 3])), ValueError, "prior_precision"),
        (lambda: ridge_fit(X3, Y3, prior_precision=0.0), ValueError, "singular"),
        (lambda: ridge_fit("abc", Y3), TypeError, "support_x"),
        (lambda: ridge_predict(tf.zeros([2, 3]), X3), ValueError, "weights"),
        (lambda: RidgeLearner(features=3), TypeError, "features"),
        (lambda: polynomial_features(X3, degree=0), ValueError, "degree"),
        (lambda: fourier_features(X3, frequencies=()), ValueError, "frequencies"),
        (lambda: prior_update(tf.zeros([2]), tf.zeros([2]), FAMILY.sample(2, 2, seed=0), outer_lr=0.0),
         ValueError, "outer_lr"),
        (lambda: learn_prior(FAMILY, method="magic"), ValueError, "method"),
        (lambda: learn_prior(FAMILY, num_iterations=0), ValueError, "num_iterations"),
        (lambda: learn_prior(FAMILY, num_shots=(5, 2)), ValueError, "num_shots"),
        (lambda: learn_prior(FAMILY, num_shots=1.5), TypeError, "num_shots"),
        (lambda: learn_prior(object()), TypeError, "family"),
        (lambda: train_amortised(FAMILY, loss="l1"), ValueError, "loss"),
        (lambda: train_amortised(FAMILY, learning_rate=-1.0), ValueError, "learning_rate"),
        (lambda: train_amortised(FAMILY, learner=init_amortised(2)), ValueError, "x_dim"),
        (lambda: train_amortised(FAMILY, loss="nll", learner=init_amortised(1)), ValueError, "gaussian"),
        (lambda: init_amortised(1, hidden_sizes=(0,)), ValueError, "hidden_sizes"),
        (lambda: AmortisedLearner([np.zeros([2, 3])], []), TypeError, "encoder"),
        (lambda: encode_support(init_amortised(1), X3, Y3), ValueError, "x_dim"),
        (lambda: init_amortised(1)(tf.zeros([1, 2, 1]), tf.zeros([1, 2, 1]))(
            tf.zeros([1, 2, 1]), return_std=True), ValueError, "gaussian"),
        (lambda: compare_by_shots({}, FAMILY), TypeError, "learners"),
        (lambda: compare_by_shots({"a": 3}, FAMILY), TypeError, "learners"),
        (lambda: compare_by_shots({"a": RidgeLearner()}, FAMILY, shots=(5, 2)), ValueError, "shots"),
        (lambda: compare_by_shots({"a": RidgeLearner()}, FAMILY, num_tasks=1), ValueError, "num_tasks"),
        (lambda: empirical_bayes_prior(tf.zeros([5, 2, 1]), tf.zeros([5, 2, 1])), ValueError, "points"),
    ],
)
def test_bad_arguments_are_rejected_with_a_clear_message(call, error, match) -> None:
    with pytest.raises(error, match=match):
        call()


def test_learners_accept_task_batches_of_another_dtype(amortised: AmortisedLearner) -> None:
    batch = FAMILY.sample(2, 3, 4, seed=10)
    batch64 = TaskBatch(*(tf.cast(t, tf.float64) for t in
                          (batch.support_x, batch.support_y, batch.query_x, batch.query_y)))
    a = amortised(batch64.support_x, batch64.support_y)(batch64.query_x)
    b = amortised(batch.support_x, batch.support_y)(batch.query_x)
    np.testing.assert_allclose(a.numpy(), b.numpy())
    poly = functools.partial(polynomial_features, degree=2)
    assert RidgeLearner(features=poly)(batch64.support_x, batch64.support_y)(batch.query_x).dtype == tf.float64
