"""Optimisers written as pure functions on parameter lists, for use inside ``tf.function``.

Chapters 1 and 2 (and later ones) meta-train explicit parameter lists — a learned prior, an
MLP initialisation — so the optimiser state is explicit too: a :class:`AdamState` goes in, a new
one comes out, nothing hides in a Keras optimiser.

Training loops compile a *chunk* of iterations into one ``tf.function`` call (Python runs once
per chunk, not once per step). Every trainer of the course writes only its ``one_iteration``;
:func:`compile_training_loop` turns it into the chunk function (the one in-graph ``tf.range``
loop of the library), :func:`run_in_chunks` drives that over a whole run with an optional
``tqdm.auto`` progress bar, and :func:`build_cached` reuses a compiled chunk for the same static
configuration.

Each configuration (a learner, a stream, a network size) compiles its own chunk function on
purpose, so a notebook that compares several learners traces several of them. TensorFlow's
"N out of the last M calls … triggered tf.function retracing" warning counts those first traces
of *different* functions as retracing and prints a false alarm into the notebook; a logging filter
(:class:`ChunkRetracingFilter`) drops that warning for the chunk functions made here, and only for
them — a real retrace elsewhere still warns.

Ground floor: imports nothing of the course.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import tensorflow as tf

__all__ = ["AUTO_PROGRESS_S", "AdamState", "ChunkRetracingFilter", "adam_init", "adam_update", "build_cached",
           "compile_training_loop", "run_in_chunks"]

#: With ``progress=None``, :func:`run_in_chunks` opens a progress bar once the rest of the run is
#: predicted to take longer than this many seconds.
AUTO_PROGRESS_S = 3.0


class ChunkRetracingFilter(logging.Filter):
    """Drops TensorFlow's retracing warning when it is about this module's chunk functions."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("triggered tf.function retracing" in message
                    and "compile_training_loop.<locals>.run_chunk" in message)


_TF_LOGGER = logging.getLogger("tensorflow")
if not any(isinstance(f, ChunkRetracingFilter) for f in _TF_LOGGER.filters):
    _TF_LOGGER.addFilter(ChunkRetracingFilter())


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


def compile_training_loop(
    one_iteration: Callable[..., tuple[Any, Any]],
    *,
    jit_compile: bool = False,
    metrics_dtype: tf.DType | None = None,
) -> Callable[..., tuple[Any, tf.Tensor]]:
    """The compiled chunk of a training loop: ``length`` iterations of ``one_iteration`` in one call.

    ``one_iteration(carry, iteration, *constants) -> (carry, metrics)`` maps the training state
    (any nest of tensors — parameters, optimiser state, … — whose structure and dtypes stay the
    same) at iteration t (an int64 scalar tensor, counted over the whole run) to the next state
    and that iteration's metrics (a scalar or a fixed-shape tensor). ``constants`` are tensors
    that stay fixed during a run (a seed, step sizes …): passed as tensors, changing them does not
    retrace.

    Returns ``run_chunk(carry, start, length, *constants) -> (carry, metrics [length, ...])``, a
    ``tf.function`` (XLA with ``jit_compile``) running t = start … start + length − 1 in one
    ``tf.range`` loop; the metrics are cast to ``metrics_dtype`` (default: the dtype of the
    carry's first floating tensor). Drive it with :func:`run_in_chunks`.
    """
    if not callable(one_iteration):
        raise TypeError(f"one_iteration must be callable, got {type(one_iteration).__name__}")
    if not isinstance(jit_compile, bool):
        raise TypeError(f"jit_compile must be a bool, got {type(jit_compile).__name__}")

    @tf.function(jit_compile=jit_compile)
    def run_chunk(carry: Any, start: tf.Tensor, length: int, *constants: Any) -> tuple[Any, tf.Tensor]:
        dtype = metrics_dtype
        if dtype is None:
            floats = [t.dtype for t in tf.nest.flatten(carry) if tf.as_dtype(t.dtype).is_floating]
            dtype = floats[0] if floats else tf.float32
        record = tf.TensorArray(dtype, size=length)
        for i in tf.range(length, dtype=tf.int64):
            carry, metrics = one_iteration(carry, start + i, *constants)
            record = record.write(tf.cast(i, tf.int32), tf.cast(metrics, dtype))
        return carry, record.stack()

    return run_chunk


def build_cached(builder: Callable[..., Any], *static: Any) -> Any:
    """``builder(*static)``, reusing earlier results for the same hashable ``static`` arguments.

    Compiled chunk functions are expensive to build and trace, so trainers cache them per static
    configuration (environment, sizes, flags). ``builder`` may be a plain function (cached here,
    per builder, up to 32 configurations) or one already wrapped in ``functools.lru_cache``.
    Unhashable arguments (say, an activation given as a lambda inside a list) build afresh.
    """
    try:
        hash(static)
    except TypeError:
        return getattr(builder, "__wrapped__", builder)(*static)
    cached = builder if hasattr(builder, "cache_info") else _lru_for(builder)
    return cached(*static)


@functools.cache
def _lru_for(builder: Callable[..., Any]) -> Callable[..., Any]:
    return functools.lru_cache(maxsize=32)(builder)


def run_in_chunks(
    run_chunk: Callable[[Any, tf.Tensor, int], tuple[Any, tf.Tensor]],
    carry: Any,
    *,
    num_iterations: int,
    start: int = 0,
    iterations_per_call: int = 100,
    progress: bool | None = False,
    desc: str = "",
    postfix: Callable[[np.ndarray], dict[str, str]] | None = None,
    constants: Sequence[Any] = (),
) -> tuple[Any, np.ndarray, float]:
    """Run ``num_iterations`` iterations of a compiled chunk function, chunk by chunk.

    Calls ``run_chunk(carry, first, length, *constants)`` with ``first`` = start, start + L, start + 2L, …
    (an int64 scalar tensor: the absolute index of the chunk's first iteration) and
    L = ``iterations_per_call`` (the last chunk shorter), threading ``carry`` through. Each call
    returns the new carry and ``[length, ...]`` per-iteration metrics.

    Args:
        run_chunk: the chunk function (usually a ``tf.function``).
        carry: the state going in (parameters, optimiser state, …).
        num_iterations: iterations to run, ≥ 1.
        start: index of the first iteration (≥ 0; > 0 when resuming).
        iterations_per_call: L ≥ 1.
        progress: show a ``tqdm.auto`` progress bar; ``None``: only once a chunk after the first
            (the first includes tracing) predicts the rest will take more than
            :data:`AUTO_PROGRESS_S` seconds.
        desc: the bar's label.
        postfix: maps the last chunk's metrics to the bar's postfix (e.g. the recent loss).
        constants: fixed tensors passed on to every call (see :func:`compile_training_loop`).

    Returns:
        ``(carry, metrics, wall_s)``: the final state, the metrics of all iterations stacked
        (``[num_iterations, ...]``) and the seconds spent (tracing and compiling included).

    Raises:
        ValueError, TypeError: a count out of range or not an int.
    """
    for name, value, low in (("num_iterations", num_iterations, 1), ("start", start, 0),
                             ("iterations_per_call", iterations_per_call, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value}")
    from tqdm.auto import tqdm

    def open_bar(initial: int) -> Any:
        return tqdm(total=int(num_iterations), initial=initial, desc=desc, unit="it", mininterval=1.0)

    bar = open_bar(0) if progress else None
    chunks: list[np.ndarray] = []
    t0 = time.perf_counter()
    done = 0
    while done < num_iterations:
        length = int(min(iterations_per_call, num_iterations - done))
        t_chunk = time.perf_counter()
        carry, metrics = run_chunk(carry, tf.constant(start + done, tf.int64), length, *constants)
        chunks.append(np.asarray(metrics))
        done += length
        remaining_s = (time.perf_counter() - t_chunk) / length * (num_iterations - done)
        if bar is None and progress is None and len(chunks) >= 2 and remaining_s > AUTO_PROGRESS_S:
            bar = open_bar(done)
        elif bar is not None:
            bar.update(length)
        if bar is not None and postfix is not None:
            bar.set_postfix(postfix(chunks[-1]), refresh=False)
    wall_s = time.perf_counter() - t0
    if bar is not None:
        bar.close()
    return carry, np.concatenate(chunks), wall_s
