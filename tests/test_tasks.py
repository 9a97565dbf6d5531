"""Tests for metalearn_lib.tasks: shapes, ranges, determinism and argument validation."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib import seed_everything
from metalearn_lib.tasks import LinearFamily, SinusoidFamily, TaskBatch, TaskFamily


@pytest.fixture(autouse=True)
def _seed() -> None:
    seed_everything(0)


def test_sinusoid_shapes_and_params() -> None:
    batch = SinusoidFamily().sample(7, 5, 11, seed=3)
    assert isinstance(batch, TaskBatch)
    assert batch.support_x.shape == (7, 5, 1) and batch.support_y.shape == (7, 5, 1)
    assert batch.query_x.shape == (7, 11, 1) and batch.query_y.shape == (7, 11, 1)
    assert (batch.num_tasks, batch.num_shots, batch.num_query) == (7, 5, 11)
    assert set(batch.task_params) == {"amplitude", "phase"}
    assert batch.task_params["amplitude"].shape == (7,)
    assert batch.support_x.dtype == tf.float32


def test_sinusoid_num_query_defaults_to_num_shots() -> None:
    batch = SinusoidFamily().sample(2, 4, seed=0)
    assert batch.query_x.shape == (2, 4, 1)


def test_sinusoid_values_follow_the_equation_and_ranges() -> None:
    batch = SinusoidFamily().sample(500, 10, seed=1)
    a = batch.task_params["amplitude"].numpy()
    phi = batch.task_params["phase"].numpy()
    x = batch.support_x.numpy()
    assert a.min() >= 0.1 and a.max() <= 5.0
    assert phi.min() >= 0.0 and phi.max() <= math.pi
    assert x.min() >= -5.0 and x.max() <= 5.0
    np.testing.assert_allclose(batch.support_y.numpy(),
                               a[:, None, None] * np.sin(x - phi[:, None, None]), atol=1e-5)
    # The four draws are independent: support and query inputs differ.
    assert not np.allclose(batch.support_x.numpy(), batch.query_x.numpy())


def test_sinusoid_shifted_family_ranges() -> None:
    family = SinusoidFamily(amplitude_range=(5.0, 6.0), phase_range=(1.0, 1.5),
                            x_range=(5.0, 10.0), dtype=tf.float64)
    batch = family.sample(100, 3, seed=2)
    assert batch.support_x.dtype == tf.float64
    assert batch.task_params["amplitude"].numpy().min() >= 5.0
    assert batch.query_x.numpy().min() >= 5.0


def test_sampling_is_deterministic_given_the_seed() -> None:
    family = SinusoidFamily()
    a, b, c = (family.sample(4, 5, seed=s) for s in (11, 11, 12))
    for name in ("support_x", "support_y", "query_x", "query_y"):
        np.testing.assert_array_equal(getattr(a, name).numpy(), getattr(b, name).numpy())
    assert not np.array_equal(a.support_x.numpy(), c.support_x.numpy())
    # A tensor seed pair [s, 0] is the same stream as the int s, also inside tf.function.
    d = tf.function(lambda s: family.sample(4, 5, seed=s).support_y)(
        tf.constant([11, 0], tf.int64))
    np.testing.assert_array_equal(a.support_y.numpy(), d.numpy())


def test_linear_family() -> None:
    family = LinearFamily(num_features=3, weight_mean=1.0, weight_std=0.5, noise_std=0.0)
    batch = family.sample(6, 8, 9, seed=0)
    assert batch.support_x.shape == (6, 8, 3) and batch.support_y.shape == (6, 8, 1)
    assert batch.query_x.shape == (6, 9, 3)
    w = batch.task_params["weights"].numpy()
    assert w.shape == (6, 3)
    np.testing.assert_allclose(batch.support_y.numpy()[..., 0],
                               np.einsum("tpd,td->tp", batch.support_x.numpy(), w), atol=1e-5)


def test_linear_family_prior_and_noise_statistics() -> None:
    family = LinearFamily(num_features=2, weight_mean=-1.0, weight_std=2.0, noise_std=0.3,
                          dtype="float64")
    batch = family.sample(4000, 10, seed=5)
    w = batch.task_params["weights"].numpy()
    assert abs(w.mean() + 1.0) < 0.1 and abs(w.std() - 2.0) < 0.1
    residual = batch.support_y.numpy() - family.function(batch.support_x, w).numpy()
    assert abs(residual.std() - 0.3) < 0.01


def test_task_slicing() -> None:
    batch = SinusoidFamily().sample(3, 2, seed=0)
    one = batch.task(1)
    assert one.num_tasks == 1
    np.testing.assert_array_equal(one.support_x.numpy()[0], batch.support_x.numpy()[1])
    with pytest.raises(ValueError, match="index"):
        batch.task(3)


def test_families_are_frozen_and_satisfy_the_protocol() -> None:
    family = SinusoidFamily()
    assert isinstance(family, TaskFamily) and isinstance(LinearFamily(), TaskFamily)
    with pytest.raises(dataclasses.FrozenInstanceError):
        family.x_range = (0.0, 1.0)  # type: ignore[misc]
    batch = family.sample(1, 1, seed=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        batch.support_x = batch.query_x  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"num_tasks": 0, "num_shots": 5}, ValueError, "num_tasks"),
        ({"num_tasks": -3, "num_shots": 5}, ValueError, "num_tasks"),
        ({"num_tasks": 2, "num_shots": 0}, ValueError, "num_shots"),
        ({"num_tasks": 2, "num_shots": 5, "num_query": -1}, ValueError, "num_query"),
        ({"num_tasks": 2.0, "num_shots": 5}, TypeError, "num_tasks"),
        ({"num_tasks": True, "num_shots": 5}, TypeError, "num_tasks"),
    ],
)
def test_sample_rejects_bad_counts(kwargs: dict, error: type, name: str) -> None:
    with pytest.raises(error, match=name):
        SinusoidFamily().sample(**kwargs, seed=0)


@pytest.mark.parametrize(
    ("seed", "error"),
    [(-1, ValueError), (1.5, TypeError), (True, TypeError),
     (tf.constant([1.0, 2.0]), TypeError), (tf.constant([1, 2, 3]), ValueError)],
)
def test_sample_rejects_bad_seeds(seed: object, error: type) -> None:
    with pytest.raises(error, match="seed"):
        SinusoidFamily().sample(2, 2, seed=seed)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"amplitude_range": (5.0, 0.1)}, "amplitude_range"),
        ({"phase_range": (1.0, 1.0)}, "phase_range"),
        ({"x_range": (0.0, math.inf)}, "x_range"),
        ({"dtype": tf.int32}, "dtype"),
        ({"dtype": "not a dtype"}, "dtype"),
    ],
)
def test_sinusoid_family_rejects_bad_ranges(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        SinusoidFamily(**kwargs)


def test_sinusoid_family_rejects_non_pairs() -> None:
    with pytest.raises(TypeError, match="x_range"):
        SinusoidFamily(x_range=5.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"num_features": 0}, ValueError, "num_features"),
        ({"weight_std": -1.0}, ValueError, "weight_std"),
        ({"noise_std": -0.1}, ValueError, "noise_std"),
        ({"noise_std": "a"}, TypeError, "noise_std"),
        ({"weight_mean": math.nan}, ValueError, "weight_mean"),
        ({"x_range": (1.0, -1.0)}, ValueError, "x_range"),
        ({"dtype": tf.bool}, ValueError, "dtype"),
    ],
)
def test_linear_family_rejects_bad_arguments(kwargs: dict, error: type, name: str) -> None:
    with pytest.raises(error, match=name):
        LinearFamily(**kwargs)


@pytest.mark.parametrize("family", [SinusoidFamily(), LinearFamily(num_features=2, dtype="float64")])
def test_xla_compiled_sampling_gives_the_same_tasks(family: TaskFamily) -> None:
    """A jit_compile=True training loop must see the tasks eager code sees for the same seed."""
    seed = tf.constant([4, 9], tf.int64)
    eager = family.sample(3, 6, seed=seed)

    @tf.function(jit_compile=True)
    def compiled(s: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        batch = family.sample(3, 6, seed=s)
        return batch.support_x, batch.query_x, batch.query_y

    support_x, query_x, query_y = compiled(seed)
    # Equal up to float rounding (XLA fuses low + (high − low)·u into one multiply-add).
    np.testing.assert_allclose(eager.support_x.numpy(), support_x.numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(eager.query_x.numpy(), query_x.numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(eager.query_y.numpy(), query_y.numpy(), rtol=1e-5, atol=1e-6)
