"""The checks of ``01_mapping``'s exercises accept right answers written in several ways and reject
every wrong one below with a hint that names the mistake — never a raw TensorFlow traceback."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.checks.core import CheckFailed
from metalearn_lib.checks.mapping import check_prior_update, check_ridge_fit, check_ridge_learner
from metalearn_lib.mapping import (
    RidgeLearner,
    linear_features,
    prior_loss,
    prior_update,
    ridge_fit,
    ridge_predict,
)
from metalearn_lib.tasks import LinearFamily
from tests.check_tools import verdict_of
from tests.notebook_tools import solution_namespace

SOLUTIONS = "solutions/01_mapping_exercises.ipynb"



# =============================================================================================
# ridge_fit(support_x, support_y, prior_mean, prior_precision) -> w [num_tasks, p]
# =============================================================================================
def right_library(support_x, support_y, prior_mean, prior_precision):
    return ridge_fit(support_x, support_y, prior_mean=prior_mean, prior_precision=prior_precision)


def right_solve(support_x, support_y, prior_mean, prior_precision):
    gram = tf.matmul(support_x, support_x, transpose_a=True) + tf.linalg.diag(prior_precision)
    rhs = tf.matmul(support_x, support_y, transpose_a=True) + (prior_precision * prior_mean)[:, tf.newaxis]
    return tf.linalg.solve(gram, rhs)[..., 0]


def right_numpy_loop(support_x, support_y, prior_mean, prior_precision):
    X, y = np.asarray(support_x, np.float64), np.asarray(support_y, np.float64)
    mu, lam = np.asarray(prior_mean, np.float64), np.diag(np.asarray(prior_precision, np.float64))
    return np.stack([np.linalg.solve(X[i].T @ X[i] + lam, X[i].T @ y[i, :, 0] + lam @ mu) for i in range(len(X))])


def right_einsum_inverse(support_x, support_y, prior_mean, prior_precision):
    gram = tf.einsum("tkp,tkq->tpq", support_x, support_x) + tf.linalg.diag(prior_precision)
    rhs = tf.einsum("tkp,tk->tp", support_x, support_y[..., 0]) + prior_precision * prior_mean
    return tf.linalg.matvec(tf.linalg.inv(gram), rhs)


@pytest.mark.parametrize("implementation", [right_library, right_solve, right_einsum_inverse])
def test_right_ridge_fits_pass(implementation, capsys):
    assert check_ridge_fit(implementation) is None
    assert "✅ ridge_fit: all 8 checks passed." in capsys.readouterr().out


def no_prior_mean(support_x, support_y, prior_mean, prior_precision):
    return right_solve(support_x, support_y, tf.zeros_like(prior_mean), prior_precision)


def prior_mean_not_weighted(support_x, support_y, prior_mean, prior_precision):
    gram = tf.matmul(support_x, support_x, transpose_a=True) + tf.linalg.diag(prior_precision)
    rhs = tf.matmul(support_x, support_y, transpose_a=True) + prior_mean[:, tf.newaxis]
    return tf.linalg.solve(gram, rhs)[..., 0]


def prior_sign_flipped(support_x, support_y, prior_mean, prior_precision):
    return right_solve(support_x, support_y, -prior_mean, prior_precision)


def precision_added_to_xty_not_xtx(support_x, support_y, prior_mean, prior_precision):
    gram = tf.matmul(support_x, support_x, transpose_a=True)
    rhs = tf.matmul(support_x, support_y, transpose_a=True) + (prior_precision + prior_precision * prior_mean)[
        :, tf.newaxis]
    return tf.linalg.solve(gram, rhs)[..., 0]


def no_precision_least_squares(support_x, support_y, prior_mean, prior_precision):
    return tf.linalg.matvec(tf.linalg.pinv(support_x), support_y[..., 0])


def transposes_swapped(support_x, support_y, prior_mean, prior_precision):
    gram = tf.matmul(support_x, support_x, transpose_b=True) + tf.linalg.diag(prior_precision)  # X Xᵀ
    rhs = tf.matmul(support_x, support_y, transpose_a=True) + (prior_precision * prior_mean)[:, tf.newaxis]
    return tf.linalg.solve(gram, rhs)[..., 0]


def transpose_of_every_axis(support_x, support_y, prior_mean, prior_precision):
    gram = tf.transpose(support_x) @ support_x + tf.linalg.diag(prior_precision)  # reverses the task axis too
    rhs = tf.transpose(support_x) @ support_y + (prior_precision * prior_mean)[:, tf.newaxis]
    return tf.linalg.solve(gram, rhs)[..., 0]


def first_task_for_all(support_x, support_y, prior_mean, prior_precision):
    w = right_solve(support_x[:1], support_y[:1], prior_mean, prior_precision)
    return tf.tile(w, [tf.shape(support_x)[0], 1])


def all_tasks_pooled(support_x, support_y, prior_mean, prior_precision):
    p = support_x.shape[-1]
    pooled_x, pooled_y = tf.reshape(support_x, [1, -1, p]), tf.reshape(support_y, [1, -1, 1])
    return tf.tile(right_solve(pooled_x, pooled_y, prior_mean, prior_precision), [tf.shape(support_x)[0], 1])


def column_not_squeezed(support_x, support_y, prior_mean, prior_precision):
    return right_solve(support_x, support_y, prior_mean, prior_precision)[..., tf.newaxis]


def predictions_not_weights(support_x, support_y, prior_mean, prior_precision):
    return ridge_predict(right_solve(support_x, support_y, prior_mean, prior_precision), support_x)


def forgot_return(support_x, support_y, prior_mean, prior_precision):
    right_solve(support_x, support_y, prior_mean, prior_precision)


WRONG_RIDGE = {
    no_prior_mean: "prior mean is missing",
    prior_mean_not_weighted: "not μ itself",
    prior_sign_flipped: "sign of the prior term",
    precision_added_to_xty_not_xtx: "matrix you invert",
    no_precision_least_squares: "matrix you invert",
    transposes_swapped: "Input matrix and rhs are incompatible",  # the K = p case's "X Xᵀ" is past the 15 lines
    transpose_of_every_axis: "last two axes",
    first_task_for_all: "first task's weights",
    all_tasks_pooled: "same weights",
    column_not_squeezed: "drop the trailing axis",
    predictions_not_weights: "not predictions",
    forgot_return: "return",
    # the right numbers in NumPy: exercise 2 differentiates through ridge_fit, so the check asks for tensors
    right_numpy_loop: "got: NumPy arrays, not tf.Tensors hint: exercise 2 (prior_update) differentiates through "
                      "ridge_fit, and NumPy arrays cut the gradient",
}


@pytest.mark.parametrize("implementation", list(WRONG_RIDGE), ids=[f.__name__ for f in WRONG_RIDGE])
def test_wrong_ridge_fits_are_rejected_with_a_useful_hint(implementation):
    verdict = verdict_of(check_ridge_fit, implementation)
    assert verdict.startswith("❌ ridge_fit:")
    assert WRONG_RIDGE[implementation] in verdict


def test_a_wrong_shape_is_named_with_both_shapes():
    verdict = verdict_of(check_ridge_fit, column_not_squeezed)
    assert "got: shape (1, 1, 1), expected w [num_tasks, p] = (1, 1) hint: drop the trailing axis" in verdict
    assert "raised" not in verdict and "WrongShape" not in verdict  # the check's finding, not the learner's error


def test_a_tensorflow_error_is_one_line():
    verdict = verdict_of(check_ridge_fit, transposes_swapped)
    assert "your function raised InvalidArgumentError" in verdict or "your function raised ValueError" in verdict
    with pytest.raises(CheckFailed) as failure:
        check_ridge_fit(transposes_swapped)
    assert all(len(line) < 200 for line in str(failure.value).splitlines() if "raised" in line)


def test_not_implemented_yet_gives_one_friendly_failure():
    def stub(support_x, support_y, prior_mean, prior_precision):
        raise NotImplementedError()

    with pytest.raises(CheckFailed) as failure:
        check_ridge_fit(stub)
    assert len(failure.value.report.failures) == 1
    assert "not written yet" in str(failure.value)


def test_the_learner_gets_float32_tensors():
    seen = []

    def spy(support_x, support_y, prior_mean, prior_precision):
        seen.append((type(support_x), support_x.dtype, prior_precision.dtype))
        return right_solve(support_x, support_y, prior_mean, prior_precision)

    check_ridge_fit(spy, quiet=True)
    assert all(issubclass(t, tf.Tensor) and d == p == tf.float32 for t, d, p in seen)


# =============================================================================================
# ridge_learner(support_x, support_y, prior_mean, prior_precision) -> predictor
# =============================================================================================
def right_learner_library(support_x, support_y, prior_mean, prior_precision):
    return RidgeLearner(prior_mean, prior_precision)(support_x, support_y)


def right_learner_closure(support_x, support_y, prior_mean, prior_precision):
    weights = right_solve(linear_features(support_x), support_y, prior_mean, prior_precision)

    def predictor(query_x):
        return tf.matmul(linear_features(query_x), weights[:, :, tf.newaxis])

    return predictor


def right_learner_lambda(support_x, support_y, prior_mean, prior_precision):
    w = right_numpy_loop(linear_features(support_x), support_y, prior_mean, prior_precision)
    return lambda query_x: np.einsum("tqp,tp->tq", linear_features(query_x).numpy(), w)[..., None]


@pytest.mark.parametrize("implementation", [right_learner_library, right_learner_closure, right_learner_lambda])
def test_right_ridge_learners_pass(implementation, capsys):
    assert check_ridge_learner(implementation) is None
    assert "✅ ridge_learner: all 4 checks passed." in capsys.readouterr().out


def returns_the_weights(support_x, support_y, prior_mean, prior_precision):
    return right_solve(linear_features(support_x), support_y, prior_mean, prior_precision)


def learner_ignores_the_prior(support_x, support_y, prior_mean, prior_precision):
    return RidgeLearner()(support_x, support_y)


def learner_first_task_for_all(support_x, support_y, prior_mean, prior_precision):
    w = right_solve(linear_features(support_x[:1]), support_y[:1], prior_mean, prior_precision)
    return lambda query_x: tf.linalg.matvec(linear_features(query_x), tf.tile(w, [query_x.shape[0], 1]))[..., None]


def query_without_features(support_x, support_y, prior_mean, prior_precision):
    w = right_solve(linear_features(support_x), support_y, prior_mean, prior_precision)
    return lambda query_x: tf.linalg.matvec(query_x, w)[..., None]


def predictor_forgets_the_last_axis(support_x, support_y, prior_mean, prior_precision):
    w = right_solve(linear_features(support_x), support_y, prior_mean, prior_precision)
    return lambda query_x: tf.linalg.matvec(linear_features(query_x), w)


WRONG_LEARNER = {
    returns_the_weights: "not a predictor",
    learner_ignores_the_prior: "prior is ignored",
    learner_first_task_for_all: "first task's weights",
    query_without_features: "φ(query_x)",
    predictor_forgets_the_last_axis: "expected ŷ [num_tasks, num_query, 1]",
}


@pytest.mark.parametrize("implementation", list(WRONG_LEARNER), ids=[f.__name__ for f in WRONG_LEARNER])
def test_wrong_ridge_learners_are_rejected_with_a_useful_hint(implementation):
    verdict = verdict_of(check_ridge_learner, implementation)
    assert verdict.startswith("❌ ridge_learner:")
    assert WRONG_LEARNER[implementation] in verdict


# =============================================================================================
# prior_update(prior_mean, prior_log_precision, batch, outer_lr) -> (new μ, new ρ)
# =============================================================================================
def query_mse(prior_mean, prior_log_precision, batch, on="query"):
    weights = ridge_fit(linear_features(batch.support_x), batch.support_y, prior_mean=prior_mean,
                        prior_precision=tf.exp(prior_log_precision))
    x, y = (batch.query_x, batch.query_y) if on == "query" else (batch.support_x, batch.support_y)
    return tf.reduce_mean(tf.square(ridge_predict(weights, linear_features(x)) - y))


def gradients(prior_mean, prior_log_precision, batch, on="query", reduce=tf.reduce_mean):
    with tf.GradientTape() as tape:
        tape.watch([prior_mean, prior_log_precision])
        if reduce is tf.reduce_mean:
            loss = query_mse(prior_mean, prior_log_precision, batch, on)
        else:
            weights = ridge_fit(linear_features(batch.support_x), batch.support_y, prior_mean=prior_mean,
                                prior_precision=tf.exp(prior_log_precision))
            loss = reduce(tf.square(ridge_predict(weights, linear_features(batch.query_x)) - batch.query_y))
    return tape.gradient(loss, [prior_mean, prior_log_precision])


def right_update_library(prior_mean, prior_log_precision, batch, outer_lr):
    return prior_update(prior_mean, prior_log_precision, batch, outer_lr=outer_lr)


def right_update_tape(prior_mean, prior_log_precision, batch, outer_lr):
    g_mean, g_log_precision = gradients(prior_mean, prior_log_precision, batch)
    return prior_mean - outer_lr * g_mean, prior_log_precision - outer_lr * g_log_precision


def right_update_variables(prior_mean, prior_log_precision, batch, outer_lr):
    mean, log_precision = tf.Variable(prior_mean), tf.Variable(prior_log_precision)
    with tf.GradientTape() as tape:
        loss = prior_loss(mean, log_precision, batch)
    for variable, grad in zip([mean, log_precision], tape.gradient(loss, [mean, log_precision]), strict=True):
        variable.assign_sub(outer_lr * grad)
    return [mean.numpy(), log_precision.numpy()]


@pytest.mark.parametrize("implementation", [right_update_library, right_update_tape, right_update_variables])
def test_right_prior_updates_pass(implementation, capsys):
    assert check_prior_update(implementation) is None
    assert "✅ prior_update: all 5 checks passed." in capsys.readouterr().out


def gradient_sign_flipped(prior_mean, prior_log_precision, batch, outer_lr):
    g_mean, g_log_precision = gradients(prior_mean, prior_log_precision, batch)
    return prior_mean + outer_lr * g_mean, prior_log_precision + outer_lr * g_log_precision


def mean_only(prior_mean, prior_log_precision, batch, outer_lr):
    g_mean, _ = gradients(prior_mean, prior_log_precision, batch)
    return prior_mean - outer_lr * g_mean, prior_log_precision


def precision_only(prior_mean, prior_log_precision, batch, outer_lr):
    _, g_log_precision = gradients(prior_mean, prior_log_precision, batch)
    return prior_mean, prior_log_precision - outer_lr * g_log_precision


def outer_lr_ignored(prior_mean, prior_log_precision, batch, outer_lr):
    return right_update_tape(prior_mean, prior_log_precision, batch, 0.1)


def summed_loss(prior_mean, prior_log_precision, batch, outer_lr):
    g_mean, g_log_precision = gradients(prior_mean, prior_log_precision, batch, reduce=tf.reduce_sum)
    return prior_mean - outer_lr * g_mean, prior_log_precision - outer_lr * g_log_precision


def gradients_swapped(prior_mean, prior_log_precision, batch, outer_lr):
    g_mean, g_log_precision = gradients(prior_mean, prior_log_precision, batch)
    return prior_mean - outer_lr * g_log_precision, prior_log_precision - outer_lr * g_mean


def precision_gradient_applied_to_log_precision(prior_mean, prior_log_precision, batch, outer_lr):
    precision = tf.exp(prior_log_precision)
    with tf.GradientTape() as tape:
        tape.watch([prior_mean, precision])
        weights = ridge_fit(linear_features(batch.support_x), batch.support_y, prior_mean=prior_mean,
                            prior_precision=precision)
        loss = tf.reduce_mean(tf.square(ridge_predict(weights, linear_features(batch.query_x)) - batch.query_y))
    g_mean, g_precision = tape.gradient(loss, [prior_mean, precision])
    return prior_mean - outer_lr * g_mean, prior_log_precision - outer_lr * g_precision


def returns_the_precision(prior_mean, prior_log_precision, batch, outer_lr):
    new_mean, new_log_precision = right_update_tape(prior_mean, prior_log_precision, batch, outer_lr)
    return new_mean, tf.exp(new_log_precision)


def loss_on_the_support_set(prior_mean, prior_log_precision, batch, outer_lr):
    g_mean, g_log_precision = gradients(prior_mean, prior_log_precision, batch, on="support")
    return prior_mean - outer_lr * g_mean, prior_log_precision - outer_lr * g_log_precision


def ridge_in_numpy_so_no_gradient(prior_mean, prior_log_precision, batch, outer_lr):
    with tf.GradientTape() as tape:
        tape.watch([prior_mean, prior_log_precision])
        precision = np.exp(prior_log_precision.numpy())
        weights = tf.constant(right_numpy_loop(linear_features(batch.support_x).numpy(), batch.support_y.numpy(),
                                               prior_mean.numpy(), precision), tf.float32)
        loss = tf.reduce_mean(tf.square(ridge_predict(weights, linear_features(batch.query_x)) - batch.query_y))
    g_mean, g_log_precision = tape.gradient(loss, [prior_mean, prior_log_precision])
    return prior_mean - outer_lr * g_mean, prior_log_precision - outer_lr * g_log_precision


def returns_the_mean_only(prior_mean, prior_log_precision, batch, outer_lr):
    return right_update_tape(prior_mean, prior_log_precision, batch, outer_lr)[0]


WRONG_UPDATE = {
    gradient_sign_flipped: "uphill",
    mean_only: "Only μ moved",
    precision_only: "Only ρ moved",
    outer_lr_ignored: "while outer_lr = 0.5",
    summed_loss: "rather than summing",
    gradients_swapped: "gradients are swapped",
    precision_gradient_applied_to_log_precision: "gradient with respect to Λ",
    returns_the_precision: "not the precision",
    loss_on_the_support_set: "measured on the support points",
    ridge_in_numpy_so_no_gradient: "came back None",
    returns_the_mean_only: "return a tuple",
}


@pytest.mark.parametrize("implementation", list(WRONG_UPDATE), ids=[f.__name__ for f in WRONG_UPDATE])
def test_wrong_prior_updates_are_rejected_with_a_useful_hint(implementation):
    verdict = verdict_of(check_prior_update, implementation)
    assert verdict.startswith("❌ prior_update:")
    assert WRONG_UPDATE[implementation] in verdict


def test_the_update_cases_print_as_a_summary_not_as_tensors():
    verdict = verdict_of(check_prior_update, gradient_sign_flipped)
    assert "<TaskBatch: 8 tasks, K = 2, 10 query points>" in verdict
    assert "tf.Tensor" not in verdict


# =============================================================================================
# the solutions notebook writes the same maths as the library
# =============================================================================================
@pytest.fixture(scope="module")
def inline():
    return solution_namespace(SOLUTIONS)


def test_the_solution_notebooks_inline_ridge_fit_equals_the_library(inline):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 4, 3)), rng.normal(size=(5, 4, 1))
    mean, precision = rng.normal(size=3), rng.uniform(0.1, 3.0, size=3)
    got = inline["ridge_fit"](tf.constant(x), tf.constant(y), tf.constant(mean), tf.constant(precision))
    np.testing.assert_allclose(np.asarray(got), ridge_fit(x, y, prior_mean=mean, prior_precision=precision).numpy(),
                               rtol=1e-10)


def test_the_solution_notebooks_inline_ridge_learner_equals_the_library(inline):
    batch = LinearFamily(dtype=tf.float64).sample(4, 3, 7, seed=5)
    mean, precision = tf.constant([2.0, 0.0], tf.float64), tf.constant([0.36, 50.0], tf.float64)
    predictor = inline["ridge_learner"](batch.support_x, batch.support_y, mean, precision)
    expected = RidgeLearner(mean, precision)(batch.support_x, batch.support_y)(batch.query_x)
    np.testing.assert_allclose(np.asarray(predictor(batch.query_x)), expected.numpy(), rtol=1e-10)


def test_the_solution_notebooks_inline_prior_update_equals_the_library(inline):
    batch = LinearFamily(weight_mean=2.0, weight_std=0.5, noise_std=0.3, dtype=tf.float64).sample(6, 2, 9, seed=6)
    mean, log_precision = tf.constant([0.4, -0.1], tf.float64), tf.constant([0.3, 1.0], tf.float64)
    got = inline["prior_update"](mean, log_precision, batch, 0.2)
    expected = prior_update(mean, log_precision, batch, outer_lr=0.2)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=1e-10)
