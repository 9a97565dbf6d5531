"""Hand-designed bandit strategies — the baselines a meta-learnt agent (RL²) is measured against.

Every policy sees, for each bandit b of a batch and each arm a, the counts of successes s_{b,a}
and failures f_{b,a} so far, and returns one arm per bandit. Counts are a sufficient statistic:
under the prior θ_a ~ U[0, 1] = Beta(1, 1) the posterior of arm a is Beta(1 + s_a, 1 + f_a), with
mean p̂_a = (1 + s_a)/(2 + s_a + f_a). The rules (t = pulls done so far, n_a = s_a + f_a):

* :class:`RandomPolicy` — a uniformly random arm (expected total reward n/2);
* :class:`GreedyPolicy` — argmax_a p̂_a, pure exploitation of the posterior mean;
* :class:`EpsilonGreedyPolicy` — with probability ε a uniformly random arm, else greedy;
* :class:`UCB1Policy` — every arm once, then argmax_a μ̂_a + c·√(2 ln t / n_a) with the empirical
  mean μ̂_a = s_a/n_a (Auer, Cesa-Bianchi & Fischer 2002 for c = 1; :func:`ucb1_index`);
  ``prior=True`` starts every arm at one success and one failure, as the RL² paper did;
* :class:`ThompsonPolicy` — sample θ_a ~ Beta(1 + s_a, 1 + f_a), pull argmax_a θ_a
  (Thompson 1933; :func:`thompson_sample`);
* :class:`GittinsPolicy` — argmax_a ν_γ(1 + s_a, 1 + f_a), the Gittins index at discount γ
  (:mod:`metalearn_lib.bandits.gittins`): Bayes-optimal for the discounted infinite horizon, a
  strong heuristic for a finite one when γ is tuned;
* :class:`BayesOptimalPolicy` — argmax_a Q_a of the exact finite-horizon DP
  (:mod:`metalearn_lib.bandits.bayes_optimal`), tractable for small (n, k) only; ``solver=`` plays
  a DP solved for another product prior (``BayesOptimal(k, n, predictive=...)``).

Ties are broken uniformly at random (with the trial's generator): this matters at t = 0, where
every arm looks the same, and for greedy rules whenever counts coincide.

:func:`run_policy` plays a batch of trials, batched over bandits with one Python step per pull;
:func:`tune_policy` picks a parameter (ε, c, γ) on validation bandits, as Duan et al. (2016) did
for their baselines (ε and c over {0, 0.1, …, 1}: :data:`PARAMETER_GRID`).

**Rewards.** ``run_policy(..., seed)`` draws, with ``rng = np.random.default_rng(seed)``, one
uniform u_{b,a,j} for the j-th pull of arm a of bandit b and pays r = 1[u_{b,a,j} < p_{b,a}]
(each pull is still an independent Bernoulli(p_a)). Two policies run with the same seed on the
same means therefore see the *same* reward for the j-th pull of the same arm — common random
numbers, which make paired comparisons much less noisy. The policy draws its own randomness
(ties, exploration, Thompson samples) from the same generator afterwards.

Imports the utilities (:mod:`metalearn_lib.validation`) and the rest of this chapter.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import tensorflow as tf
from numpy.typing import ArrayLike, NDArray

from metalearn_lib.bandits.bayes_optimal import BayesOptimal, bayes_optimal_solver
from metalearn_lib.bandits.env import BernoulliBandits
from metalearn_lib.bandits.gittins import default_depth, gittins_table
from metalearn_lib.validation import check_int, check_number, check_unit

__all__ = [
    "PARAMETER_GRID",
    "BayesOptimalPolicy",
    "EpsilonGreedyPolicy",
    "GittinsPolicy",
    "GreedyPolicy",
    "Policy",
    "RandomPolicy",
    "ThompsonPolicy",
    "TrialResult",
    "UCB1Policy",
    "argmax_random_ties",
    "beta_pdf",
    "posterior_mean",
    "run_policy",
    "thompson_sample",
    "tune_policy",
    "ucb1_index",
]

#: ε of ε-greedy and c of UCB1 are tuned over {0, 0.1, …, 1}, as in the RL² paper.
PARAMETER_GRID: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(11))


# ----------------------------------------------------------------------------------------------
# shared helpers
# ----------------------------------------------------------------------------------------------


def _check_counts(successes: ArrayLike, failures: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """``successes`` and ``failures`` as non-negative int ``[B, k]`` arrays of one shape."""
    out = []
    for name, value in (("successes", successes), ("failures", failures)):
        x = np.asarray(value)
        if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
            raise ValueError(f"{name} must have shape [num_bandits, num_arms] with both >= 1, got {x.shape}")
        if not np.issubdtype(x.dtype, np.integer) or np.any(x < 0):
            raise ValueError(f"{name} must hold non-negative integers, got dtype {x.dtype}")
        out.append(x)
    if out[0].shape != out[1].shape:
        raise ValueError(f"successes and failures must have the same shape, got {out[0].shape} and {out[1].shape}")
    return out[0], out[1]


def _check_step(t: Any, num_pulls: Any) -> tuple[int, int]:
    num_pulls = check_int("num_pulls", num_pulls)
    t = check_int("t", t, minimum=0)
    if t >= num_pulls:
        raise ValueError(f"t must be an int in [0, num_pulls - 1] = [0, {num_pulls - 1}], got {t}")
    return t, num_pulls


def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    return rng


def argmax_random_ties(values: ArrayLike, rng: np.random.Generator) -> NDArray[np.int64]:
    """argmax over the last axis of ``[B, k]`` values, ties broken uniformly at random.

    Among the entries equal to the row's maximum (``inf`` included), the one with the largest
    of k fresh uniforms wins — each tied arm with probability 1/(number of ties).
    """
    v = np.asarray(values, dtype=np.float64)
    best = v >= v.max(axis=-1, keepdims=True)
    return np.argmax(np.where(best, rng.random(v.shape), -1.0), axis=-1).astype(np.int64)


@runtime_checkable
class Policy(Protocol):
    """A batched bandit strategy: counts so far ↦ one arm per bandit."""

    @property
    def name(self) -> str:
        """A short label for tables and plots."""
        ...

    def __call__(self, successes: NDArray[np.int64], failures: NDArray[np.int64], t: int, num_pulls: int,
                 rng: np.random.Generator) -> NDArray[np.int64]:
        """Arms ``[B]`` from counts ``[B, k]``, t pulls done of ``num_pulls``, randomness from ``rng``."""
        ...


# ----------------------------------------------------------------------------------------------
# the policies
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RandomPolicy:
    """A uniformly random arm at every pull; expected total reward n·E[p] = n/2 under U[0, 1]."""

    @property
    def name(self) -> str:
        return "random"

    def __call__(self, successes: ArrayLike, failures: ArrayLike, t: int, num_pulls: int,
                 rng: np.random.Generator) -> NDArray[np.int64]:
        s, _ = _check_counts(successes, failures)
        _check_step(t, num_pulls)
        return _check_rng(rng).integers(s.shape[1], size=s.shape[0]).astype(np.int64)


def posterior_mean(successes: NDArray[np.int64], failures: NDArray[np.int64]) -> NDArray[np.float64]:
    """p̂_a = (1 + s_a)/(2 + s_a + f_a), the mean of Beta(1 + s_a, 1 + f_a) (uniform prior)."""
    return (1.0 + successes) / (2.0 + successes + failures)


def beta_pdf(x: ArrayLike, a: float, b: float) -> NDArray[np.float64]:
    """The Beta(a, b) density x^(a−1) (1 − x)^(b−1) / B(a, b) at points x in [0, 1].

    Computed in logs (stable for large a, b); at the ends 0^0 = 1, so Beta(1, b) has density b
    at x = 0 (and Beta(a, 1) density a at x = 1); an exponent below 0 gives ``inf`` there.

    Raises:
        ValueError: a or b not > 0, or an x outside [0, 1].
    """
    a, b = _check_shape_parameter("a", a), _check_shape_parameter("b", b)
    x = np.asarray(x, dtype=np.float64)
    if np.any(~((x >= 0.0) & (x <= 1.0))):
        raise ValueError("x must lie in [0, 1]")
    log_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        left = (a - 1.0) * np.log(x) if a != 1.0 else np.zeros_like(x)
        right = (b - 1.0) * np.log1p(-x) if b != 1.0 else np.zeros_like(x)
    return np.exp(log_norm + left + right)


def _check_shape_parameter(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class GreedyPolicy:
    """argmax_a p̂_a with p̂_a = (1 + s_a)/(2 + s_a + f_a), the posterior mean under a Beta(1, 1)
    prior (an unpulled arm scores 1/2); ties at random. Never explores on purpose."""

    @property
    def name(self) -> str:
        return "greedy"

    def __call__(self, successes: ArrayLike, failures: ArrayLike, t: int, num_pulls: int,
                 rng: np.random.Generator) -> NDArray[np.int64]:
        s, f = _check_counts(successes, failures)
        _check_step(t, num_pulls)
        return argmax_random_ties(posterior_mean(s, f), _check_rng(rng))


@dataclass(frozen=True)
class EpsilonGreedyPolicy:
    """With probability ε a uniformly random arm, otherwise the greedy arm argmax_a p̂_a.

    Attributes:
        epsilon: ε in [0, 1]; ε = 0 is :class:`GreedyPolicy`, ε = 1 is :class:`RandomPolicy`.
    """

    epsilon: float = 0.1

    def __post_init__(self) -> None:
        object.__setattr__(self, "epsilon", check_unit("epsilon", self.epsilon))

    @property
    def name(self) -> str:
        return f"ε-greedy (ε={self.epsilon:g})"

    def __call__(self, successes: ArrayLike, failures: ArrayLike, t: int, num_pulls: int,
                 rng: np.random.Generator) -> NDArray[np.int64]:
        s, f = _check_counts(successes, failures)
        _check_step(t, num_pulls)
        rng = _check_rng(rng)
        greedy = argmax_random_ties(posterior_mean(s, f), rng)
        explore = rng.random(s.shape[0]) < self.epsilon
        return np.where(explore, rng.integers(s.shape[1], size=s.shape[0]), greedy).astype(np.int64)


def ucb1_index(successes: ArrayLike, failures: ArrayLike, c: float = 1.0, *, prior: bool = False
               ) -> NDArray[np.float64]:
    """UCB1's index μ̂_a + c·√(2 ln t / n_a), ``[B, k]``; +inf for arms never pulled.

    n_a = s_a + f_a, μ̂_a = s_a/n_a, and t = Σ_a n_a, the pulls so far of that bandit. With
    ``prior=True`` (the RL² paper's variant) every arm's statistics start at one success and one
    failure — a Beta(1, 1) prior: n_a = s_a + f_a + 2, μ̂_a = (1 + s_a)/n_a, t = Σ_a n_a — so no
    arm is infinite and no initial round of pulls is forced.

    Raises:
        ValueError, TypeError: malformed counts; ``c`` not a finite number ≥ 0.
    """
    s, f = _check_counts(successes, failures)
    c = check_number("c", c, positive=False)
    if prior:
        s, f = s + 1, f + 1
    pulls = (s + f).astype(np.float64)
    total = pulls.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        index = s / pulls + c * np.sqrt(2.0 * np.log(np.maximum(total, 1.0)) / pulls)
    return np.where(pulls > 0, index, np.inf)


@dataclass(frozen=True)
class UCB1Policy:
    """Pull every arm once (random order), then argmax_a μ̂_a + c·√(2 ln t / n_a) (:func:`ucb1_index`).

    Attributes:
        c: exploration weight c ≥ 0; c = 1 is Auer et al.'s UCB1, c = 0 the empirical greedy rule.
        prior: start each arm at one success and one failure (Beta(1, 1)), as Duan et al. (2016)
            did; then no initial round of pulls is forced, which matters when n is close to k.
    """

    c: float = 1.0
    prior: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "c", check_number("c", self.c, positive=False))
        if not isinstance(self.prior, bool):
            raise TypeError(f"prior must be a bool, got {type(self.prior).__name__}")

    @property
    def name(self) -> str:
        return f"UCB1 (c={self.c:g}{', Beta(1, 1) start' if self.prior else ''})"

    def __call__(self, successes: ArrayLike, failures: ArrayLike, t: int, num_pulls: int,
                 rng: np.random.Generator) -> NDArray[np.int64]:
        _check_step(t, num_pulls)
        return argmax_random_ties(ucb1_index(successes, failures, self.c, prior=self.prior), _check_rng(rng))


def thompson_sample(successes: ArrayLike, failures: ArrayLike, rng: np.random.Generator) -> NDArray[np.float64]:
    """One posterior draw per arm, θ_a ~ Beta(1 + s_a, 1 + f_a), ``[B, k]``.

    Raises:
        ValueError, TypeError: malformed counts; ``rng`` not a NumPy Generator.
    """
    s, f = _check_counts(successes, failures)
    return _check_rng(rng).beta(1.0 + s, 1.0 + f)


@dataclass(frozen=True)
class ThompsonPolicy:
    """Thompson sampling: draw θ_a ~ Beta(1 + s_a, 1 + f_a) for every arm, pull argmax_a θ_a —
    each arm is pulled with the posterior probability that it is the best."""

    @property
    def name(self) -> str:
        return "Thompson sampling"

    def __call__(self, successes: ArrayLike, failures: ArrayLike, t: int, num_pulls: int,
                 rng: np.random.Generator) -> NDArray[np.int64]:
        _check_step(t, num_pulls)
        return argmax_random_ties(thompson_sample(successes, failures, rng), rng)


@dataclass(frozen=True)
class GittinsPolicy:
    """argmax_a ν_γ(1 + s_a, 1 + f_a), the Gittins index of each arm's Beta posterior.

    Looks the indices up in ``gittins_table(num_pulls - 1, discount, depth=depth, grid=grid)``,
    computed once per (n, γ) and cached (≈ 0.7 s for n = 100 at γ = 0.9, ≈ 4 s at γ = 0.99).

    Attributes:
        discount: γ in (0, 1); tune it to the horizon (:func:`tune_policy`).
        depth, grid: passed to :func:`~metalearn_lib.bandits.gittins.gittins_table`.
    """

    discount: float = 0.9
    depth: int | None = None
    grid: int = 1024

    def __post_init__(self) -> None:
        default_depth(self.discount)  # validates 0 < discount < 1
        object.__setattr__(self, "discount", float(self.discount))
        if self.depth is not None:
            check_int("depth", self.depth)
        check_int("grid", self.grid, minimum=2)

    @property
    def name(self) -> str:
        return f"Gittins (γ={self.discount:g})"

    def __call__(self, successes: ArrayLike, failures: ArrayLike, t: int, num_pulls: int,
                 rng: np.random.Generator) -> NDArray[np.int64]:
        s, f = _check_counts(successes, failures)
        t, num_pulls = _check_step(t, num_pulls)
        if max(s.max(), f.max()) >= num_pulls:
            raise ValueError(f"counts must be below num_pulls={num_pulls}, got a count of {max(s.max(), f.max())}")
        table = gittins_table(num_pulls - 1, self.discount, depth=self.depth, grid=self.grid)
        return argmax_random_ties(table[s, f], _check_rng(rng))


class BayesOptimalPolicy:
    """argmax_a Q_a(state, n − t) of the exact finite-horizon DP (ties at random).

    The DP is solved when the policy is built (cached per (k, n) by
    :func:`~metalearn_lib.bandits.bayes_optimal.bayes_optimal_solver`); only small problems are
    tractable, e.g. (n, k) = (10, 5), (10, 10), (100, 2). ``solver`` plays an already solved
    :class:`~metalearn_lib.bandits.bayes_optimal.BayesOptimal` instead — e.g. one built for another
    prior with ``BayesOptimal(k, n, predictive=...)``.

    Args:
        num_arms: k ≥ 1.
        num_pulls: n ≥ 1; the policy may only be played on trials of this length.
        solver: a :class:`~metalearn_lib.bandits.bayes_optimal.BayesOptimal` solved for (k, n), or
            None for the uniform prior's.
        label: the policy's :attr:`name` (default "Bayes-optimal").

    Raises:
        ValueError: an intractable (k, n) (see :class:`~metalearn_lib.bandits.bayes_optimal.BayesOptimal`),
            or a ``solver`` for other (k, n).
        TypeError: a ``solver`` that is not a ``BayesOptimal``.
    """

    def __init__(self, num_arms: int, num_pulls: int, *, solver: BayesOptimal | None = None,
                 label: str = "Bayes-optimal") -> None:
        self.num_arms = check_int("num_arms", num_arms)
        self.num_pulls = check_int("num_pulls", num_pulls)
        if solver is None:
            solver = bayes_optimal_solver(self.num_arms, self.num_pulls)
        elif not isinstance(solver, BayesOptimal):
            raise TypeError(f"solver must be a BayesOptimal or None, got {type(solver).__name__}")
        elif (solver.num_arms, solver.num_pulls) != (self.num_arms, self.num_pulls):
            raise ValueError(f"solver is solved for num_arms={solver.num_arms}, num_pulls={solver.num_pulls}, "
                             f"not num_arms={self.num_arms}, num_pulls={self.num_pulls}")
        self.solver: BayesOptimal = solver
        self._label = str(label)

    @property
    def name(self) -> str:
        return self._label

    def __repr__(self) -> str:
        return f"BayesOptimalPolicy(num_arms={self.num_arms}, num_pulls={self.num_pulls})"

    def __call__(self, successes: ArrayLike, failures: ArrayLike, t: int, num_pulls: int,
                 rng: np.random.Generator) -> NDArray[np.int64]:
        s, f = _check_counts(successes, failures)
        t, num_pulls = _check_step(t, num_pulls)
        if num_pulls != self.num_pulls or s.shape[1] != self.num_arms:
            raise ValueError(f"this policy is solved for num_arms={self.num_arms}, num_pulls={self.num_pulls}; "
                             f"got num_arms={s.shape[1]}, num_pulls={num_pulls}")
        return self.solver.actions(s, f, t, _check_rng(rng))


# ----------------------------------------------------------------------------------------------
# playing and tuning
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrialResult:
    """A batch of B trials of n pulls.

    Attributes:
        actions: ``[B, n]`` int arms pulled.
        rewards: ``[B, n]`` float rewards, 0.0 or 1.0.
        means: ``[B, k]`` the bandits' arm means.
    """

    actions: NDArray[np.int64]
    rewards: NDArray[np.float64]
    means: NDArray[np.float64]

    @property
    def total_reward(self) -> NDArray[np.float64]:
        """``[B]``: Σ_t r_t of each trial."""
        return self.rewards.sum(axis=1)

    @property
    def mean_total_reward(self) -> float:
        """The average total reward over the B trials."""
        return float(self.total_reward.mean())

    @property
    def ci95(self) -> float:
        """Half-width of the normal 95% confidence interval of the mean: 1.96·std/√B."""
        totals = self.total_reward
        return float(1.96 * totals.std() / np.sqrt(totals.size))

    @property
    def regret(self) -> float:
        """Mean over bandits of n·max_a p_a − total reward."""
        n = self.rewards.shape[1]
        return float(np.mean(n * self.means.max(axis=1) - self.total_reward))


def _check_means(means: Any) -> NDArray[np.float64]:
    try:
        p = np.asarray(means, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"means must be a [num_bandits, num_arms] array of numbers, "
                        f"got {type(means).__name__}") from None
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] == 0:
        raise ValueError(f"means must have shape [num_bandits, num_arms] with both >= 1, got {p.shape}")
    if not np.all((p >= 0.0) & (p <= 1.0)):
        raise ValueError("means must lie in [0, 1]")
    return p


def run_policy(policy: Policy, means: ArrayLike, num_pulls: int, seed: int) -> TrialResult:
    """Play ``policy`` for ``num_pulls`` pulls on every bandit of ``means`` at once.

    One Python step per pull, NumPy over the batch (1000 bandits × 100 pulls of a simple policy
    take about 0.1 s). Rewards as in the module docstring (common random numbers per seed).

    Args:
        policy: a :class:`Policy`.
        means: ``[B, k]`` arm means in [0, 1] (a NumPy array or a tensor from
            :meth:`~metalearn_lib.bandits.env.BernoulliBandits.sample_means`).
        num_pulls: n ≥ 1.
        seed: an int ≥ 0 for ``np.random.default_rng``.

    Returns:
        :class:`TrialResult`.

    Raises:
        ValueError, TypeError: bad ``means``, ``num_pulls`` or ``seed``, or a policy that returns
            anything but ``[B]`` ints in [0, k).
    """
    p = _check_means(means)
    num_pulls = check_int("num_pulls", num_pulls)
    seed = check_int("seed", seed, minimum=0)
    num_bandits, num_arms = p.shape
    rng = np.random.default_rng(seed)
    stack = rng.random((num_bandits, num_arms, num_pulls)) < p[:, :, np.newaxis]  # reward of the j-th pull of a
    successes = np.zeros((num_bandits, num_arms), dtype=np.int64)
    failures = np.zeros((num_bandits, num_arms), dtype=np.int64)
    actions = np.zeros((num_bandits, num_pulls), dtype=np.int64)
    rewards = np.zeros((num_bandits, num_pulls), dtype=np.float64)
    rows = np.arange(num_bandits)
    for t in range(num_pulls):
        chosen = np.asarray(policy(successes.copy(), failures.copy(), t, num_pulls, rng))
        if chosen.shape != (num_bandits,) or not np.issubdtype(chosen.dtype, np.integer) \
                or np.any((chosen < 0) | (chosen >= num_arms)):
            raise ValueError(f"{policy!r} must return {num_bandits} int arms in [0, {num_arms - 1}], got "
                             f"shape {chosen.shape}, dtype {chosen.dtype}")
        pulled = successes[rows, chosen] + failures[rows, chosen]
        win = stack[rows, chosen, pulled]
        successes[rows, chosen] += win
        failures[rows, chosen] += ~win
        actions[:, t] = chosen
        rewards[:, t] = win
    return TrialResult(actions=actions, rewards=rewards, means=p)


def tune_policy(make_policy: Callable[[Any], Policy], values: Sequence[Any], bandits: BernoulliBandits,
                num_pulls: int, num_bandits: int, seed: int) -> tuple[Any, NDArray[np.float64]]:
    """Pick the parameter with the largest mean total reward on validation bandits.

    Every value plays the same ``num_bandits`` bandits, drawn with
    ``bandits.sample_means(num_bandits, seed)``, and the same reward stacks (``run_policy(...,
    seed)``), so the comparison is paired. Use a different ``seed`` from the evaluation's, or the
    tuned score is optimistic.

    Example: ``tune_policy(UCB1Policy, PARAMETER_GRID, BernoulliBandits(5), 100, 1000, seed=1)``.

    Args:
        make_policy: value ↦ policy, e.g. ``UCB1Policy`` or ``lambda g: GittinsPolicy(g)``.
        values: the candidates, a non-empty sequence.
        bandits: the task distribution.
        num_pulls, num_bandits: ints ≥ 1.
        seed: an int ≥ 0.

    Returns:
        ``(best_value, scores)`` with ``scores[i]`` the mean total reward of ``values[i]``; the first
        of equal best scores wins.

    Raises:
        ValueError, TypeError: empty ``values``; bad ``num_pulls``, ``num_bandits`` or ``seed``.
    """
    values = list(values)
    if not values:
        raise ValueError("values must be a non-empty sequence of candidate parameters")
    if not isinstance(bandits, BernoulliBandits):
        raise TypeError(f"bandits must be a BernoulliBandits task distribution, got {type(bandits).__name__}")
    num_pulls = check_int("num_pulls", num_pulls)
    num_bandits = check_int("num_bandits", num_bandits)
    seed = check_int("seed", seed, minimum=0)
    means = np.asarray(bandits.sample_means(num_bandits, seed, dtype=tf.float64), dtype=np.float64)
    scores = np.array([run_policy(make_policy(v), means, num_pulls, seed).mean_total_reward for v in values])
    return values[int(np.argmax(scores))], scores
