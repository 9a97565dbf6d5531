"""The amortised map D -> f_D, a conditional neural process (Garnelo et al. 2018).

An encoder MLP h reads each support pair, the mean r = (1/K) Σ_k h([x_k, y_k]) summarises the
task, a decoder MLP g predicts ŷ = g([r, x]) (:class:`AmortisedLearner`,
:class:`AmortisedPredictor`, :func:`init_amortised`, :func:`encode_support`,
:func:`amortised_predict`, :func:`amortised_loss`); :func:`train_amortised` meta-trains it with
Adam across tasks.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import tensorflow as tf

from metalearn_lib.mapping._checks import _as_float_tensor, _check_family, _check_pair, _check_points, _check_shots
from metalearn_lib.mapping.prior_learning import LearnResult, _adam_chunk, _run_chunks
from metalearn_lib.models import Activation, forward, init_mlp, mse, tile_params
from metalearn_lib.optim import build_cached
from metalearn_lib.tasks import TaskBatch, TaskFamily
from metalearn_lib.validation import check_int, check_number

__all__ = [
    "AMORTISED_LOSSES",
    "AmortisedLearner",
    "AmortisedPredictor",
    "amortised_loss",
    "amortised_predict",
    "encode_support",
    "init_amortised",
    "train_amortised",
]

#: Training losses :func:`train_amortised` knows.
AMORTISED_LOSSES: tuple[str, ...] = ("mse", "nll")


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
    """A fresh :class:`AmortisedLearner`: encoder ``[x_dim + 1, *hidden, r]``, decoder
    ``[r + x_dim, *hidden, 1 or 2]``, Glorot-initialised from ``seed``.

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
