"""Comparing learners by few-shot error: query MSE on the same test tasks as K grows.

:func:`compare_by_shots` scores any :data:`~metalearn_lib.mapping.Learner` and returns a
:class:`ShotsComparison`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from metalearn_lib.mapping._checks import _check_family
from metalearn_lib.mapping.ridge import Learner
from metalearn_lib.models import mse
from metalearn_lib.tasks import TaskFamily
from metalearn_lib.validation import check_int

__all__ = [
    "ShotsComparison",
    "compare_by_shots",
]


# --------------------------------------------------------------------------------------------
# comparing learners by few-shot error
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ShotsComparison:
    """Query MSE of several learners as the number of shots K grows, on the same test tasks.

    Attributes:
        shots: the K evaluated, increasing.
        mean_mse: ``{name: [len(shots)]}`` mean over test tasks of the query MSE.
        ci95: ``{name: [len(shots)]}`` 1.96 · std / √num_tasks (std over tasks, ddof = 0).
        per_task_mse: ``{name: [len(shots), num_tasks]}`` the individual query MSEs.
    """

    shots: tuple[int, ...]
    mean_mse: dict[str, np.ndarray]
    ci95: dict[str, np.ndarray]
    per_task_mse: dict[str, np.ndarray]

    @property
    def names(self) -> tuple[str, ...]:
        """The learners, in the order given."""
        return tuple(self.mean_mse)

    def table(self, digits: int = 3) -> str:
        """A markdown table: one row per K, one column ``mean ± ci95`` per learner."""
        digits = check_int("digits", digits, 0)
        head = "| K | " + " | ".join(self.names) + " |"
        rule = "|---:|" + "---:|" * len(self.names)
        rows = [f"| {k} | " + " | ".join(
            f"{self.mean_mse[n][j]:.{digits}f} ± {self.ci95[n][j]:.{digits}f}" for n in self.names)
            + " |" for j, k in enumerate(self.shots)]
        return "\n".join([head, rule, *rows])


def compare_by_shots(
    learners: Mapping[str, Learner],
    family: TaskFamily,
    *,
    shots: Sequence[int] = (1, 2, 5, 10, 20),
    num_tasks: int = 1000,
    num_query: int = 100,
    seed: int = 1_000_000,
) -> ShotsComparison:
    """Score each learner by its query MSE after seeing K support points, for each K in ``shots``.

    One batch of ``num_tasks`` test tasks with max(shots) support and ``num_query`` query points
    is drawn with ``seed``; with K shots every learner sees the *first* K support points of each
    task (so the support sets are nested as K grows) and is scored on the same query points:
    MSE_i = mean_q (f_{D_i}(x_q) − y_q)², reported as mean_i MSE_i ± 1.96·std_i/√num_tasks.

    Args:
        learners: ``{name: learner}``, each ``learner(support_x, support_y)`` returning a
            predictor ``f(query_x) -> [num_tasks, num_query, 1]``.
        family: the test task family.
        shots: non-empty strictly increasing Ks, each >= 1.
        num_tasks: test tasks, >= 2.
        num_query: query points per task, >= 1.
        seed: int >= 0 of the test tasks (keep it away from the training seeds).

    Returns:
        A :class:`ShotsComparison`.

    Raises:
        ValueError: an argument out of range, or a learner's predictions of the wrong shape.
        TypeError: an argument of the wrong type.
    """
    if not isinstance(learners, Mapping) or not learners:
        raise TypeError(f"learners must be a non-empty mapping {{name: learner}}, "
                        f"got {type(learners).__name__}")
    for name, learner in learners.items():
        if not callable(learner):
            raise TypeError(f"learners[{name!r}] must be callable "
                            f"(support_x, support_y) -> predictor, got {type(learner).__name__}")
    _check_family(family)
    if isinstance(shots, str) or not isinstance(shots, Sequence):
        raise TypeError(f"shots must be a sequence of ints >= 1, got {type(shots).__name__}")
    shots = tuple(check_int("shots", k, 1) for k in shots)
    if not shots or any(b <= a for a, b in zip(shots, shots[1:], strict=False)):
        raise ValueError(f"shots must be a non-empty strictly increasing sequence of ints >= 1, "
                         f"got {shots}")
    num_tasks = check_int("num_tasks", num_tasks, 2)
    num_query = check_int("num_query", num_query, 1)
    seed = check_int("seed", seed, 0)
    batch = family.sample(num_tasks, shots[-1], num_query, seed=seed)
    mean_mse, ci95, per_task = {}, {}, {}
    for name, learner in learners.items():
        rows = []
        for k in shots:
            pred = learner(batch.support_x[:, :k], batch.support_y[:, :k])(batch.query_x)
            pred = tf.cast(pred, batch.query_y.dtype)
            if pred.shape != batch.query_y.shape:
                raise ValueError(f"learner {name!r} predicted shape {pred.shape}, expected "
                                 f"{batch.query_y.shape}")
            rows.append(mse(pred, batch.query_y).numpy().astype(np.float64))
        per_task[name] = np.stack(rows)
        mean_mse[name] = per_task[name].mean(axis=1)
        ci95[name] = 1.96 * per_task[name].std(axis=1) / math.sqrt(num_tasks)
    return ShotsComparison(shots, mean_mse, ci95, per_task)
