"""Checks for the exercises of ``05_meta_rl_bandits``: UCB1, Thompson sampling, one step of the
Bayes-optimal recursion.

* :func:`check_ucb1_index` — ``ucb1_index(successes, failures, c)``, the UCB1 index of every arm
  of one bandit, μ̂_a + c·√(2 ln t / n_a) with n_a = s_a + f_a, t = Σ_a n_a, and +inf for an arm
  never pulled;
* :func:`check_thompson_action` — ``thompson_action(successes, failures, rng)``, one Thompson
  sampling choice: draw θ_a ~ Beta(1 + s_a, 1 + f_a) from the *posterior*, return argmax_a θ_a. A
  random function cannot be compared value by value: the check calls it thousands of times and
  compares how often each arm is chosen with the exact probabilities P(arm a has the largest
  posterior draw);
* :func:`check_bayes_q_values` — ``bayes_q_values(successes, failures, remaining, value)``, one
  step of the Bayes-optimal recursion, Q_a = p̂_a (1 + V(s + e_a, f, r − 1)) + (1 − p̂_a) V(s, f + e_a, r − 1)
  with p̂_a = (1 + s_a) / (2 + s_a + f_a) and ``value`` the optimal value function V(s, f, r).

Expected answers come from :mod:`metalearn_lib.bandits` (``ucb1_index``, ``BayesOptimal``); the
diagnoses recompute the typical mistakes (the bonus with the wrong count, sampling from the prior,
the remaining horizon off by one, …) and name them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from metalearn_lib.bandits import BayesOptimal, beta_pdf, ucb1_index
from metalearn_lib.checks.core import Case, WrongShape, run_check, short

__all__ = ["check_bayes_q_values", "check_thompson_action", "check_ucb1_index"]


def _close(got: np.ndarray, value: np.ndarray, atol: float = 1e-7) -> bool:
    return got.shape == value.shape and bool(np.allclose(got, value, rtol=1e-5, atol=atol))


def _counts(*values: Any) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(v, dtype=np.int64) for v in values)


# ============================================================================================
# ucb1_index(successes, failures, c) -> [k]
# ============================================================================================
def _ucb1(successes: np.ndarray, failures: np.ndarray, c: float) -> np.ndarray:
    return np.asarray(ucb1_index(successes[None], failures[None], c)[0], dtype=np.float64)


def _ucb1_cases() -> list[Case]:
    def case(name: str, successes: Any, failures: Any, c: float, hint: str) -> Case:
        s, f = _counts(successes, failures)
        return Case(name, (s, f), _ucb1(s, f, c), hint, {"c": c})

    rule = "index_a = s_a / n_a + c·√(2 ln t / n_a), with n_a = s_a + f_a pulls of arm a and t = Σ_a n_a pulls in all."
    return [
        case("three arms, each pulled, c = 1", [3, 1, 4], [2, 4, 1], 1.0, rule),
        case("arms pulled different numbers of times, c = 1", [9, 1, 2, 0], [6, 0, 3, 1], 1.0,
             "The bonus shrinks with the arm's own count: √(2 ln t / n_a) uses n_a, the pulls of *that* arm."),
        case("c = 0.3 scales the bonus", [5, 2, 1], [5, 1, 3], 0.3, "Multiply the bonus √(2 ln t / n_a) by c."),
        case("c = 0: the index is the empirical mean", [4, 1, 0], [1, 3, 2], 0.0,
             "With c = 0 the index is s_a / n_a (successes over pulls of arm a)."),
        case("an arm never pulled gets +inf (it is tried first)", [2, 0, 1], [1, 0, 2], 1.0,
             "An arm with n_a = 0 has an infinite index: return np.inf for it (and avoid 0/0 warnings with np.where "
             "or a mask)."),
        case("many pulls: the bonus is small", [60, 30, 10], [40, 20, 40], 1.0, rule),
    ]


def _diagnose_ucb1(case: Case, got: np.ndarray) -> str | None:
    s, f = (a.astype(np.float64) for a in case.args)
    c = case.kwargs["c"]
    n = s + f
    t = n.sum()
    pulled = n > 0
    expected = np.asarray(case.expected)
    if np.any(np.isnan(got)):
        return ("nan in the result: an arm never pulled divides 0 by 0. Give such arms np.inf and compute the mean and "
                "the bonus only where n_a > 0.")
    if np.any(~pulled) and not np.all(np.isinf(got[~pulled])):
        return "An arm never pulled must get +inf, so UCB1 tries every arm once before comparing indices."
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(pulled, s / np.where(pulled, n, 1), np.inf)
        variants = [
            (mean + c * np.sqrt(2 * np.log(t) / t),
             "The bonus uses t (all pulls) where it needs n_a (the pulls of arm a): √(2 ln t / n_a). With t every arm "
             "gets the same bonus and UCB1 is just greedy."),
            (mean + c * np.sqrt(2 * np.log(np.where(pulled, n, 1)) / np.where(pulled, n, 1)),
             "The logarithm uses n_a: it must be ln t, the log of the total number of pulls, so that an arm's bonus "
             "grows while the other arms are played."),
            (mean + c * np.sqrt(np.log(t) / np.where(pulled, n, 1)),
             "The bonus misses the factor 2: √(2 ln t / n_a)."),
            (mean + np.sqrt(2 * np.log(t) / np.where(pulled, n, 1)),
             f"c is ignored (this is c = 1, while c = {c:g}): multiply the bonus by c."),
            (mean + c * 2 * np.log(t) / np.where(pulled, n, 1),
             "The square root is missing: the bonus is c·√(2 ln t / n_a)."),
            (np.where(pulled, (1 + s) / (2 + n), np.inf) + c * np.sqrt(2 * np.log(t) / np.where(pulled, n, 1)),
             "The mean is the posterior mean (1 + s_a)/(2 + n_a); UCB1 uses the empirical mean s_a / n_a."),
            (np.where(pulled, s / np.where(pulled, f, 1), np.inf) + c * np.sqrt(2 * np.log(t) / np.where(pulled, n, 1)),
             "The mean divides by the failures: it is s_a / n_a with n_a = s_a + f_a."),
            (mean - c * np.sqrt(2 * np.log(t) / np.where(pulled, n, 1)),
             "The bonus has the wrong sign: UCB1 is *optimistic*, index = mean + bonus."),
        ]
    for value, hint in variants:
        value = np.where(pulled, value, np.inf)
        if _close(got, value) and not _close(got, expected):
            return hint
    return None


def check_ucb1_index(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``ucb1_index(successes, failures, c)`` on 6 cases.

    ``successes`` and ``failures`` are int arrays ``[k]`` (one bandit); the function must return the
    index of every arm, ``[k]`` floats, +inf for arms never pulled. Prints ✅ and returns ``None``,
    or raises :class:`~metalearn_lib.checks.core.CheckFailed` with the verdict.
    """
    def call(successes: np.ndarray, failures: np.ndarray, *, c: float) -> Any:
        return function(successes.copy(), failures.copy(), c)

    run_check(call, _ucb1_cases(), diagnoses=(_diagnose_ucb1,), name="ucb1_index", quiet=quiet)


# ============================================================================================
# thompson_action(successes, failures, rng) -> int
# ============================================================================================
#: Draws per case when measuring how often the learner's function picks each arm.
THOMPSON_DRAWS = 3000
#: Largest allowed gap between the measured and the exact frequency (≥ 5 standard errors).
THOMPSON_TOLERANCE = 0.045


@functools.lru_cache(maxsize=32)
def _argmax_probabilities(alpha: tuple[float, ...], beta: tuple[float, ...]) -> np.ndarray:
    """P(argmax_a θ_a = a) for independent θ_a ~ Beta(α_a, β_a), by quadrature on a fine grid.

    P(a) = ∫ f_a(x) Π_{b≠a} F_b(x) dx, with the densities and CDFs tabulated on 20,001 points.
    """
    x = np.linspace(0.0, 1.0, 20_001)
    dx = x[1] - x[0]
    densities, cdfs = [], []
    for a, b in zip(alpha, beta, strict=True):
        pdf = beta_pdf(x, a, b)
        cdf = np.concatenate([[0.0], np.cumsum((pdf[1:] + pdf[:-1]) / 2) * dx])
        densities.append(pdf)
        cdfs.append(cdf / cdf[-1])
    probabilities = []
    for a in range(len(alpha)):
        others = np.prod([cdfs[b] for b in range(len(alpha)) if b != a], axis=0) if len(alpha) > 1 else 1.0
        integrand = densities[a] * others
        probabilities.append(float(np.sum((integrand[1:] + integrand[:-1]) / 2) * dx))
    p = np.asarray(probabilities)
    return p / p.sum()


def _posterior_probabilities(successes: np.ndarray, failures: np.ndarray) -> np.ndarray:
    return _argmax_probabilities(tuple(1.0 + successes), tuple(1.0 + failures))


def _thompson_cases() -> list[Case]:
    def case(name: str, successes: Any, failures: Any, seed: int, hint: str) -> Case:
        s, f = _counts(successes, failures)
        return Case(name, (s, f), _posterior_probabilities(s, f), hint, {"seed": seed})

    rule = ("Draw one θ_a ~ Beta(1 + s_a, 1 + f_a) per arm (rng.beta), then return the arm with the largest draw. "
            "How often each arm comes back must match the chance that its posterior draw is the largest.")
    return [
        case("two arms: 8 of 10 vs 2 of 10 successes", [8, 2], [2, 8], 0, rule),
        case("three arms with little data", [1, 0, 2], [0, 1, 1], 1,
             "The posterior of arm a is Beta(1 + s_a, 1 + f_a): the prior Beta(1, 1) plus the counts."),
        case("a well-known arm against an untried one", [30, 0], [20, 0], 2,
             "An untried arm's posterior is the prior Beta(1, 1): it still wins about half the time against an arm "
             "with mean 0.6 — that is how Thompson sampling explores."),
        case("four arms, one clearly best", [12, 3, 5, 1], [3, 12, 10, 4], 3, rule),
    ]


def _diagnose_thompson(case: Case, got: np.ndarray) -> str | None:
    s, f = case.args
    k = s.size
    expected = np.asarray(case.expected)
    if np.allclose(got, np.full(k, 1.0 / k), atol=THOMPSON_TOLERANCE) and not np.allclose(
            expected, np.full(k, 1.0 / k), atol=THOMPSON_TOLERANCE):
        return ("Every arm is chosen about equally often: the draws come from the prior Beta(1, 1), not the posterior. "
                "Draw θ_a ~ Beta(1 + s_a, 1 + f_a), using the counts.")
    if np.max(got) > 0.999 and np.max(expected) < 0.99:
        return ("The same arm comes back every time: that is greedy (argmax of the posterior mean), not Thompson "
                "sampling. Draw a random θ_a from each arm's posterior and take the argmax of the draws.")
    swapped = _posterior_probabilities(f, s)
    if np.allclose(got, swapped, atol=THOMPSON_TOLERANCE) and not np.allclose(expected, swapped,
                                                                           atol=THOMPSON_TOLERANCE):
        return "Successes and failures are swapped: θ_a ~ Beta(1 + s_a, 1 + f_a) (α counts successes)."
    if np.all(s > 0) and np.all(f > 0):  # Beta(s, f) exists
        no_prior = _argmax_probabilities(tuple(s.astype(float)), tuple(f.astype(float)))
        if np.allclose(got, no_prior, atol=THOMPSON_TOLERANCE) and not np.allclose(expected, no_prior,
                                                                                atol=THOMPSON_TOLERANCE):
            return "The prior is missing: the posterior is Beta(1 + s_a, 1 + f_a), not Beta(s_a, f_a)."
    return None


def check_thompson_action(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``thompson_action(successes, failures, rng)`` on 4 cases.

    ``successes`` and ``failures`` are int arrays ``[k]``; ``rng`` a ``numpy.random.Generator``; the
    function must return one arm index. The check calls it :data:`THOMPSON_DRAWS` times per case
    (a fixed seed) and compares the frequency of each arm with the exact probability that the arm's
    posterior draw is the largest, within :data:`THOMPSON_TOLERANCE`. Prints ✅ and returns
    ``None``, or raises :class:`~metalearn_lib.checks.core.CheckFailed` with the verdict.
    """
    def call(successes: np.ndarray, failures: np.ndarray, *, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        counts = np.zeros(successes.size)
        for _ in range(THOMPSON_DRAWS):
            action = function(successes.copy(), failures.copy(), rng)
            if isinstance(action, np.ndarray) and action.ndim > 0:
                raise WrongShape(f"an array of shape {action.shape}, expected one arm index (an int): return "
                                 "int(np.argmax(draws))")
            try:
                index = int(action)
            except (TypeError, ValueError):
                raise WrongShape(f"a {type(action).__name__}, expected one arm index (an int)") from None
            if not 0 <= index < successes.size or index != action:
                raise WrongShape(f"arm {short(action)}, expected an int in [0, {successes.size - 1}]")
            counts[index] += 1
        return counts / THOMPSON_DRAWS

    run_check(call, _thompson_cases(), diagnoses=(_diagnose_thompson,), name="thompson_action",
              rtol=0.0, atol=THOMPSON_TOLERANCE, quiet=quiet)


# ============================================================================================
# bayes_q_values(successes, failures, remaining, value) -> [k]
# ============================================================================================
@functools.lru_cache(maxsize=64)
def _solver(num_arms: int, num_pulls: int) -> BayesOptimal:
    return BayesOptimal(num_arms, num_pulls)


class _Value:
    """V(s, f, r) of the Bayes-optimal policy, for any state the learner's recursion may ask about.

    V depends on the counts and the pulls remaining, not on when the trial started, so each query
    is answered by :class:`metalearn_lib.bandits.BayesOptimal` solved for the horizon
    t + r (t = pulls so far) — an off-by-one call is answered too, and the mistake shows in the
    numbers. Prints as ``V`` in a verdict.
    """

    def __init__(self, num_arms: int) -> None:
        self.num_arms = num_arms

    def __call__(self, successes: Any, failures: Any, remaining: Any) -> float:
        s = np.asarray(successes, dtype=np.int64)
        f = np.asarray(failures, dtype=np.int64)
        if s.shape != (self.num_arms,) or f.shape != s.shape:
            raise ValueError(f"value(successes, failures, remaining) needs two int arrays of shape "
                             f"[{self.num_arms}], got {s.shape} and {f.shape}")
        remaining = int(remaining)
        if np.any(s < 0) or np.any(f < 0) or remaining < 0:
            raise ValueError(f"counts and remaining must be >= 0, got {s}, {f}, {remaining}")
        if remaining == 0:
            return 0.0
        t = int(s.sum() + f.sum())
        return float(_solver(self.num_arms, t + remaining).value(s, f, remaining))

    def __repr__(self) -> str:
        return "V"


def _q(successes: np.ndarray, failures: np.ndarray, remaining: int, value: Callable[..., float],
       *, shift: int = 1, reward: float = 1.0, prior: bool = True, swap: bool = False) -> np.ndarray:
    """The recursion, with the typical mistakes as switches (the defaults give the right one)."""
    out = []
    for a in range(successes.size):
        s_a, f_a = float(successes[a]), float(failures[a])
        p = (1 + s_a) / (2 + s_a + f_a) if prior else s_a / max(s_a + f_a, 1.0)  # p̂_a
        after_success = (successes + np.eye(successes.size, dtype=np.int64)[a], failures)  # s + e_a
        after_failure = (successes, failures + np.eye(successes.size, dtype=np.int64)[a])  # f + e_a
        if swap:
            after_success, after_failure = after_failure, after_success
        out.append(p * (reward + value(*after_success, remaining - shift))
                   + (1 - p) * value(*after_failure, remaining - shift))
    return np.asarray(out)


def _bayes_cases() -> list[Case]:
    def case(name: str, successes: Any, failures: Any, remaining: int, hint: str) -> Case:
        s, f = _counts(successes, failures)
        value = _Value(s.size)
        return Case(name, (s, f, remaining, value), _q(s, f, remaining, value), hint)

    rule = ("Q_a = p̂_a (1 + V(s + e_a, f, r − 1)) + (1 − p̂_a) V(s, f + e_a, r − 1), p̂_a = (1 + s_a)/(2 + s_a + f_a): "
            "the pull pays 1 with probability p̂_a, and r − 1 pulls remain after it.")
    return [
        case("one pull left: Q_a is the posterior mean", [1, 0], [0, 1], 1,
             "With one pull left, V(·, 0) = 0, so Q_a = p̂_a = (1 + s_a)/(2 + s_a + f_a)."),
        case("the first pull of a 2-armed, 4-pull trial", [0, 0], [0, 0], 4, rule),
        case("three arms, 3 pulls left after some data", [1, 0, 0], [0, 1, 0], 3, rule),
        case("two arms, 5 pulls left, unequal data", [2, 1], [1, 0], 5, rule),
        case("four arms, 2 pulls left", [1, 0, 2, 0], [1, 1, 0, 0], 2, rule),
    ]


def _diagnose_bayes(case: Case, got: np.ndarray) -> str | None:
    s, f, remaining, value = case.args
    expected = np.asarray(case.expected)
    variants = [
        (dict(shift=0), "Off by one in the remaining horizon: after this pull r − 1 pulls remain, so look up "
         "V(·, remaining − 1), not V(·, remaining)."),
        (dict(shift=2), "Off by one in the remaining horizon: after this pull r − 1 pulls remain (you used r − 2)."),
        (dict(reward=0.0), "The immediate reward is missing: a success pays 1 now, Q_a = p̂_a (1 + V(win)) + …"),
        (dict(prior=False), "p̂_a must be the posterior mean (1 + s_a)/(2 + s_a + f_a) under the uniform prior, "
         "not the empirical mean s_a / n_a."),
        (dict(swap=True), "Success and failure are swapped: a success adds 1 to s_a (and pays 1), a failure adds 1 "
         "to f_a."),
    ]
    for kwargs, hint in variants:
        try:
            wrong = _q(s, f, remaining, value, **kwargs)
        except ValueError:
            continue
        if _close(got, wrong) and not _close(got, expected):
            return hint
    if got.shape == expected.shape and np.allclose(got, expected.max()):
        return "Every arm got the same number (the value V): return one Q_a per arm, before taking the max."
    return None


def check_bayes_q_values(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``bayes_q_values(successes, failures, remaining, value)`` on 5 cases.

    ``successes``, ``failures`` are int arrays ``[k]``, ``remaining`` ≥ 1 the pulls left including
    this one, ``value(successes, failures, remaining)`` the exact optimal value function. The
    function must return Q ``[k]``. Prints ✅ and returns ``None``, or raises
    :class:`~metalearn_lib.checks.core.CheckFailed` with the verdict.
    """
    def call(successes: np.ndarray, failures: np.ndarray, remaining: int, value: _Value) -> Any:
        return function(successes.copy(), failures.copy(), remaining, value)

    run_check(call, _bayes_cases(), diagnoses=(_diagnose_bayes,), name="bayes_q_values", quiet=quiet)
