"""Cross-domain shift for bandits: chapter 5's agents on arm distributions they were not trained on.

Chapter 5's RL² agents were meta-trained on bandits whose arm means are θ_a ~ U[0, 1] i.i.d. What
they learnt is, at best, the Bayes-optimal policy *of that prior*. Here the test bandits come from
another product prior π (arms still independent and identically distributed):

* :class:`BetaPrior` — θ ~ Beta(a, b); Beta(1, 1) is the training prior, Beta(0.5, 0.5) puts the
  means near 0 and 1 (the "extremes" shift);
* :class:`UniformPrior` — θ ~ U[low, high], e.g. U[0.4, 0.6]: every arm is mediocre and the arms are
  hard to tell apart;
* :class:`SparseGoodPrior` — each arm is excellent (θ = ``good_mean``, 0.9) with probability
  ``good_prob``, else θ ~ U[``bad_low``, ``bad_high``] = U[0, 0.6]: "one very good arm" hidden among
  poor ones (``good_prob`` = 1/k: one good arm expected; :meth:`SparseGoodPrior.one_good_arm_in`).

Each prior gives its posterior predictive p̂(s, f) = P(next pull pays 1 | s successes, f failures) =
E_π[θ^{s+1}(1 − θ)^f] / E_π[θ^s(1 − θ)^f] as a table (:meth:`predictive_table`), which is all chapter
5's exact dynamic program needs (:class:`~metalearn_lib.bandits.bayes_optimal.BayesOptimal`'s
``predictive``): so the *Bayes-optimal policy of the new prior* — the best any agent could do
knowing the shift — is computed exactly where the DP is tractable ((k, n) = (5, 10), (10, 10),
(2, 100)), and so is the "right algorithm, wrong prior" policy, Bayes-optimal for U[0, 1] but played
on the shifted bandits. :func:`evaluate_under_prior` plays these, the shipped RL² agent, UCB1 (with
chapter 5's c, tuned on U[0, 1]: :data:`UCB1_C_TUNED_ON_UNIFORM`), Thompson sampling (Beta(1, 1)
prior) and random on the same bandits and reports mean total reward ± 95 % CI and the regret
n·max_a p_a − Σ_t r_t of each bandit.

**Quadrature.** E_π[θ^s(1 − θ)^f] for a uniform part of a prior is an integral of a polynomial of
degree d = s + f; Gauss–Legendre with m nodes integrates degree ≤ 2m − 1 exactly, so with
m = max(32, ⌊d/2⌋ + 2) nodes the tables are exact up to rounding (summed in log space: no underflow
at counts of 100; checked against the midpoint rule and Monte Carlo in the tests).
E[max_a θ_a] is exact for the uniform and sparse priors and by quadrature of ∫_0^1 (1 − F(x)^k) dx
for Beta priors (F by the continued fraction of the incomplete beta function; error < 1e-9).

Imports chapter 5 (:mod:`metalearn_lib.bandits`), the RL room (:mod:`metalearn_lib.rl`), the ground
floor and the utilities.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import tensorflow as tf
from numpy.typing import NDArray

from metalearn_lib.bandits.bayes_optimal import BayesOptimal, bayes_optimal_solver, count_states
from metalearn_lib.bandits.env import BernoulliBandits, expected_max_mean
from metalearn_lib.bandits.policies import BayesOptimalPolicy, RandomPolicy, ThompsonPolicy, UCB1Policy, run_policy
from metalearn_lib.bandits.rl2 import BanditTrials, load_pretrained_rl2
from metalearn_lib.rl import as_actor_critic_params, evaluate_agent, mean_ci95
from metalearn_lib.tasks import SeedLike, seed_pair, uniform01
from metalearn_lib.validation import check_int, check_number, check_unit

__all__ = [
    "METHOD_LABELS",
    "UCB1_C_TUNED_ON_UNIFORM",
    "ArmPrior",
    "BetaPrior",
    "MethodScore",
    "ShiftEvaluation",
    "SparseGoodPrior",
    "UniformPrior",
    "bayes_optimal_for_prior",
    "evaluate_under_prior",
    "is_training_prior",
]

#: UCB1's c (every arm once first, then μ̂_a + c·√(2 ln t / n_a)) as chapter 5 tuned it on U[0, 1]
#: bandits: ``tune_policy(UCB1Policy, PARAMETER_GRID, BernoulliBandits(k), n, 1000, seed=1)``, the
#: ``ucb1`` entries of ``benchmarks/results/bandits_full.json``. (num_arms, num_pulls) ↦ c.
UCB1_C_TUNED_ON_UNIFORM: dict[tuple[int, int], float] = {(5, 10): 0.0, (10, 10): 0.0, (2, 100): 0.3,
                                                          (5, 100): 0.2, (10, 100): 0.1}
#: Display names of :func:`evaluate_under_prior`'s methods.
METHOD_LABELS: dict[str, str] = {
    "rl2": "RL² (trained on U[0, 1])", "ucb1": "UCB1 (c tuned on U[0, 1])", "thompson": "Thompson (Beta(1, 1))",
    "random": "random", "bayes_true_prior": "Bayes-optimal (true prior)",
    "bayes_training_prior": "Bayes-optimal (U[0, 1] prior)",
}
#: Exact DPs up to this many exchangeable states ((2, 100) has 2.3 million).
MAX_DP_STATES = 3_000_000


def _check_interval(low: Any, high: Any, low_name: str, high_name: str) -> tuple[float, float]:
    low, high = check_unit(low_name, low), check_unit(high_name, high)
    if not low < high:
        raise ValueError(f"{low_name} and {high_name} must satisfy 0 <= {low_name} < {high_name} <= 1, "
                         f"got {low_name}={low}, {high_name}={high}")
    return low, high


def _counts_grid(max_count: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    counts = np.arange(check_int("max_count", max_count, 0) + 1)
    return np.meshgrid(counts, counts, indexing="ij")


def _xlogy(x: Any, y: float) -> Any:
    """x·log y with 0·log 0 = 0."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x == 0, 0.0, x * (math.log(y) if y > 0 else -np.inf))


def _log_uniform_moment(successes: Any, failures: Any, low: float, high: float, num_nodes: int) -> Any:
    """log( (1/(high − low)) ∫_low^high θ^s (1 − θ)^f dθ ) by Gauss–Legendre (exact for s + f ≤ 2m − 1)."""
    nodes, weights = np.polynomial.legendre.leggauss(num_nodes)
    theta = low + (high - low) * (nodes + 1.0) / 2.0  # interior points: the logs are finite
    s = np.asarray(successes, dtype=np.float64)[..., np.newaxis]
    f = np.asarray(failures, dtype=np.float64)[..., np.newaxis]
    logs = s * np.log(theta) + f * np.log1p(-theta) + np.log(weights / 2.0)
    top = logs.max(axis=-1)
    return top + np.log(np.exp(logs - top[..., np.newaxis]).sum(axis=-1))


def _betainc(a: float, b: float, x: NDArray[np.float64], iterations: int = 300) -> NDArray[np.float64]:
    """The regularised incomplete beta function I_x(a, b), by its continued fraction (modified Lentz,
    Numerical Recipes §6.4), on the side of (a + 1)/(a + b + 2) where it converges fast."""
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    swap = x > (a + 1.0) / (a + b + 2.0)
    aa, bb, xx = np.where(swap, b, a), np.where(swap, a, b), np.where(swap, 1.0 - x, x)
    tiny = 1e-300
    with np.errstate(divide="ignore"):
        log_front = aa * np.log(xx) + bb * np.log1p(-xx) - (
            np.vectorize(math.lgamma)(aa) + np.vectorize(math.lgamma)(bb) - np.vectorize(math.lgamma)(aa + bb))
    c = np.ones_like(xx)
    d = 1.0 - (aa + bb) * xx / (aa + 1.0)
    d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
    h = d.copy()
    for m in range(1, iterations + 1):
        for num in (m * (bb - m) * xx / ((aa + 2 * m - 1) * (aa + 2 * m)),
                    -(aa + m) * (aa + bb + m) * xx / ((aa + 2 * m) * (aa + 2 * m + 1))):
            d = 1.0 + num * d
            d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
            c = 1.0 + num / c
            c = np.where(np.abs(c) < tiny, tiny, c)
            h = h * d * c
    partial = np.exp(log_front) * h / aa
    return np.where(swap, 1.0 - partial, partial)


def _expected_max_by_quadrature(cdf: Any, num_arms: int, panels: int = 256, order: int = 16) -> float:
    """E[max of k i.i.d.] = ∫_0^1 (1 − F(x)^k) dx, composite Gauss–Legendre in φ with x = sin²φ
    (dx = sin 2φ dφ, which tames the endpoint behaviour of Beta CDFs)."""
    nodes, weights = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(0.0, math.pi / 2, panels + 1)
    half = (edges[1:] - edges[:-1])[:, np.newaxis] / 2.0
    phi = (edges[:-1, np.newaxis] + half * (nodes + 1.0)).ravel()
    w = (half * weights).ravel()
    x = np.sin(phi) ** 2
    return float(np.sum(w * np.sin(2.0 * phi) * (1.0 - cdf(x) ** num_arms)))


# --------------------------------------------------------------------------------------------
# the priors
# --------------------------------------------------------------------------------------------
@runtime_checkable
class ArmPrior(Protocol):
    """A product prior over the arm means: θ_a ~ π independently for every arm."""

    @property
    def name(self) -> str:
        """A short label for tables."""
        ...

    def sample_means(self, num_bandits: int, num_arms: int, seed: SeedLike, dtype: tf.DType = tf.float32
                     ) -> tf.Tensor:
        """``[num_bandits, num_arms]`` means, stateless from ``seed``."""
        ...

    def predictive_table(self, max_count: int) -> NDArray[np.float64]:
        """p̂(s, f) for 0 ≤ s, f ≤ ``max_count``, ``[max_count + 1, max_count + 1]``."""
        ...

    def expected_best(self, num_arms: int, num_pulls: int) -> float:
        """n·E[max_a θ_a]: the expected total reward of an oracle that knows the best arm."""
        ...


def _check_sizes(num_bandits: Any, num_arms: Any) -> tuple[int, int]:
    return check_int("num_bandits", num_bandits), check_int("num_arms", num_arms)


@dataclass(frozen=True)
class BetaPrior:
    """θ ~ Beta(a, b) for every arm; p̂(s, f) = (a + s)/(a + b + s + f).

    Attributes:
        a, b: > 0. Beta(1, 1) = U[0, 1], chapter 5's training prior; Beta(0.5, 0.5) (the arcsine law)
            puts most arms near 0 or 1.
    """

    a: float = 1.0
    b: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "a", check_number("a", self.a))
        object.__setattr__(self, "b", check_number("b", self.b))

    @property
    def name(self) -> str:
        return f"Beta({self.a:g}, {self.b:g})"

    def sample_means(self, num_bandits: int, num_arms: int, seed: SeedLike, dtype: tf.DType = tf.float32
                     ) -> tf.Tensor:
        """θ = X/(X + Y), X ~ Gamma(a), Y ~ Gamma(b) (``tf.random.stateless_gamma`` from the seed pair,
        in float64). Beta(1, 1) draws exactly chapter 5's ``BernoulliBandits(k).sample_means``."""
        num_bandits, num_arms = _check_sizes(num_bandits, num_arms)
        if self.a == 1.0 and self.b == 1.0:
            return BernoulliBandits(num_arms).sample_means(num_bandits, seed, dtype)
        gammas = tf.random.stateless_gamma([num_bandits, num_arms, 2], seed_pair(seed),
                                           alpha=tf.constant([self.a, self.b], tf.float64), dtype=tf.float64)
        return tf.cast(gammas[..., 0] / (gammas[..., 0] + gammas[..., 1]), dtype)

    def predictive_table(self, max_count: int) -> NDArray[np.float64]:
        """(a + s)/(a + b + s + f) on the grid 0 ≤ s, f ≤ ``max_count``."""
        s, f = _counts_grid(max_count)
        return (self.a + s) / (self.a + self.b + s + f)

    def cdf(self, x: Any) -> NDArray[np.float64]:
        """F(x) = I_x(a, b), the regularised incomplete beta function."""
        return _betainc(self.a, self.b, np.asarray(x, dtype=np.float64))

    def expected_best(self, num_arms: int, num_pulls: int) -> float:
        """n·E[max_a θ_a], E[max] = ∫_0^1 (1 − F(x)^k) dx by quadrature (exact k/(k + 1) for Beta(1, 1))."""
        num_arms, num_pulls = check_int("num_arms", num_arms), check_int("num_pulls", num_pulls)
        if self.a == 1.0 and self.b == 1.0:
            return num_pulls * expected_max_mean(num_arms)
        return num_pulls * _expected_max_by_quadrature(self.cdf, num_arms)


@dataclass(frozen=True)
class UniformPrior:
    """θ ~ U[low, high] for every arm; p̂(s, f) = ∫ θ^{s+1}(1 − θ)^f dθ / ∫ θ^s(1 − θ)^f dθ over [low, high].

    Attributes:
        low, high: 0 ≤ low < high ≤ 1 (e.g. 0.4 and 0.6: arms hard to tell apart).
    """

    low: float = 0.4
    high: float = 0.6

    def __post_init__(self) -> None:
        low, high = _check_interval(self.low, self.high, "low", "high")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    @property
    def name(self) -> str:
        return f"U[{self.low:g}, {self.high:g}]"

    def sample_means(self, num_bandits: int, num_arms: int, seed: SeedLike, dtype: tf.DType = tf.float32
                     ) -> tf.Tensor:
        """Chapter 5's ``BernoulliBandits(k, low, high).sample_means`` (θ = low + (high − low)·u)."""
        num_bandits, num_arms = _check_sizes(num_bandits, num_arms)
        return BernoulliBandits(num_arms, self.low, self.high).sample_means(num_bandits, seed, dtype)

    def log_moment(self, successes: Any, failures: Any) -> Any:
        """log E_π[θ^s (1 − θ)^f] (Gauss–Legendre, exact for the polynomial)."""
        degree = int(np.max(np.asarray(successes) + np.asarray(failures)))
        return _log_uniform_moment(successes, failures, self.low, self.high, max(32, degree // 2 + 2))

    def predictive_table(self, max_count: int) -> NDArray[np.float64]:
        """exp(log E[θ^{s+1}(1 − θ)^f] − log E[θ^s(1 − θ)^f]) on the grid 0 ≤ s, f ≤ ``max_count``."""
        s, f = _counts_grid(max_count)
        return np.exp(self.log_moment(s + 1, f) - self.log_moment(s, f))

    def expected_best(self, num_arms: int, num_pulls: int) -> float:
        """n·(low + (high − low)·k/(k + 1)), exact."""
        num_arms, num_pulls = check_int("num_arms", num_arms), check_int("num_pulls", num_pulls)
        return num_pulls * expected_max_mean(num_arms, self.low, self.high)


@dataclass(frozen=True)
class SparseGoodPrior:
    """Each arm independently: θ = ``good_mean`` with probability ``good_prob``, else θ ~ U[bad_low, bad_high].

    The defaults — good arms at 0.9, the others in U[0, 0.6] — make a good arm clearly better than
    any bad one (by ≥ 0.3, a few pulls to tell), while a bad arm can still look decent (up to 0.6,
    which a U[0, 1]-trained agent may settle for). ``good_prob`` = 1/k makes one good arm expected
    (:meth:`one_good_arm_in`; the default 0.2 is that for k = 5).

    p̂(s, f) = [q g^{s+1}(1 − g)^f + (1 − q) J(s + 1, f)] / [q g^s(1 − g)^f + (1 − q) J(s, f)], with q the
    good probability, g the good mean and J(s, f) = E_{U[bad_low, bad_high]}[θ^s(1 − θ)^f].

    Attributes:
        good_prob: q in [0, 1].
        good_mean: g in [0, 1], ≥ ``bad_high``.
        bad_low, bad_high: 0 ≤ bad_low < bad_high ≤ g.
    """

    good_prob: float = 0.2
    good_mean: float = 0.9
    bad_low: float = 0.0
    bad_high: float = 0.6

    def __post_init__(self) -> None:
        object.__setattr__(self, "good_prob", check_unit("good_prob", self.good_prob))
        object.__setattr__(self, "good_mean", check_unit("good_mean", self.good_mean))
        low, high = _check_interval(self.bad_low, self.bad_high, "bad_low", "bad_high")
        if high > self.good_mean:
            raise ValueError(f"bad_high must be <= good_mean (a good arm beats every bad one), got "
                             f"bad_high={high}, good_mean={self.good_mean}")
        object.__setattr__(self, "bad_low", low)
        object.__setattr__(self, "bad_high", high)

    @classmethod
    def one_good_arm_in(cls, num_arms: int, **kwargs: Any) -> SparseGoodPrior:
        """The prior with ``good_prob`` = 1/k: one good arm per bandit on average."""
        return cls(good_prob=1.0 / check_int("num_arms", num_arms), **kwargs)

    @property
    def name(self) -> str:
        return (f"sparse good (q={self.good_prob:.3g}: {self.good_mean:g}, else "
                f"U[{self.bad_low:g}, {self.bad_high:g}])")

    def sample_means(self, num_bandits: int, num_arms: int, seed: SeedLike, dtype: tf.DType = tf.float32
                     ) -> tf.Tensor:
        """u, v ~ U[0, 1)^{B×k} from the seed pair (one draw of shape [2, B, k]); θ = g where u < q,
        else bad_low + (bad_high − bad_low)·v."""
        num_bandits, num_arms = _check_sizes(num_bandits, num_arms)
        u = uniform01([2, num_bandits, num_arms], seed_pair(seed), tf.float64)
        bad = self.bad_low + (self.bad_high - self.bad_low) * u[1]
        return tf.cast(tf.where(u[0] < self.good_prob, tf.constant(self.good_mean, tf.float64), bad), dtype)

    def log_moment(self, successes: Any, failures: Any) -> Any:
        """log E_π[θ^s (1 − θ)^f] = log(q g^s (1 − g)^f + (1 − q) J(s, f))."""
        s, f = np.asarray(successes), np.asarray(failures)
        degree = int(np.max(s + f))
        with np.errstate(divide="ignore"):
            good = math.log(self.good_prob) if self.good_prob > 0 else -np.inf
            bad = math.log1p(-self.good_prob) if self.good_prob < 1 else -np.inf
            return np.logaddexp(good + _xlogy(s, self.good_mean) + _xlogy(f, 1.0 - self.good_mean),
                                bad + _log_uniform_moment(s, f, self.bad_low, self.bad_high, max(32, degree // 2 + 2)))

    def predictive_table(self, max_count: int) -> NDArray[np.float64]:
        """exp(log E[θ^{s+1}(1 − θ)^f] − log E[θ^s(1 − θ)^f]) on the grid 0 ≤ s, f ≤ ``max_count``."""
        s, f = _counts_grid(max_count)
        return np.exp(self.log_moment(s + 1, f) - self.log_moment(s, f))

    def expected_best(self, num_arms: int, num_pulls: int) -> float:
        """n·E[max θ], exact: with P(no good arm) = (1 − q)^k,
        E[max] = (1 − (1 − q)^k)·g + (1 − q)^k·(bad_low + (bad_high − bad_low)·k/(k + 1))."""
        num_arms, num_pulls = check_int("num_arms", num_arms), check_int("num_pulls", num_pulls)
        none_good = (1.0 - self.good_prob) ** num_arms
        return num_pulls * ((1.0 - none_good) * self.good_mean
                            + none_good * expected_max_mean(num_arms, self.bad_low, self.bad_high))


def is_training_prior(prior: ArmPrior) -> bool:
    """Whether ``prior`` is U[0, 1] (chapter 5's training prior), as BetaPrior(1, 1) or UniformPrior(0, 1)."""
    return (isinstance(prior, BetaPrior) and (prior.a, prior.b) == (1.0, 1.0)) or (
        isinstance(prior, UniformPrior) and (prior.low, prior.high) == (0.0, 1.0))


@functools.lru_cache(maxsize=4)
def _solver_for(prior: ArmPrior, num_arms: int, num_pulls: int) -> BayesOptimal:
    return BayesOptimal(num_arms, num_pulls, predictive=prior.predictive_table(num_pulls),
                        max_states=MAX_DP_STATES)


def bayes_optimal_for_prior(prior: ArmPrior, num_arms: int, num_pulls: int) -> BayesOptimal:
    """The exact Bayes-optimal DP of ``prior`` for (k, n), solved once per process (a few cached).

    U[0, 1] returns chapter 5's cached solver (:func:`~metalearn_lib.bandits.bayes_optimal.bayes_optimal_solver`).

    Raises:
        ValueError: more than :data:`MAX_DP_STATES` exchangeable states.
    """
    if not isinstance(prior, ArmPrior):
        raise TypeError(f"prior must be an ArmPrior (BetaPrior, UniformPrior, SparseGoodPrior), "
                        f"got {type(prior).__name__}")
    num_arms, num_pulls = check_int("num_arms", num_arms), check_int("num_pulls", num_pulls)
    if is_training_prior(prior):
        return bayes_optimal_solver(num_arms, num_pulls)
    return _solver_for(prior, num_arms, num_pulls)


# --------------------------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MethodScore:
    """One method on B bandits.

    Attributes:
        total_reward, ci95: mean of Σ_t r_t and 1.96·s/√B.
        regret, regret_ci95: mean of n·max_a p_a − Σ_t r_t per bandit and its CI.
        totals: ``[B]`` total reward per bandit.
    """

    total_reward: float
    ci95: float
    regret: float
    regret_ci95: float
    totals: NDArray[np.float64] = field(repr=False)


@dataclass(frozen=True)
class ShiftEvaluation:
    """What :func:`evaluate_under_prior` returns.

    Attributes:
        prior: the test prior.
        num_arms, num_pulls, num_bandits, seed: the set-up.
        ucb1_c: UCB1's c (tuned on U[0, 1]).
        expected_best: n·E_π[max_a θ_a] (the oracle, exact or quadrature).
        bayes_value: V*(empty, n) of the exact DP of the true prior — the best expected total reward
            any policy can have on π — or None when intractable.
        methods: key of :data:`METHOD_LABELS` ↦ :class:`MethodScore`.
    """

    prior: ArmPrior
    num_arms: int
    num_pulls: int
    num_bandits: int
    seed: int
    ucb1_c: float
    expected_best: float
    bayes_value: float | None
    methods: dict[str, MethodScore]

    def gap(self, first: str, second: str) -> tuple[float, float]:
        """Paired difference of total reward, first − second, over the same bandits: (mean, 95 % CI)."""
        for name in (first, second):
            if name not in self.methods:
                raise ValueError(f"no method {name!r} in this evaluation: {sorted(self.methods)}")
        return mean_ci95(self.methods[first].totals - self.methods[second].totals)


def _score(totals: NDArray[np.float64], means: NDArray[np.float64], num_pulls: int) -> MethodScore:
    total, ci = mean_ci95(totals)
    regret, regret_ci = mean_ci95(num_pulls * means.max(axis=1) - totals)
    return MethodScore(total, ci, regret, regret_ci, totals)


def evaluate_under_prior(
    prior: ArmPrior,
    num_arms: int,
    num_pulls: int,
    *,
    num_bandits: int = 1000,
    seed: int = 1_000_000,
    reward_seed: int = 2,
    rl2_params: Any = None,
    ucb1_c: float | None = None,
    methods: tuple[str, ...] = tuple(METHOD_LABELS),
) -> ShiftEvaluation:
    """Play every method on the same ``num_bandits`` bandits drawn from ``prior``.

    The bandits are ``prior.sample_means(num_bandits, num_arms, seed)`` (float32, as RL² reads them;
    the hand-designed policies get the same numbers in float64). The policies play with chapter 5's
    :func:`~metalearn_lib.bandits.policies.run_policy` (``reward_seed``: the same reward draws for
    every policy, as chapter 5's benchmark with its seed 2); RL² with
    :func:`metalearn_lib.rl.evaluate_agent` on :class:`~metalearn_lib.bandits.rl2.BanditTrials`
    (actions sampled, its own rewards from ``seed``, as ``evaluate_rl2``). The two Bayes-optimal
    methods run only where the DP has at most :data:`MAX_DP_STATES` states.

    Args:
        prior: the test prior (:class:`BetaPrior`, :class:`UniformPrior`, :class:`SparseGoodPrior`).
        num_arms, num_pulls: (k, n).
        num_bandits: B ≥ 2.
        seed, reward_seed: ints ≥ 0.
        rl2_params: the RL² agent's parameters (or an agent with ``.params``); None loads the shipped
            ``load_pretrained_rl2(k, n)``.
        ucb1_c: UCB1's c; None takes :data:`UCB1_C_TUNED_ON_UNIFORM` [(k, n)].
        methods: which keys of :data:`METHOD_LABELS` to run.

    Returns:
        A :class:`ShiftEvaluation`.

    Raises:
        ValueError, TypeError: bad arguments, an unknown method, no tuned c for (k, n) and none given.
        FileNotFoundError: ``rl2_params`` None and no shipped agent for (k, n).
    """
    if not isinstance(prior, ArmPrior):
        raise TypeError(f"prior must be an ArmPrior (BetaPrior, UniformPrior, SparseGoodPrior), "
                        f"got {type(prior).__name__}")
    num_arms, num_pulls = check_int("num_arms", num_arms), check_int("num_pulls", num_pulls)
    num_bandits = check_int("num_bandits", num_bandits, 2)
    seed, reward_seed = check_int("seed", seed, 0), check_int("reward_seed", reward_seed, 0)
    unknown = sorted(set(methods) - set(METHOD_LABELS))
    if unknown:
        raise ValueError(f"methods must be among {list(METHOD_LABELS)}, got {unknown}")
    if ucb1_c is None:
        if (num_arms, num_pulls) not in UCB1_C_TUNED_ON_UNIFORM:
            raise ValueError(f"no tuned UCB1 c for num_arms={num_arms}, num_pulls={num_pulls}: pass ucb1_c")
        ucb1_c = UCB1_C_TUNED_ON_UNIFORM[(num_arms, num_pulls)]
    ucb1_c = check_number("ucb1_c", ucb1_c, positive=False)
    means32 = prior.sample_means(num_bandits, num_arms, seed)
    means = means32.numpy().astype(np.float64)
    tractable = count_states(num_arms, num_pulls) <= MAX_DP_STATES
    policies: dict[str, Any] = {"ucb1": UCB1Policy(ucb1_c), "thompson": ThompsonPolicy(), "random": RandomPolicy()}
    bayes_value = None
    if tractable:
        true_solver = bayes_optimal_for_prior(prior, num_arms, num_pulls)
        bayes_value = true_solver.expected_total_reward()
        policies["bayes_true_prior"] = BayesOptimalPolicy(num_arms, num_pulls, solver=true_solver)
        policies["bayes_training_prior"] = BayesOptimalPolicy(num_arms, num_pulls)
    scores: dict[str, MethodScore] = {}
    for name in methods:
        if name == "rl2":
            params = load_pretrained_rl2(num_arms, num_pulls).params if rl2_params is None else rl2_params
            params = as_actor_critic_params(getattr(params, "params", params))
            trial = evaluate_agent(params, BanditTrials(num_arms, num_pulls), tasks=means32, seed=seed)
            scores[name] = _score(trial.returns.astype(np.float64), means, num_pulls)
        elif name in policies:
            result = run_policy(policies[name], means, num_pulls, seed=reward_seed)
            scores[name] = _score(result.total_reward, means, num_pulls)
    return ShiftEvaluation(prior=prior, num_arms=num_arms, num_pulls=num_pulls, num_bandits=num_bandits, seed=seed,
                           ucb1_c=ucb1_c, expected_best=prior.expected_best(num_arms, num_pulls),
                           bayes_value=bayes_value, methods=scores)
