"""Argument checks shared by the library: each raises an error that names the argument and
the allowed range, so a learner sees ``num_shots must be an int >= 1, got 0`` rather than a
TensorFlow shape error three calls later.

Ground floor: imports nothing of the course.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import tensorflow as tf

__all__ = [
    "check_dtype",
    "check_int",
    "check_number",
    "check_param_list",
    "check_range",
    "check_rate",
    "check_tensor_list",
    "check_unit",
]


def check_int(name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an ``int`` ≥ ``minimum`` (``bool`` is not an int here).

    Raises:
        TypeError: not an integer.
        ValueError: below ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int >= {minimum}, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value}")
    return int(value)


def check_number(name: str, value: Any, *, positive: bool = True) -> float:
    """``value`` as a finite ``float``, > 0 if ``positive`` else ≥ 0.

    Raises:
        TypeError: not a real number.
        ValueError: not finite, or out of range.
    """
    bound = "> 0" if positive else ">= 0"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a finite number {bound}, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be a finite number {bound}, got {value}")
    return value


def check_unit(name: str, value: Any) -> float:
    """``value`` as a finite ``float`` in [0, 1] (a probability, a share, a mean reward).

    Raises:
        TypeError: not a real number.
        ValueError: not finite, or outside [0, 1].
    """
    value = check_number(name, value, positive=False)
    if value > 1.0:
        raise ValueError(f"{name} must be a number in [0, 1], got {value}")
    return value


def check_rate(name: str, value: Any, *, positive: bool = True) -> Any:
    """A step size: a number as in :func:`check_number`, or a scalar tensor (passed through,
    since inside a ``tf.function`` its value is not known)."""
    if isinstance(value, (tf.Tensor, tf.Variable)):
        if value.shape.rank not in (None, 0):
            raise ValueError(f"{name} must be a scalar, got shape {value.shape}")
        return value
    return check_number(name, value, positive=positive)


def check_range(name: str, value: Any) -> tuple[float, float]:
    """``value`` as a ``(low, high)`` pair of finite floats with ``low < high``.

    Raises:
        TypeError: not a pair of numbers.
        ValueError: not finite, or empty (``low >= high``).
    """
    try:
        low, high = value
        low, high = float(low), float(high)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be a pair (low, high) of finite numbers with low < high, got {value!r}"
        ) from None
    if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
        raise ValueError(
            f"{name} must be a pair (low, high) of finite numbers with low < high, got ({low}, {high})"
        )
    return low, high


def check_dtype(value: Any, name: str = "dtype") -> tf.DType:
    """``value`` as a floating ``tf.DType`` (float16, bfloat16, float32 or float64).

    Raises:
        ValueError: not a dtype, or not a floating one.
    """
    allowed = "a floating dtype (float16, bfloat16, float32, float64)"
    try:
        dtype = tf.as_dtype(value)
    except TypeError:
        raise ValueError(f"{name} must be {allowed}, got {value!r}") from None
    if not dtype.is_floating:
        raise ValueError(f"{name} must be {allowed}, got {dtype.name}")
    return dtype


def check_param_list(name: str, params: Any) -> list[tf.Tensor]:
    """``params`` as a non-empty list of floating tensors (a learner's θ, a list of step sizes, …).

    Raises:
        TypeError: not a list/tuple of tensors (a single tensor included), or a non-floating entry.
        ValueError: an empty list.
    """
    if isinstance(params, (tf.Tensor, tf.Variable, np.ndarray)) or not isinstance(params, (list, tuple)):
        raise TypeError(f"{name} must be a list of tensors, got {type(params).__name__}")
    if len(params) == 0:
        raise ValueError(f"{name} must be a non-empty list of tensors, got an empty list")
    out = []
    for i, p in enumerate(params):
        try:
            t = tf.convert_to_tensor(p)
        except (TypeError, ValueError):
            raise TypeError(f"{name}[{i}] must be a tensor, got {type(p).__name__}") from None
        if not t.dtype.is_floating:
            raise TypeError(f"{name}[{i}] must have a floating dtype, got {t.dtype.name}")
        out.append(t)
    return out


def check_tensor_list(name: str, values: Any) -> list[Any]:
    """``values`` as a list of TensorFlow tensors (``tf.Tensor`` or ``tf.Variable``), unchanged.

    Unlike :func:`check_param_list` nothing is converted: a NumPy array in a parameter list means a
    computation left TensorFlow, and a gradient through it would be cut, so the error says where
    (``params[2]``) and how to fix it instead of failing later on ``.shape.rank``. The check is plain
    Python and costs nothing inside a ``tf.function`` (it runs once, when the function is traced).

    Raises:
        TypeError: not a list/tuple, or an entry that is not a tensor (a NumPy array, a number, None, …).
    """
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{name} must be a list of tensors [W1, b1, ...], got {type(values).__name__}")
    for i, value in enumerate(values):
        if not tf.is_tensor(value):
            kind = "a NumPy array" if isinstance(value, (np.ndarray, np.generic)) else f"a {type(value).__name__}"
            raise TypeError(f"{name}[{i}] is {kind}, not a tensor: convert it with tf.constant(...), and return "
                            f"tensors, not NumPy arrays, from your own functions (NumPy cuts the gradient)")
    return list(values)
