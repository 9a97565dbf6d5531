"""Chapter 8's bandit shift: the priors, the generalised Bayes-optimal DP (brute force), the evaluation."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.applications.bandit_shift import (
    METHOD_LABELS,
    UCB1_C_TUNED_ON_UNIFORM,
    ArmPrior,
    BetaPrior,
    SparseGoodPrior,
    UniformPrior,
    _betainc,
    bayes_optimal_for_prior,
    evaluate_under_prior,
    is_training_prior,
)
from metalearn_lib.bandits import PARAMETER_GRID, BernoulliBandits, UCB1Policy, tune_policy
from metalearn_lib.bandits.bayes_optimal import BayesOptimal, bayes_optimal_solver
from metalearn_lib.bandits.policies import BayesOptimalPolicy, run_policy

RESULTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results" / "bandits_full.json"


def midpoint_moment(s: int, f: int, low: float, high: float, points: int = 200_000) -> float:
    """E[θ^s (1 − θ)^f] for θ ~ U[low, high] by the midpoint rule (independent of the library's quadrature)."""
    theta = low + (high - low) * (np.arange(points) + 0.5) / points
    return float(np.mean(theta**s * (1 - theta) ** f))


def uniform_predictive(s: int, f: int, low: float = 0.4, high: float = 0.6) -> float:
    return midpoint_moment(s + 1, f, low, high) / midpoint_moment(s, f, low, high)


def brute_force_value(p_hat, successes: tuple[int, ...], failures: tuple[int, ...], remaining: int) -> float:
    """V by recursion over every history (no memo, no exchangeability), predictive p_hat(s, f)."""
    if remaining == 0:
        return 0.0
    return max(brute_force_q(p_hat, successes, failures, remaining))


def brute_force_q(p_hat, successes, failures, remaining) -> list[float]:
    out = []
    for a in range(len(successes)):
        p = p_hat(successes[a], failures[a])
        won = tuple(s + (i == a) for i, s in enumerate(successes))
        lost = tuple(f + (i == a) for i, f in enumerate(failures))
        out.append(p * (1 + brute_force_value(p_hat, won, failures, remaining - 1))
                   + (1 - p) * brute_force_value(p_hat, successes, lost, remaining - 1))
    return out


# ----------------------------------------------------------------------------------------------
# the priors
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make, name", [
    (lambda: BetaPrior(0.0, 1.0), "a"), (lambda: BetaPrior(1.0, -2.0), "b"), (lambda: UniformPrior(0.6, 0.4), "low"),
    (lambda: UniformPrior(-0.1, 0.5), "low"), (lambda: UniformPrior(0.2, 1.5), "high"),
    (lambda: SparseGoodPrior(good_prob=1.5), "good_prob"), (lambda: SparseGoodPrior(good_mean=-1.0), "good_mean"),
    (lambda: SparseGoodPrior(good_mean=0.5, bad_high=0.6), "bad_high"),
    (lambda: SparseGoodPrior(bad_low=0.7, bad_high=0.6), "bad_low"),
])
def test_priors_validate_their_arguments(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_priors_reject_non_numbers():
    with pytest.raises(TypeError, match="a must be"):
        BetaPrior("1", 1.0)
    with pytest.raises(TypeError, match="num_arms"):
        BetaPrior(0.5, 0.5).sample_means(10, 2.5, 0)


@pytest.mark.parametrize("prior", [BetaPrior(0.5, 0.5), BetaPrior(2.0, 3.0), UniformPrior(0.4, 0.6),
                                   SparseGoodPrior.one_good_arm_in(5)], ids=lambda p: p.name)
def test_sample_means_are_stateless_and_follow_the_prior(prior):
    assert isinstance(prior, ArmPrior)
    means = prior.sample_means(100_000, 2, 7, tf.float64).numpy()
    assert means.shape == (100_000, 2) and np.all((means >= 0) & (means <= 1))
    np.testing.assert_array_equal(means, prior.sample_means(100_000, 2, 7, tf.float64).numpy())
    assert not np.array_equal(means, prior.sample_means(100_000, 2, 8, tf.float64).numpy())
    assert prior.sample_means(3, 4, 0).dtype == tf.float32
    # first two moments from the predictive table: E[θ] = p̂(0, 0), E[θ²] = p̂(0, 0)·p̂(1, 0)
    table = prior.predictive_table(1)
    mean, second = table[0, 0], table[0, 0] * table[1, 0]
    se = math.sqrt((second - mean**2) / means.size)
    assert abs(means.mean() - mean) < 5 * se
    assert abs((means**2).mean() - second) < 5 * math.sqrt(np.var(means**2) / means.size)


def test_beta_one_one_draws_chapter_5s_bandits():
    np.testing.assert_array_equal(BetaPrior(1.0, 1.0).sample_means(50, 5, 1_000_000).numpy(),
                                  BernoulliBandits(5).sample_means(50, 1_000_000).numpy())
    assert is_training_prior(BetaPrior(1, 1)) and is_training_prior(UniformPrior(0.0, 1.0))
    assert not is_training_prior(BetaPrior(0.5, 0.5)) and not is_training_prior(UniformPrior(0.0, 0.5))


def test_sparse_prior_has_the_asked_fraction_of_good_arms():
    prior = SparseGoodPrior(good_prob=0.25, good_mean=0.9, bad_low=0.1, bad_high=0.5)
    means = prior.sample_means(20_000, 4, 3).numpy()
    good = np.isclose(means, 0.9)
    assert abs(good.mean() - 0.25) < 5 * math.sqrt(0.25 * 0.75 / good.size)
    assert np.all((means[~good] >= 0.1) & (means[~good] <= 0.5))
    assert SparseGoodPrior.one_good_arm_in(10).good_prob == pytest.approx(0.1)


def test_beta_predictive_is_the_posterior_mean():
    table = BetaPrior(0.5, 0.5).predictive_table(6)
    assert table.shape == (7, 7)
    assert table[3, 1] == pytest.approx(3.5 / 5.0) and table[0, 0] == 0.5
    np.testing.assert_array_equal(BetaPrior(1, 1).predictive_table(4), BayesOptimal(2, 5).predictive_table[:5, :5])


@pytest.mark.parametrize("s, f", [(0, 0), (3, 0), (0, 5), (7, 4), (30, 12), (0, 60), (60, 0)])
def test_uniform_predictive_matches_direct_integration(s, f):
    table = UniformPrior(0.4, 0.6).predictive_table(60)
    assert table[s, f] == pytest.approx(uniform_predictive(s, f), abs=1e-8)
    assert 0.4 < table[s, f] < 0.6


@pytest.mark.parametrize("s, f", [(0, 0), (2, 0), (0, 2), (5, 3), (12, 1), (1, 15)])
def test_sparse_predictive_matches_direct_computation(s, f):
    q, g, low, high = 0.3, 0.9, 0.0, 0.6
    table = SparseGoodPrior(q, g, low, high).predictive_table(15)

    def moment(s_: int, f_: int) -> float:
        return q * g**s_ * (1 - g) ** f_ + (1 - q) * midpoint_moment(s_, f_, low, high)

    assert table[s, f] == pytest.approx(moment(s + 1, f) / moment(s, f), abs=1e-8)


def test_predictive_tables_match_monte_carlo():
    prior = SparseGoodPrior.one_good_arm_in(3)
    theta = prior.sample_means(400_000, 1, 11, tf.float64).numpy().ravel()
    table = prior.predictive_table(4)
    for s, f in [(0, 0), (2, 0), (1, 3), (4, 1)]:
        weights = theta**s * (1 - theta) ** f  # posterior ∝ prior × likelihood
        assert table[s, f] == pytest.approx((weights * theta).sum() / weights.sum(), abs=0.01)


def test_incomplete_beta_matches_closed_forms():
    x = np.linspace(0.0, 1.0, 21)
    np.testing.assert_allclose(_betainc(0.5, 0.5, x), 2 / np.pi * np.arcsin(np.sqrt(x)), atol=1e-12)
    np.testing.assert_allclose(_betainc(2.5, 1.0, x), x**2.5, atol=1e-12)
    np.testing.assert_allclose(_betainc(1.0, 3.0, x), 1 - (1 - x) ** 3, atol=1e-12)


@pytest.mark.parametrize("prior", [BetaPrior(0.5, 0.5), BetaPrior(2.0, 0.7), UniformPrior(0.4, 0.6),
                                   SparseGoodPrior.one_good_arm_in(5)], ids=lambda p: p.name)
def test_expected_best_matches_monte_carlo(prior):
    best = prior.sample_means(200_000, 5, 5, tf.float64).numpy().max(axis=1)
    se = best.std() / math.sqrt(best.size)
    assert prior.expected_best(5, 10) == pytest.approx(10 * best.mean(), abs=10 * 5 * se)


def test_expected_best_closed_forms():
    assert BetaPrior(1, 1).expected_best(4, 10) == pytest.approx(8.0)
    assert BetaPrior(0.5, 0.5).expected_best(1, 10) == pytest.approx(5.0, abs=1e-9)  # one arm: its mean
    # two arcsine arms: E[max] = 1/2 + E|X − Y|/2 with E|X − Y| = 4/π²
    assert BetaPrior(0.5, 0.5).expected_best(2, 1) == pytest.approx(0.5 + 2 / math.pi**2, abs=1e-9)
    assert UniformPrior(0.4, 0.6).expected_best(3, 100) == pytest.approx(100 * (0.4 + 0.2 * 3 / 4))
    one_good = SparseGoodPrior(0.5, 0.9, 0.0, 0.6)
    assert one_good.expected_best(2, 1) == pytest.approx(0.75 * 0.9 + 0.25 * 0.4)


# ----------------------------------------------------------------------------------------------
# the generalised DP
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("num_pulls", [1, 2, 3, 4])
@pytest.mark.parametrize("prior, p_hat", [
    (BetaPrior(0.5, 0.5), lambda s, f: (0.5 + s) / (1.0 + s + f)),
    (UniformPrior(0.4, 0.6), uniform_predictive),
], ids=["beta-half", "uniform-0.4-0.6"])
def test_generalised_dp_matches_brute_force(prior, p_hat, num_pulls):
    solver = BayesOptimal(2, num_pulls, predictive=prior.predictive_table(num_pulls))
    assert solver.expected_total_reward() == pytest.approx(brute_force_value(p_hat, (0, 0), (0, 0), num_pulls),
                                                           abs=1e-9)


def test_generalised_dp_q_values_of_intermediate_states_match_brute_force():
    p_hat = lambda s, f: (0.5 + s) / (1.0 + s + f)  # noqa: E731
    solver = BayesOptimal(3, 5, predictive=BetaPrior(0.5, 0.5).predictive_table(5))
    for s, f, remaining in [((1, 0, 0), (0, 1, 0), 3), ((2, 0, 0), (0, 0, 1), 2), ((0, 0, 0), (1, 1, 0), 3)]:
        np.testing.assert_allclose(solver.q_values(np.array(s), np.array(f), remaining),
                                   brute_force_q(p_hat, s, f, remaining), atol=1e-12)
    # off the solved horizon (t + r ≠ n) the memoised recursion uses the same prior
    assert solver.value(np.array([1, 0, 0]), np.array([0, 0, 0]), 1) == pytest.approx(1.5 / 2.0)


def test_uniform_prior_dp_is_unchanged():
    for k, n in [(5, 10), (3, 6)]:
        old = BayesOptimal(k, n)
        new = BayesOptimal(k, n, predictive=BetaPrior(1.0, 1.0).predictive_table(n))
        for a, b in zip(old._values, new._values, strict=True):
            np.testing.assert_array_equal(a, b)  # bit-identical
    assert BayesOptimal(5, 10).expected_total_reward() == pytest.approx(6.65999, abs=1e-4)
    assert bayes_optimal_for_prior(BetaPrior(1, 1), 5, 10) is bayes_optimal_solver(5, 10)


def test_predictive_function_and_its_checks():
    p_hat = lambda s, f: (0.5 + s) / (1.0 + s + f)  # noqa: E731
    with_function = BayesOptimal(2, 4, predictive=p_hat)
    with_table = BayesOptimal(2, 4, predictive=BetaPrior(0.5, 0.5).predictive_table(4))
    assert with_function.expected_total_reward() == with_table.expected_total_reward()
    # off-horizon queries beyond the table call the function
    assert with_function.value(np.array([6, 0]), np.array([0, 0]), 1) == pytest.approx(6.5 / 7)
    with pytest.raises(ValueError, match="predictive table covers"):
        with_table.value(np.array([6, 0]), np.array([0, 0]), 1)
    with pytest.raises(ValueError, match="predictive"):
        BayesOptimal(2, 5, predictive=np.full((3, 3), 0.5))  # too small for n = 5
    with pytest.raises(ValueError, match="predictive"):
        BayesOptimal(2, 3, predictive=np.full((4, 4), 1.5))
    with pytest.raises(TypeError, match="predictive"):
        BayesOptimal(2, 3, predictive="beta")


def test_priors_change_the_optimal_value_as_they_should():
    k, n = 5, 10
    values = {p.name: bayes_optimal_for_prior(p, k, n).expected_total_reward()
              for p in (BetaPrior(1, 1), BetaPrior(0.5, 0.5), UniformPrior(0.4, 0.6))}
    # extremes are easier (a good arm is found and is very good), a narrow prior leaves little to learn
    assert values["Beta(0.5, 0.5)"] > values["Beta(1, 1)"] > values["U[0.4, 0.6]"] > 5.0
    assert values["U[0.4, 0.6]"] < UniformPrior(0.4, 0.6).expected_best(k, n)


def test_bayes_optimal_policy_plays_a_given_solver():
    solver = bayes_optimal_for_prior(BetaPrior(0.5, 0.5), 3, 6)
    policy = BayesOptimalPolicy(3, 6, solver=solver, label="Bayes (Beta(0.5, 0.5))")
    assert policy.name == "Bayes (Beta(0.5, 0.5))"
    means = BetaPrior(0.5, 0.5).sample_means(3000, 3, 4).numpy()
    result = run_policy(policy, means, 6, seed=5)
    assert result.mean_total_reward == pytest.approx(solver.expected_total_reward(), abs=4 * result.ci95)
    with pytest.raises(ValueError, match="solver is solved"):
        BayesOptimalPolicy(3, 7, solver=solver)
    with pytest.raises(TypeError, match="solver"):
        BayesOptimalPolicy(3, 6, solver="exact")


# ----------------------------------------------------------------------------------------------
# the evaluation
# ----------------------------------------------------------------------------------------------


def test_training_prior_reproduces_chapter_5s_table():
    """On U[0, 1] the shift evaluation is chapter 5's benchmark: same bandits, same draws, same numbers."""
    ev = evaluate_under_prior(BetaPrior(1, 1), 5, 10, num_bandits=1000, seed=1_000_000)
    rows = {r["policy"]: r for r in json.loads(RESULTS.read_text())["configs"]["10,5"]["rows"]}
    for ours, theirs in [("ucb1", "ucb1"), ("thompson", "thompson"), ("random", "random"),
                         ("bayes_true_prior", "bayes"), ("bayes_training_prior", "bayes"), ("rl2", "rl2")]:
        assert ev.methods[ours].total_reward == pytest.approx(rows[theirs]["mean_reward"], abs=1e-6), ours
    assert ev.bayes_value == pytest.approx(6.65999, abs=1e-4)
    assert ev.ucb1_c == 0.0 and set(ev.methods) == set(METHOD_LABELS)


def test_evaluation_under_a_shift_is_consistent():
    ev = evaluate_under_prior(BetaPrior(0.5, 0.5), 5, 10, num_bandits=400, seed=3)
    means = BetaPrior(0.5, 0.5).sample_means(400, 5, 3).numpy().astype(np.float64)
    best = 10 * means.max(axis=1)
    for score in ev.methods.values():
        np.testing.assert_allclose(score.regret, np.mean(best - score.totals), atol=1e-9)
        assert score.ci95 == pytest.approx(1.96 * score.totals.std(ddof=1) / math.sqrt(400))
    bayes = ev.methods["bayes_true_prior"]
    assert bayes.total_reward == pytest.approx(ev.bayes_value, abs=4 * bayes.ci95)
    assert ev.bayes_value > BayesOptimal(5, 10).expected_total_reward()  # the prior of extremes pays more
    mean, ci = ev.gap("bayes_true_prior", "random")
    assert mean - ci > 1.0
    with pytest.raises(ValueError, match="no method"):
        ev.gap("rl2", "gittins")


def test_evaluation_skips_intractable_dps_and_checks_arguments():
    ev = evaluate_under_prior(UniformPrior(0.4, 0.6), 5, 100, num_bandits=50, methods=("ucb1", "random"))
    assert set(ev.methods) == {"ucb1", "random"} and ev.bayes_value is None and ev.ucb1_c == 0.2
    with pytest.raises(ValueError, match="methods"):
        evaluate_under_prior(BetaPrior(1, 1), 5, 10, methods=("gittins",))
    with pytest.raises(ValueError, match="ucb1_c"):
        evaluate_under_prior(BetaPrior(1, 1), 3, 7, methods=("ucb1",))
    with pytest.raises(TypeError, match="prior"):
        evaluate_under_prior("U[0, 1]", 5, 10)


@pytest.mark.parametrize("num_arms, num_pulls", [(5, 10), (2, 100)])
def test_ucb1_c_is_chapter_5s_tuned_value(num_arms, num_pulls):
    best, _ = tune_policy(UCB1Policy, PARAMETER_GRID, BernoulliBandits(num_arms), num_pulls, 1000, seed=1)
    assert best == UCB1_C_TUNED_ON_UNIFORM[(num_arms, num_pulls)]
