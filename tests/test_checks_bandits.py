"""The checks of ``05_meta_rl_bandits``: right answers pass, every wrong one is rejected with a hint."""

from __future__ import annotations

import numpy as np
import pytest

from metalearn_lib.bandits import BayesOptimal, thompson_sample, ucb1_index
from metalearn_lib.checks.bandits import check_bayes_q_values, check_thompson_action, check_ucb1_index
from tests.check_tools import verdict_of
from tests.notebook_tools import REPO_ROOT, solution_namespace

SOLUTIONS = REPO_ROOT / "solutions" / "05_meta_rl_bandits_exercises.ipynb"


# =============================================================================================
# ucb1_index(successes, failures, c)
# =============================================================================================
def right_ucb1_library(successes, failures, c):
    return ucb1_index(successes[None], failures[None], c)[0]


def right_ucb1_masked(successes, failures, c):
    n = successes + failures
    t = n.sum()
    index = np.full(n.shape, np.inf)
    pulled = n > 0
    index[pulled] = successes[pulled] / n[pulled] + c * np.sqrt(2 * np.log(t) / n[pulled])
    return index


def right_ucb1_loop(successes, failures, c):
    n = [int(s + f) for s, f in zip(successes, failures, strict=True)]
    t = sum(n)
    return [float("inf") if m == 0 else s / m + c * (2 * np.log(t) / m) ** 0.5 for s, m in zip(successes, n,
                                                                                              strict=True)]


@pytest.mark.parametrize("implementation", [right_ucb1_library, right_ucb1_masked, right_ucb1_loop])
def test_right_ucb1_indices_pass(implementation, capsys):
    assert check_ucb1_index(implementation) is None
    assert "✅ ucb1_index: all 6 checks passed." in capsys.readouterr().out


def _ucb1_with(mean, bonus):
    def ucb1(successes, failures, c):
        n = (successes + failures).astype(float)
        t = n.sum()
        safe = np.where(n > 0, n, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = mean(successes, failures, safe) + bonus(c, t, safe)
        return np.where(n > 0, value, np.inf)
    return ucb1


def empirical(s, f, n):
    return s / n


ucb1_total_count = _ucb1_with(empirical, lambda c, t, n: c * np.sqrt(2 * np.log(t) / t))
ucb1_log_of_arm_count = _ucb1_with(empirical, lambda c, t, n: c * np.sqrt(2 * np.log(n) / n))
ucb1_no_two = _ucb1_with(empirical, lambda c, t, n: c * np.sqrt(np.log(t) / n))
ucb1_c_ignored = _ucb1_with(empirical, lambda c, t, n: np.sqrt(2 * np.log(t) / n))
ucb1_no_sqrt = _ucb1_with(empirical, lambda c, t, n: c * 2 * np.log(t) / n)
ucb1_posterior_mean = _ucb1_with(lambda s, f, n: (1 + s) / (2 + s + f), lambda c, t, n: c * np.sqrt(2 * np.log(t) / n))
ucb1_divides_by_failures = _ucb1_with(lambda s, f, n: s / np.where(f > 0, f, 1),
                                      lambda c, t, n: c * np.sqrt(2 * np.log(t) / n))
ucb1_pessimistic = _ucb1_with(empirical, lambda c, t, n: -c * np.sqrt(2 * np.log(t) / n))


def ucb1_unpulled_zero(successes, failures, c):
    return np.nan_to_num(right_ucb1_masked(successes, failures, c), posinf=0.0)


def ucb1_zero_division(successes, failures, c):
    n = successes + failures
    with np.errstate(divide="ignore", invalid="ignore"):
        return successes / n + c * np.sqrt(2 * np.log(n.sum()) / n)


def ucb1_argmax(successes, failures, c):
    return int(np.argmax(right_ucb1_masked(successes, failures, c)))


WRONG_UCB1 = {
    ucb1_total_count: "n_a",
    ucb1_log_of_arm_count: "ln t",
    ucb1_no_two: "factor 2",
    ucb1_c_ignored: "c is ignored",
    ucb1_no_sqrt: "square root",
    ucb1_posterior_mean: "empirical mean",
    ucb1_divides_by_failures: "divides by the failures",
    ucb1_pessimistic: "wrong sign",
    ucb1_unpulled_zero: "+inf",
    ucb1_zero_division: "nan",
    ucb1_argmax: "shape",
}


@pytest.mark.parametrize("implementation", list(WRONG_UCB1), ids=lambda f: f.__name__)
def test_wrong_ucb1_indices_are_rejected_with_a_useful_hint(implementation):
    verdict = verdict_of(check_ucb1_index, implementation)
    assert "❌ ucb1_index" in verdict
    assert WRONG_UCB1[implementation] in verdict


# =============================================================================================
# thompson_action(successes, failures, rng)
# =============================================================================================
def right_thompson_library(successes, failures, rng):
    return int(np.argmax(thompson_sample(successes[None], failures[None], rng)[0]))


def right_thompson_loop(successes, failures, rng):
    draws = [rng.beta(1 + s, 1 + f) for s, f in zip(successes, failures, strict=True)]
    return int(np.argmax(draws))


def right_thompson_numpy_int(successes, failures, rng):
    return np.argmax(rng.beta(1 + successes, 1 + failures))


@pytest.mark.parametrize("implementation", [right_thompson_library, right_thompson_loop, right_thompson_numpy_int])
def test_right_thompson_actions_pass(implementation, capsys):
    assert check_thompson_action(implementation) is None
    assert "✅ thompson_action: all 4 checks passed." in capsys.readouterr().out


def thompson_from_prior(successes, failures, rng):
    return int(np.argmax(rng.beta(np.ones(successes.size), np.ones(successes.size))))


def thompson_greedy(successes, failures, rng):
    return int(np.argmax((1 + successes) / (2 + successes + failures)))


def thompson_swapped(successes, failures, rng):
    return int(np.argmax(rng.beta(1 + failures, 1 + successes)))


def thompson_uniform_random(successes, failures, rng):
    return int(rng.integers(successes.size))


def thompson_returns_draws(successes, failures, rng):
    return rng.beta(1 + successes, 1 + failures)


def thompson_no_prior(successes, failures, rng):
    return int(np.argmax(rng.beta(np.maximum(successes, 1e-9), np.maximum(failures, 1e-9))))


def thompson_returns_worst(successes, failures, rng):
    return int(np.argmin(rng.beta(1 + successes, 1 + failures)))


WRONG_THOMPSON = {
    thompson_from_prior: "prior",
    thompson_greedy: "greedy",
    thompson_swapped: "swapped",
    thompson_uniform_random: "prior",
    thompson_returns_draws: "one arm index",
    thompson_no_prior: "Beta(1 + s_a, 1 + f_a)",
    thompson_returns_worst: "Beta(1 + s_a, 1 + f_a)",
}


@pytest.mark.parametrize("implementation", list(WRONG_THOMPSON), ids=lambda f: f.__name__)
def test_wrong_thompson_actions_are_rejected_with_a_useful_hint(implementation):
    verdict = verdict_of(check_thompson_action, implementation)
    assert "❌ thompson_action" in verdict
    assert WRONG_THOMPSON[implementation] in verdict


# =============================================================================================
# bayes_q_values(successes, failures, remaining, value)
# =============================================================================================
def right_bayes_loop(successes, failures, remaining, value):
    q = []
    for a in range(len(successes)):
        p = (1 + successes[a]) / (2 + successes[a] + failures[a])
        won, lost = successes.copy(), failures.copy()
        won[a] += 1
        lost[a] += 1
        q.append(p * (1 + value(won, failures, remaining - 1)) + (1 - p) * value(successes, lost, remaining - 1))
    return np.array(q)


def right_bayes_library(successes, failures, remaining, value):
    return BayesOptimal(len(successes), int(successes.sum() + failures.sum()) + remaining).q_values(
        successes, failures, remaining)


@pytest.mark.parametrize("implementation", [right_bayes_loop, right_bayes_library])
def test_right_bayes_q_values_pass(implementation, capsys):
    assert check_bayes_q_values(implementation) is None
    assert "✅ bayes_q_values: all 5 checks passed." in capsys.readouterr().out


def _bayes_with(*, shift=1, reward=1.0, prior=True, swap=False):
    def bayes(successes, failures, remaining, value):
        q = []
        for a in range(len(successes)):
            s_a, f_a = successes[a], failures[a]
            p = (1 + s_a) / (2 + s_a + f_a) if prior else s_a / max(s_a + f_a, 1)
            won, lost = successes.copy(), failures.copy()
            won[a] += 1
            lost[a] += 1
            win, lose = ((won, failures), (successes, lost))
            if swap:
                win, lose = lose, win
            q.append(p * (reward + value(*win, remaining - shift)) + (1 - p) * value(*lose, remaining - shift))
        return np.array(q)
    return bayes


bayes_remaining_not_decremented = _bayes_with(shift=0)
bayes_decremented_twice = _bayes_with(shift=2)
bayes_no_immediate_reward = _bayes_with(reward=0.0)
bayes_empirical_mean = _bayes_with(prior=False)
bayes_success_failure_swapped = _bayes_with(swap=True)


def bayes_returns_value(successes, failures, remaining, value):
    return np.full(len(successes), np.max(right_bayes_loop(successes, failures, remaining, value)))


def bayes_mutates_counts(successes, failures, remaining, value):
    q = []
    for a in range(len(successes)):
        p = (1 + successes[a]) / (2 + successes[a] + failures[a])
        successes[a] += 1  # forgets to undo it
        win = value(successes, failures, remaining - 1)
        successes[a] -= 1
        failures[a] += 1
        q.append(p * (1 + win) + (1 - p) * value(successes, failures, remaining - 1))
    return np.array(q)


WRONG_BAYES = {
    bayes_remaining_not_decremented: "remaining − 1",
    bayes_decremented_twice: "r − 2",
    bayes_no_immediate_reward: "immediate reward",
    bayes_empirical_mean: "posterior mean",
    bayes_success_failure_swapped: "swapped",
    bayes_returns_value: "one Q_a per arm",
    bayes_mutates_counts: "Q_a = p̂_a",
}


@pytest.mark.parametrize("implementation", list(WRONG_BAYES), ids=lambda f: f.__name__)
def test_wrong_bayes_q_values_are_rejected_with_a_useful_hint(implementation):
    verdict = verdict_of(check_bayes_q_values, implementation)
    assert "❌ bayes_q_values" in verdict
    assert WRONG_BAYES[implementation] in verdict


# =============================================================================================
# the solutions notebook's inline code equals the library
# =============================================================================================
@pytest.fixture(scope="module")
def inline():
    return solution_namespace(SOLUTIONS)


def test_the_solution_notebooks_inline_ucb1_equals_the_library(inline):
    rng = np.random.default_rng(0)
    for _ in range(20):
        s, f = rng.integers(0, 6, size=(2, 4))
        np.testing.assert_allclose(inline["ucb1_index"](s, f, 0.7), ucb1_index(s[None], f[None], 0.7)[0])


def test_the_solution_notebooks_inline_thompson_draws_like_the_library(inline):
    s, f = np.array([3, 1, 0]), np.array([1, 2, 0])
    mine = [inline["thompson_action"](s, f, np.random.default_rng(seed)) for seed in range(200)]
    library = [int(np.argmax(thompson_sample(s[None], f[None], np.random.default_rng(seed))[0])) for seed in range(200)]
    assert mine == library


def test_the_solution_notebooks_inline_bayes_q_values_equal_the_library(inline):
    solver = BayesOptimal(3, 6)
    s, f = np.array([1, 0, 2]), np.array([0, 1, 0])
    got = inline["bayes_q_values"](s, f, 2, solver.value)
    np.testing.assert_allclose(got, solver.q_values(s, f, 2), rtol=1e-12)
