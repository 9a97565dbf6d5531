"""Chapter 1 (``01_mapping``): a learner is a map from a task's data to a predictor.

A *learner* takes a task's support set D = {(x_k, y_k)}_{k=1..K} and returns a predictor
f_D(x); meta-learning chooses that map from many tasks. This module builds three such maps, all
batched over tasks (tensors ``[num_tasks, points, features]``; no Python loop over tasks):

- **Ridge / Bayesian linear regression** on features φ(x) (:func:`ridge_fit`,
  :class:`RidgeLearner`): with the prior w ~ N(μ, σ² Λ⁻¹) and Gaussian noise of variance σ²,
  the posterior mean weights are

      w_D = (ΦᵀΦ + Λ)⁻¹ (Φᵀy + Λμ),      f_D(x) = φ(x)ᵀ w_D.

  The *fixed prior* is plain ridge regression, μ = 0 and Λ = λI.
- **A learned prior**: μ and a diagonal Λ = diag(exp ρ) chosen from many tasks, either by
  gradient descent on the query error of the ridge map (:func:`prior_loss`,
  :func:`prior_update`, differentiating through the closed-form solve) or by empirical Bayes
  (:func:`empirical_bayes_prior`, moment matching of per-task least-squares weights).
  :func:`learn_prior` runs either across a task family.
- **An amortised map** (:class:`AmortisedLearner`, in the spirit of conditional neural
  processes, Garnelo et al. 2018): an encoder MLP h reads each support pair, the mean
  r = (1/K) Σ_k h([x_k, y_k]) summarises the task, a decoder MLP g predicts ŷ = g([r, x]).
  :func:`train_amortised` meta-trains it with Adam across tasks.

:func:`compare_by_shots` scores any of these maps (anything with the call signature
``learner(support_x, support_y) -> predictor``, ``predictor(query_x) -> query_y``) by few-shot
query error as K grows, on the same test tasks.

Imports only the ground floor (:mod:`metalearn_lib.tasks`, :mod:`metalearn_lib.models`) and the
utilities (:mod:`metalearn_lib.optim`, :mod:`metalearn_lib.validation`).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import tensorflow as tf

from metalearn_lib.models import Activation, forward, init_mlp, mse, tile_params
from metalearn_lib.optim import AdamState, adam_init, adam_update, build_cached, compile_training_loop, run_in_chunks
from metalearn_lib.tasks import TaskBatch, TaskFamily
from metalearn_lib.validation import check_int, check_number, check_rate

__all__ = [
    "AMORTISED_LOSSES",
    "LOG_PRECISION_BOUNDS",
    "PRIOR_METHODS",
    "AmortisedLearner",
    "AmortisedPredictor",
    "FeatureMap",
    "LearnResult",
    "Learner",
    "Predictor",
    "RidgeLearner",
    "RidgePredictor",
    "ShotsComparison",
    "amortised_loss",
    "amortised_predict",
    "compare_by_shots",
    "empirical_bayes_prior",
    "encode_support",
    "fourier_features",
    "identity_features",
    "init_amortised",
    "learn_prior",
    "linear_features",
    "polynomial_features",
    "prior_loss",
    "prior_update",
    "ridge_fit",
    "ridge_predict",
    "support_mean_learner",
    "train_amortised",
]

#: A feature map φ: ``[..., points, in] -> [..., points, p]``.
FeatureMap = Callable[[tf.Tensor], tf.Tensor]
#: A predictor f_D: ``query_x [num_tasks, num_query, in] -> [num_tasks, num_query, 1]``.
Predictor = Callable[[tf.Tensor], tf.Tensor]
#: A learner, the map D -> f_D: ``(support_x, support_y) -> Predictor``.
Learner = Callable[[tf.Tensor, tf.Tensor], Predictor]

#: Prior training methods :func:`learn_prior` knows.
PRIOR_METHODS: tuple[str, ...] = ("gradient", "empirical_bayes")
#: Training losses :func:`train_amortised` knows.
AMORTISED_LOSSES: tuple[str, ...] = ("mse", "nll")
#: The range [low, high] :func:`learn_prior` keeps ρ = log Λ in (Λ from about 1e−6 to 1e6 noise
#: precisions): a weight the tasks never vary would otherwise drive ρ up without end.
LOG_PRECISION_BOUNDS: tuple[float, float] = (-14.0, 14.0)


# --------------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------------
def _check_shots(value: Any) -> tuple[int, int]:
    """``num_shots`` as (low, high): an int K gives (K, K), a pair (low, high) a range."""
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise ValueError(f"num_shots must be an int >= 1 or a pair (low, high) with "
                             f"1 <= low <= high, got {value!r}")
        low = check_int("num_shots[0]", value[0], 1)
        high = check_int("num_shots[1]", value[1], 1)
        if low > high:
            raise ValueError(f"num_shots must be a pair (low, high) with 1 <= low <= high, "
                             f"got {value!r}")
        return low, high
    k = check_int("num_shots", value, 1)
    return k, k


def _check_family(family: Any) -> None:
    if not callable(getattr(family, "sample", None)):
        raise TypeError(f"family must have a sample(num_tasks, num_shots, num_query, seed=) "
                        f"method, got {type(family).__name__}")


def _check_features(features: Any) -> None:
    if not callable(features):
        raise TypeError(f"features must be a callable feature map x -> φ(x), "
                        f"got {type(features).__name__}")


def _as_float_tensor(name: str, value: Any, dtype: tf.DType | None = None) -> tf.Tensor:
    """``value`` as a floating tensor (cast to ``dtype`` if given; ints become floats)."""
    try:
        t = tf.convert_to_tensor(value, dtype_hint=dtype)  # Python floats straight to dtype (no float32 detour)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a floating tensor, got {type(value).__name__}") from err
    if not (t.dtype.is_floating or t.dtype.is_integer) or t.dtype == tf.bool:
        raise TypeError(f"{name} must be a floating tensor, got dtype {t.dtype.name}")
    target = dtype or (t.dtype if t.dtype.is_floating else tf.float32)
    return t if t.dtype == target else tf.cast(t, target)


def _check_points(name: str, x: tf.Tensor) -> None:
    if x.shape.rank != 3:
        raise ValueError(f"{name} must have shape [num_tasks, points, features], got {x.shape}")


def _check_pair(name_x: str, x: tf.Tensor, name_y: str, y: tf.Tensor) -> None:
    _check_points(name_x, x)
    if y.shape.rank != 3 or (y.shape[-1] is not None and y.shape[-1] != 1):
        raise ValueError(f"{name_y} must have shape [num_tasks, points, 1], got {y.shape}")
    if not x.shape[:2].is_compatible_with(y.shape[:2]):
        raise ValueError(f"{name_x} and {name_y} must agree on [num_tasks, points], "
                         f"got {x.shape} and {y.shape}")


def _concrete(t: tf.Tensor) -> np.ndarray | None:
    """The value of ``t`` when it has one (eager mode), else None (inside a ``tf.function``)."""
    if tf.executing_eagerly() and hasattr(t, "numpy"):
        return t.numpy()
    return None


# --------------------------------------------------------------------------------------------
# feature maps φ(x)
# --------------------------------------------------------------------------------------------
def identity_features(x: tf.Tensor) -> tf.Tensor:
    """φ(x) = x: the inputs themselves, no bias (exact for :class:`~metalearn_lib.tasks.LinearFamily`).

    ``[..., d] -> [..., d]``.
    """
    return tf.convert_to_tensor(x)


def linear_features(x: tf.Tensor) -> tf.Tensor:
    """φ(x) = [x, 1]: the inputs and a constant (bias) feature. ``[..., d] -> [..., d + 1]``."""
    x = tf.convert_to_tensor(x)
    return tf.concat([x, tf.ones_like(x[..., :1])], axis=-1)


def polynomial_features(x: tf.Tensor, degree: int = 3) -> tf.Tensor:
    """φ(x) = [x, x², …, x^degree, 1], powers of each input feature separately (no cross terms).

    ``[..., d] -> [..., d·degree + 1]``. Use ``functools.partial(polynomial_features, degree=5)``
    to pass another degree as a :data:`FeatureMap`.

    Raises:
        ValueError: ``degree`` < 1.
        TypeError: ``degree`` is not an int.
    """
    degree = check_int("degree", degree, 1)
    x = tf.convert_to_tensor(x)
    powers = [x**n for n in range(1, degree + 1)]
    return tf.concat([*powers, tf.ones_like(x[..., :1])], axis=-1)


def fourier_features(x: tf.Tensor, frequencies: Sequence[float] = (1.0,)) -> tf.Tensor:
    """φ(x) = [sin(ω x), cos(ω x) for each ω in ``frequencies``, 1], per input feature.

    ``[..., d] -> [..., 2·d·len(frequencies) + 1]``. With ω = 1 a sinusoid task is exactly
    linear in φ: A sin(x − φ₀) = (A cos φ₀) sin x − (A sin φ₀) cos x.

    Raises:
        ValueError: ``frequencies`` is empty or holds a non-finite number.
        TypeError: ``frequencies`` is not a sequence of numbers.
    """
    if isinstance(frequencies, str) or not isinstance(frequencies, Sequence):
        raise TypeError(f"frequencies must be a non-empty sequence of finite numbers, "
                        f"got {type(frequencies).__name__}")
    if not frequencies:
        raise ValueError("frequencies must be a non-empty sequence of finite numbers, got []")
    omegas = []
    for w in frequencies:
        if isinstance(w, bool) or not isinstance(w, (int, float, np.integer, np.floating)):
            raise TypeError(f"frequencies must hold finite numbers, got {w!r}")
        if not math.isfinite(w):
            raise ValueError(f"frequencies must hold finite numbers, got {w}")
        omegas.append(float(w))
    x = tf.convert_to_tensor(x)
    parts = []
    for w in omegas:
        parts += [tf.sin(w * x), tf.cos(w * x)]
    return tf.concat([*parts, tf.ones_like(x[..., :1])], axis=-1)


# --------------------------------------------------------------------------------------------
# the ridge map D -> w_D -> f_D
# --------------------------------------------------------------------------------------------
def _prior_terms(
    prior_mean: Any, prior_precision: Any, p: int, dtype: tf.DType
) -> tuple[tf.Tensor, tf.Tensor]:
    """Λ as a ``[p, p]`` matrix and Λμ as a ``[p]`` vector, from scalar/vector/matrix inputs."""
    mean = _as_float_tensor("prior_mean", prior_mean, dtype)
    precision = _as_float_tensor("prior_precision", prior_precision, dtype)
    if mean.shape.rank == 0:
        mean = tf.fill([p], mean)
    elif mean.shape.as_list() != [p]:
        raise ValueError(f"prior_mean must be a scalar or have shape [{p}] (the number of "
                         f"features), got {mean.shape}")
    values = _concrete(precision)
    if values is not None and not (np.all(np.isfinite(values)) and np.all(
            np.diagonal(values) >= 0 if values.ndim == 2 else values >= 0)):
        raise ValueError(f"prior_precision must be finite and >= 0, got {values}")
    if precision.shape.rank == 0:
        return precision * tf.eye(p, dtype=dtype), precision * mean
    if precision.shape.as_list() == [p]:
        return tf.linalg.diag(precision), precision * mean
    if precision.shape.as_list() == [p, p]:
        return precision, tf.linalg.matvec(precision, mean)
    raise ValueError(f"prior_precision must be a scalar, a vector [{p}] (diagonal) or a "
                     f"matrix [{p}, {p}], got shape {precision.shape}")


def ridge_fit(
    support_x: tf.Tensor,
    support_y: tf.Tensor,
    *,
    prior_mean: float | tf.Tensor = 0.0,
    prior_precision: float | tf.Tensor = 1.0,
) -> tf.Tensor:
    """The ridge map, batched over tasks: w_i = (X_iᵀX_i + Λ)⁻¹ (X_iᵀy_i + Λμ).

    This is the posterior mean (and MAP estimate) of Bayesian linear regression y = Xw + ε,
    ε ~ N(0, σ²), with the prior w ~ N(μ, σ²Λ⁻¹): Λ is the prior precision *in units of the
    noise precision* (for a prior covariance S, Λ = σ² S⁻¹). Plain ridge regression is
    μ = 0, Λ = λI; Λ → 0 gives least squares, Λ → ∞ gives w = μ.

    ``support_x`` is the design matrix: apply a feature map first (X = φ(x)) to fit functions
    that are nonlinear in x.

    Args:
        support_x: X, ``[num_tasks, num_shots, p]``.
        support_y: y, ``[num_tasks, num_shots, 1]``.
        prior_mean: μ, a scalar (the same for every weight) or ``[p]``.
        prior_precision: Λ >= 0, a scalar (λI), a vector ``[p]`` (diagonal) or a ``[p, p]``
            positive semi-definite matrix. XᵀX + Λ must be invertible: Λ > 0, or K >= p.

    Returns:
        w, ``[num_tasks, p]``.

    Raises:
        ValueError: mismatched shapes, a negative or non-finite ``prior_precision``, or (in
            eager mode) a singular XᵀX + Λ.
        TypeError: a non-floating input.
    """
    support_x = _as_float_tensor("support_x", support_x)
    support_y = _as_float_tensor("support_y", support_y, support_x.dtype)
    _check_pair("support_x", support_x, "support_y", support_y)
    p = support_x.shape[-1]
    if p is None:
        raise ValueError("support_x must have a known number of features (last axis)")
    precision, precision_mean = _prior_terms(prior_mean, prior_precision, int(p), support_x.dtype)
    gram = tf.matmul(support_x, support_x, transpose_a=True) + precision  # XᵀX + Λ   [T, p, p]
    rhs = tf.matmul(support_x, support_y, transpose_a=True) + precision_mean[:, tf.newaxis]
    try:
        chol = tf.linalg.cholesky(gram)
        weights = tf.linalg.cholesky_solve(chol, rhs)  # (XᵀX + Λ)⁻¹ (Xᵀy + Λμ)   [T, p, 1]
        if tf.executing_eagerly() and not bool(tf.reduce_all(tf.math.is_finite(weights))):
            raise tf.errors.InvalidArgumentError(None, None, "non-finite solution")
    except tf.errors.InvalidArgumentError:
        raise ValueError(
            f"XᵀX + Λ is singular (not positive definite) for some task: give a positive "
            f"definite prior_precision (> 0), or at least "
            f"p = {p} support points per task (got {support_x.shape[1]})"
        ) from None
    return weights[..., 0]


def ridge_predict(weights: tf.Tensor, query_x: tf.Tensor) -> tf.Tensor:
    """The fitted predictor f(x) = xᵀw for every task: ŷ_i = X_i w_i.

    Args:
        weights: w, ``[num_tasks, p]`` (from :func:`ridge_fit`).
        query_x: X, ``[num_tasks, num_query, p]`` (features already applied).

    Returns:
        ŷ, ``[num_tasks, num_query, 1]``.

    Raises:
        ValueError: mismatched shapes.
    """
    weights = _as_float_tensor("weights", weights)
    query_x = _as_float_tensor("query_x", query_x, weights.dtype)
    _check_points("query_x", query_x)
    if weights.shape.rank != 2 or not weights.shape.is_compatible_with(
            [query_x.shape[0], query_x.shape[-1]]):
        raise ValueError(f"weights must have shape [num_tasks, p] = "
                         f"[{query_x.shape[0]}, {query_x.shape[-1]}] to match query_x, "
                         f"got {weights.shape}")
    return tf.linalg.matvec(query_x, weights)[..., tf.newaxis]


@dataclass(frozen=True, eq=False)
class RidgePredictor:
    """f_D(x) = φ(x)ᵀ w_D for each task: the output of a :class:`RidgeLearner`.

    Attributes:
        weights: w_D, ``[num_tasks, p]``.
        features: the feature map φ the weights belong to.
    """

    weights: tf.Tensor
    features: FeatureMap

    def __call__(self, query_x: tf.Tensor) -> tf.Tensor:
        """ŷ = φ(x)ᵀ w, ``[num_tasks, num_query, in] -> [num_tasks, num_query, 1]``."""
        query_x = _as_float_tensor("query_x", query_x, self.weights.dtype)
        return ridge_predict(self.weights, self.features(query_x))


@dataclass(frozen=True, eq=False)
class RidgeLearner:
    """The learner as a map D -> f_D: Bayesian ridge regression on features φ(x).

    ``RidgeLearner(...)(support_x, support_y)`` computes w_D = (ΦᵀΦ + Λ)⁻¹(Φᵀy + Λμ) with
    Φ = φ(support_x) for every task and returns the predictor f_D(x) = φ(x)ᵀ w_D.

    ``RidgeLearner()`` is plain ridge regression with λ = 1 on [x, 1] (a *fixed* prior);
    :func:`learn_prior` returns one whose μ and Λ were learned across tasks.

    Attributes:
        prior_mean: μ, a scalar or ``[p]``.
        prior_precision: Λ, a scalar, ``[p]`` (diagonal) or ``[p, p]`` (see :func:`ridge_fit`).
        features: the feature map φ (default :func:`linear_features`, [x, 1]).
    """

    prior_mean: float | tf.Tensor = 0.0
    prior_precision: float | tf.Tensor = 1.0
    features: FeatureMap = linear_features

    def __post_init__(self) -> None:
        _check_features(self.features)

    def __call__(self, support_x: tf.Tensor, support_y: tf.Tensor) -> RidgePredictor:
        """D = (support_x, support_y) ↦ f_D, for every task at once."""
        support_x = _as_float_tensor("support_x", support_x)
        _check_points("support_x", support_x)
        weights = ridge_fit(self.features(support_x), support_y, prior_mean=self.prior_mean,
                            prior_precision=self.prior_precision)
        return RidgePredictor(weights, self.features)


@dataclass(frozen=True, eq=False)
class _MeanPredictor:
    mean: tf.Tensor  # [num_tasks, 1]

    def __call__(self, query_x: tf.Tensor) -> tf.Tensor:
        query_x = tf.convert_to_tensor(query_x)
        _check_points("query_x", query_x)
        return tf.broadcast_to(self.mean[:, tf.newaxis, :],
                               [self.mean.shape[0], tf.shape(query_x)[1], 1])


def support_mean_learner(support_x: tf.Tensor, support_y: tf.Tensor) -> Predictor:
    """The simplest learner: f_D(x) = (1/K) Σ_k y_k, a constant per task (a baseline)."""
    support_x = tf.convert_to_tensor(support_x)
    support_y = _as_float_tensor("support_y", support_y)
    _check_pair("support_x", support_x, "support_y", support_y)
    return _MeanPredictor(tf.reduce_mean(support_y, axis=1))


# --------------------------------------------------------------------------------------------
# learning the prior
# --------------------------------------------------------------------------------------------
def prior_loss(
    prior_mean: tf.Tensor,
    prior_log_precision: tf.Tensor,
    batch: TaskBatch,
    *,
    features: FeatureMap = linear_features,
) -> tf.Tensor:
    """The query error of the ridge map under the prior (μ, Λ = diag(exp ρ)), averaged over tasks.

    L(μ, ρ) = (1/N) Σ_i MSE(φ(X_i^query) w_i, y_i^query),
    w_i = (Φ_iᵀΦ_i + Λ)⁻¹(Φ_iᵀy_i + Λμ) with Φ_i = φ(X_i^support).

    Differentiable in μ and ρ (through the closed-form solve): this is the objective the
    learned prior minimises.

    Args:
        prior_mean: μ, ``[p]``.
        prior_log_precision: ρ, ``[p]``; the precision is Λ = diag(exp ρ).
        batch: the tasks (support and query sets).
        features: the feature map φ.

    Returns:
        A scalar.
    """
    _check_features(features)
    prior_log_precision = tf.convert_to_tensor(prior_log_precision)
    weights = ridge_fit(features(batch.support_x), batch.support_y, prior_mean=prior_mean,
                        prior_precision=tf.exp(prior_log_precision))
    pred = ridge_predict(weights, features(batch.query_x))
    return tf.reduce_mean(mse(pred, batch.query_y))


def prior_update(
    prior_mean: tf.Tensor,
    prior_log_precision: tf.Tensor,
    batch: TaskBatch,
    *,
    outer_lr: float | tf.Tensor,
    features: FeatureMap = linear_features,
) -> tuple[tf.Tensor, tf.Tensor]:
    """One gradient step on the prior: μ ← μ − η ∂L/∂μ, ρ ← ρ − η ∂L/∂ρ, L = :func:`prior_loss`.

    Args:
        prior_mean: μ, ``[p]``.
        prior_log_precision: ρ, ``[p]`` (Λ = diag(exp ρ)).
        batch: the tasks of this step.
        outer_lr: η > 0.
        features: the feature map φ.

    Returns:
        ``(new_prior_mean, new_prior_log_precision)``.

    Raises:
        ValueError: ``outer_lr`` <= 0 or mismatched shapes.
    """
    outer_lr = check_rate("outer_lr", outer_lr)
    prior_mean = tf.convert_to_tensor(prior_mean)
    prior_log_precision = tf.convert_to_tensor(prior_log_precision)
    with tf.GradientTape() as tape:
        tape.watch([prior_mean, prior_log_precision])
        loss = prior_loss(prior_mean, prior_log_precision, batch, features=features)
    grad_mean, grad_log_precision = tape.gradient(loss, [prior_mean, prior_log_precision])
    return prior_mean - outer_lr * grad_mean, prior_log_precision - outer_lr * grad_log_precision


def empirical_bayes_prior(
    x: tf.Tensor,
    y: tf.Tensor,
    *,
    features: FeatureMap = linear_features,
    min_variance: float = 1e-6,
    min_noise_variance: float = 1e-4,
) -> tuple[tf.Tensor, tf.Tensor]:
    """The prior by moment matching (empirical Bayes) from many tasks with enough points each.

    Per task i, least squares ŵ_i = (Φ_iᵀΦ_i)⁻¹Φ_iᵀy_i and its noise estimate
    s_i² = |y_i − Φ_iŵ_i|² / (n − p). Then, across the N tasks,

        μ = (1/N) Σ_i ŵ_i,   σ² = max((1/N) Σ_i s_i², ``min_noise_variance``),
        v_j = Var_i(ŵ_ij) − σ² · (1/N) Σ_i [(Φ_iᵀΦ_i)⁻¹]_jj   (the spread of the true weights:
              the spread of the estimates minus their own noise; floored at ``min_variance``),
        Λ_j = σ² / v_j,   returned as ρ_j = log Λ_j, clipped to :data:`LOG_PRECISION_BOUNDS`.

    (Noise-free tasks would give σ² = 0 and so Λ = 0, no prior at all: the floor on σ² keeps
    a usable prior, as if the data had a little noise.)

    Args:
        x: inputs ``[num_tasks, points, in]``, points >= p + 1 where p = φ's output width.
        y: targets ``[num_tasks, points, 1]``.
        features: the feature map φ.
        min_variance: floor of v_j, > 0 (a weight that never varies gets Λ_j = σ²/min_variance).
        min_noise_variance: floor of σ², > 0.

    Returns:
        ``(prior_mean [p], prior_log_precision [p])``.

    Raises:
        ValueError: fewer than 2 tasks, too few points, or mismatched shapes.
    """
    _check_features(features)
    min_variance = check_number("min_variance", min_variance)
    min_noise_variance = check_number("min_noise_variance", min_noise_variance)
    x = _as_float_tensor("x", x)
    y = _as_float_tensor("y", y, x.dtype)
    _check_pair("x", x, "y", y)
    phi = features(x)
    num_tasks, n, p = phi.shape
    if num_tasks is None or num_tasks < 2:
        raise ValueError(f"x must hold at least 2 tasks, got {num_tasks}")
    if n is None or p is None or n < p + 1:
        raise ValueError(f"x must hold at least p + 1 = {p + 1 if p else '?'} points per task "
                         f"(p = the number of features), got {n}")
    gram = tf.matmul(phi, phi, transpose_a=True)                               # ΦᵀΦ   [N, p, p]
    chol = tf.linalg.cholesky(gram)
    w_hat = tf.linalg.cholesky_solve(chol, tf.matmul(phi, y, transpose_a=True))[..., 0]  # [N, p]
    residual = y[..., 0] - tf.linalg.matvec(phi, w_hat)
    noise_var = tf.maximum(tf.reduce_mean(tf.reduce_sum(tf.square(residual), axis=1) / float(n - p)),
                           tf.constant(min_noise_variance, x.dtype))                   # σ²
    gram_inv_diag = tf.linalg.diag_part(tf.linalg.cholesky_solve(chol, tf.eye(p, dtype=x.dtype)))
    mean = tf.reduce_mean(w_hat, axis=0)                                           # μ
    spread = tf.math.reduce_variance(w_hat, axis=0) - noise_var * tf.reduce_mean(gram_inv_diag, 0)
    variance = tf.maximum(spread, tf.constant(min_variance, x.dtype))               # v_j
    return mean, tf.clip_by_value(tf.math.log(noise_var / variance), *LOG_PRECISION_BOUNDS)  # ρ


# --------------------------------------------------------------------------------------------
# Adam, functionally (a whole training iteration is one compiled function of tensors)
# --------------------------------------------------------------------------------------------
def _shot_mask(seed: tf.Tensor, num_tasks: int, low: int, high: int, dtype: tf.DType) -> tf.Tensor:
    """``[num_tasks, high, 1]``: 1 for the first K_i points of task i, K_i ~ U{low, …, high}."""
    if low == high:
        return tf.ones([num_tasks, high, 1], dtype)
    k = tf.random.stateless_uniform([num_tasks], seed, minval=low, maxval=high + 1,
                                    dtype=tf.int32)
    return tf.cast(tf.sequence_mask(k, high), dtype)[..., tf.newaxis]


def _masked_prior_loss(mean: tf.Tensor, log_precision: tf.Tensor, batch: TaskBatch,
                       mask: tf.Tensor, features: FeatureMap) -> tf.Tensor:
    """:func:`prior_loss` where task i uses only its first K_i support points (rows × mask)."""
    weights = ridge_fit(features(batch.support_x) * mask, batch.support_y * mask,
                        prior_mean=mean, prior_precision=tf.exp(log_precision))
    return tf.reduce_mean(mse(ridge_predict(weights, features(batch.query_x)), batch.query_y))


def _run_chunks(
    run_chunk: Callable[..., tuple[tuple[list[tf.Tensor], AdamState], tf.Tensor]],
    params: list[tf.Tensor],
    num_iterations: int,
    iterations_per_call: int,
    progress: bool | None,
    desc: str,
) -> tuple[list[tf.Tensor], np.ndarray, float]:
    """Adam from a fresh state over ``num_iterations`` (:func:`metalearn_lib.optim.run_in_chunks`;
    ``progress=None`` opens the bar only for runs that will take more than a few seconds)."""
    (params, _), losses, wall_s = run_in_chunks(
        run_chunk, (params, adam_init(params)), num_iterations=num_iterations,
        iterations_per_call=iterations_per_call, progress=progress, desc=desc,
        postfix=lambda m: {"loss": f"{float(np.mean(m)):.4f}"})
    return params, losses, wall_s


Objective = Callable[[list[tf.Tensor], TaskBatch, tf.Tensor], tf.Tensor]


def _adam_chunk(objective: Objective, family: TaskFamily, meta_batch_size: int, low: int, high: int,
                num_query: int, seed: int, lr: float,
                project: Callable[[list[tf.Tensor]], list[tf.Tensor]] | None = None) -> Callable[..., Any]:
    """A compiled run of ``length`` Adam steps on ``objective(params, batch, mask)``.

    Iteration t draws ``meta_batch_size`` tasks with the stateless seed ``[seed, 2t]`` and a
    support mask keeping the first K_i ~ U{low, …, high} points of task i (seed ``[seed, 2t + 1]``);
    ``project`` (if given) maps the parameters back to their allowed set after each step.
    The loop is :func:`metalearn_lib.optim.compile_training_loop`'s.
    """

    def one_iteration(carry: tuple[list[tf.Tensor], AdamState],
                      it: tf.Tensor) -> tuple[tuple[list[tf.Tensor], AdamState], tf.Tensor]:
        params, state = carry
        batch = family.sample(meta_batch_size, high, num_query,
                              seed=tf.stack([tf.constant(seed, tf.int64), 2 * it]))
        mask = _shot_mask(tf.stack([tf.constant(seed, tf.int64), 2 * it + 1]),
                          meta_batch_size, low, high, params[0].dtype)
        with tf.GradientTape() as tape:
            tape.watch(params)
            loss = objective(params, batch, mask)
        grads = tape.gradient(loss, params)
        params, state = adam_update(params, grads, state, learning_rate=tf.constant(lr, params[0].dtype))
        if project is not None:
            params = project(params)
        return (params, state), loss

    return compile_training_loop(one_iteration)


@functools.lru_cache(maxsize=16)
def _prior_chunk(family: TaskFamily, features: FeatureMap, meta_batch_size: int, low: int,
                 high: int, num_query: int, seed: int, lr: float) -> Callable[..., Any]:
    def objective(params: list[tf.Tensor], batch: TaskBatch, mask: tf.Tensor) -> tf.Tensor:
        return _masked_prior_loss(params[0], params[1], batch, mask, features)

    def project(params: list[tf.Tensor]) -> list[tf.Tensor]:
        return [params[0], tf.clip_by_value(params[1], *LOG_PRECISION_BOUNDS)]

    return _adam_chunk(objective, family, meta_batch_size, low, high, num_query, seed, lr, project)


@dataclass(frozen=True, eq=False)
class LearnResult:
    """What :func:`learn_prior` and :func:`train_amortised` return.

    Attributes:
        learner: the trained learner (a :class:`RidgeLearner` or an :class:`AmortisedLearner`).
        losses: ``[num_iterations]`` the training objective per iteration (the mean query MSE,
            or the Gaussian NLL for ``loss="nll"``); empty for empirical Bayes.
        wall_s: seconds spent (tracing and compiling included).
        config: the arguments the run used.
    """

    learner: Any
    losses: np.ndarray
    wall_s: float
    config: dict[str, Any] = field(default_factory=dict)


def learn_prior(
    family: TaskFamily,
    *,
    method: str = "gradient",
    features: FeatureMap = linear_features,
    num_iterations: int = 500,
    meta_batch_size: int = 32,
    num_shots: int | tuple[int, int] = (1, 10),
    num_query: int = 20,
    outer_lr: float = 0.05,
    init_precision: float = 1.0,
    seed: int = 0,
    iterations_per_call: int = 100,
    progress: bool | None = None,
) -> LearnResult:
    """Learn the ridge map's prior (μ, Λ = diag(exp ρ)) across the tasks of ``family``.

    - ``method="gradient"``: from μ = 0, ρ = log(``init_precision``), ``num_iterations`` Adam
      steps (learning rate ``outer_lr``) on L(μ, ρ) of :func:`prior_loss`, each followed by
      clipping ρ to :data:`LOG_PRECISION_BOUNDS`; iteration t draws
      ``meta_batch_size`` tasks with the stateless seed ``[seed, 2t]``, and each task i keeps
      K_i ~ U{``num_shots``} support points (seed ``[seed, 2t + 1]``). Runs
      ``iterations_per_call`` iterations per compiled ``tf.function`` call.
    - ``method="empirical_bayes"``: :func:`empirical_bayes_prior` in closed form on the same
      data budget: ``num_iterations · meta_batch_size`` tasks with
      ``max(num_shots) + num_query`` points each (seed ``seed``).

    When the model is right (the family's tasks are linear in φ with Gaussian weights and
    noise), the true prior minimises the expected query error at *every* K: both methods head
    for it.

    Args:
        family: anything with ``sample(num_tasks, num_shots, num_query, seed=)``.
        method: one of :data:`PRIOR_METHODS`.
        features: the feature map φ.
        num_iterations: training iterations, >= 1.
        meta_batch_size: tasks per iteration, >= 1 (empirical Bayes needs
            ``num_iterations · meta_batch_size`` >= 2 tasks and ``max(num_shots) + num_query``
            >= p + 1 points per task).
        num_shots: K, an int >= 1 or a range (low, high) drawn per task.
        num_query: query points per task, >= 1.
        outer_lr: Adam's learning rate, > 0.
        init_precision: Λ at the start, > 0 (gradient method).
        seed: int >= 0; same seed, same prior.
        iterations_per_call: iterations per compiled call, >= 1.
        progress: a ``tqdm.auto`` bar: True always, False never, None when the run is expected
            to last more than a few seconds.

    Returns:
        A :class:`LearnResult` whose ``learner`` is a :class:`RidgeLearner` with the learned
        ``prior_mean`` and ``prior_precision = exp(ρ)``.

    Raises:
        ValueError: an unknown ``method`` or an argument out of range.
        TypeError: an argument of the wrong type.
    """
    if method not in PRIOR_METHODS:
        raise ValueError(f"method must be one of {list(PRIOR_METHODS)}, got {method!r}")
    _check_family(family)
    _check_features(features)
    num_iterations = check_int("num_iterations", num_iterations, 1)
    meta_batch_size = check_int("meta_batch_size", meta_batch_size, 1)
    low, high = _check_shots(num_shots)
    num_query = check_int("num_query", num_query, 1)
    outer_lr = check_number("outer_lr", outer_lr)
    init_precision = check_number("init_precision", init_precision)
    seed = check_int("seed", seed, 0)
    iterations_per_call = check_int("iterations_per_call", iterations_per_call, 1)
    config = dict(method=method, num_iterations=num_iterations, meta_batch_size=meta_batch_size,
                  num_shots=(low, high), num_query=num_query, outer_lr=outer_lr,
                  init_precision=init_precision, seed=seed)
    t0 = time.perf_counter()
    if method == "empirical_bayes":
        batch = family.sample(num_iterations * meta_batch_size, high + num_query, 1, seed=seed)
        mean, log_precision = empirical_bayes_prior(batch.support_x, batch.support_y,
                                                    features=features)
        learner = RidgeLearner(mean, tf.exp(log_precision), features)
        return LearnResult(learner, np.zeros(0), time.perf_counter() - t0, config)

    probe = family.sample(1, 1, 1, seed=seed)
    p = int(features(probe.support_x).shape[-1])
    dtype = probe.support_x.dtype
    params = [tf.zeros([p], dtype), tf.fill([p], tf.constant(math.log(init_precision), dtype))]
    run_chunk = build_cached(_prior_chunk, family, features, meta_batch_size, low, high, num_query,
                             seed, outer_lr)
    params, losses, _ = _run_chunks(run_chunk, params, num_iterations, iterations_per_call,
                                    progress, "learned prior")
    learner = RidgeLearner(params[0], tf.exp(params[1]), features)
    return LearnResult(learner, losses, time.perf_counter() - t0, config)


# --------------------------------------------------------------------------------------------
# the amortised map (a conditional neural process)
# --------------------------------------------------------------------------------------------
def _mlp(params: Sequence[tf.Tensor], x: tf.Tensor, activation: Activation) -> tf.Tensor:
    """:func:`~metalearn_lib.models.forward` of shared parameters on ``x: [num_tasks, points, in]``.

    The parameters are tiled once per task first, so every layer is one batched matmul (on
    TensorFlow 2.21's CPU kernels this is several times faster than the shared-parameter path).
    """
    num_tasks = x.shape[0]
    if num_tasks is None:
        return forward(list(params), x, activation=activation)
    return forward(tile_params(list(params), int(num_tasks)), x, activation=activation)


def _pool(encoder: Sequence[tf.Tensor], support_x: tf.Tensor, support_y: tf.Tensor,
          mask: tf.Tensor | None, activation: Activation) -> tf.Tensor:
    """r_i = Σ_k m_ik h([x_ik, y_ik]) / Σ_k m_ik, ``[num_tasks, representation_size]``."""
    h = _mlp(encoder, tf.concat([support_x, support_y], axis=-1), activation)
    if mask is None:
        return tf.reduce_mean(h, axis=1)
    return tf.reduce_sum(h * mask, axis=1) / tf.reduce_sum(mask, axis=1)


def _decode(decoder: Sequence[tf.Tensor], representation: tf.Tensor, query_x: tf.Tensor,
            activation: Activation) -> tuple[tf.Tensor, tf.Tensor | None]:
    """(mean, std or None) of ŷ = g([r, x]) for every query point."""
    r = tf.broadcast_to(representation[:, tf.newaxis, :],
                        tf.concat([tf.shape(query_x)[:2], tf.shape(representation)[-1:]], 0))
    out = _mlp(decoder, tf.concat([r, query_x], axis=-1), activation)
    if out.shape[-1] == 2:
        return out[..., :1], 0.1 + 0.9 * tf.nn.softplus(out[..., 1:])  # σ as in Garnelo et al.
    return out, None


@dataclass(frozen=True, eq=False)
class AmortisedPredictor:
    """f_D(x) = g([r_D, x]): the output of an :class:`AmortisedLearner` for a support set.

    Attributes:
        learner: the learner that made it.
        representation: r_D, ``[num_tasks, representation_size]`` — the whole support set,
            summarised (the amortised counterpart of ridge's w_D).
    """

    learner: AmortisedLearner
    representation: tf.Tensor

    def __call__(self, query_x: tf.Tensor, *, return_std: bool = False) -> Any:
        """ŷ ``[num_tasks, num_query, 1]`` (and σ of the same shape if ``return_std``)."""
        query_x = _as_float_tensor("query_x", query_x, self.learner.dtype)
        _check_points("query_x", query_x)
        mean, std = _decode(self.learner.decoder, self.representation, query_x,
                            self.learner.activation)
        if return_std:
            if std is None:
                raise ValueError("return_std=True needs a gaussian learner "
                                 "(init_amortised(..., gaussian=True))")
            return mean, std
        return mean


@dataclass(frozen=True, eq=False)
class AmortisedLearner:
    """The amortised map D -> f_D, a conditional neural process (Garnelo et al. 2018).

    r = (1/K) Σ_k h_enc([x_k, y_k]),   ŷ = g_dec([r, x])   (and σ = 0.1 + 0.9 softplus(·) if
    the decoder has two outputs). The mean makes the map permutation invariant over the support
    set and defined for any K >= 1. Calling it encodes a support set and returns the predictor.

    Attributes:
        encoder: MLP parameters h, input width ``x_dim + 1``.
        decoder: MLP parameters g, input width ``representation_size + x_dim``, output 1 (mean)
            or 2 (mean and σ).
        activation: hidden activation of both MLPs.
    """

    encoder: list[tf.Tensor]
    decoder: list[tf.Tensor]
    activation: Activation = "relu"

    def __post_init__(self) -> None:
        for name in ("encoder", "decoder"):
            params = getattr(self, name)
            if not isinstance(params, list | tuple) or not params or len(params) % 2 \
                    or not all(isinstance(p, tf.Tensor | tf.Variable) for p in params):
                raise TypeError(f"{name} must be a non-empty list [W1, b1, ..., WL, bL] of tensors, "
                                f"got {type(params).__name__}")
            object.__setattr__(self, name, list(params))
        enc_in = self.encoder[0].shape[0]
        rep, dec_in = self.encoder[-1].shape[-1], self.decoder[0].shape[0]
        if enc_in is None or enc_in < 2 or dec_in != rep + enc_in - 1:
            raise ValueError(f"encoder input ({enc_in}) must be x_dim + 1 and decoder input "
                             f"({dec_in}) representation_size ({rep}) + x_dim")
        if self.decoder[-1].shape[-1] not in (1, 2):
            raise ValueError(f"decoder output must be 1 (mean) or 2 (mean, σ), "
                             f"got {self.decoder[-1].shape[-1]}")

    @property
    def dtype(self) -> tf.DType:
        """The parameters' dtype."""
        return self.encoder[0].dtype

    @property
    def x_dim(self) -> int:
        """The input width of the tasks."""
        return int(self.encoder[0].shape[0]) - 1

    @property
    def gaussian(self) -> bool:
        """Whether the decoder also predicts σ."""
        return self.decoder[-1].shape[-1] == 2

    def __call__(self, support_x: tf.Tensor, support_y: tf.Tensor) -> AmortisedPredictor:
        """D = (support_x, support_y) ↦ f_D, for every task at once."""
        return AmortisedPredictor(self, encode_support(self, support_x, support_y))


def init_amortised(
    x_dim: int = 1,
    *,
    hidden_sizes: Sequence[int] = (64, 64),
    representation_size: int = 64,
    gaussian: bool = False,
    activation: Activation = "relu",
    seed: int = 0,
    dtype: tf.DType = tf.float32,
) -> AmortisedLearner:
    """A fresh :class:`AmortisedLearner`: encoder [x_dim + 1, *hidden, r], decoder
    [r + x_dim, *hidden, 1 or 2], Glorot-initialised from ``seed``.

    Raises:
        ValueError: a size < 1.
        TypeError: a size or ``seed`` is not an int.
    """
    x_dim = check_int("x_dim", x_dim, 1)
    hidden = [check_int("hidden_sizes", h, 1) for h in hidden_sizes]
    representation_size = check_int("representation_size", representation_size, 1)
    seed = check_int("seed", seed, 0)
    encoder = init_mlp([x_dim + 1, *hidden, representation_size], seed, init="glorot",
                       dtype=dtype)
    decoder = init_mlp([representation_size + x_dim, *hidden, 2 if gaussian else 1], seed + 1,
                       init="glorot", dtype=dtype)
    return AmortisedLearner(encoder, decoder, activation)


def encode_support(learner: AmortisedLearner, support_x: tf.Tensor,
                   support_y: tf.Tensor) -> tf.Tensor:
    """r_i = (1/K) Σ_k h_enc([x_ik, y_ik]): each task's support set as one vector.

    Returns:
        ``[num_tasks, representation_size]``.

    Raises:
        ValueError: mismatched shapes or an input width other than the learner's ``x_dim``.
    """
    support_x = _as_float_tensor("support_x", support_x, learner.dtype)
    support_y = _as_float_tensor("support_y", support_y, learner.dtype)
    _check_pair("support_x", support_x, "support_y", support_y)
    if support_x.shape[-1] != learner.x_dim:
        raise ValueError(f"support_x's last axis must be x_dim = {learner.x_dim}, "
                         f"got {support_x.shape}")
    return _pool(learner.encoder, support_x, support_y, None, learner.activation)


def amortised_predict(
    learner: AmortisedLearner,
    support_x: tf.Tensor,
    support_y: tf.Tensor,
    query_x: tf.Tensor,
    *,
    return_std: bool = False,
) -> Any:
    """ŷ_i = g_dec([r_i, x]) for every query x of task i, r_i = :func:`encode_support`.

    Returns:
        ŷ ``[num_tasks, num_query, 1]``, or ``(ŷ, σ)`` with ``return_std=True`` (gaussian
        learners only).
    """
    return learner(support_x, support_y)(query_x, return_std=return_std)


def amortised_loss(
    learner: AmortisedLearner, batch: TaskBatch, *, loss: str = "mse"
) -> tf.Tensor:
    """The amortised map's training objective on a batch, averaged over tasks and query points.

    ``"mse"``: (1/N) Σ_i MSE(ŷ_i, y_i^query). ``"nll"`` (gaussian learners): the Gaussian
    negative log-likelihood (1/N) Σ_i mean_q [log σ + (y − ŷ)² / 2σ² + ½ log 2π].

    Raises:
        ValueError: an unknown ``loss``, or ``"nll"`` for a learner without σ.
    """
    return _amortised_objective(learner.encoder, learner.decoder, batch, None, loss,
                                learner.activation)


def _amortised_objective(encoder: Sequence[tf.Tensor], decoder: Sequence[tf.Tensor],
                         batch: TaskBatch, mask: tf.Tensor | None, loss: str,
                         activation: Activation) -> tf.Tensor:
    if loss not in AMORTISED_LOSSES:
        raise ValueError(f"loss must be one of {list(AMORTISED_LOSSES)}, got {loss!r}")
    dtype = encoder[0].dtype
    sx, sy = tf.cast(batch.support_x, dtype), tf.cast(batch.support_y, dtype)
    qx, qy = tf.cast(batch.query_x, dtype), tf.cast(batch.query_y, dtype)
    _check_pair("support_x", sx, "support_y", sy)
    _check_pair("query_x", qx, "query_y", qy)
    mean, std = _decode(decoder, _pool(encoder, sx, sy, mask, activation), qx, activation)
    if loss == "mse":
        return tf.reduce_mean(mse(mean, qy))
    if std is None:
        raise ValueError("loss='nll' needs a gaussian learner (init_amortised(..., gaussian=True))")
    nll = tf.math.log(std) + tf.square(qy - mean) / (2.0 * tf.square(std)) \
        + 0.5 * math.log(2.0 * math.pi)
    return tf.reduce_mean(nll)


@functools.lru_cache(maxsize=16)
def _amortised_chunk(family: TaskFamily, meta_batch_size: int, low: int, high: int,
                     num_query: int, seed: int, lr: float, loss: str, num_encoder: int,
                     activation: Activation) -> Callable[..., Any]:
    def objective(params: list[tf.Tensor], batch: TaskBatch, mask: tf.Tensor) -> tf.Tensor:
        return _amortised_objective(params[:num_encoder], params[num_encoder:], batch, mask, loss, activation)

    return _adam_chunk(objective, family, meta_batch_size, low, high, num_query, seed, lr)


def train_amortised(
    family: TaskFamily,
    *,
    learner: AmortisedLearner | None = None,
    num_iterations: int = 2000,
    meta_batch_size: int = 32,
    num_shots: int | tuple[int, int] = (1, 20),
    num_query: int = 20,
    learning_rate: float = 1e-3,
    loss: str = "mse",
    seed: int = 0,
    iterations_per_call: int = 100,
    progress: bool | None = None,
) -> LearnResult:
    """Meta-train the amortised map: Adam on (1/N) Σ_i L(g([r_i, X_i^query]), y_i^query).

    Iteration t draws ``meta_batch_size`` tasks with the stateless seed ``[seed, 2t]``; task i
    keeps its first K_i ~ U{``num_shots``} support points (seed ``[seed, 2t + 1]``), so one
    network learns to read support sets of every size. L is :func:`amortised_loss`'s ``loss``.

    Args:
        family: anything with ``sample(num_tasks, num_shots, num_query, seed=)``.
        learner: the initial :class:`AmortisedLearner`; default ``init_amortised(x_dim,
            gaussian=(loss == "nll"), seed=seed)`` in the family's dtype.
        num_iterations: Adam steps, >= 1.
        meta_batch_size: tasks per step, >= 1.
        num_shots: K, an int >= 1 or a range (low, high) drawn per task.
        num_query: query points per task, >= 1.
        learning_rate: Adam's learning rate, > 0.
        loss: one of :data:`AMORTISED_LOSSES`.
        seed: int >= 0; same seed, same network.
        iterations_per_call: iterations per compiled call, >= 1.
        progress: as in :func:`learn_prior`.

    Returns:
        A :class:`LearnResult` whose ``learner`` is the trained :class:`AmortisedLearner`.

    Raises:
        ValueError: an argument out of range, or ``loss="nll"`` for a learner without σ.
        TypeError: an argument of the wrong type.
    """
    _check_family(family)
    if loss not in AMORTISED_LOSSES:
        raise ValueError(f"loss must be one of {list(AMORTISED_LOSSES)}, got {loss!r}")
    num_iterations = check_int("num_iterations", num_iterations, 1)
    meta_batch_size = check_int("meta_batch_size", meta_batch_size, 1)
    low, high = _check_shots(num_shots)
    num_query = check_int("num_query", num_query, 1)
    learning_rate = check_number("learning_rate", learning_rate)
    seed = check_int("seed", seed, 0)
    iterations_per_call = check_int("iterations_per_call", iterations_per_call, 1)
    probe = family.sample(1, 1, 1, seed=seed)
    if learner is None:
        learner = init_amortised(int(probe.support_x.shape[-1]), gaussian=loss == "nll",
                                 seed=seed, dtype=probe.support_x.dtype)
    if not isinstance(learner, AmortisedLearner):
        raise TypeError(f"learner must be an AmortisedLearner, got {type(learner).__name__}")
    if learner.x_dim != probe.support_x.shape[-1]:
        raise ValueError(f"learner's x_dim ({learner.x_dim}) must match the family's inputs "
                         f"({probe.support_x.shape[-1]})")
    if loss == "nll" and not learner.gaussian:
        raise ValueError("loss='nll' needs a gaussian learner (init_amortised(..., gaussian=True))")
    config = dict(num_iterations=num_iterations, meta_batch_size=meta_batch_size,
                  num_shots=(low, high), num_query=num_query, learning_rate=learning_rate,
                  loss=loss, seed=seed)
    num_encoder = len(learner.encoder)
    run_chunk = build_cached(_amortised_chunk, family, meta_batch_size, low, high, num_query, seed,
                             learning_rate, loss, num_encoder, learner.activation)
    params = [tf.convert_to_tensor(p) for p in [*learner.encoder, *learner.decoder]]
    params, losses, wall_s = _run_chunks(run_chunk, params, num_iterations, iterations_per_call,
                                         progress, "amortised map")
    trained = AmortisedLearner(list(params[:num_encoder]), list(params[num_encoder:]),
                               learner.activation)
    return LearnResult(trained, losses, wall_s, config)


# --------------------------------------------------------------------------------------------
# comparing learners by few-shot error
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ShotsComparison:
    """Query MSE of several learners as the number of shots K grows, on the same test tasks.

    Attributes:
        shots: the K evaluated, increasing.
        mean_mse: ``{name: [len(shots)]}`` mean over test tasks of the query MSE.
        ci95: ``{name: [len(shots)]}`` 1.96 · std / √num_tasks (std over tasks, ddof = 0).
        per_task_mse: ``{name: [len(shots), num_tasks]}`` the individual query MSEs.
    """

    shots: tuple[int, ...]
    mean_mse: dict[str, np.ndarray]
    ci95: dict[str, np.ndarray]
    per_task_mse: dict[str, np.ndarray]

    @property
    def names(self) -> tuple[str, ...]:
        """The learners, in the order given."""
        return tuple(self.mean_mse)

    def table(self, digits: int = 3) -> str:
        """A markdown table: one row per K, one column ``mean ± ci95`` per learner."""
        digits = check_int("digits", digits, 0)
        head = "| K | " + " | ".join(self.names) + " |"
        rule = "|---:|" + "---:|" * len(self.names)
        rows = [f"| {k} | " + " | ".join(
            f"{self.mean_mse[n][j]:.{digits}f} ± {self.ci95[n][j]:.{digits}f}" for n in self.names)
            + " |" for j, k in enumerate(self.shots)]
        return "\n".join([head, rule, *rows])


def compare_by_shots(
    learners: Mapping[str, Learner],
    family: TaskFamily,
    *,
    shots: Sequence[int] = (1, 2, 5, 10, 20),
    num_tasks: int = 1000,
    num_query: int = 100,
    seed: int = 1_000_000,
) -> ShotsComparison:
    """Score each learner by its query MSE after seeing K support points, for each K in ``shots``.

    One batch of ``num_tasks`` test tasks with max(shots) support and ``num_query`` query points
    is drawn with ``seed``; with K shots every learner sees the *first* K support points of each
    task (so the support sets are nested as K grows) and is scored on the same query points:
    MSE_i = mean_q (f_{D_i}(x_q) − y_q)², reported as mean_i MSE_i ± 1.96·std_i/√num_tasks.

    Args:
        learners: ``{name: learner}``, each ``learner(support_x, support_y)`` returning a
            predictor ``f(query_x) -> [num_tasks, num_query, 1]``.
        family: the test task family.
        shots: non-empty strictly increasing Ks, each >= 1.
        num_tasks: test tasks, >= 2.
        num_query: query points per task, >= 1.
        seed: int >= 0 of the test tasks (keep it away from the training seeds).

    Returns:
        A :class:`ShotsComparison`.

    Raises:
        ValueError: an argument out of range, or a learner's predictions of the wrong shape.
        TypeError: an argument of the wrong type.
    """
    if not isinstance(learners, Mapping) or not learners:
        raise TypeError(f"learners must be a non-empty mapping {{name: learner}}, "
                        f"got {type(learners).__name__}")
    for name, learner in learners.items():
        if not callable(learner):
            raise TypeError(f"learners[{name!r}] must be callable "
                            f"(support_x, support_y) -> predictor, got {type(learner).__name__}")
    _check_family(family)
    if isinstance(shots, str) or not isinstance(shots, Sequence):
        raise TypeError(f"shots must be a sequence of ints >= 1, got {type(shots).__name__}")
    shots = tuple(check_int("shots", k, 1) for k in shots)
    if not shots or any(b <= a for a, b in zip(shots, shots[1:], strict=False)):
        raise ValueError(f"shots must be a non-empty strictly increasing sequence of ints >= 1, "
                         f"got {shots}")
    num_tasks = check_int("num_tasks", num_tasks, 2)
    num_query = check_int("num_query", num_query, 1)
    seed = check_int("seed", seed, 0)
    batch = family.sample(num_tasks, shots[-1], num_query, seed=seed)
    mean_mse, ci95, per_task = {}, {}, {}
    for name, learner in learners.items():
        rows = []
        for k in shots:
            pred = learner(batch.support_x[:, :k], batch.support_y[:, :k])(batch.query_x)
            pred = tf.cast(pred, batch.query_y.dtype)
            if pred.shape != batch.query_y.shape:
                raise ValueError(f"learner {name!r} predicted shape {pred.shape}, expected "
                                 f"{batch.query_y.shape}")
            rows.append(mse(pred, batch.query_y).numpy().astype(np.float64))
        per_task[name] = np.stack(rows)
        mean_mse[name] = per_task[name].mean(axis=1)
        ci95[name] = 1.96 * per_task[name].std(axis=1) / math.sqrt(num_tasks)
    return ShotsComparison(shots, mean_mse, ci95, per_task)
