"""Adaptive (online) learning: tracking a task that changes while you learn.

Chapter ``08_applications``. A learner meets a stream of tasks T_0, T_1, … (drifting or switching
sinusoids, :mod:`metalearn_lib.applications.streams`), all streams of a batch at once.

**Protocol, round t** (every learner here): the learner receives the K support points of T_t,
produces the parameters θ_t it plays this round (from what it saw in rounds < t and from round
t's support set), and is scored on T_t's query points, ℓ_t = L_t^query(θ_t) — the round's loss.
Only then are the query targets of round t revealed to it, for its own update.

Parameter learners (:func:`run_online`, one ``tf.range`` loop over rounds inside a
``tf.function``, all streams batched as chapter 2's task axis):

- ``"frozen"``: θ_t = θ (e.g. the network pretrained on all tasks), never updated;
- ``"fine_tune_last"``: θ_t = adapt(θ_{t−1}, support_t), θ_{−1} = θ — fine-tuning continues from
  the last round's parameters (follows slow drift, can drift off or forget after a jump);
- ``"maml_readapt"``: θ_t = adapt(θ_MAML, support_t) — chapter 2's meta-learned initialisation,
  re-adapted every round from scratch;
- ``"online_meta"``: θ_t = adapt(θ_init,t, support_t); after scoring, the initialisation follows
  the stream (follow-the-meta-leader, one MAML step per round, :func:`online_meta_update`):
  θ_init,t+1 = θ_init,t − β ∇_θ L_t^query(adapt(θ, support_t)) at θ = θ_init,t.

with adapt = :func:`metalearn_lib.two_level.adapt` (``num_inner_steps`` SGD steps of size α).

Experts (:func:`run_expert_hedge`): chapter 3's Hedge over a pool of fixed networks, the
prediction the weight-averaged output (chapter 3's ensemble) ŷ_t(x) = Σ_n w_{t,n} f_n(x), the
weights updated with the experts' losses of round t *after* scoring. Fixed share (Herbster &
Warmuth 1998, :func:`fixed_share_update`), w_{t+1} = (1 − α)·Hedge(w_t, ℓ_t) + α/N, keeps every
weight above α/N so the mixture can move to a new expert after a switch; α = 0 is plain Hedge.

Imports chapter 2 (:mod:`metalearn_lib.two_level`), chapter 3 (:mod:`metalearn_lib.averaging`),
the ground floor, the utilities and :mod:`metalearn_lib.applications.streams`.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import tensorflow as tf
from numpy.typing import ArrayLike, NDArray

from metalearn_lib.applications.streams import StreamBatch
from metalearn_lib.averaging import hedge_update
from metalearn_lib.models import Activation, forward, is_batched, mse, tile_params
from metalearn_lib.optim import build_cached, compile_training_loop, run_in_chunks
from metalearn_lib.tasks import SinusoidFamily, seed_pair, uniform01
from metalearn_lib.two_level import adapt, meta_gradient
from metalearn_lib.validation import check_int, check_number, check_param_list, check_range, check_rate, check_unit

__all__ = [
    "ONLINE_METHODS",
    "OnlineResult",
    "build_regime_experts",
    "cumulative_loss",
    "cumulative_regret",
    "fixed_share_update",
    "mean_and_ci95",
    "online_meta_update",
    "run_expert_hedge",
    "run_online",
]

#: The parameter learners of :func:`run_online`.
ONLINE_METHODS: tuple[str, ...] = ("frozen", "fine_tune_last", "maml_readapt", "online_meta")


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------
def mean_and_ci95(values: ArrayLike) -> tuple[float, float]:
    """Mean and 95 % half-width 1.96·std/√n over the first axis (std with ddof = 0, as in
    :func:`metalearn_lib.two_level.evaluate_fine_tuning`). ``values``: ``[n]``, n >= 1."""
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.size == 0:
        raise ValueError("values must hold at least one number, got an empty array")
    return float(array.mean()), float(1.96 * array.std() / math.sqrt(array.size))


def cumulative_loss(losses: ArrayLike) -> NDArray[np.float64]:
    """Σ_{s≤t} ℓ_s along the last (rounds) axis: ``[..., T]`` → ``[..., T]``."""
    array = np.asarray(losses, dtype=np.float64)
    if array.ndim == 0:
        raise ValueError("losses must have a rounds axis (shape [..., rounds]), got a scalar")
    return np.cumsum(array, axis=-1)


def cumulative_regret(losses: ArrayLike, reference_losses: ArrayLike) -> NDArray[np.float64]:
    """Cumulative regret against a reference learner: R_t = Σ_{s≤t} (ℓ_s − ℓ_s^ref).

    Args:
        losses: ``[..., T]`` per-round losses of the learner (e.g. ``OnlineResult.losses``).
        reference_losses: per-round losses of the reference (the best expert in hindsight, an
            oracle, another learner), of the same shape.

    Returns:
        float64 ``[..., T]``; negative where the learner did better than the reference.
    """
    a = np.asarray(losses, dtype=np.float64)
    b = np.asarray(reference_losses, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"reference_losses must have the shape of losses {a.shape}, got {b.shape}")
    return cumulative_loss(a - b)


@dataclass(frozen=True)
class OnlineResult:
    """What an online learner did on a batch of streams.

    Attributes:
        method: the learner (one of :data:`ONLINE_METHODS`, ``"hedge"`` or ``"hedge_fixed_share"``).
        losses: ``[S, T]`` float64, ℓ_t = the query MSE of round t, per stream.
        weights: Hedge only, ``[S, T, N]`` — w_t, the expert weights played at round t.
        final_params: the learner's state after the last round (per-stream θ for
            ``fine_tune_last``, per-stream θ_init for ``online_meta``, the fixed θ otherwise;
            ``None`` for Hedge).
        wall_s: seconds the rounds took (tracing included).
        config: the arguments of the run.
    """

    method: str
    losses: NDArray[np.float64]
    weights: NDArray[np.float64] | None = None
    final_params: list[tf.Tensor] | None = None
    wall_s: float = 0.0
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def per_stream_loss(self) -> NDArray[np.float64]:
        """``[S]`` mean per-round loss of every stream, (1/T) Σ_t ℓ_t."""
        return self.losses.mean(axis=1)

    @property
    def cumulative_loss(self) -> NDArray[np.float64]:
        """``[S, T]`` Σ_{s≤t} ℓ_s."""
        return cumulative_loss(self.losses)

    def mean_and_ci95(self) -> tuple[float, float]:
        """Mean per-round loss over streams and its 95 % half-width (over streams)."""
        return mean_and_ci95(self.per_stream_loss)


# --------------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------------
def _check_stream(stream: Any, dtype: tf.DType) -> tuple[tf.Tensor, ...]:
    """The four point tensors of a :class:`StreamBatch`, rank 4, cast to ``dtype``."""
    names = ("support_x", "support_y", "query_x", "query_y")
    if not all(hasattr(stream, n) for n in names):
        raise TypeError(f"stream must be a StreamBatch (support_x, support_y, query_x, query_y of "
                        f"shape [streams, rounds, points, 1]), got {type(stream).__name__}")
    tensors = tuple(tf.cast(getattr(stream, n), dtype) for n in names)
    for name, t in zip(names, tensors, strict=True):
        if t.shape.rank != 4:
            raise ValueError(f"stream.{name} must have shape [streams, rounds, points, features], "
                             f"got {t.shape}")
    if tensors[0].shape[:2] != tensors[2].shape[:2]:
        raise ValueError(f"stream.support_x and stream.query_x must agree on [streams, rounds], "
                         f"got {tensors[0].shape} and {tensors[2].shape}")
    return tensors


# --------------------------------------------------------------------------------------------
# one round of online meta-learning
# --------------------------------------------------------------------------------------------
def online_meta_update(
    init_params: Sequence[tf.Tensor],
    support_x: tf.Tensor,
    support_y: tf.Tensor,
    query_x: tf.Tensor,
    query_y: tf.Tensor,
    *,
    inner_lr: float | tf.Tensor,
    meta_lr: float | tf.Tensor,
    num_inner_steps: int = 1,
    first_order: bool = False,
    activation: Activation = "relu",
) -> list[tf.Tensor]:
    """One online MAML step on the round just seen: θ ← θ − β ∇_θ L^query(adapt(θ, support)).

    The gradient is taken with respect to the *initialisation* θ, through the adaptation
    θ' = adapt(θ, support) (:func:`metalearn_lib.two_level.adapt`), and evaluated at the adapted
    θ' on the query set: for one inner step ∇_θ = (I − α ∇²L^support(θ)) ∇L^query(θ') (second
    order), or ∇L^query(θ') with ``first_order=True``. It reuses
    :func:`metalearn_lib.two_level.meta_gradient`.

    - Per-stream initialisations (``W1: [S, in, out]``): every stream s takes its own step
      θ_s ← θ_s − β ∇_{θ_s} L_s^query(θ'_s). ``meta_gradient`` differentiates the *mean*
      (1/S) Σ_s L_s, whose gradient with respect to θ_s is (1/S) ∇L_s (no other stream enters),
      so it is multiplied by S here: the streams do not influence each other.
    - A shared initialisation (``W1: [in, out]``): one step on the mean over the S tasks,
      θ ← θ − β (1/S) Σ_s ∇_θ L_s^query(θ'_s) — batch MAML's SGD step.

    Args:
        init_params: θ_init, shared or one per stream.
        support_x, support_y: the round's support sets ``[S, K, in]``, ``[S, K, out]``.
        query_x, query_y: its query sets ``[S, Q, in]``, ``[S, Q, out]``.
        inner_lr: α >= 0, the adaptation's SGD step.
        meta_lr: β >= 0, the step of the initialisation.
        num_inner_steps: inner SGD steps, >= 1.
        first_order: drop the second-order term (first-order MAML).
        activation: hidden activation of the MLP.

    Returns:
        The new θ_init, shaped like ``init_params``.

    Raises:
        ValueError: a negative step, ``num_inner_steps`` < 1, shapes that do not fit (per-stream
            parameters for a different number of streams).
        TypeError: ``init_params`` not a list of float tensors.
    """
    params = check_param_list("init_params", init_params)
    meta_lr = check_rate("meta_lr", meta_lr, positive=False)
    num_inner_steps = check_int("num_inner_steps", num_inner_steps, 1)
    support_x = tf.convert_to_tensor(support_x)
    num_streams = support_x.shape[0]
    scale = 1.0
    if is_batched(params):
        if params[0].shape[0] != num_streams:
            raise ValueError(f"init_params carry {params[0].shape[0]} streams but support_x has "
                             f"{num_streams}")
        scale = float(num_streams)  # undo the 1/S of the mean inside maml_loss
    _, grads = meta_gradient(params, support_x, support_y, query_x, query_y, inner_lr=inner_lr,
                             num_inner_steps=num_inner_steps, first_order=first_order,
                             activation=activation)
    return [p - meta_lr * scale * g for p, g in zip(params, grads, strict=True)]


# --------------------------------------------------------------------------------------------
# parameter learners
# --------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=32)
def _compiled_rounds(
    method: str, num_inner_steps: int, first_order: bool, activation: Activation, jit_compile: bool
) -> Callable[..., tuple[list[tf.Tensor], tf.Tensor]]:
    """The compiled loop over rounds of one learner (:func:`compile_training_loop`)."""

    def one_round(
        carry: list[tf.Tensor], t: tf.Tensor, support_x: tf.Tensor, support_y: tf.Tensor,
        query_x: tf.Tensor, query_y: tf.Tensor, inner_lr: tf.Tensor, meta_lr: tf.Tensor,
    ) -> tuple[list[tf.Tensor], tf.Tensor]:
        sx, sy = tf.gather(support_x, t, axis=1), tf.gather(support_y, t, axis=1)  # [S, K, 1]
        qx, qy = tf.gather(query_x, t, axis=1), tf.gather(query_y, t, axis=1)
        kwargs = dict(inner_lr=inner_lr, num_inner_steps=num_inner_steps, activation=activation)
        # θ_t = θ (frozen), else adapt(θ_{t−1} | θ_MAML | θ_init,t, support_t)
        played = carry if method == "frozen" else adapt(carry, sx, sy, first_order=True, **kwargs)
        loss = mse(forward(played, qx, activation=activation), qy)  # ℓ_t, [S]
        if method == "fine_tune_last":
            carry = played
        elif method == "online_meta":  # after scoring: θ_init ← θ_init − β ∇ L_t^query(adapt(θ_init))
            carry = online_meta_update(carry, sx, sy, qx, qy, meta_lr=meta_lr,
                                       first_order=first_order, **kwargs)
        return carry, loss

    return compile_training_loop(one_round, jit_compile=jit_compile)


def run_online(
    method: str,
    stream: StreamBatch,
    *,
    params: Sequence[tf.Tensor],
    inner_lr: float = 0.01,
    num_inner_steps: int = 1,
    meta_lr: float = 1e-3,
    first_order: bool = False,
    activation: Activation = "relu",
    jit_compile: bool = False,
) -> OnlineResult:
    """Run a parameter learner over every stream of ``stream``, round by round.

    Protocol of round t (see the module docstring): receive support_t, play θ_t, be scored
    ℓ_t = L_t^query(θ_t), then (``online_meta`` only) update from round t's support and query sets.

    - ``"frozen"``: θ_t = θ;
    - ``"fine_tune_last"``: θ_t = adapt(θ_{t−1}, support_t), θ_{−1} = θ;
    - ``"maml_readapt"``: θ_t = adapt(θ, support_t) (θ = θ_MAML);
    - ``"online_meta"``: θ_t = adapt(θ_init,t, support_t), θ_init,0 = θ, then
      θ_init,t+1 = :func:`online_meta_update` (θ_init,t, round t) — one per stream.

    The rounds run as one ``tf.range`` loop in a ``tf.function`` (XLA with ``jit_compile``), all
    streams batched; a stream's losses depend on its own data only.

    Args:
        method: one of :data:`ONLINE_METHODS`.
        stream: a :class:`~metalearn_lib.applications.streams.StreamBatch`.
        params: the shared starting θ (``W1: [in, out]``): the pretrained network, θ_MAML, …
        inner_lr: α >= 0 of adapt.
        num_inner_steps: SGD steps per round, >= 1.
        meta_lr: β >= 0 of ``online_meta`` (ignored by the others).
        first_order: ``online_meta`` with the first-order meta-gradient.
        activation: hidden activation of the MLP.
        jit_compile: compile the loop over rounds with XLA.

    Returns:
        An :class:`OnlineResult` (``losses [S, T]``).

    Raises:
        ValueError: an unknown ``method``, per-stream ``params``, an argument out of range.
        TypeError: an argument of the wrong type.
    """
    if method not in ONLINE_METHODS:
        raise ValueError(f"method must be one of {list(ONLINE_METHODS)}, got {method!r}")
    params = check_param_list("params", params)
    if is_batched(params):
        raise ValueError("params must be shared (W1 of rank 2 [in, out]), not per stream")
    inner_lr = check_number("inner_lr", inner_lr, positive=False)
    meta_lr = check_number("meta_lr", meta_lr, positive=False)
    num_inner_steps = check_int("num_inner_steps", num_inner_steps, 1)
    if not isinstance(first_order, bool) or not isinstance(jit_compile, bool):
        raise TypeError("first_order and jit_compile must be bools")
    dtype = params[0].dtype
    sx, sy, qx, qy = _check_stream(stream, dtype)
    num_streams, num_rounds = int(sx.shape[0]), int(sx.shape[1])
    carry = tile_params(params, num_streams) if method in ("fine_tune_last", "online_meta") else params
    run_rounds = build_cached(_compiled_rounds, method, num_inner_steps, first_order, activation,
                              jit_compile)
    constants = (sx, sy, qx, qy, tf.constant(inner_lr, dtype), tf.constant(meta_lr, dtype))
    final, losses, wall_s = run_in_chunks(run_rounds, carry, num_iterations=num_rounds,
                                          iterations_per_call=num_rounds, constants=constants)
    config = dict(method=method, inner_lr=inner_lr, num_inner_steps=num_inner_steps,
                  meta_lr=meta_lr, first_order=first_order, num_streams=num_streams,
                  num_rounds=num_rounds, num_shots=int(sx.shape[2]), num_query=int(qx.shape[2]))
    return OnlineResult(method, np.asarray(losses, np.float64).T, None, list(final), wall_s, config)


# --------------------------------------------------------------------------------------------
# experts: Hedge and fixed share
# --------------------------------------------------------------------------------------------
def fixed_share_update(
    log_weights: ArrayLike, losses: ArrayLike, learning_rate: float, share: float
) -> NDArray[np.float64]:
    """One fixed-share step (Herbster & Warmuth 1998), in log space::

        w ← (1 − α) · Hedge(w, ℓ) + α / N,   Hedge(w, ℓ)_i ∝ w_i exp(−η ℓ_i)

    (chapter 3's :func:`metalearn_lib.averaging.hedge_update`, then a share α of the mass spread
    uniformly). α = 0 is Hedge; α = 1 forgets everything (uniform weights).

    Args:
        log_weights: ``[N]`` or a batch ``[..., N]`` of log weights (``-inf`` allowed).
        losses: this round's losses, the shape of ``log_weights``.
        learning_rate: η >= 0.
        share: α in [0, 1].

    Returns:
        float64 normalised log weights (logsumexp 0 along the last axis), every weight >= α/N.

    Raises:
        ValueError: as :func:`~metalearn_lib.averaging.hedge_update`; ``share`` outside [0, 1].
    """
    share = check_unit("share", share)
    hedged = hedge_update(log_weights, losses, learning_rate)
    num_experts = hedged.shape[-1]
    with np.errstate(divide="ignore"):  # log 0 = −inf at α = 0 or α = 1, which logaddexp handles
        return np.logaddexp(np.log1p(-share) + hedged, np.log(share / num_experts))


def build_regime_experts(
    init_params: Sequence[tf.Tensor],
    stream: StreamBatch,
    *,
    num_points: int = 200,
    num_steps: int = 100,
    inner_lr: float = 0.01,
    x_range: tuple[float, float] = (-5.0, 5.0),
    seed: int = 0,
    activation: Activation = "relu",
) -> list[tf.Tensor]:
    """One expert per regime of every switching stream: θ_MAML adapted on many points of it.

    Expert (s, r) = :func:`~metalearn_lib.two_level.adapt` (θ, x, y), ``num_steps`` full-batch
    SGD steps of size α on ``num_points`` points x ~ U[x_range], y = A_{s,r} sin(x − φ_{s,r}) of
    regime r of stream s. The pool thus knows every regime (not which one is active): the
    "tracking the best expert" setting.

    Args:
        init_params: the shared θ to adapt (θ_MAML).
        stream: a switching :class:`~metalearn_lib.applications.streams.StreamBatch` (with
            ``regime_amplitude`` and ``regime_phase``).
        num_points: points per regime, >= 1.
        num_steps: SGD steps, >= 0.
        inner_lr: α >= 0.
        x_range: the inputs' range.
        seed: int >= 0 of the points.
        activation: hidden activation of the MLP.

    Returns:
        The pool as a per-stream parameter list, each tensor ``[S, R, *shape]``.
    """
    params = check_param_list("init_params", init_params)
    if is_batched(params):
        raise ValueError("init_params must be shared (W1 of rank 2), not per stream")
    if getattr(stream, "regime_amplitude", None) is None:
        raise ValueError("stream must be a switching stream's StreamBatch (regime_amplitude set)")
    num_points = check_int("num_points", num_points, 1)
    num_steps = check_int("num_steps", num_steps, 0)
    x_low, x_high = check_range("x_range", x_range)
    seed = check_int("seed", seed, 0)
    dtype = params[0].dtype
    amplitude = tf.cast(stream.regime_amplitude, dtype)
    num_streams, num_regimes = int(amplitude.shape[0]), int(amplitude.shape[1])
    num_tasks = num_streams * num_regimes
    x = tf.cast(x_low + (x_high - x_low) * uniform01([num_tasks, num_points, 1], seed_pair(seed),
                                                     tf.float32), dtype)
    y = SinusoidFamily.function(x, tf.reshape(amplitude, [-1]),
                                tf.reshape(tf.cast(stream.regime_phase, dtype), [-1]))
    experts = tile_params(params, num_tasks)
    if num_steps > 0:  # the steps as one compiled tf.range loop (chapter 2's adapt, one step each)
        run_steps = build_cached(_compiled_sgd, activation)
        experts, _, _ = run_in_chunks(run_steps, experts, num_iterations=num_steps,
                                      iterations_per_call=num_steps,
                                      constants=(x, y, tf.constant(check_number("inner_lr", inner_lr,
                                                                                positive=False), dtype)))
    return [tf.reshape(p, [num_streams, num_regimes, *p.shape[1:]]) for p in experts]


@functools.lru_cache(maxsize=8)
def _compiled_sgd(activation: Activation) -> Callable[..., tuple[list[tf.Tensor], tf.Tensor]]:
    """A compiled loop of full-batch SGD steps θ ← adapt(θ, x, y) (one step of size α each)."""

    def one_step(params: list[tf.Tensor], step: tf.Tensor, x: tf.Tensor, y: tf.Tensor,
                 inner_lr: tf.Tensor) -> tuple[list[tf.Tensor], tf.Tensor]:
        del step
        params = adapt(params, x, y, inner_lr=inner_lr, first_order=True, activation=activation)
        return params, tf.reduce_mean(mse(forward(params, x, activation=activation), y))

    return compile_training_loop(one_step)


def _expert_outputs(expert_params: list[tf.Tensor], query_x: tf.Tensor,
                    activation: Activation) -> tf.Tensor:
    """``[S, N, T, Q]``: every expert's prediction on every round's query inputs."""
    num_streams, num_rounds, num_query, features = query_x.shape
    points = num_rounds * num_query
    if expert_params[0].shape.rank == 4:  # per-stream pools [S, N, in, out]
        num_experts = int(expert_params[0].shape[1])
        if expert_params[0].shape[0] != num_streams:
            raise ValueError(f"expert_params carry pools for {expert_params[0].shape[0]} streams, "
                             f"the stream has {num_streams}")
        flat = [tf.reshape(p, [num_streams * num_experts, *p.shape[2:]]) for p in expert_params]
        x = tf.broadcast_to(tf.reshape(query_x, [num_streams, 1, points, features]),
                            [num_streams, num_experts, points, features])
        out = forward(flat, tf.reshape(x, [num_streams * num_experts, points, features]),
                      activation=activation)
        return tf.reshape(out, [num_streams, num_experts, num_rounds, num_query])
    if expert_params[0].shape.rank == 3:  # one pool for every stream [N, in, out]
        num_experts = int(expert_params[0].shape[0])
        x = tf.broadcast_to(tf.reshape(query_x, [1, num_streams * points, features]),
                            [num_experts, num_streams * points, features])
        out = tf.reshape(forward(expert_params, x, activation=activation),
                         [num_experts, num_streams, num_rounds, num_query])
        return tf.transpose(out, [1, 0, 2, 3])
    raise ValueError(f"expert_params must be a pool [N, ...] (W1 of rank 3) or per-stream pools "
                     f"[S, N, ...] (W1 of rank 4), got W1 of shape {expert_params[0].shape}")


def run_expert_hedge(
    expert_params: Sequence[tf.Tensor],
    stream: StreamBatch,
    *,
    learning_rate: float,
    share: float = 0.0,
    activation: Activation = "relu",
) -> OnlineResult:
    """Hedge (``share`` = 0) or fixed-share Hedge over a pool of fixed networks, on every stream.

    Round t: play the weights w_t (w_0 uniform), predict the weight-averaged output
    ŷ_t(x) = Σ_n w_{t,n} f_n(x) (chapter 3's ensemble), be scored ℓ_t = L_t^query(ŷ_t); then,
    with the experts' query losses ℓ_{t,n} = L_t^query(f_n) of that round,
    w_{t+1} = :func:`fixed_share_update` (w_t, ℓ_{t,·}, η, α). (The support points of round t are
    not used: the pool is fixed and the weights only move after scoring.)

    Args:
        expert_params: the pool — one pool shared by all streams (each tensor ``[N, *shape]``) or
            one per stream (``[S, N, *shape]``, e.g. :func:`build_regime_experts`).
        stream: a :class:`~metalearn_lib.applications.streams.StreamBatch`.
        learning_rate: η >= 0 (the losses are MSEs, not in [0, 1]: tune η to their scale).
        share: α in [0, 1]; 0 is plain Hedge.
        activation: hidden activation of the MLP.

    Returns:
        An :class:`OnlineResult`, method ``"hedge"`` or ``"hedge_fixed_share"``, with
        ``losses [S, T]`` and ``weights [S, T, N]``.
    """
    expert_params = check_param_list("expert_params", expert_params)
    learning_rate = check_number("learning_rate", learning_rate, positive=False)
    share = check_unit("share", share)
    t0 = time.perf_counter()
    _, _, qx, qy = _check_stream(stream, expert_params[0].dtype)
    outputs = _expert_outputs(expert_params, qx, activation).numpy().astype(np.float64)  # [S,N,T,Q]
    targets = qy.numpy()[..., 0].astype(np.float64)  # [S, T, Q]
    expert_losses = np.mean((outputs - targets[:, np.newaxis]) ** 2, axis=-1).transpose(0, 2, 1)
    num_streams, num_rounds, num_experts = expert_losses.shape
    log_weights = np.full((num_streams, num_experts), -math.log(num_experts))
    weights = np.empty((num_streams, num_rounds, num_experts))
    for t in range(num_rounds):  # w_t played, then updated with round t's losses
        weights[:, t] = np.exp(log_weights)
        log_weights = fixed_share_update(log_weights, expert_losses[:, t], learning_rate, share)
    prediction = np.einsum("stn,sntq->stq", weights, outputs)
    losses = np.mean((prediction - targets) ** 2, axis=-1)
    method = "hedge_fixed_share" if share > 0 else "hedge"
    config = dict(method=method, learning_rate=learning_rate, share=share, num_experts=num_experts,
                  num_streams=num_streams, num_rounds=num_rounds)
    return OnlineResult(method, losses, weights, None, time.perf_counter() - t0, config)
