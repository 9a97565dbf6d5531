"""The ridge map D -> w_D -> f_D: Bayesian linear regression on features, batched over tasks.

:func:`ridge_fit` and :func:`ridge_predict` are the closed-form solve and the fitted predictor;
:class:`RidgeLearner` wraps them as a learner (``learner(support_x, support_y) -> predictor``,
the :data:`Learner` and :data:`Predictor` types of the chapter) and
:func:`support_mean_learner` is the constant baseline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from metalearn_lib.mapping._checks import _as_float_tensor, _check_features, _check_pair, _check_points, _concrete
from metalearn_lib.mapping.features import FeatureMap, linear_features

__all__ = [
    "Learner",
    "Predictor",
    "RidgeLearner",
    "RidgePredictor",
    "ridge_fit",
    "ridge_predict",
    "support_mean_learner",
]

#: A predictor f_D: ``query_x [num_tasks, num_query, in] -> [num_tasks, num_query, 1]``.
Predictor = Callable[[tf.Tensor], tf.Tensor]
#: A learner, the map D -> f_D: ``(support_x, support_y) -> Predictor``.
Learner = Callable[[tf.Tensor, tf.Tensor], Predictor]


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
