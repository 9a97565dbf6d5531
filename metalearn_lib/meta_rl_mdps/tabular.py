"""Random tabular MDPs — the task distribution of the RL² paper's second experiment (Duan et al.
2016, section 4.2 and Table 2) — batched for training and behind Gymnasium's API.

An MDP has ``num_states`` S = 10 states and ``num_actions`` A = 5 actions. It is drawn as ::

    μ(s, a) ~ N(1, 1)                    (the mean reward of action a in state s),
    P(· | s, a) ~ Dirichlet(1, …, 1)     (the next-state distribution, uniform on the simplex),

and played in episodes of ``episode_length`` L = 10 steps, each starting in state 0; taking a in s
pays r ~ N(μ(s, a), 1) and moves to s' ~ P(· | s, a). A *trial* is ``num_episodes`` n episodes of
the same MDP, H = n·L steps; its score is the total reward (E[r] = 1 a step under the prior, so a
random policy scores 10·n on average). Every number is configurable.

Two views of the same thing:

* :class:`RandomTabularMDPs` — the task distribution as a :class:`metalearn_lib.rl.StatefulEpisodicEnv`:
  ``sample_tasks`` draws a :class:`TabularMDP` batch statelessly from a seed, and ``transition``
  steps every MDP of the batch at once (TensorFlow ops only), so RL² trains on it with
  :func:`metalearn_lib.rl.rollout`. The observation is the one-hot of the current state.
* :class:`TabularMDPEnv` — one trial of one MDP as a Gymnasium ``Env`` (observation ``Discrete(S)``);
  it passes ``gymnasium.utils.env_checker.check_env``.

Imports the ground floor (:mod:`metalearn_lib.tasks`) and the rest of this chapter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import gymnasium
import numpy as np
import tensorflow as tf

from metalearn_lib.meta_rl_mdps.planning import check_model
from metalearn_lib.tasks import SeedLike, normal01, seed_pair, uniform01
from metalearn_lib.validation import check_int, check_number

__all__ = ["RandomTabularMDPs", "TabularMDP", "TabularMDPEnv"]

_ALG = "philox"


class TabularMDP(NamedTuple):
    """A batch of B tabular MDPs (tensors from :meth:`RandomTabularMDPs.sample_tasks`, or arrays).

    Attributes:
        reward_means: μ(s, a), ``[B, S, A]``.
        transitions: P(s' | s, a), ``[B, S, A, S]`` (each row sums to 1).
    """

    reward_means: Any
    transitions: Any


def _batch_size(x: tf.Tensor) -> int | tf.Tensor:
    """The static leading size of ``x`` where known, else the dynamic one."""
    return int(x.shape[0]) if x.shape[0] is not None else tf.shape(x)[0]


@dataclass(frozen=True)
class RandomTabularMDPs:
    """Random tabular MDPs μ(s, a) ~ N(m₀, s₀²), P(· | s, a) ~ Dirichlet(α, …, α), rewards
    r ~ N(μ(s, a), σ²), played for ``num_episodes`` episodes of ``episode_length`` steps from state 0.

    The defaults are the RL² paper's (S = 10, A = 5, L = 10, m₀ = s₀ = σ = α = 1); n varies
    (10, 25, 50, 75, 100 in its Table 2). As a :class:`metalearn_lib.rl.StatefulEpisodicEnv`:
    observations are one-hot states (``observation_size`` = S), the carried state is the current
    state index (``[B]`` int32), the horizon is a trial, H = n·L, and ``done`` is 1 on the last
    step of every episode, after which the MDP is back in state 0.

    Attributes:
        num_states: S ≥ 1.
        num_actions: A ≥ 1.
        episode_length: L ≥ 1, steps per episode.
        num_episodes: n ≥ 1, episodes per trial.
        reward_prior_mean: m₀, the prior mean of every μ(s, a).
        reward_prior_std: s₀ > 0, the prior standard deviation of every μ(s, a).
        reward_noise_std: σ > 0, the standard deviation of a reward around its mean.
        transition_concentration: α > 0, every parameter of the Dirichlet prior on P(· | s, a).

    Raises:
        ValueError, TypeError: a size < 1 or a standard deviation or concentration not > 0.
    """

    num_states: int = 10
    num_actions: int = 5
    episode_length: int = 10
    num_episodes: int = 10
    reward_prior_mean: float = 1.0
    reward_prior_std: float = 1.0
    reward_noise_std: float = 1.0
    transition_concentration: float = 1.0

    def __post_init__(self) -> None:
        for name in ("num_states", "num_actions", "episode_length", "num_episodes"):
            object.__setattr__(self, name, check_int(name, getattr(self, name)))
        if isinstance(self.reward_prior_mean, bool) or not isinstance(self.reward_prior_mean, (int, float)) \
                or not math.isfinite(self.reward_prior_mean):
            raise TypeError(f"reward_prior_mean must be a finite number, got {self.reward_prior_mean!r}")
        object.__setattr__(self, "reward_prior_mean", float(self.reward_prior_mean))
        for name in ("reward_prior_std", "reward_noise_std", "transition_concentration"):
            object.__setattr__(self, name, check_number(name, getattr(self, name)))

    # ---- the StatefulEpisodicEnv protocol ------------------------------------------------------
    @property
    def observation_size(self) -> int:
        """O = S: the observation is the one-hot of the current state."""
        return self.num_states

    @property
    def horizon(self) -> int:
        """T = n·L, the steps of a trial."""
        return self.episode_length * self.num_episodes

    def sample_tasks(self, num_tasks: int, seed: SeedLike, dtype: tf.DType = tf.float32) -> TabularMDP:
        """``num_tasks`` MDPs, statelessly from ``seed`` (the same seed, the same MDPs, in any process).

        μ = m₀ + s₀·z with z ~ N(0, 1); P(· | s, a) = g / Σ_s' g(s') with g(s') ~ Gamma(α, 1), which
        is Dirichlet(α, …, α). For α = 1, g = −log(1 − u) with u ~ U[0, 1) from raw Philox bits
        (exponential variables; identical in eager, graph and XLA code); other α use
        ``tf.random.stateless_gamma``.

        Args:
            num_tasks: B ≥ 1.
            seed: an int in [0, 2**63 − 1] or an int tensor of shape [2].
            dtype: float32 (for agents) or float64 (for planning).

        Returns:
            A :class:`TabularMDP` of tensors ``[B, S, A]`` and ``[B, S, A, S]``.
        """
        num_tasks = check_int("num_tasks", num_tasks)
        if dtype not in (tf.float32, tf.float64):
            raise ValueError(f"dtype must be tf.float32 or tf.float64, got {dtype!r}")
        S, A = self.num_states, self.num_actions
        seeds = tf.random.experimental.stateless_split(seed_pair(seed), num=2, alg=_ALG)
        # μ(s, a) = m₀ + s₀·z,  z ~ N(0, 1)
        reward_means = self.reward_prior_mean + self.reward_prior_std * normal01([num_tasks, S, A], seeds[0], dtype)
        if self.transition_concentration == 1.0:
            # g ~ Exp(1) = Gamma(1, 1): g = −log(1 − u)
            gammas = -tf.math.log1p(-uniform01([num_tasks, S, A, S], seeds[1], dtype))
        else:
            gammas = tf.random.stateless_gamma([num_tasks, S, A, S], seeds[1], self.transition_concentration,
                                               dtype=dtype)
        # P(· | s, a) = g / Σ_s' g(s') ~ Dirichlet(α, …, α); a row of zeros (probability ≈ 2^-24S) stays uniform
        totals = tf.reduce_sum(gammas, axis=-1, keepdims=True)
        transitions = tf.where(totals > 0, tf.math.divide_no_nan(gammas, totals), tf.constant(1.0 / S, dtype))
        return TabularMDP(reward_means=reward_means, transitions=transitions)

    def initial_state(self, tasks: TabularMDP) -> tf.Tensor:
        """``[B]`` int32 zeros: every trial starts in state 0."""
        return tf.zeros([_batch_size(tasks.reward_means)], tf.int32)

    def initial_observations(self, tasks: TabularMDP) -> tf.Tensor:
        """``[B, S]`` float32, the one-hot of state 0."""
        return tf.one_hot(self.initial_state(tasks), self.num_states, dtype=tf.float32)

    def mean_rewards(self, tasks: TabularMDP, state: tf.Tensor, actions: tf.Tensor) -> tf.Tensor:
        """E[r | s, a] = μ(s, a) of the step about to be taken, ``[B]`` — the trainer's
        Rao–Blackwellised rewards (``A2CConfig(expected_rewards=True)``)."""
        reward_means, _ = tasks
        index = tf.stack([tf.range(_batch_size(reward_means), dtype=tf.int32), tf.cast(state, tf.int32),
                          tf.cast(actions, tf.int32)], axis=1)
        return tf.gather_nd(reward_means, index)

    def oracle_values(self, tasks: TabularMDP, state: tf.Tensor, t: int | tf.Tensor) -> tf.Tensor:
        """The oracle's expected reward from step ``t`` of the trial to its end, ``[B]``:
        V*_k(s_t) + (n − 1 − e)·V*_0(0), k = t mod L the step in episode e = ⌊t / L⌋ and V* the true
        MDP's finite-horizon values (value iteration, in TensorFlow). The trainer's task-aware baseline
        (``A2CConfig(task_baseline=True)``): it knows the MDP it drew, the agent does not."""
        reward_means, transitions = tasks
        length = self.episode_length
        v = tf.zeros_like(reward_means[..., 0])  # V_L = 0, [B, S]
        backwards = [v]
        for _ in range(length):
            # Q_h(s, a) = μ(s, a) + Σ_s' P(s' | s, a) V_{h+1}(s'),  V_h = max_a Q_h
            v = tf.reduce_max(reward_means + tf.einsum("bsat,bt->bsa", transitions, v), axis=-1)
            backwards.append(v)
        table = tf.stack(backwards[::-1], axis=1)  # [B, L + 1, S], table[:, h] = V_h
        t = tf.cast(t, tf.int32)
        step, episode = t % length, t // length
        current = tf.gather(tf.gather(table, step, axis=1), tf.cast(state, tf.int32), batch_dims=1)  # V_k(s_t)
        remaining = tf.cast(self.num_episodes - 1 - episode, reward_means.dtype)
        return current + remaining * table[:, 0, 0]

    def transition(self, tasks: TabularMDP, state: tf.Tensor, actions: tf.Tensor, t: int | tf.Tensor,
                   seed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
        """Take ``actions [B]`` (int32) in states ``state [B]`` at step ``t`` of the trial.

        r = μ(s, a) + σ·z with z ~ N(0, 1); s' by inversion, s' = #{j : F(j) ≤ u} with
        F(j) = Σ_{i ≤ j} P(i | s, a) and u ~ U[0, 1); done = 1 where (t + 1) mod L = 0, and there
        the next state is 0 (the next episode's start). Randomness only from ``seed``.

        Returns:
            ``(next_state [B] int32, rewards [B] (the tasks' dtype), observations [B, S] float32,
            done [B] float32)``.
        """
        reward_means, transitions = tasks
        dtype = reward_means.dtype
        batch = _batch_size(reward_means)
        state = tf.cast(state, tf.int32)
        actions = tf.cast(actions, tf.int32)
        index = tf.stack([tf.range(batch, dtype=tf.int32), state, actions], axis=1)
        seeds = tf.random.experimental.stateless_split(seed_pair(seed), num=2, alg=_ALG)
        # r = μ(s, a) + σ·z
        rewards = tf.gather_nd(reward_means, index) + self.reward_noise_std * normal01([batch], seeds[0], dtype)
        # s' = #{j : F(j) ≤ u·F(S − 1)},  F the CDF of P(· | s, a)
        cdf = tf.cumsum(tf.gather_nd(transitions, index), axis=-1)
        u = uniform01([batch], seeds[1], dtype)[:, tf.newaxis] * cdf[:, -1:]
        sampled = tf.minimum(tf.reduce_sum(tf.cast(cdf <= u, tf.int32), axis=-1), self.num_states - 1)
        # done = 1 on the last step of an episode: (t + 1) mod L = 0
        episode_over = tf.equal(tf.math.floormod(tf.cast(t, tf.int32) + 1, self.episode_length), 0)
        next_state = tf.where(episode_over, tf.zeros_like(sampled), sampled)
        done = tf.fill([batch], tf.cast(episode_over, tf.float32))
        return next_state, rewards, tf.one_hot(next_state, self.num_states, dtype=tf.float32), done


class TabularMDPEnv(gymnasium.Env):
    """One trial of one random tabular MDP (:class:`RandomTabularMDPs`) as a Gymnasium environment.

    * action: ``Discrete(A)``;
    * observation: the current state, ``Discrete(S)`` — the convention of Gymnasium's tabular
      environments (FrozenLake, Taxi), and what a tabular learner indexes its tables with
      (``gymnasium.spaces.utils.flatten(env.observation_space, s)`` gives the one-hot that the
      batched environment and the RL² agent use);
    * reward: r ~ N(μ(s, a), σ²);
    * a Gymnasium episode is a whole trial of n·L steps (``terminated`` after the last one): the
      MDP stays the same for its n inner episodes, and after each of them the state returns to 0
      with ``info["episode_done"] = True``. Keeping the trial in one Gymnasium episode is what
      lets an agent carry what it learnt from one inner episode to the next.

    ``reset(seed=s)`` draws a new MDP from Gymnasium's seeded generator, or plays
    ``options={"mdp": (reward_means [S, A], transitions [S, A, S])}``; ``info`` carries the step
    of the trial ``t``, the inner ``episode`` and ``step``, and after a step ``reward_mean``
    = μ(s, a).

    Args:
        num_states, num_actions, episode_length, num_episodes, and the priors: as
            :class:`RandomTabularMDPs`.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, num_states: int = 10, num_actions: int = 5, episode_length: int = 10,
                 num_episodes: int = 10, **priors: float) -> None:
        super().__init__()
        self.distribution = RandomTabularMDPs(num_states, num_actions, episode_length, num_episodes, **priors)
        self.action_space = gymnasium.spaces.Discrete(num_actions)
        self.observation_space = gymnasium.spaces.Discrete(num_states)
        self.reward_means = np.zeros((num_states, num_actions))
        self.transitions = np.full((num_states, num_actions, num_states), 1.0 / num_states)
        self.state = 0
        self.t = 0

    def _info(self) -> dict[str, Any]:
        length = self.distribution.episode_length
        return {"t": self.t, "episode": self.t // length, "step": self.t % length, "state": self.state}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """Start a trial in state 0 with a new MDP (or ``options["mdp"]``)."""
        super().reset(seed=seed)
        d = self.distribution
        S, A = d.num_states, d.num_actions
        if options is not None and "mdp" in options:
            reward_means, transitions = check_model(*options["mdp"])
            if reward_means.shape != (S, A):
                raise ValueError(f"options['mdp'] must be (reward_means [{S}, {A}], transitions [{S}, {A}, {S}]), "
                                 f"got shapes {reward_means.shape} and {transitions.shape}")
            self.reward_means = reward_means
            self.transitions = transitions / transitions.sum(axis=-1, keepdims=True)  # exact sums for choice()
        else:
            self.reward_means = d.reward_prior_mean + d.reward_prior_std * self.np_random.standard_normal((S, A))
            self.transitions = self.np_random.dirichlet(np.full(S, d.transition_concentration), size=(S, A))
        self.state = 0
        self.t = 0
        return self.state, self._info()

    def step(self, action: Any) -> tuple[int, float, bool, bool, dict[str, Any]]:
        """Take ``action`` in the current state: r ~ N(μ(s, a), σ²), s' ~ P(· | s, a) (0 after an episode)."""
        if not self.action_space.contains(action):
            raise ValueError(f"action must be an int in [0, {self.distribution.num_actions - 1}], got {action!r}")
        d = self.distribution
        if self.t >= d.horizon:
            raise RuntimeError("the trial is over: call reset() first")
        s, a = self.state, int(action)
        reward = float(self.reward_means[s, a] + d.reward_noise_std * self.np_random.standard_normal())
        next_state = int(self.np_random.choice(d.num_states, p=self.transitions[s, a]))
        self.t += 1
        episode_done = self.t % d.episode_length == 0
        self.state = 0 if episode_done else next_state
        info = self._info()
        info.update(episode_done=episode_done, reward_mean=float(self.reward_means[s, a]))
        return self.state, reward, self.t >= d.horizon, False, info
