"""Two-level learning: an inner loop that adapts to one task, an outer loop that learns to adapt.

Chapter ``02_two_level_learning``. Everything works on whole meta-batches as tensors: shared
parameters θ are tiled to one copy per task (:func:`metalearn_lib.models.tile_params`), so the
adapted parameters θ'_i of all tasks are one tensor per layer and no Python loop runs over tasks.

- Inner loop (:func:`adapt`): θ'_i = θ − α ∇_θ L_i^support(θ), repeated ``num_inner_steps``
  times.
- MAML (:func:`meta_gradient`): the meta-loss L(θ) = (1/N) Σ_i L_i^query(θ'_i(θ)) is
  differentiated *through* the inner steps, ∇_θ L = (1/N) Σ_i (I − α H_i^support) ∇L_i^query(θ'_i)
  for one step (second order: Hessians of the support loss appear).
- First-order MAML (``first_order=True``): the same, with the inner gradients treated as
  constants, i.e. ∇_θ L ≈ (1/N) Σ_i ∇L_i^query(θ'_i).
- Reptile (:func:`reptile_update`): θ ← θ + ε ((1/N) Σ_i φ̃_i − θ), φ̃_i = θ after k SGD steps on
  task i.
- Baseline (:func:`pretrain_loss`): one network fitted to all tasks at once, fine-tuned at test
  time like the others.
- :func:`meta_train` runs any of the four with one compiled ``tf.function`` per chunk of
  iterations (tasks sampled in-graph from a stateless seed); :func:`evaluate_fine_tuning` reports
  mean query MSE ± 95 % CI after a few SGD steps on K points over many test tasks.
- The step size α may be one number or one tensor per parameter, shaped like θ; then the inner
  step is θ' = θ − α ⊙ ∇L (Meta-SGD, chapter 4, learns that α with :func:`maml_loss`); the
  chunked training loop it reuses is :func:`metalearn_lib.optim.compile_training_loop` /
  :func:`metalearn_lib.optim.run_in_chunks`, as here.

Imports only the ground floor (:mod:`metalearn_lib.tasks`, :mod:`metalearn_lib.models`) and the
utilities (:mod:`metalearn_lib.optim`, :mod:`metalearn_lib.validation`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import tensorflow as tf

from metalearn_lib.models import Activation, forward, is_batched, mse, tile_params
from metalearn_lib.optim import (
    AdamState,
    adam_init,
    adam_update,
    build_cached,
    compile_training_loop,
    run_in_chunks,
)
from metalearn_lib.tasks import TaskFamily
from metalearn_lib.validation import check_int, check_rate, check_tensor_list

__all__ = [
    "METHODS",
    "AdamState",
    "FineTuneResult",
    "TrainResult",
    "adam_init",
    "adam_update",
    "adapt",
    "evaluate_fine_tuning",
    "maml_loss",
    "meta_gradient",
    "meta_train",
    "pretrain_loss",
    "reptile_update",
]

#: The trainers :func:`meta_train` knows.
METHODS: tuple[str, ...] = ("maml", "fomaml", "reptile", "pretrained")


# --------------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------------
def _check_xy(name_x: str, x: tf.Tensor, name_y: str, y: tf.Tensor) -> None:
    if x.shape.rank != 3 or y.shape.rank != 3:
        raise ValueError(f"{name_x} and {name_y} must have shape [tasks, points, features], "
                         f"got {x.shape} and {y.shape}")
    if not x.shape[:2].is_compatible_with(y.shape[:2]):
        raise ValueError(f"{name_x} and {name_y} must agree on [tasks, points], "
                         f"got {x.shape} and {y.shape}")


#: A step size: one number (or scalar tensor) α, or one tensor per parameter shaped like θ.
InnerLR = float | tf.Tensor | Sequence[tf.Tensor]


def _check_inner_lr(inner_lr: Any, params: Sequence[tf.Tensor]) -> Any:
    """Validate α: a number >= 0 / scalar tensor (returned as is), or a list of per-parameter
    tensors, each shaped like the shared shape of its parameter (returned cast to its dtype).

    A per-parameter α may take any sign (Meta-SGD learns the direction as well as the size).
    """
    if not isinstance(inner_lr, (list, tuple)):
        return check_rate("inner_lr", inner_lr, positive=False)
    params = list(params)
    if len(inner_lr) != len(params):
        raise ValueError(f"inner_lr must be a number or a list of {len(params)} tensors (one per "
                         f"parameter), got a list of {len(inner_lr)}")
    batched = is_batched(params)
    out = []
    for i, (a, p) in enumerate(zip(inner_lr, params, strict=True)):
        try:
            a = tf.convert_to_tensor(a)
        except (TypeError, ValueError):
            raise TypeError(f"inner_lr[{i}] must be a tensor, got {type(a).__name__}") from None
        if not a.dtype.is_floating:
            raise TypeError(f"inner_lr[{i}] must have a floating dtype, got {a.dtype.name}")
        shape = p.shape[1:] if batched else p.shape
        if not a.shape.is_compatible_with(shape):
            raise ValueError(f"inner_lr[{i}] must have the shape of its parameter {shape}, "
                             f"got {a.shape}")
        out.append(tf.cast(a, p.dtype))
    return out


# --------------------------------------------------------------------------------------------
# the inner loop
# --------------------------------------------------------------------------------------------
def adapt(
    params: Sequence[tf.Tensor],
    support_x: tf.Tensor,
    support_y: tf.Tensor,
    *,
    inner_lr: InnerLR,
    num_inner_steps: int = 1,
    first_order: bool = False,
    activation: Activation = "relu",
) -> list[tf.Tensor]:
    """Inner loop: θ'_i ← θ'_i − α ⊙ ∇ L_i^support(θ'_i), from θ'_i = θ, ``num_inner_steps`` times.

    All tasks at once: θ is tiled to ``[num_tasks, ...]`` and the gradient of Σ_i L_i with
    respect to the tiled parameters is, slice by slice, each task's own gradient.

    When called under an outer ``tf.GradientTape`` that watches θ, the result stays
    differentiable with respect to θ *through* the inner gradients (second-order MAML). With
    ``first_order=True`` the inner gradients are wrapped in ``tf.stop_gradient``, so
    ∂θ'/∂θ = I (first-order MAML, and what Reptile uses).

    Args:
        params: θ, shared (``W: [in, out]``) or already per task (``W: [tasks, in, out]``).
        support_x: ``[num_tasks, num_shots, in]``.
        support_y: ``[num_tasks, num_shots, out]``.
        inner_lr: α >= 0, or one tensor per parameter shaped like the shared θ (per-parameter
            step sizes, any sign: θ' = θ − α ⊙ ∇L, Meta-SGD); gradients flow into a tensor α.
        num_inner_steps: number of SGD steps, >= 0 (0 returns the tiled θ).
        first_order: drop the second-order terms (stop the gradient through inner gradients).
        activation: hidden activation of the MLP.

    Returns:
        θ', a list of tensors each with leading axis ``num_tasks``.

    Raises:
        ValueError: bad shapes, a negative ``inner_lr`` (or a list of the wrong length or
            shapes) or ``num_inner_steps`` < 0.
        TypeError: ``num_inner_steps`` is not an int, an ``inner_lr`` entry is not a float tensor.
    """
    inner_lr = _check_inner_lr(inner_lr, params)
    num_inner_steps = check_int("num_inner_steps", num_inner_steps, 0)
    support_x = tf.convert_to_tensor(support_x)
    support_y = tf.convert_to_tensor(support_y)
    _check_xy("support_x", support_x, "support_y", support_y)
    num_tasks = support_x.shape[0]
    adapted = list(params) if is_batched(params) else tile_params(params, int(num_tasks))
    lrs = inner_lr if isinstance(inner_lr, list) else [inner_lr] * len(adapted)
    for _ in range(num_inner_steps):
        with tf.GradientTape() as tape:
            tape.watch(adapted)
            # Σ over tasks, so that each task's slice of the gradient is its own ∇L_i.
            loss = tf.reduce_sum(mse(forward(adapted, support_x, activation=activation),
                                     support_y))
        grads = tape.gradient(loss, adapted)
        if first_order:
            grads = [tf.stop_gradient(g) for g in grads]
        adapted = [p - a * g  # θ' = θ − α ⊙ ∇L (α broadcasts over the task axis)
                   for p, a, g in zip(adapted, lrs, grads, strict=True)]
    return adapted


# --------------------------------------------------------------------------------------------
# the outer loop
# --------------------------------------------------------------------------------------------
def maml_loss(
    params: Sequence[tf.Tensor],
    support_x: tf.Tensor,
    support_y: tf.Tensor,
    query_x: tf.Tensor,
    query_y: tf.Tensor,
    *,
    inner_lr: InnerLR,
    num_inner_steps: int = 1,
    first_order: bool = False,
    activation: Activation = "relu",
) -> tf.Tensor:
    """Meta-loss L(θ) = (1/N) Σ_i L_i^query(θ'_i), θ'_i = :func:`adapt` (θ, support set of task i).

    Returns a scalar. Arguments as in :func:`adapt` (α a number or per-parameter tensors; the
    loss is differentiable in a tensor α, which is how Meta-SGD learns it), plus the query set
    ``query_x: [num_tasks, num_query, in]``, ``query_y: [num_tasks, num_query, out]``.
    """
    query_x = tf.convert_to_tensor(query_x)
    query_y = tf.convert_to_tensor(query_y)
    _check_xy("query_x", query_x, "query_y", query_y)
    adapted = adapt(params, support_x, support_y, inner_lr=inner_lr,
                    num_inner_steps=num_inner_steps, first_order=first_order,
                    activation=activation)
    return tf.reduce_mean(mse(forward(adapted, query_x, activation=activation), query_y))


def meta_gradient(
    params: Sequence[tf.Tensor],
    support_x: tf.Tensor,
    support_y: tf.Tensor,
    query_x: tf.Tensor,
    query_y: tf.Tensor,
    *,
    inner_lr: InnerLR,
    num_inner_steps: int = 1,
    first_order: bool = False,
    activation: Activation = "relu",
) -> tuple[tf.Tensor, list[tf.Tensor]]:
    """The MAML meta-gradient ∇_θ L(θ) of :func:`maml_loss`, and the loss itself.

    Second order (default): differentiates through the inner steps; for one step,
    ∇_θ L = (1/N) Σ_i (I − α ∇²L_i^support(θ)) ∇L_i^query(θ'_i).
    First order (``first_order=True``): ∇_θ L ≈ (1/N) Σ_i ∇L_i^query(θ'_i).

    Returns:
        ``(loss, grads)`` with ``grads`` shaped like ``params``.

    Raises:
        TypeError: a parameter that is not a tensor (a NumPy array: convert with ``tf.constant``).
    """
    params = check_tensor_list("params", list(params))
    with tf.GradientTape() as tape:
        tape.watch(params)
        loss = maml_loss(params, support_x, support_y, query_x, query_y, inner_lr=inner_lr,
                         num_inner_steps=num_inner_steps, first_order=first_order,
                         activation=activation)
    return loss, tape.gradient(loss, params)


def reptile_update(
    params: Sequence[tf.Tensor],
    support_x: tf.Tensor,
    support_y: tf.Tensor,
    *,
    inner_lr: float | tf.Tensor,
    num_inner_steps: int,
    outer_lr: float | tf.Tensor,
    activation: Activation = "relu",
) -> list[tf.Tensor]:
    """One (batched) Reptile step: θ ← θ + ε ((1/N) Σ_i φ̃_i − θ).

    φ̃_i is θ after ``num_inner_steps`` full-batch SGD steps (step α = ``inner_lr``) on task i's
    points (Nichol, Achiam, Schulman 2018, Algorithm 2); ε = ``outer_lr``. No gradient flows
    through the inner loop.

    Returns:
        The new shared parameters, shaped like ``params``.
    """
    outer_lr = check_rate("outer_lr", outer_lr, positive=False)
    params = [tf.stop_gradient(p) for p in params]
    if is_batched(params):
        raise ValueError("params must be shared (W1 of rank 2), not per task")
    adapted = adapt(params, support_x, support_y, inner_lr=inner_lr,
                    num_inner_steps=num_inner_steps, first_order=True, activation=activation)
    return [p + outer_lr * (tf.reduce_mean(phi, axis=0) - p)  # θ + ε(φ̃ − θ)
            for p, phi in zip(params, adapted, strict=True)]


def pretrain_loss(
    params: Sequence[tf.Tensor], x: tf.Tensor, y: tf.Tensor, *, activation: Activation = "relu"
) -> tf.Tensor:
    """The "pretrained on all tasks" objective L(θ) = (1/N) Σ_i L_i(θ): one θ for every task.

    ``x: [num_tasks, points, in]``, ``y: [num_tasks, points, out]``; returns a scalar.
    """
    x = tf.convert_to_tensor(x)
    y = tf.convert_to_tensor(y)
    _check_xy("x", x, "y", y)
    return tf.reduce_mean(mse(forward(params, x, activation=activation), y))


# --------------------------------------------------------------------------------------------
# Adam, functionally (so a whole meta-iteration is one compiled function of tensors)
# --------------------------------------------------------------------------------------------
# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainResult:
    """What :func:`meta_train` returns.

    Attributes:
        params: the trained shared parameters θ.
        losses: ``[num_iterations]`` training objective per iteration — the mean query MSE
            after adaptation (MAML, FOMAML), the mean MSE of the adapted φ̃ on its own points
            (Reptile), the mean MSE of θ (pretrained).
        wall_s: seconds spent training (tracing and compiling included).
        iterations_per_s: ``num_iterations / wall_s``.
        config: the arguments the run used.
    """

    params: list[tf.Tensor]
    losses: np.ndarray
    wall_s: float
    iterations_per_s: float
    config: dict[str, Any] = field(default_factory=dict)


class _Hyper(NamedTuple):
    """Training hyperparameters passed to the compiled loop as tensors (no retracing)."""

    seed: tf.Tensor
    inner_lr: tf.Tensor
    outer_lr: tf.Tensor
    num_iterations: tf.Tensor


@functools.lru_cache(maxsize=32)
def _compiled_chunk(
    family: TaskFamily,
    method: str,
    meta_batch_size: int,
    num_shots: int,
    num_query: int,
    num_inner_steps: int,
    anneal_outer_lr: bool,
    jit_compile: bool,
    activation: Activation,
) -> Callable[..., tuple[tuple[list[tf.Tensor], AdamState], tf.Tensor]]:
    """The chunk function running ``length`` meta-iterations
    (:func:`metalearn_lib.optim.compile_training_loop`, the :class:`_Hyper` as its one constant);
    cached per static configuration."""

    def one_iteration(
        carry: tuple[list[tf.Tensor], AdamState], iteration: tf.Tensor, hyper: _Hyper
    ) -> tuple[tuple[list[tf.Tensor], AdamState], tf.Tensor]:
        params, state = carry
        dtype = params[0].dtype
        batch = family.sample(meta_batch_size, num_shots, num_query,
                              seed=tf.stack([hyper.seed, iteration]))
        sx, sy = tf.cast(batch.support_x, dtype), tf.cast(batch.support_y, dtype)
        qx, qy = tf.cast(batch.query_x, dtype), tf.cast(batch.query_y, dtype)
        if method in ("maml", "fomaml"):
            loss, grads = meta_gradient(params, sx, sy, qx, qy, inner_lr=hyper.inner_lr,
                                        num_inner_steps=num_inner_steps,
                                        first_order=method == "fomaml", activation=activation)
            params, state = adam_update(params, grads, state, learning_rate=hyper.outer_lr)
        elif method == "pretrained":
            x, y = tf.concat([sx, qx], axis=1), tf.concat([sy, qy], axis=1)
            with tf.GradientTape() as tape:
                tape.watch(params)
                loss = pretrain_loss(params, x, y, activation=activation)
            grads = tape.gradient(loss, params)
            params, state = adam_update(params, grads, state, learning_rate=hyper.outer_lr)
        else:  # reptile
            x, y = tf.concat([sx, qx], axis=1), tf.concat([sy, qy], axis=1)
            epsilon = hyper.outer_lr
            if anneal_outer_lr:
                epsilon = epsilon * (1.0 - tf.cast(iteration, dtype) / hyper.num_iterations)
            adapted = adapt(params, x, y, inner_lr=hyper.inner_lr,
                            num_inner_steps=num_inner_steps, first_order=True,
                            activation=activation)
            loss = tf.reduce_mean(mse(forward(adapted, x, activation=activation), y))
            params = [p + epsilon * (tf.reduce_mean(phi, axis=0) - p)  # θ + ε(φ̃ − θ)
                      for p, phi in zip(params, adapted, strict=True)]
        return (params, state), loss

    return compile_training_loop(one_iteration, jit_compile=jit_compile)


def meta_train(
    params: Sequence[tf.Tensor],
    family: TaskFamily,
    *,
    method: str = "maml",
    num_iterations: int,
    meta_batch_size: int = 25,
    num_shots: int = 10,
    num_query: int = 10,
    inner_lr: float = 0.01,
    num_inner_steps: int = 1,
    outer_lr: float = 1e-3,
    anneal_outer_lr: bool = False,
    seed: int = 0,
    iterations_per_call: int = 100,
    jit_compile: bool = False,
    activation: Activation = "relu",
    progress: bool = False,
) -> TrainResult:
    """Meta-train θ with MAML, first-order MAML, Reptile, or pretrain it on all tasks.

    Iteration t samples a meta-batch of ``meta_batch_size`` tasks from ``family`` with the
    stateless seed ``[seed, t]`` (inside the compiled function) and then applies

    - ``"maml"``: θ ← Adam(θ, ∇_θ (1/N) Σ_i L_i^query(θ − α∇L_i^support(θ))), second order;
    - ``"fomaml"``: the same with the first-order meta-gradient;
    - ``"reptile"``: θ ← θ + ε_t ((1/N) Σ_i φ̃_i − θ), φ̃_i from ``num_inner_steps`` SGD steps
      (step ``inner_lr``) on all ``num_shots + num_query`` points of task i, ε_t = ``outer_lr``
      (× (1 − t/T) if ``anneal_outer_lr``);
    - ``"pretrained"``: θ ← Adam(θ, ∇_θ (1/N) Σ_i L_i(θ)) on all points of every task.

    ``iterations_per_call`` iterations run inside one ``tf.function`` call (a ``tf.range`` loop),
    so Python is entered once per chunk; ``jit_compile=True`` compiles the chunk with XLA.

    Args:
        params: initial shared θ (e.g. from :func:`metalearn_lib.models.init_mlp`).
        family: a task family (anything with ``sample(num_tasks, num_shots, num_query, seed=)``).
        method: one of :data:`METHODS`.
        num_iterations: meta-iterations T, >= 1.
        meta_batch_size: tasks per iteration N, >= 1.
        num_shots: support points K per task, >= 1.
        num_query: query points per task, >= 1.
        inner_lr: inner SGD step α, >= 0.
        num_inner_steps: inner SGD steps, >= 1 for MAML/FOMAML/Reptile (ignored by pretrained).
        outer_lr: Adam's learning rate (MAML, FOMAML, pretrained) or Reptile's ε, > 0.
        anneal_outer_lr: anneal ε linearly to 0 over the run (Reptile only).
        seed: int >= 0, the seed of the task stream.
        iterations_per_call: iterations per compiled call, >= 1.
        jit_compile: compile with XLA.
        activation: hidden activation of the MLP.
        progress: show a ``tqdm.auto`` progress bar.

    Returns:
        A :class:`TrainResult`.

    Raises:
        ValueError: an unknown ``method`` or an argument out of range.
        TypeError: an argument of the wrong type.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    num_iterations = check_int("num_iterations", num_iterations, 1)
    meta_batch_size = check_int("meta_batch_size", meta_batch_size, 1)
    num_shots = check_int("num_shots", num_shots, 1)
    num_query = check_int("num_query", num_query, 1)
    inner_lr = check_rate("inner_lr", inner_lr, positive=False)
    num_inner_steps = check_int("num_inner_steps", num_inner_steps,
                                 0 if method == "pretrained" else 1)
    outer_lr = check_rate("outer_lr", outer_lr, positive=True)
    seed = check_int("seed", seed, 0)
    iterations_per_call = check_int("iterations_per_call", iterations_per_call, 1)
    if not hasattr(family, "sample"):
        raise TypeError(f"family must have a sample(num_tasks, num_shots, num_query, seed=) "
                        f"method, got {type(family).__name__}")
    params = [tf.convert_to_tensor(p) for p in params]
    if is_batched(params):
        raise ValueError("params must be shared (W1 of rank 2), not per task")
    dtype = params[0].dtype
    config = dict(method=method, num_iterations=num_iterations, meta_batch_size=meta_batch_size,
                  num_shots=num_shots, num_query=num_query, inner_lr=inner_lr,
                  num_inner_steps=num_inner_steps, outer_lr=outer_lr,
                  anneal_outer_lr=anneal_outer_lr, seed=seed,
                  iterations_per_call=iterations_per_call, jit_compile=jit_compile,
                  activation=activation if isinstance(activation, str) else repr(activation))

    static = (family, method, meta_batch_size, num_shots, num_query, num_inner_steps,
              anneal_outer_lr, jit_compile, activation)
    run_chunk = build_cached(_compiled_chunk, *static)  # unhashable family/activation: afresh
    hyper = _Hyper(seed=tf.constant(seed, tf.int64), inner_lr=tf.constant(inner_lr, dtype),
                   outer_lr=tf.constant(outer_lr, dtype),
                   num_iterations=tf.constant(num_iterations, dtype))
    (params, _), losses, wall_s = run_in_chunks(
        run_chunk, (params, adam_init(params)), num_iterations=num_iterations,
        iterations_per_call=iterations_per_call, progress=progress, desc=method,
        postfix=lambda m: {"loss": f"{float(np.mean(m)):.3f}"}, constants=(hyper,))
    return TrainResult(list(params), losses, wall_s, num_iterations / wall_s, config)


# --------------------------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FineTuneResult:
    """Query MSE after fine-tuning, averaged over test tasks.

    Attributes:
        steps: the SGD step counts evaluated (0 = no fine-tuning).
        mean_mse: mean over tasks of the query MSE after each step count.
        ci95: 1.96 · std / √num_tasks for each step count (std over tasks, ddof = 0, as in the
            MAML reference code).
        per_task_mse: ``[len(steps), num_tasks]`` the individual query MSEs.
        num_shots: K, the support points used for fine-tuning.
        median_mse: median over tasks for each step count (robust to a few diverging tasks).
        num_diverged: tasks whose query MSE is not finite or above ``diverged_above`` (SGD with
            this α blew up), for each step count.
    """

    steps: tuple[int, ...]
    mean_mse: tuple[float, ...]
    ci95: tuple[float, ...]
    per_task_mse: np.ndarray
    num_shots: int
    median_mse: tuple[float, ...] = ()
    num_diverged: tuple[int, ...] = ()

    def as_dict(self) -> dict[int, tuple[float, float]]:
        """``{steps: (mean_mse, ci95)}``."""
        return {s: (m, c) for s, m, c in zip(self.steps, self.mean_mse, self.ci95, strict=True)}


def evaluate_fine_tuning(
    params: Sequence[tf.Tensor],
    family: TaskFamily,
    *,
    num_tasks: int = 600,
    num_shots: int = 5,
    num_query: int = 100,
    steps: Sequence[int] = (0, 1, 5, 10),
    inner_lr: InnerLR = 0.01,
    seed: int = 1_000_000,
    activation: Activation = "relu",
    diverged_above: float = 100.0,
) -> FineTuneResult:
    """Fine-tune θ on K support points of each test task and report the query MSE.

    For each of ``num_tasks`` tasks, θ'_i(0) = θ and θ'_i(s+1) = θ'_i(s) − α ⊙ ∇L_i^support(θ'_i(s))
    (plain SGD, the same K points at every step, as in the MAML paper's evaluation); after each
    step count s in ``steps`` the query MSE L_i^query(θ'_i(s)) is recorded. Reports
    mean_i L_i^query ± 1.96·std_i/√num_tasks. All tasks run as one batch.

    Args:
        params: shared θ.
        family: the test task family.
        num_tasks: test tasks, >= 2.
        num_shots: K, support points for fine-tuning, >= 1.
        num_query: query points per task, drawn over the family's whole input range, >= 1.
        steps: non-empty increasing step counts, each >= 0.
        inner_lr: α >= 0, or one tensor per parameter shaped like θ (Meta-SGD's learned α).
        seed: int >= 0 of the test tasks (keep it away from the training seeds).
        activation: hidden activation of the MLP.
        diverged_above: a task whose query MSE exceeds this (or is not finite) counts as
            diverged in :attr:`FineTuneResult.num_diverged`, > 0. The default, 100, is 8× the
            worst sinusoid task's MSE for predicting 0 (A²/2 = 12.5).

    Returns:
        A :class:`FineTuneResult`.

    Raises:
        ValueError: an argument out of range.
        TypeError: an argument of the wrong type.
    """
    num_tasks = check_int("num_tasks", num_tasks, 2)
    num_shots = check_int("num_shots", num_shots, 1)
    num_query = check_int("num_query", num_query, 1)
    seed = check_int("seed", seed, 0)
    diverged_above = check_rate("diverged_above", diverged_above, positive=True)
    steps = tuple(check_int("steps", s, 0) for s in steps)
    if not steps or any(b <= a for a, b in zip(steps, steps[1:], strict=False)):
        raise ValueError(f"steps must be a non-empty strictly increasing sequence of ints >= 0, "
                         f"got {steps}")
    params = [tf.convert_to_tensor(p) for p in params]
    if is_batched(params):
        raise ValueError("params must be shared (W1 of rank 2), not per task")
    dtype = params[0].dtype
    inner_lr = _check_inner_lr(inner_lr, params)
    if not isinstance(inner_lr, list):
        inner_lr = tf.constant(inner_lr, dtype)
    batch = family.sample(num_tasks, num_shots, num_query, seed=seed)
    sx, sy = tf.cast(batch.support_x, dtype), tf.cast(batch.support_y, dtype)
    qx, qy = tf.cast(batch.query_x, dtype), tf.cast(batch.query_y, dtype)
    curve = _fine_tune_curve(params, sx, sy, qx, qy, inner_lr, steps[-1], activation)
    per_task = curve.numpy()[list(steps)]
    with np.errstate(invalid="ignore", over="ignore"):  # a diverging α gives inf/nan: report it
        mean = per_task.mean(axis=1)
        ci = 1.96 * per_task.std(axis=1) / math.sqrt(num_tasks)
        median = np.median(np.where(np.isnan(per_task), np.inf, per_task), axis=1)
        diverged = np.sum(~np.isfinite(per_task) | (per_task > diverged_above), axis=1)
    return FineTuneResult(steps, tuple(float(m) for m in mean), tuple(float(c) for c in ci),
                          per_task, num_shots, tuple(float(m) for m in median),
                          tuple(int(d) for d in diverged))


def _fine_tune_curve(
    params: list[tf.Tensor],
    sx: tf.Tensor,
    sy: tf.Tensor,
    qx: tf.Tensor,
    qy: tf.Tensor,
    inner_lr: tf.Tensor | list[tf.Tensor],
    max_steps: int,
    activation: Activation,
) -> tf.Tensor:
    """``[max_steps + 1, num_tasks]`` query MSE after 0..max_steps SGD steps on the support set."""
    adapted = tile_params(params, int(sx.shape[0]))
    curve = [mse(forward(adapted, qx, activation=activation), qy)]
    for _ in range(max_steps):
        adapted = adapt(adapted, sx, sy, inner_lr=inner_lr, num_inner_steps=1, first_order=True,
                        activation=activation)
        curve.append(mse(forward(adapted, qx, activation=activation), qy))
    return tf.stack(curve)
