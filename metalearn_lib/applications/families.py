"""Task families for the cross-domain experiments: shifted sinusoids, square waves, mixtures.

Every family here has chapter 2's interface — ``sample(num_tasks, num_shots, num_query, *, seed)``
returning a :class:`metalearn_lib.tasks.TaskBatch` — so the trainers and
:func:`metalearn_lib.two_level.evaluate_fine_tuning` accept them unchanged.

- :func:`shifted_family` moves one range of MAML's sinusoid family by ``shift``:
  amplitude A ∈ [0.1 + s, 5 + s], phase φ ∈ [s, π + s], or inputs x ∈ [−5 + s, 5 + s];
  ``"square"`` and ``"line"`` are different families altogether (square waves A·sign(sin(x − φ))
  and lines y = w·x).
- :class:`SquareWaveFamily`: y = A·sign(sin(x − φ)), the sinusoid's shape made discontinuous.
- :class:`MixtureFamily`: each task drawn from one of several families with given probabilities
  (domain randomisation over families).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from metalearn_lib.tasks import LinearFamily, SeedLike, SinusoidFamily, TaskBatch, seed_pair, uniform01
from metalearn_lib.validation import check_int

__all__ = [
    "BROAD_SINUSOIDS",
    "SHIFT_GRIDS",
    "SHIFT_KINDS",
    "MixtureFamily",
    "SquareWaveFamily",
    "shifted_family",
]

#: The kinds of shift :func:`shifted_family` knows: three moves of the sinusoid family and two
#: other families.
SHIFT_KINDS: tuple[str, ...] = ("amplitude", "phase", "input", "square", "line")
#: The shifts the experiments step through (0 = the training family).
SHIFT_GRIDS: dict[str, tuple[float, ...]] = {
    "amplitude": (0.0, 1.0, 2.5, 5.0, 7.5),
    "phase": (0.0, math.pi / 4, math.pi / 2, 3 * math.pi / 4, math.pi),
    "input": (0.0, 2.5, 5.0, 7.5, 10.0),
}
#: The broader family of the domain-randomisation experiment: every phase, φ ∈ [0, 2π], with MAML's
#: amplitudes and inputs — it covers the phase shifts of :data:`SHIFT_GRIDS` and nothing else.
BROAD_SINUSOIDS = SinusoidFamily(phase_range=(0.0, 2 * math.pi))


def shifted_family(kind: str, shift: float = 0.0, *, base: SinusoidFamily | None = None
                   ) -> SinusoidFamily | SquareWaveFamily | LinearFamily:
    """The test family ``kind`` moved by ``shift`` from ``base`` (MAML's sinusoids by default).

    - ``"amplitude"``: A ∈ [a₀ + s, a₁ + s];
    - ``"phase"``: φ ∈ [φ₀ + s, φ₁ + s];
    - ``"input"``: x ∈ [x₀ + s, x₁ + s] (support and query points alike);
    - ``"square"``: square waves with ``base``'s ranges (``shift`` must be 0);
    - ``"line"``: lines y = w·x, w ~ N(0, 1), no noise, on ``base``'s input range (``shift`` 0).

    Raises:
        ValueError: an unknown ``kind``, a shift that is not finite, a non-zero shift of another
            family.
        TypeError: ``base`` is not a :class:`SinusoidFamily`.
    """
    if kind not in SHIFT_KINDS:
        raise ValueError(f"kind must be one of {list(SHIFT_KINDS)}, got {kind!r}")
    if isinstance(shift, bool) or not isinstance(shift, (int, float)):
        raise TypeError(f"shift must be a finite number, got {type(shift).__name__}")
    if not math.isfinite(shift):
        raise ValueError(f"shift must be a finite number, got {shift!r}")
    shift = float(shift)
    base = SinusoidFamily() if base is None else base
    if not isinstance(base, SinusoidFamily):
        raise TypeError(f"base must be a SinusoidFamily, got {type(base).__name__}")
    if kind in ("square", "line") and shift != 0:
        raise ValueError(f"shift must be 0 for kind={kind!r} (another family, not a move), got {shift}")

    def moved(pair: tuple[float, float]) -> tuple[float, float]:
        return (pair[0] + shift, pair[1] + shift)

    if kind == "amplitude":
        return SinusoidFamily(moved(base.amplitude_range), base.phase_range, base.x_range, base.dtype)
    if kind == "phase":
        return SinusoidFamily(base.amplitude_range, moved(base.phase_range), base.x_range, base.dtype)
    if kind == "input":
        return SinusoidFamily(base.amplitude_range, base.phase_range, moved(base.x_range), base.dtype)
    if kind == "square":
        return SquareWaveFamily(base.amplitude_range, base.phase_range, base.x_range, base.dtype)
    return LinearFamily(num_features=1, weight_mean=0.0, weight_std=1.0, noise_std=0.0, x_range=base.x_range,
                        dtype=base.dtype)


@dataclass(frozen=True)
class SquareWaveFamily:
    """Square waves y = A·sign(sin(x − φ)), A ~ U[amplitude_range], φ ~ U[phase_range], x ~ U[x_range].

    The same tasks as :class:`metalearn_lib.tasks.SinusoidFamily` with the same seed (same A, φ
    and x), their outputs squared off — so the two families differ only in shape.
    """

    amplitude_range: tuple[float, float] = (0.1, 5.0)
    phase_range: tuple[float, float] = (0.0, math.pi)
    x_range: tuple[float, float] = (-5.0, 5.0)
    dtype: tf.DType = tf.float32

    def __post_init__(self) -> None:
        SinusoidFamily(self.amplitude_range, self.phase_range, self.x_range, self.dtype)  # validates

    @staticmethod
    def function(x: tf.Tensor, amplitude: tf.Tensor, phase: tf.Tensor) -> tf.Tensor:
        """y = A·sign(sin(x − φ)) for x ``[num_tasks, points, 1]``, A and φ ``[num_tasks]``."""
        return tf.reshape(amplitude, [-1, 1, 1]) * tf.sign(SinusoidFamily.function(x, tf.ones_like(amplitude), phase))

    def sample(self, num_tasks: int, num_shots: int, num_query: int | None = None, *, seed: SeedLike) -> TaskBatch:
        """Draw square-wave tasks (arguments as :meth:`SinusoidFamily.sample`)."""
        sinusoids = SinusoidFamily(self.amplitude_range, self.phase_range, self.x_range, self.dtype)
        batch = sinusoids.sample(num_tasks, num_shots, num_query, seed=seed)
        amplitude, phase = batch.task_params["amplitude"], batch.task_params["phase"]
        return TaskBatch(batch.support_x, self.function(batch.support_x, amplitude, phase),
                         batch.query_x, self.function(batch.query_x, amplitude, phase), batch.task_params)


@dataclass(frozen=True)
class MixtureFamily:
    """Each task drawn from ``families[c]`` with probability ``probabilities[c]``.

    All components are sampled for the whole batch (same shapes, stateless seeds split from
    ``seed``) and each task keeps the one its component index c_i picks, so sampling runs inside
    compiled training loops. ``task_params`` holds ``{"component": [num_tasks]}`` (int32).

    Attributes:
        families: two or more task families with the same input and output widths.
        probabilities: one per family, ≥ 0, summing to 1; default uniform.
    """

    families: tuple
    probabilities: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        families = tuple(self.families) if isinstance(self.families, Sequence) else None
        if not families or len(families) < 2 or not all(hasattr(f, "sample") for f in families):
            raise ValueError("families must be a sequence of two or more task families (objects with sample())")
        object.__setattr__(self, "families", families)
        probs = np.full(len(families), 1.0 / len(families)) if self.probabilities is None \
            else np.asarray(self.probabilities, dtype=np.float64)
        if probs.shape != (len(families),) or not np.all(np.isfinite(probs)) or np.any(probs < 0) \
                or abs(probs.sum() - 1.0) > 1e-6:
            raise ValueError(f"probabilities must be {len(families)} numbers >= 0 summing to 1, "
                             f"got {self.probabilities!r}")
        object.__setattr__(self, "probabilities", tuple(float(p) for p in probs))

    def sample(self, num_tasks: int, num_shots: int, num_query: int | None = None, *, seed: SeedLike) -> TaskBatch:
        """Draw ``num_tasks`` tasks, each from its component (arguments as :meth:`SinusoidFamily.sample`)."""
        num_tasks = check_int("num_tasks", num_tasks)
        seeds = tf.random.experimental.stateless_split(seed_pair(seed), num=len(self.families) + 1, alg="philox")
        batches = [family.sample(num_tasks, num_shots, num_query, seed=seeds[i + 1])
                   for i, family in enumerate(self.families)]
        cumulative = tf.constant(np.cumsum(self.probabilities)[:-1], tf.float32)
        u = uniform01([num_tasks], seeds[0], tf.float32)
        component = tf.reduce_sum(tf.cast(u[:, tf.newaxis] >= cumulative[tf.newaxis, :], tf.int32), axis=1)

        def pick(name: str) -> tf.Tensor:
            stacked = tf.stack([getattr(b, name) for b in batches], axis=1)  # [tasks, families, points, d]
            return tf.gather(stacked, component, axis=1, batch_dims=1)

        return TaskBatch(pick("support_x"), pick("support_y"), pick("query_x"), pick("query_y"),
                         {"component": component})
