"""Tests for metalearn_lib.optim.run_in_chunks, the driver of every compiled training loop."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.optim import run_in_chunks


def _counting_chunk(calls: list[tuple[int, int]]):
    """A chunk function whose carry is a running sum and whose metrics are the iteration indices."""

    def run_chunk(carry, first, length):
        calls.append((int(first), length))
        indices = first + tf.range(length, dtype=tf.int64)
        return carry + tf.reduce_sum(indices), tf.cast(indices, tf.float32)

    return run_chunk


@pytest.mark.parametrize(("num_iterations", "per_call", "start"), [(10, 3, 0), (7, 7, 5), (5, 100, 2), (1, 1, 0)])
def test_chunks_cover_every_iteration_once_in_order(num_iterations, per_call, start) -> None:
    calls: list[tuple[int, int]] = []
    carry, metrics, wall_s = run_in_chunks(_counting_chunk(calls), tf.constant(0, tf.int64),
                                           num_iterations=num_iterations, start=start, iterations_per_call=per_call)
    expected = np.arange(start, start + num_iterations)
    np.testing.assert_array_equal(metrics, expected)
    assert int(carry) == expected.sum()
    assert [c[1] for c in calls][:-1] == [per_call] * (len(calls) - 1)
    assert sum(c[1] for c in calls) == num_iterations and calls[0][0] == start
    assert wall_s >= 0.0


def test_progress_bar_and_postfix_run() -> None:
    seen: list[float] = []

    def postfix(chunk: np.ndarray) -> dict[str, str]:
        seen.append(float(chunk.mean()))
        return {"mean": f"{chunk.mean():.1f}"}

    _, metrics, _ = run_in_chunks(_counting_chunk([]), tf.constant(0, tf.int64), num_iterations=6,
                                  iterations_per_call=4, progress=True, desc="test", postfix=postfix)
    assert seen == [1.5, 4.5] and metrics.shape == (6,)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [({"num_iterations": 0}, ValueError, "num_iterations"), ({"num_iterations": 2.0}, TypeError, "num_iterations"),
     ({"num_iterations": 3, "start": -1}, ValueError, "start"),
     ({"num_iterations": 3, "iterations_per_call": 0}, ValueError, "iterations_per_call"),
     ({"num_iterations": True}, TypeError, "num_iterations")],
)
def test_counts_are_validated(kwargs, error, name) -> None:
    with pytest.raises(error, match=name):
        run_in_chunks(_counting_chunk([]), tf.constant(0, tf.int64), **kwargs)


def test_automatic_progress_bar_opens_only_for_long_runs(monkeypatch) -> None:
    import metalearn_lib.optim as optim

    calls: list[int] = []
    for threshold, expected_calls in ((1e9, 0), (-1.0, 2)):  # never, or from the second chunk on
        monkeypatch.setattr(optim, "AUTO_PROGRESS_S", threshold)
        calls.clear()
        run_in_chunks(_counting_chunk([]), tf.constant(0, tf.int64), num_iterations=9, iterations_per_call=3,
                      progress=None, postfix=lambda chunk: calls.append(len(chunk)) or {})
        assert len(calls) == expected_calls, threshold


def test_compiled_training_loop_runs_each_iteration_in_order_and_resumes_exactly() -> None:
    from metalearn_lib.optim import compile_training_loop

    def one_iteration(carry, iteration, scale):
        total, count = carry
        return (total + scale * tf.cast(iteration, tf.float64), count + 1), tf.stack(
            [tf.cast(iteration, tf.float64), total])

    run_chunk = compile_training_loop(one_iteration)
    carry0 = (tf.constant(0.0, tf.float64), tf.constant(0, tf.int64))
    scale = tf.constant(2.0, tf.float64)
    whole, metrics, _ = run_in_chunks(run_chunk, carry0, num_iterations=7, iterations_per_call=3, constants=(scale,))
    assert metrics.shape == (7, 2) and metrics.dtype == np.float64
    np.testing.assert_array_equal(metrics[:, 0], np.arange(7))
    assert float(whole[0]) == 2.0 * sum(range(7)) and int(whole[1]) == 7
    half, _, _ = run_in_chunks(run_chunk, carry0, num_iterations=4, constants=(scale,))
    rest, _, _ = run_in_chunks(run_chunk, half, num_iterations=3, start=4, constants=(scale,))
    assert float(rest[0]) == float(whole[0]) and int(rest[1]) == 7
    with pytest.raises(TypeError, match="one_iteration must be callable"):
        compile_training_loop(3)


def test_build_cached_reuses_hashable_configurations_and_builds_unhashable_afresh() -> None:
    from metalearn_lib.optim import build_cached

    built: list[tuple] = []

    def builder(*static):
        built.append(static)
        return object()

    first = build_cached(builder, 1, "relu")
    assert build_cached(builder, 1, "relu") is first
    assert build_cached(builder, 2, "relu") is not first
    assert len(built) == 2
    unhashable = [1]
    a, b = build_cached(builder, unhashable), build_cached(builder, unhashable)
    assert a is not b and len(built) == 4


def test_the_false_retracing_alarm_of_separate_chunk_functions_is_filtered_and_only_that(caplog):
    import logging

    from metalearn_lib.optim import ChunkRetracingFilter, compile_training_loop

    def one_iteration(carry, iteration, step):
        return carry + step, carry

    caplog.set_level(logging.WARNING, logger="tensorflow")
    for k in range(8):  # eight learners, each with its own compiled loop, as a notebook compares them
        compile_training_loop(one_iteration)(tf.constant(0.0), tf.constant(0, tf.int64), 2, tf.constant(float(k)))
    assert not [r for r in caplog.records if "retracing" in r.getMessage()]
    filt = ChunkRetracingFilter()
    def record(function):
        message = f"5 out of the last 5 calls to <function {function} at 0x1> triggered tf.function retracing."
        return logging.LogRecord("tensorflow", logging.WARNING, "", 0, message, (), None)

    ours, other = record("compile_training_loop.<locals>.run_chunk"), record("learner_step")
    assert not filt.filter(ours) and filt.filter(other)
