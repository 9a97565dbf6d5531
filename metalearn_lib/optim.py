"""Optimisers written as pure functions on parameter lists, for use inside ``tf.function``.

Chapters 1 and 2 (and later ones) meta-train explicit parameter lists — a learned prior, an
MLP initialisation — so the optimiser state is explicit too: a :class:`AdamState` goes in, a new
one comes out, nothing hides in a Keras optimiser.

Ground floor: imports nothing of the course.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import tensorflow as tf

__all__ = ["AdamState", "adam_init", "adam_update"]


class AdamState(NamedTuple):
    """Adam's moments m, v (shaped like the parameters) and the step count t."""

    step: tf.Tensor
    m: list[tf.Tensor]
    v: list[tf.Tensor]


def adam_init(params: Sequence[tf.Tensor]) -> AdamState:
    """t = 0, m = v = 0."""
    return AdamState(tf.constant(0, tf.int64), [tf.zeros_like(p) for p in params],
                     [tf.zeros_like(p) for p in params])


def adam_update(
    params: Sequence[tf.Tensor],
    grads: Sequence[tf.Tensor],
    state: AdamState,
    *,
    learning_rate: float | tf.Tensor,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-8,
) -> tuple[list[tf.Tensor], AdamState]:
    """One Adam step (Kingma & Ba 2015, Algorithm 1).

    t ← t + 1; m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
    θ ← θ − η · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε).

    Returns:
        ``(new_params, new_state)``.
    """
    step = state.step + 1
    t = tf.cast(step, params[0].dtype)
    c1 = 1.0 - tf.pow(tf.constant(beta_1, params[0].dtype), t)
    c2 = 1.0 - tf.pow(tf.constant(beta_2, params[0].dtype), t)
    new_params, new_m, new_v = [], [], []
    for p, g, m, v in zip(params, grads, state.m, state.v, strict=True):
        m = beta_1 * m + (1.0 - beta_1) * g
        v = beta_2 * v + (1.0 - beta_2) * tf.square(g)
        new_params.append(p - learning_rate * (m / c1) / (tf.sqrt(v / c2) + epsilon))
        new_m.append(m)
        new_v.append(v)
    return new_params, AdamState(step, new_m, new_v)
