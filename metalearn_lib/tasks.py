"""Task families: the data of meta-learning, sampled as whole batches of tasks.

A *task family* is a distribution p(T) over regression problems. Sampling it returns a
:class:`TaskBatch`: ``num_tasks`` tasks at once, each with a support set (the K = ``num_shots``
points a learner adapts on) and a query set (the points it is then scored on), all as tensors of
shape ``[num_tasks, points, features]``, plus the true task parameters for plotting.

Two families:

- :class:`SinusoidFamily` (MAML, Finn et al. 2017): y = A·sin(x − φ) with A ~ U[0.1, 5],
  φ ~ U[0, π], x ~ U[−5, 5]. Every range is configurable, so shifted families (other
  amplitudes, phases or inputs) can be built for cross-domain experiments.
- :class:`LinearFamily` (chapter 1): y = x·w + ε with w ~ N(μ, σ_w² I), ε ~ N(0, σ_ε²),
  x ~ U[x_low, x_high]^d.

Sampling is *stateless* (Philox counter-based random bits): the same ``seed`` gives the same
batch in any process, in eager mode, inside a ``tf.function`` and under XLA (``jit_compile=True``,
equal up to float rounding). ``seed`` is a Python int, or (inside compiled training loops) an
integer tensor of shape ``[2]`` such as ``tf.stack([seed, iteration])``; the int ``s`` is the
pair ``[s, 0]``.

This module is the ground floor of the course: of ``metalearn_lib`` it imports only the
argument checks in :mod:`metalearn_lib.validation`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import tensorflow as tf

from metalearn_lib.validation import check_dtype, check_int, check_number, check_range

__all__ = [
    "LinearFamily",
    "SeedLike",
    "SinusoidFamily",
    "TaskBatch",
    "TaskFamily",
    "normal01",
    "seed_pair",
    "uniform01",
]

#: A Python int in [0, 2**63 − 1], or an integer tensor of shape [2] (a stateless-RNG seed pair).
SeedLike = int | tf.Tensor

_MAX_SEED = 2**63 - 1
# Philox, named: "auto_select" may pick another generator on other devices. Floats are made from
# the raw bits here (see _uniform01), because TF's float conversion differs under XLA.
_ALG = "philox"


# --------------------------------------------------------------------------------------------
# argument validation (shared by both families)
# --------------------------------------------------------------------------------------------
def _seed_pair(seed: SeedLike) -> tf.Tensor:
    """Turn ``seed`` into the int64 tensor of shape [2] that stateless TF ops expect.

    A Python int ``s`` becomes ``[s, 0]``; a tensor must already be an integer pair.
    """
    if isinstance(seed, bool):
        raise TypeError(f"seed must be an int in [0, 2**63 - 1] or an int tensor of shape [2], "
                        f"got {type(seed).__name__}")
    if isinstance(seed, int):
        if not 0 <= seed <= _MAX_SEED:
            raise ValueError(f"seed must be an int in [0, 2**63 - 1], got {seed}")
        return tf.constant([seed, 0], dtype=tf.int64)
    if isinstance(seed, (tf.Tensor, tf.Variable)):
        if not seed.dtype.is_integer:
            raise TypeError(f"seed tensor must have an integer dtype, got {seed.dtype.name}")
        if seed.shape.rank is not None and seed.shape.as_list() != [2]:
            raise ValueError(f"seed tensor must have shape [2], got {seed.shape}")
        return tf.cast(seed, tf.int64)
    raise TypeError(
        f"seed must be an int in [0, 2**63 - 1] or an int tensor of shape [2], "
        f"got {type(seed).__name__}"
    )


def _uniform01(shape: list[int], seed: tf.Tensor, dtype: tf.DType) -> tf.Tensor:
    """u ~ U[0, 1) built from raw Philox bits: u = ⌊bits / 2^8⌋ · 2^−24 (2^−53 for float64).

    TF's own float conversion differs between XLA and the regular kernels; the integer bits do
    not, so this gives the same numbers in eager, graph and ``jit_compile=True`` code.
    """
    if dtype == tf.float64:
        bits = tf.random.stateless_uniform(shape, seed, minval=None, maxval=None,
                                           dtype=tf.uint64, alg=_ALG)
        return tf.cast(tf.bitwise.right_shift(bits, tf.constant(11, tf.uint64)),
                       tf.float64) * 2.0**-53
    bits = tf.random.stateless_uniform(shape, seed, minval=None, maxval=None, dtype=tf.uint32,
                                       alg=_ALG)
    return tf.cast(tf.bitwise.right_shift(bits, tf.constant(8, tf.uint32)), tf.float32) * 2.0**-24


def _compute_dtype(dtype: tf.DType) -> tf.DType:
    """Draw in float64 for float64 results, else in float32 (then cast)."""
    return tf.float64 if dtype == tf.float64 else tf.float32


def _uniform(shape: list[int], seed: tf.Tensor, low: float, high: float, dtype: tf.DType) -> tf.Tensor:
    """Stateless x = low + (high − low)·u, u ~ U[0, 1)."""
    cdtype = _compute_dtype(dtype)
    return tf.cast(low + (high - low) * _uniform01(shape, seed, cdtype), dtype)


def _normal(shape: list[int], seed: tf.Tensor, dtype: tf.DType) -> tf.Tensor:
    """Stateless z ~ N(0, 1) by Box–Muller: z = √(−2 ln(1 − u₁)) · cos(2π u₂)."""
    cdtype = _compute_dtype(dtype)
    u = _uniform01([2, *shape], seed, cdtype)
    z = tf.sqrt(-2.0 * tf.math.log(1.0 - u[0])) * tf.cos(2.0 * math.pi * u[1])
    return tf.cast(z, dtype)


#: Public names for other modules' stateless sampling (chapter 5's bandits draw with them too).
seed_pair = _seed_pair
uniform01 = _uniform01
normal01 = _normal


# --------------------------------------------------------------------------------------------
# the batch
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskBatch:
    """A batch of regression tasks, every field a tensor with a leading task axis.

    Attributes:
        support_x: ``[num_tasks, num_shots, features]`` inputs the learner adapts on.
        support_y: ``[num_tasks, num_shots, outputs]`` their targets.
        query_x: ``[num_tasks, num_query, features]`` inputs the adapted learner is scored on.
        query_y: ``[num_tasks, num_query, outputs]`` their targets.
        task_params: the true parameters of each task, each with leading axis ``num_tasks``
            (``{"amplitude", "phase"}`` for sinusoids, ``{"weights"}`` for linear tasks), for
            drawing the ground truth.
    """

    support_x: tf.Tensor
    support_y: tf.Tensor
    query_x: tf.Tensor
    query_y: tf.Tensor
    task_params: Mapping[str, tf.Tensor] = field(default_factory=dict)

    @property
    def num_tasks(self) -> int:
        """Number of tasks in the batch (the leading axis)."""
        return int(self.support_x.shape[0])

    @property
    def num_shots(self) -> int:
        """K, the number of support points per task."""
        return int(self.support_x.shape[1])

    @property
    def num_query(self) -> int:
        """The number of query points per task."""
        return int(self.query_x.shape[1])

    def task(self, index: int) -> TaskBatch:
        """The batch holding only task ``index`` (leading axis kept, of size 1)."""
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"index must be an int in [0, {self.num_tasks - 1}], "
                            f"got {type(index).__name__}")
        if not 0 <= index < self.num_tasks:
            raise ValueError(f"index must be an int in [0, {self.num_tasks - 1}], got {index}")
        sl = slice(index, index + 1)
        return TaskBatch(
            self.support_x[sl], self.support_y[sl], self.query_x[sl], self.query_y[sl],
            {k: v[sl] for k, v in self.task_params.items()},
        )


@runtime_checkable
class TaskFamily(Protocol):
    """Anything that samples a :class:`TaskBatch` from p(T) — what the trainers accept."""

    def sample(
        self, num_tasks: int, num_shots: int, num_query: int | None = None, *, seed: SeedLike
    ) -> TaskBatch:
        """Draw ``num_tasks`` tasks with ``num_shots`` support and ``num_query`` query points."""
        ...


# --------------------------------------------------------------------------------------------
# sinusoids
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SinusoidFamily:
    """Sinusoid regression tasks y = A·sin(x − φ) (Finn, Abbeel, Levine 2017, section 5.1).

    A task is drawn as A ~ U[amplitude_range], φ ~ U[phase_range]; its points as
    x ~ U[x_range], independently for support and query sets.

    Attributes:
        amplitude_range: (low, high) of the amplitude A; MAML uses (0.1, 5.0).
        phase_range: (low, high) of the phase φ; MAML uses (0, π) (Reptile uses (0, 2π)).
        x_range: (low, high) of the inputs x; MAML uses (−5, 5).
        dtype: floating dtype of every returned tensor.

    Raises:
        ValueError: a range is empty, reversed or not finite, or ``dtype`` is not floating.
        TypeError: a range is not a pair of numbers.
    """

    amplitude_range: tuple[float, float] = (0.1, 5.0)
    phase_range: tuple[float, float] = (0.0, math.pi)
    x_range: tuple[float, float] = (-5.0, 5.0)
    dtype: tf.DType = tf.float32

    def __post_init__(self) -> None:
        object.__setattr__(self, "amplitude_range", check_range("amplitude_range",
                                                                 self.amplitude_range))
        object.__setattr__(self, "phase_range", check_range("phase_range", self.phase_range))
        object.__setattr__(self, "x_range", check_range("x_range", self.x_range))
        object.__setattr__(self, "dtype", check_dtype(self.dtype))

    @staticmethod
    def function(x: tf.Tensor, amplitude: tf.Tensor, phase: tf.Tensor) -> tf.Tensor:
        """Evaluate y = A·sin(x − φ).

        Args:
            x: inputs ``[num_tasks, points, 1]`` (or anything broadcasting against A and φ).
            amplitude: A, shape ``[num_tasks]``.
            phase: φ, shape ``[num_tasks]``.

        Returns:
            y with the shape of ``x``.
        """
        amplitude = tf.reshape(amplitude, [-1, 1, 1])
        phase = tf.reshape(phase, [-1, 1, 1])
        return amplitude * tf.sin(x - phase)

    def sample(
        self,
        num_tasks: int,
        num_shots: int,
        num_query: int | None = None,
        *,
        seed: SeedLike,
    ) -> TaskBatch:
        """Draw ``num_tasks`` sinusoid tasks with ``num_shots`` support and ``num_query`` query points.

        y = A·sin(x − φ), A ~ U[amplitude_range], φ ~ U[phase_range], x ~ U[x_range]; support
        and query inputs are independent draws from the same task.

        Args:
            num_tasks: tasks in the batch, >= 1.
            num_shots: K, support points per task, >= 1.
            num_query: query points per task, >= 1; defaults to ``num_shots``.
            seed: int in [0, 2**63 − 1] or an int tensor of shape [2]; same seed, same batch.

        Returns:
            A :class:`TaskBatch` with tensors of shape ``[num_tasks, points, 1]`` and
            ``task_params = {"amplitude": [num_tasks], "phase": [num_tasks]}``.

        Raises:
            ValueError: a count is < 1 or ``seed`` is out of range.
            TypeError: a count is not an int, or ``seed`` is neither an int nor an int tensor.
        """
        num_tasks = check_int("num_tasks", num_tasks)
        num_shots = check_int("num_shots", num_shots)
        num_query = num_shots if num_query is None else check_int("num_query", num_query)
        seeds = tf.random.experimental.stateless_split(_seed_pair(seed), num=4, alg=_ALG)
        amplitude = _uniform([num_tasks], seeds[0], *self.amplitude_range, self.dtype)
        phase = _uniform([num_tasks], seeds[1], *self.phase_range, self.dtype)
        support_x = _uniform([num_tasks, num_shots, 1], seeds[2], *self.x_range, self.dtype)
        query_x = _uniform([num_tasks, num_query, 1], seeds[3], *self.x_range, self.dtype)
        return TaskBatch(
            support_x=support_x,
            support_y=self.function(support_x, amplitude, phase),
            query_x=query_x,
            query_y=self.function(query_x, amplitude, phase),
            task_params={"amplitude": amplitude, "phase": phase},
        )


# --------------------------------------------------------------------------------------------
# linear regression
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LinearFamily:
    """Linear regression tasks y = x·w + ε with a Gaussian prior on w (chapter 1).

    A task is w ~ N(weight_mean·1, weight_std² I) in R^num_features; its points are
    x ~ U[x_range]^num_features and y = x·w + ε, ε ~ N(0, noise_std²), drawn independently
    for every point.

    Attributes:
        num_features: d, the input dimension, >= 1.
        weight_mean: μ, mean of every weight under the prior.
        weight_std: σ_w >= 0, prior standard deviation of every weight.
        noise_std: σ_ε >= 0, observation noise standard deviation.
        x_range: (low, high) of every input feature.
        dtype: floating dtype of every returned tensor.

    Raises:
        ValueError: ``num_features`` < 1, a standard deviation < 0, an empty ``x_range`` or a
            non-floating ``dtype``.
        TypeError: an argument has the wrong Python type.
    """

    num_features: int = 1
    weight_mean: float = 0.0
    weight_std: float = 1.0
    noise_std: float = 0.1
    x_range: tuple[float, float] = (-1.0, 1.0)
    dtype: tf.DType = tf.float32

    def __post_init__(self) -> None:
        check_int("num_features", self.num_features)
        if isinstance(self.weight_mean, bool) or not isinstance(self.weight_mean, (int, float)):
            raise TypeError(f"weight_mean must be a finite number, "
                            f"got {type(self.weight_mean).__name__}")
        if not math.isfinite(self.weight_mean):
            raise ValueError(f"weight_mean must be a finite number, got {self.weight_mean}")
        object.__setattr__(self, "weight_mean", float(self.weight_mean))
        object.__setattr__(self, "weight_std", check_number("weight_std", self.weight_std, positive=False))
        object.__setattr__(self, "noise_std", check_number("noise_std", self.noise_std, positive=False))
        object.__setattr__(self, "x_range", check_range("x_range", self.x_range))
        object.__setattr__(self, "dtype", check_dtype(self.dtype))

    @staticmethod
    def function(x: tf.Tensor, weights: tf.Tensor) -> tf.Tensor:
        """Evaluate the noise-free y = x·w for every task.

        Args:
            x: inputs ``[num_tasks, points, num_features]``.
            weights: w, shape ``[num_tasks, num_features]``.

        Returns:
            y of shape ``[num_tasks, points, 1]``.
        """
        return tf.einsum("tpd,td->tp", x, weights)[..., tf.newaxis]

    def sample(
        self,
        num_tasks: int,
        num_shots: int,
        num_query: int | None = None,
        *,
        seed: SeedLike,
    ) -> TaskBatch:
        """Draw ``num_tasks`` linear tasks with ``num_shots`` support and ``num_query`` query points.

        w ~ N(μ, σ_w² I), x ~ U[x_range]^d, y = x·w + ε with ε ~ N(0, σ_ε²) per point.

        Args:
            num_tasks: tasks in the batch, >= 1.
            num_shots: K, support points per task, >= 1.
            num_query: query points per task, >= 1; defaults to ``num_shots``.
            seed: int in [0, 2**63 − 1] or an int tensor of shape [2]; same seed, same batch.

        Returns:
            A :class:`TaskBatch` with x of shape ``[num_tasks, points, num_features]``, y of shape
            ``[num_tasks, points, 1]`` and ``task_params = {"weights": [num_tasks, num_features]}``.

        Raises:
            ValueError: a count is < 1 or ``seed`` is out of range.
            TypeError: a count is not an int, or ``seed`` is neither an int nor an int tensor.
        """
        num_tasks = check_int("num_tasks", num_tasks)
        num_shots = check_int("num_shots", num_shots)
        num_query = num_shots if num_query is None else check_int("num_query", num_query)
        d = self.num_features
        seeds = tf.random.experimental.stateless_split(_seed_pair(seed), num=5, alg=_ALG)
        weights = self.weight_mean + self.weight_std * _normal([num_tasks, d], seeds[0], self.dtype)
        support_x = _uniform([num_tasks, num_shots, d], seeds[1], *self.x_range, self.dtype)
        query_x = _uniform([num_tasks, num_query, d], seeds[2], *self.x_range, self.dtype)
        support_noise = self.noise_std * _normal([num_tasks, num_shots, 1], seeds[3], self.dtype)
        query_noise = self.noise_std * _normal([num_tasks, num_query, 1], seeds[4], self.dtype)
        return TaskBatch(
            support_x=support_x,
            support_y=self.function(support_x, weights) + support_noise,
            query_x=query_x,
            query_y=self.function(query_x, weights) + query_noise,
            task_params={"weights": weights},
        )
