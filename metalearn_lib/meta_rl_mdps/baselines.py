"""Hand-designed explorers of random tabular MDPs — the baselines of the RL² paper's Table 2 —
played on a batch of B MDPs, one trial of n episodes each.

Every policy sees the posterior statistics of :class:`~metalearn_lib.meta_rl_mdps.posteriors.MDPPosterior`
(updated after every step) and, at the start of each episode, *plans* a table Q_h(s, a) for the
episode's L steps; during the episode it takes argmax_a Q_h(s_h, a), ties broken at random:

* :class:`RandomPolicy` — uniformly random actions (expected total reward n·L·m₀ = 10·n);
* :class:`GreedyPolicy` — value iteration on the posterior-mean MDP (pure exploitation);
* :class:`EpsilonGreedyPolicy` — with probability ε a random action, else greedy's;
* :class:`PSRLPolicy` — posterior sampling (Osband, Russo & Van Roy 2013): draw one MDP from the
  posterior at the start of each episode, solve it, follow its Q_h for the whole episode;
* :class:`UCRL2Policy` — UCRL2 (Jaksch, Ortner & Auer 2010) in its finite-horizon form: at the start
  of every episode, extended value iteration over all MDPs with mean rewards up to r̂ + c·β_r and
  transitions within L1 distance c·β_P of the empirical P̂ (:func:`ucrl2_widths`);
* :class:`OraclePolicy` — value iteration on the true MDP (expected total n·V_0(0),
  :func:`oracle_total_reward`), an upper bound no learner beats on average.

:func:`run_policy` plays a policy on a batch (NumPy over the batch, a Python loop over steps);
:func:`tune_policy` picks ε or c on validation MDPs, as Duan et al. (2016) tuned their baselines.

**Priors.** By default greedy, ε-greedy and PSRL use the MDPs' true prior, μ ~ N(1, 1) and
P ~ Dirichlet(1). The code the RL² paper ran (Osband's TabulaRL agents) did not: its PSRL believed
μ ~ N(0, 1) (:data:`~metalearn_lib.meta_rl_mdps.posteriors.RL2_PAPER_PSRL_PRIOR`), and its greedy and
ε-greedy planned on empirical means, 0 for an untried action
(:data:`~metalearn_lib.meta_rl_mdps.posteriors.RL2_PAPER_GREEDY_PRIOR`). With those priors this module reproduces
the paper's Table 2 within its confidence intervals; with the true prior, greedy is far stronger
(it tries an untried action whenever the known ones look worse than the average 1), and PSRL
explores more and scores less at n = 10.

**Common random numbers.** In ``run_policy(..., seed)`` the reward and the next state of the j-th
visit of (s, a) in MDP b come from uniforms fixed by (seed, b, s, a, j) alone (a counter-based
generator, SplitMix64): r = μ(s, a) + σ·z with z by Box–Muller, s' by inverting P(· | s, a). Two
policies run with the same seed on the same MDPs therefore see the same outcome each time they
try the same action in the same state the same number of times, which makes paired comparisons
far less noisy; each draw is still an independent sample. The policies' own randomness (ties,
exploration, posterior samples) comes from ``np.random.default_rng(seed)``.

Imports the RL room (:func:`metalearn_lib.rl.mean_ci95`) and the rest of this chapter.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import tensorflow as tf
from numpy.typing import NDArray

from metalearn_lib.bandits.policies import argmax_random_ties
from metalearn_lib.meta_rl_mdps.planning import check_model, extended_value_iteration, value_iteration
from metalearn_lib.meta_rl_mdps.posteriors import MDPPosterior, Prior
from metalearn_lib.meta_rl_mdps.tabular import RandomTabularMDPs, TabularMDP
from metalearn_lib.rl.evaluation import mean_ci95
from metalearn_lib.validation import check_int, check_number

__all__ = [
    "PARAMETER_GRID",
    "UCRL2_SCALE_GRID",
    "EpsilonGreedyPolicy",
    "GreedyPolicy",
    "OraclePolicy",
    "PSRLPolicy",
    "Policy",
    "RandomPolicy",
    "TrialResult",
    "UCRL2Policy",
    "oracle_total_reward",
    "run_policy",
    "tune_policy",
    "ucrl2_widths",
]

#: ε of ε-greedy is tuned over {0, 0.1, …, 1}, as in the RL² paper.
PARAMETER_GRID: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(11))
#: The scale c of UCRL2's confidence widths: Jaksch et al.'s widths (c = 1) are far too loose for
#: 10 × 5 MDPs and a few hundred steps, so c is tuned on this grid: 0 and 10^(−2), 10^(−1.8), …, 1,
#: the upper half of the grid 10^(−4), …, 1 of the RL² paper's code (below 0.01, c acts as 0). The
#: score is bimodal in c (peaks near 0.04 and 0.4 for n = 50), so a coarser grid can miss the best.
UCRL2_SCALE_GRID: tuple[float, ...] = (0.0, *(round(10.0 ** (-2 + 0.2 * i), 6) for i in range(11)))


def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    return rng


def _check_planning(posterior: Any, episode_length: Any, rng: Any) -> int:
    if not isinstance(posterior, MDPPosterior):
        raise TypeError(f"posterior must be an MDPPosterior, got {type(posterior).__name__}")
    _check_rng(rng)
    return check_int("episode_length", episode_length)


def _check_prior(prior: Any) -> Prior | None:
    if prior is not None and not isinstance(prior, Prior):
        raise TypeError(f"prior must be a Prior or None (the MDPs' own prior), got {type(prior).__name__}")
    return prior


def _prior_label(prior: Prior | None) -> str:
    if prior is None:
        return ""
    return (f", prior N({prior.reward_mean:g}, {prior.reward_variance:g}), "
            f"Dir({prior.transition_concentration:g})")


@runtime_checkable
class Policy(Protocol):
    """A batched tabular explorer: plan at the start of each episode, then act on the plan."""

    @property
    def name(self) -> str:
        """A short label for tables and plots."""
        ...

    def plan(self, posterior: MDPPosterior, episode_length: int, rng: np.random.Generator) -> NDArray[np.float64]:
        """``Q [B, L, S, A]``, the action values to act on at steps h = 0, …, L − 1 of this episode."""
        ...

    def act(self, q_values: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.int64]:
        """Actions ``[B]`` from the current state's row ``Q_h(s_h, ·)``, ``[B, A]``."""
        ...


class _ActsGreedily:
    """act = argmax_a Q_h(s_h, a), ties at random."""

    def act(self, q_values: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.int64]:
        return argmax_random_ties(q_values, _check_rng(rng))


@dataclass(frozen=True)
class RandomPolicy(_ActsGreedily):
    """Uniformly random actions: its plan is Q = 0, all ties."""

    @property
    def name(self) -> str:
        return "random"

    def plan(self, posterior: MDPPosterior, episode_length: int, rng: np.random.Generator) -> NDArray[np.float64]:
        episode_length = _check_planning(posterior, episode_length, rng)
        return np.zeros((posterior.num_mdps, episode_length, posterior.num_states, posterior.num_actions))


@dataclass(frozen=True)
class GreedyPolicy(_ActsGreedily):
    """Q of value iteration on the posterior-mean MDP (:meth:`MDPPosterior.mean_model`), re-planned
    every episode; never explores on purpose.

    Attributes:
        prior: the agent's :class:`Prior`; ``None`` is the MDPs' own (the posterior's), and
            :data:`RL2_PAPER_GREEDY_PRIOR` the RL² paper's (empirical means).
    """

    prior: Prior | None = None

    def __post_init__(self) -> None:
        _check_prior(self.prior)

    @property
    def name(self) -> str:
        return f"greedy{_prior_label(self.prior)}"

    def plan(self, posterior: MDPPosterior, episode_length: int, rng: np.random.Generator) -> NDArray[np.float64]:
        episode_length = _check_planning(posterior, episode_length, rng)
        if self.prior is not None:
            posterior = posterior.with_prior(self.prior)
        return value_iteration(*posterior.mean_model(), episode_length)[0]


@dataclass(frozen=True)
class EpsilonGreedyPolicy:
    """With probability ε a uniformly random action at every step, otherwise :class:`GreedyPolicy`'s.

    Attributes:
        epsilon: ε in [0, 1]; 0 is greedy, 1 is random.
        prior: as :class:`GreedyPolicy`'s.
    """

    epsilon: float = 0.1
    prior: Prior | None = None

    def __post_init__(self) -> None:
        epsilon = check_number("epsilon", self.epsilon, positive=False)
        if epsilon > 1.0:
            raise ValueError(f"epsilon must be a number in [0, 1], got {epsilon}")
        object.__setattr__(self, "epsilon", epsilon)
        _check_prior(self.prior)

    @property
    def name(self) -> str:
        return f"ε-greedy (ε={self.epsilon:g}{_prior_label(self.prior)})"

    def plan(self, posterior: MDPPosterior, episode_length: int, rng: np.random.Generator) -> NDArray[np.float64]:
        return GreedyPolicy(self.prior).plan(posterior, episode_length, rng)

    def act(self, q_values: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.int64]:
        greedy = argmax_random_ties(q_values, _check_rng(rng))
        batch, num_actions = greedy.shape[0], np.shape(q_values)[-1]
        explore = rng.random(batch) < self.epsilon
        return np.where(explore, rng.integers(num_actions, size=batch), greedy).astype(np.int64)


@dataclass(frozen=True)
class PSRLPolicy(_ActsGreedily):
    """Posterior sampling for RL (Osband, Russo & Van Roy 2013): at the start of each episode draw
    M ~ p(MDP | history) (:meth:`MDPPosterior.sample_model`), solve M by value iteration and follow
    its Q_h greedily for the whole episode.

    Attributes:
        prior: the agent's :class:`Prior`; ``None`` is the MDPs' own (the posterior's), and
            :data:`RL2_PAPER_PSRL_PRIOR` the RL² paper's (μ ~ N(0, 1)).
    """

    prior: Prior | None = None

    def __post_init__(self) -> None:
        _check_prior(self.prior)

    @property
    def name(self) -> str:
        return f"PSRL{_prior_label(self.prior)}"

    def plan(self, posterior: MDPPosterior, episode_length: int, rng: np.random.Generator) -> NDArray[np.float64]:
        episode_length = _check_planning(posterior, episode_length, rng)
        if self.prior is not None:
            posterior = posterior.with_prior(self.prior)
        return value_iteration(*posterior.sample_model(rng), episode_length)[0]


def ucrl2_widths(posterior: MDPPosterior, delta: float = 0.05) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """UCRL2's confidence widths (Jaksch, Ortner & Auer 2010, eqs. (1)–(2)), ``[B, S, A]`` each. ::

        β_r(s, a) = √( 7 log(2 S A t / δ) / (2 max(1, n(s, a))) )      (rewards),
        β_P(s, a) = √( 14 S log(2 A t / δ) / max(1, n_P(s, a)) )       (L1 radius of transitions),

    with t = max(1, steps so far), n the visits of (s, a) and n_P the next states of (s, a) seen.

    Raises:
        ValueError, TypeError: ``delta`` not in (0, 1), or ``posterior`` not an :class:`MDPPosterior`.
    """
    if not isinstance(posterior, MDPPosterior):
        raise TypeError(f"posterior must be an MDPPosterior, got {type(posterior).__name__}")
    delta = check_number("delta", delta)
    if delta >= 1.0:
        raise ValueError(f"delta must be a number in (0, 1), got {delta}")
    S, A = posterior.num_states, posterior.num_actions
    t = np.maximum(posterior.steps, 1)[:, np.newaxis, np.newaxis].astype(np.float64)
    reward_bonus = np.sqrt(7.0 * np.log(2.0 * S * A * t / delta) / (2.0 * np.maximum(posterior.counts, 1)))
    radius = np.sqrt(14.0 * S * np.log(2.0 * A * t / delta) / np.maximum(posterior.transitions_seen, 1))
    return reward_bonus, radius


@dataclass(frozen=True)
class UCRL2Policy(_ActsGreedily):
    """UCRL2, finite-horizon variant: optimism in the face of uncertainty, re-planned every episode.

    At the start of each episode, with the empirical model (r̂, P̂) (:meth:`MDPPosterior.empirical_model`)
    and the widths of :func:`ucrl2_widths`, it acts on the optimistic Q̃_h of
    :func:`~metalearn_lib.meta_rl_mdps.planning.extended_value_iteration` with reward bonus c·β_r
    and L1 radius c·β_P. (Jaksch et al.'s UCRL2 is for the average-reward setting, with episodes
    that end when a count doubles; here the episodes are the MDP's own, as in UCBVI-style
    finite-horizon analyses.)

    Attributes:
        scale: c ≥ 0, multiplying both widths (c = 1 is Jaksch et al.'s; c = 0 plans on the
            empirical model alone). Tune it with :func:`tune_policy` over :data:`UCRL2_SCALE_GRID`.
        delta: δ in (0, 1), the confidence parameter inside the logs.
    """

    scale: float = 0.1
    delta: float = 0.05

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", check_number("scale", self.scale, positive=False))
        delta = check_number("delta", self.delta)
        if delta >= 1.0:
            raise ValueError(f"delta must be a number in (0, 1), got {delta}")
        object.__setattr__(self, "delta", delta)

    @property
    def name(self) -> str:
        return f"UCRL2 (c={self.scale:g})"

    def plan(self, posterior: MDPPosterior, episode_length: int, rng: np.random.Generator) -> NDArray[np.float64]:
        episode_length = _check_planning(posterior, episode_length, rng)
        reward_bonus, radius = ucrl2_widths(posterior, self.delta)
        empirical = posterior.empirical_model()
        return extended_value_iteration(empirical.reward_means, empirical.transitions, self.scale * reward_bonus,
                                        self.scale * radius, episode_length)[0]


class OraclePolicy(_ActsGreedily):
    """Value iteration on the true MDPs: the optimal policy of each, for the batch it was built for.

    Args:
        mdps: the :class:`TabularMDP` batch (tensors or arrays) that :func:`run_policy` plays.
    """

    def __init__(self, mdps: TabularMDP) -> None:
        self.reward_means, self.transitions = check_model(*mdps)
        if self.reward_means.ndim != 3:
            raise ValueError(f"mdps.reward_means must have shape [num_mdps, num_states, num_actions], "
                             f"got {self.reward_means.shape}")

    @property
    def name(self) -> str:
        return "oracle"

    def __repr__(self) -> str:
        return f"OraclePolicy({self.reward_means.shape[0]} MDPs)"

    def plan(self, posterior: MDPPosterior, episode_length: int, rng: np.random.Generator) -> NDArray[np.float64]:
        episode_length = _check_planning(posterior, episode_length, rng)
        if posterior.counts.shape != self.reward_means.shape:
            raise ValueError(f"this oracle knows MDPs of shape {self.reward_means.shape}, "
                             f"the posterior is for {posterior.counts.shape}")
        return value_iteration(self.reward_means, self.transitions, episode_length)[0]


# ----------------------------------------------------------------------------------------------
# playing and tuning
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrialResult:
    """A batch of B trials of n episodes of L steps.

    Attributes:
        states: ``[B, n, L]`` int, the state at each step.
        actions: ``[B, n, L]`` int.
        rewards: ``[B, n, L]`` float.
    """

    states: NDArray[np.int64]
    actions: NDArray[np.int64]
    rewards: NDArray[np.float64]

    @property
    def episode_returns(self) -> NDArray[np.float64]:
        """``[B, n]``: the total reward of each episode."""
        return self.rewards.sum(axis=2)

    @property
    def total_reward(self) -> NDArray[np.float64]:
        """``[B]``: the total reward of each trial, Σ over its n·L steps."""
        return self.rewards.sum(axis=(1, 2))

    def mean_ci95(self) -> tuple[float, float]:
        """Mean total reward over the B trials and its 95 % CI half-width (:func:`metalearn_lib.rl.mean_ci95`)."""
        return mean_ci95(self.total_reward)


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _splitmix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64's output function (Steele, Lea & Flood 2014): a bijective mix of 64-bit keys."""
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _visit_uniforms(seed: int, keys: NDArray[np.int64], num_streams: int) -> NDArray[np.float64]:
    """``[num_streams, len(keys)]`` uniforms in [0, 1) fixed by (seed, key, stream): u = ⌊h / 2^11⌋ · 2^−53
    with h = SplitMix64((num_streams·key + stream) XOR SplitMix64(seed))."""
    salt = _splitmix64(np.array([seed], dtype=np.uint64))
    counters = (keys.astype(np.uint64)[np.newaxis, :] * np.uint64(num_streams)
                + np.arange(num_streams, dtype=np.uint64)[:, np.newaxis])
    return (_splitmix64(counters ^ salt) >> np.uint64(11)).astype(np.float64) * 2.0**-53


def _check_distribution(distribution: Any) -> RandomTabularMDPs:
    if not isinstance(distribution, RandomTabularMDPs):
        raise TypeError(f"distribution must be a RandomTabularMDPs, got {type(distribution).__name__}")
    return distribution


def _as_model(distribution: RandomTabularMDPs, mdps: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if not isinstance(mdps, tuple) or len(mdps) != 2:
        raise TypeError(f"mdps must be a TabularMDP (reward_means, transitions), got {type(mdps).__name__}")
    r, p = check_model(*mdps)
    S, A = distribution.num_states, distribution.num_actions
    if r.ndim != 3 or r.shape[1:] != (S, A):
        raise ValueError(f"mdps.reward_means must have shape [num_mdps, {S}, {A}] for this distribution, "
                         f"got {r.shape}")
    return r, p


def run_policy(policy: Policy, distribution: RandomTabularMDPs, mdps: TabularMDP, seed: int) -> TrialResult:
    """Play one trial (``distribution.num_episodes`` episodes from state 0) of every MDP of ``mdps`` at once.

    At the start of every episode the policy plans Q [B, L, S, A] from the posterior (built with
    ``distribution``'s priors); at step h it acts on Q_h(s_h, ·); every step (s, a, r, s') then
    updates the posterior — except that the next state of an episode's last step is not shown
    (the MDP is reset to state 0), as in the batched environment an agent is trained on. Outcomes
    as in the module docstring (common random numbers per seed).

    Args:
        policy: a :class:`Policy`.
        distribution: the :class:`RandomTabularMDPs` (S, A, L, n, σ and the priors).
        mdps: ``[B, …]`` MDPs (``distribution.sample_tasks(B, seed, tf.float64)``, or arrays).
        seed: an int ≥ 0.

    Returns:
        :class:`TrialResult`.

    Raises:
        ValueError, TypeError: a malformed argument, or a policy whose plan or actions have the wrong
            shape or range.
    """
    d = _check_distribution(distribution)
    r, p = _as_model(d, mdps)
    seed = check_int("seed", seed, minimum=0)
    B, S, A = r.shape
    L, n = d.episode_length, d.num_episodes
    rng = np.random.default_rng(seed)
    posterior = MDPPosterior.for_distribution(d, B)
    cdf = np.cumsum(p, axis=-1)
    rows = np.arange(B)
    states = np.zeros((B, n, L), np.int64)
    actions = np.zeros((B, n, L), np.int64)
    rewards = np.zeros((B, n, L))
    not_seen = np.full(B, -1)
    for k in range(n):
        q = np.asarray(policy.plan(posterior, L, rng))
        if q.shape != (B, L, S, A):
            raise ValueError(f"{policy!r}.plan must return Q of shape {(B, L, S, A)}, got {q.shape}")
        s = np.zeros(B, np.int64)
        for h in range(L):
            a = np.asarray(policy.act(q[rows, h, s], rng))
            if a.shape != (B,) or not np.issubdtype(a.dtype, np.integer) or np.any((a < 0) | (a >= A)):
                raise ValueError(f"{policy!r}.act must return {B} int actions in [0, {A - 1}], got shape "
                                 f"{a.shape}, dtype {a.dtype}")
            visit = posterior.counts[rows, s, a]                       # this is visit j of (s, a)
            u = _visit_uniforms(seed, ((rows * S + s) * A + a) * (n * L) + visit, 3)
            # r = μ(s, a) + σ·z,  z = √(−2 log(1 − u₀)) cos(2π u₁)
            reward = r[rows, s, a] + d.reward_noise_std * np.sqrt(-2.0 * np.log1p(-u[0])) * np.cos(2 * math.pi * u[1])
            # s' = #{j : F(j) <= u₂·F(S − 1)},  F the CDF of P(· | s, a)
            row_cdf = cdf[rows, s, a]
            next_s = np.minimum((row_cdf <= u[2][:, np.newaxis] * row_cdf[:, -1:]).sum(axis=-1), S - 1)
            posterior.update(s, a, reward, not_seen if h == L - 1 else next_s)
            states[:, k, h], actions[:, k, h], rewards[:, k, h] = s, a, reward
            s = next_s
    return TrialResult(states=states, actions=actions, rewards=rewards)


def oracle_total_reward(distribution: RandomTabularMDPs, mdps: TabularMDP) -> NDArray[np.float64]:
    """``[B]``: the optimal expected total reward of a trial, n·V_0(s = 0), by value iteration on each true MDP."""
    d = _check_distribution(distribution)
    r, p = _as_model(d, mdps)
    return d.num_episodes * value_iteration(r, p, d.episode_length)[1][:, 0, 0]


def tune_policy(make_policy: Callable[[Any], Policy], values: Sequence[Any], distribution: RandomTabularMDPs,
                num_mdps: int, seed: int) -> tuple[Any, NDArray[np.float64]]:
    """Pick the parameter with the largest mean total reward on validation MDPs.

    Every value plays the same ``num_mdps`` MDPs (``distribution.sample_tasks(num_mdps, seed,
    tf.float64)``) with the same outcomes (``run_policy(..., seed)``), so the comparison is paired.
    Use another ``seed`` than the evaluation's, or the tuned score is optimistic.

    Example: ``tune_policy(UCRL2Policy, UCRL2_SCALE_GRID, RandomTabularMDPs(num_episodes=10), 200, seed=1)``.

    Returns:
        ``(best_value, scores)``, ``scores[i]`` the mean total reward of ``values[i]``; the first of
        equal best scores wins.

    Raises:
        ValueError, TypeError: empty ``values``; bad ``distribution``, ``num_mdps`` or ``seed``.
    """
    values = list(values)
    if not values:
        raise ValueError("values must be a non-empty sequence of candidate parameters")
    d = _check_distribution(distribution)
    num_mdps = check_int("num_mdps", num_mdps)
    seed = check_int("seed", seed, minimum=0)
    mdps = TabularMDP(*(np.asarray(x) for x in d.sample_tasks(num_mdps, seed, tf.float64)))
    scores = np.array([run_policy(make_policy(v), d, mdps, seed).total_reward.mean() for v in values])
    return values[int(np.argmax(scores))], scores
