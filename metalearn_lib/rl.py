"""Reinforcement learning with memory: a recurrent actor-critic trained by A2C, written functionally.

The generic machinery of chapters 5 (bandits, RL²) and 6 (small MDPs). An agent whose policy
is a recurrent network can *learn inside its hidden state*: trained across many tasks, the
network's activations come to implement an exploration strategy (RL², Duan et al. 2016; Wang
et al. 2016). Everything here is a pure function of tensors, parameters are an explicit list
(as in :mod:`metalearn_lib.models`), and whole batches of tasks run at once.

**The network** (:func:`init_recurrent_actor_critic`, :func:`actor_critic_step`): a GRU cell
(Cho et al. 2014, in the "reset after" form of cuDNN and Keras) with a policy head and a value
head. With input x_t, hidden state h_{t−1} and σ the logistic function,

    z_t = σ(x_t W_xz + b_xz + h_{t−1} W_hz + b_hz)                 (update gate)
    r_t = σ(x_t W_xr + b_xr + h_{t−1} W_hr + b_hr)                 (reset gate)
    n_t = tanh(x_t W_xn + b_xn + r_t ⊙ (h_{t−1} W_hn + b_hn))     (candidate)
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}
    π(· | h_t) = softmax(h_t W_π + b_π),   V(h_t) = h_t W_v + b_v.

The parameters are ``[W_x (I×3H), W_h (H×3H), b_x (3H), b_h (3H), W_π (H×A), b_π (A),
W_v (H×1), b_v (1)]``, the gate blocks ordered z, r, n.

**What the agent reads** (:func:`agent_inputs`): x_t = [o_t, onehot(a_{t−1}), r_{t−1},
d_{t−1}, t / T] — the environment's observation, the previous action and reward (zeros at
t = 0), optionally the previous "episode ended" flag, and the time step as a fraction of the
trial length T. The hidden state is *not* reset between episodes of a trial: that is the whole
point of RL², the memory of earlier episodes is what it adapts with.

**Advantages** (:func:`gae`): generalised advantage estimation (Schulman et al. 2016). With
V_T = the bootstrap value and d_t = 1 where an episode ends at step t,

    δ_t = r_t + γ (1 − d_t) V_{t+1} − V_t,
    Â_t = δ_t + γλ (1 − d_t) Â_{t+1},   Â_T = 0,
    R_t = Â_t + V_t                       (the λ-return, the value target).

λ = 1 gives Monte-Carlo advantages G_t − V_t (G_t from :func:`discounted_returns`,
G_t = r_t + γ (1 − d_t) G_{t+1}); λ = 0 the one-step TD error δ_t.

**The loss** (:func:`a2c_loss`): advantage actor-critic (Mnih et al. 2016) on a batch of B
trials of T steps, advantages and returns held constant,

    L(θ) = −(1/BT) Σ_{b,t} Â_{bt} log π_θ(a_{bt} | h_{bt})
           + c_v · (1/BT) Σ_{b,t} ½ (V_θ(h_{bt}) − R_{bt})²
           − c_H · (1/BT) Σ_{b,t} H(π_θ(· | h_{bt})),     H(π) = −Σ_a π(a) log π(a).

**Training** (:func:`train_a2c`): iteration i samples B tasks and rolls out one trial of each
with the stateless seed [seed, i] (every random number — tasks, actions, rewards — derives from
it), computes the loss and takes one Adam step (:func:`metalearn_lib.optim.adam_update`), all in
one compiled ``tf.function`` that runs ``iterations_per_call`` iterations per call. Because
nothing depends on anything but (parameters, Adam state, iteration), a run saved with
:func:`save_checkpoint` after N iterations and resumed for M more gives bit-identical parameters
to N + M iterations in one go.

**Environments** are anything that follows :class:`BatchedEpisodicEnv`: sample a batch of tasks
from a seed, then step all of them at once. Chapter 5's bandits (:mod:`metalearn_lib.bandits.rl2`)
and chapter 6's MDPs plug in there; this module knows neither.

Imports the ground floor (:mod:`metalearn_lib.tasks`) and the utilities
(:mod:`metalearn_lib.optim`, :mod:`metalearn_lib.validation`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
import tensorflow as tf

from metalearn_lib.optim import AdamState, adam_init, adam_update, run_in_chunks
from metalearn_lib.tasks import SeedLike, seed_pair, uniform01
from metalearn_lib.validation import check_int, check_number

__all__ = [
    "NUM_PARAMS",
    "A2CConfig",
    "BatchedEpisodicEnv",
    "Checkpoint",
    "Rollout",
    "TrainA2CResult",
    "a2c_loss",
    "actor_critic_step",
    "agent_input_size",
    "agent_inputs",
    "derive_seed",
    "discounted_returns",
    "gae",
    "init_recurrent_actor_critic",
    "load_checkpoint",
    "rollout",
    "sample_actions",
    "save_checkpoint",
    "train_a2c",
    "unroll_actor_critic",
]

#: Number of tensors in the actor-critic's parameter list.
NUM_PARAMS = 8
_ALG = "philox"
_CHECKPOINT_FORMAT = 1


# --------------------------------------------------------------------------------------------
# environments
# --------------------------------------------------------------------------------------------
@runtime_checkable
class BatchedEpisodicEnv(Protocol):
    """A distribution of tasks whose trials run as one batch — what :func:`train_a2c` accepts.

    A *trial* is ``horizon`` steps of one task (possibly several episodes: ``step`` reports
    ``done`` where one ends and then returns the next episode's first observation). All tensors
    have a leading batch axis B.

    Attributes:
        num_actions: A, the number of discrete actions.
        observation_size: O, the length of an observation vector (0 for bandits, which have no
            state).
        horizon: T, the steps of one trial.
    """

    num_actions: int
    observation_size: int
    horizon: int

    def sample_tasks(self, num_tasks: int, seed: SeedLike) -> Any:
        """``num_tasks`` tasks (any nest of tensors with leading axis ``num_tasks``), stateless."""
        ...

    def initial_observations(self, tasks: Any) -> tf.Tensor:
        """The first observation of each trial, ``[B, observation_size]`` (float)."""
        ...

    def step(self, tasks: Any, actions: tf.Tensor, t: int | tf.Tensor, seed: tf.Tensor
             ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """Take ``actions [B]`` (int32) at step ``t`` in [0, horizon) — a Python int, or an int32
        scalar tensor when the trial runs as a ``tf.range`` loop (long horizons).

        ``seed`` is a stateless seed pair for this step's randomness. Returns ``(rewards [B],
        observations [B, observation_size], done [B])`` — rewards and observations float, done
        1.0 where an episode ended with this step (0.0 otherwise), all in float32.
        """
        ...

    # Optional (for A2CConfig.expected_rewards): ``expected_rewards(tasks, actions [B, T]) ->
    # [B, T]``, the mean reward of each action taken, E[r_t | task, a_t]. Not part of the
    # protocol's required surface, so environments without it still qualify.


def _check_env(env: Any) -> None:
    attributes = ("num_actions", "observation_size", "horizon")
    methods = ("sample_tasks", "initial_observations", "step")
    missing = [n for n in attributes if not hasattr(env, n)]
    missing += [n for n in methods if not callable(getattr(env, n, None))]
    if missing:
        raise TypeError(f"env must follow BatchedEpisodicEnv (num_actions, observation_size, horizon, sample_tasks(), "
                        f"initial_observations(), step()); {type(env).__name__} lacks {', '.join(missing)}")
    for name in attributes:
        check_int(f"env.{name}", getattr(env, name), 0 if name == "observation_size" else 1)


# --------------------------------------------------------------------------------------------
# seeds and sampling
# --------------------------------------------------------------------------------------------
def derive_seed(seed: SeedLike, tag: int | tf.Tensor) -> tf.Tensor:
    """A new stateless seed pair from ``seed`` and an integer ``tag``: Philox ``fold_in``.

    Different tags give independent streams (tasks, each step's actions, each step's rewards);
    the result is the same in eager, graph and XLA code.
    """
    return tf.random.experimental.stateless_fold_in(seed_pair(seed), tf.cast(tag, tf.int64), alg=_ALG)


def sample_actions(logits: tf.Tensor, seed: SeedLike) -> tf.Tensor:
    """a_b ~ softmax(logits_b) by inversion: a_b = #{a : F_b(a) < u_b}, F_b the CDF, u_b ~ U[0, 1).

    One uniform per row, from raw Philox bits (:func:`metalearn_lib.tasks.uniform01`), so the
    draw is the same in eager, graph and XLA code up to float rounding of the CDF.

    Args:
        logits: ``[B, A]``.
        seed: stateless seed (int or int tensor of shape [2]).

    Returns:
        ``[B]`` int32 actions in [0, A).
    """
    logits = tf.convert_to_tensor(logits)
    probs = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
    cdf = tf.cumsum(probs, axis=-1)
    batch = logits.shape[0] if logits.shape[0] is not None else tf.shape(logits)[0]
    u = uniform01([batch], seed_pair(seed), tf.float32)[:, tf.newaxis] * cdf[:, -1:]
    actions = tf.reduce_sum(tf.cast(cdf <= u, tf.int32), axis=-1)
    return tf.minimum(actions, tf.shape(logits)[-1] - 1)


# --------------------------------------------------------------------------------------------
# the network
# --------------------------------------------------------------------------------------------
def _orthogonal(n: int, seed: tf.Tensor, dtype: tf.DType) -> tf.Tensor:
    """A random n×n orthogonal matrix: Q of the QR decomposition of a Gaussian, signs fixed."""
    q, r = tf.linalg.qr(tf.random.stateless_normal([n, n], seed, dtype=tf.float64, alg=_ALG))
    return tf.cast(q * tf.sign(tf.linalg.diag_part(r))[tf.newaxis, :], dtype)


def init_recurrent_actor_critic(
    input_size: int, hidden_size: int, num_actions: int, seed: int, *, dtype: tf.DType = tf.float32
) -> list[tf.Tensor]:
    """Initial parameters ``[W_x, W_h, b_x, b_h, W_π, b_π, W_v, b_v]`` of the GRU actor-critic.

    W_x ~ Glorot uniform (per gate block), W_h = three random orthogonal H×H blocks, biases 0,
    W_π ~ N(0, 0.01²) so the first policy is almost uniform, W_v ~ N(0, 1/H). Stateless: the
    same ``seed`` gives the same parameters.

    Args:
        input_size: I ≥ 1 (see :func:`agent_input_size`).
        hidden_size: H ≥ 1.
        num_actions: A ≥ 1.
        seed: int in [0, 2**63 − 1].
        dtype: floating dtype (float64 for gradient checks).

    Raises:
        ValueError, TypeError: a size < 1, a bad seed or a non-floating dtype.
    """
    input_size = check_int("input_size", input_size)
    hidden_size = check_int("hidden_size", hidden_size)
    num_actions = check_int("num_actions", num_actions)
    seed = check_int("seed", seed, 0)
    dtype = tf.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"dtype must be a floating dtype, got {dtype.name}")
    seeds = tf.random.experimental.stateless_split(tf.constant([seed, 0], tf.int64), num=6, alg=_ALG)
    limit = math.sqrt(6.0 / (input_size + hidden_size))
    w_x = tf.random.stateless_uniform([input_size, 3 * hidden_size], seeds[0], -limit, limit,
                                      dtype=tf.float64, alg=_ALG)
    w_h = tf.concat([_orthogonal(hidden_size, seeds[1 + g], tf.float64) for g in range(3)], axis=1)
    w_pi = tf.random.stateless_truncated_normal([hidden_size, num_actions], seeds[4], stddev=0.01,
                                                dtype=tf.float64, alg=_ALG)
    w_v = tf.random.stateless_truncated_normal([hidden_size, 1], seeds[5], stddev=1.0 / math.sqrt(hidden_size),
                                               dtype=tf.float64, alg=_ALG)
    params = [w_x, w_h, tf.zeros([3 * hidden_size], tf.float64), tf.zeros([3 * hidden_size], tf.float64),
              w_pi, tf.zeros([num_actions], tf.float64), w_v, tf.zeros([1], tf.float64)]
    return [tf.cast(p, dtype) for p in params]


def _check_params(params: Any) -> list[tf.Tensor]:
    if isinstance(params, (tf.Tensor, np.ndarray)) or not isinstance(params, (list, tuple)) \
            or len(params) != NUM_PARAMS:
        raise ValueError("params must be the list [W_x, W_h, b_x, b_h, W_pi, b_pi, W_v, b_v] from "
                         "init_recurrent_actor_critic")
    ps = [tf.convert_to_tensor(p) for p in params]
    w_x, w_h, b_x, b_h, w_pi, b_pi, w_v, b_v = ps
    hidden = w_h.shape[0]
    ok = (w_x.shape.rank == 2 and w_h.shape.rank == 2 and w_h.shape[1] == 3 * hidden
          and w_x.shape[1] == 3 * hidden and b_x.shape.as_list() == [3 * hidden]
          and b_h.shape.as_list() == [3 * hidden] and w_pi.shape.rank == 2 and w_pi.shape[0] == hidden
          and b_pi.shape.as_list() == [w_pi.shape[1]] and w_v.shape.as_list() == [hidden, 1]
          and b_v.shape.as_list() == [1])
    if not ok:
        raise ValueError(f"params must be [W_x [I, 3H], W_h [H, 3H], b_x [3H], b_h [3H], W_pi [H, A], b_pi [A], "
                         f"W_v [H, 1], b_v [1]], got shapes {[p.shape.as_list() for p in ps]}")
    if not w_x.dtype.is_floating or any(p.dtype != w_x.dtype for p in ps):
        raise ValueError(f"params must share one floating dtype, got {[p.dtype.name for p in ps]}")
    return ps


def _step(params: Sequence[tf.Tensor], h: tf.Tensor, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """The GRU step and heads without argument checks (for compiled loops)."""
    w_x, w_h, b_x, b_h, w_pi, b_pi, w_v, b_v = params
    gx = tf.matmul(x, w_x) + b_x
    gh = tf.matmul(h, w_h) + b_h
    xz, xr, xn = tf.split(gx, 3, axis=-1)
    hz, hr, hn = tf.split(gh, 3, axis=-1)
    z = tf.sigmoid(xz + hz)
    r = tf.sigmoid(xr + hr)
    n = tf.tanh(xn + r * hn)
    h = (1.0 - z) * n + z * h
    logits = tf.matmul(h, w_pi) + b_pi
    value = tf.matmul(h, w_v)[:, 0] + b_v[0]
    return h, logits, value


def actor_critic_step(
    params: Sequence[tf.Tensor], h: tf.Tensor, x: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """One step of the recurrent actor-critic: (h_{t−1}, x_t) ↦ (h_t, policy logits, V(h_t)).

    The GRU update and heads of the module docstring, for a batch.

    Args:
        params: from :func:`init_recurrent_actor_critic`.
        h: ``[B, H]`` previous hidden state (zeros at the start of a trial).
        x: ``[B, I]`` inputs (see :func:`agent_inputs`).

    Returns:
        ``(h [B, H], logits [B, A], value [B])``.

    Raises:
        ValueError: malformed ``params`` or shapes that do not fit them.
    """
    params = _check_params(params)
    h = tf.convert_to_tensor(h, params[0].dtype)
    x = tf.convert_to_tensor(x, params[0].dtype)
    in_size, hidden = params[0].shape[0], params[1].shape[0]
    if h.shape.rank != 2 or h.shape[1] != hidden:
        raise ValueError(f"h must have shape [batch, {hidden}], got {h.shape}")
    if x.shape.rank != 2 or x.shape[1] != in_size:
        raise ValueError(f"x must have shape [batch, {in_size}], got {x.shape}")
    return _step(params, h, x)


def unroll_actor_critic(
    params: Sequence[tf.Tensor], inputs: tf.Tensor, h0: tf.Tensor | None = None
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Run the network over given inputs (teacher forcing): x_{b,0..T−1} ↦ logits, values.

    Args:
        params: from :func:`init_recurrent_actor_critic`.
        inputs: ``[B, T, I]``.
        h0: ``[B, H]`` initial state; zeros if ``None``.

    Returns:
        ``(logits [B, T, A], values [B, T], h_T [B, H])``.
    """
    params = _check_params(params)
    inputs = tf.convert_to_tensor(inputs, params[0].dtype)
    if inputs.shape.rank != 3 or inputs.shape[2] != params[0].shape[0]:
        raise ValueError(f"inputs must have shape [batch, steps, {params[0].shape[0]}], got {inputs.shape}")
    batch, hidden = inputs.shape[0], params[1].shape[0]
    h = tf.zeros([batch, hidden], params[0].dtype) if h0 is None else tf.convert_to_tensor(h0, params[0].dtype)
    logits, values = [], []
    for t in range(inputs.shape[1]):
        h, lg, v = actor_critic_step(params, h, inputs[:, t])
        logits.append(lg)
        values.append(v)
    return tf.stack(logits, axis=1), tf.stack(values, axis=1), h


def agent_input_size(num_actions: int, observation_size: int = 0, *, use_done_flag: bool = False) -> int:
    """I = O + A + 2 (+ 1 with the done flag): [o_t, onehot(a_{t−1}), r_{t−1}, (d_{t−1}), t/T]."""
    return (check_int("observation_size", observation_size, 0) + check_int("num_actions", num_actions)
            + 2 + int(bool(use_done_flag)))


def agent_inputs(
    observations: tf.Tensor,
    prev_actions: tf.Tensor,
    prev_rewards: tf.Tensor,
    prev_dones: tf.Tensor,
    t: int | tf.Tensor,
    horizon: int,
    num_actions: int,
    *,
    use_done_flag: bool = False,
    dtype: tf.DType = tf.float32,
) -> tf.Tensor:
    """x_t = [o_t, onehot(a_{t−1}), r_{t−1}, (d_{t−1}), t / T], ``[B, I]``.

    ``prev_actions`` is ``[B]`` int with −1 for "no previous action" (t = 0), whose one-hot is
    all zeros; ``prev_rewards`` and ``prev_dones`` are ``[B]`` floats (0 at t = 0).
    """
    observations = tf.cast(observations, dtype)
    batch = tf.shape(observations)[0]
    parts = [observations, tf.one_hot(prev_actions, num_actions, dtype=dtype),
             tf.cast(prev_rewards, dtype)[:, tf.newaxis]]
    if use_done_flag:
        parts.append(tf.cast(prev_dones, dtype)[:, tf.newaxis])
    parts.append(tf.fill([batch, 1], tf.cast(t, dtype) / float(horizon)))
    return tf.concat(parts, axis=-1)


# --------------------------------------------------------------------------------------------
# rollouts
# --------------------------------------------------------------------------------------------
class Rollout(NamedTuple):
    """One trial of every task of a batch (time on axis 1).

    Attributes:
        actions: ``[B, T]`` int32.
        rewards: ``[B, T]``.
        dones: ``[B, T]`` 1.0 where an episode ended at that step.
        logits: ``[B, T, A]`` policy logits.
        values: ``[B, T]`` V(h_t).
    """

    actions: tf.Tensor
    rewards: tf.Tensor
    dones: tf.Tensor
    logits: tf.Tensor
    values: tf.Tensor


def _rollout(params: Sequence[tf.Tensor], env: BatchedEpisodicEnv, tasks: Any, seed: tf.Tensor,
             greedy: bool, use_done_flag: bool, unroll: bool | None = None) -> Rollout:
    """The trial loop, no argument checks.

    ``unroll``: a Python loop over the static horizon (one graph node per step) or a
    ``tf.range`` loop with ``TensorArray`` s; ``None`` unrolls horizons up to 16.
    """
    dtype = params[0].dtype
    obs = tf.cast(env.initial_observations(tasks), dtype)
    batch = tf.shape(obs)[0]
    h = tf.zeros([batch, params[1].shape[0]], dtype)
    prev_a = tf.fill([batch], -1)
    prev_r = tf.zeros([batch], dtype)
    prev_d = tf.zeros([batch], dtype)
    horizon = env.horizon
    if unroll is None:
        unroll = horizon <= 16

    def body(t: Any, h: tf.Tensor, obs: tf.Tensor, prev_a: tf.Tensor, prev_r: tf.Tensor, prev_d: tf.Tensor
             ) -> tuple[tf.Tensor, ...]:
        x = agent_inputs(obs, prev_a, prev_r, prev_d, t, horizon, env.num_actions,
                         use_done_flag=use_done_flag, dtype=dtype)
        h, logits, value = _step(params, h, x)
        if greedy:
            action = tf.argmax(logits, axis=-1, output_type=tf.int32)
        else:
            action = sample_actions(tf.stop_gradient(logits), derive_seed(seed, 2 * t + 1))
        reward, obs, done = env.step(tasks, action, t, derive_seed(seed, 2 * t + 2))
        return h, tf.cast(obs, dtype), action, tf.cast(reward, dtype), tf.cast(done, dtype), logits, value

    fields = ("actions", "rewards", "dones", "logits", "values")
    if unroll:
        out: dict[str, list[tf.Tensor]] = {k: [] for k in fields}
        for t in range(horizon):
            h, obs, prev_a, prev_r, prev_d, logits, value = body(t, h, obs, prev_a, prev_r, prev_d)
            for k, v in zip(fields, (prev_a, prev_r, prev_d, logits, value), strict=True):
                out[k].append(v)
        return Rollout(*(tf.stack(out[k], axis=1) for k in fields))
    arrays = [tf.TensorArray(d, size=horizon) for d in (tf.int32, dtype, dtype, dtype, dtype)]
    obs = tf.ensure_shape(obs, [None, env.observation_size])
    for t in tf.range(horizon):
        tf.autograph.experimental.set_loop_options(
            shape_invariants=[(obs, tf.TensorShape([None, env.observation_size]))])
        h, obs, prev_a, prev_r, prev_d, logits, value = body(t, h, obs, prev_a, prev_r, prev_d)
        arrays = [a.write(t, v) for a, v in zip(arrays, (prev_a, prev_r, prev_d, logits, value), strict=True)]
    stacked = [a.stack() for a in arrays]  # [T, B, ...]
    return Rollout(*(tf.transpose(s, [1, 0, 2] if s.shape.rank == 3 else [1, 0]) for s in stacked))


def rollout(
    params: Sequence[tf.Tensor],
    env: BatchedEpisodicEnv,
    num_tasks: int,
    seed: SeedLike,
    *,
    greedy: bool = False,
    use_done_flag: bool = False,
    tasks: Any = None,
    unroll: bool | None = None,
) -> tuple[Any, Rollout]:
    """Play one trial of ``num_tasks`` tasks with the agent (eagerly; wrap in ``tf.function`` for speed).

    Tasks are ``env.sample_tasks(num_tasks, derive_seed(seed, 0))`` unless ``tasks`` is given; the
    action at step t is drawn with ``derive_seed(seed, 2t + 1)`` (or is the arg-max with
    ``greedy=True``), the environment's step uses ``derive_seed(seed, 2t + 2)``. ``unroll`` as in
    :class:`A2CConfig`.

    Returns:
        ``(tasks, rollout)``.
    """
    _check_env(env)
    params = _check_params(params)
    num_tasks = check_int("num_tasks", num_tasks)
    pair = seed_pair(seed)
    if tasks is None:
        tasks = env.sample_tasks(num_tasks, derive_seed(pair, 0))
    expected = agent_input_size(env.num_actions, env.observation_size, use_done_flag=use_done_flag)
    if params[0].shape[0] != expected or params[4].shape[1] != env.num_actions:
        raise ValueError(f"params do not fit this environment: inputs {params[0].shape[0]} (expected {expected}), "
                         f"actions {params[4].shape[1]} (expected {env.num_actions})")
    return tasks, _rollout(params, env, tasks, pair, bool(greedy), bool(use_done_flag), unroll)


# --------------------------------------------------------------------------------------------
# advantages and the loss
# --------------------------------------------------------------------------------------------
def _time_major_scan(fn: Callable[[tf.Tensor, tuple[tf.Tensor, ...]], tf.Tensor], init: tf.Tensor,
                     elems: tuple[tf.Tensor, ...]) -> tf.Tensor:
    """Reverse scan over axis 1 of ``[B, T]`` tensors, result ``[B, T]``."""
    tm = tuple(tf.transpose(e) for e in elems)
    return tf.transpose(tf.scan(fn, tm, initializer=init, reverse=True))


def _check_bt(name: str, x: Any, dtype: tf.DType | None = None) -> tf.Tensor:
    x = tf.convert_to_tensor(x, dtype)
    if x.shape.rank != 2:
        raise ValueError(f"{name} must have shape [batch, steps], got {x.shape}")
    return x


def _check_gamma_lam(gamma: Any, lam: Any) -> tuple[float, float]:
    gamma = check_number("gamma", gamma, positive=False)
    lam = check_number("lam", lam, positive=False)
    if gamma > 1.0:
        raise ValueError(f"gamma must be a number in [0, 1], got {gamma}")
    if lam > 1.0:
        raise ValueError(f"lam must be a number in [0, 1], got {lam}")
    return gamma, lam


def discounted_returns(
    rewards: tf.Tensor, gamma: float, bootstrap_value: tf.Tensor | float = 0.0, dones: tf.Tensor | None = None
) -> tf.Tensor:
    """G_t = r_t + γ (1 − d_t) G_{t+1}, G_T = ``bootstrap_value``; ``[B, T]`` in, ``[B, T]`` out."""
    rewards = _check_bt("rewards", rewards)
    gamma, _ = _check_gamma_lam(gamma, 0.0)
    dtype = rewards.dtype
    dones = tf.zeros_like(rewards) if dones is None else _check_bt("dones", dones, dtype)
    boot = tf.broadcast_to(tf.cast(bootstrap_value, dtype), tf.shape(rewards)[:1])
    return _time_major_scan(lambda g, e: e[0] + gamma * (1.0 - e[1]) * g, boot, (rewards, dones))


def gae(
    rewards: tf.Tensor,
    values: tf.Tensor,
    bootstrap_value: tf.Tensor | float,
    gamma: float,
    lam: float,
    dones: tf.Tensor | None = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Generalised advantage estimation (Schulman, Moritz, Levine, Jordan, Abbeel 2016).

    δ_t = r_t + γ (1 − d_t) V_{t+1} − V_t with V_T = ``bootstrap_value``;
    Â_t = δ_t + γλ (1 − d_t) Â_{t+1} with Â_T = 0, i.e. Â_t = Σ_{l≥0} (γλ)^l δ_{t+l} within an
    episode; the value targets are the λ-returns R_t = Â_t + V_t.

    Args:
        rewards: ``[B, T]`` r_t.
        values: ``[B, T]`` V(s_t) (treated as constants: wrap in ``tf.stop_gradient`` yourself
            if they come from a tape).
        bootstrap_value: V_T, ``[B]`` or a scalar — 0 when the trial ends at T.
        gamma: discount γ in [0, 1].
        lam: λ in [0, 1]; 1 gives G_t − V_t, 0 gives δ_t.
        dones: optional ``[B, T]``, 1 where an episode ends at step t (no bootstrapping across it).

    Returns:
        ``(advantages [B, T], returns [B, T])``.

    Raises:
        ValueError: shapes that are not ``[B, T]`` or differ, γ or λ outside [0, 1].
        TypeError: γ or λ not a number.
    """
    rewards = _check_bt("rewards", rewards)
    values = _check_bt("values", values, rewards.dtype)
    if not rewards.shape.is_compatible_with(values.shape):
        raise ValueError(f"rewards and values must have the same shape, got {rewards.shape} and {values.shape}")
    gamma, lam = _check_gamma_lam(gamma, lam)
    dtype = rewards.dtype
    dones = tf.zeros_like(rewards) if dones is None else _check_bt("dones", dones, dtype)
    boot = tf.broadcast_to(tf.cast(bootstrap_value, dtype), tf.shape(rewards)[:1])
    next_values = tf.concat([values[:, 1:], boot[:, tf.newaxis]], axis=1)
    not_done = 1.0 - dones
    deltas = rewards + gamma * not_done * next_values - values
    advantages = _time_major_scan(lambda a, e: e[0] + gamma * lam * e[1] * a, tf.zeros_like(boot),
                                  (deltas, not_done))
    return advantages, advantages + values


def a2c_loss(
    logits: tf.Tensor,
    values: tf.Tensor,
    actions: tf.Tensor,
    advantages: tf.Tensor,
    returns: tf.Tensor,
    *,
    value_coef: float | tf.Tensor = 0.5,
    entropy_coef: float | tf.Tensor = 0.01,
) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
    """The advantage actor-critic loss of the module docstring, averaged over all B·T steps.

    L = −mean(Â log π(a)) + c_v · mean(½ (V − R)²) − c_H · mean(H(π)); ``advantages`` and
    ``returns`` are held constant (``tf.stop_gradient``).

    Args:
        logits: ``[B, T, A]`` policy logits.
        values: ``[B, T]`` value predictions.
        actions: ``[B, T]`` integer actions taken.
        advantages: ``[B, T]`` Â (e.g. from :func:`gae`).
        returns: ``[B, T]`` value targets R.
        value_coef: c_v ≥ 0.
        entropy_coef: c_H ≥ 0.

    Returns:
        ``(loss, {"policy": …, "value": …, "entropy": …})`` — the three means, before weighting.
    """
    logits = tf.convert_to_tensor(logits)
    if logits.shape.rank != 3:
        raise ValueError(f"logits must have shape [batch, steps, actions], got {logits.shape}")
    dtype = logits.dtype
    values = _check_bt("values", values, dtype)
    actions = tf.convert_to_tensor(actions)
    if not actions.dtype.is_integer or actions.shape.rank != 2:
        raise ValueError(f"actions must be an integer tensor of shape [batch, steps], got {actions.dtype.name} "
                         f"{actions.shape}")
    advantages = tf.stop_gradient(_check_bt("advantages", advantages, dtype))
    returns = tf.stop_gradient(_check_bt("returns", returns, dtype))
    log_probs = tf.nn.log_softmax(logits, axis=-1)
    log_pa = tf.gather(log_probs, actions, batch_dims=2)
    policy = -tf.reduce_mean(log_pa * advantages)
    value = tf.reduce_mean(0.5 * tf.square(values - returns))
    entropy = tf.reduce_mean(-tf.reduce_sum(tf.exp(log_probs) * log_probs, axis=-1))
    loss = policy + tf.cast(value_coef, dtype) * value - tf.cast(entropy_coef, dtype) * entropy
    return loss, {"policy": policy, "value": value, "entropy": entropy}


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class A2CConfig:
    """Hyperparameters of :func:`train_a2c` (all checked on construction).

    Attributes:
        hidden_size: GRU width H.
        batch_size: trials (tasks) per iteration B.
        learning_rate: Adam's step size η.
        gamma, lam: discount γ and GAE λ, in [0, 1].
        value_coef: c_v ≥ 0.
        value_scale: s > 0, the critic's unit: during training the value head outputs v(h) and
            V(h) = s·v(h) enters GAE, while the value loss compares v with R / s. Long trials
            with γ near 1 have returns of tens, which a head starting at 0 and moving ~η per Adam
            step reaches only after thousands of iterations (meanwhile the advantages are noise);
            s ≈ the typical return makes the critic's targets O(1). The trained ``params`` of
            :class:`TrainA2CResult` have s folded into W_v, b_v (V in reward units); checkpoints
            keep the training parametrisation. s = 1 changes nothing.
        entropy_coef: c_H at iteration 0, ≥ 0.
        entropy_coef_final: c_H after ``entropy_anneal_iterations`` (linear in between);
            ``None``: constant ``entropy_coef``. The schedule depends on the absolute iteration
            only, so resumed runs follow it exactly.
        entropy_anneal_iterations: length of the linear anneal, ≥ 1.
        max_grad_norm: clip the gradient to this global norm (> 0); ``None``: no clipping.
        normalize_advantages: standardise Â over the batch (mean 0, std 1) before the loss.
        use_done_flag: feed the previous "episode ended" flag to the agent.
        expected_rewards: compute Â and R from E[r_t | task, a_t] (the environment's
            ``expected_rewards(tasks, actions)``) instead of the sampled r_t. The objective is
            unchanged — E[Σ_t E[r_t | task, a_t]] = E[Σ_t r_t] — but the returns lose the
            reward noise (Rao–Blackwellisation), so the policy gradient is less noisy. The agent
            still *sees* only the sampled rewards; only the trainer, which knows the task it
            drew, uses the means (like a critic with privileged information). Needs an
            environment that has the method.
        seed: int ≥ 0, the seed of the initial parameters and of the stream [seed, iteration].
        jit_compile: compile the training chunk with XLA.
        unroll: run a trial as a Python loop over its steps (``True``) or as a ``tf.range``
            loop (``False``); ``None``: unroll horizons up to 16. Long unrolled trials compile
            slowly under XLA (n = 100: minutes, and run slower), the loop compiles in seconds.
    """

    hidden_size: int = 128
    batch_size: int = 256
    learning_rate: float = 1e-3
    gamma: float = 0.99
    lam: float = 0.3
    value_coef: float = 0.5
    value_scale: float = 1.0
    entropy_coef: float = 0.01
    entropy_coef_final: float | None = None
    entropy_anneal_iterations: int = 1
    max_grad_norm: float | None = 1.0
    normalize_advantages: bool = False
    use_done_flag: bool = False
    expected_rewards: bool = False
    seed: int = 0
    jit_compile: bool = True
    unroll: bool | None = None

    def __post_init__(self) -> None:
        check_int("hidden_size", self.hidden_size)
        check_int("batch_size", self.batch_size)
        check_number("learning_rate", self.learning_rate)
        _check_gamma_lam(self.gamma, self.lam)
        check_number("value_coef", self.value_coef, positive=False)
        check_number("value_scale", self.value_scale)
        check_number("entropy_coef", self.entropy_coef, positive=False)
        if self.entropy_coef_final is not None:
            check_number("entropy_coef_final", self.entropy_coef_final, positive=False)
        check_int("entropy_anneal_iterations", self.entropy_anneal_iterations)
        if self.max_grad_norm is not None:
            check_number("max_grad_norm", self.max_grad_norm)
        for name in ("normalize_advantages", "use_done_flag", "expected_rewards", "jit_compile"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {type(getattr(self, name)).__name__}")
        check_int("seed", self.seed, 0)
        if self.unroll is not None and not isinstance(self.unroll, bool):
            raise TypeError(f"unroll must be a bool or None, got {type(self.unroll).__name__}")

    def entropy_coef_at(self, iteration: int | tf.Tensor) -> float | tf.Tensor:
        """c_H(i) = c_0 + (c_final − c_0) · min(1, i / entropy_anneal_iterations)."""
        if self.entropy_coef_final is None:
            return self.entropy_coef
        frac = tf.minimum(1.0, tf.cast(iteration, tf.float32) / float(self.entropy_anneal_iterations))
        return self.entropy_coef + (self.entropy_coef_final - self.entropy_coef) * frac

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Checkpoint:
    """Everything needed to resume training exactly: θ, Adam's state, the iteration, the config.

    Attributes:
        params: the network's parameters.
        adam_state: Adam's step count and moments.
        iteration: iterations done so far (the next one to run).
        config: the :class:`A2CConfig` the run uses.
        extra: JSON-ready metadata (e.g. the environment's description).
    """

    params: list[tf.Tensor]
    adam_state: AdamState
    iteration: int
    config: A2CConfig
    extra: dict[str, Any] = field(default_factory=dict)


def save_checkpoint(path: str | os.PathLike[str], checkpoint: Checkpoint, *, include_optimizer: bool = True) -> None:
    """Write a checkpoint to one ``.npz`` file (compressed, no pickles).

    Keys: ``param_0 … param_7``, ``adam_step``, ``adam_m_i``, ``adam_v_i`` (left out when
    ``include_optimizer`` is False — weights only, a third of the size), ``iteration`` and
    ``meta`` (the config and ``extra`` as a JSON string).
    """
    if not isinstance(checkpoint, Checkpoint):
        raise TypeError(f"checkpoint must be a Checkpoint, got {type(checkpoint).__name__}")
    arrays: dict[str, np.ndarray] = {f"param_{i}": np.asarray(p) for i, p in enumerate(checkpoint.params)}
    if include_optimizer:
        arrays["adam_step"] = np.asarray(checkpoint.adam_state.step)
        for i, (m, v) in enumerate(zip(checkpoint.adam_state.m, checkpoint.adam_state.v, strict=True)):
            arrays[f"adam_m_{i}"] = np.asarray(m)
            arrays[f"adam_v_{i}"] = np.asarray(v)
    arrays["iteration"] = np.asarray(checkpoint.iteration, np.int64)
    meta = {"format": _CHECKPOINT_FORMAT, "config": checkpoint.config.to_dict(), "extra": checkpoint.extra}
    arrays["meta"] = np.asarray(json.dumps(meta, sort_keys=True))
    path = os.fspath(path)
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(path, "wb") as f:  # a file object: np.savez would append ".npz" to other names
        np.savez_compressed(f, **arrays)


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a file written by :func:`save_checkpoint`.

    A weights-only file gives a fresh Adam state (step 0, zero moments).

    Raises:
        ValueError: the file is not such a checkpoint.
    """
    with np.load(os.fspath(path), allow_pickle=False) as data:
        keys = set(data.files)
        if "meta" not in keys or not {f"param_{i}" for i in range(NUM_PARAMS)} <= keys:
            raise ValueError(f"{os.fspath(path)} is not a checkpoint written by save_checkpoint")
        meta = json.loads(str(data["meta"]))
        params = [tf.constant(data[f"param_{i}"]) for i in range(NUM_PARAMS)]
        if "adam_step" in keys:
            state = AdamState(tf.constant(data["adam_step"]),
                              [tf.constant(data[f"adam_m_{i}"]) for i in range(NUM_PARAMS)],
                              [tf.constant(data[f"adam_v_{i}"]) for i in range(NUM_PARAMS)])
        else:
            state = adam_init(params)
        iteration = int(data["iteration"])
    return Checkpoint(params, state, iteration, A2CConfig(**meta["config"]), dict(meta.get("extra", {})))


@dataclass(frozen=True)
class TrainA2CResult:
    """What :func:`train_a2c` returns.

    Attributes:
        params: the trained parameters, value head in reward units (``config.value_scale``
            folded in).
        checkpoint: the final state (pass to :func:`train_a2c`'s ``resume`` or
            :func:`save_checkpoint`).
        rewards: ``[num_iterations]`` mean total reward of the batch's trials, per iteration.
        losses: ``[num_iterations]`` the A2C loss.
        entropies: ``[num_iterations]`` mean policy entropy (nats).
        wall_s: seconds spent (tracing and compiling included).
        iterations_per_s: ``num_iterations / wall_s``.
        config: the :class:`A2CConfig`.
    """

    params: list[tf.Tensor]
    checkpoint: Checkpoint
    rewards: np.ndarray
    losses: np.ndarray
    entropies: np.ndarray
    wall_s: float
    iterations_per_s: float
    config: A2CConfig


@functools.lru_cache(maxsize=16)
def _cached_chunk(env: BatchedEpisodicEnv, config: A2CConfig) -> Callable[..., Any]:
    return _make_chunk(env, config)


def _make_chunk(env: BatchedEpisodicEnv, config: A2CConfig) -> Callable[..., Any]:
    """The compiled ``run_chunk((params, adam), start, length) -> ((params, adam), metrics [length, 4])``."""
    batch_size = config.batch_size

    def one_iteration(params: list[tf.Tensor], adam: AdamState, iteration: tf.Tensor
                      ) -> tuple[list[tf.Tensor], AdamState, tf.Tensor]:
        seed = tf.stack([tf.constant(config.seed, tf.int64), iteration])
        tasks = env.sample_tasks(batch_size, derive_seed(seed, 0))
        with tf.GradientTape() as tape:
            tape.watch(params)
            ro = _rollout(params, env, tasks, seed, False, config.use_done_flag, config.unroll)
            values = config.value_scale * tf.stop_gradient(ro.values)  # V = s·v
            train_rewards = env.expected_rewards(tasks, ro.actions) if config.expected_rewards else ro.rewards
            adv, ret = gae(tf.cast(train_rewards, ro.values.dtype), values, 0.0, config.gamma, config.lam)
            ret = ret / config.value_scale  # the critic's loss in its own unit
            if config.normalize_advantages:
                mean, var = tf.nn.moments(adv, axes=[0, 1])
                adv = (adv - mean) / (tf.sqrt(var) + 1e-8)
            loss, parts = a2c_loss(ro.logits, ro.values, ro.actions, adv, ret, value_coef=config.value_coef,
                                   entropy_coef=config.entropy_coef_at(iteration))
        grads = tape.gradient(loss, params)
        if config.max_grad_norm is not None:
            grads, _ = tf.clip_by_global_norm(grads, config.max_grad_norm)
        params, adam = adam_update(params, grads, adam, learning_rate=config.learning_rate)
        total = tf.reduce_mean(tf.reduce_sum(ro.rewards, axis=1))
        metrics = tf.stack([total, loss, parts["entropy"], parts["value"]])
        return params, adam, metrics

    @tf.function(jit_compile=config.jit_compile)
    def run_chunk(carry: tuple[list[tf.Tensor], AdamState], start: tf.Tensor, length: int) -> Any:
        params, adam = carry
        record = tf.TensorArray(tf.float32, size=length, element_shape=[4])
        for i in tf.range(length, dtype=tf.int64):
            params, adam, metrics = one_iteration(params, adam, start + i)
            record = record.write(tf.cast(i, tf.int32), tf.cast(metrics, tf.float32))
        return (params, adam), record.stack()

    return run_chunk


def train_a2c(
    env: BatchedEpisodicEnv,
    config: A2CConfig | None = None,
    *,
    num_iterations: int,
    resume: Checkpoint | None = None,
    iterations_per_call: int = 50,
    progress: bool = False,
    desc: str = "A2C",
    extra: dict[str, Any] | None = None,
) -> TrainA2CResult:
    """Train the recurrent actor-critic on ``env``'s tasks with A2C + GAE and Adam.

    Iteration i (counted from 0 over the whole run, resumptions included): seed s_i =
    [config.seed, i]; B = ``config.batch_size`` tasks from ``env.sample_tasks(B,
    derive_seed(s_i, 0))``; one trial of each (:func:`rollout` with seed s_i); Â, R from
    :func:`gae` with bootstrap 0 at the end of the trial (optionally standardised); θ ←
    Adam(θ, clip(∇_θ :func:`a2c_loss`)). ``iterations_per_call`` iterations run in one compiled
    call (XLA if ``config.jit_compile``).

    Args:
        env: a :class:`BatchedEpisodicEnv`.
        config: hyperparameters (ignored when resuming: the checkpoint's config is used).
        num_iterations: iterations to run now, ≥ 1.
        resume: continue from this checkpoint (its parameters, Adam state and iteration count).
        iterations_per_call: iterations per compiled call, ≥ 1.
        progress: show a ``tqdm.auto`` bar with the recent mean reward.
        desc: the progress bar's label.
        extra: JSON-ready metadata stored in the returned checkpoint (kept from ``resume`` if
            ``None``).

    Returns:
        A :class:`TrainA2CResult`.

    Raises:
        ValueError, TypeError: an argument out of range or of the wrong type, or a checkpoint
            whose parameters do not fit ``env``.
    """
    _check_env(env)
    num_iterations = check_int("num_iterations", num_iterations)
    iterations_per_call = check_int("iterations_per_call", iterations_per_call)
    if resume is not None:
        if not isinstance(resume, Checkpoint):
            raise TypeError(f"resume must be a Checkpoint, got {type(resume).__name__}")
        config = resume.config
        params = _check_params(resume.params)
        adam = resume.adam_state
        start = check_int("resume.iteration", resume.iteration, 0)
        extra = dict(resume.extra) if extra is None else extra
    else:
        config = A2CConfig() if config is None else config
        if not isinstance(config, A2CConfig):
            raise TypeError(f"config must be an A2CConfig, got {type(config).__name__}")
        params = init_recurrent_actor_critic(
            agent_input_size(env.num_actions, env.observation_size, use_done_flag=config.use_done_flag),
            config.hidden_size, env.num_actions, config.seed)
        adam = adam_init(params)
        start = 0
    expected = agent_input_size(env.num_actions, env.observation_size, use_done_flag=config.use_done_flag)
    if params[0].shape[0] != expected or params[4].shape[1] != env.num_actions \
            or params[1].shape[0] != config.hidden_size:
        raise ValueError(f"the checkpoint's parameters do not fit this environment and config: inputs "
                         f"{params[0].shape[0]} (expected {expected}), actions {params[4].shape[1]} "
                         f"(expected {env.num_actions}), hidden {params[1].shape[0]}")
    if config.expected_rewards and not callable(getattr(env, "expected_rewards", None)):
        raise TypeError(f"config.expected_rewards needs an environment with an expected_rewards(tasks, actions) "
                        f"method; {type(env).__name__} has none")
    try:
        run_chunk = _cached_chunk(env, config)  # the same (env, config) reuses its compiled chunk
    except TypeError:  # an unhashable environment: compile afresh
        run_chunk = _make_chunk(env, config)
    (params, adam), metrics, wall_s = run_in_chunks(
        run_chunk, (params, adam), num_iterations=num_iterations, start=start,
        iterations_per_call=iterations_per_call, progress=progress, desc=desc,
        postfix=lambda m: {"reward": f"{float(np.mean(m[:, 0])):.3f}"})
    params = list(params)
    checkpoint = Checkpoint(params, adam, start + num_iterations, config, dict(extra or {}))
    if config.value_scale != 1.0:  # fold s into the value head: V(h) = h (s·W_v) + s·b_v
        params = [*params[:6], params[6] * config.value_scale, params[7] * config.value_scale]
    return TrainA2CResult(params, checkpoint, metrics[:, 0], metrics[:, 1], metrics[:, 2], wall_s,
                          num_iterations / wall_s, config)
