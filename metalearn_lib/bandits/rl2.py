"""RL² on Bernoulli bandits: a recurrent agent that has learned how to explore (Duan et al. 2016).

RL² ("fast reinforcement learning via slow reinforcement learning") trains an ordinary policy
with an ordinary RL algorithm — here advantage actor-critic (A2C) with generalised advantage
estimation — on a *distribution* of tasks. Its policy is a recurrent network, and the hidden
state is not reset between the pulls of a trial, so whatever the agent needs to know about the
bandit in front of it (which arms paid, how often) must be stored in its activations. The
outer, "slow" learning (gradient descent on θ over thousands of bandits) produces an inner,
"fast" learner (the GRU's dynamics) that explores and exploits each new bandit within n pulls.

Set-up (the paper's section 4.1):

* a *trial* is n pulls of one bandit with k arms, means p ~ U[0, 1]^k
  (:class:`metalearn_lib.bandits.env.BernoulliBandits`); its score is the total reward;
* at pull t the agent reads x_t = [onehot(a_{t−1}), r_{t−1}, t / n] (zeros for the previous
  action and reward at t = 0; optionally a done flag, which a one-episode trial does not need)
  and outputs π(· | h_t) over the arms and a value V(h_t) (the GRU actor-critic of
  :mod:`metalearn_lib.rl`);
* training maximises the expected total reward of a trial with A2C:
  Â from GAE(γ, λ) (γ = 0.99, λ = 0.3 as in the RL² reproductions for n = 10; γ = 1, λ = 0.95
  for n = 100, see below), loss
  −mean(Â log π(a)) + c_v · mean(½(V − R)²) − c_H · mean(H(π)), the entropy weight c_H
  annealed linearly to 0, Adam; a batch of B bandits is one tensor and the whole rollout,
  loss and update run inside one compiled ``tf.function`` (:func:`metalearn_lib.rl.train_a2c`).

Published results (Duan et al. 2016, table 1, RL² column) are :data:`PUBLISHED_RL2`. The random
policy scores n/2; an oracle that always pulls the best arm scores n·E[max p] = n·k/(k + 1).
What the shipped agents measure, with the command, seed, recipe and wall time of each, lives in
``benchmarks/results/`` (and the JSON beside each file in ``weights/``, see
:func:`pretrained_rl2_info`); the README quotes those tables. The recipes are
:data:`RL2_CONFIG` (n = 10) and the n = 100 recipe of ``benchmarks/train_rl2.py``, each an
:class:`~metalearn_lib.rl.A2CConfig` made with ``dataclasses.replace``; why the n = 100 recipe
differs (γ = 1, λ = 0.95, standardised advantages, the critic in units of 40, returns from the
pulled arms' means) is measured by ``benchmarks/rl2_recipes.py``.

Main entry points: :func:`train_rl2` (returns an :class:`RL2Result`), :func:`evaluate_rl2`
(mean ± 95 % CI over many bandits, regret, the full trajectories), :class:`RL2Agent` (one bandit
pull by pull, for widgets; ``save``/``load``), :func:`load_pretrained_rl2` (the weights shipped
in ``metalearn_lib/bandits/weights``, trained by ``benchmarks/train_rl2.py``).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from metalearn_lib.bandits.env import BernoulliBandits, pull
from metalearn_lib.optim import adam_init
from metalearn_lib.rl import (
    A2CConfig,
    ActorCriticParams,
    Checkpoint,
    actor_critic_step,
    agent_input_size,
    agent_inputs,
    as_actor_critic_params,
    derive_seed,
    evaluate_agent,
    load_checkpoint,
    sample_actions,
    save_checkpoint,
    train_a2c,
)
from metalearn_lib.tasks import SeedLike
from metalearn_lib.validation import check_int

__all__ = [
    "PUBLISHED_RL2",
    "RL2_CONFIG",
    "BanditTrials",
    "RL2Agent",
    "RL2Evaluation",
    "RL2Result",
    "evaluate_rl2",
    "load_pretrained_rl2",
    "pretrained_rl2_info",
    "pretrained_rl2_path",
    "train_rl2",
]

#: Duan et al. (2016), table 1, RL² column: (num_pulls, num_arms) → average total reward.
PUBLISHED_RL2: dict[tuple[int, int], float] = {(10, 5): 6.7, (10, 10): 6.7, (100, 5): 78.7, (100, 10): 83.5}

#: The recipe :func:`train_rl2` starts from (the n = 10 agents'): a GRU of 128 units, 256 bandits
#: a batch, Adam 3e-3, γ = 0.99, GAE λ = 0.3, the entropy bonus 0.03 annealed linearly to 0 over
#: the first run. Change a field with ``train_rl2(..., hidden_size=32)`` or pass another
#: ``dataclasses.replace(RL2_CONFIG, ...)``.
RL2_CONFIG = A2CConfig(hidden_size=128, batch_size=256, learning_rate=3e-3, gamma=0.99, lam=0.3, value_coef=0.5,
                       value_scale=1.0, entropy_coef=0.03, entropy_coef_final=0.0, entropy_anneal_iterations=None,
                       max_grad_norm=1.0)

_WEIGHTS_PACKAGE = "metalearn_lib.bandits"
_WEIGHTS_DIR = "weights"


# --------------------------------------------------------------------------------------------
# the environment, as the generic trainer sees it
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BanditTrials:
    """Trials of ``num_pulls`` pulls of Bernoulli bandits p ~ U[0, 1]^k, as a
    :class:`metalearn_lib.rl.BatchedEpisodicEnv`.

    A task is a bandit's means (``[B, k]``); there is no observation (``observation_size`` 0:
    the agent sees only its own actions and rewards); ``done`` is 1 at the last pull.
    """

    num_arms: int
    num_pulls: int

    def __post_init__(self) -> None:
        check_int("num_arms", self.num_arms)
        check_int("num_pulls", self.num_pulls)

    @property
    def num_actions(self) -> int:
        """A = k."""
        return self.num_arms

    @property
    def observation_size(self) -> int:
        """0: a bandit has no state."""
        return 0

    @property
    def horizon(self) -> int:
        """T = n."""
        return self.num_pulls

    def sample_tasks(self, num_tasks: int, seed: SeedLike) -> tf.Tensor:
        """Means ``[num_tasks, k]``, p ~ U[0, 1]^k (:meth:`BernoulliBandits.sample_means`)."""
        return BernoulliBandits(self.num_arms).sample_means(num_tasks, seed)

    def initial_observations(self, tasks: tf.Tensor) -> tf.Tensor:
        """``[B, 0]``."""
        return tf.zeros([tf.shape(tasks)[0], 0], tf.float32)

    def step(self, tasks: tf.Tensor, actions: tf.Tensor, t: int | tf.Tensor, seed: tf.Tensor
             ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """Pull ``actions`` (:func:`metalearn_lib.bandits.env.pull`); done = 1 at t = n − 1."""
        rewards = pull(tasks, actions, seed)
        done = tf.fill(tf.shape(rewards), tf.cast(tf.equal(t, self.num_pulls - 1), tf.float32))
        return rewards, tf.zeros([tf.shape(tasks)[0], 0], tf.float32), done

    def expected_rewards(self, tasks: tf.Tensor, actions: tf.Tensor) -> tf.Tensor:
        """E[r_t | a_t] = p_{a_t}: ``[B, T]`` means of the arms pulled (``actions [B, T]``)."""
        return tf.gather(tasks, actions, axis=1, batch_dims=1)


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RL2Result:
    """What :func:`train_rl2` returns.

    Attributes:
        params: the trained parameters of the GRU actor-critic.
        rewards: ``[num_iterations]`` mean total reward of the training batch's trials (policy
            sampled, entropy bonus on), per iteration.
        wall_s: seconds spent training (tracing and compiling included).
        iterations_per_s: ``num_iterations / wall_s``.
        config: the run's settings (num_arms, num_pulls, num_iterations and every
            :class:`metalearn_lib.rl.A2CConfig` field).
        entropies: ``[num_iterations]`` mean policy entropy (nats).
        checkpoint: the final training state, for ``train_rl2(resume=...)`` or
            :func:`metalearn_lib.rl.save_checkpoint`.
    """

    params: ActorCriticParams
    rewards: np.ndarray
    wall_s: float
    iterations_per_s: float
    config: dict[str, Any]
    entropies: np.ndarray = field(default_factory=lambda: np.zeros(0))
    checkpoint: Checkpoint | None = None


def train_rl2(
    num_arms: int = 5,
    num_pulls: int = 10,
    config: A2CConfig | None = None,
    *,
    num_iterations: int,
    iterations_per_call: int = 100,
    progress: bool = False,
    resume: RL2Result | Checkpoint | None = None,
    **overrides: Any,
) -> RL2Result:
    """Train an RL² agent on (n = ``num_pulls``, k = ``num_arms``) Bernoulli bandit trials.

    Iteration i samples ``config.batch_size`` bandits with the stateless seed [seed, i], plays one
    trial of each with the current policy, and takes one Adam step on the A2C loss (see the
    module docstring and :func:`metalearn_lib.rl.train_a2c`).

    Args:
        num_arms: k ≥ 1 (2 or more to be interesting).
        num_pulls: n ≥ 1.
        config: the recipe, an :class:`~metalearn_lib.rl.A2CConfig`; default :data:`RL2_CONFIG`.
        num_iterations: training iterations, ≥ 1.
        iterations_per_call: iterations per compiled call.
        progress: show a ``tqdm.auto`` progress bar.
        resume: continue a run (an :class:`RL2Result` or a checkpoint) for ``num_iterations``
            more; its configuration is used and ``config``/``overrides`` are ignored. Training
            N iterations and resuming for M gives bit-identical parameters to N + M at once.
        **overrides: fields of :class:`~metalearn_lib.rl.A2CConfig` to change in ``config``
            (``hidden_size=32, seed=3``, …), applied with ``dataclasses.replace``. With
            ``entropy_anneal_iterations=None`` (the default recipe's) the entropy bonus anneals
            over this run's ``num_iterations``; ``expected_rewards=True`` trains on
            E[r | bandit, arm] = p_arm instead of the sampled 0/1 reward (same objective, less
            noise; the agent still sees the sampled rewards).

    Returns:
        An :class:`RL2Result`.

    Raises:
        ValueError, TypeError: an argument out of range or of the wrong type (the message
            names it), an override that is not an A2CConfig field, or a ``resume`` state for
            other (k, n).
    """
    num_arms = check_int("num_arms", num_arms)
    num_pulls = check_int("num_pulls", num_pulls)
    num_iterations = check_int("num_iterations", num_iterations)
    env = BanditTrials(num_arms, num_pulls)
    extra = {"num_arms": num_arms, "num_pulls": num_pulls}
    checkpoint: Checkpoint | None
    if isinstance(resume, RL2Result):
        checkpoint = resume.checkpoint
        if checkpoint is None:
            raise ValueError("resume: this RL2Result carries no checkpoint")
    elif resume is None or isinstance(resume, Checkpoint):
        checkpoint = resume
    else:
        raise TypeError(f"resume must be an RL2Result, a Checkpoint or None, got {type(resume).__name__}")
    if checkpoint is not None:
        k, n = checkpoint.extra.get("num_arms"), checkpoint.extra.get("num_pulls")
        if (k, n) != (num_arms, num_pulls):
            raise ValueError(f"resume: the checkpoint was trained for num_arms={k}, num_pulls={n}, "
                             f"not num_arms={num_arms}, num_pulls={num_pulls}")
        config = checkpoint.config
    else:
        config = RL2_CONFIG if config is None else config
        if not isinstance(config, A2CConfig):
            raise TypeError(f"config must be an A2CConfig, got {type(config).__name__}")
        fields = {f.name for f in dataclasses.fields(A2CConfig)}
        unknown = sorted(set(overrides) - fields)
        if unknown:
            raise TypeError(f"train_rl2 got {', '.join(unknown)}: overrides must be A2CConfig fields "
                            f"({', '.join(sorted(fields))})")
        config = dataclasses.replace(config, **overrides)
    result = train_a2c(env, config, num_iterations=num_iterations, resume=checkpoint,
                       iterations_per_call=iterations_per_call, progress=progress,
                       desc=f"RL² k={num_arms} n={num_pulls}", extra=extra)
    total = result.checkpoint.iteration
    run_config = {**extra, "num_iterations": total, **result.checkpoint.config.to_dict()}
    return RL2Result(result.params, result.rewards, result.wall_s, result.iterations_per_s, run_config,
                     result.entropies, result.checkpoint)


# --------------------------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RL2Evaluation:
    """What :func:`evaluate_rl2` returns (B bandits, n pulls, k arms).

    Attributes:
        mean_reward: mean over bandits of the trial's total reward.
        ci95: 1.96 · std / √B (sample std, ddof = 1).
        regret: n·E[max p] − mean_reward, E[max p] = k/(k + 1).
        expected_best: n·E[max p], the oracle's expected total.
        totals: ``[B]`` total reward of each trial.
        actions: ``[B, n]`` arms pulled.
        rewards: ``[B, n]`` rewards, 0 or 1.
        means: ``[B, k]`` the bandits' arm means.
        probabilities: ``[B, n, k]`` the policy π(· | h_t) at each pull.
        values: ``[B, n]`` the critic's V(h_t).
        greedy: whether actions were the policy's arg-max.
    """

    mean_reward: float
    ci95: float
    regret: float
    expected_best: float
    totals: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    means: np.ndarray
    probabilities: np.ndarray
    values: np.ndarray
    greedy: bool


def _infer_done_flag(params: ActorCriticParams, num_arms: int) -> bool:
    inputs = params.input_size
    if inputs not in (agent_input_size(num_arms), agent_input_size(num_arms, use_done_flag=True)) \
            or params.num_actions != num_arms:
        raise ValueError(f"params do not fit num_arms={num_arms}: the network reads {inputs} inputs and has "
                         f"{params.num_actions} actions (expected {num_arms + 2} or {num_arms + 3} inputs, "
                         f"{num_arms} actions)")
    return inputs == agent_input_size(num_arms, use_done_flag=True)


def _as_params(params: Any) -> ActorCriticParams:
    if isinstance(params, (RL2Result, RL2Agent)):
        params = params.params
    if isinstance(params, (tf.Tensor, np.ndarray)) or not isinstance(params, (list, tuple)):
        raise TypeError(f"params must be the list of tensors of a trained agent, got {type(params).__name__}")
    return as_actor_critic_params([tf.convert_to_tensor(p, tf.float32) for p in params])


def evaluate_rl2(
    params: Any,
    num_arms: int,
    num_pulls: int,
    num_bandits: int = 1000,
    seed: int = 1_000_000,
    greedy: bool = False,
) -> RL2Evaluation:
    """Play one trial on each of ``num_bandits`` fresh bandits and report the total reward — the
    generic :func:`metalearn_lib.rl.evaluate_agent` on :class:`BanditTrials`, with bandit terms.

    The bandits are ``BernoulliBandits(num_arms).sample_means(num_bandits, seed)`` (the same
    bandits any other method evaluated with this ``seed`` faces); the agent's action at pull t
    is drawn with the stateless seed ``derive_seed(seed, 2t + 1)`` (or is the arg-max of π when
    ``greedy``), the reward with ``derive_seed(seed, 2t + 2)``.

    Args:
        params: trained parameters (or an :class:`RL2Result` / :class:`RL2Agent`).
        num_arms: k, as trained.
        num_pulls: n (any n ≥ 1; the agent reads t/n, so other lengths than trained are
            out of distribution).
        num_bandits: B ≥ 2.
        seed: int ≥ 0; keep it away from the training seed.
        greedy: take the most probable arm instead of sampling.

    Returns:
        An :class:`RL2Evaluation`.

    Raises:
        ValueError, TypeError: an argument out of range, or params for another k.
    """
    params = _as_params(params)
    num_arms = check_int("num_arms", num_arms)
    num_pulls = check_int("num_pulls", num_pulls)
    num_bandits = check_int("num_bandits", num_bandits, 2)
    seed = check_int("seed", seed, 0)
    if not isinstance(greedy, bool):
        raise TypeError(f"greedy must be a bool, got {type(greedy).__name__}")
    _infer_done_flag(params, num_arms)  # a clear error for params of another k
    bandits = BernoulliBandits(num_arms)
    means = bandits.sample_means(num_bandits, seed)
    trial = evaluate_agent(params, BanditTrials(num_arms, num_pulls), tasks=means, seed=seed, greedy=greedy)
    ro = trial.rollout
    best = bandits.expected_best(num_pulls)
    return RL2Evaluation(
        mean_reward=trial.mean_return, ci95=trial.ci95, regret=best - trial.mean_return, expected_best=best,
        totals=trial.returns, actions=ro.actions, rewards=ro.rewards, means=trial.tasks,
        probabilities=tf.nn.softmax(ro.logits, axis=-1).numpy(), values=ro.values, greedy=greedy)


# --------------------------------------------------------------------------------------------
# one bandit, pull by pull
# --------------------------------------------------------------------------------------------
class RL2Agent:
    """A trained RL² agent playing one bandit at a time, pull by pull (for widgets).

    ``reset()`` starts a trial (hidden state 0, t = 0); ``act(prev_action, prev_reward)`` feeds
    the previous pull's arm and reward (``None`` at the first pull) and returns the next arm.
    After each ``act``, :attr:`probabilities` holds π(· | h_t) and :attr:`value` V(h_t).

    Fed the same actions and rewards, the agent computes the same policy as
    :func:`evaluate_rl2`'s batched rollout (same network, same inputs).

    Args:
        params: the trained parameters (or an :class:`RL2Result`).
        num_arms: k.
        num_pulls: n, the trial length the agent counts time against.
        greedy: pick the most probable arm instead of sampling.
        seed: int ≥ 0, the seed of the agent's own action sampling (trial j, pull t uses
            ``derive_seed([seed, j], 2t + 1)``).
    """

    def __init__(self, params: Any, num_arms: int, num_pulls: int, *, greedy: bool = False, seed: int = 0) -> None:
        self.params = _as_params(params)
        self.num_arms = check_int("num_arms", num_arms)
        self.num_pulls = check_int("num_pulls", num_pulls)
        self.use_done_flag = _infer_done_flag(self.params, self.num_arms)
        if not isinstance(greedy, bool):
            raise TypeError(f"greedy must be a bool, got {type(greedy).__name__}")
        self.greedy = greedy
        self.seed = check_int("seed", seed, 0)
        self.hidden_size = self.params.hidden_size
        self.trial = -1
        self.reset()

    def reset(self) -> None:
        """Start a new trial: h = 0, t = 0."""
        self.trial += 1
        self.t = 0
        self.h = tf.zeros([1, self.hidden_size], tf.float32)
        self.probabilities = np.full(self.num_arms, 1.0 / self.num_arms)
        self.value = 0.0

    def act(self, prev_action: int | None = None, prev_reward: float | None = None) -> int:
        """The arm to pull now, given the previous pull's arm and reward (``None`` at t = 0).

        Raises:
            ValueError: an arm outside [0, k), a reward outside [0, 1], a missing previous pull
                after t = 0.
            RuntimeError: the trial's n pulls are done (call :meth:`reset`).
        """
        if self.t >= self.num_pulls:
            raise RuntimeError(f"the trial's {self.num_pulls} pulls are done: call reset() first")
        if self.t == 0:
            prev_a, prev_r = -1, 0.0
        else:
            if prev_action is None or prev_reward is None:
                raise ValueError("prev_action and prev_reward are required after the first pull")
            prev_a = check_int("prev_action", prev_action, 0)
            if prev_a >= self.num_arms:
                raise ValueError(f"prev_action must be an int in [0, {self.num_arms - 1}], got {prev_a}")
            prev_r = float(prev_reward)
            if not 0.0 <= prev_r <= 1.0:
                raise ValueError(f"prev_reward must be a number in [0, 1], got {prev_reward}")
        x = agent_inputs(tf.zeros([1, 0]), tf.constant([prev_a]), tf.constant([prev_r]), tf.zeros([1]), self.t,
                         self.num_pulls, self.num_arms, use_done_flag=self.use_done_flag)
        self.h, logits, value = actor_critic_step(self.params, self.h, x)
        self.probabilities = tf.nn.softmax(logits, axis=-1)[0].numpy()
        self.value = float(value[0])
        if self.greedy:
            action = int(tf.argmax(logits[0]))
        else:
            seed = derive_seed(tf.constant([self.seed, self.trial], tf.int64), 2 * self.t + 1)
            action = int(sample_actions(logits, seed)[0])
        self.t += 1
        return action

    def play(self, means: Any, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Play a whole trial on a bandit with arm means ``means`` ([k]); rewards drawn with
        ``pull`` from ``derive_seed(seed, 2t + 2)`` (as :func:`evaluate_rl2` does for bandit 0).

        Returns:
            ``(actions [n], rewards [n])``.
        """
        means = tf.reshape(tf.convert_to_tensor(means, tf.float32), [1, -1])
        if means.shape[1] != self.num_arms:
            raise ValueError(f"means must have {self.num_arms} entries, got {means.shape[1]}")
        pair = tf.constant([check_int("seed", seed, 0), 0], tf.int64)
        self.reset()
        actions, rewards = [], []
        a, r = None, None
        for t in range(self.num_pulls):
            a = self.act(a, r)
            r = float(pull(means, tf.constant([a]), derive_seed(pair, 2 * t + 2))[0])
            actions.append(a)
            rewards.append(r)
        return np.array(actions), np.array(rewards)

    def save(self, path: str | os.PathLike[str], **metadata: Any) -> None:
        """Write the weights (no optimiser state) and (k, n) to one ``.npz``; ``metadata`` must be
        JSON-ready and is stored with them."""
        config = A2CConfig(hidden_size=self.hidden_size, use_done_flag=self.use_done_flag)
        extra = {"num_arms": self.num_arms, "num_pulls": self.num_pulls, **metadata}
        save_checkpoint(path, Checkpoint(self.params, adam_init(self.params), 0, config, extra),
                        include_optimizer=False)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, greedy: bool = False, seed: int = 0) -> RL2Agent:
        """An agent from a file written by :meth:`save`, :func:`metalearn_lib.rl.save_checkpoint`
        (with ``num_arms``/``num_pulls`` in its extra metadata) or ``benchmarks/train_rl2.py``."""
        checkpoint = load_checkpoint(path)
        try:
            num_arms, num_pulls = int(checkpoint.extra["num_arms"]), int(checkpoint.extra["num_pulls"])
        except KeyError:
            raise ValueError(f"{os.fspath(path)} does not record num_arms and num_pulls") from None
        return cls(checkpoint.params, num_arms, num_pulls, greedy=greedy, seed=seed)


# --------------------------------------------------------------------------------------------
# shipped weights
# --------------------------------------------------------------------------------------------
def pretrained_rl2_path(num_arms: int = 5, num_pulls: int = 10) -> Path:
    """Path of the shipped weights ``weights/rl2_k{k}_n{n}.npz`` (it may not exist: see
    :func:`pretrained_rl2_info`)."""
    num_arms = check_int("num_arms", num_arms)
    num_pulls = check_int("num_pulls", num_pulls)
    return Path(str(resources.files(_WEIGHTS_PACKAGE) / _WEIGHTS_DIR / f"rl2_k{num_arms}_n{num_pulls}.npz"))


def pretrained_rl2_info(num_arms: int = 5, num_pulls: int = 10) -> dict[str, Any]:
    """The JSON record written beside the shipped weights: the command, seed, configuration,
    wall time and evaluation (mean ± CI over 1000 bandits).

    Raises:
        FileNotFoundError: no agent was shipped for (k, n).
    """
    path = pretrained_rl2_path(num_arms, num_pulls).with_suffix(".json")
    if not path.exists():
        raise FileNotFoundError(f"no pretrained RL² agent for num_arms={num_arms}, num_pulls={num_pulls} "
                                f"(train one with benchmarks/train_rl2.py)")
    return json.loads(path.read_text(encoding="utf-8"))


def load_pretrained_rl2(num_arms: int = 5, num_pulls: int = 10, *, greedy: bool = False, seed: int = 0) -> RL2Agent:
    """The shipped RL² agent for (k, n), e.g. ``load_pretrained_rl2(5, 10)``.

    Raises:
        FileNotFoundError: no agent was shipped for (k, n).
    """
    path = pretrained_rl2_path(num_arms, num_pulls)
    if not path.exists():
        raise FileNotFoundError(f"no pretrained RL² agent for num_arms={num_arms}, num_pulls={num_pulls} "
                                f"(train one with benchmarks/train_rl2.py)")
    return RL2Agent.load(path, greedy=greedy, seed=seed)
