"""Learning the ridge map's prior (μ, Λ = diag(exp ρ)) across many tasks.

By gradient descent on the query error of the ridge map (:func:`prior_loss`,
:func:`prior_update`, differentiating through the closed-form solve) or by empirical Bayes
(:func:`empirical_bayes_prior`); :func:`learn_prior` runs either across a task family and returns
a :class:`LearnResult`. Also holds the functional Adam loop (one compiled training chunk) that
:func:`metalearn_lib.mapping.train_amortised` shares.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import tensorflow as tf

from metalearn_lib.mapping._checks import _as_float_tensor, _check_family, _check_features, _check_pair, _check_shots
from metalearn_lib.mapping.features import FeatureMap, linear_features
from metalearn_lib.mapping.ridge import RidgeLearner, ridge_fit, ridge_predict
from metalearn_lib.models import mse
from metalearn_lib.optim import AdamState, adam_init, adam_update, build_cached, compile_training_loop, run_in_chunks
from metalearn_lib.tasks import TaskBatch, TaskFamily
from metalearn_lib.validation import check_int, check_number, check_rate

__all__ = [
    "LOG_PRECISION_BOUNDS",
    "PRIOR_METHODS",
    "LearnResult",
    "empirical_bayes_prior",
    "learn_prior",
    "prior_loss",
    "prior_update",
]

#: Prior training methods :func:`learn_prior` knows.
PRIOR_METHODS: tuple[str, ...] = ("gradient", "empirical_bayes")
#: The range [low, high] :func:`learn_prior` keeps ρ = log Λ in (Λ from about 1e−6 to 1e6 noise
#: precisions): a weight the tasks never vary would otherwise drive ρ up without end.
LOG_PRECISION_BOUNDS: tuple[float, float] = (-14.0, 14.0)


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
    s_i² = ‖y_i − Φ_iŵ_i‖² / (n − p). Then, across the N tasks, ::

        μ = (1/N) Σ_i ŵ_i,   σ² = max((1/N) Σ_i s_i², min_noise_variance),
        v_j = Var_i(ŵ_ij) − σ² · (1/N) Σ_i [(Φ_iᵀΦ_i)⁻¹]_jj   (the spread of the true weights:
              the spread of the estimates minus their own noise; floored at min_variance),
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
