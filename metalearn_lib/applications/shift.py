"""Fine-tuning a start on test families near and far from its training family.

:func:`evaluate_start` is chapter 2's evaluation (:func:`metalearn_lib.two_level.evaluate_fine_tuning`:
K support points, plain SGD with the start's α, the same points at every step, mean query MSE ±
1.96·std/√N over N test tasks) for a :class:`~metalearn_lib.applications.starting_points.StartingPoint`,
plus the *normalised* MSE, ::

    nMSE = mean_i L_i^query / mean_i mean_j (y_ij^query)²,

the fraction of the test family's target power left unexplained (1 for the zero predictor), which
stays comparable when a shift makes the targets larger (its CI is the MSE's, scaled alike). Plain SGD
with a step tuned for the training family can blow up on larger targets, so each evaluation also
reports the median task's nMSE and the fraction of tasks whose fine-tuning *diverged* (query MSE not
finite or above :data:`DIVERGED_NMSE` times the targets' mean square).
:func:`shift_rows` runs it over the grids of :data:`~metalearn_lib.applications.families.SHIFT_GRIDS`
and the other families.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from metalearn_lib.applications.families import SHIFT_GRIDS, shifted_family
from metalearn_lib.applications.starting_points import StartingPoint
from metalearn_lib.tasks import TaskFamily
from metalearn_lib.two_level import evaluate_fine_tuning
from metalearn_lib.validation import check_int, check_rate

__all__ = ["DIVERGED_NMSE", "LR_GRID", "StartEvaluation", "evaluate_start", "shift_rows", "tuned_inner_lr"]

#: The SGD steps :func:`tuned_inner_lr` chooses from (chapter 2's grid for the pretrained baseline).
LR_GRID: tuple[float, ...] = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)

#: A task's fine-tuning counts as diverged when its query MSE exceeds this many times the test
#: family's mean square target (ten times worse than predicting 0), or is not finite.
DIVERGED_NMSE = 10.0


@dataclass(frozen=True)
class StartEvaluation:
    """Query error after fine-tuning one start on one test family.

    Attributes:
        name: the start's name.
        steps: the SGD step counts evaluated.
        mean_mse, ci95: mean query MSE over tasks and its 95 % CI, per step count.
        mean_nmse, nmse_ci95: the same for the normalised MSE (see the module docstring).
        per_task_mse: ``[len(steps), num_tasks]``.
        num_shots: K.
        target_power: mean_i mean_j (y_ij^query)², the zero predictor's MSE on these tasks.
        median_nmse: the median task's MSE over ``target_power``, per step count.
        diverged_fraction: the fraction of tasks whose fine-tuning diverged, per step count.
    """

    name: str
    steps: tuple[int, ...]
    mean_mse: tuple[float, ...]
    ci95: tuple[float, ...]
    mean_nmse: tuple[float, ...]
    nmse_ci95: tuple[float, ...]
    per_task_mse: np.ndarray
    num_shots: int
    target_power: float
    median_nmse: tuple[float, ...]
    diverged_fraction: tuple[float, ...]

    def at(self, steps: int) -> tuple[float, float]:
        """``(mean_mse, ci95)`` after ``steps`` steps."""
        i = self.steps.index(steps)
        return self.mean_mse[i], self.ci95[i]


def evaluate_start(
    start: StartingPoint,
    family: TaskFamily,
    *,
    num_tasks: int = 600,
    num_shots: int = 5,
    num_query: int = 100,
    steps: Sequence[int] = (0, 1, 10),
    seed: int = 10_005,
) -> StartEvaluation:
    """Fine-tune ``start`` with its own α on K points of each test task of ``family``.

    The test tasks are ``family.sample(num_tasks, num_shots, num_query, seed=seed)`` — the same
    tasks for every start evaluated with this seed (10,005 is chapter 2's 5-shot test seed).

    Raises:
        TypeError: ``start`` is not a StartingPoint.
        ValueError, TypeError: see :func:`metalearn_lib.two_level.evaluate_fine_tuning`.
    """
    if not isinstance(start, StartingPoint):
        raise TypeError(f"start must be a StartingPoint, got {type(start).__name__}")
    num_tasks = check_int("num_tasks", num_tasks, 2)
    result = evaluate_fine_tuning(start.params, family, num_tasks=num_tasks, num_shots=num_shots,
                                  num_query=num_query, steps=steps, inner_lr=start.inner_lr, seed=seed)
    batch = family.sample(num_tasks, num_shots, num_query, seed=seed)
    power = float(tf.reduce_mean(tf.square(tf.cast(batch.query_y, tf.float64))))
    per_task = np.where(np.isnan(result.per_task_mse), np.inf, result.per_task_mse)
    median = np.median(per_task, axis=1) / power
    diverged = np.mean(~np.isfinite(per_task) | (per_task > DIVERGED_NMSE * power), axis=1)
    return StartEvaluation(start.name, result.steps, result.mean_mse, result.ci95,
                           tuple(m / power for m in result.mean_mse), tuple(c / power for c in result.ci95),
                           result.per_task_mse, num_shots, power, tuple(float(m) for m in median),
                           tuple(float(d) for d in diverged))


def shift_rows(
    starts: Sequence[StartingPoint],
    *,
    grids: Mapping[str, Sequence[float]] | None = None,
    other_families: Sequence[str] = ("square", "line"),
    steps: Sequence[int] = (1, 10),
    num_tasks: int = 600,
    num_shots: int = 5,
    seed: int = 10_005,
) -> list[dict[str, Any]]:
    """One row per (start, shift kind, shift, steps): mse, ci95, nmse, nmse_ci95, median_nmse,
    diverged_fraction.

    ``grids`` maps a shift kind of :func:`~metalearn_lib.applications.families.shifted_family` to its
    shifts (default :data:`~metalearn_lib.applications.families.SHIFT_GRIDS`); ``other_families``
    adds one row set per other family (shift 0).
    """
    grids = SHIFT_GRIDS if grids is None else grids
    plan = [(kind, float(s)) for kind, shifts in grids.items() for s in shifts]
    plan += [(kind, 0.0) for kind in other_families]
    rows: list[dict[str, Any]] = []
    for kind, shift in plan:
        family = shifted_family(kind, shift)
        for start in starts:
            ev = evaluate_start(start, family, num_tasks=num_tasks, num_shots=num_shots, steps=steps, seed=seed)
            for i, s in enumerate(ev.steps):
                rows.append({"experiment": "shift_sinusoid", "method": start.name, "shift_kind": kind,
                             "shift": shift, "steps": s, "mse": ev.mean_mse[i], "ci95": ev.ci95[i],
                             "nmse": ev.mean_nmse[i], "nmse_ci95": ev.nmse_ci95[i],
                             "median_nmse": ev.median_nmse[i], "diverged_fraction": ev.diverged_fraction[i],
                             "num_tasks": num_tasks, "num_shots": num_shots})
    return rows


def tuned_inner_lr(
    start: StartingPoint,
    family: TaskFamily,
    *,
    steps: Sequence[int] = (1, 5, 10),
    grid: Sequence[float] = LR_GRID,
    num_tasks: int = 600,
    num_shots: int = 5,
    seed: int = 20_005,
) -> dict[int, float]:
    """For each step count, the SGD step α of ``grid`` with the lowest mean query MSE on validation
    tasks (``family.sample(num_tasks, num_shots, 100, seed=seed)``; 20,005 is chapter 2's validation
    seed for K = 5) — the MAML paper's "automatically tuned" step for a baseline's fine-tuning.

    Returns:
        ``{steps: α}``.
    """
    if not isinstance(start, StartingPoint):
        raise TypeError(f"start must be a StartingPoint, got {type(start).__name__}")
    grid = tuple(float(check_rate("grid", lr)) for lr in grid)
    if not grid:
        raise ValueError("grid must hold at least one step size > 0")
    best: dict[int, tuple[float, float]] = {}
    for lr in grid:
        val = evaluate_fine_tuning(start.params, family, num_tasks=num_tasks, num_shots=num_shots, num_query=100,
                                   steps=steps, inner_lr=lr, seed=seed)
        for s, m in zip(val.steps, val.mean_mse, strict=True):
            if math.isfinite(m) and (s not in best or m < best[s][1]):
                best[s] = (lr, m)
    return {s: best[s][0] if s in best else min(grid) for s in steps}
