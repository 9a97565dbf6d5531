"""The agents of chapter 7's explorer (:func:`~metalearn_lib.widgets.meta_rl_mdps.gridworld_explorer`).

An agent follows a small protocol, :class:`GridworldAgent`: ``reset()`` before a trial and ``act(history) ->
action`` with the :class:`History` of the actions and rewards so far; :func:`play_agent` plays one trial of a
goal on Gymnasium's :class:`~metalearn_lib.meta_rl_mdps.GridworldEnv`. The adapters play exactly as the
library's batched players with the same seeds:

* :func:`bayes_optimal_agent` — the exact Bayes-optimal policy (``GridworldBayesOptimal.action``);
* :func:`posterior_sampling_agent` — as ``play_posterior_sampling(env, [goal], seed)``;
* :func:`recurrent_agent` — an RL² actor-critic, as ``play_trial(params, env, [goal], seed_pair(seed), …)``.

Nothing here trains an agent.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
import tensorflow as tf

from metalearn_lib.meta_rl_mdps import (
    Gridworld,
    GridworldEnv,
    belief_state_after,
    belief_update,
    gridworld_bayes_optimal,
    prior_belief,
    reached_cells,
)
from metalearn_lib.rl import agent_inputs, as_actor_critic_params, derive_seed, infer_done_flag, sample_actions
from metalearn_lib.rl.networks import gru_step
from metalearn_lib.tasks import seed_pair, uniform01
from metalearn_lib.validation import check_int

__all__ = [
    "AgentTrial",
    "GridworldAgent",
    "History",
    "bayes_optimal_agent",
    "play_agent",
    "posterior_sampling_agent",
    "recurrent_agent",
]


def check_gridworld(env: Any) -> Gridworld:
    """``env`` if it is a :class:`~metalearn_lib.meta_rl_mdps.Gridworld`, else ``TypeError``."""
    if not isinstance(env, Gridworld):
        raise TypeError(f"env must be a Gridworld, got {type(env).__name__}")
    return env


class History(NamedTuple):
    """What an agent has seen of a trial: the actions it took and the rewards they paid, ``[t]`` each."""

    actions: tuple[int, ...] = ()
    rewards: tuple[float, ...] = ()


@runtime_checkable
class GridworldAgent(Protocol):
    """An agent the explorer can play: ``reset()`` starts a trial, ``act(history)`` picks the action of step t
    = ``len(history.actions)`` (an int in 0 … 4: stay, up, right, down, left)."""

    def reset(self) -> None: ...

    def act(self, history: History) -> int: ...


class _BayesOptimalAgent:
    def __init__(self, env: Gridworld) -> None:
        self.env = check_gridworld(env)
        self.solver = gridworld_bayes_optimal(env)

    def reset(self) -> None:
        """Nothing to forget: the action is a function of the history."""

    def act(self, history: History) -> int:
        return self.solver.action(belief_state_after(self.env, history.actions, history.rewards))

    def __repr__(self) -> str:
        return "bayes_optimal_agent()"


def bayes_optimal_agent(env: Gridworld) -> GridworldAgent:
    """The exact Bayes-optimal policy (:meth:`~metalearn_lib.meta_rl_mdps.GridworldBayesOptimal.action` of the
    belief state the history leaves): its returns per goal are ``gridworld_bayes_optimal(env).returns_by_goal()``."""
    return _BayesOptimalAgent(env)


class _PosteriorSamplingAgent:
    """Posterior sampling over goals, step by step as :func:`~metalearn_lib.meta_rl_mdps.play_posterior_sampling`
    (the same draws for the same seed): ĝ ~ b at each episode's start (seed tag 2t), re-drawn when refuted
    (tag 2t + 1), the action the first of a shortest path to ĝ."""

    def __init__(self, env: Gridworld, seed: int) -> None:
        self.env = check_gridworld(env)
        self.seed = check_int("seed", seed, 0)
        self._pair = seed_pair(self.seed)
        self.reset()

    def _draw(self, tag: int) -> int:
        """ĝ = #{c : F(c) ≤ u·F(N² − 1)}, F the cumulative belief, u ~ U[0, 1) from ``derive_seed(seed, tag)``."""
        cdf = tf.cumsum(self._belief, axis=1)
        u = uniform01([1], derive_seed(self._pair, tag), tf.float32)[:, tf.newaxis] * cdf[:, -1:]
        return min(int(tf.reduce_sum(tf.cast(cdf <= u, tf.int32))), self.env.num_cells - 1)

    def reset(self) -> None:
        self._belief = prior_belief(self.env, 1)
        self._seen = History()
        self.target = self._draw(0)

    def act(self, history: History) -> int:
        env, t = self.env, len(history.actions)
        if tuple(history.actions[:len(self._seen.actions)]) != self._seen.actions:
            self.reset()  # not the trial it was playing: start again from this history
        cells = reached_cells(env, np.asarray(history.actions, np.int64))
        for j in range(len(self._seen.actions), t):
            self._belief = belief_update(self._belief, [int(cells[j])], [float(history.rewards[j])])
            if float(self._belief[0, self.target]) <= 0.0:
                self.target = self._draw(2 * j + 1)
            if (j + 1) % env.episode_length == 0 and j + 1 < env.horizon:
                self.target = self._draw(2 * (j + 1))
        self._seen = History(tuple(int(a) for a in history.actions), tuple(history.rewards))
        position = env.start_cell if t % env.episode_length == 0 else int(cells[t - 1])
        return int(env.toward_actions[position, self.target])

    def __repr__(self) -> str:
        return f"posterior_sampling_agent(seed={self.seed})"


def posterior_sampling_agent(env: Gridworld, seed: int = 0) -> GridworldAgent:
    """Posterior sampling over goals: commit to one guess ĝ drawn from the belief per episode (a new one when
    ĝ is ruled out), walk straight to it; plays as ``play_posterior_sampling(env, [goal], seed)``."""
    return _PosteriorSamplingAgent(env, seed)


class _RecurrentAgent:
    """An RL² actor-critic, fed x_t = [o_t, onehot(a_{t−1}), r_{t−1}, (d_{t−1}), t/T] one step a call, its hidden
    state kept between calls, as in :func:`metalearn_lib.rl.play_trial` with the seed pair of ``seed``."""

    def __init__(self, params: Any, env: Gridworld, greedy: bool, seed: int) -> None:
        self.env = check_gridworld(env)
        self.params = as_actor_critic_params(params)
        self.use_done_flag = infer_done_flag(self.params, env)
        self.greedy = bool(greedy)
        self.seed = check_int("seed", seed, 0)
        self._pair = seed_pair(self.seed)
        self.reset()

    def reset(self) -> None:
        self._h = tf.zeros([1, self.params.hidden_size], self.params.w_x.dtype)
        self._seen = History()
        self.probabilities: np.ndarray | None = None  #: π(· | h_t) of the last action chosen

    def act(self, history: History) -> int:
        env, dtype, t = self.env, self.params.w_x.dtype, len(history.actions)
        consumed = len(self._seen.actions) + (self.probabilities is not None)  # inputs x_0 … x_{consumed−1} read
        if t < consumed or tuple(history.actions[:len(self._seen.actions)]) != self._seen.actions:
            self.reset()
            consumed = 0
        cells = reached_cells(env, np.asarray(history.actions, np.int64))
        for j in range(consumed, t + 1):
            cell = env.start_cell if j % env.episode_length == 0 else int(cells[j - 1])
            x = agent_inputs(env.observe(tf.constant([cell])), tf.constant([int(history.actions[j - 1]) if j else -1]),
                             tf.constant([float(history.rewards[j - 1]) if j else 0.0], dtype),
                             tf.constant([float(j > 0 and j % env.episode_length == 0)], dtype), j, env.horizon,
                             env.num_actions, use_done_flag=self.use_done_flag, dtype=dtype)
            self._h, logits, _ = gru_step(self.params, self._h, x)
        self._seen = History(tuple(int(a) for a in history.actions), tuple(history.rewards))
        self.probabilities = tf.nn.softmax(tf.cast(logits, tf.float32))[0].numpy()
        if self.greedy:
            return int(tf.argmax(logits[0]))
        return int(sample_actions(logits, derive_seed(self._pair, 2 * t + 1))[0])

    def __repr__(self) -> str:
        return f"recurrent_agent(greedy={self.greedy}, seed={self.seed})"


def recurrent_agent(params: Any, env: Gridworld, *, greedy: bool = True, seed: int = 0) -> GridworldAgent:
    """An RL² actor-critic (:class:`~metalearn_lib.rl.ActorCriticParams`, e.g. trained with
    :func:`~metalearn_lib.rl.train_a2c` on ``env``) as an explorer agent: greedy (argmax π) or sampling
    (the same draws as ``play_trial(params, env, [goal], seed_pair(seed), greedy=False, ...)``). Whether it
    reads the done flag follows from its input size.

    Raises:
        ValueError: ``params`` whose input or action sizes do not fit ``env``.
    """
    return _RecurrentAgent(params, env, greedy, seed)


class AgentTrial(NamedTuple):
    """One trial an agent played (:func:`play_agent`).

    Attributes:
        actions, rewards: ``[t]`` of the steps it played (all T unless it failed).
        failure: ``None``, or ``(step, message)``: at that step the agent could not act.
    """

    actions: tuple[int, ...]
    rewards: tuple[float, ...]
    failure: tuple[int, str] | None = None

    @property
    def total_reward(self) -> float:
        """The trial's return so far, Σ rewards."""
        return float(sum(self.rewards))


def play_agent(agent: GridworldAgent, env: Gridworld, goal: int) -> AgentTrial:
    """Let ``agent`` play one trial of ``goal`` on Gymnasium's :class:`~metalearn_lib.meta_rl_mdps.GridworldEnv`,
    after ``agent.reset()``. An action that raises or is not an int in 0 … 4 stops the trial, said in
    :attr:`AgentTrial.failure`."""
    env = check_gridworld(env)
    gym = GridworldEnv(env.grid_size, env.episode_length, env.num_episodes, env.excluded_block, env.observation)
    gym.reset(options={"goal": tuple(int(v) for v in env.coordinates(goal))})
    actions: list[int] = []
    rewards: list[float] = []
    try:
        agent.reset()
    except Exception as error:  # any failure of a learner's agent is shown on its panel, not raised
        return AgentTrial((), (), (0, f"reset() raised {type(error).__name__}: {error}"))
    for t in range(env.horizon):
        try:
            action = agent.act(History(tuple(actions), tuple(rewards)))
        except Exception as error:
            return AgentTrial(tuple(actions), tuple(rewards), (t, f"{type(error).__name__}: {error}"))
        if isinstance(action, bool) or not isinstance(action, int | np.integer) or not 0 <= action < env.num_actions:
            return AgentTrial(tuple(actions), tuple(rewards), (t, f"it returned {action!r}, not an action 0 … 4"))
        _, reward, _, _, _ = gym.step(int(action))
        actions.append(int(action))
        rewards.append(float(reward))
    return AgentTrial(tuple(actions), tuple(rewards))
