"""Stateless seeds and action sampling: every random number of :mod:`metalearn_lib.rl` derives
from a seed pair by Philox ``fold_in``, so runs are the same in eager, graph and XLA code."""

from __future__ import annotations

import tensorflow as tf

from metalearn_lib.tasks import SeedLike, seed_pair, uniform01

__all__ = ["ALG", "derive_seed", "sample_actions"]

#: The counter-based generator of every stateless draw.
ALG = "philox"


def derive_seed(seed: SeedLike, tag: int | tf.Tensor) -> tf.Tensor:
    """A new stateless seed pair from ``seed`` and an integer ``tag``: Philox ``fold_in``.

    Different tags give independent streams (tasks, each step's actions, each step's rewards);
    the result is the same in eager, graph and XLA code.
    """
    return tf.random.experimental.stateless_fold_in(seed_pair(seed), tf.cast(tag, tf.int64), alg=ALG)


def sample_actions(logits: tf.Tensor, seed: SeedLike) -> tf.Tensor:
    """a_b ~ softmax(logits_b) by inversion: a_b = #{a : F_b(a) < u_b}, F_b the CDF, u_b ~ U[0, 1).

    One uniform per row, from raw Philox bits (:func:`metalearn_lib.tasks.uniform01`), so the
    draw is the same in eager, graph and XLA code up to float rounding of the CDF.

    Args:
        logits: ``[B, A]``.
        seed: stateless seed (int or int tensor of shape [2]).

    Returns:
        ``[B]`` int32 actions in [0, A).
    """
    logits = tf.convert_to_tensor(logits)
    probs = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
    cdf = tf.cumsum(probs, axis=-1)
    batch = logits.shape[0] if logits.shape[0] is not None else tf.shape(logits)[0]
    u = uniform01([batch], seed_pair(seed), tf.float32)[:, tf.newaxis] * cdf[:, -1:]
    actions = tf.reduce_sum(tf.cast(cdf <= u, tf.int32), axis=-1)
    return tf.minimum(actions, tf.shape(logits)[-1] - 1)
