"""The checks of ``04_teacher_guided_loop``: right answers pass, every wrong one is rejected with a hint."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.checks.core import CheckFailed
from metalearn_lib.checks.teacher import (
    check_exact_linear_update,
    check_gradient_teacher_update,
    check_meta_sgd_step,
)
from metalearn_lib.models import forward, mse
from metalearn_lib.tasks import SinusoidFamily
from metalearn_lib.teacher import ExactLinearTeacher, GradientTeacher, LearnerState
from metalearn_lib.teacher.meta_sgd import meta_sgd_gradient
from metalearn_lib.two_level import adapt
from tests.check_tools import verdict_of
from tests.notebook_tools import REPO_ROOT, solution_namespace

SOLUTIONS = REPO_ROOT / "solutions" / "04_teacher_guided_loop_exercises.ipynb"


def _state(params, grads=None):
    grads = grads if grads is not None else [tf.zeros_like(p) for p in params]
    return LearnerState(params=list(params), loss=tf.constant(0.0, params[0].dtype), grads=list(grads), step=0)


# =============================================================================================
# gradient_teacher_update(params, grads, learning_rate)
# =============================================================================================
def right_gradient_library(params, grads, learning_rate):
    return GradientTeacher(learning_rate).update(_state(params, grads))


def right_gradient_numpy(params, grads, learning_rate):
    return [-learning_rate * np.asarray(g) for g in grads]


def right_gradient_tuple(params, grads, learning_rate):
    return tuple(tf.math.negative(g) * learning_rate for g in grads)


@pytest.mark.parametrize("implementation", [right_gradient_library, right_gradient_numpy, right_gradient_tuple])
def test_right_gradient_teacher_updates_pass(implementation, capsys):
    assert check_gradient_teacher_update(implementation) is None
    assert "✅ gradient_teacher_update: all 4 checks passed." in capsys.readouterr().out


def gradient_sign_flipped(params, grads, learning_rate):
    return [learning_rate * g for g in grads]


def gradient_returns_new_params(params, grads, learning_rate):
    return [p - learning_rate * g for p, g in zip(params, grads, strict=True)]


def gradient_uses_params(params, grads, learning_rate):
    return [-learning_rate * p for p in params]


def gradient_learning_rate_ignored(params, grads, learning_rate):
    return [-g for g in grads]


def gradient_learning_rate_upside_down(params, grads, learning_rate):
    return [-g / learning_rate if learning_rate else 0 * g for g in grads]


def gradient_single_tensor(params, grads, learning_rate):
    return -learning_rate * grads[0]


def gradient_first_parameter_only(params, grads, learning_rate):
    return [-learning_rate * grads[0]]


def gradient_forgot_return(params, grads, learning_rate):
    [-learning_rate * g for g in grads]


WRONG_GRADIENT = {
    gradient_sign_flipped: "sign is flipped",
    gradient_returns_new_params: "returned the new parameters",
    gradient_uses_params: "uses the parameters instead of the gradients",
    gradient_learning_rate_ignored: "learning rate is ignored",
    gradient_learning_rate_upside_down: "upside down",
    gradient_single_tensor: "one tensor per parameter",
    gradient_first_parameter_only: "expected 4 (one per parameter)",
    gradient_forgot_return: "return",
}


@pytest.mark.parametrize("implementation", list(WRONG_GRADIENT), ids=[f.__name__ for f in WRONG_GRADIENT])
def test_wrong_gradient_teacher_updates_are_rejected_with_a_useful_hint(implementation):
    verdict = verdict_of(check_gradient_teacher_update, implementation)
    assert verdict.startswith("❌ gradient_teacher_update:")
    assert WRONG_GRADIENT[implementation] in verdict


def test_not_implemented_yet_gives_one_friendly_failure():
    def stub(params, grads, learning_rate):
        raise NotImplementedError()

    with pytest.raises(CheckFailed) as failure:
        check_gradient_teacher_update(stub)
    assert len(failure.value.report.failures) == 1
    assert "not written yet" in str(failure.value)


# =============================================================================================
# exact_linear_update(params, x, y, l2)
# =============================================================================================
def right_exact_library(params, x, y, l2):
    return ExactLinearTeacher(x, y, l2=l2).update(_state(params))


def right_exact_numpy(params, x, y, l2):
    x, y, theta = np.asarray(x), np.asarray(y), np.asarray(params[0])
    star = np.linalg.solve(x.T @ x + l2 * np.eye(x.shape[1]), x.T @ y)
    return [star - theta]


def right_exact_lstsq_augmented(params, x, y, l2):
    """θ* as least squares on [X; √λ I] θ ≈ [y; 0]."""
    x, y = np.asarray(x), np.asarray(y)
    d = x.shape[1]
    big_x = np.vstack([x, np.sqrt(l2) * np.eye(d)])
    big_y = np.vstack([y, np.zeros((d, 1))])
    star = np.linalg.lstsq(big_x, big_y, rcond=None)[0]
    return [tf.constant(star) - params[0]]


@pytest.mark.parametrize("implementation", [right_exact_library, right_exact_numpy, right_exact_lstsq_augmented])
def test_right_exact_updates_pass(implementation, capsys):
    assert check_exact_linear_update(implementation) is None
    assert "✅ exact_linear_update: all 5 checks passed." in capsys.readouterr().out


def _star(x, y, l2):
    x, y = np.asarray(x), np.asarray(y)
    return np.linalg.solve(x.T @ x + l2 * np.eye(x.shape[1]), x.T @ y)


def exact_returns_theta_star(params, x, y, l2):
    return [_star(x, y, l2)]


def exact_sign_flipped(params, x, y, l2):
    return [np.asarray(params[0]) - _star(x, y, l2)]


def exact_article_feedback(params, x, y, l2):
    return [tf.matmul(x, y, transpose_a=True)]


def exact_article_replace(params, x, y, l2):
    return [tf.matmul(x, y, transpose_a=True) - params[0]]


def exact_l2_ignored(params, x, y, l2):
    return [_star(x, y, 0.0) - np.asarray(params[0])]


def exact_l2_times_n(params, x, y, l2):
    return [_star(x, y, l2 * x.shape[0]) - np.asarray(params[0])]


def exact_gradient_step(params, x, y, l2):
    n = x.shape[0]
    grad = 2.0 / n * (tf.matmul(x, tf.matmul(x, params[0]) - y, transpose_a=True) + l2 * params[0])
    return [-0.1 * grad]


def exact_bare_array(params, x, y, l2):
    return _star(x, y, l2) - np.asarray(params[0])


def exact_flat_vector(params, x, y, l2):
    return [np.ravel(_star(x, y, l2) - np.asarray(params[0]))]


WRONG_EXACT = {
    exact_returns_theta_star: "ignores the learner's current parameters",
    exact_sign_flipped: "sign is flipped",
    exact_article_feedback: "article's feedback Xᵀy",
    exact_article_replace: "article's 'replace' rule",
    exact_l2_ignored: "ridge penalty λ is ignored",
    exact_l2_times_n: "multiplied by n",
    exact_gradient_step: "gradient step",
    exact_bare_array: "return a list",
    exact_flat_vector: "must have θ_j's shape",
}


@pytest.mark.parametrize("implementation", list(WRONG_EXACT), ids=[f.__name__ for f in WRONG_EXACT])
def test_wrong_exact_updates_are_rejected_with_a_useful_hint(implementation):
    verdict = verdict_of(check_exact_linear_update, implementation)
    assert verdict.startswith("❌ exact_linear_update:")
    assert WRONG_EXACT[implementation] in verdict


# =============================================================================================
# meta_sgd_step(params, alphas, batch, outer_lr)
# =============================================================================================
def right_meta_library(params, alphas, batch, outer_lr):
    _, gp, ga = meta_sgd_gradient(params, alphas, batch.support_x, batch.support_y, batch.query_x, batch.query_y)
    return ([p - outer_lr * g for p, g in zip(params, gp, strict=True)],
            [a - outer_lr * g for a, g in zip(alphas, ga, strict=True)])


def right_meta_with_adapt(params, alphas, batch, outer_lr):
    with tf.GradientTape() as tape:
        tape.watch(params + alphas)
        adapted = adapt(params, batch.support_x, batch.support_y, inner_lr=alphas)
        loss = tf.reduce_mean(mse(forward(adapted, batch.query_x), batch.query_y))
    grads = tape.gradient(loss, params + alphas)
    new = [v - outer_lr * g for v, g in zip(params + alphas, grads, strict=True)]
    return new[: len(params)], new[len(params):]


def _written_out(params, alphas, batch, outer_lr, *, inner=None, alpha_for=None, outer_alpha=True,
                 stop_alpha=False, outer_sign=-1.0, lr=None, swap=False):
    """A task-by-task Meta-SGD step with optional, named mistakes."""
    lr = outer_lr if lr is None else lr
    sx, sy, qx, qy = batch.support_x, batch.support_y, batch.query_x, batch.query_y
    if swap:
        sx, sy, qx, qy = qx, qy, sx, sy
    with tf.GradientTape() as outer:
        outer.watch(params + alphas)
        used = [tf.stop_gradient(a) for a in alphas] if stop_alpha else alphas
        if alpha_for is not None:
            used = alpha_for(params, used)
        losses = []
        for i in range(batch.num_tasks):
            with tf.GradientTape() as tape:
                tape.watch(params)
                support = mse(forward(params, sx[i]), sy[i])
            grads = tape.gradient(support, params)
            step = inner or (lambda p, a, g: p - a * g)
            adapted = [step(p, a, g) for p, a, g in zip(params, used, grads, strict=True)]
            losses.append(mse(forward(adapted, qx[i]), qy[i]))
        loss = tf.add_n(losses) / len(losses)
    g = outer.gradient(loss, params + alphas, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    n = len(params)
    new_params = [p + outer_sign * lr * gp for p, gp in zip(params, g[:n], strict=True)]
    new_alphas = [a + outer_sign * lr * ga for a, ga in zip(alphas, g[n:], strict=True)] if outer_alpha else alphas
    return new_params, new_alphas


def right_meta_written_out(params, alphas, batch, outer_lr):
    return _written_out(params, alphas, batch, outer_lr)


@pytest.mark.parametrize("implementation", [right_meta_library, right_meta_with_adapt, right_meta_written_out])
def test_right_meta_sgd_steps_pass(implementation, capsys):
    assert check_meta_sgd_step(implementation) is None
    assert "✅ meta_sgd_step: all 4 checks passed." in capsys.readouterr().out


def meta_alpha_rotated(params, alphas, batch, outer_lr):
    """Layer j gets (the mean of) the step size of layer j + 1."""
    def rotate(params, alphas):
        shifted = alphas[1:] + alphas[:1]
        return [tf.fill(tf.shape(p), tf.reduce_mean(a)) for p, a in zip(params, shifted, strict=True)]
    return _written_out(params, alphas, batch, outer_lr, alpha_for=rotate)


def meta_alpha_on_params(params, alphas, batch, outer_lr):
    return _written_out(params, alphas, batch, outer_lr, inner=lambda p, a, g: p - a * p)


def meta_alpha_not_updated(params, alphas, batch, outer_lr):
    return _written_out(params, alphas, batch, outer_lr, outer_alpha=False)


def meta_alpha_stop_gradient(params, alphas, batch, outer_lr):
    return _written_out(params, alphas, batch, outer_lr, stop_alpha=True)


def meta_alpha_numpy_copy(params, alphas, batch, outer_lr):
    """α leaves TensorFlow (.numpy()), so the tape cannot see it."""
    new_params, _ = _written_out(params, [tf.constant(a.numpy()) for a in alphas], batch, outer_lr, stop_alpha=True)
    return new_params, [tf.constant(a.numpy()) for a in alphas]


def meta_alpha_gets_theta_gradient(params, alphas, batch, outer_lr):
    with tf.GradientTape() as tape:
        tape.watch(params)
        adapted = adapt(params, batch.support_x, batch.support_y, inner_lr=alphas)
        loss = tf.reduce_mean(mse(forward(adapted, batch.query_x), batch.query_y))
    grads = tape.gradient(loss, params)
    return ([p - outer_lr * g for p, g in zip(params, grads, strict=True)],
            [a - outer_lr * g for a, g in zip(alphas, grads, strict=True)])


def meta_outer_sign_flipped(params, alphas, batch, outer_lr):
    return _written_out(params, alphas, batch, outer_lr, outer_sign=+1.0)


def meta_inner_sign_flipped(params, alphas, batch, outer_lr):
    return _written_out(params, alphas, batch, outer_lr, inner=lambda p, a, g: p + a * g)


def meta_outer_lr_ignored(params, alphas, batch, outer_lr):
    return _written_out(params, alphas, batch, outer_lr, lr=1e-3)


def meta_first_order(params, alphas, batch, outer_lr):
    return _written_out(params, alphas, batch, outer_lr, inner=lambda p, a, g: p - a * tf.stop_gradient(g))


def meta_sets_swapped(params, alphas, batch, outer_lr):
    return _written_out(params, alphas, batch, outer_lr, swap=True)


def meta_inner_uses_outer_lr(params, alphas, batch, outer_lr):
    return _written_out(params, alphas, batch, outer_lr,
                        alpha_for=lambda params, alphas: [tf.fill(tf.shape(p), tf.constant(outer_lr, p.dtype))
                                                          for p in params])


def meta_returns_swapped(params, alphas, batch, outer_lr):
    new_params, new_alphas = _written_out(params, alphas, batch, outer_lr)
    return new_alphas, new_params


def meta_returns_params_only(params, alphas, batch, outer_lr):
    return _written_out(params, alphas, batch, outer_lr)[0]


def meta_forgot_return(params, alphas, batch, outer_lr):
    _written_out(params, alphas, batch, outer_lr)


WRONG_META = {
    meta_alpha_rotated: "applied to the wrong parameters",
    meta_alpha_on_params: "α multiplies θ instead of the gradient",
    meta_alpha_not_updated: "not updated by the meta-gradient",
    meta_alpha_stop_gradient: "not updated by the meta-gradient",
    meta_alpha_numpy_copy: "not updated by the meta-gradient",
    meta_alpha_gets_theta_gradient: "their own meta-gradient ∂L/∂α",
    meta_outer_sign_flipped: "outer step has the wrong sign",
    meta_inner_sign_flipped: "inner step has the wrong sign",
    meta_outer_lr_ignored: "outer_lr is ignored",
    meta_first_order: "second-order path is missing",
    meta_sets_swapped: "Support and query are swapped",
    meta_inner_uses_outer_lr: "inner step uses outer_lr, not α",
    meta_returns_swapped: "two lists are swapped",
    meta_returns_params_only: "expected a pair (new_params, new_alphas)",
    meta_forgot_return: "return",
}


@pytest.mark.parametrize("implementation", list(WRONG_META), ids=[f.__name__ for f in WRONG_META])
def test_wrong_meta_sgd_steps_are_rejected_with_a_useful_hint(implementation):
    verdict = verdict_of(check_meta_sgd_step, implementation)
    assert verdict.startswith("❌ meta_sgd_step:")
    assert WRONG_META[implementation] in verdict


def test_the_call_line_shows_the_batch_as_a_summary():
    verdict = verdict_of(check_meta_sgd_step, meta_alpha_not_updated)
    assert "<TaskBatch: 2 tasks, K = 5, 6 query points>" in verdict


# =============================================================================================
# the solutions notebook writes the same maths as the library
# =============================================================================================
@pytest.fixture(scope="module")
def inline():
    return solution_namespace(SOLUTIONS)


def test_the_solution_notebooks_inline_gradient_teacher_equals_the_library(inline):
    rng = np.random.default_rng(0)
    params = [tf.constant(rng.normal(size=s)) for s in ((2, 3), (3,))]
    grads = [tf.constant(rng.normal(size=s)) for s in ((2, 3), (3,))]
    got = inline["gradient_teacher_update"](params, grads, 0.3)
    want = GradientTeacher(0.3).update(_state(params, grads))
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(g), w.numpy(), rtol=1e-12)


def test_the_solution_notebooks_inline_exact_update_equals_the_library(inline):
    rng = np.random.default_rng(1)
    x, y, theta = rng.normal(size=(9, 3)), rng.normal(size=(9, 1)), rng.normal(size=(3, 1))
    for l2 in (0.0, 0.7):
        got = inline["exact_linear_update"]([tf.constant(theta)], tf.constant(x), tf.constant(y), l2)
        want = ExactLinearTeacher(tf.constant(x), tf.constant(y), l2=l2).update(_state([tf.constant(theta)]))
        np.testing.assert_allclose(np.asarray(got[0]), want[0].numpy(), rtol=1e-9, atol=1e-12)


def test_the_solution_notebooks_inline_meta_sgd_step_equals_the_library(inline):
    batch = SinusoidFamily(dtype=tf.float64).sample(3, 4, 5, seed=7)
    rng = np.random.default_rng(2)
    params = [tf.constant(rng.normal(size=s)) for s in ((1, 5), (5,), (5, 1), (1,))]
    alphas = [tf.constant(rng.uniform(0.0, 0.1, size=p.shape)) for p in params]
    got_p, got_a = inline["meta_sgd_step"](params, alphas, batch, 0.2)
    want_p, want_a = right_meta_library(params, alphas, batch, 0.2)
    for g, w in zip(list(got_p) + list(got_a), want_p + want_a, strict=True):
        np.testing.assert_allclose(np.asarray(g), w.numpy(), rtol=1e-9, atol=1e-12)
