"""Feature maps φ(x) for the ridge map: identity, [x, 1], polynomial and Fourier features.

Each is a :data:`FeatureMap` ``[..., points, in] -> [..., points, p]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from metalearn_lib.validation import check_int

__all__ = [
    "FeatureMap",
    "fourier_features",
    "identity_features",
    "linear_features",
    "polynomial_features",
]

#: A feature map φ: ``[..., points, in] -> [..., points, p]``.
FeatureMap = Callable[[tf.Tensor], tf.Tensor]


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
