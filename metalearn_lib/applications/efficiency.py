"""Sample efficiency: how many points of a new task each start needs to reach a target error.

For each K of a grid, every start is fine-tuned on K support points of the same test tasks and
scored on 100 query points; the *points needed* for a target MSE is the smallest K of the grid
whose mean query MSE is at or below it (``None`` if no K on the grid reaches it).

A learner with a prior fine-tunes with a few SGD steps (its own protocol, chapter 2's); a network
from scratch gets what it needs instead — many full-batch Adam steps (:func:`fine_tune_adam`) —
so the comparison is about data, not about the optimiser's budget.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from metalearn_lib.applications.starting_points import StartingPoint
from metalearn_lib.models import forward, is_batched, mse, tile_params
from metalearn_lib.optim import AdamState, adam_init, adam_update, build_cached, compile_training_loop, run_in_chunks
from metalearn_lib.tasks import TaskFamily
from metalearn_lib.two_level import adapt
from metalearn_lib.validation import check_int, check_number, check_rate

__all__ = ["SampleEfficiency", "fine_tune_adam", "points_needed", "sample_efficiency"]


@functools.lru_cache(maxsize=8)
def _adam_chunk(jit_compile: bool) -> Any:
    def one_iteration(carry: tuple[list[tf.Tensor], AdamState], step: tf.Tensor, support_x: tf.Tensor,
                      support_y: tf.Tensor, learning_rate: tf.Tensor) -> tuple[tuple[list[tf.Tensor], AdamState],
                                                                                 tf.Tensor]:
        params, state = carry
        with tf.GradientTape() as tape:
            tape.watch(params)
            task_mse = mse(forward(params, support_x), support_y)
            loss = tf.reduce_sum(task_mse)  # each task's slice of the gradient is its own
        params, state = adam_update(params, tape.gradient(loss, params), state, learning_rate=learning_rate)
        return (params, state), tf.reduce_mean(task_mse)

    return compile_training_loop(one_iteration, jit_compile=jit_compile)


def fine_tune_adam(
    params: Sequence[tf.Tensor],
    support_x: tf.Tensor,
    support_y: tf.Tensor,
    *,
    num_steps: int = 1000,
    learning_rate: float = 1e-2,
    jit_compile: bool = True,
) -> list[tf.Tensor]:
    """θ_i ← Adam(θ_i, ∇L_i^support(θ_i)) for ``num_steps`` full-batch steps, every task at once.

    Args:
        params: shared θ (tiled to one copy per task) or per-task parameters.
        support_x, support_y: ``[num_tasks, num_shots, 1]``.
        num_steps: ≥ 1.
        learning_rate: Adam's rate, > 0.
        jit_compile: compile with XLA.

    Returns:
        The per-task parameters after training.
    """
    num_steps = check_int("num_steps", num_steps)
    learning_rate = check_rate("learning_rate", learning_rate)
    support_x = tf.convert_to_tensor(support_x)
    support_y = tf.convert_to_tensor(support_y, support_x.dtype)
    params = [tf.convert_to_tensor(p) for p in params]
    per_task = params if is_batched(params) else tile_params(params, int(support_x.shape[0]))
    run_chunk = build_cached(_adam_chunk, jit_compile)
    (per_task, _), _, _ = run_in_chunks(run_chunk, (per_task, adam_init(per_task)), num_iterations=num_steps,
                                        iterations_per_call=num_steps, progress=False,
                                        constants=(support_x, support_y, tf.constant(learning_rate, support_x.dtype)))
    return list(per_task)


@dataclass(frozen=True)
class SampleEfficiency:
    """Mean query MSE ± 95 % CI against the number of support points K, for one start.

    Attributes:
        name: the start's name.
        shots: the K grid.
        mean_mse, ci95: per K.
        protocol: how the start was fine-tuned (e.g. ``"10 SGD steps, α = 0.01"``).
    """

    name: str
    shots: tuple[int, ...]
    mean_mse: tuple[float, ...]
    ci95: tuple[float, ...]
    protocol: str

    def points_needed(self, target_mse: float) -> int | None:
        """The smallest K whose mean MSE is ≤ ``target_mse`` (``None`` if none is)."""
        return points_needed(self.shots, self.mean_mse, target_mse)


def points_needed(shots: Sequence[int], mean_mse: Sequence[float], target_mse: float) -> int | None:
    """The smallest K in ``shots`` with ``mean_mse[K] <= target_mse``, or ``None``."""
    target_mse = check_number("target_mse", target_mse)
    for k, m in zip(shots, mean_mse, strict=True):
        if math.isfinite(m) and m <= target_mse:
            return int(k)
    return None


def sample_efficiency(
    start: StartingPoint,
    family: TaskFamily,
    *,
    shots: Sequence[int] = (1, 2, 5, 10, 20, 40, 80, 160),
    optimiser: str = "sgd",
    num_steps: int = 10,
    learning_rate: float = 1e-2,
    num_tasks: int = 200,
    num_query: int = 100,
    seed: int = 30_000,
) -> SampleEfficiency:
    """Query MSE after fine-tuning ``start`` on K points, for each K in ``shots``.

    ``optimiser="sgd"``: ``num_steps`` SGD steps with the start's own α (chapter 2's protocol);
    ``"adam"``: ``num_steps`` full-batch Adam steps with ``learning_rate`` (:func:`fine_tune_adam`).
    The test tasks for K are ``family.sample(num_tasks, K, num_query, seed=seed + K)``.

    Raises:
        ValueError, TypeError: an argument out of range (named).
    """
    if not isinstance(start, StartingPoint):
        raise TypeError(f"start must be a StartingPoint, got {type(start).__name__}")
    if optimiser not in ("sgd", "adam"):
        raise ValueError(f"optimiser must be 'sgd' or 'adam', got {optimiser!r}")
    shots = tuple(check_int("shots", k) for k in shots)
    if not shots or list(shots) != sorted(set(shots)):
        raise ValueError(f"shots must be a non-empty increasing sequence of ints >= 1, got {shots}")
    num_steps = check_int("num_steps", num_steps)
    num_tasks = check_int("num_tasks", num_tasks, 2)
    seed = check_int("seed", seed, 0)
    means, cis = [], []
    for k in shots:
        batch = family.sample(num_tasks, k, num_query, seed=seed + k)
        if optimiser == "sgd":
            adapted = adapt(start.params, batch.support_x, batch.support_y, inner_lr=start.inner_lr,
                            num_inner_steps=num_steps, first_order=True)
        else:
            adapted = fine_tune_adam(start.params, batch.support_x, batch.support_y, num_steps=num_steps,
                                     learning_rate=learning_rate)
        per_task = mse(forward(adapted, batch.query_x), batch.query_y).numpy().astype(np.float64)
        means.append(float(per_task.mean()))
        cis.append(float(1.96 * per_task.std() / math.sqrt(num_tasks)))
    protocol = (f"{num_steps} SGD steps with the start's α" if optimiser == "sgd"
                else f"{num_steps} Adam steps, learning rate {learning_rate:g}")
    return SampleEfficiency(start.name, shots, tuple(means), tuple(cis), protocol)
