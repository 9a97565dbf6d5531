"""Bernoulli bandits: the task distribution of chapter 5, one bandit or thousands at once.

A *bandit* has ``num_arms`` arms; pulling arm a pays 1 with probability p_a and 0 otherwise.
The task distribution draws the arm means independently, p_a ~ U[low, high] (U[0, 1] as in
Duan et al. 2016, the RL² paper). A *trial* is ``num_pulls`` pulls of one bandit; its score is the
total reward, and its regret is n·max_a p_a − total reward.

Three views of the same thing:

* :class:`BernoulliBandits` — the task distribution; ``sample_means`` draws a ``[num_bandits,
  num_arms]`` tensor of means, statelessly from a seed (as :mod:`metalearn_lib.tasks` does).
* :func:`pull` — one pull of every bandit of a batch, TensorFlow ops only, so whole batched
  trials run inside ``tf.function`` (training and evaluation of the RL² agent, the baselines).
* :class:`BernoulliBanditEnv` — one bandit behind Gymnasium's ``Env`` API (``reset(seed=)``,
  ``step``, spaces), for readers who know Gymnasium; it passes
  ``gymnasium.utils.env_checker.check_env``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium
import numpy as np
import tensorflow as tf

from metalearn_lib.tasks import SeedLike, seed_pair, uniform01
from metalearn_lib.validation import check_int, check_number

__all__ = ["BernoulliBanditEnv", "BernoulliBandits", "expected_max_mean", "pull"]


@dataclass(frozen=True)
class BernoulliBandits:
    """Bernoulli bandits with independent arm means p_a ~ U[low, high].

    Attributes:
        num_arms: k ≥ 1.
        low, high: the range of the means, 0 ≤ low < high ≤ 1.
    """

    num_arms: int
    low: float = 0.0
    high: float = 1.0

    def __post_init__(self) -> None:
        check_int("num_arms", self.num_arms)
        low = check_number("low", self.low, positive=False)
        high = check_number("high", self.high)
        if not 0.0 <= low < high <= 1.0:
            raise ValueError(f"low and high must satisfy 0 <= low < high <= 1, got low={low}, high={high}")

    def sample_means(self, num_bandits: int, seed: SeedLike, dtype: tf.DType = tf.float32) -> tf.Tensor:
        """p ~ U[low, high]^k for each of ``num_bandits`` bandits, ``[num_bandits, num_arms]``.

        Stateless: the same ``seed`` (an int, or an int tensor of shape [2] inside compiled
        loops) gives the same means in any process, eagerly or in ``tf.function``.

        Raises:
            ValueError, TypeError: ``num_bandits`` < 1 or a malformed seed.
        """
        num_bandits = check_int("num_bandits", num_bandits)
        u = uniform01([num_bandits, self.num_arms], seed_pair(seed), tf.float64 if dtype == tf.float64
                      else tf.float32)
        return tf.cast(self.low + (self.high - self.low) * u, dtype)

    def expected_best(self, num_pulls: int) -> float:
        """n · E[max_a p_a]: the expected total reward of an oracle that knows the best arm."""
        num_pulls = check_int("num_pulls", num_pulls)
        return num_pulls * expected_max_mean(self.num_arms, self.low, self.high)


def expected_max_mean(num_arms: int, low: float = 0.0, high: float = 1.0) -> float:
    """E[max of k independent U[low, high]] = low + (high − low)·k/(k + 1)."""
    num_arms = check_int("num_arms", num_arms)
    return float(low + (high - low) * num_arms / (num_arms + 1))


def pull(means: tf.Tensor, actions: tf.Tensor, seed: SeedLike) -> tf.Tensor:
    """Pull arm ``actions[b]`` of every bandit b: reward r_b = 1[u_b < p_{b, a_b}], u_b ~ U[0, 1).

    Args:
        means: ``[B, k]`` arm means.
        actions: ``[B]`` integer arm indices in [0, k).
        seed: a stateless seed (int, or int tensor of shape [2]); use a new one for each pull,
            e.g. ``tf.stack([seed, t])``.

    Returns:
        ``[B]`` rewards, 0.0 or 1.0, in the dtype of ``means``.
    """
    means = tf.convert_to_tensor(means)
    actions = tf.convert_to_tensor(actions)
    if means.shape.rank != 2:
        raise ValueError(f"means must have shape [num_bandits, num_arms], got {means.shape}")
    if not actions.dtype.is_integer or actions.shape.rank != 1:
        raise ValueError(f"actions must be an integer tensor of shape [num_bandits], got {actions.dtype.name} "
                         f"{actions.shape}")
    chosen = tf.gather(means, actions, batch_dims=1)  # p_{b, a_b}
    cdtype = tf.float64 if means.dtype == tf.float64 else tf.float32
    u = uniform01([int(means.shape[0]) if means.shape[0] is not None else tf.shape(means)[0]], seed_pair(seed), cdtype)
    return tf.cast(tf.cast(u, means.dtype) < chosen, means.dtype)


class BernoulliBanditEnv(gymnasium.Env):
    """One Bernoulli bandit trial as a Gymnasium environment.

    * action: the arm, ``Discrete(num_arms)``;
    * observation: the fraction of the trial used so far, t / n, a ``Box(0, 1, (1,))`` — a bandit
      has no state, and an agent's memory of past pulls is its own business (RL² keeps it in
      its recurrent state);
    * reward: 1.0 or 0.0; the episode ends (``terminated``) after ``num_pulls`` pulls.

    ``reset(seed=s)`` draws new means p ~ U[0, 1]^k from Gymnasium's seeded generator, or uses
    ``options={"means": [...]}``; ``info`` carries the means, the best arm and the running regret
    of each pull, ``info["regret"]`` = max p − p_action.

    Args:
        num_arms: k ≥ 1.
        num_pulls: n ≥ 1, the trial's length.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, num_arms: int = 5, num_pulls: int = 10) -> None:
        super().__init__()
        self.num_arms = check_int("num_arms", num_arms)
        self.num_pulls = check_int("num_pulls", num_pulls)
        self.action_space = gymnasium.spaces.Discrete(self.num_arms)
        self.observation_space = gymnasium.spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)
        self.means = np.full(self.num_arms, 0.5)
        self.t = 0

    def _observation(self) -> np.ndarray:
        return np.array([self.t / self.num_pulls], dtype=np.float32)

    def _info(self) -> dict[str, Any]:
        return {"means": self.means.copy(), "best_arm": int(np.argmax(self.means)), "t": self.t}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a trial: new means (or ``options["means"]``), t = 0."""
        super().reset(seed=seed)
        if options is not None and "means" in options:
            means = np.asarray(options["means"], dtype=np.float64)
            if means.shape != (self.num_arms,) or not np.all((means >= 0) & (means <= 1)):
                raise ValueError(f"options['means'] must be {self.num_arms} numbers in [0, 1], got {means}")
            self.means = means
        else:
            self.means = self.np_random.uniform(0.0, 1.0, size=self.num_arms)
        self.t = 0
        return self._observation(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Pull arm ``action``: reward 1 with probability p_action."""
        if not self.action_space.contains(action):
            raise ValueError(f"action must be an int in [0, {self.num_arms - 1}], got {action!r}")
        if self.t >= self.num_pulls:
            raise RuntimeError("the trial is over: call reset() first")
        reward = float(self.np_random.random() < self.means[int(action)])
        self.t += 1
        info = self._info()
        info["regret"] = float(self.means.max() - self.means[int(action)])
        return self._observation(), reward, self.t >= self.num_pulls, False, info
