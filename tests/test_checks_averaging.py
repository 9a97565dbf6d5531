"""The checks of ``03_model_averaging``: right answers pass, every wrong one is rejected with a hint."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.averaging import hedge_update, performance_weights
from metalearn_lib.checks.averaging import check_hedge_update, check_performance_weights
from metalearn_lib.checks.core import CheckFailed
from tests.check_tools import verdict_of
from tests.notebook_tools import REPO_ROOT, solution_namespace

SOLUTIONS = REPO_ROOT / "solutions" / "03_model_averaging_exercises.ipynb"


# =============================================================================================
# performance_weights(scores, temperature, kind)
# =============================================================================================
def right_weights_library(scores, temperature=1.0, kind="reward"):
    return performance_weights(scores, temperature, kind=kind)


def right_weights_max_shift(scores, temperature=1.0, kind="reward"):
    s = -np.asarray(scores) if kind == "loss" else np.asarray(scores)
    z = (s - s.max()) / temperature
    e = np.exp(z)
    return e / e.sum()


def right_weights_tensorflow(scores, temperature=1.0, kind="reward"):
    sign = -1.0 if kind == "loss" else 1.0
    return tf.nn.softmax(sign * tf.constant(scores) / temperature)


def right_weights_logsumexp(scores, temperature=1.0, kind="reward"):
    z = (-scores if kind == "loss" else scores) / temperature
    return np.exp(z - (z.max() + np.log(np.sum(np.exp(z - z.max())))))


@pytest.mark.parametrize("implementation", [right_weights_library, right_weights_max_shift, right_weights_tensorflow,
                                            right_weights_logsumexp])
def test_right_performance_weights_pass(implementation, capsys):
    assert check_performance_weights(implementation) is None
    assert "✅ performance_weights: all 10 checks passed." in capsys.readouterr().out


def weights_naive_exp(scores, temperature=1.0, kind="reward"):
    s = -scores if kind == "loss" else scores
    e = np.exp(s / temperature)
    return e / e.sum()


def weights_not_normalised(scores, temperature=1.0, kind="reward"):
    s = -scores if kind == "loss" else scores
    return np.exp((s - s.max()) / temperature)


def weights_temperature_upside_down(scores, temperature=1.0, kind="reward"):
    s = -scores if kind == "loss" else scores
    return right_weights_max_shift(s * temperature, 1.0)


def weights_temperature_ignored(scores, temperature=1.0, kind="reward"):
    return right_weights_max_shift(scores, 1.0, kind)


def weights_loss_not_negated(scores, temperature=1.0, kind="reward"):
    return right_weights_max_shift(scores, temperature, "reward")


def weights_always_negated(scores, temperature=1.0, kind="reward"):
    return right_weights_max_shift(scores, temperature, "loss")


def weights_proportional(scores, temperature=1.0, kind="reward"):
    s = 1.0 / scores if kind == "loss" else scores
    return s / s.sum()


def weights_argmax(scores, temperature=1.0, kind="reward"):
    s = -scores if kind == "loss" else scores
    return (s == s.max()).astype(float) / np.sum(s == s.max())


def weights_forgot_return(scores, temperature=1.0, kind="reward"):
    right_weights_max_shift(scores, temperature, kind)


WRONG_WEIGHTS = {
    weights_naive_exp: "overflowed",
    weights_not_normalised: "should sum to 1",
    weights_temperature_upside_down: "upside down",
    weights_temperature_ignored: "temperature is ignored",
    weights_loss_not_negated: "sign of the loss is confused",
    weights_always_negated: "Negate the scores only for kind='loss'",
    weights_proportional: "proportional weights",
    weights_argmax: "wᵢ = exp(sᵢ/τ) / Σⱼ exp(sⱼ/τ)",  # the first case's hint: a verdict shows ≤ 15 lines
    weights_forgot_return: "return",
}


@pytest.mark.parametrize("implementation", list(WRONG_WEIGHTS), ids=[f.__name__ for f in WRONG_WEIGHTS])
def test_wrong_performance_weights_are_rejected_with_a_useful_hint(implementation):
    verdict = verdict_of(check_performance_weights, implementation)
    assert verdict.startswith("❌ performance_weights:")
    assert WRONG_WEIGHTS[implementation] in verdict


def test_not_implemented_yet_gives_one_friendly_failure():
    def stub(scores, temperature=1.0, kind="reward"):
        raise NotImplementedError()

    with pytest.raises(CheckFailed) as failure:
        check_performance_weights(stub)
    assert len(failure.value.report.failures) == 1
    assert "not written yet" in str(failure.value)


def test_the_call_line_shows_the_scores_temperature_and_kind():
    verdict = verdict_of(check_performance_weights, weights_loss_not_negated)
    assert "performance_weights([0.2, 0.4, 0.1, 0.9], temperature=1.0, kind='loss')" in verdict


# =============================================================================================
# hedge_update(weights, losses, learning_rate) -> new weights
# =============================================================================================
def right_hedge_library(weights, losses, learning_rate):
    return np.exp(hedge_update(np.log(weights), losses, learning_rate))


def right_hedge_log_space(weights, losses, learning_rate):
    z = np.log(weights) - learning_rate * losses
    e = np.exp(z - z.max())
    return e / e.sum()


def right_hedge_tensorflow(weights, losses, learning_rate):
    return tf.nn.softmax(tf.math.log(tf.constant(weights)) - learning_rate * tf.constant(losses))


def right_hedge_shift_by_the_smallest_loss(weights, losses, learning_rate):
    w = weights / weights.sum() * np.exp(-learning_rate * (losses - losses.min()))
    return w / w.sum()


@pytest.mark.parametrize("implementation", [right_hedge_library, right_hedge_log_space, right_hedge_tensorflow,
                                            right_hedge_shift_by_the_smallest_loss])
def test_right_hedge_updates_pass(implementation, capsys):
    assert check_hedge_update(implementation) is None
    assert "✅ hedge_update: all 7 checks passed." in capsys.readouterr().out


def hedge_naive(weights, losses, learning_rate):
    w = weights * np.exp(-learning_rate * losses)
    return w / w.sum()


def hedge_sign_flipped(weights, losses, learning_rate):
    return right_hedge_log_space(weights, -losses, learning_rate)


def hedge_not_renormalised(weights, losses, learning_rate):
    return weights * np.exp(-learning_rate * losses)


def hedge_learning_rate_ignored(weights, losses, learning_rate):
    return right_hedge_log_space(weights, losses, 1.0)


def hedge_learning_rate_upside_down(weights, losses, learning_rate):
    return right_hedge_log_space(weights, losses / learning_rate, 1.0)


def hedge_losses_multiplied(weights, losses, learning_rate):
    w = weights * learning_rate * losses
    return w / w.sum()


def hedge_linear_approximation(weights, losses, learning_rate):
    w = weights * (1.0 - learning_rate * losses)
    return w / w.sum()


def hedge_forgets_the_weights(weights, losses, learning_rate):
    return right_hedge_log_space(np.ones_like(weights), losses, learning_rate)


def hedge_returns_log_weights(weights, losses, learning_rate):
    return np.log(right_hedge_log_space(weights, losses, learning_rate))


def hedge_forgot_return(weights, losses, learning_rate):
    right_hedge_log_space(weights, losses, learning_rate)


WRONG_HEDGE = {
    hedge_naive: "underflowed",
    hedge_sign_flipped: "sign is flipped",
    hedge_not_renormalised: "renormalise",
    hedge_learning_rate_ignored: "learning rate is ignored",
    hedge_learning_rate_upside_down: "learning rate is upside down",
    hedge_losses_multiplied: "multiplied in, not exponentiated",
    hedge_linear_approximation: "linear approximation",
    hedge_forgets_the_weights: "current weights were dropped",
    hedge_returns_log_weights: "returned log weights",
    hedge_forgot_return: "return",
}


@pytest.mark.parametrize("implementation", list(WRONG_HEDGE), ids=[f.__name__ for f in WRONG_HEDGE])
def test_wrong_hedge_updates_are_rejected_with_a_useful_hint(implementation):
    verdict = verdict_of(check_hedge_update, implementation)
    assert verdict.startswith("❌ hedge_update:")
    assert WRONG_HEDGE[implementation] in verdict


def test_the_learner_cannot_change_the_cases_in_place():
    def mutating(weights, losses, learning_rate):
        weights *= 0.0
        return right_hedge_log_space(np.full_like(losses, 1.0), losses, learning_rate)

    with pytest.raises(CheckFailed):
        check_hedge_update(mutating)
    check_hedge_update(right_hedge_log_space, quiet=True)  # the cases are intact afterwards


# =============================================================================================
# the solutions notebook writes the same maths as the library
# =============================================================================================
@pytest.fixture(scope="module")
def inline():
    return solution_namespace(SOLUTIONS)


@pytest.mark.parametrize(("scores", "temperature", "kind"), [
    ([0.3, 1.2, 0.7, 2.5], 0.2, "loss"), ([1e4, 1e4 + 1, 3.0], 0.5, "reward"), ([-5.0, 2.0], 3.0, "reward"),
])
def test_the_solution_notebooks_inline_weights_equal_the_library(inline, scores, temperature, kind):
    got = inline["performance_weights"](np.asarray(scores), temperature, kind)
    np.testing.assert_allclose(np.asarray(got), performance_weights(scores, temperature, kind=kind), rtol=1e-12)


def test_the_solution_notebooks_inline_hedge_update_equals_the_library(inline):
    rng = np.random.default_rng(0)
    weights, losses = rng.dirichlet(np.ones(6)), rng.uniform(size=6)
    for eta in (0.0, 0.1, 2.0, 500.0):
        got = inline["hedge_update"](weights, losses, eta)
        np.testing.assert_allclose(np.asarray(got), np.exp(hedge_update(np.log(weights), losses, eta)), rtol=1e-10,
                                   atol=1e-300)
