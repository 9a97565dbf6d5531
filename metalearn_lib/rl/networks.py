"""The recurrent actor-critic of RL² (a GRU with a policy and a value head) and what it reads.

With input x_t, hidden state h_{t−1} and σ the logistic function (the GRU of Cho et al. 2014 in
the "reset after" form of cuDNN and Keras), ::

    z_t = σ(x_t W_xz + b_xz + h_{t−1} W_hz + b_hz)                 (update gate)
    r_t = σ(x_t W_xr + b_xr + h_{t−1} W_hr + b_hr)                 (reset gate)
    n_t = tanh(x_t W_xn + b_xn + r_t ⊙ (h_{t−1} W_hn + b_hn))     (candidate)
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}
    π(· | h_t) = softmax(h_t W_π + b_π),   V(h_t) = h_t W_v + b_v.

The parameters are an :class:`ActorCriticParams` — a ``NamedTuple`` of eight tensors, so code
reads ``params.w_pi`` rather than ``params[4]``, while tapes, ``tf.nest`` and checkpoints see
an ordinary nest. The gate blocks of ``w_x``, ``w_h``, ``b_x``, ``b_h`` are ordered z, r, n.

**What the agent reads** (:func:`agent_inputs`): x_t = [o_t, onehot(a_{t−1}), r_{t−1},
d_{t−1}, t / T] — the environment's observation, the previous action and reward (zeros at
t = 0), optionally the previous "episode ended" flag, and the time step as a fraction of the
trial length T. The hidden state is *not* reset between episodes of a trial: the memory of
earlier episodes is what the agent adapts with.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import tensorflow as tf

from metalearn_lib.rl.sampling import ALG
from metalearn_lib.validation import check_int

__all__ = [
    "NUM_PARAMS",
    "ActorCriticParams",
    "actor_critic_step",
    "agent_input_size",
    "agent_inputs",
    "as_actor_critic_params",
    "init_recurrent_actor_critic",
    "unroll_actor_critic",
]


class ActorCriticParams(NamedTuple):
    """The GRU actor-critic's parameters (I inputs, H hidden units, A actions).

    Attributes:
        w_x: ``[I, 3H]`` input weights of the z, r, n gates.
        w_h: ``[H, 3H]`` recurrent weights.
        b_x: ``[3H]`` input biases.
        b_h: ``[3H]`` recurrent biases.
        w_pi: ``[H, A]`` policy head.
        b_pi: ``[A]``.
        w_v: ``[H, 1]`` value head.
        b_v: ``[1]``.
    """

    w_x: tf.Tensor
    w_h: tf.Tensor
    b_x: tf.Tensor
    b_h: tf.Tensor
    w_pi: tf.Tensor
    b_pi: tf.Tensor
    w_v: tf.Tensor
    b_v: tf.Tensor

    @property
    def input_size(self) -> int:
        """I."""
        return int(self.w_x.shape[0])

    @property
    def hidden_size(self) -> int:
        """H."""
        return int(self.w_h.shape[0])

    @property
    def num_actions(self) -> int:
        """A."""
        return int(self.w_pi.shape[1])


#: Number of tensors in :class:`ActorCriticParams`.
NUM_PARAMS = len(ActorCriticParams._fields)


def _orthogonal(n: int, seed: tf.Tensor, dtype: tf.DType) -> tf.Tensor:
    """A random n×n orthogonal matrix: Q of the QR decomposition of a Gaussian, signs fixed."""
    q, r = tf.linalg.qr(tf.random.stateless_normal([n, n], seed, dtype=tf.float64, alg=ALG))
    return tf.cast(q * tf.sign(tf.linalg.diag_part(r))[tf.newaxis, :], dtype)


def init_recurrent_actor_critic(
    input_size: int, hidden_size: int, num_actions: int, seed: int, *, dtype: tf.DType = tf.float32
) -> ActorCriticParams:
    """Initial :class:`ActorCriticParams` of the GRU actor-critic.

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
    seeds = tf.random.experimental.stateless_split(tf.constant([seed, 0], tf.int64), num=6, alg=ALG)
    limit = math.sqrt(6.0 / (input_size + hidden_size))
    params = ActorCriticParams(
        w_x=tf.random.stateless_uniform([input_size, 3 * hidden_size], seeds[0], -limit, limit,
                                        dtype=tf.float64, alg=ALG),
        w_h=tf.concat([_orthogonal(hidden_size, seeds[1 + g], tf.float64) for g in range(3)], axis=1),
        b_x=tf.zeros([3 * hidden_size], tf.float64),
        b_h=tf.zeros([3 * hidden_size], tf.float64),
        w_pi=tf.random.stateless_truncated_normal([hidden_size, num_actions], seeds[4], stddev=0.01,
                                                  dtype=tf.float64, alg=ALG),
        b_pi=tf.zeros([num_actions], tf.float64),
        w_v=tf.random.stateless_truncated_normal([hidden_size, 1], seeds[5], stddev=1.0 / math.sqrt(hidden_size),
                                                 dtype=tf.float64, alg=ALG),
        b_v=tf.zeros([1], tf.float64))
    return ActorCriticParams(*(tf.cast(p, dtype) for p in params))


def as_actor_critic_params(params: Any) -> ActorCriticParams:
    """``params`` (an :class:`ActorCriticParams`, or the eight tensors as a list or tuple in its
    field order) as an :class:`ActorCriticParams` of tensors, its shapes and dtypes checked.

    Raises:
        ValueError: not eight tensors, shapes that do not fit one network, mixed or non-floating
            dtypes.
    """
    if isinstance(params, (tf.Tensor, np.ndarray)) or not isinstance(params, (list, tuple)) \
            or len(params) != NUM_PARAMS:
        raise ValueError("params must be the list [W_x, W_h, b_x, b_h, W_pi, b_pi, W_v, b_v] from "
                         "init_recurrent_actor_critic")
    p = ActorCriticParams(*(tf.convert_to_tensor(t) for t in params))
    hidden = p.w_h.shape[0]
    ok = (p.w_x.shape.rank == 2 and p.w_h.shape.rank == 2 and p.w_h.shape[1] == 3 * hidden
          and p.w_x.shape[1] == 3 * hidden and p.b_x.shape.as_list() == [3 * hidden]
          and p.b_h.shape.as_list() == [3 * hidden] and p.w_pi.shape.rank == 2 and p.w_pi.shape[0] == hidden
          and p.b_pi.shape.as_list() == [p.w_pi.shape[1]] and p.w_v.shape.as_list() == [hidden, 1]
          and p.b_v.shape.as_list() == [1])
    if not ok:
        raise ValueError(f"params must be [W_x [I, 3H], W_h [H, 3H], b_x [3H], b_h [3H], W_pi [H, A], b_pi [A], "
                         f"W_v [H, 1], b_v [1]], got shapes {[t.shape.as_list() for t in p]}")
    if not p.w_x.dtype.is_floating or any(t.dtype != p.w_x.dtype for t in p):
        raise ValueError(f"params must share one floating dtype, got {[t.dtype.name for t in p]}")
    return p


def gru_step(params: ActorCriticParams, h: tf.Tensor, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """The GRU step and heads without argument checks (for compiled loops)."""
    gx = tf.matmul(x, params.w_x) + params.b_x
    gh = tf.matmul(h, params.w_h) + params.b_h
    xz, xr, xn = tf.split(gx, 3, axis=-1)
    hz, hr, hn = tf.split(gh, 3, axis=-1)
    z = tf.sigmoid(xz + hz)
    r = tf.sigmoid(xr + hr)
    n = tf.tanh(xn + r * hn)
    h = (1.0 - z) * n + z * h
    logits = tf.matmul(h, params.w_pi) + params.b_pi
    value = tf.matmul(h, params.w_v)[:, 0] + params.b_v[0]
    return h, logits, value


def actor_critic_step(
    params: Sequence[tf.Tensor], h: tf.Tensor, x: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """One step of the recurrent actor-critic: (h_{t−1}, x_t) ↦ (h_t, policy logits, V(h_t)).

    The GRU update and heads of the module docstring, for a batch.

    Args:
        params: :class:`ActorCriticParams` (or its eight tensors in order).
        h: ``[B, H]`` previous hidden state (zeros at the start of a trial).
        x: ``[B, I]`` inputs (see :func:`agent_inputs`).

    Returns:
        ``(h [B, H], logits [B, A], value [B])``.

    Raises:
        ValueError: malformed ``params`` or shapes that do not fit them.
    """
    params = as_actor_critic_params(params)
    h = tf.convert_to_tensor(h, params.w_x.dtype)
    x = tf.convert_to_tensor(x, params.w_x.dtype)
    if h.shape.rank != 2 or h.shape[1] != params.hidden_size:
        raise ValueError(f"h must have shape [batch, {params.hidden_size}], got {h.shape}")
    if x.shape.rank != 2 or x.shape[1] != params.input_size:
        raise ValueError(f"x must have shape [batch, {params.input_size}], got {x.shape}")
    return gru_step(params, h, x)


def unroll_actor_critic(
    params: Sequence[tf.Tensor], inputs: tf.Tensor, h0: tf.Tensor | None = None
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Run the network over given inputs (teacher forcing): x_{b,0..T−1} ↦ logits, values.

    Args:
        params: :class:`ActorCriticParams`.
        inputs: ``[B, T, I]``.
        h0: ``[B, H]`` initial state; zeros if ``None``.

    Returns:
        ``(logits [B, T, A], values [B, T], h_T [B, H])``.
    """
    params = as_actor_critic_params(params)
    dtype = params.w_x.dtype
    inputs = tf.convert_to_tensor(inputs, dtype)
    if inputs.shape.rank != 3 or inputs.shape[2] != params.input_size:
        raise ValueError(f"inputs must have shape [batch, steps, {params.input_size}], got {inputs.shape}")
    batch = inputs.shape[0]
    h = tf.zeros([batch, params.hidden_size], dtype) if h0 is None else tf.convert_to_tensor(h0, dtype)
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
