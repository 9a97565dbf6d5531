"""Tests for metalearn_lib.models: the functional MLP, per-task parameter batches and the loss."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib import seed_everything
from metalearn_lib.models import forward, init_mlp, is_batched, mse, num_parameters, tile_params


@pytest.fixture(autouse=True)
def _seed() -> None:
    seed_everything(0)


def test_init_mlp_shapes_and_determinism() -> None:
    params = init_mlp([1, 40, 40, 1], seed=0)
    assert [tuple(p.shape) for p in params] == [(1, 40), (40,), (40, 40), (40,), (40, 1), (1,)]
    assert num_parameters(params) == 40 + 40 + 1600 + 40 + 40 + 1
    again = init_mlp([1, 40, 40, 1], seed=0)
    other = init_mlp([1, 40, 40, 1], seed=1)
    for a, b in zip(params, again, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(params[2].numpy(), other[2].numpy())
    # Truncated normal, std 0.01: every weight within two standard deviations; biases zero.
    assert np.abs(params[2].numpy()).max() <= 0.02
    assert np.all(params[1].numpy() == 0)


@pytest.mark.parametrize("init", ["glorot", "he"])
def test_other_initialisations(init: str) -> None:
    params = init_mlp([3, 16, 2], seed=4, init=init, dtype=tf.float64)
    assert params[0].dtype == tf.float64
    assert 0.05 < params[0].numpy().std() < 2.0


def test_forward_matches_numpy() -> None:
    params = init_mlp([2, 5, 3], seed=1, init="glorot")
    x = np.random.default_rng(0).normal(size=(4, 2)).astype(np.float32)
    w1, b1, w2, b2 = (p.numpy() for p in params)
    expected = np.maximum(x @ w1 + b1, 0) @ w2 + b2
    np.testing.assert_allclose(forward(params, x).numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(forward(params, x, activation="tanh").numpy(),
                               np.tanh(x @ w1 + b1) @ w2 + b2, rtol=1e-5, atol=1e-6)


def test_per_task_parameters_equal_a_loop_over_tasks() -> None:
    """Batched parameters [tasks, ...] act like one network per task, without a Python loop."""
    num_tasks = 6
    stacks = [init_mlp([1, 8, 8, 1], seed=s, init="glorot") for s in range(num_tasks)]
    batched = [tf.stack(layer) for layer in zip(*stacks, strict=True)]
    assert is_batched(batched) and num_parameters(batched) == num_parameters(stacks[0])
    x = tf.random.stateless_uniform([num_tasks, 7, 1], seed=[0, 1], minval=-5, maxval=5)
    out = forward(batched, x)
    assert out.shape == (num_tasks, 7, 1)
    for t in range(num_tasks):
        np.testing.assert_allclose(out[t].numpy(), forward(stacks[t], x[t]).numpy(), rtol=1e-5,
                                   atol=1e-6)


def test_tile_params_and_shared_forward_on_a_task_batch() -> None:
    params = init_mlp([1, 8, 1], seed=2, init="glorot")
    tiled = tile_params(params, 3)
    assert [tuple(p.shape) for p in tiled] == [(3, 1, 8), (3, 8), (3, 8, 1), (3, 1)]
    x = tf.random.stateless_uniform([3, 4, 1], seed=[1, 1])
    np.testing.assert_allclose(forward(tiled, x).numpy(), forward(params, x).numpy(), rtol=1e-6)
    # The gradient through the tiling is the sum of the per-task gradients.
    with tf.GradientTape() as tape:
        tape.watch(params)
        loss = tf.reduce_sum(forward(tile_params(params, 3), x))
    g_tiled = tape.gradient(loss, params)
    with tf.GradientTape() as tape:
        tape.watch(params)
        loss = tf.reduce_sum(forward(params, x))
    g_shared = tape.gradient(loss, params)
    for a, b in zip(g_tiled, g_shared, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_one_line_inner_update_gives_per_task_parameters() -> None:
    params = tile_params(init_mlp([1, 4, 1], seed=0, init="glorot"), 25)
    grads = [tf.ones_like(p) for p in params]
    adapted_params = [p - 0.01 * g for p, g in zip(params, grads, strict=True)]  # θ' = θ − α∇L
    assert all(a.shape[0] == 25 for a in adapted_params)


def test_mse_per_task() -> None:
    pred = tf.constant([[[1.0], [2.0]], [[0.0], [0.0]]])
    y = tf.constant([[[0.0], [0.0]], [[3.0], [1.0]]])
    np.testing.assert_allclose(mse(pred, y).numpy(), [2.5, 5.0])
    assert mse(pred[0], y[0]).shape == ()
    with pytest.raises(ValueError, match="same shape"):
        mse(pred, y[:, :1])
    with pytest.raises(ValueError, match="pred"):
        mse(tf.zeros([3]), tf.zeros([3]))


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "name"),
    [
        (([1],), {"seed": 0}, ValueError, "layer_sizes"),
        (([1, 0, 1],), {"seed": 0}, ValueError, "layer_sizes"),
        (([1, 2.5, 1],), {"seed": 0}, TypeError, "layer_sizes"),
        (("12",), {"seed": 0}, TypeError, "layer_sizes"),
        (([1, 4, 1],), {"seed": -1}, ValueError, "seed"),
        (([1, 4, 1],), {"seed": 0.5}, TypeError, "seed"),
        (([1, 4, 1],), {"seed": 0, "init": "zeros"}, ValueError, "init"),
        (([1, 4, 1],), {"seed": 0, "std": 0.0}, ValueError, "std"),
        (([1, 4, 1],), {"seed": 0, "dtype": tf.int32}, ValueError, "dtype"),
    ],
)
def test_init_mlp_validation(args: tuple, kwargs: dict, error: type, name: str) -> None:
    with pytest.raises(error, match=name):
        init_mlp(*args, **kwargs)


def test_forward_and_tile_validation() -> None:
    params = init_mlp([2, 4, 1], seed=0)
    with pytest.raises(ValueError, match="last axis"):
        forward(params, tf.zeros([3, 5]))
    with pytest.raises(ValueError, match="activation"):
        forward(params, tf.zeros([3, 2]), activation="swish-ish")
    with pytest.raises(ValueError, match="params"):
        forward(params[:3], tf.zeros([3, 2]))
    with pytest.raises(ValueError, match="x must have shape"):
        forward(tile_params(params, 2), tf.zeros([3, 2]))
    with pytest.raises(ValueError, match="num_tasks"):
        tile_params(params, 0)
    with pytest.raises(TypeError, match="num_tasks"):
        tile_params(params, 2.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="already"):
        tile_params(tile_params(params, 2), 2)
