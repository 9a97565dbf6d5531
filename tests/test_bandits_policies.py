"""Chapter 5's baseline bandit policies, batched trials and parameter tuning."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pytest

from metalearn_lib.bandits import BernoulliBandits
from metalearn_lib.bandits.gittins import gittins_table
from metalearn_lib.bandits.policies import (
    PARAMETER_GRID,
    BayesOptimalPolicy,
    EpsilonGreedyPolicy,
    GittinsPolicy,
    GreedyPolicy,
    Policy,
    RandomPolicy,
    ThompsonPolicy,
    TrialResult,
    UCB1Policy,
    argmax_random_ties,
    beta_pdf,
    posterior_mean,
    run_policy,
    thompson_sample,
    tune_policy,
    ucb1_index,
)

ALL_POLICIES = [RandomPolicy(), GreedyPolicy(), EpsilonGreedyPolicy(0.1), UCB1Policy(0.5), ThompsonPolicy(),
                GittinsPolicy(0.9)]


@dataclass(frozen=True)
class Schedule:
    """A test policy that pulls arm ``arms[t % len(arms)]`` at pull t, whatever it has seen."""

    arms: tuple[int, ...]

    @property
    def name(self) -> str:
        return f"schedule {self.arms}"

    def __call__(self, successes, failures, t, num_pulls, rng):
        return np.full(successes.shape[0], self.arms[t % len(self.arms)], dtype=np.int64)


def random_counts(rng: np.random.Generator, num_bandits: int, num_arms: int, t: int):
    cells = rng.multinomial(t, np.ones(2 * num_arms) / (2 * num_arms), size=num_bandits)
    return cells[:, :num_arms], cells[:, num_arms:]


# ----------------------------------------------------------------------------------------------
# each policy
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", [*ALL_POLICIES, BayesOptimalPolicy(3, 10)], ids=lambda p: p.name)
def test_every_policy_returns_one_valid_arm_per_bandit(policy):
    assert isinstance(policy, Policy) and isinstance(policy.name, str)
    rng = np.random.default_rng(0)
    for t in (0, 4, 9):
        s, f = random_counts(rng, 50, 3, t)
        actions = policy(s, f, t, 10, rng)
        assert actions.shape == (50,) and np.issubdtype(actions.dtype, np.integer)
        assert np.all((actions >= 0) & (actions < 3))


@pytest.mark.parametrize("policy", [GreedyPolicy(), UCB1Policy(), GittinsPolicy(0.9), BayesOptimalPolicy(4, 5)],
                         ids=lambda p: p.name)
def test_ties_at_the_first_pull_are_broken_uniformly(policy):
    zeros = np.zeros((4000, 4), dtype=np.int64)
    counts = np.bincount(policy(zeros, zeros, 0, 5, np.random.default_rng(1)), minlength=4)
    assert np.all(np.abs(counts - 1000) < 150)  # ≈ 5 standard deviations


def test_argmax_random_ties_picks_only_maxima():
    values = np.array([[1.0, 3.0, 3.0, 0.0], [np.inf, 0.0, np.inf, np.inf]])
    picks = np.array([argmax_random_ties(values, np.random.default_rng(i)) for i in range(200)])
    assert set(picks[:, 0]) == {1, 2} and set(picks[:, 1]) == {0, 2, 3}


def test_greedy_exploits_the_best_posterior_mean():
    s = np.array([[3, 0, 1], [0, 0, 0]])
    f = np.array([[1, 0, 3], [2, 0, 1]])
    np.testing.assert_allclose(posterior_mean(s, f), [[4 / 6, 1 / 2, 2 / 6], [1 / 4, 1 / 2, 1 / 3]])
    np.testing.assert_array_equal(GreedyPolicy()(s, f, 4, 10, np.random.default_rng(0)), [0, 1])


def test_epsilon_greedy_interpolates_between_greedy_and_random():
    s = np.tile([5, 0, 0], (3000, 1))
    f = np.tile([0, 5, 5], (3000, 1))
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(EpsilonGreedyPolicy(0.0)(s, f, 10, 20, rng), 0)
    counts = np.bincount(EpsilonGreedyPolicy(1.0)(s, f, 10, 20, rng), minlength=3)
    assert np.all(np.abs(counts - 1000) < 150)
    share = np.mean(EpsilonGreedyPolicy(0.3)(s, f, 10, 20, rng) != 0)
    assert share == pytest.approx(0.3 * 2 / 3, abs=0.03)  # explores to one of the two other arms


def test_ucb1_index_formula():
    s = np.array([[2, 0, 1]])
    f = np.array([[1, 0, 3]])
    index = ucb1_index(s, f, c=0.5)
    t = 7
    np.testing.assert_allclose(index[0, [0, 2]], [2 / 3 + 0.5 * np.sqrt(2 * np.log(t) / 3),
                                                  1 / 4 + 0.5 * np.sqrt(2 * np.log(t) / 4)])
    assert index[0, 1] == np.inf


def test_ucb1_with_a_beta_prior_starts_from_one_success_and_one_failure():
    s = np.array([[2, 0, 1]])
    f = np.array([[1, 0, 3]])
    np.testing.assert_allclose(ucb1_index(s, f, 0.5, prior=True), ucb1_index(s + 1, f + 1, 0.5))
    assert np.all(np.isfinite(ucb1_index(np.zeros((1, 3), int), np.zeros((1, 3), int), 1.0, prior=True)))
    with pytest.raises(TypeError, match="prior"):
        UCB1Policy(0.1, prior=1)


def test_ucb1_needs_the_prior_when_there_are_as_many_arms_as_pulls():
    means = BernoulliBandits(10).sample_means(2000, seed=0).numpy()
    plain = run_policy(UCB1Policy(0.1), means, 10, seed=1)  # spends all 10 pulls on the first round
    assert abs(plain.mean_total_reward - means.mean() * 10) < 1e-9 + 1.5 * plain.ci95
    assert run_policy(UCB1Policy(0.1, prior=True), means, 10, seed=1).mean_total_reward > 6.3  # ≈ 6.7


def test_ucb1_pulls_every_arm_once_first():
    means = BernoulliBandits(5).sample_means(300, seed=0).numpy()
    result = run_policy(UCB1Policy(1.0), means, 20, seed=1)
    np.testing.assert_array_equal(np.sort(result.actions[:, :5], axis=1), np.tile(np.arange(5), (300, 1)))


def test_thompson_samples_follow_the_posterior():
    s = np.tile([3, 0], (20000, 1))
    f = np.tile([1, 6], (20000, 1))
    theta = thompson_sample(s, f, np.random.default_rng(0))
    assert theta.shape == (20000, 2)
    np.testing.assert_allclose(theta.mean(axis=0), [4 / 6, 1 / 8], atol=0.005)  # Beta(4, 2), Beta(1, 7)
    actions = ThompsonPolicy()(s, f, 10, 20, np.random.default_rng(1))
    assert np.mean(actions == 0) == pytest.approx(np.mean(theta[:, 0] > theta[:, 1]), abs=0.02)


def test_gittins_policy_pulls_the_largest_index():
    s = np.array([[0, 3, 1], [2, 0, 0]])
    f = np.array([[0, 3, 0], [4, 1, 0]])
    table = gittins_table(9, 0.9)
    expected = np.argmax(table[s, f], axis=1)
    np.testing.assert_array_equal(GittinsPolicy(0.9)(s, f, 7, 10, np.random.default_rng(0)), expected)


# ----------------------------------------------------------------------------------------------
# running trials
# ----------------------------------------------------------------------------------------------


def test_run_policy_shapes_totals_and_regret():
    means = np.array([[0.0, 1.0], [0.3, 0.6], [1.0, 1.0]])
    result = run_policy(Schedule((1,)), means, 8, seed=0)
    assert isinstance(result, TrialResult)
    assert result.actions.shape == (3, 8) and result.rewards.shape == (3, 8)
    np.testing.assert_array_equal(result.total_reward, result.rewards.sum(axis=1))
    assert result.total_reward[0] == 8.0 and result.total_reward[2] == 8.0
    assert result.mean_total_reward == pytest.approx(result.total_reward.mean())
    assert result.regret == pytest.approx(np.mean(8 * means.max(axis=1) - result.total_reward))
    assert result.ci95 == pytest.approx(1.96 * result.total_reward.std() / np.sqrt(3))
    assert set(np.unique(result.rewards)) <= {0.0, 1.0}


def test_rewards_have_the_arm_means_as_frequencies():
    means = np.tile([0.2, 0.7], (4000, 1))
    result = run_policy(Schedule((0, 1)), means, 10, seed=3)
    assert result.rewards[:, 0::2].mean() == pytest.approx(0.2, abs=0.01)
    assert result.rewards[:, 1::2].mean() == pytest.approx(0.7, abs=0.01)


def test_common_random_numbers_the_jth_pull_of_an_arm_pays_the_same():
    means = BernoulliBandits(2).sample_means(500, seed=0).numpy()
    ab = run_policy(Schedule((0, 1)), means, 10, seed=4)
    ba = run_policy(Schedule((1, 0)), means, 10, seed=4)
    np.testing.assert_array_equal(ab.rewards[:, 0::2], ba.rewards[:, 1::2])  # arm 0's pulls
    np.testing.assert_array_equal(ab.total_reward, ba.total_reward)


@pytest.mark.parametrize("policy", ALL_POLICIES, ids=lambda p: p.name)
def test_run_policy_is_deterministic_given_the_seed(policy):
    means = BernoulliBandits(4).sample_means(200, seed=0).numpy()
    first = run_policy(policy, means, 15, seed=7)
    again = run_policy(policy, means, 15, seed=7)
    np.testing.assert_array_equal(first.actions, again.actions)
    np.testing.assert_array_equal(first.rewards, again.rewards)
    assert not np.array_equal(first.rewards, run_policy(policy, means, 15, seed=8).rewards)


def test_simple_policies_are_fast():
    means = BernoulliBandits(5).sample_means(1000, seed=0).numpy()
    for policy in (RandomPolicy(), GreedyPolicy(), EpsilonGreedyPolicy(0.1), UCB1Policy(0.2), ThompsonPolicy()):
        start = time.perf_counter()
        run_policy(policy, means, 100, seed=0)
        assert time.perf_counter() - start < 1.0, policy.name  # ≈ 0.03–0.08 s


def test_ordering_at_n100_k5():
    means = BernoulliBandits(5).sample_means(2000, seed=5).numpy()
    scores = {p.name: run_policy(p, means, 100, seed=6) for p in
              (RandomPolicy(), UCB1Policy(0.2), ThompsonPolicy(), GittinsPolicy(0.9))}
    random = scores.pop("random")
    assert abs(random.mean_total_reward - 50.0) < 1.5 * random.ci95  # ≈ 3 standard errors
    for name, result in scores.items():
        assert result.mean_total_reward > random.mean_total_reward + 20.0, name  # ≈ 75–79 vs 50
        assert result.regret < random.regret / 2, name


# ----------------------------------------------------------------------------------------------
# tuning
# ----------------------------------------------------------------------------------------------


def test_tune_policy_picks_the_best_value_on_validation_bandits():
    best, scores = tune_policy(UCB1Policy, PARAMETER_GRID, BernoulliBandits(5), 100, 500, seed=1)
    assert PARAMETER_GRID == (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
    assert scores.shape == (11,) and best == PARAMETER_GRID[int(np.argmax(scores))]
    assert 0.0 < best <= 0.5  # the textbook c = 1 over-explores on 100 pulls
    assert scores.max() > scores[-1] + 5.0


# ----------------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------------


def test_policy_parameters_are_checked():
    with pytest.raises(ValueError, match="epsilon"):
        EpsilonGreedyPolicy(1.5)
    with pytest.raises(ValueError, match="c must be"):
        UCB1Policy(-1.0)
    with pytest.raises(ValueError, match="discount"):
        GittinsPolicy(1.0)
    with pytest.raises(ValueError, match="smaller case"):
        BayesOptimalPolicy(3, 100)


def test_policy_inputs_are_checked():
    rng = np.random.default_rng(0)
    zeros = np.zeros((2, 3), dtype=np.int64)
    with pytest.raises(ValueError, match="successes"):
        GreedyPolicy()(np.zeros(3, dtype=np.int64), zeros, 0, 5, rng)
    with pytest.raises(ValueError, match="failures"):
        GreedyPolicy()(zeros, zeros - 1, 0, 5, rng)
    with pytest.raises(ValueError, match="successes"):
        ThompsonPolicy()(zeros.astype(float), zeros, 0, 5, rng)
    with pytest.raises(ValueError, match="same shape"):
        RandomPolicy()(zeros, np.zeros((2, 4), dtype=np.int64), 0, 5, rng)
    with pytest.raises(ValueError, match="t must be"):
        UCB1Policy()(zeros, zeros, 5, 5, rng)
    with pytest.raises(ValueError, match="num_pulls"):
        UCB1Policy()(zeros, zeros, 0, 0, rng)
    with pytest.raises(TypeError, match="rng"):
        ThompsonPolicy()(zeros, zeros, 0, 5, 42)


def test_run_policy_inputs_are_checked():
    means = np.full((4, 2), 0.5)
    with pytest.raises(ValueError, match="means"):
        run_policy(RandomPolicy(), np.full(4, 0.5), 5, seed=0)
    with pytest.raises(ValueError, match="means"):
        run_policy(RandomPolicy(), means + 1.0, 5, seed=0)
    with pytest.raises(ValueError, match="num_pulls"):
        run_policy(RandomPolicy(), means, 0, seed=0)
    with pytest.raises(ValueError, match="seed"):
        run_policy(RandomPolicy(), means, 5, seed=-1)
    with pytest.raises(ValueError, match="must return"):
        run_policy(Schedule((2,)), means, 5, seed=0)
    with pytest.raises(ValueError, match="values"):
        tune_policy(UCB1Policy, [], BernoulliBandits(2), 5, 10, seed=0)
    with pytest.raises(TypeError, match="bandits"):
        tune_policy(UCB1Policy, [0.1], means, 5, 10, seed=0)


# ----------------------------------------------------------------------------------------------
# the Beta density (posterior plots, the Thompson check)
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("a", "b"), [(1, 1), (2, 3), (1, 4), (5, 1), (30.5, 70.5), (0.5, 0.5)])
def test_beta_pdf_matches_the_formula_and_integrates_to_one(a, b) -> None:
    x = np.array([0.1, 0.37, 0.5, 0.9])
    expected = x ** (a - 1) * (1 - x) ** (b - 1) * math.gamma(a + b) / (math.gamma(a) * math.gamma(b))
    np.testing.assert_allclose(beta_pdf(x, a, b), expected, rtol=1e-10)
    grid = np.linspace(0.0, 1.0, 200_001)[1:-1]  # the open interval: (0.5, 0.5) is infinite at the ends
    assert np.sum(beta_pdf(grid, a, b)) * (grid[1] - grid[0]) == pytest.approx(1.0, abs=5e-3)


def test_beta_pdf_at_the_ends() -> None:
    np.testing.assert_allclose(beta_pdf([0.0, 1.0], 1, 4), [4.0, 0.0])
    np.testing.assert_allclose(beta_pdf([0.0, 1.0], 3, 1), [0.0, 3.0])
    np.testing.assert_allclose(beta_pdf([0.0, 1.0], 1, 1), [1.0, 1.0])
    assert np.isinf(beta_pdf([0.0], 0.5, 2.0)[0])


@pytest.mark.parametrize(("args", "name"), [((0.5, 0.0, 1.0), "a"), ((0.5, 1.0, -2.0), "b"),
                                            ((1.5, 1.0, 1.0), "x"), ((0.5, float("nan"), 1.0), "a")])
def test_beta_pdf_rejects_bad_arguments(args, name) -> None:
    with pytest.raises(ValueError, match=name):
        beta_pdf(*args)
