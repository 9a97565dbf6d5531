"""Checks for the exercises of ``01_mapping``: the ridge learner as a map, and the learned prior's update.

* :func:`check_ridge_fit` — ``ridge_fit(support_x, support_y, prior_mean, prior_precision)``,
  w_i = (X_iᵀX_i + Λ)⁻¹(X_iᵀy_i + Λμ) for every task i at once, Λ = diag(prior_precision);
* :func:`check_ridge_learner` — ``ridge_learner(support_x, support_y, prior_mean,
  prior_precision)`` returning the predictor f_D(x) = φ(x)ᵀw_D with φ(x) = [x, 1];
* :func:`check_prior_update` — ``prior_update(prior_mean, prior_log_precision, batch, outer_lr)``,
  one gradient step μ ← μ − η ∂L/∂μ, ρ ← ρ − η ∂L/∂ρ on the mean query MSE L of the ridge map
  with features [x, 1] and Λ = diag(exp ρ).

Inputs are float32 tensors (TensorFlow's default); the expected answers are the library's
(:mod:`metalearn_lib.mapping`) computed in float64 from the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from metalearn_lib.checks.core import TF_NOISE, Case, NoGradient, ShownBatch, WrongShape, require_tensors, run_check
from metalearn_lib.mapping import (
    RidgeLearner,
    linear_features,
    prior_loss,
    prior_update,
    ridge_fit,
    ridge_predict,
)
from metalearn_lib.tasks import LinearFamily, TaskBatch

__all__ = ["check_prior_update", "check_ridge_fit", "check_ridge_learner"]

#: float32 inputs, float64 references: agreement to about 4 significant digits is all we ask.
_RTOL, _ATOL = 1e-4, 1e-5




def _f32(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=np.float32)


def _f64(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=np.float64)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.allclose(a, b, rtol=_RTOL, atol=_ATOL)


def _tensor(value: Any) -> Any:
    return tf.constant(value) if isinstance(value, np.ndarray) else value


def _adapter(
    function: Callable[..., Any],
    expected_shape: Callable[..., tuple[int, ...]],
    what: str,
    advice: str,
    tensors_for: str | None = None,
) -> Callable[..., Any]:
    """Call ``function`` the way a notebook would, and explain a wrong shape in this exercise's terms.

    The cases hold NumPy arrays (so a verdict prints them readably); the learner's function
    receives them as float32 ``tf.Tensor``s. A result whose shape differs from
    ``expected_shape(*args, **kwargs)`` raises :class:`WrongShape` naming both shapes; a
    ``TypeError`` about ``NoneType`` (a gradient that came back None, then multiplied) raises
    :class:`NoGradient`, and so does a result that is not a tensor when ``tensors_for`` (why a later
    exercise needs one) is given.
    """

    def adapted(*args: Any, **kwargs: Any) -> Any:
        try:
            result = function(*(_tensor(a) for a in args), **{k: _tensor(v) for k, v in kwargs.items()})
        except TypeError as error:
            if "NoneType" in str(error):
                raise NoGradient("a gradient came back None: compute exp(ρ), the ridge fit and the loss inside the "
                                 "tape, with TensorFlow ops, and tape.watch μ and ρ") from None
            raise
        except tf.errors.OpError as error:  # keep TF's message, drop its node names: one readable line
            message = TF_NOISE.sub("", error.message).strip()
            raise type(error)(None, None, message) from None
        if result is None:
            return None
        try:
            shape = tuple(np.shape(np.asarray(result, dtype=np.float64)))
        except (TypeError, ValueError):
            return result  # run_check explains a result that is not an array of numbers
        want = tuple(expected_shape(*args, **kwargs))
        if shape != want:
            if shape == (*want, 1):
                raise WrongShape(f"shape {shape}, expected {what} = {want}: drop the trailing axis (w[..., 0])")
            raise WrongShape(f"shape {shape}, expected {what} = {want}: {advice}")
        if tensors_for:
            require_tensors([result], tensors_for)
        return result

    adapted.__name__ = getattr(function, "__name__", "your function")
    return adapted


# ============================================================================================
# ridge_fit
# ============================================================================================
def _reference_weights(x: Any, y: Any, mean: Any, precision: Any) -> np.ndarray:
    return ridge_fit(_f64(x), _f64(y), prior_mean=_f64(mean), prior_precision=_f64(precision)).numpy()


def _ridge_cases() -> list[Case]:
    rng = np.random.default_rng(1)

    def case(name: str, x: Any, y: Any, mean: Any, precision: Any, hint: str) -> Case:
        x, y, mean, precision = (np.asarray(v, np.float32) for v in (x, y, mean, precision))
        return Case(name, (_f32(x), _f32(y)), _reference_weights(x, y, mean, precision), hint,
                    {"prior_mean": _f32(mean), "prior_precision": _f32(precision)})

    x1 = [[[1.0], [2.0], [3.0]]]
    y1 = [[[2.0], [4.5], [5.5]]]
    x2 = np.concatenate([rng.uniform(-1, 1, (1, 4, 1)), np.ones((1, 4, 1))], axis=-1)
    y2 = rng.normal(size=(1, 4, 1))
    x_ls = np.concatenate([rng.uniform(-1, 1, (1, 6, 1)), np.ones((1, 6, 1))], axis=-1)
    y_ls = rng.normal(size=(1, 6, 1))
    x_batch, y_batch = rng.uniform(-1, 1, (4, 5, 3)), rng.normal(size=(4, 5, 1))
    x_square, y_square = rng.uniform(-1, 1, (2, 2, 2)), rng.normal(size=(2, 2, 1))
    return [
        case("one task, one feature, three points", x1, y1, [0.0], [1.0],
             "w = (XᵀX + Λ)⁻¹(Xᵀy + Λμ). With one feature that is (Σ x·y + Λμ) / (Σ x² + Λ): here "
             "(27.5 + 0) / (14 + 1)."),
        case("a prior mean pulls the weight towards μ", x1, y1, [3.0], [5.0],
             "The prior mean enters the right-hand side weighted by the precision: Xᵀy + Λμ."),
        case("two features [x, 1], a different precision for each", x2, y2, [1.0, -0.5], [0.5, 4.0],
             "Λ is diagonal: add tf.linalg.diag(prior_precision) to XᵀX, and prior_precision * prior_mean "
             "(elementwise) to Xᵀy."),
        case("one shot, two weights (K = 1 < p = 2): the prior makes it solvable", x2[:, :1], y2[:, :1],
             [1.0, -0.5], [0.5, 4.0],
             "With one point XᵀX is singular; (XᵀX + Λ) is invertible because Λ > 0. Invert XᵀX + Λ, never XᵀX "
             "alone."),
        case("a huge precision returns the prior mean", x2, y2, [0.7, -1.2], [1e6, 1e6],
             "As Λ → ∞ the data no longer matter and w → μ: check the Λμ term on the right-hand side."),
        case("a tiny precision gives least squares", x_ls, y_ls, [5.0, 5.0], [1e-6, 1e-6],
             "As Λ → 0 (with K ≥ p) w becomes the least-squares fit (XᵀX)⁻¹Xᵀy."),
        case("two square tasks (K = p = 2)", x_square, y_square, [0.3, -0.3], [1.0, 2.0],
             "XᵀX is p × p (features by features); X Xᵀ would be K × K. With X of shape [num_tasks, K, p] use "
             "tf.matmul(X, X, transpose_a=True)."),
        case("a batch of 4 tasks: each task its own weights", x_batch, y_batch, [0.5, -1.0, 0.2], [0.3, 1.0, 2.0],
             "Every task i has its own X_i and y_i. Keep the task axis first and transpose only the last two "
             "axes: tf.matmul(X, X, transpose_a=True) (not tf.transpose(X), which reverses every axis); "
             "tf.linalg.solve works on a batch [num_tasks, p, p]."),
    ]


def _case_arrays(case: Case) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return (_f64(case.args[0]), _f64(case.args[1]), _f64(case.kwargs["prior_mean"]),
            _f64(case.kwargs["prior_precision"]))


def _solve_each(gram: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Per task, pinv(gram) @ rhs: defined even where a learner's gram is singular."""
    return np.einsum("tpq,tq->tp", np.linalg.pinv(gram), rhs)


def _diagnose_ridge_variants(case: Case, got: np.ndarray) -> str | None:
    x, y, mean, precision = _case_arrays(case)
    lam = np.diag(precision)
    gram = np.einsum("tkp,tkq->tpq", x, x)
    xty = np.einsum("tkp,tk->tp", x, y[..., 0])
    proper_gram = gram + lam
    candidates = [
        (_solve_each(proper_gram, xty), np.any(mean != 0),
         "The prior mean is missing: the right-hand side is Xᵀy + Λμ, not Xᵀy (without Λμ every fit is pulled "
         "towards 0 instead of towards μ)."),
        (_solve_each(proper_gram, xty + mean), True,
         "Add Λμ (precision times mean, elementwise for a diagonal Λ) to Xᵀy, not μ itself."),
        (_solve_each(proper_gram, xty - precision * mean), np.any(mean != 0),
         "The sign of the prior term is flipped: the right-hand side is Xᵀy + Λμ."),
        (_solve_each(gram, xty + precision * mean), True,
         "Λ belongs in the matrix you invert, (XᵀX + Λ)⁻¹, not only on the right-hand side: the prior adds "
         "precision to the data's XᵀX."),
        (_solve_each(gram, xty + precision), True,
         "Λ belongs in the matrix you invert, (XᵀX + Λ)⁻¹; on the right-hand side it appears only as Λμ."),
        (_solve_each(gram, xty + precision + precision * mean), True,
         "Λ belongs in the matrix you invert, (XᵀX + Λ)⁻¹; on the right-hand side it appears only as Λμ."),
    ]
    if x.shape[1] == x.shape[2]:  # K = p: X Xᵀ has the right shape but the wrong meaning
        outer = np.einsum("tkp,tjp->tkj", x, x)
        candidates.append((_solve_each(outer + lam, xty + precision * mean), True,
                           "You used X Xᵀ (K × K) where the formula has XᵀX (p × p): transpose the first factor, "
                           "tf.matmul(X, X, transpose_a=True)."))
    for value, applies, hint in candidates:
        if applies and _close(got, value) and not _close(got, np.asarray(case.expected)):
            return hint
    return None


def _diagnose_ridge_batch(case: Case, got: np.ndarray) -> str | None:
    expected = np.asarray(case.expected, np.float64)
    if got.shape[0] < 2:
        return None
    if np.allclose(got, got[:1], rtol=_RTOL, atol=_ATOL):
        if _close(got[0], expected[0]):
            return ("Every task got the first task's weights: solve each task's own system — keep the task axis "
                    "instead of indexing [0], and let tf.matmul / tf.linalg.solve work on the whole batch.")
        return ("Every task got the same weights: you fitted one regression on all tasks' points together. "
                "Each task i needs its own w_i = (X_iᵀX_i + Λ)⁻¹(X_iᵀy_i + Λμ).")
    return None


def check_ridge_fit(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``ridge_fit(support_x, support_y, prior_mean, prior_precision)`` on 8 cases.

    The function is called as ``ridge_fit(support_x, support_y, prior_mean=μ, prior_precision=Λ)``
    with float32 tensors ``support_x [num_tasks, K, p]``, ``support_y [num_tasks, K, 1]``,
    ``μ [p]`` and the diagonal of Λ ``[p]``; it must return w ``[num_tasks, p]`` as a tf.Tensor (exercise 2
    differentiates through it).

    Prints ✅ and returns ``None``, or raises :class:`~metalearn_lib.checks.core.CheckFailed`.
    """
    adapted = _adapter(function, lambda x, y, **_: (x.shape[0], x.shape[-1]), "w [num_tasks, p]",
                       "return w, not predictions; transpose only the last two axes (transpose_a=True)",
                       tensors_for="exercise 2 (prior_update) differentiates through ridge_fit, and NumPy arrays "
                                   "cut the gradient; keep every step in TensorFlow (no .numpy(), no np.linalg)")
    run_check(adapted, _ridge_cases(), diagnoses=(_diagnose_ridge_batch, _diagnose_ridge_variants), name="ridge_fit",
              rtol=_RTOL, atol=_ATOL, quiet=quiet)


# ============================================================================================
# ridge_learner
# ============================================================================================
def _learner_cases() -> list[Case]:
    rng = np.random.default_rng(2)

    def case(name: str, num_tasks: int, num_shots: int, num_query: int, mean: Any, precision: Any,
             hint: str) -> Case:
        x = rng.uniform(-1, 1, (num_tasks, num_shots, 1)).astype(np.float32)
        y = (2.0 * x + 0.3 * rng.normal(size=x.shape)).astype(np.float32)
        q = rng.uniform(-1, 1, (num_tasks, num_query, 1)).astype(np.float32)
        mean, precision = np.asarray(mean, np.float32), np.asarray(precision, np.float32)
        expected = RidgeLearner(_f64(mean), _f64(precision))(_f64(x), _f64(y))(_f64(q)).numpy()
        return Case(name, (_f32(x), _f32(y)), expected, hint,
                    {"prior_mean": _f32(mean), "prior_precision": _f32(precision), "query_x": _f32(q)})

    return [
        case("one task, K = 3, predicted at 5 query points", 1, 3, 5, [0.0, 0.0], [1.0, 1.0],
             "ridge_learner(...) must return a function; the check calls it on query_x. Fit w on φ(support_x) = "
             "[x, 1] with your ridge_fit, then predict φ(query_x) w."),
        case("a prior mean of [2, 0]: one shot already points the right way", 1, 1, 4, [2.0, 0.0], [0.36, 100.0],
             "Pass prior_mean and prior_precision on to ridge_fit."),
        case("three tasks, each with its own predictor", 3, 4, 6, [1.0, 0.0], [0.5, 2.0],
             "Task i's predictions use task i's weights: ŷ_i = φ(X_i^query) w_i, e.g. "
             "tf.linalg.matvec(linear_features(query_x), w)[..., tf.newaxis]."),
        case("more query points than support points", 2, 2, 9, [0.0, 0.0], [1.0, 1.0],
             "The predictor works on any number of query points: compute φ(query_x) inside it."),
    ]


def _call_learner(function: Callable[..., Any]) -> Callable[..., Any]:
    def call(support_x: Any, support_y: Any, *, prior_mean: Any, prior_precision: Any, query_x: Any) -> Any:
        predictor = function(support_x, support_y, prior_mean=prior_mean, prior_precision=prior_precision)
        if predictor is None:
            return None
        if not callable(predictor):
            raise TypeError(f"ridge_learner returned an object of type {type(predictor).__name__}, not a predictor: "
                            f"return a function f(query_x) (a def inside, or a lambda)")
        return predictor(query_x)

    call.__name__ = getattr(function, "__name__", "ridge_learner")
    return call


def _diagnose_learner(case: Case, got: np.ndarray) -> str | None:
    x, y = _f64(case.args[0]), _f64(case.args[1])
    mean, precision = _f64(case.kwargs["prior_mean"]), _f64(case.kwargs["prior_precision"])
    q = _f64(case.kwargs["query_x"])
    if got.shape[0] > 1:
        first = RidgeLearner(mean, precision)(x[:1], y[:1]).weights.numpy()
        with_first = ridge_predict(np.repeat(first, got.shape[0], axis=0), linear_features(q)).numpy()
        if _close(got, with_first):
            return ("Every task was predicted with the first task's weights: predict task i's queries with task "
                    "i's own weights.")
    unit_prior = RidgeLearner(0.0, 1.0)(x, y)(q).numpy()
    if (np.any(mean != 0) or np.any(precision != 1)) and _close(got, unit_prior):
        return "The prior is ignored: pass prior_mean and prior_precision on to ridge_fit."
    return None


def check_ridge_learner(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``ridge_learner(support_x, support_y, prior_mean, prior_precision)`` on 4 cases.

    The check calls ``predictor = ridge_learner(support_x, support_y, prior_mean=μ,
    prior_precision=Λ)`` and then ``predictor(query_x)``, expecting φ(query_x) w_D with
    φ(x) = [x, 1], ``[num_tasks, num_query, 1]``.

    Prints ✅ and returns ``None``, or raises :class:`~metalearn_lib.checks.core.CheckFailed`.
    """
    adapted = _adapter(_call_learner(function), lambda x, y, query_x, **_: (*query_x.shape[:2], 1),
                       "ŷ [num_tasks, num_query, 1]", "the predictor returns φ(query_x) w, one column")
    run_check(adapted, _learner_cases(), diagnoses=(_diagnose_learner,), name="ridge_learner", rtol=_RTOL, atol=_ATOL,
              quiet=quiet)


# ============================================================================================
# prior_update
# ============================================================================================
def _batch64(batch: TaskBatch) -> TaskBatch:
    return TaskBatch(*(tf.cast(t, tf.float64) for t in (batch.support_x, batch.support_y, batch.query_x,
                                                       batch.query_y)))


def _gradients(mean: Any, log_precision: Any, batch: TaskBatch) -> tuple[np.ndarray, np.ndarray]:
    m, r = tf.constant(_f64(mean)), tf.constant(_f64(log_precision))
    with tf.GradientTape() as tape:
        tape.watch([m, r])
        loss = prior_loss(m, r, _batch64(batch), features=linear_features)
    grad_mean, grad_log_precision = tape.gradient(loss, [m, r])
    return grad_mean.numpy(), grad_log_precision.numpy()


def _update_cases() -> list[Case]:
    def case(name: str, family: LinearFamily, num_tasks: int, num_shots: int, seed: int, mean: Any,
             log_precision: Any, outer_lr: float, hint: str) -> Case:
        drawn = family.sample(num_tasks, num_shots, 10, seed=seed)
        batch = ShownBatch(drawn.support_x, drawn.support_y, drawn.query_x, drawn.query_y)
        new_mean, new_log_precision = prior_update(tf.constant(_f64(mean)), tf.constant(_f64(log_precision)),
                                                   _batch64(batch), outer_lr=outer_lr, features=linear_features)
        expected = np.stack([new_mean.numpy(), new_log_precision.numpy()])
        return Case(name, (_f32(mean), _f32(log_precision), batch), expected, hint, {"outer_lr": outer_lr})

    family = LinearFamily(num_features=1, weight_mean=2.0, weight_std=0.5, noise_std=0.3)
    wide = LinearFamily(num_features=2, weight_mean=-1.0, weight_std=1.0, noise_std=0.2)
    step = ("μ ← μ − η ∂L/∂μ and ρ ← ρ − η ∂L/∂ρ, where L is the mean squared error on the query points of "
            "the ridge map fitted on the support points, with features [x, 1] and Λ = exp(ρ).")
    return [
        case("from μ = 0, Λ = 1 (ρ = 0): 8 tasks, K = 2, η = 0.1", family, 8, 2, 11, [0.0, 0.0], [0.0, 0.0], 0.1,
             step),
        case("η = 0.5: the step scales with outer_lr", family, 8, 2, 11, [0.0, 0.0], [0.0, 0.0], 0.5,
             "The step is outer_lr times the gradient: use the argument, not a number of your own."),
        case("another starting prior μ = (1, −0.5), ρ = (−1, 2)", family, 8, 3, 12, [1.0, -0.5], [-1.0, 2.0], 0.05,
             "Both μ and ρ move, each by its own gradient. Compute Λ = exp(ρ) inside the tape so the gradient "
             "reaches ρ."),
        case("K = 1: one support point per task", family, 16, 1, 13, [0.5, 0.0], [0.0, 1.0], 0.2, step),
        case("two input features (p = 3)", wide, 6, 4, 14, [0.0, 0.0, 0.0], [0.5, 0.0, -0.5], 0.1,
             "Nothing in the update depends on the number of features: the same code works for p = 3."),
    ]


def _diagnose_update(case: Case, got: np.ndarray) -> str | None:
    mean, log_precision, batch = _f64(case.args[0]), _f64(case.args[1]), case.args[2]
    eta = float(case.kwargs["outer_lr"])
    g_mean, g_log_precision = _gradients(mean, log_precision, batch)
    g_precision = g_log_precision / np.exp(log_precision)  # ∂L/∂Λ = (∂L/∂ρ) / Λ
    support_only = TaskBatch(batch.support_x, batch.support_y, batch.support_x, batch.support_y)
    m_support, r_support = prior_update(tf.constant(mean), tf.constant(log_precision), _batch64(support_only),
                                        outer_lr=eta, features=linear_features)
    named = [
        ((mean + eta * g_mean, log_precision + eta * g_log_precision),
         "The step goes uphill: subtract the gradient (θ − η∇L), do not add it."),
        ((mean - eta * g_mean, log_precision),
         "Only μ moved: ρ = log Λ is a parameter of the map too. Take the gradient with respect to both "
         "(tape.gradient(loss, [prior_mean, prior_log_precision])) and update both."),
        ((mean, log_precision - eta * g_log_precision),
         "Only ρ moved: the prior mean μ must take its gradient step as well."),
        ((mean - eta * g_log_precision, log_precision - eta * g_mean),
         "The gradients are swapped: μ takes ∂L/∂μ and ρ takes ∂L/∂ρ (tape.gradient returns them in the order "
         "of the list you pass)."),
        ((mean - eta * g_mean, log_precision - eta * g_precision),
         "ρ took the gradient with respect to Λ. Differentiate with respect to ρ itself: watch ρ and compute "
         "Λ = exp(ρ) inside the tape."),
        ((mean - eta * g_mean, np.exp(log_precision - eta * g_log_precision)),
         "Return the new log-precision ρ, not the precision Λ = exp(ρ)."),
        ((m_support.numpy(), r_support.numpy()),
         "The loss was measured on the support points, which the ridge map has just fitted. Measure it on the "
         "query points: the prior is judged by how well the fitted map predicts new points."),
    ]
    for (m, r), hint in named:
        if _close(got, np.stack([m, r])) and not _close(got, np.asarray(case.expected)):
            return hint
    # A step along −∇L of the wrong size: a fixed learning rate, or a summed loss.
    gradient = np.concatenate([g_mean, g_log_precision])
    moved = np.concatenate([mean, log_precision]) - got.ravel()
    scale = float(moved @ gradient / (gradient @ gradient)) if gradient @ gradient > 0 else math.nan
    if math.isfinite(scale) and scale > 0 and np.allclose(moved, scale * gradient, rtol=1e-3, atol=1e-5) \
            and not math.isclose(scale, eta, rel_tol=1e-3):
        return (f"The step points the right way but is {scale:.3g} × the gradient, while outer_lr = {eta:g}: "
                f"multiply the gradient by outer_lr (not a number of your own), and average the loss over tasks "
                f"and query points (tf.reduce_mean) rather than summing it.")
    return None


def check_prior_update(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``prior_update(prior_mean, prior_log_precision, batch, outer_lr)`` on 5 cases.

    The function is called as ``prior_update(μ, ρ, batch, outer_lr=η)`` with float32 tensors
    μ, ρ ``[p]`` and a :class:`~metalearn_lib.tasks.TaskBatch`, and must return the pair
    ``(new_prior_mean, new_prior_log_precision)`` after one gradient step on the mean query MSE
    of the ridge map (features [x, 1], Λ = diag(exp ρ)), as
    :func:`metalearn_lib.mapping.prior_update` does.

    Prints ✅ and returns ``None``, or raises :class:`~metalearn_lib.checks.core.CheckFailed`.
    """
    adapted = _adapter(function, lambda mean, *_, **__: (2, mean.shape[0]), "(new μ, new ρ) [2, p]",
                       "return a tuple (new_prior_mean, new_prior_log_precision)")
    run_check(adapted, _update_cases(), diagnoses=(_diagnose_update,), name="prior_update", rtol=_RTOL, atol=_ATOL,
              quiet=quiet)
