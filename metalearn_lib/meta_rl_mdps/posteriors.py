"""What an agent knows about the MDP it is playing: conjugate posteriors, batched over MDPs.

The prior of :class:`~metalearn_lib.meta_rl_mdps.tabular.RandomTabularMDPs` is conjugate, so the
posterior after any history depends only on three counts per MDP, kept by :class:`MDPPosterior`:
n(s, a) the visits of (s, a), Σr(s, a) the sum of their rewards, and n(s, a, s') the transitions
from (s, a) to s' that were seen. (The last step of an episode pays its reward, but its next state
is never shown — the MDP is reset to state 0 — so Σ_s' n(s, a, s') may be below n(s, a).)

*Mean rewards.* With prior μ ~ N(m₀, v₀) and rewards r ~ N(μ, σ²) of known noise variance σ², the
posterior after n rewards of sum Σr is N(m_n, v_n) with ::

    v_n = 1 / (1/v₀ + n/σ²),        m_n = v_n · (m₀/v₀ + Σr/σ²);

for the RL² prior (m₀ = v₀ = σ² = 1): N((1 + Σr)/(1 + n), 1/(1 + n)).

*Transitions.* With prior P(· | s, a) ~ Dirichlet(α, …, α) the posterior is
Dirichlet(α + n(s, a, ·)), whose mean is (α + n(s, a, s'))/(Sα + n(s, a)).

The statistics do not depend on the prior, so one set of counts serves agents with different
priors (:meth:`MDPPosterior.with_prior`, :class:`Prior`) — the true one, or a mis-specified one as in
the code behind the RL² paper's baselines.

Imports only this chapter's :mod:`~metalearn_lib.meta_rl_mdps.tabular`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from metalearn_lib.meta_rl_mdps.tabular import RandomTabularMDPs, TabularMDP
from metalearn_lib.validation import check_int, check_number

__all__ = ["RL2_PAPER_GREEDY_PRIOR", "RL2_PAPER_PSRL_PRIOR", "MDPPosterior", "Prior"]


def _check_counts(name: str, value: Any, ndim: int, shape: tuple[int, ...] | None = None) -> NDArray[np.int64]:
    x = np.asarray(value)
    dims = "[num_mdps, num_states, num_actions" + (", num_states]" if ndim == 4 else "]")
    if x.ndim != ndim or 0 in x.shape or (shape is not None and x.shape != shape):
        raise ValueError(f"{name} must have shape {dims}{' = ' + str(shape) if shape else ''}, got {x.shape}")
    if not np.issubdtype(x.dtype, np.integer) or np.any(x < 0):
        raise ValueError(f"{name} must hold non-negative integers, got dtype {x.dtype}"
                         + (f" with minimum {x.min()}" if np.issubdtype(x.dtype, np.number) else ""))
    return x.astype(np.int64)


def _check_mean(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value):
        raise TypeError(f"{name} must be a finite number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Prior:
    """An agent's conjugate prior: μ(s, a) ~ N(reward_mean, reward_variance), P(· | s, a) ~ Dirichlet(α, …, α).

    Attributes:
        reward_mean: m₀.
        reward_variance: v₀ > 0 (large: a vanishing prior, so the posterior mean is the empirical mean).
        transition_concentration: α > 0 (small: the posterior-mean transitions are the empirical ones).
    """

    reward_mean: float = 1.0
    reward_variance: float = 1.0
    transition_concentration: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "reward_mean", _check_mean("reward_mean", self.reward_mean))
        for name in ("reward_variance", "transition_concentration"):
            object.__setattr__(self, name, check_number(name, getattr(self, name)))


#: The priors of the code the RL² paper ran for its baselines (Osband's TabulaRL agents, whose
#: defaults are m₀ = 0, τ₀ = 1): PSRL believes μ(s, a) ~ N(0, 1), while the MDPs draw N(1, 1) …
RL2_PAPER_PSRL_PRIOR = Prior(reward_mean=0.0, reward_variance=1.0, transition_concentration=1.0)
#: … and greedy and ε-greedy plan on an almost prior-free model (τ₀ = α₀ = 10⁻⁴): the empirical
#: means, 0 for an untried (s, a), uniform transitions where none was seen.
RL2_PAPER_GREEDY_PRIOR = Prior(reward_mean=0.0, reward_variance=1e4, transition_concentration=1e-4)


@dataclass
class MDPPosterior:
    """The posterior statistics of B MDPs, updated in place after every step (:meth:`update`).

    Build the prior (all counts 0) with :meth:`prior` or :meth:`for_distribution`.

    Attributes:
        counts: n(s, a), ``[B, S, A]`` int.
        reward_sums: Σr(s, a), ``[B, S, A]`` float.
        transition_counts: n(s, a, s'), ``[B, S, A, S]`` int; sums to at most ``counts`` over s'.
        reward_prior_mean: m₀.
        reward_prior_variance: v₀ > 0.
        reward_noise_variance: σ² > 0.
        transition_concentration: α > 0.

    Raises:
        ValueError, TypeError: negative or non-integer counts, mismatched shapes, or a prior
            parameter out of range.
    """

    counts: NDArray[np.int64]
    reward_sums: NDArray[np.float64]
    transition_counts: NDArray[np.int64]
    reward_prior_mean: float = 1.0
    reward_prior_variance: float = 1.0
    reward_noise_variance: float = 1.0
    transition_concentration: float = 1.0

    def __post_init__(self) -> None:
        self.counts = _check_counts("counts", self.counts, 3)
        B, S, A = self.counts.shape
        self.transition_counts = _check_counts("transition_counts", self.transition_counts, 4, (B, S, A, S))
        if np.any(self.transition_counts.sum(axis=-1) > self.counts):
            raise ValueError("transition_counts must sum to at most counts over the next state: "
                             "Σ_s' n(s, a, s') <= n(s, a)")
        sums = np.asarray(self.reward_sums, dtype=np.float64)
        if sums.shape != (B, S, A) or not np.all(np.isfinite(sums)):
            raise ValueError(f"reward_sums must be finite numbers of shape {(B, S, A)}, got {sums.shape}")
        self.reward_sums = sums.copy()
        self.counts, self.transition_counts = self.counts.copy(), self.transition_counts.copy()
        self.reward_prior_mean = _check_mean("reward_prior_mean", self.reward_prior_mean)
        for name in ("reward_prior_variance", "reward_noise_variance", "transition_concentration"):
            setattr(self, name, check_number(name, getattr(self, name)))

    @classmethod
    def prior(cls, num_mdps: int, num_states: int, num_actions: int, *, reward_prior_mean: float = 1.0,
              reward_prior_variance: float = 1.0, reward_noise_variance: float = 1.0,
              transition_concentration: float = 1.0) -> MDPPosterior:
        """The prior of ``num_mdps`` MDPs of S states and A actions: every count 0."""
        B = check_int("num_mdps", num_mdps)
        S = check_int("num_states", num_states)
        A = check_int("num_actions", num_actions)
        return cls(np.zeros((B, S, A), np.int64), np.zeros((B, S, A)), np.zeros((B, S, A, S), np.int64),
                   reward_prior_mean, reward_prior_variance, reward_noise_variance, transition_concentration)

    @classmethod
    def for_distribution(cls, distribution: RandomTabularMDPs, num_mdps: int) -> MDPPosterior:
        """The prior of ``num_mdps`` MDPs drawn from ``distribution`` (its sizes and its priors)."""
        if not isinstance(distribution, RandomTabularMDPs):
            raise TypeError(f"distribution must be a RandomTabularMDPs, got {type(distribution).__name__}")
        d = distribution
        return cls.prior(num_mdps, d.num_states, d.num_actions, reward_prior_mean=d.reward_prior_mean,
                         reward_prior_variance=d.reward_prior_std**2, reward_noise_variance=d.reward_noise_std**2,
                         transition_concentration=d.transition_concentration)

    def with_prior(self, prior: Prior) -> MDPPosterior:
        """The same statistics under another prior (sharing the count arrays, not copying them)."""
        if not isinstance(prior, Prior):
            raise TypeError(f"prior must be a Prior, got {type(prior).__name__}")
        other = copy.copy(self)
        other.reward_prior_mean = prior.reward_mean
        other.reward_prior_variance = prior.reward_variance
        other.transition_concentration = prior.transition_concentration
        return other

    @property
    def num_mdps(self) -> int:
        """B."""
        return int(self.counts.shape[0])

    @property
    def num_states(self) -> int:
        """S."""
        return int(self.counts.shape[1])

    @property
    def num_actions(self) -> int:
        """A."""
        return int(self.counts.shape[2])

    @property
    def steps(self) -> NDArray[np.int64]:
        """``[B]``: t = Σ_{s,a} n(s, a), the steps observed so far in each MDP."""
        return self.counts.sum(axis=(1, 2))

    def update(self, states: ArrayLike, actions: ArrayLike, rewards: ArrayLike, next_states: ArrayLike) -> None:
        """Record one step (s_b, a_b, r_b, s'_b) of every MDP b, in place.

        n(s, a) += 1, Σr(s, a) += r, n(s, a, s') += 1 at each MDP's own (s, a, s'); a next state
        of −1 means "not seen" (the episode ended) and leaves n(s, a, ·) as it is.

        Args:
            states, actions: ``[B]`` ints in [0, S), [0, A).
            next_states: ``[B]`` ints in [−1, S).
            rewards: ``[B]`` finite floats.

        Raises:
            ValueError: a shape other than ``[B]``, an index out of range or a non-finite reward.
        """
        B, S, A = self.counts.shape
        arrays = []
        for name, value, low, size in (("states", states, 0, S), ("actions", actions, 0, A),
                                       ("next_states", next_states, -1, S)):
            x = np.asarray(value)
            if x.shape != (B,) or not np.issubdtype(x.dtype, np.integer) or np.any((x < low) | (x >= size)):
                raise ValueError(f"{name} must be {B} integers in [{low}, {size - 1}], got shape {x.shape}, "
                                 f"dtype {x.dtype}")
            arrays.append(x)
        s, a, s_next = arrays
        r = np.asarray(rewards, dtype=np.float64)
        if r.shape != (B,) or not np.all(np.isfinite(r)):
            raise ValueError(f"rewards must be {B} finite numbers, got shape {r.shape}")
        rows = np.arange(B)
        self.counts[rows, s, a] += 1                   # n(s, a) += 1
        self.reward_sums[rows, s, a] += r              # Σr(s, a) += r
        seen = s_next >= 0
        self.transition_counts[rows[seen], s[seen], a[seen], s_next[seen]] += 1  # n(s, a, s') += 1

    def reward_posterior(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(m_n, v_n)``, each ``[B, S, A]``: the posterior N(m_n, v_n) of every μ(s, a)."""
        m0, v0, noise = self.reward_prior_mean, self.reward_prior_variance, self.reward_noise_variance
        # v_n = 1 / (1/v₀ + n/σ²)
        variance = 1.0 / (1.0 / v0 + self.counts / noise)
        # m_n = v_n · (m₀/v₀ + Σr/σ²)
        mean = variance * (m0 / v0 + self.reward_sums / noise)
        return mean, variance

    def transition_posterior(self) -> NDArray[np.float64]:
        """``[B, S, A, S]``: the parameters α + n(s, a, s') of each Dirichlet posterior."""
        return self.transition_concentration + self.transition_counts

    def mean_model(self) -> TabularMDP:
        """The posterior-mean MDP: μ̄(s, a) = m_n(s, a), P̄(s' | s, a) = (α + n(s, a, s'))/(Sα + n(s, a))."""
        concentration = self.transition_posterior()
        return TabularMDP(self.reward_posterior()[0], concentration / concentration.sum(axis=-1, keepdims=True))

    def sample_model(self, rng: np.random.Generator) -> TabularMDP:
        """One MDP per batch entry from the posterior: μ(s, a) ~ N(m_n, v_n), P(· | s, a) ~ Dirichlet(α + n(s, a, ·)).

        The Dirichlet draw is g / Σ_s' g(s') with independent g(s') ~ Gamma(α + n(s, a, s'), 1).
        """
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                            f"got {type(rng).__name__}")
        mean, variance = self.reward_posterior()
        reward_means = mean + np.sqrt(variance) * rng.standard_normal(mean.shape)
        gammas = rng.standard_gamma(self.transition_posterior())
        totals = gammas.sum(axis=-1, keepdims=True)
        transitions = np.where(totals > 0, gammas / np.where(totals > 0, totals, 1.0), 1.0 / self.num_states)
        return TabularMDP(reward_means, transitions)

    @property
    def transitions_seen(self) -> NDArray[np.int64]:
        """``[B, S, A]``: Σ_s' n(s, a, s'), the next states of (s, a) seen so far."""
        return self.transition_counts.sum(axis=-1)

    def empirical_model(self) -> TabularMDP:
        """The maximum-likelihood MDP (no prior): r̂(s, a) = Σr(s, a)/n(s, a) and
        P̂(s' | s, a) = n(s, a, s')/Σ_s'' n(s, a, s''); r̂ = 0 where (s, a) was never taken, and the
        uniform P̂ = 1/S where none of its next states was seen."""
        seen = self.transitions_seen[..., np.newaxis]
        transitions = np.where(seen > 0, self.transition_counts / np.maximum(seen, 1), 1.0 / self.num_states)
        return TabularMDP(self.reward_sums / np.maximum(self.counts, 1), transitions)
