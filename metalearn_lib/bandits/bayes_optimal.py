"""The exact Bayes-optimal policy for a Bernoulli bandit with a finite horizon, for any product prior.

The arm means are independent, θ_a ~ U[0, 1] = Beta(1, 1) by default. After s_a successes and f_a
failures on arm a, its posterior is Beta(1 + s_a, 1 + f_a), whose mean — the probability that the
next pull of a pays 1 — is p̂_a = (1 + s_a)/(2 + s_a + f_a). The *state* of a trial is the table of
counts (s, f) ∈ ℕ^{k×2}; with r pulls remaining, the Bellman equation of this belief MDP is ::

    V(state, 0) = 0,
    Q_a(state, r) = p̂_a·(1 + V(state + success on a, r − 1)) + (1 − p̂_a)·V(state + failure on a, r − 1),
    V(state, r) = max_a Q_a(state, r),

and pulling argmax_a Q_a is the Bayes-optimal policy: it maximises the expected total reward
averaged over bandits drawn from the prior. V(empty, n) is that maximum (the value every other
strategy, learnt ones such as RL²'s included, can at best match).

**Other priors.** Nothing above needs the prior to be uniform, only that the arms are independent
and identically distributed a priori, θ_a ~ π i.i.d. (a *product* prior). Then arm a's posterior
depends on its own counts only, and the posterior predictive probability is ::

    p̂(s, f) = P(next pull pays 1 | s, f) = E_π[θ^{s+1}(1 − θ)^f] / E_π[θ^s (1 − θ)^f]

— (a + s)/(a + b + s + f) for a Beta(a, b) prior, a ratio of integrals for any other π (e.g. a
uniform on [0.4, 0.6], or a mixture of a point mass and a uniform). ``BayesOptimal(k, n,
predictive=...)`` takes p̂ as a table ``[m + 1, m + 1]`` (entry [s, f], m ≥ n) or a function
of the count arrays, and solves the same Bellman equation with it; ``predictive=None`` is the
uniform prior, computed exactly as before (bit-identical values). Exchangeability (below) still
holds because the arms are a priori identical.

**Exchangeability.** The arms are a priori identical and independent, so V depends only on the
*multiset* of per-arm pairs {(s_a, f_a)}: the state is stored sorted. With total pulls
t = Σ_a (s_a + f_a) and a horizon of n pulls, r = n − t, so the DP runs *iteratively by the number
of pulls done*, t = n − 1, …, 0, one vectorised NumPy level per t (no recursion). The number of
states (multisets of k pairs of total weight t ≤ n, see :func:`count_states`):

========  ===========  ===============================  ======================  ==============
(n, k)    states       without exchangeability          time (2 shared CPUs)    V(empty, n)
========  ===========  ===============================  ======================  ==============
(10, 5)   3,519        184,756 = C(n + 2k, 2k)          ≈ 0.01 s                6.65999
(10, 10)  4,435        30,045,015                       ≈ 0.02 s                6.71395
(100, 2)  2,299,726    4,598,126                        ≈ 2 s                   64.9184
(100, 3)  2.8·10⁸      —                                refused                 —
(100, 5)  4.0·10¹¹     —                                refused                 —
========  ===========  ===============================  ======================  ==============

(V(empty, n) under the uniform prior; the last level, t = n, has V = 0 and is not stored. Another
prior changes only p̂, not the states or the time.)

:class:`BayesOptimal` refuses (``ValueError``) cases with more than ``max_states`` states
(default 10 million, about 1 GB of work space) instead of running for hours.

Reference: the finite-horizon Bayesian bandit as a belief MDP (Bellman 1956; Berry & Fristedt
1985, *Bandit Problems*); RL² (Duan et al. 2016) compares learnt agents with approximations of it.

Imports nothing of the course but the utilities (:mod:`metalearn_lib.validation`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from metalearn_lib.validation import check_int

__all__ = ["BayesOptimal", "bayes_optimal_solver", "count_states"]

#: Q-values within this distance of the best one count as ties.
TIE_TOLERANCE = 1e-12
#: Limits of the memoised recursion that answers queries off the solved horizon.
_FALLBACK_STATES = 1_000_000
_FALLBACK_DEPTH = 200


def count_states(num_arms: int, num_pulls: int) -> int:
    """The number of exchangeable states: multisets of ``num_arms`` pairs (s, f) with
    Σ(s + f) = t, summed over t = 0..``num_pulls``.

    Counted with the generating function ∏_{(s, f)} 1/(1 − y·x^{s+f}) (coefficient of y^k x^t),
    as an unbounded knapsack over the (w + 1) pair types of each weight w = s + f.

    Raises:
        ValueError, TypeError: ``num_arms`` or ``num_pulls`` not an int ≥ 1.
    """
    k = check_int("num_arms", num_arms)
    n = check_int("num_pulls", num_pulls)
    counts = np.zeros((k + 1, n + 1))  # counts[j, t]: multisets of j pairs of total weight t
    counts[0, 0] = 1.0
    for weight in range(n + 1):
        for _ in range(weight + 1):
            for j in range(1, k + 1):
                counts[j, weight:] += counts[j - 1, : n + 1 - weight]
    return int(round(counts[k].sum()))


class BayesOptimal:
    """The solved belief MDP of a k-armed Bernoulli bandit with n pulls, under U[0, 1] priors or any
    product prior given by its posterior predictive p̂(s, f).

    Building it runs the whole DP (see the module docstring for state counts and times);
    afterwards every query is a lookup. States are given as two int arrays of per-arm counts,
    ``successes`` and ``failures``, in any arm order.

    Args:
        num_arms: k ≥ 1.
        num_pulls: n ≥ 1, the horizon.
        max_states: refuse problems with more exchangeable states than this (default 10⁷).
        predictive: the prior, as its posterior predictive p̂(s, f) = P(next pull pays 1 | s
            successes, f failures) of one arm: ``None`` for U[0, 1] (p̂ = (1 + s)/(2 + s + f)), an
            array ``[m + 1, m + 1]`` with m ≥ n (entry [s, f]; e.g. ``BetaPrior(0.5, 0.5)
            .predictive_table(n)`` of :mod:`metalearn_lib.applications.bandit_shift`), or a
            function ``(successes, failures) -> p̂`` of int arrays, applied elementwise (tabulated
            for counts 0..n at construction, called directly only by off-horizon queries).

    Attributes:
        num_arms, num_pulls: k and n.
        num_states: the number of exchangeable states (:func:`count_states`).
        predictive_table: the ``[n + 1, n + 1]`` table of p̂ used (also for ``predictive=None``).

    Raises:
        ValueError: more than ``max_states`` states (e.g. (n, k) = (100, 3)); the message suggests
            smaller cases.
        TypeError, ValueError: ``num_arms``, ``num_pulls`` or ``max_states`` not an int ≥ 1; a
            ``predictive`` table of the wrong shape or with values outside [0, 1].
    """

    def __init__(self, num_arms: int, num_pulls: int, *, max_states: int = 10_000_000,
                 predictive: ArrayLike | Callable[[NDArray[np.int64], NDArray[np.int64]], ArrayLike] | None = None
                 ) -> None:
        self.num_arms = check_int("num_arms", num_arms)
        self.num_pulls = check_int("num_pulls", num_pulls)
        max_states = check_int("max_states", max_states)
        self._predictive_fn, self._table = _check_predictive(predictive, self.num_pulls)
        self.num_states = count_states(self.num_arms, self.num_pulls)
        if self.num_states > max_states:
            raise ValueError(
                f"the Bayes-optimal DP for num_arms={self.num_arms}, num_pulls={self.num_pulls} has "
                f"{self.num_states:.3g} states, more than max_states={max_states}: it is not tractable here. "
                "Try a smaller case, e.g. (num_pulls, num_arms) = (10, 5), (10, 10), (20, 5) or (100, 2).")
        k, n = self.num_arms, self.num_pulls
        # pair (s, f) of weight w = s + f ↦ q = w(w + 1)/2 + s: q grows with w, so a row sorted by
        # decreasing q has its i-th largest weight ≤ n/(i + 1), which bounds position i's radix.
        num_pairs = (n + 1) * (n + 2) // 2 + (n + 2)  # room for the children of weight n + 1
        w = np.repeat(np.arange(n + 2), np.arange(1, n + 3))[:num_pairs]
        self._s_of = (np.arange(num_pairs) - w * (w + 1) // 2).astype(np.int64)
        self._f_of = w - self._s_of
        caps = n // np.arange(1, k + 1)
        radix = (caps + 1) * (caps + 2) // 2
        if sum(math.log2(int(r)) for r in radix) >= 62:
            raise ValueError(f"num_arms={k}, num_pulls={n} is too large for the state encoding: "
                             "try a smaller case, e.g. (10, 5), (10, 10) or (100, 2)")
        self._place = np.concatenate([np.cumprod(radix[::-1])[::-1][1:], [1]]).astype(np.int64)
        self._keys: list[NDArray[np.int64]] = []
        self._values: list[NDArray[np.float64]] = []
        self._solve()

    @property
    def predictive_table(self) -> NDArray[np.float64]:
        """p̂(s, f) for 0 ≤ s, f ≤ n, ``[n + 1, n + 1]`` (a copy)."""
        counts = np.arange(self.num_pulls + 1)
        return np.asarray(self._p_hat(counts[:, np.newaxis], counts[np.newaxis, :]), dtype=np.float64).copy()

    def _p_hat(self, successes: Any, failures: Any) -> Any:
        """p̂(s, f) elementwise: the uniform prior's (1 + s)/(2 + s + f), or the given prior's."""
        if self._table is None:
            return (1.0 + successes) / (2.0 + successes + failures)
        size = self._table.shape[0]
        if np.max(successes) < size and np.max(failures) < size:
            return self._table[successes, failures]
        if self._predictive_fn is None:
            raise ValueError(f"the predictive table covers counts up to {size - 1}, got a state with "
                             f"{max(np.max(successes), np.max(failures))}: pass a larger table or a function")
        return np.asarray(self._predictive_fn(np.asarray(successes), np.asarray(failures)), dtype=np.float64)

    # ------------------------------------------------------------------------------------------
    # encoding of exchangeable states
    # ------------------------------------------------------------------------------------------

    def _pair_index(self, successes: NDArray[np.int64], failures: NDArray[np.int64]) -> NDArray[np.int64]:
        w = successes + failures
        return w * (w + 1) // 2 + successes

    def _key(self, q: NDArray[np.int64]) -> NDArray[np.int64]:
        """Sort each row of pair indices (decreasing) and encode it as one int64, ``[..., k]`` → ``[...]``."""
        ordered = -np.sort(-q, axis=-1)
        return ordered @ self._place

    def _child(self, q: NDArray[np.int64], arm: int, success: bool) -> NDArray[np.int64]:
        """The pair indices after one more success (or failure) on column ``arm``."""
        s, f = self._s_of[q[..., arm]], self._f_of[q[..., arm]]
        out = q.copy()
        out[..., arm] = self._pair_index(s + 1, f) if success else self._pair_index(s, f + 1)
        return out

    def _lookup(self, t: int, keys: NDArray[np.int64]) -> NDArray[np.float64]:
        """V at level t (t pulls done, n − t remaining) of the states with these keys."""
        if t >= self.num_pulls:
            return np.zeros(keys.shape)
        level = self._keys[t]
        pos = np.minimum(np.searchsorted(level, keys), level.size - 1)
        if not np.all(level[pos] == keys):
            raise AssertionError("a state is missing from the DP table")
        return self._values[t][pos]

    # ------------------------------------------------------------------------------------------
    # the DP
    # ------------------------------------------------------------------------------------------

    def _solve(self) -> None:
        k, n = self.num_arms, self.num_pulls
        rows = [np.zeros((1, k), dtype=np.int64)]  # level t: the sorted pair indices of each state
        self._keys = [self._key(rows[0])]
        for t in range(n - 1):  # enumerate level t + 1 from level t's children
            children = np.concatenate([self._child(rows[t], arm, success)
                                       for arm in range(k) for success in (True, False)])
            keys, first = np.unique(self._key(children), return_index=True)
            rows.append(-np.sort(-children[first], axis=1))
            self._keys.append(keys)
        self._values = [np.empty(0)] * n
        for t in range(n - 1, -1, -1):  # backward induction, V(·, n − t)
            self._values[t] = self._q_from_rows(rows[t], t).max(axis=1)
            rows[t] = np.empty((0, k), dtype=np.int64)  # free the level once it is solved

    def _q_from_rows(self, q: NDArray[np.int64], t: int) -> NDArray[np.float64]:
        """Q_a for each row of pair indices at level t: ``[N, k]`` (columns in the rows' order)."""
        out = np.empty(q.shape, dtype=np.float64)
        for arm in range(q.shape[-1]):
            s, f = self._s_of[q[..., arm]], self._f_of[q[..., arm]]
            p = self._p_hat(s, f)
            win = self._lookup(t + 1, self._key(self._child(q, arm, True)))
            lose = self._lookup(t + 1, self._key(self._child(q, arm, False)))
            out[..., arm] = p * (1.0 + win) + (1.0 - p) * lose
        return out

    # ------------------------------------------------------------------------------------------
    # queries
    # ------------------------------------------------------------------------------------------

    def _check_counts(self, successes: ArrayLike, failures: ArrayLike, ndim: int
                      ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        shape = "[num_arms]" if ndim == 1 else "[num_bandits, num_arms]"
        s = np.asarray(successes)
        f = np.asarray(failures)
        for name, x in (("successes", s), ("failures", f)):
            if x.ndim != ndim or x.shape[-1] != self.num_arms or x.size == 0:
                raise ValueError(f"{name} must have shape {shape} with num_arms={self.num_arms}, got {x.shape}")
            if not np.issubdtype(x.dtype, np.integer) or np.any(x < 0):
                raise ValueError(f"{name} must be non-negative integers, got dtype {x.dtype}")
        if s.shape != f.shape:
            raise ValueError(f"successes and failures must have the same shape, got {s.shape} and {f.shape}")
        return s.astype(np.int64), f.astype(np.int64)

    def _fallback_value(self, s: NDArray[np.int64], f: NDArray[np.int64], remaining: int) -> float:
        """V(state, r) off the solved horizon (t + r ≠ n): a memoised recursion over exchangeable
        states (sorted tuples of (s, f) pairs), for the small r such queries need."""
        memo: dict[tuple[tuple[tuple[int, int], ...], int], float] = {}

        def v(state: tuple[tuple[int, int], ...], r: int) -> float:
            if r == 0:
                return 0.0
            key = (state, r)
            if key in memo:
                return memo[key]
            if len(memo) >= _FALLBACK_STATES:
                raise ValueError(f"V(state, remaining={remaining}) off the solved horizon needs more than "
                                 f"{_FALLBACK_STATES} states: build BayesOptimal(num_arms, pulls done + remaining) "
                                 "and query it on its own horizon")
            best = -math.inf
            for i, pair in enumerate(state):
                if i > 0 and state[i - 1] == pair:
                    continue  # an identical arm: the same Q
                si, fi = pair
                p = self._p_hat(si, fi)
                win = tuple(sorted((*state[:i], (si + 1, fi), *state[i + 1:])))
                lose = tuple(sorted((*state[:i], (si, fi + 1), *state[i + 1:])))
                best = max(best, p * (1.0 + v(win, r - 1)) + (1.0 - p) * v(lose, r - 1))
            memo[key] = best
            return best

        if remaining > _FALLBACK_DEPTH:
            raise ValueError(f"remaining={remaining} off the solved horizon (num_pulls={self.num_pulls}) is more than "
                             f"{_FALLBACK_DEPTH}: build BayesOptimal(num_arms, pulls done + remaining)")
        return v(tuple(sorted(zip(s.tolist(), f.tolist(), strict=True))), remaining)

    def value(self, successes: ArrayLike, failures: ArrayLike, remaining: int) -> float:
        """V(state, r): the Bayes-optimal expected reward of the ``remaining`` = r pulls to come.

        V depends only on the counts and r, not on the horizon n the object was solved for: when
        t + r = n (t = pulls done) it is read from the table; otherwise it is computed by a
        memoised recursion over exchangeable states (fine for small r, e.g. the off-by-one
        probes of the exercise checks; refused beyond 10⁶ states or r > 200).

        Args:
            successes, failures: ``[num_arms]`` non-negative int counts so far.
            remaining: r ≥ 0.

        Raises:
            ValueError: bad shapes or counts, ``remaining`` < 0, or an off-horizon query too large.
        """
        s, f = self._check_counts(successes, failures, 1)
        remaining = check_int("remaining", remaining, minimum=0)
        t = int(s.sum() + f.sum())
        if t + remaining == self.num_pulls:
            return float(self._lookup(t, self._key(self._pair_index(s, f)[np.newaxis]))[0])
        return self._fallback_value(s, f, remaining)

    def q_values(self, successes: ArrayLike, failures: ArrayLike, remaining: int) -> NDArray[np.float64]:
        """Q_a(state, r) for every arm a, ``[num_arms]`` in the order of the arguments.

        From the table when t + r = n, otherwise from :meth:`value` of the successor states.

        Raises:
            ValueError: as :meth:`value`, or ``remaining`` = 0 (no pull left to choose).
        """
        s, f = self._check_counts(successes, failures, 1)
        remaining = check_int("remaining", remaining, minimum=0)
        if remaining == 0:
            raise ValueError("remaining must be >= 1 for Q-values: with 0 pulls left there is no action")
        t = int(s.sum() + f.sum())
        if t + remaining == self.num_pulls:
            return self._q_from_rows(self._pair_index(s, f)[np.newaxis], t)[0]
        out = np.empty(self.num_arms)
        for a in range(self.num_arms):
            p = self._p_hat(s[a], f[a])
            won, lost = s.copy(), f.copy()
            won[a] += 1
            lost[a] += 1
            out[a] = p * (1.0 + self.value(won, f, remaining - 1)) + (1.0 - p) * self.value(s, lost, remaining - 1)
        return out

    def expected_total_reward(self) -> float:
        """V(empty state, n): the Bayes-optimal expected total reward over bandits from the prior."""
        return float(self._values[0][0])

    def batch_q_values(self, successes: ArrayLike, failures: ArrayLike, t: int) -> NDArray[np.float64]:
        """Q_a(state_b, n − t) for a batch of bandits after t pulls, ``[B, num_arms]`` (one table
        lookup per arm for the whole batch; arms in the order of the arguments).

        Args:
            successes, failures: ``[B, num_arms]`` counts; each row must total ``t``.
            t: pulls done so far, 0 ≤ t < num_pulls.

        Raises:
            ValueError: bad shapes or counts, rows not totalling t, t out of range.
        """
        s, f = self._check_counts(successes, failures, 2)
        t = check_int("t", t, minimum=0)
        if t >= self.num_pulls:
            raise ValueError(f"t must be an int in [0, {self.num_pulls - 1}], got {t}")
        totals = s.sum(axis=1) + f.sum(axis=1)
        if np.any(totals != t):
            raise ValueError(f"every row of successes + failures must total t={t} pulls, got totals "
                             f"{np.unique(totals).tolist()}")
        return self._q_from_rows(self._pair_index(s, f), t)

    def actions(self, successes: ArrayLike, failures: ArrayLike, t: int,
                rng: np.random.Generator | None = None) -> NDArray[np.int64]:
        """Bayes-optimal arms for a batch of bandits: argmax_a Q_a(state_b, n − t), ``[B]``.

        Ties (Q-values within 1e-12 of the best — exact for arms with equal counts) are broken
        uniformly at random with ``rng``, or by the lowest arm index when ``rng`` is None.

        Args:
            successes, failures: ``[B, num_arms]`` counts; each row must total ``t``.
            t: pulls done so far, 0 ≤ t < num_pulls.
            rng: a NumPy Generator for tie-breaking, or None.

        Raises:
            ValueError: bad shapes or counts, rows not totalling t, t out of range.
        """
        q = self.batch_q_values(successes, failures, t)
        best = q >= q.max(axis=1, keepdims=True) - TIE_TOLERANCE
        if rng is None:
            return np.argmax(best, axis=1).astype(np.int64)
        return np.argmax(np.where(best, rng.random(q.shape), -1.0), axis=1).astype(np.int64)


def _check_predictive(predictive: Any, num_pulls: int) -> tuple[Callable[..., Any] | None, NDArray[np.float64] | None]:
    """``(function or None, table or None)`` from ``BayesOptimal``'s ``predictive`` argument."""
    if predictive is None:
        return None, None
    function = predictive if callable(predictive) else None
    if function is not None:
        counts = np.arange(num_pulls + 1)
        table = function(counts[:, np.newaxis] + 0 * counts, 0 * counts[:, np.newaxis] + counts)
    else:
        table = predictive
    try:
        table = np.array(table, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"predictive must be None, a [num_pulls + 1, num_pulls + 1] array or a function "
                        f"(successes, failures) -> probabilities, got {type(predictive).__name__}") from None
    if table.ndim != 2 or table.shape[0] != table.shape[1] or table.shape[0] < num_pulls + 1:
        what = "function must return" if function is not None else "table must have"
        raise ValueError(f"predictive: the {what} shape [m + 1, m + 1] with m >= num_pulls = {num_pulls}, "
                         f"got {table.shape}")
    if not np.all(np.isfinite(table) & (table >= 0.0) & (table <= 1.0)):
        raise ValueError("predictive: every probability p̂(s, f) must be a number in [0, 1]")
    return function, table


@functools.lru_cache(maxsize=8)
def bayes_optimal_solver(num_arms: int, num_pulls: int) -> BayesOptimal:
    """A cached :class:`BayesOptimal` (num_arms, num_pulls): solved once per process."""
    return BayesOptimal(num_arms, num_pulls)
