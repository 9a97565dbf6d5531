"""The private validation helpers the :mod:`metalearn_lib.mapping` submodules share.

Argument checks (``num_shots``, a task family, a feature map), conversion to floating tensors,
shape checks of ``[num_tasks, points, features]`` inputs, and a tensor's value when eager.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from metalearn_lib.validation import check_int

__all__ = [
    "_as_float_tensor",
    "_check_family",
    "_check_features",
    "_check_pair",
    "_check_points",
    "_check_shots",
    "_concrete",
]


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
