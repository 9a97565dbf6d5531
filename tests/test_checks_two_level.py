"""The checks of ``02_two_level_learning``'s exercises accept right answers written in several ways and
reject every wrong one below with a hint that names the mistake — never a raw TensorFlow traceback."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.checks.core import CheckFailed
from metalearn_lib.checks.two_level import check_inner_step, check_maml_outer_loss, check_reptile_outer_update
from metalearn_lib.models import forward, init_mlp, mse, tile_params
from metalearn_lib.tasks import SinusoidFamily
from metalearn_lib.two_level import adapt, maml_loss, meta_gradient
from tests.check_tools import verdict_of
from tests.notebook_tools import solution_namespace

SOLUTIONS = "solutions/02_two_level_learning_exercises.ipynb"



# =============================================================================================
# inner_step(params, support_x, support_y, inner_lr) -> θ'_i, [num_tasks, ...] per parameter
# =============================================================================================
def right_inner_library(params, support_x, support_y, inner_lr):
    return adapt(params, support_x, support_y, inner_lr=inner_lr)


def right_inner_loop_over_tasks(params, support_x, support_y, inner_lr):
    per_task = []
    for i in range(support_x.shape[0]):
        with tf.GradientTape() as tape:
            tape.watch(params)
            loss = tf.reduce_mean(tf.square(forward(params, support_x[i]) - support_y[i]))
        grads = tape.gradient(loss, params)
        per_task.append([p - inner_lr * g for p, g in zip(params, grads, strict=True)])
    return [tf.stack(ps) for ps in zip(*per_task, strict=True)]


def right_inner_variables(params, support_x, support_y, inner_lr):
    copies = [tf.Variable(p) for p in tile_params(params, support_x.shape[0])]
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.reduce_mean(tf.square(forward(copies, support_x) - support_y), axis=[1, 2]))
    for variable, grad in zip(copies, tape.gradient(loss, copies), strict=True):
        variable.assign_sub(inner_lr * grad)
    return [v.numpy() for v in copies]


@pytest.mark.parametrize("implementation", [right_inner_library, right_inner_loop_over_tasks])
def test_right_inner_steps_pass(implementation, capsys):
    assert check_inner_step(implementation) is None
    assert "✅ inner_step: all 4 checks passed." in capsys.readouterr().out


def test_right_numbers_as_numpy_fail_and_say_why():
    """Exercise 2 differentiates through inner_step: NumPy arrays (the right numbers) would break it there."""
    verdict = verdict_of(check_inner_step, right_inner_variables)
    assert "got: NumPy arrays, not tf.Tensors hint: exercise 2 (maml_outer_loss) differentiates through inner_step" \
        in verdict
    assert "and 3 more cases failed the same way" in verdict and "raised" not in verdict


def _tiled_grads(params, support_x, support_y, reduce_tasks=tf.reduce_sum, reduce_points=tf.reduce_mean):
    copies = tile_params(params, support_x.shape[0])
    with tf.GradientTape() as tape:
        tape.watch(copies)
        per_task = reduce_points(tf.square(forward(copies, support_x) - support_y), axis=[1, 2])
        loss = reduce_tasks(per_task)
    return copies, tape.gradient(loss, copies)


def inner_sign_flipped(params, support_x, support_y, inner_lr):
    copies, grads = _tiled_grads(params, support_x, support_y)
    return [p + inner_lr * g for p, g in zip(copies, grads, strict=True)]


def inner_mean_over_tasks(params, support_x, support_y, inner_lr):
    copies, grads = _tiled_grads(params, support_x, support_y, reduce_tasks=tf.reduce_mean)
    return [p - inner_lr * g for p, g in zip(copies, grads, strict=True)]


def inner_sum_over_points(params, support_x, support_y, inner_lr):
    copies, grads = _tiled_grads(params, support_x, support_y, reduce_points=tf.reduce_sum)
    return [p - inner_lr * g for p, g in zip(copies, grads, strict=True)]


def inner_shared_gradient(params, support_x, support_y, inner_lr):
    with tf.GradientTape() as tape:
        tape.watch(params)
        loss = tf.reduce_mean(mse(forward(params, support_x), support_y))
    grads = tape.gradient(loss, params)
    return [p - inner_lr * g for p, g in zip(params, grads, strict=True)]


def inner_shared_gradient_tiled(params, support_x, support_y, inner_lr):
    return tile_params(inner_shared_gradient(params, support_x, support_y, inner_lr), support_x.shape[0])


def inner_lr_ignored(params, support_x, support_y, inner_lr):
    return right_inner_library(params, support_x, support_y, 0.1)


def inner_returns_gradient(params, support_x, support_y, inner_lr):
    return _tiled_grads(params, support_x, support_y)[1]


def inner_first_layer_only(params, support_x, support_y, inner_lr):
    copies, grads = _tiled_grads(params, support_x, support_y)
    return [copies[0] - inner_lr * grads[0], *copies[1:]]


def inner_forgot_return(params, support_x, support_y, inner_lr):
    right_inner_library(params, support_x, support_y, inner_lr)


WRONG_INNER = {
    inner_sign_flipped: "goes uphill",
    inner_mean_over_tasks: "averaged over tasks",
    inner_sum_over_points: "K times too large",
    inner_shared_gradient: "expected one set per task",
    inner_shared_gradient_tiled: "its own ∇L_i",
    inner_lr_ignored: "× the right length",
    inner_returns_gradient: "returned the gradient",
    inner_first_layer_only: "θ'_i = θ − α ∇_θ L_i^support(θ)",
    inner_forgot_return: "return",
}


@pytest.mark.parametrize("implementation", list(WRONG_INNER), ids=[f.__name__ for f in WRONG_INNER])
def test_wrong_inner_steps_are_rejected_with_a_useful_hint(implementation):
    verdict = verdict_of(check_inner_step, implementation)
    assert verdict.startswith("❌ inner_step:")
    assert WRONG_INNER[implementation] in verdict


def test_not_implemented_yet_gives_one_friendly_failure():
    def stub(params, support_x, support_y, inner_lr):
        raise NotImplementedError()

    with pytest.raises(CheckFailed) as failure:
        check_inner_step(stub)
    assert len(failure.value.report.failures) == 1
    assert "not written yet" in str(failure.value)


def test_the_learner_gets_float32_tensors_and_the_call_line_is_short():
    seen = []

    def spy(params, support_x, support_y, inner_lr):
        seen.append((type(params), params[0].dtype, support_x.dtype))
        return right_inner_library(params, support_x, support_y, inner_lr)

    check_inner_step(spy, quiet=True)
    assert all(t is list and a == b == tf.float32 for t, a, b in seen)
    verdict = verdict_of(check_inner_step, inner_sign_flipped)
    assert "inner_step([(1, 8), (8,), (8, 1), (1,)]" in verdict


# =============================================================================================
# maml_outer_loss(params, batch, inner_lr) -> scalar, differentiable through the inner step
# =============================================================================================
def right_outer_library(params, batch, inner_lr):
    return maml_loss(params, batch.support_x, batch.support_y, batch.query_x, batch.query_y, inner_lr=inner_lr)


def right_outer_explicit(params, batch, inner_lr):
    adapted = right_inner_loop_over_tasks(params, batch.support_x, batch.support_y, inner_lr)
    return tf.reduce_mean(tf.square(forward(adapted, batch.query_x) - batch.query_y))


def right_outer_sum_then_divide(params, batch, inner_lr):
    copies, grads = _tiled_grads(params, batch.support_x, batch.support_y)
    adapted = [p - inner_lr * g for p, g in zip(copies, grads, strict=True)]
    return tf.reduce_sum(mse(forward(adapted, batch.query_x), batch.query_y)) / batch.num_tasks


@pytest.mark.parametrize("implementation", [right_outer_library, right_outer_explicit, right_outer_sum_then_divide])
def test_right_outer_losses_pass(implementation, capsys):
    assert check_maml_outer_loss(implementation) is None
    assert "✅ maml_outer_loss: all 4 checks passed." in capsys.readouterr().out


def outer_first_order(params, batch, inner_lr):
    return maml_loss(params, batch.support_x, batch.support_y, batch.query_x, batch.query_y, inner_lr=inner_lr,
                     first_order=True)


def outer_stop_gradient_by_hand(params, batch, inner_lr):
    copies, grads = _tiled_grads(params, batch.support_x, batch.support_y)
    adapted = [p - inner_lr * tf.stop_gradient(g) for p, g in zip(copies, grads, strict=True)]
    return tf.reduce_mean(mse(forward(adapted, batch.query_x), batch.query_y))


def outer_inner_step_in_numpy(params, batch, inner_lr):
    copies, grads = _tiled_grads(params, batch.support_x, batch.support_y)
    adapted = [tf.constant(p.numpy() - inner_lr * g.numpy()) for p, g in zip(copies, grads, strict=True)]
    return tf.reduce_mean(mse(forward(adapted, batch.query_x), batch.query_y))


def outer_sign_flipped(params, batch, inner_lr):
    adapted = inner_sign_flipped(params, batch.support_x, batch.support_y, inner_lr)
    return tf.reduce_mean(mse(forward(adapted, batch.query_x), batch.query_y))


def outer_not_adapted(params, batch, inner_lr):
    return tf.reduce_mean(mse(forward(params, batch.query_x), batch.query_y))


def outer_adapts_on_query(params, batch, inner_lr):
    return maml_loss(params, batch.query_x, batch.query_y, batch.query_x, batch.query_y, inner_lr=inner_lr)


def outer_scores_on_support(params, batch, inner_lr):
    return maml_loss(params, batch.support_x, batch.support_y, batch.support_x, batch.support_y, inner_lr=inner_lr)


def outer_sum_over_tasks(params, batch, inner_lr):
    adapted = adapt(params, batch.support_x, batch.support_y, inner_lr=inner_lr)
    return tf.reduce_sum(mse(forward(adapted, batch.query_x), batch.query_y))


def outer_mean_over_points_only(params, batch, inner_lr):
    adapted = adapt(params, batch.support_x, batch.support_y, inner_lr=inner_lr)
    return mse(forward(adapted, batch.query_x), batch.query_y)


def outer_mean_over_tasks_only(params, batch, inner_lr):
    adapted = adapt(params, batch.support_x, batch.support_y, inner_lr=inner_lr)
    return tf.reduce_mean(tf.square(forward(adapted, batch.query_x) - batch.query_y), axis=0)


def outer_lr_ignored(params, batch, inner_lr):
    return right_outer_library(params, batch, 0.1)


def outer_returns_numpy(params, batch, inner_lr):
    return right_outer_library(params, batch, inner_lr).numpy()


WRONG_OUTER = {
    outer_first_order: "first-order MAML's",
    outer_stop_gradient_by_hand: "does not flow back through the inner step",
    outer_inner_step_in_numpy: "came back None",
    outer_sign_flipped: "goes uphill",
    outer_not_adapted: "measured at θ, not at the adapted",
    outer_adapts_on_query: "inner step used the query points",
    outer_scores_on_support: "scored on the support points",
    outer_sum_over_tasks: "num_tasks times too large",
    outer_mean_over_points_only: "one loss per task",
    outer_mean_over_tasks_only: "expected a scalar",
    outer_lr_ignored: "Pass inner_lr on",
    outer_returns_numpy: "not a tf.Tensor",
}


@pytest.mark.parametrize("implementation", list(WRONG_OUTER), ids=[f.__name__ for f in WRONG_OUTER])
def test_wrong_outer_losses_are_rejected_with_a_useful_hint(implementation):
    verdict = verdict_of(check_maml_outer_loss, implementation)
    assert verdict.startswith("❌ maml_outer_loss:")
    assert WRONG_OUTER[implementation] in verdict


def test_the_second_order_term_is_far_above_the_tolerance():
    """The check can only tell MAML from first-order MAML if their gradients differ clearly in every case."""
    params = init_mlp([1, 8, 1], seed=11, init="glorot", dtype=tf.float64)
    batch = SinusoidFamily(dtype=tf.float64).sample(2, 5, 8, seed=11)
    sets = (batch.support_x, batch.support_y, batch.query_x, batch.query_y)
    _, second = meta_gradient(params, *sets, inner_lr=0.1)
    _, first = meta_gradient(params, *sets, inner_lr=0.1, first_order=True)
    difference = max(float(tf.reduce_max(tf.abs(a - b))) for a, b in zip(second, first, strict=True))
    assert difference > 1e-2


def test_the_outer_cases_print_as_a_summary_not_as_tensors():
    verdict = verdict_of(check_maml_outer_loss, outer_sign_flipped)
    assert "<TaskBatch: 2 tasks, K = 5, 8 query points>" in verdict
    assert "tf.Tensor" not in verdict


# =============================================================================================
# reptile_outer_update(params, adapted_params, outer_lr) -> new shared θ
# =============================================================================================
def right_reptile_library_formula(params, adapted_params, outer_lr):
    return [p + outer_lr * (tf.reduce_mean(phi, axis=0) - p) for p, phi in zip(params, adapted_params, strict=True)]


def right_reptile_interpolation(params, adapted_params, outer_lr):
    return [(1 - outer_lr) * p.numpy() + outer_lr * np.mean(phi.numpy(), axis=0)
            for p, phi in zip(params, adapted_params, strict=True)]


def right_reptile_mean_of_differences(params, adapted_params, outer_lr):
    return [p + outer_lr * tf.reduce_mean(phi - p, axis=0) for p, phi in zip(params, adapted_params, strict=True)]


@pytest.mark.parametrize("implementation", [right_reptile_library_formula, right_reptile_interpolation,
                                            right_reptile_mean_of_differences])
def test_right_reptile_updates_pass(implementation, capsys):
    assert check_reptile_outer_update(implementation) is None
    assert "✅ reptile_outer_update: all 4 checks passed." in capsys.readouterr().out


def reptile_moves_away(params, adapted_params, outer_lr):
    return [p - outer_lr * (tf.reduce_mean(phi, axis=0) - p) for p, phi in zip(params, adapted_params, strict=True)]


def reptile_interpolates_from_the_adapted(params, adapted_params, outer_lr):
    return [tf.reduce_mean(phi, axis=0) + outer_lr * (p - tf.reduce_mean(phi, axis=0))
            for p, phi in zip(params, adapted_params, strict=True)]


def reptile_forgets_minus_theta(params, adapted_params, outer_lr):
    return [p + outer_lr * tf.reduce_mean(phi, axis=0) for p, phi in zip(params, adapted_params, strict=True)]


def reptile_epsilon_on_adapted_only(params, adapted_params, outer_lr):
    return [outer_lr * tf.reduce_mean(phi, axis=0) for phi in adapted_params]


def reptile_sums_over_tasks(params, adapted_params, outer_lr):
    return [p + outer_lr * (tf.reduce_sum(phi, axis=0) - p) for p, phi in zip(params, adapted_params, strict=True)]


def reptile_no_mean(params, adapted_params, outer_lr):
    return [p + outer_lr * (phi - p) for p, phi in zip(params, adapted_params, strict=True)]


def reptile_mean_over_the_last_axis(params, adapted_params, outer_lr):
    return [p + outer_lr * (tf.reduce_mean(phi, axis=-1) - p) for p, phi in zip(params, adapted_params, strict=True)]


def reptile_lr_ignored(params, adapted_params, outer_lr):
    return right_reptile_library_formula(params, adapted_params, 0.5)


def reptile_returns_the_mean(params, adapted_params, outer_lr):
    return [tf.reduce_mean(phi, axis=0) for phi in adapted_params]


def reptile_first_parameter_only(params, adapted_params, outer_lr):
    return right_reptile_library_formula(params[:1], adapted_params[:1], outer_lr)


WRONG_REPTILE = {
    reptile_moves_away: "moved away",
    reptile_interpolates_from_the_adapted: "interpolated from φ̄ towards θ",
    reptile_forgets_minus_theta: "− θ is missing",
    reptile_epsilon_on_adapted_only: "applied to the adapted parameters alone",
    reptile_sums_over_tasks: "summed over tasks",
    reptile_no_mean: "average the adapted parameters over the task axis",
    reptile_mean_over_the_last_axis: "expected",
    reptile_lr_ignored: "while outer_lr = 0.25",
    reptile_returns_the_mean: "returned φ̄ itself",
    reptile_first_parameter_only: "one per parameter",
}


@pytest.mark.parametrize("implementation", list(WRONG_REPTILE), ids=[f.__name__ for f in WRONG_REPTILE])
def test_wrong_reptile_updates_are_rejected_with_a_useful_hint(implementation):
    verdict = verdict_of(check_reptile_outer_update, implementation)
    assert verdict.startswith("❌ reptile_outer_update:")
    assert WRONG_REPTILE[implementation] in verdict


# =============================================================================================
# the solutions notebook writes the same maths as the library
# =============================================================================================
@pytest.fixture(scope="module")
def inline():
    return solution_namespace(SOLUTIONS)


@pytest.fixture(scope="module")
def problem():
    params = init_mlp([1, 10, 10, 1], seed=4, init="glorot", dtype=tf.float64)
    return params, SinusoidFamily(dtype=tf.float64).sample(3, 6, 7, seed=4)


def test_the_solution_notebooks_inline_inner_step_equals_the_library(inline, problem):
    params, batch = problem
    got = inline["inner_step"](params, batch.support_x, batch.support_y, 0.05)
    for a, b in zip(got, adapt(params, batch.support_x, batch.support_y, inner_lr=0.05), strict=True):
        np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=1e-10)


def test_the_solution_notebooks_inline_outer_loss_and_its_gradient_equal_the_library(inline, problem):
    params, batch = problem
    with tf.GradientTape() as tape:
        tape.watch(params)
        loss = inline["maml_outer_loss"](params, batch, 0.05)
    grads = tape.gradient(loss, params)
    expected_loss, expected_grads = meta_gradient(params, batch.support_x, batch.support_y, batch.query_x,
                                                  batch.query_y, inner_lr=0.05)
    np.testing.assert_allclose(float(loss), float(expected_loss), rtol=1e-10)
    for a, b in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-8, atol=1e-12)


def test_the_solution_notebooks_inline_reptile_update_equals_the_library(inline, problem):
    from metalearn_lib.two_level import reptile_update

    params, batch = problem
    adapted = adapt(params, batch.support_x, batch.support_y, inner_lr=0.05, num_inner_steps=3, first_order=True)
    got = inline["reptile_outer_update"](params, adapted, 0.3)
    expected = reptile_update(params, batch.support_x, batch.support_y, inner_lr=0.05, num_inner_steps=3,
                              outer_lr=0.3)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=1e-10)
