"""Checks for the exercises of ``02_two_level_learning``: the inner step, MAML's outer loss, Reptile.

* :func:`check_inner_step` — ``inner_step(params, support_x, support_y, inner_lr)``, one SGD step
  per task, θ'_i = θ − α ∇_θ L_i^support(θ), returned as a list of tensors with a leading task axis;
* :func:`check_maml_outer_loss` — ``maml_outer_loss(params, batch, inner_lr)``, the scalar
  L(θ) = (1/N) Σ_i L_i^query(θ'_i(θ)). The check compares the loss **and its gradient with
  respect to θ** (taken by the check's own tape) with the library's second-order MAML gradient,
  so an inner step hidden from the gradient (``tf.stop_gradient``, NumPy) is caught;
* :func:`check_reptile_outer_update` — ``reptile_outer_update(params, adapted_params,
  outer_lr)``, θ ← θ + ε ((1/N) Σ_i φ̃_i − θ).

The network is the course's MLP (:func:`metalearn_lib.models.forward`, ReLU) and the loss of a
task the mean squared error over its points (:func:`metalearn_lib.models.mse`). Inputs are
float32 tensors; expected answers come from :mod:`metalearn_lib.two_level` in float64.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from metalearn_lib.checks.core import TF_NOISE, Case, NoGradient, ShownBatch, WrongShape, require_tensors, run_check
from metalearn_lib.models import forward, init_mlp, mse, tile_params
from metalearn_lib.tasks import SinusoidFamily, TaskBatch
from metalearn_lib.two_level import adapt, meta_gradient

__all__ = ["check_inner_step", "check_maml_outer_loss", "check_reptile_outer_update"]

#: float32 inputs, float64 references.
_RTOL, _ATOL = 2e-4, 1e-5




@dataclass(frozen=True)
class _Params:
    """Parameters θ = [W1, b1, …] that print as their shapes in a verdict's ``call:`` line."""

    arrays: tuple[np.ndarray, ...]

    def __repr__(self) -> str:
        return "[" + ", ".join(f"{tuple(a.shape)}" for a in self.arrays) + "]"


def _f64(values: Sequence[Any]) -> list[tf.Tensor]:
    return [tf.constant(np.asarray(v, np.float64)) for v in values]


def _flat(values: Sequence[Any], *, task_axis: bool) -> np.ndarray:
    """Concatenate parameters: ``[num_tasks, P]`` with a task axis, ``[P]`` without."""
    arrays = [np.asarray(v, np.float64) for v in values]
    if task_axis:
        return np.concatenate([a.reshape(a.shape[0], -1) for a in arrays], axis=1)
    return np.concatenate([a.ravel() for a in arrays])


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.allclose(a, b, rtol=_RTOL, atol=_ATOL)


def _network(seed: int, sizes: Sequence[int]) -> tuple[np.ndarray, ...]:
    params = init_mlp(list(sizes), seed=seed, init="glorot", dtype=tf.float64)
    rng = np.random.default_rng(seed)
    # non-zero biases, so that a bias gradient or a bias mix-up shows
    return tuple(np.asarray(p.numpy() + (0.1 * rng.normal(size=p.shape) if p.shape.rank == 1 else 0.0), np.float32)
                 for p in params)


def _raise_readably(error: BaseException) -> None:
    if isinstance(error, tf.errors.OpError):
        message = TF_NOISE.sub("", error.message).strip()
        raise type(error)(None, None, message) from None
    raise error


def _as_list(result: Any, what: str) -> list[Any] | None:
    if result is None:
        return None
    if isinstance(result, (tf.Tensor, np.ndarray)):
        raise WrongShape(f"a single array, expected {what}: return a list [W1, b1, ...], one entry per parameter")
    if not isinstance(result, (list, tuple)):
        raise WrongShape(f"a {type(result).__name__}, expected {what}: return a list [W1, b1, ...]")
    return list(result)


def _shape_advice(got: Sequence[Any], params: Sequence[np.ndarray], num_tasks: int | None) -> str | None:
    """A sentence naming the shape mistake of a returned parameter list, or None if shapes are right."""
    if len(got) != len(params):
        return (f"a list of {len(got)} tensors, expected {len(params)} (one per parameter of "
                f"θ = [W1, b1, W2, b2, ...]): update every parameter")
    shapes = [tuple(np.shape(np.asarray(g, np.float64))) for g in got]
    want = [((num_tasks,) if num_tasks else ()) + tuple(p.shape) for p in params]
    if shapes == want:
        return None
    if num_tasks and shapes == [tuple(p.shape) for p in params]:
        return (f"shared parameters {shapes[0]} …, expected one set per task, {want[0]} …: tile θ to one copy per "
                f"task (tile_params) and step every copy with its own task's gradient")
    if not num_tasks and all(len(s) == len(w) + 1 for s, w in zip(shapes, want, strict=True)):
        return (f"per-task parameters {shapes[0]} …, expected shared ones {want[0]} …: average the adapted "
                f"parameters over the task axis, tf.reduce_mean(phi, axis=0)")
    return f"shapes {shapes}, expected {want}"


# ============================================================================================
# inner_step
# ============================================================================================
def _inner_cases() -> list[Case]:
    family = SinusoidFamily(dtype=tf.float64)

    def case(name: str, sizes: Sequence[int], num_tasks: int, num_shots: int, inner_lr: float, seed: int,
             hint: str) -> Case:
        params = _network(seed, sizes)
        batch = family.sample(num_tasks, num_shots, 1, seed=seed)
        sx, sy = batch.support_x.numpy().astype(np.float32), batch.support_y.numpy().astype(np.float32)
        expected = adapt(_f64(params), tf.constant(sx, tf.float64), tf.constant(sy, tf.float64), inner_lr=inner_lr)
        return Case(name, (_Params(params), sx, sy), _flat(expected, task_axis=True), hint, {"inner_lr": inner_lr})

    step = ("θ'_i = θ − α ∇_θ L_i^support(θ), with L_i^support the mean squared error of forward(θ, support_x[i]) "
            "over task i's K points.")
    return [
        case("one task, K = 5, a 1-8-1 network, α = 0.1", (1, 8, 1), 1, 5, 0.1, 1, step),
        case("three tasks, each adapts on its own points", (1, 8, 1), 3, 5, 0.1, 2,
             "Each task takes a step along its *own* gradient: tile θ to [num_tasks, ...] copies and differentiate the "
             "sum of the per-task losses with respect to the copies; slice i of that gradient is ∇L_i."),
        case("α = 0.03: the step scales with inner_lr", (1, 8, 1), 3, 5, 0.03, 2,
             "The step is inner_lr times the gradient: use the argument."),
        case("four tasks, K = 10, a 1-6-6-1 network", (1, 6, 6, 1), 4, 10, 0.05, 3, step),
    ]


def _diagnose_inner(case: Case, got: np.ndarray) -> str | None:
    params, sx, sy = case.args[0].arrays, case.args[1], case.args[2]
    alpha = float(case.kwargs["inner_lr"])
    theta = _flat(params, task_axis=False)[None, :]
    expected = np.asarray(case.expected)
    num_tasks, num_shots = expected.shape[0], sx.shape[1]
    step = theta - expected  # α ∇L_i per task
    gradient = step / alpha
    shared = _f64(params)
    with tf.GradientTape() as tape:
        tape.watch(shared)
        pooled_loss = tf.reduce_mean(mse(forward(shared, sx.astype(np.float64)), sy.astype(np.float64)))
    pooled = _flat(tape.gradient(pooled_loss, shared), task_axis=False)[None, :]
    named = [
        (theta + step, "The step goes uphill: θ' = θ − α∇L subtracts the gradient, it does not add it."),
        (np.repeat(theta - alpha * pooled, num_tasks, 0),
         "Every task took the same step, along the gradient of all tasks' points pooled: differentiate with respect "
         "to per-task copies of θ (tile_params), so that each task steps along its own ∇L_i."),
        (np.repeat(theta - alpha * num_tasks * pooled, num_tasks, 0),
         "Every task took the same step, along the summed gradient of all tasks: differentiate with respect to "
         "per-task copies of θ (tile_params), not θ itself, so that each task steps along its own ∇L_i."),
        (theta - step / num_tasks,
         "The step is 1/num_tasks of the right one: the per-task losses were averaged over tasks. Sum them over "
         "tasks (tf.reduce_sum(mse(...))) — each task's slice of the gradient is then its own ∇L_i."),
        (theta - step * num_shots,
         "The step is K times too large: L_i^support is the *mean* squared error over the K points (mse), not the "
         "sum."),
        (step, "You returned α∇L, the step itself: return θ − α∇L, the adapted parameters."),
        (gradient, "You returned the gradient: return the adapted parameters θ − α∇L."),
    ]
    for value, hint in named:
        if num_tasks == 1 and "Every task" in hint:
            continue
        if _close(got, value) and not _close(got, expected):
            return hint
    moved = theta - got
    if np.allclose(moved, 0.0, atol=1e-7):
        return "The parameters did not move: apply the step θ − α∇L (is inner_lr used?)."
    scale = float(np.sum(moved * step) / np.sum(step * step))
    if np.allclose(moved, scale * step, rtol=1e-3, atol=1e-6) and not np.isclose(scale, 1.0, rtol=1e-3):
        return (f"The step points the right way but is {scale:.3g} × the right length: multiply the gradient by "
                f"inner_lr = {alpha:g} (the argument), and use the mean squared error of each task.")
    return None


def _call_inner(function: Callable[..., Any]) -> Callable[..., Any]:
    def call(params: _Params, support_x: np.ndarray, support_y: np.ndarray, *, inner_lr: float) -> Any:
        try:
            result = function([tf.constant(p) for p in params.arrays], tf.constant(support_x), tf.constant(support_y),
                              inner_lr)
        except tf.errors.OpError as error:
            _raise_readably(error)
        got = _as_list(result, "one adapted tensor per parameter, each [num_tasks, ...]")
        if got is None:
            return None
        advice = _shape_advice(got, params.arrays, support_x.shape[0])
        if advice:
            raise WrongShape(advice)
        require_tensors(got, "exercise 2 (maml_outer_loss) differentiates through inner_step, and NumPy arrays "
                             "cut the gradient; keep every step in TensorFlow (no .numpy(), no np. functions)")
        return _flat(got, task_axis=True)

    call.__name__ = getattr(function, "__name__", "inner_step")
    return call


def check_inner_step(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``inner_step(params, support_x, support_y, inner_lr)`` on 4 cases.

    ``params`` is θ = [W1, b1, …] (float32 tensors of a ReLU MLP, shared by all tasks);
    ``support_x``, ``support_y`` are ``[num_tasks, K, 1]``. The function must return θ'_i = θ − α
    ∇L_i^support(θ) for every task: a list of tensors shaped ``[num_tasks, *p.shape]`` — tf.Tensors, not
    NumPy arrays, since exercise 2 differentiates through this function.

    Prints ✅ and returns ``None``, or raises :class:`~metalearn_lib.checks.core.CheckFailed`.
    """
    run_check(_call_inner(function), _inner_cases(), diagnoses=(_diagnose_inner,), name="inner_step", rtol=_RTOL,
              atol=_ATOL, quiet=quiet)


# ============================================================================================
# maml_outer_loss
# ============================================================================================
def _batch64(batch: TaskBatch) -> tuple[tf.Tensor, ...]:
    return tuple(tf.cast(t, tf.float64) for t in (batch.support_x, batch.support_y, batch.query_x, batch.query_y))


def _loss_and_gradient(params: Sequence[np.ndarray], sets: Sequence[tf.Tensor], inner_lr: float | tf.Tensor,
                       **kwargs: Any) -> np.ndarray:
    loss, grads = meta_gradient(_f64(params), *sets, inner_lr=inner_lr, **kwargs)
    return np.concatenate([[float(loss)], _flat(grads, task_axis=False)])


def _outer_cases() -> list[Case]:
    family = SinusoidFamily()

    def case(name: str, sizes: Sequence[int], num_tasks: int, num_shots: int, num_query: int, inner_lr: float,
             seed: int, hint: str) -> Case:
        params = _network(seed, sizes)
        drawn = family.sample(num_tasks, num_shots, num_query, seed=seed)
        batch = ShownBatch(drawn.support_x, drawn.support_y, drawn.query_x, drawn.query_y)
        expected = _loss_and_gradient(params, _batch64(batch), inner_lr)
        return Case(name, (_Params(params), batch), expected, hint, {"inner_lr": inner_lr})

    loss = ("L(θ) = (1/N) Σ_i L_i^query(θ'_i), θ'_i = inner_step(θ, support set of task i): adapt on the support "
            "points, score the adapted parameters on the query points, average over tasks and points.")
    return [
        case("two tasks, K = 5, 8 query points, α = 0.1", (1, 8, 1), 2, 5, 8, 0.1, 11, loss),
        case("five tasks, α = 0.3 (a large step: the second-order term is large)", (1, 8, 1), 5, 4, 6, 0.3, 12, loss),
        case("α = 0.02: the inner step uses inner_lr", (1, 8, 1), 5, 4, 6, 0.02, 12,
             "Pass inner_lr on to inner_step."),
        case("three tasks, a 1-6-6-1 network", (1, 6, 6, 1), 3, 10, 10, 0.1, 13, loss),
    ]


def _diagnose_outer(case: Case, got: np.ndarray) -> str | None:
    params, batch = case.args[0].arrays, case.args[1]
    alpha = float(case.kwargs["inner_lr"])
    sets = _batch64(batch)
    sx, sy, qx, qy = sets
    expected = np.asarray(case.expected)
    num_tasks = batch.num_tasks
    first_order = _loss_and_gradient(params, sets, alpha, first_order=True)
    if _close(got, first_order):
        return ("The loss is right but its gradient is first-order MAML's: the gradient of the query loss does not "
                "flow back through the inner step. Keep the inner gradient differentiable — no tf.stop_gradient, no "
                ".numpy(), and compute the inner gradient inside the function, so the check's tape sees it.")
    if np.isclose(got[0], expected[0], rtol=_RTOL, atol=_ATOL):
        return ("The loss value is right but its gradient with respect to θ is not MAML's: compute the whole loss "
                "from params with TensorFlow operations, so that the gradient flows through the inner step.")
    shared = _f64(params)

    def value_and_grad(loss_fn: Callable[[list[tf.Tensor]], tf.Tensor]) -> np.ndarray:
        with tf.GradientTape() as tape:
            tape.watch(shared)
            loss = loss_fn(shared)
        return np.concatenate([[float(loss)], _flat(tape.gradient(loss, shared), task_axis=False)])

    def per_task_query(adapted: list[tf.Tensor], x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        return mse(forward(adapted, x), y)

    named = [
        (_loss_and_gradient(params, sets, tf.constant(-alpha, tf.float64)),
         "The inner step goes uphill: θ'_i = θ − α∇L_i^support subtracts the gradient (check your inner_step)."),
        (value_and_grad(lambda p: tf.reduce_mean(per_task_query(tile_params(p, num_tasks), qx, qy))),
         "The query loss was measured at θ, not at the adapted θ'_i: first take the inner step on the support "
         "points, then evaluate forward(adapted, query_x)."),
        (_loss_and_gradient(params, (qx, qy, qx, qy), alpha),
         "The inner step used the query points: adapt on the support set (batch.support_x, batch.support_y), "
         "score on the query set."),
        (_loss_and_gradient(params, (sx, sy, sx, sy), alpha),
         "The adapted parameters were scored on the support points they were fitted to: score them on the query "
         "set (batch.query_x, batch.query_y)."),
        (num_tasks * expected,
         "The loss is num_tasks times too large: average the per-task query losses over tasks (tf.reduce_mean), "
         "do not sum them."),
    ]
    for value, hint in named:
        if _close(got, value) and not _close(got, expected):
            return hint
    return None


def _call_outer(function: Callable[..., Any]) -> Callable[..., Any]:
    def call(params: _Params, batch: TaskBatch, *, inner_lr: float) -> Any:
        theta = [tf.constant(p) for p in params.arrays]
        try:
            with tf.GradientTape() as tape:
                tape.watch(theta)
                loss = function(theta, batch, inner_lr)
        except tf.errors.OpError as error:
            _raise_readably(error)
        if loss is None:
            return None
        try:
            shape = tuple(np.shape(np.asarray(loss, np.float64)))
        except (TypeError, ValueError):
            return loss
        if shape != ():
            if shape == (batch.num_tasks,):
                raise WrongShape(f"shape {shape}, one loss per task: the meta-loss is a scalar — average over the "
                                 f"tasks too, (1/N) Σ_i L_i^query (tf.reduce_mean over everything)")
            raise WrongShape(f"shape {shape}, expected a scalar: average the squared errors over tasks and query "
                             f"points (tf.reduce_mean with no axis, or of mse(...), one value per task)")
        if not isinstance(loss, (tf.Tensor, tf.Variable)):
            raise NoGradient(f"a {type(loss).__name__}, not a tf.Tensor: compute the loss with TensorFlow operations "
                             f"so that its gradient with respect to θ exists")
        grads = tape.gradient(loss, theta)
        if any(g is None for g in grads):
            raise NoGradient("the gradient of your loss with respect to θ came back None: compute the inner step and "
                             "the loss from params with TensorFlow operations (no .numpy(), no new tf.Variable)")
        return np.concatenate([[float(loss)], _flat(grads, task_axis=False)])

    call.__name__ = getattr(function, "__name__", "maml_outer_loss")
    return call


def check_maml_outer_loss(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``maml_outer_loss(params, batch, inner_lr)`` on 4 cases.

    The check calls the function under its own ``tf.GradientTape`` watching θ and compares
    ``[loss, ∇_θ loss]`` with the library's second-order MAML meta-loss and meta-gradient
    (:func:`metalearn_lib.two_level.meta_gradient`, one inner step): a right loss value with a
    first-order gradient fails.

    Prints ✅ and returns ``None``, or raises :class:`~metalearn_lib.checks.core.CheckFailed`.
    """
    run_check(_call_outer(function), _outer_cases(), diagnoses=(_diagnose_outer,), name="maml_outer_loss",
              rtol=_RTOL, atol=_ATOL, quiet=quiet)


# ============================================================================================
# reptile_outer_update
# ============================================================================================
def _reptile_expected(params: Sequence[np.ndarray], adapted: Sequence[np.ndarray], outer_lr: float) -> np.ndarray:
    p64 = [np.asarray(p, np.float64) for p in params]
    a64 = [np.asarray(a, np.float64) for a in adapted]
    return _flat([p + outer_lr * (a.mean(axis=0) - p) for p, a in zip(p64, a64, strict=True)], task_axis=False)


def _reptile_cases() -> list[Case]:
    def case(name: str, sizes: Sequence[int], num_tasks: int, outer_lr: float, seed: int, hint: str) -> Case:
        params = _network(seed, sizes)
        rng = np.random.default_rng(seed)
        adapted = tuple((p[None] + 0.3 * rng.normal(size=(num_tasks, *p.shape))).astype(np.float32) for p in params)
        return Case(name, (_Params(params), _Params(adapted)), _reptile_expected(params, adapted, outer_lr), hint,
                    {"outer_lr": outer_lr})

    update = "θ ← θ + ε ((1/N) Σ_i φ̃_i − θ): move θ a fraction ε = outer_lr of the way towards the mean of φ̃_i."
    return [
        case("one task, ε = 0.5", (1, 4, 1), 1, 0.5, 21, update),
        case("three tasks, ε = 0.25", (1, 4, 1), 3, 0.25, 22,
             "Average the adapted parameters over the task axis (axis 0), then interpolate."),
        case("ε = 0.1: the step scales with outer_lr", (1, 4, 1), 3, 0.1, 22,
             "The step is outer_lr times (φ̄ − θ): use the argument."),
        case("five tasks, a 1-5-5-1 network, ε = 0.7", (1, 5, 5, 1), 5, 0.7, 23, update),
    ]


def _diagnose_reptile(case: Case, got: np.ndarray) -> str | None:
    params, adapted = case.args[0].arrays, case.args[1].arrays
    eps = float(case.kwargs["outer_lr"])
    theta = _flat(params, task_axis=False)
    mean = _flat([np.asarray(a, np.float64).mean(axis=0) for a in adapted], task_axis=False)
    total = _flat([np.asarray(a, np.float64).sum(axis=0) for a in adapted], task_axis=False)
    num_tasks = adapted[0].shape[0]
    named = [
        (theta - eps * (mean - theta),
         "θ moved away from the adapted parameters: the update is θ + ε(φ̄ − θ), towards φ̄ (check the sign)."),
        (mean + eps * (theta - mean),
         "You interpolated from φ̄ towards θ (φ̄ + ε(θ − φ̄)): start from θ and move a fraction ε towards φ̄, "
         "θ + ε(φ̄ − θ)."),
        (theta + eps * mean,
         "The − θ is missing: the update moves θ by ε times the *difference* φ̄ − θ."),
        (eps * mean, "ε was applied to the adapted parameters alone: the update is θ + ε(φ̄ − θ)."),
        (theta + eps * (total - theta),
         "The adapted parameters were summed over tasks: average them, (1/N) Σ_i φ̃_i, tf.reduce_mean(phi, axis=0)."),
        (mean, "You returned φ̄ itself (as if ε = 1): move only a fraction ε = outer_lr of the way, θ + ε(φ̄ − θ)."),
    ]
    for value, hint in named:
        if num_tasks == 1 and "summed" in hint:
            continue
        if _close(got, value) and not _close(got, np.asarray(case.expected)):
            return hint
    direction = mean - theta
    moved = got - theta
    if direction @ direction > 0:
        scale = float(moved @ direction / (direction @ direction))
        if np.allclose(moved, scale * direction, rtol=1e-3, atol=1e-6) and not np.isclose(scale, eps, rtol=1e-3):
            return (f"θ moved towards φ̄, but by {scale:.3g} of the way while outer_lr = {eps:g}: multiply (φ̄ − θ) by "
                    f"outer_lr, the argument.")
    return None


def _call_reptile(function: Callable[..., Any]) -> Callable[..., Any]:
    def call(params: _Params, adapted: _Params, *, outer_lr: float) -> Any:
        try:
            result = function([tf.constant(p) for p in params.arrays], [tf.constant(a) for a in adapted.arrays],
                              outer_lr)
        except tf.errors.OpError as error:
            _raise_readably(error)
        got = _as_list(result, "new shared parameters, one tensor per parameter of θ")
        if got is None:
            return None
        advice = _shape_advice(got, params.arrays, None)
        if advice:
            raise WrongShape(advice)
        return _flat(got, task_axis=False)

    call.__name__ = getattr(function, "__name__", "reptile_outer_update")
    return call


def check_reptile_outer_update(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``reptile_outer_update(params, adapted_params, outer_lr)`` on 4 cases.

    ``params`` is θ (shared, ``[in, out]`` / ``[out]`` float32 tensors) and ``adapted_params`` the
    φ̃_i of every task (``[num_tasks, *p.shape]``); the function must return the new shared
    θ + ε ((1/N) Σ_i φ̃_i − θ), ε = ``outer_lr``.

    Prints ✅ and returns ``None``, or raises :class:`~metalearn_lib.checks.core.CheckFailed`.
    """
    run_check(_call_reptile(function), _reptile_cases(), diagnoses=(_diagnose_reptile,), name="reptile_outer_update",
              rtol=_RTOL, atol=_ATOL, quiet=quiet)
