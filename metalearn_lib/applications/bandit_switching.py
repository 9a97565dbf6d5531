"""Switching (piecewise-stationary) Bernoulli bandits, the sliding-window UCB that tracks them, and RL².

Chapter 5's bandits keep their arm means for the whole trial. Here they *switch*: a trial of n
pulls starts with means p_1 ~ U[0, 1]^k, and before every later pull t = 2, …, n, independently
with probability h (the *hazard rate*, ``switch_probability``), all k means are redrawn from
U[0, 1]^k; otherwise p_t = p_{t−1}. The number of switches in a trial is Binomial(n − 1, h), the
segments between them are geometric with mean 1/h pulls. An agent that pulls a_t is paid
r_t ~ Bernoulli(p_t[a_t]) and sees only its own actions and rewards, never the switches.

Score: the *dynamic regret* against an oracle that always pulls the best arm *of the moment*, ::

    R_dyn = Σ_{t=1}^{n} (max_a p_t[a] − p_t[a_t])          (:func:`dynamic_regret`),

and its per-pull curve (:func:`regret_per_pull`); the mean over bandits of the cumulative curve is
what :func:`evaluate_switching_methods` reports.

* :class:`SwitchingBanditTrials` — the task distribution as a :class:`metalearn_lib.rl.ExpectedRewardsEnv`:
  a task is the ``[B, n, k]`` tensor of the means at every pull, sampled statelessly from a seed, so
  :func:`metalearn_lib.rl.train_a2c` trains RL² on it and :func:`metalearn_lib.rl.evaluate_agent`
  plays any trained agent (chapter 5's stationary ones included, which read the same inputs).
* :class:`SlidingWindowUCBPolicy` — Garivier & Moulines (2011): UCB1's index computed from the last
  τ pulls only, μ̂_a(τ) + c·√(2 ln min(t, τ) / N_a(τ)) (chapter 5's :func:`~metalearn_lib.bandits.policies.ucb1_index`
  on windowed counts, so τ ≥ n is exactly UCB1), tuned by :func:`tune_sliding_window_ucb`.
* :func:`run_switching_policy` — any chapter 5 policy (counts ↦ arm, batched over bandits) played on
  switching bandits; a policy with a ``window`` attribute is given the counts of its window only.
* :data:`SWITCHING_RL2_CONFIG`, :func:`train_switching_rl2`, :func:`load_switching_rl2`,
  :func:`switching_rl2_info` — the RL² recipe, its training, and the agent shipped in ``weights/``
  (trained by ``benchmarks/applications_bandits.py --train-switching``).

Reference: A. Garivier and E. Moulines, "On upper-confidence bound policies for switching bandit
problems", ALT 2011; the Bayesian change-point view of the hazard rate: Adams & MacKay (2007).

Imports chapter 5 (:mod:`metalearn_lib.bandits`), the RL room (:mod:`metalearn_lib.rl`), the ground
floor and the utilities.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from numpy.typing import ArrayLike, NDArray

from metalearn_lib.bandits.env import pull
from metalearn_lib.bandits.policies import Policy, argmax_random_ties, ucb1_index
from metalearn_lib.bandits.rl2 import RL2_CONFIG, BanditTrials, RL2Agent
from metalearn_lib.rl import A2CConfig, TrainA2CResult, evaluate_agent, mean_ci95, train_a2c
from metalearn_lib.tasks import SeedLike, seed_pair, uniform01
from metalearn_lib.validation import check_int, check_number, check_unit

__all__ = [
    "SWITCHING_RL2_CONFIG",
    "SWITCHING_RL2_ITERATIONS",
    "SlidingWindowUCBPolicy",
    "SwitchingBanditTrials",
    "SwitchingTrialResult",
    "dynamic_regret",
    "evaluate_switching_methods",
    "load_switching_rl2",
    "regret_per_pull",
    "run_switching_policy",
    "switch_indicators",
    "switching_rl2_info",
    "switching_rl2_path",
    "train_switching_rl2",
    "tune_sliding_window_ucb",
]

#: The RL² recipe for switching bandits: chapter 5's n = 100 recipe (``benchmarks/train_rl2.py``,
#: (n, k) = (100, 2)) unchanged — a GRU of 64 units, 128 bandits a batch, Adam 2e-3, the true
#: objective γ = 1 with GAE λ = 0.95, standardised advantages, the critic in units of 40 rewards,
#: returns from the pulled arms' means (here the means *of that pull*), entropy 0.01 annealed to 0.
SWITCHING_RL2_CONFIG = dataclasses.replace(
    RL2_CONFIG, hidden_size=64, batch_size=128, learning_rate=2e-3, gamma=1.0, lam=0.95, value_scale=40.0,
    normalize_advantages=True, expected_rewards=True, entropy_coef=0.01, entropy_coef_final=0.0)
#: Iterations of the shipped agent's run (twice the stationary (100, 2) agent's 10,000: ≈ 10 min
#: on one CPU thread).
SWITCHING_RL2_ITERATIONS = 20_000

_WEIGHTS_PACKAGE = "metalearn_lib.applications"
_WEIGHTS_NAME = "rl2_switching_k2_n100"


# --------------------------------------------------------------------------------------------
# the task distribution
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SwitchingBanditTrials(BanditTrials):
    """Trials of ``num_pulls`` pulls of k-armed Bernoulli bandits whose means switch with hazard h.

    A task is ``[B, n, k]``: the arm means p_t at every pull t. p_1 ~ U[0, 1]^k; for t ≥ 2, with
    probability h = ``switch_probability`` every arm is redrawn, p_t ~ U[0, 1]^k, else p_t = p_{t−1}.
    Everything else is chapter 5's :class:`~metalearn_lib.bandits.rl2.BanditTrials` (no observation,
    ``done`` 1 at the last pull); h = 0 is its stationary bandit.

    Attributes:
        num_arms: k ≥ 1.
        num_pulls: n ≥ 1.
        switch_probability: h in [0, 1].
    """

    switch_probability: float

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "switch_probability", check_unit("switch_probability",
                                                                            self.switch_probability))

    @property
    def expected_switches(self) -> float:
        """E[switches in a trial] = (n − 1)·h."""
        return (self.num_pulls - 1) * self.switch_probability

    def sample_tasks(self, num_tasks: int, seed: SeedLike, dtype: tf.DType = tf.float32) -> tf.Tensor:
        """Means ``[num_tasks, n, k]``, stateless from ``seed`` (an int or an int pair).

        One draw u ~ U[0, 1)^{B×n×(k+1)} from the seed pair itself (as chapter 5's
        :meth:`~metalearn_lib.bandits.env.BernoulliBandits.sample_means`, so an evaluation may pass
        the same seed to the rollout, whose streams are ``derive_seed(seed, tag)``): pull t ≥ 2 of
        bandit b starts a new segment when u_{b,t,0} < h, and segment j of bandit b gets the
        means q_{b,j} = u_{b,j,1:}, so p_{b,t} = q_{b, j(b,t)} with j(b,t) the number of switches
        up to pull t.
        """
        if not isinstance(num_tasks, tf.Tensor):
            num_tasks = check_int("num_tasks", num_tasks)
        n, k = self.num_pulls, self.num_arms
        cdtype = tf.float64 if dtype == tf.float64 else tf.float32
        u = uniform01([num_tasks, n, k + 1], seed_pair(seed), cdtype)
        switches = tf.concat([tf.zeros([num_tasks, 1], tf.int32),
                              tf.cast(u[:, 1:, 0] < self.switch_probability, tf.int32)], axis=1)
        segment = tf.cumsum(switches, axis=1)  # [B, n] index of the segment of each pull
        return tf.cast(tf.gather(u[:, :, 1:], segment, axis=1, batch_dims=1), dtype)

    def step(self, tasks: tf.Tensor, actions: tf.Tensor, t: int | tf.Tensor, seed: tf.Tensor
             ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """Pull ``actions`` on the means of pull t, r ~ Bernoulli(p_t[a]) (chapter 5's
        :func:`~metalearn_lib.bandits.env.pull`); done = 1 at t = n − 1."""
        rewards = pull(tf.gather(tasks, t, axis=1), actions, seed)
        done = tf.fill(tf.shape(rewards), tf.cast(tf.equal(t, self.num_pulls - 1), tf.float32))
        return tf.cast(rewards, tf.float32), tf.zeros([tf.shape(tasks)[0], 0], tf.float32), done

    def expected_rewards(self, tasks: tf.Tensor, actions: tf.Tensor) -> tf.Tensor:
        """E[r_t | a_t] = p_t[a_t]: ``[B, T]`` (``actions [B, T]``)."""
        return tf.gather(tasks, actions[..., tf.newaxis], batch_dims=2)[..., 0]


def _check_task_means(means: Any) -> NDArray[np.float64]:
    p = np.asarray(means, dtype=np.float64)
    if p.ndim != 3 or 0 in p.shape:
        raise ValueError(f"means must have shape [num_bandits, num_pulls, num_arms], got {p.shape}")
    if not np.all((p >= 0.0) & (p <= 1.0)):
        raise ValueError("means must lie in [0, 1]")
    return p


def switch_indicators(means: ArrayLike) -> NDArray[np.bool_]:
    """``[B, n]``: True at pull t ≥ 2 (index ≥ 1) where the means differ from the previous pull's
    (a redraw equal to the old means has probability 0)."""
    p = _check_task_means(means)
    changed = np.any(p[:, 1:] != p[:, :-1], axis=-1)
    return np.concatenate([np.zeros((p.shape[0], 1), bool), changed], axis=1)


def regret_per_pull(means: ArrayLike, actions: ArrayLike) -> NDArray[np.float64]:
    """``[B, n]``: max_a p_t[a] − p_t[a_t] at every pull (means ``[B, n, k]``, actions ``[B, n]``)."""
    p = _check_task_means(means)
    a = np.asarray(actions)
    if a.shape != p.shape[:2] or not np.issubdtype(a.dtype, np.integer) or np.any((a < 0) | (a >= p.shape[2])):
        raise ValueError(f"actions must be ints in [0, {p.shape[2] - 1}] of shape {p.shape[:2]}, got {a.shape}")
    return p.max(axis=2) - np.take_along_axis(p, a[..., np.newaxis], axis=2)[..., 0]


def dynamic_regret(means: ArrayLike, actions: ArrayLike) -> NDArray[np.float64]:
    """``[B]``: R_dyn = Σ_t (max_a p_t[a] − p_t[a_t]) of each trial."""
    return regret_per_pull(means, actions).sum(axis=1)


# --------------------------------------------------------------------------------------------
# hand-designed policies on switching bandits
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SlidingWindowUCBPolicy:
    """Sliding-window UCB (Garivier & Moulines 2011): UCB1 on the last τ pulls only.

    With N_a(τ), S_a(τ) the pulls and successes of arm a among the last min(t, τ) pulls, pull
    argmax_a S_a(τ)/N_a(τ) + c·√(2 ln min(t, τ) / N_a(τ)), an arm absent from the window first
    (+∞; ties at random). :func:`run_switching_policy` hands the policy the window's counts
    (``window`` = τ), and the index is chapter 5's :func:`~metalearn_lib.bandits.policies.ucb1_index`
    of them: with τ ≥ n it is UCB1.

    Attributes:
        window: τ ≥ 1 pulls.
        c: exploration weight ≥ 0.
    """

    window: int = 50
    c: float = 0.5

    def __post_init__(self) -> None:
        check_int("window", self.window)
        object.__setattr__(self, "c", check_number("c", self.c, positive=False))

    @property
    def name(self) -> str:
        return f"SW-UCB (τ={self.window}, c={self.c:g})"

    def __call__(self, successes: ArrayLike, failures: ArrayLike, t: int, num_pulls: int,
                 rng: np.random.Generator) -> NDArray[np.int64]:
        return argmax_random_ties(ucb1_index(successes, failures, self.c), rng)


@dataclass(frozen=True)
class SwitchingTrialResult:
    """B trials of n pulls on switching bandits.

    Attributes:
        actions: ``[B, n]`` arms pulled.
        rewards: ``[B, n]`` rewards, 0.0 or 1.0.
        means: ``[B, n, k]`` the arm means at every pull.
    """

    actions: NDArray[np.int64]
    rewards: NDArray[np.float64]
    means: NDArray[np.float64]

    @property
    def regret_per_pull(self) -> NDArray[np.float64]:
        """``[B, n]``: max_a p_t[a] − p_t[a_t]."""
        return regret_per_pull(self.means, self.actions)

    @property
    def dynamic_regret(self) -> NDArray[np.float64]:
        """``[B]``: Σ_t (max_a p_t[a] − p_t[a_t])."""
        return self.regret_per_pull.sum(axis=1)

    @property
    def mean_dynamic_regret(self) -> tuple[float, float]:
        """(mean, 1.96·s/√B) of the dynamic regret over the B trials."""
        return mean_ci95(self.dynamic_regret)


def run_switching_policy(policy: Policy, means: ArrayLike, seed: int) -> SwitchingTrialResult:
    """Play a counts-based policy on every switching bandit of ``means`` at once.

    At pull t the policy gets the successes and failures of each arm over the last τ pulls when it
    has an int attribute ``window`` = τ (:class:`SlidingWindowUCBPolicy`), otherwise over all t pulls
    so far (every chapter 5 policy, which assumes the arms never change). One Python step per
    pull, NumPy over the batch. Rewards: with ``rng = np.random.default_rng(seed)``, one uniform
    u_{b,t,a} for every bandit, pull and arm, r_t = 1[u_{b,t,a_t} < p_t[a_t]] — the same numbers for
    every policy run with this seed (common random numbers); the policy's own randomness follows
    from the same generator.

    Args:
        policy: a :class:`~metalearn_lib.bandits.policies.Policy`.
        means: ``[B, n, k]`` means per pull, in [0, 1] (e.g. ``SwitchingBanditTrials.sample_tasks``).
        seed: an int ≥ 0.

    Returns:
        :class:`SwitchingTrialResult`.

    Raises:
        ValueError, TypeError: bad ``means`` or ``seed``, a ``window`` < 1, or a policy that returns
            anything but ``[B]`` ints in [0, k).
    """
    p = _check_task_means(means)
    seed = check_int("seed", seed, minimum=0)
    window = getattr(policy, "window", None)
    window = None if window is None else check_int("policy.window", window)
    num_bandits, num_pulls, num_arms = p.shape
    rng = np.random.default_rng(seed)
    paid = rng.random(p.shape) < p  # the reward of arm a at pull t
    successes = np.zeros((num_bandits, num_arms), dtype=np.int64)
    failures = np.zeros((num_bandits, num_arms), dtype=np.int64)
    actions = np.zeros((num_bandits, num_pulls), dtype=np.int64)
    rewards = np.zeros((num_bandits, num_pulls), dtype=np.float64)
    rows = np.arange(num_bandits)
    for t in range(num_pulls):
        if window is not None and t > window:  # the window is pulls t − τ … t − 1: pull t − τ − 1 leaves
            old_a, old_r = actions[:, t - window - 1], rewards[:, t - window - 1] > 0
            successes[rows, old_a] -= old_r
            failures[rows, old_a] -= ~old_r
        chosen = np.asarray(policy(successes.copy(), failures.copy(), t, num_pulls, rng))
        if chosen.shape != (num_bandits,) or not np.issubdtype(chosen.dtype, np.integer) \
                or np.any((chosen < 0) | (chosen >= num_arms)):
            raise ValueError(f"{policy!r} must return {num_bandits} int arms in [0, {num_arms - 1}], got "
                             f"shape {chosen.shape}, dtype {chosen.dtype}")
        win = paid[rows, t, chosen]
        successes[rows, chosen] += win
        failures[rows, chosen] += ~win
        actions[:, t] = chosen
        rewards[:, t] = win
    return SwitchingTrialResult(actions=actions, rewards=rewards, means=p)


def tune_sliding_window_ucb(windows: Sequence[int], cs: Sequence[float], env: SwitchingBanditTrials,
                            num_bandits: int, seed: int) -> tuple[SlidingWindowUCBPolicy, NDArray[np.float64]]:
    """The (τ, c) of least mean dynamic regret on validation bandits ``env.sample_tasks(num_bandits, seed)``.

    Every pair plays the same bandits and reward draws (:func:`run_switching_policy` with ``seed``);
    use another seed for testing, or the tuned score is optimistic.

    Returns:
        ``(best policy, regrets [len(windows), len(cs)])``; the first of equal bests wins.

    Raises:
        ValueError, TypeError: empty grids, bad sizes or seed.
    """
    windows, cs = list(windows), list(cs)
    if not windows or not cs:
        raise ValueError("windows and cs must be non-empty sequences of candidates")
    if not isinstance(env, SwitchingBanditTrials):
        raise TypeError(f"env must be a SwitchingBanditTrials, got {type(env).__name__}")
    num_bandits = check_int("num_bandits", num_bandits)
    seed = check_int("seed", seed, minimum=0)
    means = env.sample_tasks(num_bandits, seed, dtype=tf.float64).numpy()
    regrets = np.array([[run_switching_policy(SlidingWindowUCBPolicy(w, c), means, seed).dynamic_regret.mean()
                         for c in cs] for w in windows])
    i, j = np.unravel_index(int(np.argmin(regrets)), regrets.shape)
    return SlidingWindowUCBPolicy(windows[i], cs[j]), regrets


def evaluate_switching_methods(env: SwitchingBanditTrials, *, policies: Mapping[str, Policy] | None = None,
                               agents: Mapping[str, Any] | None = None, num_bandits: int = 1000,
                               seed: int = 1_000_000) -> dict[str, dict[str, Any]]:
    """Every method on the same ``num_bandits`` switching bandits ``env.sample_tasks(num_bandits, seed)``.

    Policies play with :func:`run_switching_policy` (``seed``: common random numbers); recurrent
    agents (their :class:`~metalearn_lib.rl.ActorCriticParams`, or anything with ``.params``, such
    as an :class:`~metalearn_lib.bandits.rl2.RL2Agent`) with :func:`metalearn_lib.rl.evaluate_agent`
    on the same means (actions sampled, their own seeded reward draws).

    Returns:
        name ↦ {"regret": mean R_dyn, "ci95": 1.96·s/√B, "regret_curve": ``[n]`` mean cumulative
        regret after each pull, "curve_ci95": ``[n]`` its CI, "total_reward", "total_reward_ci95",
        "dynamic_regret": ``[B]``}.
    """
    if not isinstance(env, SwitchingBanditTrials):
        raise TypeError(f"env must be a SwitchingBanditTrials, got {type(env).__name__}")
    num_bandits = check_int("num_bandits", num_bandits, 2)
    seed = check_int("seed", seed, minimum=0)
    means32 = env.sample_tasks(num_bandits, seed)
    means = means32.numpy().astype(np.float64)
    out: dict[str, dict[str, Any]] = {}

    def summary(actions: NDArray[np.int64], rewards: NDArray[np.float64]) -> dict[str, Any]:
        per_pull = regret_per_pull(means, actions)
        regret, ci = mean_ci95(per_pull.sum(axis=1))
        curve, curve_ci = mean_ci95(np.cumsum(per_pull, axis=1))
        total, total_ci = mean_ci95(rewards.sum(axis=1))
        return {"regret": regret, "ci95": ci, "regret_curve": curve, "curve_ci95": curve_ci,
                "total_reward": total, "total_reward_ci95": total_ci, "dynamic_regret": per_pull.sum(axis=1)}

    for name, policy in (policies or {}).items():
        result = run_switching_policy(policy, means, seed)
        out[name] = summary(result.actions, result.rewards)
    for name, agent in (agents or {}).items():
        params = getattr(agent, "params", agent)
        trial = evaluate_agent(params, env, tasks=means32, seed=seed)
        out[name] = summary(trial.rollout.actions.astype(np.int64), trial.rollout.rewards.astype(np.float64))
    return out


# --------------------------------------------------------------------------------------------
# RL² on switching bandits
# --------------------------------------------------------------------------------------------
def train_switching_rl2(env: SwitchingBanditTrials, config: A2CConfig | None = None, *,
                        num_iterations: int = SWITCHING_RL2_ITERATIONS, progress: bool = False,
                        iterations_per_call: int = 100) -> TrainA2CResult:
    """RL² on switching bandits: chapter 5's A2C (:func:`metalearn_lib.rl.train_a2c`) on ``env``.

    Iteration i draws ``config.batch_size`` switching bandits from the stateless seed
    [config.seed, i] and takes one Adam step on the A2C loss (see :mod:`metalearn_lib.bandits.rl2`);
    the agent reads [onehot(a_{t−1}), r_{t−1}, t/n], as chapter 5's, so stationary and switching
    agents are interchangeable on either task distribution.

    Args:
        env: the :class:`SwitchingBanditTrials`.
        config: the recipe; default :data:`SWITCHING_RL2_CONFIG`.
        num_iterations: ≥ 1.
        progress: show a progress bar.
        iterations_per_call: iterations per compiled call.
    """
    if not isinstance(env, SwitchingBanditTrials):
        raise TypeError(f"env must be a SwitchingBanditTrials, got {type(env).__name__}")
    config = SWITCHING_RL2_CONFIG if config is None else config
    extra = {"num_arms": env.num_arms, "num_pulls": env.num_pulls, "switch_probability": env.switch_probability}
    return train_a2c(env, config, num_iterations=check_int("num_iterations", num_iterations), progress=progress,
                     iterations_per_call=iterations_per_call, desc=f"RL² switching h={env.switch_probability:g}",
                     extra=extra)


def switching_rl2_path() -> Path:
    """Path of the shipped weights ``weights/rl2_switching_k2_n100.npz`` (it may not exist yet)."""
    return Path(str(resources.files(_WEIGHTS_PACKAGE) / "weights" / f"{_WEIGHTS_NAME}.npz"))


def switching_rl2_info() -> dict[str, Any]:
    """The JSON record beside the shipped switching agent: command, seed, configuration, switch
    probability, wall time and evaluation.

    Raises:
        FileNotFoundError: the agent has not been trained and shipped.
    """
    path = switching_rl2_path().with_suffix(".json")
    if not path.exists():
        raise FileNotFoundError(f"no shipped switching RL² agent at {path} (train it with "
                                "benchmarks/applications_bandits.py --train-switching)")
    return json.loads(path.read_text(encoding="utf-8"))


def load_switching_rl2(*, greedy: bool = False, seed: int = 0) -> RL2Agent:
    """The shipped RL² agent trained on switching bandits (k = 2, n = 100, hazard in its record).

    Raises:
        FileNotFoundError: the agent has not been trained and shipped.
    """
    path = switching_rl2_path()
    if not path.exists():
        raise FileNotFoundError(f"no shipped switching RL² agent at {path} (train it with "
                                "benchmarks/applications_bandits.py --train-switching)")
    return RL2Agent.load(path, greedy=greedy, seed=seed)
