"""Task streams for online (adaptive) learning: a sinusoid that changes while you learn.

Chapter ``08_applications``. A *stream* is a sequence of tasks T_0, T_1, …, T_{T−1}, one per round;
at round t the learner sees K support points of T_t and is scored on query points of T_t (the
protocol of :mod:`metalearn_lib.applications.online`). Many independent streams are sampled at
once: the stream axis is the leading axis of every tensor and plays the role of chapter 2's task
axis, so :func:`metalearn_lib.two_level.adapt` adapts all streams of one round together.

Two streams of sinusoids y = A_t·sin(x − φ_t), x ~ U[−5, 5]:

- :class:`DriftingSinusoidStream` — (A_t, φ_t) take a small Gaussian random-walk step every round,
  A reflected into ``amplitude_range`` (which may reach beyond the training family's [0.1, 5], so
  the stream wanders out of distribution), φ free (reported modulo 2π: the MAML family covers only
  φ ∈ [0, π], the other half of the circle is out of distribution too); with probability
  ``jump_probability`` a round instead redraws (A, φ) from a wide range (a jump).
- :class:`SwitchingSinusoidStream` — each stream owns a few fixed regimes (A_r, φ_r) drawn from
  the MAML family; the active regime switches to another one at random rounds (hazard rate
  ``switch_probability``).

Sampling is stateless (Philox, :func:`metalearn_lib.tasks.seed_pair`): the same seed gives the
same streams in eager mode, in a ``tf.function`` and in any process.

Imports only the ground floor (:mod:`metalearn_lib.tasks`) and the utilities
(:mod:`metalearn_lib.validation`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import tensorflow as tf

from metalearn_lib.tasks import SeedLike, SinusoidFamily, TaskBatch, normal01, seed_pair, uniform01
from metalearn_lib.validation import check_dtype, check_int, check_number, check_range, check_unit

__all__ = [
    "TRAINING_AMPLITUDE_RANGE",
    "TRAINING_PHASE_RANGE",
    "DriftingSinusoidStream",
    "StreamBatch",
    "SwitchingSinusoidStream",
    "reflect_into",
]

#: The MAML sinusoid family's amplitude and phase ranges (chapter 2's training distribution).
TRAINING_AMPLITUDE_RANGE: tuple[float, float] = (0.1, 5.0)
TRAINING_PHASE_RANGE: tuple[float, float] = (0.0, math.pi)
_TWO_PI = 2.0 * math.pi
_ALG = "philox"


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _check_inside(name: str, inner: tuple[float, float], outer_name: str,
                  outer: tuple[float, float]) -> None:
    if inner[0] < outer[0] or inner[1] > outer[1]:
        raise ValueError(f"{name} {inner} must lie inside {outer_name} {outer}")


def reflect_into(values: tf.Tensor, low: float, high: float) -> tf.Tensor:
    """Fold ``values`` into [low, high] by reflecting at both walls (as often as needed).

    With L = high − low and u = (v − low) mod 2L: v ↦ low + (L − abs(u − L)). Inside the interval
    it is the identity (exactly); a value a little above ``high`` comes back as high − (v − high).
    """
    width = high - low
    folded = tf.math.floormod(values - low, 2.0 * width)
    inside = (values >= low) & (values <= high)
    return tf.where(inside, values, low + (width - tf.abs(folded - width)))  # exact inside


def _uniform(shape: list[int], seed: tf.Tensor, value_range: tuple[float, float],
             dtype: tf.DType) -> tf.Tensor:
    low, high = value_range
    return tf.cast(low + (high - low) * uniform01(shape, seed, tf.float32), dtype)


def _uniform_int(shape: list[int], seed: tf.Tensor, num_values: int) -> tf.Tensor:
    """Integers uniform on {0, …, num_values − 1}: ⌊u·n⌋ (u < 1, so never n)."""
    return tf.cast(tf.floor(uniform01(shape, seed, tf.float64) * num_values), tf.int32)


def _sinusoid_points(num_streams: int, num_rounds: int, num_points: int, seed: tf.Tensor,
                     amplitude: tf.Tensor, phase: tf.Tensor, x_range: tuple[float, float],
                     dtype: tf.DType) -> tuple[tf.Tensor, tf.Tensor]:
    """x ~ U[x_range] of shape [S, T, P, 1] and y = A_{s,t}·sin(x − φ_{s,t})."""
    x = _uniform([num_streams, num_rounds, num_points, 1], seed, x_range, dtype)
    flat = [num_streams * num_rounds, num_points, 1]
    y = SinusoidFamily.function(tf.reshape(x, flat), tf.reshape(amplitude, [-1]),
                                tf.reshape(phase, [-1]))
    return x, tf.reshape(y, x.shape)


def _check_counts(num_streams: int, num_shots: int, num_query: int) -> tuple[int, int, int]:
    return (check_int("num_streams", num_streams, 1), check_int("num_shots", num_shots, 1),
            check_int("num_query", num_query, 1))


# --------------------------------------------------------------------------------------------
# the batch
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StreamBatch:
    """Many independent task streams, every field a tensor with leading axes [streams, rounds].

    Attributes:
        support_x: ``[S, T, K, 1]`` the K support inputs of round t's task.
        support_y: ``[S, T, K, 1]`` their targets y = A_t·sin(x − φ_t).
        query_x: ``[S, T, Q, 1]`` the inputs round t is scored on.
        query_y: ``[S, T, Q, 1]`` their targets.
        amplitude: ``[S, T]`` A_t.
        phase: ``[S, T]`` φ_t, reported in [0, 2π).
        changed: ``[S, T]`` bool — round t's task changed abruptly (a jump of the drifting stream,
            a switch of the switching stream); round 0 is never marked.
        regime: ``[S, T]`` int32, the active regime (switching stream), else ``None``.
        regime_amplitude: ``[S, R]`` the regimes' amplitudes (switching stream), else ``None``.
        regime_phase: ``[S, R]`` the regimes' phases (switching stream), else ``None``.
    """

    support_x: tf.Tensor
    support_y: tf.Tensor
    query_x: tf.Tensor
    query_y: tf.Tensor
    amplitude: tf.Tensor
    phase: tf.Tensor
    changed: tf.Tensor
    regime: tf.Tensor | None = None
    regime_amplitude: tf.Tensor | None = None
    regime_phase: tf.Tensor | None = None

    @property
    def num_streams(self) -> int:
        """S, the number of independent streams."""
        return int(self.support_x.shape[0])

    @property
    def num_rounds(self) -> int:
        """T, the rounds of every stream."""
        return int(self.support_x.shape[1])

    @property
    def num_shots(self) -> int:
        """K, support points per round."""
        return int(self.support_x.shape[2])

    @property
    def num_query(self) -> int:
        """Query points per round."""
        return int(self.query_x.shape[2])

    def round(self, t: int) -> TaskBatch:
        """Round ``t`` of every stream as a chapter-2 :class:`~metalearn_lib.tasks.TaskBatch`
        (one task per stream)."""
        t = check_int("t", t, 0)
        if t >= self.num_rounds:
            raise ValueError(f"t must be an int in [0, {self.num_rounds - 1}], got {t}")
        return TaskBatch(self.support_x[:, t], self.support_y[:, t], self.query_x[:, t],
                         self.query_y[:, t],
                         {"amplitude": self.amplitude[:, t], "phase": self.phase[:, t]})

    def in_training_range(
        self,
        amplitude_range: tuple[float, float] = TRAINING_AMPLITUDE_RANGE,
        phase_range: tuple[float, float] = TRAINING_PHASE_RANGE,
    ) -> tf.Tensor:
        """``[S, T]`` bool: A_t ∈ ``amplitude_range`` and φ_t ∈ ``phase_range`` (default: the MAML
        family, A ∈ [0.1, 5], φ ∈ [0, π]) — the rounds whose task the meta-learner was trained on."""
        a_low, a_high = check_range("amplitude_range", amplitude_range)
        p_low, p_high = check_range("phase_range", phase_range)
        return ((self.amplitude >= a_low) & (self.amplitude <= a_high)
                & (self.phase >= p_low) & (self.phase <= p_high))


# --------------------------------------------------------------------------------------------
# a drifting sinusoid
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DriftingSinusoidStream:
    """A sinusoid y = A_t·sin(x − φ_t) whose amplitude and phase drift, with occasional jumps.

    Round 0: A_0 ~ U[initial_amplitude_range], φ_0 ~ U[initial_phase_range] (the MAML family by
    default). Round t ≥ 1, with J_t ~ Bernoulli(``jump_probability``):

    - J_t = 0 (drift): A_t = reflect(A_{t−1} + σ_A z_t) into ``amplitude_range``,
      φ_t = φ_{t−1} + σ_φ z'_t, with z_t, z'_t ~ N(0, 1);
    - J_t = 1 (jump): A_t ~ U[jump_amplitude_range], φ_t ~ U[jump_phase_range].

    φ_t is reported modulo 2π. The reflecting ``amplitude_range`` may extend beyond the training
    family's [0.1, 5] (e.g. (0.1, 10)): then the walk leaves the distribution MAML was trained on,
    which is the point of the experiment; the phase leaves it whenever φ_t mod 2π > π.

    Attributes:
        num_rounds: T >= 1.
        amplitude_drift: σ_A >= 0, the std of the amplitude's step.
        phase_drift: σ_φ >= 0, the std of the phase's step (radians).
        jump_probability: P(J_t = 1) in [0, 1].
        amplitude_range: the walls the amplitude is reflected at.
        initial_amplitude_range: A_0's range, inside ``amplitude_range``.
        initial_phase_range: φ_0's range.
        jump_amplitude_range: a jump's amplitude range, inside ``amplitude_range``; ``None``: all
            of ``amplitude_range``.
        jump_phase_range: a jump's phase range (default the whole circle [0, 2π)).
        x_range: the inputs' range, (−5, 5) as in MAML.
        dtype: floating dtype of every tensor.

    Raises:
        ValueError: a count < 1, a negative drift, a probability outside [0, 1], an empty range or
            one not inside ``amplitude_range`` (the message names the argument).
        TypeError: an argument of the wrong type.
    """

    num_rounds: int
    amplitude_drift: float
    phase_drift: float
    jump_probability: float
    amplitude_range: tuple[float, float] = TRAINING_AMPLITUDE_RANGE
    initial_amplitude_range: tuple[float, float] = TRAINING_AMPLITUDE_RANGE
    initial_phase_range: tuple[float, float] = TRAINING_PHASE_RANGE
    jump_amplitude_range: tuple[float, float] | None = None
    jump_phase_range: tuple[float, float] = (0.0, _TWO_PI)
    x_range: tuple[float, float] = (-5.0, 5.0)
    dtype: tf.DType = tf.float32

    def __post_init__(self) -> None:
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        put("num_rounds", check_int("num_rounds", self.num_rounds, 1))
        put("amplitude_drift", check_number("amplitude_drift", self.amplitude_drift, positive=False))
        put("phase_drift", check_number("phase_drift", self.phase_drift, positive=False))
        put("jump_probability", check_unit("jump_probability", self.jump_probability))
        for name in ("amplitude_range", "initial_amplitude_range", "initial_phase_range",
                     "jump_phase_range", "x_range"):
            put(name, check_range(name, getattr(self, name)))
        jump_range = self.amplitude_range if self.jump_amplitude_range is None else \
            check_range("jump_amplitude_range", self.jump_amplitude_range)
        put("jump_amplitude_range", jump_range)
        _check_inside("initial_amplitude_range", self.initial_amplitude_range, "amplitude_range",
                      self.amplitude_range)
        _check_inside("jump_amplitude_range", self.jump_amplitude_range, "amplitude_range",
                      self.amplitude_range)
        put("dtype", check_dtype(self.dtype))

    def sample(self, num_streams: int, num_shots: int, num_query: int, *, seed: SeedLike) -> StreamBatch:
        """Draw ``num_streams`` independent streams of ``num_rounds`` rounds.

        Args:
            num_streams: S >= 1.
            num_shots: K >= 1 support points per round.
            num_query: query points per round, >= 1.
            seed: int in [0, 2**63 − 1] or an int tensor of shape [2]; same seed, same streams.

        Returns:
            A :class:`StreamBatch` (``changed`` marks the jumps; no regimes).
        """
        num_streams, num_shots, num_query = _check_counts(num_streams, num_shots, num_query)
        num_rounds, dtype = self.num_rounds, self.dtype
        seeds = tf.random.experimental.stateless_split(seed_pair(seed), num=9, alg=_ALG)
        steps = [num_rounds - 1, num_streams]  # rounds 1..T−1, round-major for the scan
        amplitude_0 = _uniform([num_streams], seeds[0], self.initial_amplitude_range, tf.float32)
        phase_0 = _uniform([num_streams], seeds[1], self.initial_phase_range, tf.float32)
        amplitude_steps = self.amplitude_drift * normal01(steps, seeds[2], tf.float32)
        phase_steps = self.phase_drift * normal01(steps, seeds[3], tf.float32)
        jumps = uniform01(steps, seeds[4], tf.float32) < self.jump_probability
        jump_amplitude = _uniform(steps, seeds[5], self.jump_amplitude_range, tf.float32)
        jump_phase = _uniform(steps, seeds[6], self.jump_phase_range, tf.float32)
        low, high = self.amplitude_range

        def one_round(state: tuple[tf.Tensor, tf.Tensor], inputs: tuple[tf.Tensor, ...]
                      ) -> tuple[tf.Tensor, tf.Tensor]:
            amplitude, phase = state
            step_a, step_p, jump, new_a, new_p = inputs
            drifted_a = reflect_into(amplitude + step_a, low, high)  # A + σ_A z, reflected
            return tf.where(jump, new_a, drifted_a), tf.where(jump, new_p, phase + step_p)

        if num_rounds > 1:
            later_a, later_p = tf.scan(one_round, (amplitude_steps, phase_steps, jumps,
                                                   jump_amplitude, jump_phase),
                                       initializer=(amplitude_0, phase_0))
            amplitude = tf.concat([amplitude_0[tf.newaxis], later_a], axis=0)
            phase = tf.concat([phase_0[tf.newaxis], later_p], axis=0)
            changed = tf.concat([tf.zeros([1, num_streams], tf.bool), jumps], axis=0)
        else:
            amplitude, phase = amplitude_0[tf.newaxis], phase_0[tf.newaxis]
            changed = tf.zeros([1, num_streams], tf.bool)
        amplitude = tf.cast(tf.transpose(amplitude), dtype)  # [S, T]
        phase = tf.cast(tf.math.floormod(tf.transpose(phase), _TWO_PI), dtype)
        support_x, support_y = _sinusoid_points(num_streams, num_rounds, num_shots, seeds[7],
                                                amplitude, phase, self.x_range, dtype)
        query_x, query_y = _sinusoid_points(num_streams, num_rounds, num_query, seeds[8],
                                            amplitude, phase, self.x_range, dtype)
        return StreamBatch(support_x, support_y, query_x, query_y, amplitude, phase,
                           tf.transpose(changed))


# --------------------------------------------------------------------------------------------
# a sinusoid switching between regimes
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SwitchingSinusoidStream:
    """A task that switches between a few fixed sinusoid regimes at random rounds.

    Each stream draws ``num_regimes`` regimes (A_r, φ_r), A_r ~ U[amplitude_range],
    φ_r ~ U[phase_range] (the MAML family by default), and a first regime r_0 uniformly. Round
    t ≥ 1 switches with probability ``switch_probability`` (S_t ~ Bernoulli(p), the hazard rate)
    to one of the *other* regimes, uniformly: r_t = (r_{t−1} + S_t·(1 + u_t)) mod R with
    u_t ~ U{0, …, R − 2}; so every switch changes the task. Round t's task is
    y = A_{r_t}·sin(x − φ_{r_t}).

    Attributes:
        num_rounds: T >= 1.
        num_regimes: R >= 1 (>= 2 when ``switch_probability`` > 0).
        switch_probability: the hazard rate p in [0, 1].
        amplitude_range: the regimes' amplitude range.
        phase_range: the regimes' phase range.
        x_range: the inputs' range.
        dtype: floating dtype of every tensor.

    Raises:
        ValueError: a count out of range, a probability outside [0, 1], a switching stream with
            one regime, an empty range (the message names the argument).
        TypeError: an argument of the wrong type.
    """

    num_rounds: int
    num_regimes: int
    switch_probability: float
    amplitude_range: tuple[float, float] = TRAINING_AMPLITUDE_RANGE
    phase_range: tuple[float, float] = TRAINING_PHASE_RANGE
    x_range: tuple[float, float] = (-5.0, 5.0)
    dtype: tf.DType = tf.float32

    def __post_init__(self) -> None:
        object.__setattr__(self, "num_rounds", check_int("num_rounds", self.num_rounds, 1))
        object.__setattr__(self, "num_regimes", check_int("num_regimes", self.num_regimes, 1))
        object.__setattr__(self, "switch_probability",
                           check_unit("switch_probability", self.switch_probability))
        if self.num_regimes == 1 and self.switch_probability > 0:
            raise ValueError("num_regimes must be >= 2 when switch_probability > 0 (a switch goes to "
                             "another regime), got 1")
        for name in ("amplitude_range", "phase_range", "x_range"):
            object.__setattr__(self, name, check_range(name, getattr(self, name)))
        object.__setattr__(self, "dtype", check_dtype(self.dtype))

    def sample(self, num_streams: int, num_shots: int, num_query: int, *, seed: SeedLike) -> StreamBatch:
        """Draw ``num_streams`` independent switching streams (each with its own regimes).

        Args:
            num_streams: S >= 1.
            num_shots: K >= 1 support points per round.
            num_query: query points per round, >= 1.
            seed: int in [0, 2**63 − 1] or an int tensor of shape [2]; same seed, same streams.

        Returns:
            A :class:`StreamBatch` with ``regime`` ``[S, T]``, ``regime_amplitude`` and
            ``regime_phase`` ``[S, R]``; ``changed`` marks the switches.
        """
        num_streams, num_shots, num_query = _check_counts(num_streams, num_shots, num_query)
        num_rounds, num_regimes, dtype = self.num_rounds, self.num_regimes, self.dtype
        seeds = tf.random.experimental.stateless_split(seed_pair(seed), num=7, alg=_ALG)
        regime_amplitude = _uniform([num_streams, num_regimes], seeds[0], self.amplitude_range, dtype)
        regime_phase = _uniform([num_streams, num_regimes], seeds[1], self.phase_range, dtype)
        first = _uniform_int([num_streams, 1], seeds[2], num_regimes)
        switches = uniform01([num_streams, num_rounds], seeds[3], tf.float32) < self.switch_probability
        switches = tf.concat([tf.zeros([num_streams, 1], tf.bool), switches[:, 1:]], axis=1)
        offsets = 1 + _uniform_int([num_streams, num_rounds], seeds[4], max(num_regimes - 1, 1))
        moves = tf.where(switches, offsets, 0)  # S_t·(1 + u_t)
        regime = tf.math.floormod(first + tf.cumsum(moves, axis=1), num_regimes)  # [S, T]
        amplitude = tf.gather(regime_amplitude, regime, batch_dims=1)
        phase = tf.gather(regime_phase, regime, batch_dims=1)
        support_x, support_y = _sinusoid_points(num_streams, num_rounds, num_shots, seeds[5],
                                                amplitude, phase, self.x_range, dtype)
        query_x, query_y = _sinusoid_points(num_streams, num_rounds, num_query, seeds[6],
                                            amplitude, phase, self.x_range, dtype)
        return StreamBatch(support_x, support_y, query_x, query_y, amplitude, phase, switches,
                           regime=regime, regime_amplitude=regime_amplitude,
                           regime_phase=regime_phase)
