"""The exact finite-horizon Bayes-optimal bandit policy: brute force, closed forms, simulation."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from metalearn_lib.bandits import BernoulliBandits
from metalearn_lib.bandits.bayes_optimal import BayesOptimal, bayes_optimal_solver, count_states
from metalearn_lib.bandits.policies import (
    BayesOptimalPolicy,
    EpsilonGreedyPolicy,
    GittinsPolicy,
    GreedyPolicy,
    RandomPolicy,
    ThompsonPolicy,
    UCB1Policy,
    run_policy,
)


def brute_force_value(successes: tuple[int, ...], failures: tuple[int, ...], remaining: int) -> float:
    """V by plain recursion over every history: no memoisation, no exchangeability."""
    if remaining == 0:
        return 0.0
    return max(brute_force_q(successes, failures, remaining))


def brute_force_q(successes: tuple[int, ...], failures: tuple[int, ...], remaining: int) -> list[float]:
    out = []
    for a in range(len(successes)):
        p = (1 + successes[a]) / (2 + successes[a] + failures[a])
        won = tuple(s + (i == a) for i, s in enumerate(successes))
        lost = tuple(f + (i == a) for i, f in enumerate(failures))
        out.append(p * (1 + brute_force_value(won, failures, remaining - 1))
                   + (1 - p) * brute_force_value(successes, lost, remaining - 1))
    return out


# ----------------------------------------------------------------------------------------------
# exactness
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("num_arms, num_pulls", [(1, 3), (2, 1), (2, 2), (2, 3), (2, 4), (3, 3), (3, 4)])
def test_matches_brute_force_enumeration(num_arms, num_pulls):
    solver = BayesOptimal(num_arms, num_pulls)
    zeros = (0,) * num_arms
    assert solver.expected_total_reward() == pytest.approx(brute_force_value(zeros, zeros, num_pulls), abs=1e-12)


def test_values_and_q_values_of_intermediate_states_match_brute_force():
    solver = BayesOptimal(3, 5)
    rng = np.random.default_rng(0)
    for _ in range(10):
        t = int(rng.integers(0, 5))
        cells = rng.multinomial(t, np.ones(6) / 6)  # t pulls spread over (arm, outcome)
        s, f = cells[:3], cells[3:]
        remaining = 5 - t
        expected_v = brute_force_value(tuple(s), tuple(f), remaining)
        assert solver.value(s, f, remaining) == pytest.approx(expected_v, abs=1e-12)
        np.testing.assert_allclose(solver.q_values(s, f, remaining), brute_force_q(tuple(s), tuple(f), remaining),
                                   atol=1e-12, rtol=0)


def test_queries_off_the_solved_horizon_use_the_recursion():
    solver = BayesOptimal(3, 4)  # solved for t + r = 4; V(state, r) does not depend on that
    for s, f, r in [((1, 0, 0), (0, 1, 0), 1), ((1, 0, 0), (0, 1, 0), 3), ((0, 0, 0), (0, 0, 0), 5),
                    ((2, 1, 0), (1, 0, 1), 2)]:
        expected = brute_force_value(s, f, r)
        assert solver.value(np.array(s), np.array(f), r) == pytest.approx(expected, abs=1e-12)
        np.testing.assert_allclose(solver.q_values(np.array(s), np.array(f), r), brute_force_q(s, f, r),
                                   atol=1e-12, rtol=0)
    assert solver.value(np.array([1, 0, 0]), np.array([0, 1, 0]), 0) == 0.0
    on = BayesOptimal(3, 5)
    assert solver.value(np.array([1, 0, 0]), np.array([0, 1, 0]), 3) == pytest.approx(
        on.value(np.array([1, 0, 0]), np.array([0, 1, 0]), 3), abs=1e-12)
    with pytest.raises(ValueError, match="remaining"):
        solver.value(np.array([0, 0, 0]), np.array([0, 0, 0]), 500)


def test_q_values_follow_the_arms_and_respect_exchangeability():
    solver = BayesOptimal(3, 6)
    s, f = np.array([2, 0, 1]), np.array([0, 1, 1])
    q = solver.q_values(s, f, 1)
    perm = np.array([2, 0, 1])
    np.testing.assert_array_equal(solver.q_values(s[perm], f[perm], 1), q[perm])
    # one pull left: Q_a is the posterior mean
    np.testing.assert_allclose(q, (1 + s) / (2 + s + f), atol=1e-15)


@pytest.mark.parametrize("num_arms", [1, 2, 5, 10])
def test_closed_forms_for_one_and_two_pulls(num_arms):
    assert BayesOptimal(num_arms, 1).expected_total_reward() == pytest.approx(0.5, abs=1e-15)
    # n = 2: 1/2 now; then after a success stay (2/3), after a failure switch to a fresh arm (1/2)
    two = 1.0 if num_arms == 1 else 0.5 + 0.5 * 2 / 3 + 0.5 * 0.5
    assert BayesOptimal(num_arms, 2).expected_total_reward() == pytest.approx(two, abs=1e-14)


def test_one_arm_earns_half_of_every_pull():
    assert BayesOptimal(1, 30).expected_total_reward() == pytest.approx(15.0, abs=1e-10)


def test_state_counts():
    # brute force: multisets of k pairs (s, f) with total weight t ≤ n
    k, n = 3, 4
    pairs = [(s, w - s) for w in range(n + 1) for s in range(w + 1)]
    multisets = {tuple(sorted(c)) for c in itertools.product(pairs, repeat=k) if sum(map(sum, c)) <= n}
    assert count_states(k, n) == len(multisets)
    assert count_states(5, 10) == 3519 and count_states(10, 10) == 4435 and count_states(2, 100) == 2299726
    assert BayesOptimal(5, 10).num_states == 3519


# ----------------------------------------------------------------------------------------------
# the documented cases
# ----------------------------------------------------------------------------------------------


def test_n10_k5_is_fast_and_beats_the_prior_mean():
    start = time.perf_counter()
    solver = BayesOptimal(5, 10)
    assert time.perf_counter() - start < 5.0  # ≈ 0.02 s
    value = solver.expected_total_reward()
    assert value == pytest.approx(6.65999, abs=1e-4)
    assert 5.0 < value < 10 * 5 / 6  # between random and an oracle that knows the best arm


def test_n10_k10_is_tractable():
    value = BayesOptimal(10, 10).expected_total_reward()
    assert value == pytest.approx(6.71395, abs=1e-4)
    assert value > BayesOptimal(5, 10).expected_total_reward()  # more arms, better best arm


@pytest.mark.slow
def test_n100_k2_is_tractable():
    start = time.perf_counter()
    solver = BayesOptimal(2, 100)
    assert time.perf_counter() - start < 60.0  # ≈ 2–4 s
    assert solver.expected_total_reward() == pytest.approx(64.9184, abs=1e-3)
    assert 50.0 < solver.expected_total_reward() < 100 * 2 / 3


def test_intractable_cases_are_refused_quickly():
    start = time.perf_counter()
    with pytest.raises(ValueError, match="smaller case"):
        BayesOptimal(3, 100)
    with pytest.raises(ValueError, match="smaller case"):
        BayesOptimal(5, 100)
    assert time.perf_counter() - start < 2.0


# ----------------------------------------------------------------------------------------------
# the policy, simulated
# ----------------------------------------------------------------------------------------------


def test_simulated_policy_earns_the_expected_total_reward():
    means = BernoulliBandits(5).sample_means(4000, seed=11).numpy()
    result = run_policy(BayesOptimalPolicy(5, 10), means, 10, seed=12)
    expected = bayes_optimal_solver(5, 10).expected_total_reward()
    assert abs(result.mean_total_reward - expected) < 1.5 * result.ci95  # ≈ 3 standard errors


def test_no_baseline_beats_it_at_n10_k5():
    means = BernoulliBandits(5).sample_means(4000, seed=21).numpy()
    best = bayes_optimal_solver(5, 10).expected_total_reward()
    baselines = [RandomPolicy(), GreedyPolicy(), EpsilonGreedyPolicy(0.1), UCB1Policy(0.2), ThompsonPolicy(),
                 GittinsPolicy(0.7)]
    bayes = run_policy(BayesOptimalPolicy(5, 10), means, 10, seed=22)
    for policy in baselines:
        result = run_policy(policy, means, 10, seed=22)
        assert result.mean_total_reward < best + 1.5 * result.ci95, policy.name
        # paired on the same bandits and reward stacks, the Bayes-optimal policy is ahead
        assert bayes.mean_total_reward > result.mean_total_reward - 0.5 * result.ci95, policy.name


def test_actions_break_ties_at_random_or_by_lowest_index():
    solver = BayesOptimal(4, 5)
    zeros = np.zeros((4000, 4), dtype=np.int64)
    np.testing.assert_array_equal(solver.actions(zeros, zeros, 0), np.zeros(4000))
    counts = np.bincount(solver.actions(zeros, zeros, 0, np.random.default_rng(0)), minlength=4)
    assert np.all(np.abs(counts - 1000) < 150)


def test_actions_on_the_last_pull_are_greedy():
    solver = BayesOptimal(3, 4)
    s = np.array([[1, 0, 2], [0, 0, 0]])
    f = np.array([[0, 0, 0], [2, 1, 0]])  # rows total t = 4 - 1 = 3 pulls
    np.testing.assert_array_equal(solver.actions(s, f, 3), [2, 2])


# ----------------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------------


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="num_arms"):
        BayesOptimal(0, 5)
    with pytest.raises(TypeError, match="num_pulls"):
        BayesOptimal(2, 5.0)
    solver = BayesOptimal(2, 3)
    with pytest.raises(ValueError, match="remaining"):
        solver.value(np.array([1, 0]), np.array([0, 0]), -1)
    with pytest.raises(ValueError, match="successes"):
        solver.value(np.array([1, 0, 0]), np.array([0, 0, 0]), 2)
    with pytest.raises(ValueError, match="failures"):
        solver.value(np.array([0, 0]), np.array([-1, 0]), 3)
    with pytest.raises(ValueError, match="remaining"):
        solver.q_values(np.array([2, 0]), np.array([1, 0]), 0)
    with pytest.raises(ValueError, match="total t"):
        solver.actions(np.array([[1, 0]]), np.array([[0, 0]]), 0)
    with pytest.raises(ValueError, match="t must be"):
        solver.actions(np.array([[1, 1]]), np.array([[1, 0]]), 3)
    with pytest.raises(ValueError, match="solved for"):
        BayesOptimalPolicy(2, 3)(np.zeros((1, 2), int), np.zeros((1, 2), int), 0, 4, np.random.default_rng(0))


def test_batch_q_values_equal_the_one_state_q_values():
    solver = BayesOptimal(3, 6)
    rng = np.random.default_rng(5)
    for t in range(6):
        arms = rng.integers(0, 3, size=(20, t))
        wins = rng.integers(0, 2, size=(20, t))
        successes = np.stack([np.bincount(a, weights=w, minlength=3) for a, w in zip(arms, wins, strict=True)])
        pulls = np.stack([np.bincount(a, minlength=3) for a in arms])
        successes = successes.astype(np.int64)
        failures = pulls - successes
        batch = solver.batch_q_values(successes, failures, t)
        for b in range(20):
            np.testing.assert_allclose(batch[b], solver.q_values(successes[b], failures[b], 6 - t), rtol=1e-12)
    with pytest.raises(ValueError, match="total t"):
        solver.batch_q_values(np.zeros((2, 3), np.int64), np.ones((2, 3), np.int64), 1)
