"""The checks of ``08_applications``'s exercises accept right answers written in several ways and reject
every typical wrong one with a hint that names the mistake — in a short verdict, never a traceback."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.applications.multi_task import average_regressors, regulariser_penalty
from metalearn_lib.applications.online import online_meta_update as library_online_meta_update
from metalearn_lib.checks import check_average_parameters as exported_average_check
from metalearn_lib.checks.applications import (
    _ATOL,
    _RTOL,
    _online_cases,
    _online_variants,
    check_average_parameters,
    check_mean_penalty,
    check_online_meta_update,
)
from metalearn_lib.checks.core import CheckFailed
from metalearn_lib.models import forward, mse, tile_params
from metalearn_lib.two_level import adapt, meta_gradient
from tests.check_tools import verdict_of
from tests.notebook_tools import REPO_ROOT, solution_namespace

SOLUTIONS = REPO_ROOT / "solutions" / "08_applications_exercises.ipynb"


def _num(params):
    return params[0].shape[0]


# =============================================================================================
# average_parameters(stacked_params) -> θ̄
# =============================================================================================
def right_average_reduce_mean(stacked_params):
    return [tf.reduce_mean(p, axis=0) for p in stacked_params]


def right_average_sum_over_n(stacked_params):
    return [tf.reduce_sum(p, axis=0) / p.shape[0] for p in stacked_params]


def right_average_library(stacked_params):
    return average_regressors(stacked_params)


def right_average_unstacked(stacked_params):
    return tuple(tf.add_n(tf.unstack(p)) / len(tf.unstack(p)) for p in stacked_params)


@pytest.mark.parametrize("implementation", [right_average_reduce_mean, right_average_sum_over_n,
                                            right_average_library, right_average_unstacked])
def test_right_averages_pass(implementation, capsys):
    assert check_average_parameters(implementation) is None
    assert "✅ average_parameters: all 4 checks passed." in capsys.readouterr().out


def average_over_axis_1(stacked_params):
    return [tf.reduce_mean(p, axis=1) for p in stacked_params]


def average_over_last_axis(stacked_params):
    return [tf.reduce_mean(p, axis=-1) for p in stacked_params]


def average_flattened(stacked_params):
    flat = tf.concat([tf.reshape(p, [_num(stacked_params), -1]) for p in stacked_params], axis=1)
    return [tf.reduce_mean(flat, axis=0)]


def average_flattened_tensor(stacked_params):
    return average_flattened(stacked_params)[0]


def average_everything(stacked_params):
    return [tf.reduce_mean(p) for p in stacked_params]


def average_each_network(stacked_params):
    return [tf.reduce_mean(p, axis=list(range(1, p.shape.rank))) for p in stacked_params]


def average_summed(stacked_params):
    return [tf.reduce_sum(p, axis=0) for p in stacked_params]


def average_numpy(stacked_params):
    return [np.mean(p.numpy(), axis=0) for p in stacked_params]


def average_through_numpy(stacked_params):
    return [tf.constant(np.mean(p.numpy(), axis=0)) for p in stacked_params]


def average_unchanged(stacked_params):
    return stacked_params


def average_first_regressor(stacked_params):
    return [p[0] for p in stacked_params]


def average_forgot_return(stacked_params):
    right_average_reduce_mean(stacked_params)


def average_over_the_list(stacked_params):
    return tf.reduce_mean(stacked_params, axis=0)  # tries to stack W1, b1, … of different shapes


WRONG_AVERAGES = {
    average_over_axis_1: "you averaged over axis 1 (a layer's inputs); the regressors are axis 0",
    average_over_last_axis: "you averaged over the last axis",
    average_flattened: "one flat tensor",
    average_flattened_tensor: "a single tensor of shape",
    average_everything: "tf.reduce_mean(p) without an axis averages every entry",
    average_each_network: "you averaged each network's entries",
    average_summed: "You summed the regressors: the average divides the sum by N = 5",
    average_numpy: "got: NumPy arrays, not tf.Tensors hint: later cells differentiate θ̄",
    average_through_numpy: "no gradient path from θ̄ back to the regressors",
    average_unchanged: "the stacked parameters unchanged",
    average_first_regressor: "You returned the first regressor θ_1",
    average_forgot_return: "is a `return` statement missing?",
    average_over_the_list: "layer by layer: tf.reduce_mean(p, axis=0) for every p",
}


@pytest.mark.parametrize("implementation", list(WRONG_AVERAGES), ids=[f.__name__ for f in WRONG_AVERAGES])
def test_wrong_averages_are_rejected_with_a_useful_hint(implementation):
    verdict = verdict_of(check_average_parameters, implementation)
    assert verdict.startswith("❌ average_parameters:")
    assert WRONG_AVERAGES[implementation] in verdict


def test_only_the_values_tell_the_axes_apart_when_n_equals_every_width():
    """Axis 1 and axis 0 give the same shapes for N = 3 regressors of a 3-3-3 network: the values decide."""
    def axis_1_where_the_shapes_allow_it(stacked_params):
        if stacked_params[0].shape == (3, 3, 3):
            return average_over_axis_1(stacked_params)
        return right_average_reduce_mean(stacked_params)

    verdict = verdict_of(check_average_parameters, axis_1_where_the_shapes_allow_it)
    assert "1 of 4 checks failed" in verdict
    assert "You averaged over axis 1 (a layer's inputs, here as many as the regressors)" in verdict


def test_the_check_is_exported_with_the_other_chapters_checks():
    assert exported_average_check is check_average_parameters


# =============================================================================================
# mean_penalty(stacked_params, reg_strength) -> [N]
# =============================================================================================
def _squared_distances(stacked_params, centre=lambda p: tf.stop_gradient(tf.reduce_mean(p, axis=0)),
                       square=tf.square, reduce=tf.reduce_sum):
    num = _num(stacked_params)
    return tf.add_n([reduce(tf.reshape(square(p - centre(p)), [num, -1]), axis=1) for p in stacked_params])


def right_penalty_mean_held_constant(stacked_params, reg_strength):
    return reg_strength * _squared_distances(stacked_params)


def right_penalty_mean_not_held(stacked_params, reg_strength):
    return reg_strength * _squared_distances(stacked_params, centre=lambda p: tf.reduce_mean(p, axis=0))


def right_penalty_library(stacked_params, reg_strength):
    return reg_strength * regulariser_penalty(stacked_params, "mean")


def right_penalty_flat(stacked_params, reg_strength):
    flat = tf.concat([tf.reshape(p, [_num(stacked_params), -1]) for p in stacked_params], axis=1)
    return reg_strength * tf.reduce_sum(tf.square(flat - tf.reduce_mean(flat, axis=0)), axis=1)


@pytest.mark.parametrize("implementation", [right_penalty_mean_held_constant, right_penalty_mean_not_held,
                                            right_penalty_library, right_penalty_flat])
def test_right_penalties_pass(implementation, capsys):
    assert check_mean_penalty(implementation) is None
    assert "✅ mean_penalty: all 5 checks passed." in capsys.readouterr().out


def penalty_negative(stacked_params, reg_strength):
    return -right_penalty_mean_held_constant(stacked_params, reg_strength)


def penalty_not_squared(stacked_params, reg_strength):
    flat = tf.concat([tf.reshape(p, [_num(stacked_params), -1]) for p in stacked_params], axis=1)
    return reg_strength * tf.norm(flat - tf.reduce_mean(flat, axis=0), axis=1)


def penalty_absolute(stacked_params, reg_strength):
    return reg_strength * _squared_distances(stacked_params, square=tf.abs)


def penalty_l2(stacked_params, reg_strength):
    return reg_strength * _squared_distances(stacked_params, centre=lambda p: 0.0)


def penalty_mean_over_axis_1(stacked_params, reg_strength):
    return reg_strength * _squared_distances(stacked_params,
                                             centre=lambda p: tf.reduce_mean(p, axis=1, keepdims=True))


def penalty_towards_own_mean(stacked_params, reg_strength):
    return reg_strength * _squared_distances(
        stacked_params, centre=lambda p: tf.reduce_mean(p, axis=list(range(1, p.shape.rank)), keepdims=True))


def penalty_mean_of_squares(stacked_params, reg_strength):
    return reg_strength * _squared_distances(stacked_params, reduce=tf.reduce_mean)


def penalty_total(stacked_params, reg_strength):
    return tf.reduce_sum(right_penalty_mean_held_constant(stacked_params, reg_strength))


def penalty_per_layer(stacked_params, reg_strength):
    num = _num(stacked_params)
    return [reg_strength * tf.reduce_sum(tf.reshape(tf.square(p - tf.reduce_mean(p, axis=0)), [num, -1]), axis=1)
            for p in stacked_params]


def penalty_not_summed(stacked_params, reg_strength):
    flat = tf.concat([tf.reshape(p, [_num(stacked_params), -1]) for p in stacked_params], axis=1)
    return reg_strength * tf.square(flat - tf.reduce_mean(flat, axis=0))


def penalty_without_strength(stacked_params, reg_strength):
    return _squared_distances(stacked_params)


def penalty_halved(stacked_params, reg_strength):
    return 0.5 * right_penalty_mean_held_constant(stacked_params, reg_strength)


def penalty_numpy(stacked_params, reg_strength):
    return right_penalty_mean_held_constant(stacked_params, reg_strength).numpy()


def penalty_through_numpy(stacked_params, reg_strength):
    return tf.constant(right_penalty_mean_held_constant(stacked_params, reg_strength).numpy())


WRONG_PENALTIES = {
    penalty_negative: "The penalty is negative: −λ‖θ_i − θ̄‖² rewards the networks for moving apart",
    penalty_not_squared: "You returned the distance ‖θ_i − θ̄‖, not its square",
    penalty_absolute: "You summed absolute differences",
    penalty_l2: "You penalised ‖θ_i‖², weight decay",
    penalty_mean_over_axis_1: "you averaged over axis 1.",
    penalty_towards_own_mean: "you pulled each network towards its own mean weight",
    penalty_mean_of_squares: "You averaged the squared differences over each layer's entries",
    penalty_total: "a scalar (the total over the regressors?)",
    penalty_per_layer: "got: a list of 6 items hint: add the layers",
    penalty_not_summed: "the squares were not summed over each regressor's entries",
    penalty_without_strength: "The penalties are 10 × the right ones",
    penalty_halved: "The penalties are 0.5 × the right ones",
    penalty_numpy: "got: NumPy, not a tf.Tensor hint: training adds the penalty to the loss and differentiates it",
    penalty_through_numpy: "came back None",
}


@pytest.mark.parametrize("implementation", list(WRONG_PENALTIES), ids=[f.__name__ for f in WRONG_PENALTIES])
def test_wrong_penalties_are_rejected_with_a_useful_hint(implementation):
    verdict = verdict_of(check_mean_penalty, implementation)
    assert verdict.startswith("❌ mean_penalty:")
    assert WRONG_PENALTIES[implementation] in verdict


def test_a_norm_whose_gradient_is_nan_at_distance_0_is_named():
    verdict = verdict_of(check_mean_penalty, penalty_not_squared)
    assert "a single regressor (N = 1)" in verdict and "The gradient of your penalty is NaN" in verdict


def test_holding_the_mean_constant_does_not_change_the_gradient_of_the_summed_penalty():
    """Why the check accepts both: ∂/∂θ_i Σ_j ‖θ_j − θ̄‖² = 2(θ_i − θ̄) either way, as Σ_j (θ_j − θ̄) = 0."""
    stacked = [tf.constant(np.random.default_rng(0).normal(size=shape)) for shape in [(4, 1, 3), (4, 3)]]
    grads = []
    for implementation in (right_penalty_mean_held_constant, right_penalty_mean_not_held):
        with tf.GradientTape() as tape:
            tape.watch(stacked)
            total = tf.reduce_sum(implementation(stacked, 0.5))
        grads.append(tape.gradient(total, stacked))
    for held, free, p in zip(*grads, stacked, strict=True):
        np.testing.assert_allclose(held.numpy(), free.numpy(), rtol=1e-12)
        np.testing.assert_allclose(held.numpy(), (p - tf.reduce_mean(p, axis=0)).numpy(), rtol=1e-12)  # 2λ = 1


# =============================================================================================
# online_meta_update(init_params, support_x, support_y, query_x, query_y, *, inner_lr, meta_lr)
# =============================================================================================
def right_online_tape(init_params, support_x, support_y, query_x, query_y, *, inner_lr, meta_lr):
    with tf.GradientTape() as tape:
        tape.watch(init_params)
        adapted = adapt(init_params, support_x, support_y, inner_lr=inner_lr)
        query_loss = tf.reduce_mean(mse(forward(adapted, query_x), query_y))
    grads = tape.gradient(query_loss, init_params)
    return [p - meta_lr * g for p, g in zip(init_params, grads, strict=True)]


def right_online_library(init_params, support_x, support_y, query_x, query_y, *, inner_lr, meta_lr):
    return library_online_meta_update(init_params, support_x, support_y, query_x, query_y, inner_lr=inner_lr,
                                      meta_lr=meta_lr)


def right_online_meta_gradient(init_params, support_x, support_y, query_x, query_y, *, inner_lr, meta_lr):
    _, grads = meta_gradient(init_params, support_x, support_y, query_x, query_y, inner_lr=inner_lr)
    return [p - meta_lr * g for p, g in zip(init_params, grads, strict=True)]


def _inner_step(params, x, y, inner_lr, stop=False):
    copies = tile_params(params, x.shape[0])
    with tf.GradientTape() as tape:
        tape.watch(copies)
        loss = tf.reduce_sum(mse(forward(copies, x), y))
    grads = tape.gradient(loss, copies)
    return [p - inner_lr * (tf.stop_gradient(g) if stop else g) for p, g in zip(copies, grads, strict=True)]


def right_online_nested_tapes(init_params, support_x, support_y, query_x, query_y, *, inner_lr, meta_lr):
    with tf.GradientTape() as outer:
        outer.watch(init_params)
        adapted = _inner_step(init_params, support_x, support_y, inner_lr)
        query_loss = tf.reduce_sum(mse(forward(adapted, query_x), query_y)) / support_x.shape[0]
    grads = outer.gradient(query_loss, init_params)
    return [p - meta_lr * g for p, g in zip(init_params, grads, strict=True)]


@pytest.mark.parametrize("implementation", [right_online_tape, right_online_library, right_online_meta_gradient,
                                            right_online_nested_tapes])
def test_right_online_updates_pass(implementation, capsys):
    assert check_online_meta_update(implementation) is None
    assert "✅ online_meta_update: all 4 checks passed." in capsys.readouterr().out


def _online(loss_at, *, sign=-1.0, first_order=False, start="init", scale=lambda s: 1.0):
    """An online update with a switch per typical mistake: ``loss_at(adapted, init, sets)`` is the loss
    differentiated; the step starts from the initialisation or from the adapted parameters."""
    def online_meta_update(init_params, support_x, support_y, query_x, query_y, *, inner_lr, meta_lr):
        sets = (support_x, support_y, query_x, query_y)
        with tf.GradientTape() as tape:
            tape.watch(init_params)
            adapted = adapt(init_params, support_x, support_y, inner_lr=inner_lr, first_order=first_order)
            loss = loss_at(adapted, init_params, sets)
        grads = tape.gradient(loss, init_params)
        base = init_params if start == "init" else [p[0] for p in adapted]
        factor = sign * meta_lr * scale(support_x.shape[0])
        return [p + factor * g for p, g in zip(base, grads, strict=True)]
    return online_meta_update


def _query_at_adapted(adapted, init, sets):
    return tf.reduce_mean(mse(forward(adapted, sets[2]), sets[3]))


def _support_at_adapted(adapted, init, sets):
    return tf.reduce_mean(mse(forward(adapted, sets[0]), sets[1]))


def _query_at_init(adapted, init, sets):
    return tf.reduce_mean(mse(forward(init, sets[2]), sets[3]))


def online_stop_gradient_by_hand(init_params, support_x, support_y, query_x, query_y, *, inner_lr, meta_lr):
    with tf.GradientTape() as outer:
        outer.watch(init_params)
        adapted = _inner_step(init_params, support_x, support_y, inner_lr, stop=True)
        query_loss = tf.reduce_mean(mse(forward(adapted, query_x), query_y))
    grads = outer.gradient(query_loss, init_params)
    return [p - meta_lr * g for p, g in zip(init_params, grads, strict=True)]


def online_fine_tunes_on_support(init_params, support_x, support_y, query_x, query_y, *, inner_lr, meta_lr):
    adapted = adapt(init_params, support_x, support_y, inner_lr=inner_lr)
    with tf.GradientTape() as tape:
        tape.watch(adapted)
        support_loss = tf.reduce_mean(mse(forward(adapted, support_x), support_y))
    grads = tape.gradient(support_loss, adapted)  # ∇L^support at θ', per task
    return [p - meta_lr * tf.reduce_mean(g, axis=0) for p, g in zip(init_params, grads, strict=True)]


def online_one_more_support_step(init_params, support_x, support_y, query_x, query_y, *, inner_lr, meta_lr):
    adapted = adapt(init_params, support_x, support_y, inner_lr=inner_lr)
    return [p[0] for p in adapt(adapted, support_x, support_y, inner_lr=meta_lr)]


def online_returns_adapted(init_params, support_x, support_y, query_x, query_y, *, inner_lr, meta_lr):
    return adapt(init_params, support_x, support_y, inner_lr=inner_lr)


def online_returns_adapted_squeezed(init_params, support_x, support_y, query_x, query_y, *, inner_lr, meta_lr):
    return [p[0] for p in adapt(init_params, support_x, support_y, inner_lr=inner_lr)]


def online_adapts_on_query(init_params, support_x, support_y, query_x, query_y, *, inner_lr, meta_lr):
    return right_online_meta_gradient(init_params, query_x, query_y, query_x, query_y, inner_lr=inner_lr,
                                      meta_lr=meta_lr)


def online_meta_lr_ignored(init_params, support_x, support_y, query_x, query_y, *, inner_lr, meta_lr):
    return right_online_tape(init_params, support_x, support_y, query_x, query_y, inner_lr=inner_lr, meta_lr=0.02)


def online_numpy(init_params, support_x, support_y, query_x, query_y, *, inner_lr, meta_lr):
    new = right_online_tape(init_params, support_x, support_y, query_x, query_y, inner_lr=inner_lr, meta_lr=meta_lr)
    return [p.numpy() for p in new]


def online_forgot_return(init_params, support_x, support_y, query_x, query_y, *, inner_lr, meta_lr):
    right_online_tape(init_params, support_x, support_y, query_x, query_y, inner_lr=inner_lr, meta_lr=meta_lr)


WRONG_ONLINE = {
    _online(_query_at_adapted, first_order=True): "First-order MAML's update",
    online_stop_gradient_by_hand: "This exercise asks for the second-order update",
    _online(_query_at_init): "You stepped along ∇L^query(θ) at the initialisation",
    online_fine_tunes_on_support: "You stepped along the support loss's gradient at the adapted θ': that is "
                                  "fine-tuning",
    _online(_support_at_adapted): "The meta-loss was the support loss after adaptation",
    online_adapts_on_query: "The adaptation used the query points",
    _online(_query_at_adapted, sign=+1.0): "The initialisation moved uphill",
    _online(_query_at_adapted, start="adapted"): "You stepped the adapted parameters θ'",
    online_one_more_support_step: "You returned θ' after one more step on the support set",
    online_returns_adapted: "the adapted parameters θ' = adapt(θ, support)",
    online_returns_adapted_squeezed: "You returned the adapted parameters θ' = adapt(θ, support)",
    _online(_query_at_adapted, scale=float): "The step is S times too large",
    online_meta_lr_ignored: "× the right length",
    online_numpy: "got: NumPy arrays, not tf.Tensors hint: the next round passes them back as init_params",
    online_forgot_return: "is a `return` statement missing?",
}


@pytest.mark.parametrize("implementation", list(WRONG_ONLINE), ids=[
    getattr(f, "__qualname__", "x").replace(".<locals>.online_meta_update", "") + f"-{i}"
    for i, f in enumerate(WRONG_ONLINE)])
def test_wrong_online_updates_are_rejected_with_a_useful_hint(implementation):
    verdict = verdict_of(check_online_meta_update, implementation)
    assert verdict.startswith("❌ online_meta_update:")
    assert WRONG_ONLINE[implementation] in verdict


def test_every_typical_mistake_is_far_from_the_right_update_in_every_case():
    """The check can name a mistake only if its update differs from the right one well beyond the tolerance
    (first-order MAML's included: the second-order term must show in every case)."""
    for case in _online_cases():
        expected = np.asarray(case.expected)
        for value, hint in _online_variants(case):
            margin = np.max(np.abs(value - expected) / (_ATOL + _RTOL * np.abs(expected)))
            assert margin > 100, (case.name, hint[:40], margin)


def test_the_reference_is_the_chapters_online_meta_update():
    case = _online_cases()[3]  # three tasks: the mean over the round's tasks
    params = case.args[0].tensors(tf.float64)
    sets = case.args[1].sets()
    kwargs = dict(inner_lr=case.kwargs["inner_lr"], meta_lr=case.kwargs["meta_lr"])
    mine = right_online_tape(params, *sets, **kwargs)
    library = library_online_meta_update(params, *sets, **kwargs)
    for a, b in zip(mine, library, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10)


# =============================================================================================
# every verdict is short, with no traceback
# =============================================================================================
VERDICTS = [
    (check_average_parameters, average_summed),
    (check_average_parameters, average_over_axis_1),
    (check_average_parameters, average_numpy),
    (check_mean_penalty, penalty_negative),
    (check_mean_penalty, penalty_l2),
    (check_mean_penalty, penalty_total),
    (check_online_meta_update, _online(_query_at_adapted, first_order=True)),
    (check_online_meta_update, _online(_query_at_init)),
    (check_online_meta_update, online_returns_adapted),
]


@pytest.mark.parametrize(("check", "implementation"), VERDICTS, ids=[f"{c.__name__}-{i}" for i, (c, _) in
                                                                     enumerate(VERDICTS)])
def test_a_verdict_is_short(check, implementation):
    with pytest.raises(CheckFailed) as failure:
        check(implementation)
    lines = str(failure.value).splitlines()
    assert len(lines) <= 15, "\n".join(lines)
    assert max(len(line) for line in lines) <= 180
    rendered = "\n".join(failure.value._render_traceback_())
    assert "Traceback" not in rendered and 'File "' not in rendered


def test_a_mistake_repeated_in_every_case_is_shown_once():
    with pytest.raises(CheckFailed) as failure:
        check_mean_penalty(penalty_negative)
    verdict = str(failure.value)
    assert verdict.count("hint:") == 1 and "and 3 more cases failed the same way" in verdict
    assert len(failure.value.report.failures) == 4  # the single regressor's penalty is 0 = −0


def stub(*args, **kwargs):
    raise NotImplementedError()


@pytest.mark.parametrize("check", [check_average_parameters, check_mean_penalty, check_online_meta_update])
def test_an_unwritten_function_gets_one_message(check):
    verdict = verdict_of(check, stub)
    assert "1 of" in verdict and "not written yet" in verdict and verdict.count("•") == 1


def test_an_error_inside_the_learners_function_is_one_line_shown_once():
    def broken(stacked_params):
        return [tf.reduce_mean(p, axis=0) + tf.ones([7]) for p in stacked_params]

    verdict = verdict_of(check_average_parameters, broken)
    assert "your function raised InvalidArgumentError" in verdict and "function_node" not in verdict
    assert verdict.count("raised") == 1 and "and 3 more cases failed the same way" in verdict


# =============================================================================================
# the solutions notebook's functions pass their checks and agree with the library
# =============================================================================================
@pytest.fixture(scope="module")
def inline():
    if not SOLUTIONS.exists():
        pytest.skip(f"{SOLUTIONS.relative_to(REPO_ROOT)} is not written yet")
    return solution_namespace(SOLUTIONS)


def test_the_solution_notebooks_functions_pass_their_checks(inline, capsys):
    check_average_parameters(inline["average_parameters"])
    check_mean_penalty(inline["mean_penalty"])
    check_online_meta_update(inline["online_meta_update"])
    assert capsys.readouterr().out.count("✅") == 3


def test_the_solution_notebooks_functions_equal_the_library(inline):
    rng = np.random.default_rng(5)
    stacked = [tf.constant(rng.normal(size=shape)) for shape in [(7, 1, 5), (7, 5), (7, 5, 1), (7, 1)]]
    for a, b in zip(inline["average_parameters"](stacked), average_regressors(stacked), strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    np.testing.assert_allclose(inline["mean_penalty"](stacked, 0.3).numpy(),
                               0.3 * regulariser_penalty(stacked, "mean").numpy(), rtol=1e-12)
    case = _online_cases()[3]
    params, sets = case.args[0].tensors(tf.float64), case.args[1].sets()
    kwargs = dict(inner_lr=0.05, meta_lr=0.02)
    for a, b in zip(inline["online_meta_update"](params, *sets, **kwargs),
                    library_online_meta_update(params, *sets, **kwargs), strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10)
