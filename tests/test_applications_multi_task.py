"""Chapter 8's multi-task baselines: separate regressors trained at once, penalised, averaged."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.applications.multi_task import (
    average_regressors,
    init_separate_regressors,
    regulariser_penalty,
    train_separate_regressors,
)
from metalearn_lib.averaging import average_params
from metalearn_lib.models import forward, mse
from metalearn_lib.tasks import SinusoidFamily

SIZES = (1, 8, 8, 1)


def stacked(num=4, seed=0):
    return init_separate_regressors(SIZES, num, seed=seed)


def test_independent_inits_differ_and_shared_inits_agree():
    independent = stacked()
    assert [tuple(p.shape) for p in independent] == [(4, 1, 8), (4, 8), (4, 8, 8), (4, 8), (4, 8, 1), (4, 1)]
    assert not np.allclose(independent[0][0], independent[0][1])
    shared = init_separate_regressors(SIZES, 4, seed=0, init="shared")
    np.testing.assert_array_equal(shared[2][0], shared[2][3])
    # He scale: std of W2 ≈ √(2/8) = 0.5 (truncated at 2 std, so a little less)
    big = init_separate_regressors((1, 200, 200, 1), 2, seed=1)
    assert 0.07 < float(tf.math.reduce_std(big[2])) < 0.1


def test_average_is_the_mean_over_regressors_and_equals_chapter_3s_average_params():
    params = stacked()
    average = average_regressors(params)
    members = [[p[i] for p in params] for i in range(4)]
    for ours, theirs in zip(average, average_params(members, np.full(4, 0.25)), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)
    assert [tuple(p.shape) for p in average] == [(1, 8), (8,), (8, 8), (8,), (8, 1), (1,)]


def test_penalties_by_hand_and_the_mean_penalty_gradient_is_two_theta_minus_mean():
    params = stacked(3, seed=2)
    flat = np.concatenate([tf.reshape(p, [3, -1]).numpy() for p in params], axis=1)  # [3, P]
    np.testing.assert_allclose(regulariser_penalty(params, "l2"), (flat**2).sum(axis=1), rtol=1e-5)
    centred = flat - flat.mean(axis=0)
    np.testing.assert_allclose(regulariser_penalty(params, "mean"), (centred**2).sum(axis=1), rtol=1e-5)
    np.testing.assert_array_equal(regulariser_penalty(params, "none"), np.zeros(3))
    # d/dθ_i Σ_j ‖θ_j − θ̄‖² = 2(θ_i − θ̄), with or without the gradient through θ̄
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(params)
        held = tf.reduce_sum(regulariser_penalty(params, "mean"))
        through = tf.add_n([tf.reduce_sum(tf.square(p - tf.reduce_mean(p, axis=0))) for p in params])
    for p, g_held, g_through in zip(params, tape.gradient(held, params), tape.gradient(through, params), strict=True):
        expected = 2 * (p - tf.reduce_mean(p, axis=0))
        np.testing.assert_allclose(g_held, expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(g_through, expected, rtol=1e-4, atol=1e-5)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="regulariser must be one of"):
        regulariser_penalty(stacked(), "l1")
    with pytest.raises(ValueError, match="stacked"):
        average_regressors([p[0] for p in stacked()])  # one network, not a stack
    with pytest.raises(ValueError, match="init must be one of"):
        init_separate_regressors(SIZES, 2, seed=0, init="zeros")
    with pytest.raises(ValueError, match="num_regressors"):
        train_separate_regressors(num_regressors=0)
    with pytest.raises(ValueError, match="reg_strength"):
        train_separate_regressors(reg_strength=-1.0)
    with pytest.raises(TypeError, match="SinusoidFamily"):
        train_separate_regressors(family=object())


@pytest.fixture(scope="module")
def short_runs():
    kwargs = dict(num_regressors=8, num_steps=400, layer_sizes=SIZES, seed=3, jit_compile=False, progress=False)
    return {reg: train_separate_regressors(regulariser=reg, reg_strength=0.0 if reg == "none" else 0.05, **kwargs)
            for reg in ("none", "l2", "mean")}


def test_every_regressor_learns_its_own_task(short_runs):
    run = short_runs["none"]
    assert run.losses[-50:].mean() < 0.5 * run.losses[:50].mean()
    # the own-task MSE is measured on the regressor's own sinusoid
    family = SinusoidFamily()
    x = tf.reshape(tf.linspace(-5.0, 5.0, 200), [1, 200, 1]) * tf.ones([8, 1, 1])
    own = mse(forward(run.params, x), family.function(x, run.amplitude, run.phase)).numpy()
    np.testing.assert_allclose(own, run.own_mse, rtol=0.3, atol=0.05)
    swapped = mse(forward(run.params, x), family.function(x, run.amplitude[::-1], run.phase[::-1])).numpy()
    assert own.mean() < swapped.mean()


def test_penalties_pull_as_stated(short_runs):
    def spread(run):
        return float(tf.reduce_sum(regulariser_penalty(run.params, "mean")))

    def size(run):
        return float(tf.reduce_sum(regulariser_penalty(run.params, "l2")))

    assert spread(short_runs["mean"]) < spread(short_runs["none"])
    assert size(short_runs["l2"]) < size(short_runs["none"])


def test_training_is_deterministic_and_the_record_says_what_ran(short_runs):
    again = train_separate_regressors(regulariser="none", num_regressors=8, num_steps=400, layer_sizes=SIZES,
                                      seed=3, jit_compile=False, progress=False)
    for a, b in zip(again.params, short_runs["none"].params, strict=True):
        np.testing.assert_array_equal(a, b)
    config = short_runs["mean"].config
    assert config["regulariser"] == "mean" and config["reg_strength"] == 0.05 and config["num_regressors"] == 8
    assert 0.0 <= short_runs["none"].fraction_below(0.02) <= 1.0
