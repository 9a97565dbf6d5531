"""The one seeding helper."""

from __future__ import annotations

import random

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib import seed_everything


def draws():
    return random.random(), np.random.rand(3).tolist(), tf.random.normal([3]).numpy().tolist()


def test_reseeding_repeats_python_numpy_and_tensorflow_draws():
    seed_everything(123)
    first = draws()
    seed_everything(123)
    assert draws() == first
    seed_everything(124)
    assert draws() != first


def test_returns_a_seeded_generator():
    assert seed_everything(5).normal() == np.random.default_rng(5).normal()


def test_keras_initialisers_are_repeatable():
    seed_everything(0)
    first = tf.keras.layers.Dense(4)
    first.build((None, 3))
    seed_everything(0)
    second = tf.keras.layers.Dense(4)
    second.build((None, 3))
    np.testing.assert_array_equal(first.kernel.numpy(), second.kernel.numpy())


@pytest.mark.parametrize(("seed", "error"), [(-1, ValueError), (2**32, ValueError), (1.5, TypeError),
                                              ("0", TypeError), (True, TypeError)])
def test_bad_seeds(seed, error):
    with pytest.raises(error, match="seed"):
        seed_everything(seed)
