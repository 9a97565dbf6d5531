"""Chapter 3 (``03_model_averaging``): combining a pool of learners.

The source article writes f* = Σᵢ wᵢ fᵢ(θᵢ), with wᵢ the "normalised performance" of learner i,
and calls it both an *ensemble* and a *linear combination of parameters*. Those are two different
operations:

- **output averaging** (an ensemble, :func:`ensemble_predict`): f*(x) = Σᵢ wᵢ f(θᵢ, x);
- **parameter averaging** (:func:`average_params`): θ̄ = Σᵢ wᵢ θᵢ, then f(θ̄, x).

They agree for every x exactly when f is linear (affine) in θ, e.g. a network with no hidden
layer; for a ReLU MLP with independently initialised members f(θ̄, x) is usually a much worse
predictor than the ensemble (the members' hidden units are not aligned).

Turning performance into weights (:func:`performance_weights`): a softmax with temperature τ > 0
over scores sᵢ (rewards, or negated losses), ::

    log wᵢ = sᵢ/τ − log Σⱼ exp(sⱼ/τ),

computed after subtracting maxⱼ sⱼ so it is stable for scores of ±1e4; τ → 0 puts all weight on
the best learner (argmax), τ → ∞ gives uniform weights. Bayesian model averaging
(:func:`bma_weights`) is the same softmax with τ = 1 applied to log p(m) + log p(D|m).

Learning the weights online: Hedge (exponential weights, :func:`run_hedge`) keeps
wₜ,ᵢ ∝ exp(−η Σ_{s<t} ℓ_{s,i}) and, for losses in [0, 1] and η = √(8 ln N / T), has regret at
most √(T ln N / 2) against the best single learner in hindsight (Cesa-Bianchi & Lugosi 2006,
Thm 2.2).

Imports the ground floor (:mod:`metalearn_lib.models`), the utilities
(:mod:`metalearn_lib.validation`) and chapter 0 (:mod:`metalearn_lib.welcome`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf
from numpy.typing import ArrayLike, NDArray

from metalearn_lib.models import Activation, forward, is_batched
from metalearn_lib.validation import check_int, check_number
from metalearn_lib.welcome import stable_softmax, validate_temperature

__all__ = [
    "HedgeResult",
    "average_params",
    "bma_weights",
    "ensemble_predict",
    "gaussian_log_likelihood",
    "hedge_learning_rate",
    "hedge_regret_bound",
    "hedge_update",
    "log_performance_weights",
    "performance_weights",
    "run_hedge",
    "stack_params",
]

_KINDS = ("reward", "loss")


# ----------------------------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------------------------


def _as_pool(name: str, values: ArrayLike, *, allow_neg_inf: bool = False) -> NDArray[np.float64]:
    """``values`` as float64 ``[..., N]`` with N ≥ 1 and finite entries (``-inf`` if allowed)."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of real numbers, got {type(values).__name__}") from None
    if array.ndim == 0 or array.shape[-1] == 0:
        raise ValueError(f"{name} must be a non-empty pool: at least one entry along the last axis, "
                         f"got shape {array.shape}")
    if np.any(np.isnan(array)) or np.any(array == np.inf) or (not allow_neg_inf and np.any(np.isinf(array))):
        allowed = "finite or -inf" if allow_neg_inf else "finite (no NaN or ±inf)"
        raise ValueError(f"{name} must be {allowed}")
    if allow_neg_inf and np.any(np.all(np.isneginf(array), axis=-1)):
        raise ValueError(f"{name} must have at least one finite entry per pool (not all -inf)")
    return array


def _check_kind(kind: Any) -> str:
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {list(_KINDS)}, got {kind!r}")
    return kind


def _log_normalise(logits: NDArray[np.float64]) -> NDArray[np.float64]:
    """logits − logsumexp(logits) over the last axis, shifted by the max (entries may be -inf)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


# ----------------------------------------------------------------------------------------------
# weights from scores
# ----------------------------------------------------------------------------------------------


def log_performance_weights(
    scores: ArrayLike, temperature: float = 1.0, *, kind: str = "reward"
) -> NDArray[np.float64]:
    """Log performance weights: log wᵢ = sᵢ/τ − log Σⱼ exp(sⱼ/τ).

    Computed as (sᵢ − m)/τ − log Σⱼ exp((sⱼ − m)/τ) with m = maxⱼ sⱼ, so scores of ±1e4 and
    temperatures near 0 neither overflow nor produce NaN (a weight that underflows is ``-inf``).

    Args:
        scores: ``[N]`` (one pool) or ``[..., N]`` (a batch of pools, normalised over the last axis).
        temperature: τ > 0, finite. τ → 0: all weight on the best score; τ → ∞: uniform.
        kind: ``"reward"`` (higher is better, sᵢ = scoreᵢ) or ``"loss"`` (lower is better,
            sᵢ = −lossᵢ).

    Returns:
        float64 array of the shape of ``scores``; ``exp`` of it sums to 1 along the last axis.

    Raises:
        ValueError: an empty pool or non-finite ``scores``; ``temperature`` not finite and > 0;
            ``kind`` not ``"reward"``/``"loss"``.
        TypeError: ``temperature`` not a real number.
    """
    kind = _check_kind(kind)
    temperature = validate_temperature(temperature)
    values = _as_pool("scores", scores)
    signed = -values if kind == "loss" else values
    shifted = (signed - signed.max(axis=-1, keepdims=True)) / temperature
    return _log_normalise(shifted)


def performance_weights(
    scores: ArrayLike, temperature: float = 1.0, *, kind: str = "reward"
) -> NDArray[np.float64]:
    """Performance weights wᵢ = exp(sᵢ/τ) / Σⱼ exp(sⱼ/τ) — the softmax of chapter 0.

    ``kind="loss"`` uses sᵢ = −lossᵢ, so the lowest loss gets the largest weight. Arguments,
    shapes and errors as in :func:`log_performance_weights`; the result is non-negative and sums
    to 1 along the last axis. Delegates to :func:`metalearn_lib.welcome.stable_softmax`.
    """
    kind = _check_kind(kind)
    temperature = validate_temperature(temperature)
    values = _as_pool("scores", scores)
    return stable_softmax(-values if kind == "loss" else values, temperature)


def bma_weights(log_likelihoods: ArrayLike, log_prior: ArrayLike | None = None) -> NDArray[np.float64]:
    """Bayesian model averaging weights: the posterior p(m | D) = p(m) p(D | m) / Σₖ p(k) p(D | k).

    In log space: log p(m | D) = log p(m) + log p(D | m) − logsumexp_k(log p(k) + log p(D | k)),
    i.e. :func:`performance_weights` with τ = 1 applied to log prior + log likelihood.

    Args:
        log_likelihoods: log p(D | m) of held-out data D, ``[M]`` or ``[..., M]``; finite.
        log_prior: log p(m), ``[M]`` (broadcast against ``log_likelihoods``); need not be
            normalised; ``-inf`` (prior mass 0) allowed. Default: uniform.

    Returns:
        float64 posterior weights of the shape of ``log_likelihoods``, summing to 1 over the last axis.

    Raises:
        ValueError: an empty pool, NaN/inf log-likelihoods, a NaN/+inf or all ``-inf`` prior, or a
            prior whose length differs from the number of models.
    """
    loglik = _as_pool("log_likelihoods", log_likelihoods)
    if log_prior is None:
        return np.exp(_log_normalise(loglik))
    prior = _as_pool("log_prior", log_prior, allow_neg_inf=True)
    if prior.ndim != 1 or prior.shape[0] != loglik.shape[-1]:
        raise ValueError(f"log_prior must have shape [{loglik.shape[-1]}] (one entry per model), "
                         f"got {prior.shape}")
    return np.exp(_log_normalise(prior + loglik))


def gaussian_log_likelihood(predictions: ArrayLike, targets: ArrayLike, noise_std: float) -> NDArray[np.float64]:
    """Per-model Gaussian log-likelihood of held-out targets::

        log p(D | m) = Σₚ log N(yₚ | f_m(xₚ), σ²) = −Σₚ [(yₚ − f_m(xₚ))² / (2σ²) + ½ log(2πσ²)].

    Args:
        predictions: f_m(xₚ), ``[num_models, points]`` or ``[num_models, points, 1]``.
        targets: yₚ, ``[points]`` or ``[points, 1]``.
        noise_std: σ > 0, the observation noise.

    Returns:
        float64 ``[num_models]`` — ready for :func:`bma_weights`.

    Raises:
        ValueError: shapes that do not fit, non-finite values, or ``noise_std`` not finite and > 0.
    """
    noise_std = check_number("noise_std", noise_std)
    pred = np.asarray(predictions, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64)
    if pred.ndim == 3 and pred.shape[-1] == 1:
        pred = pred[..., 0]
    if y.ndim == 2 and y.shape[-1] == 1:
        y = y[..., 0]
    if pred.ndim != 2 or pred.shape[0] == 0 or pred.shape[1] == 0:
        raise ValueError(f"predictions must have shape [num_models, points] or [num_models, points, 1] "
                         f"with num_models, points >= 1, got {np.shape(predictions)}")
    if y.ndim != 1 or y.shape[0] != pred.shape[1]:
        raise ValueError(f"targets must have shape [{pred.shape[1]}] or [{pred.shape[1]}, 1] to match "
                         f"predictions, got {np.shape(targets)}")
    if not np.all(np.isfinite(pred)):
        raise ValueError("predictions must be finite (no NaN or ±inf)")
    if not np.all(np.isfinite(y)):
        raise ValueError("targets must be finite (no NaN or ±inf)")
    sq = np.square(y[np.newaxis, :] - pred)
    return -(sq.sum(axis=-1) / (2.0 * noise_std**2) + 0.5 * pred.shape[1] * math.log(2.0 * math.pi * noise_std**2))


# ----------------------------------------------------------------------------------------------
# output averaging vs parameter averaging for the functional MLPs of metalearn_lib.models
# ----------------------------------------------------------------------------------------------


def stack_params(params_list: Sequence[Sequence[tf.Tensor]]) -> list[tf.Tensor]:
    """Stack N models' parameters layer by layer along a new leading model axis.

    ``[[W1¹, b1¹, …], …, [W1ᴺ, b1ᴺ, …]]`` → ``[W1: [N, in, out], b1: [N, out], …]`` — the per-task
    layout of :func:`metalearn_lib.models.forward`, here with one "task" per model, so
    ``forward(stacked, x_tiled)`` with ``x_tiled: [N, points, in]`` evaluates all N at once.

    Raises:
        ValueError: an empty pool, a member that is not a valid unbatched parameter list, or
            members whose architectures (shapes) differ.
    """
    if isinstance(params_list, (str, bytes)) or not isinstance(params_list, Sequence) or len(params_list) == 0:
        raise ValueError("params_list must be a non-empty sequence of parameter lists [W1, b1, ..., WL, bL]")
    members = []
    for i, params in enumerate(params_list):
        if not isinstance(params, (list, tuple)):
            raise ValueError(f"params_list[{i}] must be a parameter list [W1, b1, ...], got {type(params).__name__}")
        tensors = [tf.convert_to_tensor(p) for p in params]
        if is_batched(tensors):
            raise ValueError(f"params_list[{i}] already has a leading axis (W1 has rank 3); pass one model per entry")
        members.append(tensors)
    reference = [p.shape for p in members[0]]
    for i, tensors in enumerate(members[1:], start=1):
        if [p.shape for p in tensors] != reference:
            raise ValueError(f"params_list[{i}] has shapes {[tuple(p.shape) for p in tensors]}, but "
                             f"params_list[0] has {[tuple(s) for s in reference]}: "
                             "all models must share one architecture")
    return [tf.stack(layer, axis=0) for layer in zip(*members, strict=True)]


def _check_mixture_weights(weights: ArrayLike, num_models: int) -> NDArray[np.float64]:
    """Convex weights: shape [num_models], finite, ≥ 0, summing to 1 (to 1e-6)."""
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (num_models,):
        raise ValueError(f"weights must have shape [{num_models}] (one per model), got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or abs(w.sum() - 1.0) > 1e-6:
        raise ValueError(f"weights must be finite, >= 0 and sum to 1 (use performance_weights), got {w}")
    return w


def ensemble_predict(
    params_list: Sequence[Sequence[tf.Tensor]],
    x: tf.Tensor | ArrayLike,
    weights: ArrayLike,
    *,
    activation: Activation = "relu",
) -> tf.Tensor:
    """Output averaging (an ensemble): f*(x) = Σᵢ wᵢ f(θᵢ, x).

    All N models run in one batched :func:`metalearn_lib.models.forward` call on the stacked
    parameters (:func:`stack_params`), then the outputs are mixed with the weights.

    Args:
        params_list: N parameter lists of one architecture.
        x: inputs ``[points, features]`` (cast to the parameters' dtype).
        weights: ``[N]``, ≥ 0, summing to 1.
        activation: hidden activation, as in :func:`metalearn_lib.models.forward`.

    Returns:
        ``[points, outputs]`` in the parameters' dtype.

    Raises:
        ValueError: see :func:`stack_params`; ``x`` not rank 2 with the input width; bad ``weights``.
    """
    stacked = stack_params(params_list)
    num_models = len(params_list)
    w = _check_mixture_weights(weights, num_models)
    dtype = stacked[0].dtype
    x = tf.cast(tf.convert_to_tensor(x), dtype)  # float64 NumPy inputs meet float32 parameters
    if x.shape.rank != 2:
        raise ValueError(f"x must have shape [points, features], got {x.shape}")
    x_tiled = tf.broadcast_to(x[tf.newaxis], [num_models, *x.shape])
    outputs = forward(stacked, x_tiled, activation=activation)  # [N, points, outputs]
    return tf.einsum("n,npo->po", tf.constant(w, dtype=dtype), outputs)


def average_params(params_list: Sequence[Sequence[tf.Tensor]], weights: ArrayLike) -> list[tf.Tensor]:
    """Parameter averaging: θ̄ = Σᵢ wᵢ θᵢ, layer by layer (W̄_l = Σᵢ wᵢ W_lⁱ, b̄_l = Σᵢ wᵢ b_lⁱ).

    ``forward(average_params(ps, w), x)`` equals ``ensemble_predict(ps, x, w)`` for every x only
    when the model is affine in θ (e.g. layer sizes ``[d, 1]``, no hidden layer).

    Raises:
        ValueError: see :func:`stack_params`; ``weights`` not ``[N]``, ≥ 0, summing to 1.
    """
    stacked = stack_params(params_list)
    w = _check_mixture_weights(weights, len(params_list))
    return [tf.tensordot(tf.constant(w, dtype=p.dtype), p, axes=1) for p in stacked]


# ----------------------------------------------------------------------------------------------
# Hedge: exponential weights on a stream of losses
# ----------------------------------------------------------------------------------------------


def hedge_learning_rate(horizon: int, num_experts: int) -> float:
    """The tuned Hedge learning rate η = √(8 ln N / T) for horizon T and N experts.

    Raises:
        TypeError/ValueError: ``horizon`` or ``num_experts`` not an int >= 1.
    """
    horizon = check_int("horizon", horizon)
    num_experts = check_int("num_experts", num_experts)
    return math.sqrt(8.0 * math.log(num_experts) / horizon)


def hedge_regret_bound(horizon: int, num_experts: int) -> float:
    """Hedge's regret bound √(T ln N / 2) for losses in [0, 1] and η = √(8 ln N / T).

    Cesa-Bianchi & Lugosi (2006), *Prediction, Learning, and Games*, Thm 2.2: for any η > 0 the
    regret is at most ln N / η + η T / 8, minimised by η = √(8 ln N / T).

    Raises:
        TypeError/ValueError: ``horizon`` or ``num_experts`` not an int >= 1.
    """
    horizon = check_int("horizon", horizon)
    num_experts = check_int("num_experts", num_experts)
    return math.sqrt(horizon * math.log(num_experts) / 2.0)


def hedge_update(log_weights: ArrayLike, losses: ArrayLike, learning_rate: float) -> NDArray[np.float64]:
    """One Hedge step in log space: log wᵢ ← log wᵢ − η ℓᵢ, then renormalised (logsumexp = 0).

    Args:
        log_weights: current log weights ``[N]`` (need not be normalised; ``-inf`` allowed).
        losses: this round's losses ``[N]``, finite (the regret bound assumes them in [0, 1]).
        learning_rate: η ≥ 0, finite.

    Returns:
        float64 normalised log weights ``[N]``.

    Raises:
        ValueError: empty or non-finite inputs, mismatched shapes, a negative or non-finite
            ``learning_rate``.
    """
    eta = check_number("learning_rate", learning_rate, positive=False)
    log_w = _as_pool("log_weights", log_weights, allow_neg_inf=True)
    loss = _as_pool("losses", losses)
    if loss.shape != log_w.shape:
        raise ValueError(f"losses must have the shape of log_weights {log_w.shape}, got {loss.shape}")
    return _log_normalise(log_w - eta * loss)


@dataclass(frozen=True)
class HedgeResult:
    """A run of Hedge over T rounds and N experts.

    Attributes:
        weights: ``[T, N]`` — w_t, the weights played at round t (before ℓ_t is seen).
        expected_loss: ``[T]`` — ⟨w_t, ℓ_t⟩.
        cumulative_regret: ``[T]`` — Σ_{s≤t} ⟨w_s, ℓ_s⟩ − minᵢ Σ_{s≤t} ℓ_{s,i}.
        best_expert: index of the expert with the smallest total loss over all T rounds.
        learning_rate: η used.
        bound: the regret bound at T: ln N / η + η T / 8, which is ``hedge_regret_bound(T, N)``
            = √(T ln N / 2) for the default η (and 0 for N = 1).
    """

    weights: NDArray[np.float64]
    expected_loss: NDArray[np.float64]
    cumulative_regret: NDArray[np.float64]
    best_expert: int
    learning_rate: float
    bound: float


def run_hedge(loss_matrix: ArrayLike, learning_rate: float | None = None) -> HedgeResult:
    """Hedge over a stream of losses, in closed form (no loop over rounds)::

        log w_{t,i} = −η Σ_{s<t} ℓ_{s,i} − logsumexp_j(−η Σ_{s<t} ℓ_{s,j}),

    the same as applying :func:`hedge_update` once per round from uniform weights.

    Args:
        loss_matrix: ``[T, N]`` losses ℓ_{t,i} ∈ [0, 1] of N experts over T rounds (T, N ≥ 1).
        learning_rate: η ≥ 0; default :func:`hedge_learning_rate` (T, N).

    Returns:
        :class:`HedgeResult`.

    Raises:
        ValueError: not a non-empty ``[T, N]`` matrix, entries NaN or outside [0, 1], a negative
            or non-finite ``learning_rate``.
    """
    losses = _as_pool("loss_matrix", loss_matrix)
    if losses.ndim != 2 or losses.shape[0] == 0:
        raise ValueError(f"loss_matrix must have shape [T, N] with T, N >= 1, got {losses.shape}")
    if np.any(losses < 0.0) or np.any(losses > 1.0):
        raise ValueError("loss_matrix entries must lie in [0, 1] (rescale the losses first)")
    horizon, num_experts = losses.shape
    if learning_rate is None:
        eta = hedge_learning_rate(horizon, num_experts)
        bound = hedge_regret_bound(horizon, num_experts)
    else:
        eta = check_number("learning_rate", learning_rate, positive=False)
        if num_experts == 1:
            bound = 0.0
        elif eta == 0.0:
            bound = math.inf
        else:
            bound = math.log(num_experts) / eta + eta * horizon / 8.0
    cumulative = np.cumsum(losses, axis=0)  # [T, N]: Σ_{s≤t} ℓ_s
    previous = np.vstack([np.zeros((1, num_experts)), cumulative[:-1]])  # Σ_{s<t} ℓ_s
    weights = np.exp(_log_normalise(-eta * previous))
    expected = np.sum(weights * losses, axis=1)
    regret = np.cumsum(expected) - cumulative.min(axis=1)
    return HedgeResult(
        weights=weights,
        expected_loss=expected,
        cumulative_regret=regret,
        best_expert=int(np.argmin(cumulative[-1])),
        learning_rate=eta,
        bound=float(bound),
    )
