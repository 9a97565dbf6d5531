"""Chapter 3's library module: performance weights, BMA, output vs parameter averaging, Hedge."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from metalearn_lib.averaging import (
    HedgeResult,
    average_params,
    bma_weights,
    ensemble_predict,
    gaussian_log_likelihood,
    hedge_learning_rate,
    hedge_regret_bound,
    hedge_update,
    log_performance_weights,
    performance_weights,
    run_hedge,
    stack_params,
)
from metalearn_lib.models import forward, init_mlp
from metalearn_lib.welcome import stable_softmax

SCORES = arrays(np.float64, st.integers(1, 8), elements=st.floats(-1e4, 1e4))

# ----------------------------------------------------------------------------------------------
# performance weights
# ----------------------------------------------------------------------------------------------


def test_matches_the_formula_on_small_scores():
    scores = np.array([0.5, -1.0, 2.0])
    for temperature in (0.3, 1.0, 4.0):
        expected = np.exp(scores / temperature) / np.exp(scores / temperature).sum()
        np.testing.assert_allclose(performance_weights(scores, temperature), expected, rtol=1e-12)
        np.testing.assert_allclose(log_performance_weights(scores, temperature), np.log(expected), rtol=1e-12)


def test_is_chapter_0s_softmax():
    scores = np.random.default_rng(0).normal(scale=100.0, size=(3, 5))
    np.testing.assert_array_equal(performance_weights(scores, 2.0), stable_softmax(scores, 2.0))


def test_loss_kind_is_reward_on_negated_losses():
    losses = np.array([0.1, 3.0, 0.2, 7.5])
    for temperature in (0.05, 1.0, 10.0):
        np.testing.assert_allclose(performance_weights(losses, temperature, kind="loss"),
                                   performance_weights(-losses, temperature), rtol=1e-12)
        np.testing.assert_allclose(log_performance_weights(losses, temperature, kind="loss"),
                                   log_performance_weights(-losses, temperature), rtol=1e-12)
    assert np.argmax(performance_weights(losses, kind="loss")) == 0


def test_rows_of_a_batch_are_normalised_separately():
    weights = performance_weights([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]])
    assert weights.shape == (2, 3) and weights.dtype == np.float64
    np.testing.assert_allclose(weights.sum(axis=-1), [1.0, 1.0])
    np.testing.assert_allclose(weights[1], np.full(3, 1 / 3))


@pytest.mark.parametrize("temperature", [1e-300, 1e-3, 1.0, 1e300])
def test_scores_of_plus_minus_1e4_are_stable(temperature):
    scores = np.array([1e4, -1e4, 0.0, 1e4 - 1.0])
    weights = performance_weights(scores, temperature)
    log_weights = log_performance_weights(scores, temperature)
    assert not np.any(np.isnan(weights)) and not np.any(np.isnan(log_weights))
    assert weights.sum() == pytest.approx(1.0)
    assert np.all(log_weights <= 0.0)
    np.testing.assert_allclose(np.exp(log_weights), weights, atol=1e-12)
    # at τ = 1 the weights of the bottom two are astronomically small, yet their log is exact
    if temperature == 1.0:
        assert log_weights[1] == pytest.approx(-2e4 - math.log1p(math.exp(-1.0)), rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(scores=SCORES, temperature=st.floats(1e-2, 1e2), shift=st.floats(-1e3, 1e3))
def test_properties(scores, temperature, shift):
    weights = performance_weights(scores, temperature)
    log_weights = log_performance_weights(scores, temperature)
    # a probability vector
    assert np.all(weights >= 0.0) and np.all(np.isfinite(weights))
    assert weights.sum() == pytest.approx(1.0, abs=1e-9)
    assert np.all(log_weights <= 1e-12) and not np.any(np.isnan(log_weights))
    np.testing.assert_allclose(np.exp(log_weights), weights, atol=1e-12)
    # only differences of scores matter
    np.testing.assert_allclose(performance_weights(scores + shift, temperature), weights, atol=1e-6)
    # order-preserving: a higher score never gets a smaller weight
    order = np.argsort(scores, kind="stable")
    assert np.all(np.diff(weights[order]) >= -1e-12)
    assert np.all(np.diff(log_weights[order]) >= -1e-9)


@settings(max_examples=100, deadline=None)
@given(scores=SCORES)
def test_temperature_limits(scores):
    best = np.argmax(scores)
    gaps = scores[best] - np.delete(scores, best)
    assume(gaps.size == 0 or gaps.min() > 1e-3)  # a unique maximum
    one_hot = np.eye(scores.size)[best]
    # τ → 0: argmax (gaps / τ ≥ 1e3, so the losers' weights are below e^{-1000} = 0)
    np.testing.assert_allclose(performance_weights(scores, 1e-6), one_hot, atol=1e-12)
    assert np.argmax(log_performance_weights(scores, 1e-6)) == best
    # τ → ∞: uniform (all |sᵢ − sⱼ| / τ ≤ 2e-8)
    np.testing.assert_allclose(performance_weights(scores, 1e12), np.full(scores.size, 1 / scores.size), rtol=1e-7)


@pytest.mark.parametrize("scores", [[], np.zeros((2, 0)), 3.0, [1.0, float("nan")], [float("inf"), 1.0],
                                    [1.0, -float("inf")]])
@pytest.mark.parametrize("function", [performance_weights, log_performance_weights])
def test_bad_scores(function, scores):
    with pytest.raises(ValueError, match="scores"):
        function(scores)


@pytest.mark.parametrize("temperature", [0.0, -1.0, float("nan"), float("inf")])
@pytest.mark.parametrize("function", [performance_weights, log_performance_weights])
def test_bad_temperature(function, temperature):
    with pytest.raises(ValueError, match="temperature"):
        function([1.0, 2.0], temperature)
    with pytest.raises(TypeError, match="temperature"):
        function([1.0, 2.0], "1")


@pytest.mark.parametrize("function", [performance_weights, log_performance_weights])
def test_bad_kind(function):
    with pytest.raises(ValueError, match="kind"):
        function([1.0, 2.0], kind="score")


# ----------------------------------------------------------------------------------------------
# Bayesian model averaging
# ----------------------------------------------------------------------------------------------


def test_bma_matches_brute_force():
    rng = np.random.default_rng(1)
    log_likelihoods = rng.normal(scale=3.0, size=5)
    prior = rng.dirichlet(np.ones(5))
    brute = prior * np.exp(log_likelihoods) / np.sum(prior * np.exp(log_likelihoods))
    np.testing.assert_allclose(bma_weights(log_likelihoods, np.log(prior)), brute, rtol=1e-12)
    uniform = np.exp(log_likelihoods) / np.exp(log_likelihoods).sum()
    np.testing.assert_allclose(bma_weights(log_likelihoods), uniform, rtol=1e-12)


def test_bma_with_equal_likelihoods_returns_the_prior():
    prior = np.array([0.1, 0.6, 0.3])
    np.testing.assert_allclose(bma_weights(np.full(3, -1234.5), np.log(prior)), prior, rtol=1e-12)
    # an unnormalised prior, and a model ruled out a priori
    np.testing.assert_allclose(bma_weights(np.zeros(3), [math.log(2.0), -math.inf, math.log(2.0)]), [0.5, 0.0, 0.5])


def test_bma_is_stable_for_large_log_likelihoods():
    weights = bma_weights([-1e5, -1e5 - 1.0, -3e5])
    assert not np.any(np.isnan(weights))
    np.testing.assert_allclose(weights, [1 / (1 + math.exp(-1.0)), math.exp(-1.0) / (1 + math.exp(-1.0)), 0.0])


@pytest.mark.parametrize(("log_likelihoods", "log_prior", "name"), [
    ([], None, "log_likelihoods"),
    ([0.0, float("nan")], None, "log_likelihoods"),
    ([0.0, float("inf")], None, "log_likelihoods"),
    ([0.0, 1.0], [0.0, float("nan")], "log_prior"),
    ([0.0, 1.0], [-float("inf"), -float("inf")], "log_prior"),
    ([0.0, 1.0], [0.0, 0.0, 0.0], "log_prior"),
])
def test_bma_validation(log_likelihoods, log_prior, name):
    with pytest.raises(ValueError, match=name):
        bma_weights(log_likelihoods, log_prior)


def test_gaussian_log_likelihood_matches_the_density():
    rng = np.random.default_rng(2)
    predictions = rng.normal(size=(3, 6, 1))
    targets = rng.normal(size=(6, 1))
    sigma = 0.7
    density = np.exp(-(targets[None, :, 0] - predictions[..., 0]) ** 2 / (2 * sigma**2)) / math.sqrt(
        2 * math.pi * sigma**2)
    expected = np.log(density).sum(axis=1)
    np.testing.assert_allclose(gaussian_log_likelihood(predictions, targets, sigma), expected, rtol=1e-12)
    np.testing.assert_allclose(gaussian_log_likelihood(predictions[..., 0], targets[:, 0], sigma), expected)
    # the best fit gets the most posterior mass
    exact = np.concatenate([targets[None], predictions[:2]])
    assert np.argmax(bma_weights(gaussian_log_likelihood(exact, targets, sigma))) == 0


@pytest.mark.parametrize(("predictions", "targets", "noise_std", "name"), [
    (np.zeros((2, 3)), np.zeros(4), 1.0, "targets"),
    (np.zeros(3), np.zeros(3), 1.0, "predictions"),
    (np.zeros((2, 3)), np.zeros(3), 0.0, "noise_std"),
    (np.full((2, 3), np.nan), np.zeros(3), 1.0, "predictions"),
])
def test_gaussian_log_likelihood_validation(predictions, targets, noise_std, name):
    with pytest.raises(ValueError, match=name):
        gaussian_log_likelihood(predictions, targets, noise_std)


# ----------------------------------------------------------------------------------------------
# output averaging vs parameter averaging
# ----------------------------------------------------------------------------------------------


def _members(layer_sizes, num_models=4):
    return [init_mlp(layer_sizes, seed=10 + i, init="he") for i in range(num_models)]


def test_stack_params_adds_a_model_axis():
    members = _members([1, 40, 40, 1], 3)
    stacked = stack_params(members)
    assert [tuple(p.shape) for p in stacked] == [(3, 1, 40), (3, 40), (3, 40, 40), (3, 40), (3, 40, 1), (3, 1)]
    np.testing.assert_array_equal(stacked[2][1].numpy(), members[1][2].numpy())


def test_stack_params_validation():
    with pytest.raises(ValueError, match="params_list"):
        stack_params([])
    with pytest.raises(ValueError, match="architecture"):
        stack_params([init_mlp([1, 4, 1], seed=0), init_mlp([1, 5, 1], seed=1)])


def test_ensemble_predict_equals_a_loop_over_models():
    members = _members([1, 40, 40, 1])
    x = tf.linspace(-5.0, 5.0, 25)[:, None]
    weights = performance_weights([0.3, -1.0, 2.0, 0.0])
    looped = sum(w * forward(params, x) for w, params in zip(weights, members, strict=True))
    ensemble = ensemble_predict(members, x, weights)
    assert ensemble.shape == (25, 1)
    np.testing.assert_allclose(ensemble.numpy(), looped.numpy(), rtol=1e-5, atol=1e-6)
    # a float64 NumPy x is cast to the parameters' float32
    np.testing.assert_allclose(ensemble_predict(members, np.asarray(x, np.float64), weights).numpy(), ensemble.numpy())


def test_average_params_hand_case():
    a = [tf.constant([[1.0], [2.0]]), tf.constant([0.0])]
    b = [tf.constant([[3.0], [-2.0]]), tf.constant([4.0])]
    averaged = average_params([a, b], [0.25, 0.75])
    np.testing.assert_allclose(averaged[0].numpy(), [[2.5], [-1.0]])
    np.testing.assert_allclose(averaged[1].numpy(), [3.0])


def test_output_and_parameter_averaging_agree_for_a_model_linear_in_its_parameters():
    members = [init_mlp([3, 1], seed=i, init="glorot") for i in range(5)]
    members = [[w, b + float(i)] for i, (w, b) in enumerate(members)]  # non-zero biases too
    x = tf.random.stateless_normal([50, 3], seed=[0, 1])
    weights = performance_weights(np.arange(5.0), 2.0)
    np.testing.assert_allclose(forward(average_params(members, weights), x).numpy(),
                               ensemble_predict(members, x, weights).numpy(), rtol=1e-5, atol=1e-5)


def test_output_and_parameter_averaging_differ_for_a_relu_mlp():
    members = _members([1, 40, 40, 1])
    x = tf.linspace(-5.0, 5.0, 50)[:, None]
    weights = np.full(4, 0.25)
    gap = forward(average_params(members, weights), x) - ensemble_predict(members, x, weights)
    scale = tf.reduce_max(tf.abs(ensemble_predict(members, x, weights)))
    assert float(tf.reduce_max(tf.abs(gap))) > 0.1 * float(scale)


@pytest.mark.parametrize("weights", [[0.5, 0.5], [0.5, 0.2, 0.2], [1.5, -0.5, 0.0], [0.5, np.nan, 0.5]])
def test_mixture_weights_validation(weights):
    members = _members([1, 4, 1], 3)
    with pytest.raises(ValueError, match="weights"):
        ensemble_predict(members, tf.zeros([2, 1]), weights)
    with pytest.raises(ValueError, match="weights"):
        average_params(members, weights)


def test_ensemble_predict_rejects_a_batched_x():
    with pytest.raises(ValueError, match="x"):
        ensemble_predict(_members([1, 4, 1], 2), tf.zeros([3, 2, 1]), [0.5, 0.5])


# ----------------------------------------------------------------------------------------------
# Hedge
# ----------------------------------------------------------------------------------------------


def test_learning_rate_and_bound():
    assert hedge_learning_rate(100, 4) == pytest.approx(math.sqrt(8 * math.log(4) / 100))
    assert hedge_regret_bound(100, 4) == pytest.approx(math.sqrt(100 * math.log(4) / 2))
    # the bound ln N / η + η T / 8 at the tuned η
    eta = hedge_learning_rate(100, 4)
    assert math.log(4) / eta + eta * 100 / 8 == pytest.approx(hedge_regret_bound(100, 4))
    assert hedge_regret_bound(10, 1) == 0.0


@pytest.mark.parametrize(("horizon", "num_experts", "error", "name"), [
    (0, 2, ValueError, "horizon"), (10, 0, ValueError, "num_experts"), (1.5, 2, TypeError, "horizon"),
])
def test_learning_rate_and_bound_validation(horizon, num_experts, error, name):
    for function in (hedge_learning_rate, hedge_regret_bound):
        with pytest.raises(error, match=name):
            function(horizon, num_experts)


def test_hedge_update_hand_case():
    log_weights = np.log([0.5, 0.5])
    updated = hedge_update(log_weights, [0.0, 1.0], learning_rate=math.log(3.0))
    # w ∝ (0.5, 0.5 / 3) → (3/4, 1/4)
    np.testing.assert_allclose(np.exp(updated), [0.75, 0.25], rtol=1e-12)
    np.testing.assert_allclose(np.exp(hedge_update([0.0, 5.0], [1.0, 1.0], 2.0)),
                               performance_weights([0.0, 5.0]), rtol=1e-12)


@pytest.mark.parametrize(("args", "name"), [
    (([0.0, 0.0], [0.0, 1.0], -0.1), "learning_rate"),
    (([0.0, 0.0], [0.0, 1.0], float("nan")), "learning_rate"),
    (([0.0, 0.0], [0.0, float("nan")], 0.1), "losses"),
    (([0.0, 0.0], [0.0, 1.0, 0.5], 0.1), "losses"),
    (([], [], 0.1), "log_weights"),
])
def test_hedge_update_validation(args, name):
    with pytest.raises(ValueError, match=name):
        hedge_update(*args)


def test_run_hedge_equals_the_closed_form_and_the_step_by_step_update():
    losses = np.random.default_rng(3).random((30, 4))
    result = run_hedge(losses)
    assert isinstance(result, HedgeResult) and result.weights.shape == (30, 4)
    eta = hedge_learning_rate(30, 4)
    assert result.learning_rate == eta and result.bound == hedge_regret_bound(30, 4)
    for t in (0, 1, 17, 29):
        previous = losses[:t].sum(axis=0)
        closed = np.exp(-eta * previous) / np.exp(-eta * previous).sum()
        np.testing.assert_allclose(result.weights[t], closed, rtol=1e-12)
    log_w = np.log(np.full(4, 0.25))
    for t in range(30):
        np.testing.assert_allclose(result.weights[t], np.exp(log_w), rtol=1e-10)
        log_w = hedge_update(log_w, losses[t], eta)
    np.testing.assert_allclose(result.expected_loss, np.sum(result.weights * losses, axis=1))
    cumulative = np.cumsum(losses, axis=0)
    np.testing.assert_allclose(result.cumulative_regret, np.cumsum(result.expected_loss) - cumulative.min(axis=1))
    assert result.best_expert == int(np.argmin(cumulative[-1]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.bound = 0.0  # type: ignore[misc]


def _adversarial_stream(horizon, num_experts):
    """Loss 1 to Hedge's currently heaviest expert, 0 to the others (as the weights are known)."""
    eta = hedge_learning_rate(horizon, num_experts)
    log_w = np.zeros(num_experts)
    rows = []
    for _ in range(horizon):
        row = np.zeros(num_experts)
        row[np.argmax(log_w)] = 1.0
        rows.append(row)
        log_w = hedge_update(log_w, row, eta)
    return np.array(rows)


def _switching_stream(horizon, num_experts, seed):
    """The best expert changes halfway through; noisy losses around 0.3 / 0.7."""
    rng = np.random.default_rng(seed)
    means = np.full((horizon, num_experts), 0.7)
    means[: horizon // 2, 0] = 0.3
    means[horizon // 2:, 1] = 0.2
    return np.clip(means + rng.normal(scale=0.1, size=means.shape), 0.0, 1.0)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("stream", ["uniform", "bernoulli", "switching", "adversarial"])
def test_regret_stays_below_the_bound(stream, seed):
    rng = np.random.default_rng(seed)
    horizon, num_experts = 500, 2 + seed
    if stream == "uniform":
        losses = rng.random((horizon, num_experts))
    elif stream == "bernoulli":
        losses = (rng.random((horizon, num_experts)) < rng.random(num_experts)).astype(float)
    elif stream == "switching":
        losses = _switching_stream(horizon, num_experts, seed)
    else:
        losses = _adversarial_stream(horizon, num_experts)
    result = run_hedge(losses)
    # the bound holds at the horizon T it was tuned for
    assert result.cumulative_regret[-1] <= result.bound + 1e-9
    # and, for the fixed η, ln N / η + η t / 8 bounds the regret at every t ≤ T
    t = np.arange(1, horizon + 1)
    anytime = math.log(num_experts) / result.learning_rate + result.learning_rate * t / 8
    assert np.all(result.cumulative_regret <= anytime + 1e-9)


def test_the_adversarial_stream_makes_regret_grow():
    result = run_hedge(_adversarial_stream(400, 2))
    assert result.cumulative_regret[-1] > 0.1 * result.bound  # not a vacuous test


def test_a_given_learning_rate_gets_its_own_bound():
    losses = np.random.default_rng(4).random((200, 3))
    result = run_hedge(losses, learning_rate=0.5)
    assert result.learning_rate == 0.5
    assert result.bound == pytest.approx(math.log(3) / 0.5 + 0.5 * 200 / 8)
    assert result.cumulative_regret[-1] <= result.bound


def test_single_expert_has_zero_regret():
    result = run_hedge(np.random.default_rng(5).random((20, 1)))
    np.testing.assert_allclose(result.weights, 1.0)
    np.testing.assert_allclose(result.cumulative_regret, 0.0, atol=1e-12)
    assert result.bound == 0.0


@pytest.mark.parametrize(("loss_matrix", "learning_rate", "name"), [
    ([[0.0, 1.5]], None, "loss_matrix"),
    ([[0.0, -0.1]], None, "loss_matrix"),
    ([[0.0, float("nan")]], None, "loss_matrix"),
    (np.zeros((3, 0)), None, "loss_matrix"),
    (np.zeros((0, 3)), None, "loss_matrix"),
    ([0.0, 1.0], None, "loss_matrix"),
    ([[0.0, 1.0]], -1.0, "learning_rate"),
    ([[0.0, 1.0]], float("inf"), "learning_rate"),
])
def test_run_hedge_validation(loss_matrix, learning_rate, name):
    with pytest.raises(ValueError, match=name):
        run_hedge(loss_matrix, learning_rate)
