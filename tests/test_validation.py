"""The shared argument checks and the functional Adam."""

from __future__ import annotations

import re

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.optim import adam_init, adam_update
from metalearn_lib.validation import check_dtype, check_int, check_number, check_range, check_rate, check_tensor_list


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: check_int("num_tasks", 0), ValueError, r"num_tasks must be an int >= 1, got 0"),
    (lambda: check_int("num_tasks", 2.0), TypeError, r"num_tasks must be an int"),
    (lambda: check_int("num_tasks", True), TypeError, r"num_tasks"),
    (lambda: check_number("noise_std", -1.0, positive=False), ValueError, r"noise_std must be a finite number >= 0"),
    (lambda: check_number("inner_lr", 0.0), ValueError, r"inner_lr must be a finite number > 0"),
    (lambda: check_number("inner_lr", float("nan")), ValueError, r"inner_lr"),
    (lambda: check_number("inner_lr", "0.1"), TypeError, r"inner_lr"),
    (lambda: check_rate("outer_lr", tf.ones([2])), ValueError, r"outer_lr must be a scalar"),
    (lambda: check_range("x_range", (1.0, 1.0)), ValueError, r"x_range must be a pair \(low, high\)"),
    (lambda: check_range("x_range", 3.0), TypeError, r"x_range"),
    (lambda: check_dtype(tf.int32), ValueError, r"dtype must be a floating dtype"),
])
def test_errors_name_the_argument_and_the_range(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_valid_values_pass_through():
    assert check_int("k", np.int64(3)) == 3
    assert check_number("s", 0, positive=False) == 0.0
    assert check_range("r", [-5, 5]) == (-5.0, 5.0)
    assert check_dtype("float64") == tf.float64
    rate = tf.constant(0.1)
    assert check_rate("lr", rate) is rate


def test_adam_first_step_moves_each_parameter_by_the_learning_rate():
    # After one step m̂ = g and v̂ = g², so the update is η·g/(|g| + ε) ≈ η·sign(g).
    params = [tf.constant([1.0, -2.0], tf.float64)]
    grads = [tf.constant([0.5, -3.0], tf.float64)]
    new_params, state = adam_update(params, grads, adam_init(params), learning_rate=0.1)
    np.testing.assert_allclose(new_params[0].numpy(), [0.9, -1.9], rtol=1e-6)
    assert int(state.step) == 1


def test_adam_minimises_a_quadratic():
    params = [tf.constant([3.0, -4.0], tf.float64)]
    state = adam_init(params)
    for _ in range(500):
        grads = [2.0 * params[0]]
        params, state = adam_update(params, grads, state, learning_rate=0.05)
    np.testing.assert_allclose(params[0].numpy(), [0.0, 0.0], atol=1e-2)


def test_check_unit_accepts_the_closed_unit_interval_and_names_the_argument():
    from metalearn_lib.validation import check_unit

    assert check_unit("share", 0) == 0.0 and check_unit("share", 1) == 1.0 and check_unit("p", np.float32(0.25)) == 0.25
    for bad in (-0.1, 1.5, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"share must be .*0"):
            check_unit("share", bad)
    with pytest.raises(TypeError, match="share"):
        check_unit("share", "0.5")


def test_check_tensor_list_passes_tensors_and_variables_through():
    values = [tf.zeros([2, 3]), tf.Variable(tf.ones([3]))]
    out = check_tensor_list("params", tuple(values))
    assert isinstance(out, list) and out[0] is values[0] and out[1] is values[1]


@pytest.mark.parametrize(("values", "message"), [
    ([tf.zeros([2]), np.zeros(2)], "params[1] is a NumPy array, not a tensor: convert it with tf.constant"),
    ([np.float32(1.0)], "params[0] is a NumPy array"),
    ([None], "params[0] is a NoneType, not a tensor"),
    (np.zeros(3), "params must be a list of tensors"),
])
def test_check_tensor_list_names_the_entry_and_the_fix(values, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        check_tensor_list("params", values)


def test_library_entry_points_answer_numpy_parameters_with_a_type_error():
    from metalearn_lib.models import forward, init_mlp, tile_params
    from metalearn_lib.two_level import adapt, meta_gradient

    params = [p.numpy() for p in init_mlp([1, 4, 1], seed=0)]
    x = tf.zeros([2, 3, 1])
    for call in (lambda: forward(params, x), lambda: tile_params(params, 2),
                 lambda: adapt(params, x, x, inner_lr=0.1), lambda: meta_gradient(params, x, x, x, x, inner_lr=0.1)):
        with pytest.raises(TypeError, match=r"params\[0\] is a NumPy array, not a tensor: convert it with tf.constant"):
            call()
