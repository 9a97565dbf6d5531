"""A learned optimiser: a tiny coordinate-wise network that maps gradient features to updates.

Chapter ``04_teacher_guided_loop``. The teacher here is itself trained (Andrychowicz et al.
2016, "Learning to learn by gradient descent by gradient descent"; features after Metz et al.
2020): one small MLP N_φ is applied to every coordinate j of every learner parameter
independently, so a thousand-parameter learner and a ten-parameter learner use the same φ.

Per coordinate it keeps explicit state (t, m_fast, m_slow, v), updated from the gradient g_j::

    m_k ← β_k m_k + (1 − β_k) g_j   (β_fast = 0.5, β_slow = 0.9),   v ← β_v v + (1 − β_v) g_j²
    (β_v = 0.99), with bias corrections m̂_k = m_k / (1 − β_kᵗ), v̂ = v / (1 − β_vᵗ);

its features are scale free, f_j = [g_j, m̂_fast, m̂_slow] / (√v̂ + ε), and its update is ::

    Δθ_j = −exp(log_lr) · (m̂_slow / (√v̂ + ε) + N_φ(f_j)),   N_φ(f) = tanh(f W1 + b1) W2 + b2,

i.e. an Adam-like direction (with ``N_φ = 0`` it *is* Adam with β₂ = 0.99 and step exp(log_lr))
plus a learned correction, with a learned step size. φ = [W1, b1, W2, b2, log_lr].

Meta-training (:func:`meta_train_learned_optimizer`) differentiates through ``unroll`` learner
steps on a batch of tasks (truncated backpropagation through time): the meta-loss is ::

    L_meta(φ) = (1/T) Σ_{t=1..T} (1/N) Σ_i L_i(θ_{i,t}),   θ_{i,t+1} = θ_{i,t} + Δθ_{i,t}(φ),

the learner's training loss averaged over the unroll and the tasks. With ``second_order=False``
(as in Andrychowicz et al.) the learner's gradients ∇L_i(θ_{i,t}) are treated as constant
inputs (``tf.stop_gradient``), which drops Hessian terms; ``second_order=True`` keeps them and
gives the exact meta-gradient (checked against finite differences in the tests). Meta-training
defaults to second order: for the small learners here it costs ~20 % more time per iteration
and trains a clearly better optimiser (20-step loss 0.19 vs 0.27 after 200 iterations).

The learner is a functional MLP from :mod:`metalearn_lib.models` trained on the *support* set
of each task (a linear model, ``layer_sizes=[d, 1]``, by default); all tasks train at once as
one batched parameter list. :class:`ScaledFeatures` makes a family ill-conditioned (input
coordinate j multiplied by s_j), the setting where per-coordinate adaptivity beats SGD.

Imports the ground floor (:mod:`metalearn_lib.tasks`, :mod:`metalearn_lib.models`) and the
utilities (:mod:`metalearn_lib.optim`, :mod:`metalearn_lib.validation`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import tensorflow as tf

from metalearn_lib.models import Activation, forward, init_mlp, is_batched, mse, tile_params
from metalearn_lib.optim import adam_init, adam_update, compile_training_loop, run_in_chunks
from metalearn_lib.tasks import SeedLike, TaskBatch, TaskFamily
from metalearn_lib.validation import check_int, check_number

__all__ = [
    "BETA_FAST",
    "BETA_SLOW",
    "BETA_V",
    "LearnedOptimizerState",
    "LearnedOptimizerTeacher",
    "MetaTrainResult",
    "ScaledFeatures",
    "compare_optimizers",
    "init_learned_optimizer",
    "init_optimizer_state",
    "learned_update",
    "meta_train_learned_optimizer",
    "unrolled_loss",
]

BETA_FAST = 0.5
BETA_SLOW = 0.9
BETA_V = 0.99
EPSILON = 1e-8
NUM_FEATURES = 3
_ALG = "philox"


# --------------------------------------------------------------------------------------------
# an ill-conditioned task family
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScaledFeatures:
    """A task family whose input coordinate j is multiplied by ``scales[j]``: x̃_j = s_j x_j.

    The targets are unchanged, so a linear learner needs weights w_j / s_j and the loss
    Hessian has eigenvalues ∝ s_j²: scales spanning 0.1 … 10 give a condition number ~10⁴,
    which no single SGD step size handles well.

    Attributes:
        base: the underlying family (e.g. :class:`metalearn_lib.tasks.LinearFamily`).
        scales: one positive finite number per input feature.
    """

    base: Any
    scales: tuple[float, ...]

    def __post_init__(self) -> None:
        if not callable(getattr(self.base, "sample", None)):
            raise TypeError(f"base must be a task family with a sample() method, "
                            f"got {type(self.base).__name__}")
        if isinstance(self.scales, (str, bytes)) or not isinstance(self.scales, Sequence) \
                or len(self.scales) == 0:
            raise TypeError(f"scales must be a non-empty sequence of numbers > 0, got {self.scales!r}")
        object.__setattr__(self, "scales",
                           tuple(check_number(f"scales[{i}]", s) for i, s in enumerate(self.scales)))

    def sample(self, num_tasks: int, num_shots: int, num_query: int | None = None, *,
               seed: SeedLike) -> TaskBatch:
        """The base family's batch with x̃ = x · diag(s) on support and query inputs."""
        batch = self.base.sample(num_tasks, num_shots, num_query, seed=seed)
        if batch.support_x.shape[-1] != len(self.scales):
            raise ValueError(f"scales has {len(self.scales)} entries but the family has "
                             f"{batch.support_x.shape[-1]} features")
        s = tf.constant(self.scales, batch.support_x.dtype)
        return TaskBatch(batch.support_x * s, batch.support_y, batch.query_x * s, batch.query_y,
                         dict(batch.task_params))


# --------------------------------------------------------------------------------------------
# the optimiser network
# --------------------------------------------------------------------------------------------
class LearnedOptimizerState(NamedTuple):
    """Per-coordinate state: step count t (a scalar) and m_fast, m_slow, v shaped like θ."""

    step: tf.Tensor
    m_fast: list[tf.Tensor]
    m_slow: list[tf.Tensor]
    v: list[tf.Tensor]


def init_learned_optimizer(
    hidden: int = 16, seed: int = 0, *, init_lr: float = 0.1, dtype: tf.DType = tf.float32
) -> list[tf.Tensor]:
    """φ = [W1 (3×hidden), b1, W2 (hidden×1), b2, log_lr] of the coordinate-wise network.

    W1 ~ Glorot, W2 ~ N(0, 0.01²) (so the network starts as a small correction to the Adam-like
    direction), biases 0, log_lr = log(``init_lr``).

    Raises:
        ValueError / TypeError: ``hidden`` < 1, a bad ``seed``, ``init_lr`` <= 0 or a
            non-floating ``dtype``.
    """
    hidden = check_int("hidden", hidden, 1)
    seed = check_int("seed", seed, 0)
    init_lr = check_number("init_lr", init_lr)
    w1, b1, _, _ = init_mlp([NUM_FEATURES, hidden, 1], seed, init="glorot", dtype=dtype)
    w2 = tf.random.stateless_truncated_normal([hidden, 1], tf.constant([seed, 1], tf.int64),
                                              stddev=0.01, dtype=w1.dtype, alg=_ALG)
    return [w1, b1, w2, tf.zeros([1], w1.dtype), tf.constant(math.log(init_lr), w1.dtype)]


def _check_opt_params(opt_params: Any) -> list[tf.Tensor]:
    if isinstance(opt_params, (tf.Tensor, np.ndarray)) or not isinstance(opt_params, Sequence) \
            or len(opt_params) != 5:
        raise ValueError("opt_params must be the list [W1, b1, W2, b2, log_lr] from "
                         "init_learned_optimizer")
    ps = [tf.convert_to_tensor(p) for p in opt_params]
    w1, b1, w2, b2, log_lr = ps
    if w1.shape.rank != 2 or w1.shape[0] != NUM_FEATURES or b1.shape.rank != 1 \
            or w2.shape.rank != 2 or w2.shape[1] != 1 or w2.shape[0] != w1.shape[1] \
            or b1.shape[0] != w1.shape[1] or b2.shape.as_list() != [1] or log_lr.shape.rank != 0:
        raise ValueError(f"opt_params must be [W1 [3, h], b1 [h], W2 [h, 1], b2 [1], log_lr []], "
                         f"got shapes {[p.shape.as_list() for p in ps]}")
    if not w1.dtype.is_floating or any(p.dtype != w1.dtype for p in ps):
        raise ValueError(f"opt_params must share one floating dtype, got {[p.dtype.name for p in ps]}")
    return ps


def init_optimizer_state(params: Sequence[tf.Tensor]) -> LearnedOptimizerState:
    """t = 0 and m_fast = m_slow = v = 0, shaped like ``params``."""
    params = [tf.convert_to_tensor(p) for p in params]
    zeros = [tf.zeros_like(p) for p in params]
    return LearnedOptimizerState(tf.zeros([], params[0].dtype), zeros, list(zeros), list(zeros))


def learned_update(
    opt_params: Sequence[tf.Tensor], grads: Sequence[tf.Tensor], state: LearnedOptimizerState
) -> tuple[list[tf.Tensor], LearnedOptimizerState]:
    """One step of the learned optimiser, coordinate by coordinate.

    t ← t + 1; m_k ← β_k m_k + (1 − β_k) g; v ← β_v v + (1 − β_v) g²;
    f = [g, m̂_fast, m̂_slow] / (√v̂ + ε);
    Δθ = −exp(log_lr) · (m̂_slow / (√v̂ + ε) + tanh(f W1 + b1) W2 + b2).

    Every coordinate of every tensor in ``grads`` goes through the same network, so permuting
    coordinates permutes the updates. Any shapes (shared or per-task parameters) work.

    Returns:
        ``(updates, new_state)``; the caller applies θ ← θ + Δθ.
    """
    w1, b1, w2, b2, log_lr = opt_params
    step = state.step + 1.0
    c_fast = 1.0 - tf.pow(tf.constant(BETA_FAST, step.dtype), step)
    c_slow = 1.0 - tf.pow(tf.constant(BETA_SLOW, step.dtype), step)
    c_v = 1.0 - tf.pow(tf.constant(BETA_V, step.dtype), step)
    lr = tf.exp(log_lr)
    updates, new_fast, new_slow, new_v = [], [], [], []
    for g, mf, ms, v in zip(grads, state.m_fast, state.m_slow, state.v, strict=True):
        mf = BETA_FAST * mf + (1.0 - BETA_FAST) * g
        ms = BETA_SLOW * ms + (1.0 - BETA_SLOW) * g
        v = BETA_V * v + (1.0 - BETA_V) * tf.square(g)
        denom = tf.sqrt(v / c_v) + EPSILON
        direction = (ms / c_slow) / denom
        feats = tf.stack([g / denom, (mf / c_fast) / denom, direction], axis=-1)
        hid = tf.tanh(tf.tensordot(feats, w1, axes=1) + b1)
        correction = tf.tensordot(hid, w2, axes=1)[..., 0] + b2[0]
        updates.append(-lr * (direction + correction))
        new_fast.append(mf)
        new_slow.append(ms)
        new_v.append(v)
    return updates, LearnedOptimizerState(step, new_fast, new_slow, new_v)


class LearnedOptimizerTeacher:
    """The learned optimiser as a chapter-4 teacher: Δθ_t = LearnedOpt_φ(∇L(θ_t), state_t).

    ``reset(params)`` zeroes the per-coordinate state; ``update(state)`` reads
    ``state.grads`` of a :class:`metalearn_lib.teacher.loop.LearnerState` and returns Δθ_t.
    """

    def __init__(self, opt_params: Sequence[tf.Tensor]) -> None:
        self.opt_params = _check_opt_params(opt_params)
        self._state: LearnedOptimizerState | None = None

    def reset(self, params: Sequence[tf.Tensor]) -> None:
        """Start a new run from θ_0 = ``params``."""
        self._state = init_optimizer_state(params)

    def update(self, state: Any) -> list[tf.Tensor]:
        """Δθ_t from the gradients in ``state`` (anything with a ``grads`` list)."""
        grads = getattr(state, "grads", None)
        if grads is None:
            raise TypeError(f"state must have a grads attribute (a LearnerState), "
                            f"got {type(state).__name__}")
        if self._state is None:
            self.reset(state.params)
        dtype = self.opt_params[0].dtype
        grads = [tf.cast(g, dtype) for g in grads]
        updates, self._state = learned_update(self.opt_params, grads, self._state)
        return updates


# --------------------------------------------------------------------------------------------
# unrolling the learner
# --------------------------------------------------------------------------------------------
def _task_losses(params: list[tf.Tensor], x: tf.Tensor, y: tf.Tensor,
                 activation: Activation) -> tf.Tensor:
    """L_i(θ_i) = MSE of task i's learner on its points, ``[tasks]``."""
    return mse(forward(params, x, activation=activation), y)


def _unroll(
    opt_params: list[tf.Tensor], params: list[tf.Tensor], state: LearnedOptimizerState,
    x: tf.Tensor, y: tf.Tensor, num_steps: int, second_order: bool, activation: Activation,
) -> tuple[tf.Tensor, list[tf.Tensor], LearnedOptimizerState]:
    """(1/T) Σ_{t=1..T} mean_i L_i(θ_{i,t}), the final θ_T and state (Python-unrolled)."""
    total = tf.zeros([], x.dtype)
    for t in range(num_steps + 1):
        with tf.GradientTape() as tape:
            tape.watch(params)
            losses = _task_losses(params, x, y, activation)
            summed = tf.reduce_sum(losses)  # ∂/∂θ_i of the sum is task i's own gradient
        if t > 0:
            total += tf.reduce_mean(losses)
        if t == num_steps:
            break
        grads = tape.gradient(summed, params)
        if not second_order:
            grads = [tf.stop_gradient(g) for g in grads]
        updates, state = learned_update(opt_params, grads, state)
        params = [p + u for p, u in zip(params, updates, strict=True)]
    return total / num_steps, params, state


def _learner_init(layer_sizes: Sequence[int], learner_seed: int, dtype: tf.DType) -> list[tf.Tensor]:
    return init_mlp(list(layer_sizes), learner_seed, dtype=dtype)


def unrolled_loss(
    opt_params: Sequence[tf.Tensor],
    init_learner_params: Sequence[tf.Tensor],
    batch: TaskBatch,
    num_steps: int,
    *,
    second_order: bool = True,
    activation: Activation = "relu",
) -> tf.Tensor:
    """The meta-loss L_meta(φ) = (1/T) Σ_{t=1..T} (1/N) Σ_i L_i(θ_{i,t}) of one unroll.

    θ_{i,0} = ``init_learner_params`` (shared ones are tiled over the N tasks), then
    θ_{i,t+1} = θ_{i,t} + Δθ_{i,t} from :func:`learned_update` on ∇L_i(θ_{i,t}), L_i the MSE on
    task i's support set. Differentiable w.r.t. ``opt_params``; with ``second_order=False`` the
    learner's gradients are constants (first order, Andrychowicz et al. 2016), with ``True``
    the exact derivative (Hessian-vector products included).

    Raises:
        ValueError / TypeError: malformed ``opt_params`` or ``init_learner_params``, a ``batch``
            that is not a :class:`TaskBatch`, ``num_steps`` < 1.
    """
    opt_params = _check_opt_params(opt_params)
    num_steps = check_int("num_steps", num_steps, 1)
    if not isinstance(batch, TaskBatch):
        raise TypeError(f"batch must be a TaskBatch, got {type(batch).__name__}")
    if isinstance(init_learner_params, (tf.Tensor, np.ndarray)) \
            or not isinstance(init_learner_params, Sequence):
        raise TypeError("init_learner_params must be a list [W1, b1, ...] of tensors")
    dtype = opt_params[0].dtype
    params = [tf.cast(p, dtype) for p in init_learner_params]
    if not is_batched(params):
        params = tile_params(params, batch.num_tasks)
    x, y = tf.cast(batch.support_x, dtype), tf.cast(batch.support_y, dtype)
    loss, _, _ = _unroll(opt_params, params, init_optimizer_state(params), x, y, num_steps,
                         second_order, activation)
    return loss


# --------------------------------------------------------------------------------------------
# meta-training
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MetaTrainResult:
    """What :func:`meta_train_learned_optimizer` returns.

    Attributes:
        opt_params: the trained φ.
        losses: ``[num_iterations]`` meta-loss per iteration (mean over its truncations).
        wall_s: seconds spent (tracing included).
        config: the arguments of the run (pass ``num_shots``, ``layer_sizes``, ``activation``,
            ``learner_seed`` on to :func:`compare_optimizers`).
    """

    opt_params: list[tf.Tensor]
    losses: np.ndarray
    wall_s: float
    config: dict[str, Any] = field(default_factory=dict)


def _check_family(family: Any) -> None:
    if not callable(getattr(family, "sample", None)):
        raise TypeError(f"family must have a sample(num_tasks, num_shots, num_query, seed=) "
                        f"method, got {type(family).__name__}")


def _layer_sizes(family: Any, layer_sizes: Sequence[int] | None, dtype: tf.DType) -> list[int]:
    if layer_sizes is not None:
        return [check_int(f"layer_sizes[{i}]", s, 1) for i, s in enumerate(layer_sizes)]
    probe = family.sample(1, 1, seed=0)
    return [int(probe.support_x.shape[-1]), int(probe.support_y.shape[-1])]


def meta_train_learned_optimizer(
    family: TaskFamily,
    *,
    num_iterations: int,
    unroll: int = 20,
    truncations: int = 1,
    meta_batch_size: int = 16,
    num_shots: int = 20,
    outer_lr: float = 3e-3,
    second_order: bool = True,
    hidden: int = 16,
    init_lr: float = 0.1,
    layer_sizes: Sequence[int] | None = None,
    activation: Activation = "relu",
    learner_seed: int = 0,
    opt_params: Sequence[tf.Tensor] | None = None,
    seed: int = 0,
    iterations_per_call: int = 50,
    progress: bool = False,
) -> MetaTrainResult:
    """Meta-train φ with Adam on truncated unrolls of the learner on sampled tasks.

    Iteration k samples ``meta_batch_size`` tasks with seed ``[seed, k]``, starts every learner
    at θ_0 = ``init_mlp(layer_sizes, learner_seed)`` and runs ``truncations`` consecutive
    segments of ``unroll`` steps; after each segment φ ← Adam(φ, ∇_φ L_meta) and the learner's
    θ and optimiser state carry on, with the gradient cut (truncated BPTT). The optimiser thus
    sees horizons up to ``unroll · truncations`` — the horizon it is trained for. A non-finite
    meta-gradient skips the step.

    Args:
        family: task family; learners train on ``num_shots`` support points per task.
        num_iterations: meta-iterations, >= 1.
        unroll: learner steps per truncation, >= 1.
        truncations: segments per iteration, >= 1.
        meta_batch_size: tasks per iteration, >= 1.
        num_shots: points per task, >= 1.
        outer_lr: Adam step for φ, > 0.
        second_order: keep the learner's Hessian terms in the meta-gradient.
        hidden: width of the network (ignored when ``opt_params`` is given).
        init_lr: initial exp(log_lr) (ignored when ``opt_params`` is given).
        layer_sizes: the learner's widths; ``None``: linear, ``[features, outputs]``.
        activation: the learner's hidden activation.
        learner_seed: seed of θ_0.
        opt_params: start from these φ instead of :func:`init_learned_optimizer`.
        seed: seed of φ's initialisation and of the task stream.
        iterations_per_call: iterations per compiled ``tf.function`` call.
        progress: show a ``tqdm.auto`` progress bar.

    Raises:
        ValueError / TypeError: an argument out of range or of the wrong type (the message
            names it).
    """
    _check_family(family)
    num_iterations = check_int("num_iterations", num_iterations, 1)
    unroll = check_int("unroll", unroll, 1)
    truncations = check_int("truncations", truncations, 1)
    meta_batch_size = check_int("meta_batch_size", meta_batch_size, 1)
    num_shots = check_int("num_shots", num_shots, 1)
    outer_lr = check_number("outer_lr", outer_lr)
    learner_seed = check_int("learner_seed", learner_seed, 0)
    seed = check_int("seed", seed, 0)
    iterations_per_call = check_int("iterations_per_call", iterations_per_call, 1)
    if opt_params is None:
        opt_params = init_learned_optimizer(hidden, seed, init_lr=init_lr,
                                            dtype=getattr(family, "dtype", tf.float32))
    opt_params = _check_opt_params(opt_params)
    dtype = opt_params[0].dtype
    sizes = _layer_sizes(family, layer_sizes, dtype)
    theta0 = tile_params(_learner_init(sizes, learner_seed, dtype), meta_batch_size)
    config = dict(num_iterations=num_iterations, unroll=unroll, truncations=truncations,
                  meta_batch_size=meta_batch_size, num_shots=num_shots, outer_lr=outer_lr,
                  second_order=second_order, hidden=int(opt_params[0].shape[1]),
                  layer_sizes=sizes, activation=activation, learner_seed=learner_seed, seed=seed)

    def one_iteration(carry: tuple[list[tf.Tensor], Any],
                      k: tf.Tensor) -> tuple[tuple[list[tf.Tensor], Any], tf.Tensor]:
        phi, adam = carry
        batch = family.sample(meta_batch_size, num_shots, seed=tf.stack([tf.constant(seed, tf.int64), k]))
        x, y = tf.cast(batch.support_x, dtype), tf.cast(batch.support_y, dtype)
        params, state = list(theta0), init_optimizer_state(theta0)
        total = tf.zeros([], dtype)
        for _ in range(truncations):
            with tf.GradientTape() as tape:
                tape.watch(phi)
                loss, params, state = _unroll(phi, params, state, x, y, unroll, second_order,
                                              activation)
            grads = tape.gradient(loss, phi)
            finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in grads])
            grads = [tf.where(finite, g, tf.zeros_like(g)) for g in grads]
            phi, adam = adam_update(phi, grads, adam, learning_rate=outer_lr)
            params = [tf.stop_gradient(p) for p in params]
            state = tf.nest.map_structure(tf.stop_gradient, state)
            total += loss
        return (phi, adam), total / truncations

    run_chunk = compile_training_loop(one_iteration, metrics_dtype=dtype)
    (phi, _), losses, wall_s = run_in_chunks(
        run_chunk, (list(opt_params), adam_init(opt_params)), num_iterations=num_iterations,
        iterations_per_call=iterations_per_call, progress=progress, desc="learned optimiser",
        postfix=lambda m: {"loss": f"{float(np.mean(m)):.4f}"})
    return MetaTrainResult(list(phi), losses, wall_s, config)


# --------------------------------------------------------------------------------------------
# evaluation against SGD and Adam
# --------------------------------------------------------------------------------------------
def _make_runner(kind: str, activation: Activation) -> Any:
    """A ``tf.function`` returning the per-task losses ``[num_steps + 1, tasks]`` of one method."""

    @tf.function
    def run(phi: list[tf.Tensor], lr: tf.Tensor, params: list[tf.Tensor], x: tf.Tensor,
            y: tf.Tensor, num_steps: int) -> tf.Tensor:
        record = tf.TensorArray(x.dtype, size=num_steps + 1)
        lstate = init_optimizer_state(params)
        astate = adam_init(params)
        for t in tf.range(num_steps + 1):
            with tf.GradientTape() as tape:
                tape.watch(params)
                losses = _task_losses(params, x, y, activation)
                summed = tf.reduce_sum(losses)
            record = record.write(t, losses)
            grads = tape.gradient(summed, params)
            if kind == "sgd":
                params = [p - lr * g for p, g in zip(params, grads, strict=True)]
            elif kind == "adam":
                params, astate = adam_update(params, grads, astate, learning_rate=lr)
            else:
                updates, lstate = learned_update(phi, grads, lstate)
                params = [p + u for p, u in zip(params, updates, strict=True)]
        return record.stack()

    return run


def _mean_ci(values: np.ndarray) -> tuple[float, float]:
    """Mean and 95 % CI half-width 1.96·s/√n (inf where any value is not finite)."""
    if not np.all(np.isfinite(values)):
        return float("inf"), float("inf")
    return float(np.mean(values)), float(1.96 * np.std(values, ddof=1) / math.sqrt(len(values)))


def _check_grid(name: str, values: Any) -> tuple[float, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
        raise ValueError(f"{name} must be a non-empty sequence of numbers > 0, got {values!r}")
    return tuple(check_number(f"{name}[{i}]", v) for i, v in enumerate(values))


def compare_optimizers(
    opt_params: Sequence[tf.Tensor],
    family: TaskFamily,
    *,
    num_tasks: int = 200,
    num_shots: int = 20,
    horizons: Sequence[int] = (20, 100),
    sgd_lrs: Sequence[float] = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0),
    adam_lrs: Sequence[float] = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0),
    layer_sizes: Sequence[int] | None = None,
    activation: Activation = "relu",
    learner_seed: int = 0,
    seed: int = 1_000_000,
) -> dict[str, Any]:
    """Learner loss after H steps on held-out tasks: learned optimiser vs tuned SGD and Adam.

    Validation tasks (seed ``[seed, 0]``) pick, for each horizon H separately, the step size of
    SGD (θ ← θ − α∇L) and of Adam from their grids with the lowest mean loss L(θ_H) (diverged
    runs count as +inf); test tasks (seed ``[seed, 1]``, disjoint from meta-training's stream
    when ``seed`` differs from its seed) are then trained with the learned optimiser and the
    tuned baselines. The loss is each task's support-set MSE after H steps from θ_0 =
    ``init_mlp(layer_sizes, learner_seed)``. Use a horizon beyond the trained unroll (e.g. 5×)
    to test generalisation in time.

    Returns:
        ``{"horizons": [...], "learned" | "sgd" | "adam": {H: (mean, ci95)},
        "sgd_lr" | "adam_lr": {H: best step}, "initial": (mean, ci95)}``.

    Raises:
        ValueError / TypeError: malformed ``opt_params``, a bad ``family``, a count < 1, an empty
            or non-positive grid (the message names the argument).
    """
    opt_params = _check_opt_params(opt_params)
    _check_family(family)
    num_tasks = check_int("num_tasks", num_tasks, 2)
    num_shots = check_int("num_shots", num_shots, 1)
    if isinstance(horizons, (str, bytes)) or not isinstance(horizons, Sequence) or not horizons:
        raise ValueError(f"horizons must be a non-empty sequence of ints >= 1, got {horizons!r}")
    horizons = [check_int(f"horizons[{i}]", h, 1) for i, h in enumerate(horizons)]
    sgd_grid = _check_grid("sgd_lrs", sgd_lrs)
    adam_grid = _check_grid("adam_lrs", adam_lrs)
    learner_seed = check_int("learner_seed", learner_seed, 0)
    seed = check_int("seed", seed, 0)
    dtype = opt_params[0].dtype
    sizes = _layer_sizes(family, layer_sizes, dtype)
    theta0 = tile_params(_learner_init(sizes, learner_seed, dtype), num_tasks)
    max_h = max(horizons)
    runners = {k: _make_runner(k, activation) for k in ("sgd", "adam", "learned")}

    def curves(kind: str, lr: float, split: int) -> np.ndarray:
        batch = family.sample(num_tasks, num_shots, seed=tf.constant([seed, split], tf.int64))
        x, y = tf.cast(batch.support_x, dtype), tf.cast(batch.support_y, dtype)
        out = runners[kind](opt_params, tf.constant(lr, dtype), list(theta0), x, y, max_h)
        return out.numpy().astype(np.float64)

    def score(c: np.ndarray, h: int) -> float:
        vals = c[h]
        return float(np.mean(vals)) if np.all(np.isfinite(vals)) else float("inf")

    result: dict[str, Any] = {"horizons": horizons, "sgd_lr": {}, "adam_lr": {}}
    for kind, grid in (("sgd", sgd_grid), ("adam", adam_grid)):
        val = {lr: curves(kind, lr, 0) for lr in grid}
        best = {h: min(grid, key=lambda lr, h=h: score(val[lr], h)) for h in horizons}
        result[f"{kind}_lr"] = best
        test = {lr: curves(kind, lr, 1) for lr in set(best.values())}
        result[kind] = {h: _mean_ci(test[best[h]][h]) for h in horizons}
    learned = curves("learned", 0.0, 1)
    result["learned"] = {h: _mean_ci(learned[h]) for h in horizons}
    result["initial"] = _mean_ci(learned[0])
    return result
