"""Chapter 0 (``00_welcome``): the softmax with a temperature, the course's warm-up.

Turning scores into weights is a step the course takes again and again: performance-weighted
model averaging (chapter 3), Hedge's exponential weights, a policy over bandit arms (chapter 5).
The rule is the softmax with a temperature ``τ > 0``::

    wᵢ = exp(sᵢ / τ) / Σⱼ exp(sⱼ / τ)

Computed as written it overflows: ``exp(1000)`` is ``inf`` in float64 and ``inf / inf`` is
``nan``. Subtracting the largest score first changes nothing mathematically (the factor
``exp(-max s / τ)`` cancels between numerator and denominator) and keeps every exponent ≤ 0::

    wᵢ = exp((sᵢ − m) / τ) / Σⱼ exp((sⱼ − m) / τ),   m = maxⱼ sⱼ

This module works in NumPy so it can be read line by line; the TensorFlow equivalent is
``tf.nn.softmax(scores / temperature)``, which does the same shift internally.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["naive_softmax", "stable_softmax", "validate_temperature"]


def validate_temperature(temperature: float) -> float:
    """Return ``temperature`` as a float after checking it is a finite number > 0.

    Raises:
        TypeError: not a real number.
        ValueError: not finite, or ``≤ 0``.
    """
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.floating, np.integer)):
        raise TypeError(f"temperature must be a positive real number, got {type(temperature).__name__}")
    temperature = float(temperature)
    if not np.isfinite(temperature) or temperature <= 0.0:
        raise ValueError(f"temperature must be finite and > 0, got {temperature}")
    return temperature


def _validate_scores(scores: ArrayLike) -> NDArray[np.float64]:
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim == 0 or values.shape[-1] == 0:
        raise ValueError(f"scores must have at least one entry along the last axis, got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError("scores must be finite (no NaN or ±inf)")
    return values


def naive_softmax(scores: ArrayLike, temperature: float = 1.0) -> NDArray[np.float64]:
    """The softmax exactly as the formula reads, ``exp(s/τ) / Σ exp(s/τ)`` — unstable on purpose.

    Kept to show the failure: for scores around 1000 it returns ``nan``.
    """
    temperature = validate_temperature(temperature)
    values = np.asarray(scores, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        exps = np.exp(values / temperature)
        return exps / exps.sum(axis=-1, keepdims=True)


def stable_softmax(scores: ArrayLike, temperature: float = 1.0) -> NDArray[np.float64]:
    """Softmax over the last axis, shifted by the maximum so it never overflows.

    ``wᵢ = exp((sᵢ − m)/τ) / Σⱼ exp((sⱼ − m)/τ)`` with ``m = maxⱼ sⱼ``.

    Args:
        scores: real scores, shape ``[..., n]`` with ``n ≥ 1``; higher score, larger weight.
        temperature: ``τ > 0``. Small ``τ`` concentrates the weight on the best score (→ argmax),
            large ``τ`` spreads it evenly (→ uniform).

    Returns:
        Non-negative weights of the same shape, summing to 1 along the last axis.

    Raises:
        ValueError: empty or non-finite scores, or a temperature that is not finite and > 0.
        TypeError: a temperature that is not a real number.
    """
    temperature = validate_temperature(temperature)
    values = _validate_scores(scores)
    shifted = (values - values.max(axis=-1, keepdims=True)) / temperature
    exps = np.exp(shifted)
    return exps / exps.sum(axis=-1, keepdims=True)
