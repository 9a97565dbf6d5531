"""Figures and the explorer for ``01_mapping``: a learner is a map from a support set to a fit.

Everything here draws the *same* picture — a task's true function, its K support points, and the
function each learner returns from those points — in three settings:

* :func:`draw_tasks` draws a few tasks of a family (the task distribution, seen as curves);
* :func:`fits_by_shots` puts one task's fits side by side for several K;
* :func:`fit_explorer` is the widget: a task slider, a K slider (1…20) and a choice of learner,
  with each learner's query error in the readout.

:func:`draw_shots_comparison` plots a :class:`~metalearn_lib.mapping.ShotsComparison` (query
error against K). The learners are passed in already trained: nothing here trains anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets
import numpy as np
import tensorflow as tf
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from metalearn_lib.mapping import Learner, ShotsComparison
from metalearn_lib.plotting import COLORS, mark_problem, new_figure, off_chart_step
from metalearn_lib.tasks import TaskBatch, TaskFamily
from metalearn_lib.widgets.core import View, WidgetApp, plural

__all__ = [
    "ALL_LEARNERS",
    "FitGallery",
    "draw_fit",
    "draw_shots_comparison",
    "draw_tasks",
    "fit_explorer",
    "fits_by_shots",
    "true_curves",
]

#: The learner dropdown's first option: draw every learner's fit.
ALL_LEARNERS = "all learners"
#: Points of the x grid the fitted functions are drawn on.
_GRID_POINTS = 200
_TRUTH_COLOR = "#000000"
_SUPPORT_STYLE: dict[str, Any] = dict(s=36, color="#000000", zorder=5, edgecolors="white", linewidths=0.8)


def _learner_color(index: int) -> str:
    palette = [c for c in COLORS if c != "#000000"]
    return palette[index % len(palette)]


def _check_function_family(family: Any) -> None:
    if not callable(getattr(family, "sample", None)) or not callable(getattr(family, "function", None)):
        raise TypeError(f"family must be a task family with sample() and function() (LinearFamily, "
                        f"SinusoidFamily), got {type(family).__name__}")


def _check_one_input(batch: TaskBatch) -> None:
    if batch.support_x.shape[-1] != 1:
        raise ValueError(f"the family's tasks must have one input feature to be drawn as curves, "
                         f"got {batch.support_x.shape[-1]}")


def _x_range(family: Any, batch: TaskBatch) -> tuple[float, float]:
    x_range = getattr(family, "x_range", None)
    if x_range is not None:
        return float(x_range[0]), float(x_range[1])
    xs = np.concatenate([batch.support_x.numpy().ravel(), batch.query_x.numpy().ravel()])
    return float(xs.min()), float(xs.max())


def true_curves(family: TaskFamily, batch: TaskBatch, grid: np.ndarray) -> np.ndarray:
    """Each task's noise-free function on ``grid``: ``family.function(x, **batch.task_params)``.

    Args:
        family: the family the batch was drawn from (it knows its functions).
        batch: tasks with one input feature.
        grid: the x values, ``[G]``.

    Returns:
        ``[num_tasks, G]``.
    """
    _check_function_family(family)
    _check_one_input(batch)
    x = tf.constant(np.broadcast_to(np.asarray(grid, np.float64)[None, :, None], (batch.num_tasks, len(grid), 1)),
                    dtype=batch.support_x.dtype)
    return np.asarray(family.function(x, **batch.task_params))[..., 0].astype(np.float64)


def draw_tasks(ax: Axes, family: TaskFamily, batch: TaskBatch, *, num_tasks: int = 5, title: str = "") -> None:
    """Draw the first ``num_tasks`` tasks of ``batch``: each true function and its support points.

    Raises:
        ValueError: ``num_tasks`` < 1 or more than the batch holds, or tasks with several inputs.
    """
    if not 1 <= num_tasks <= batch.num_tasks:
        raise ValueError(f"num_tasks must be in [1, {batch.num_tasks}], got {num_tasks}")
    grid = np.linspace(*_x_range(family, batch), _GRID_POINTS)
    curves = true_curves(family, batch, grid)
    for i in range(num_tasks):
        color = COLORS[i % len(COLORS)]
        ax.plot(grid, curves[i], color=color, lw=1.6)
        ax.scatter(batch.support_x[i, :, 0].numpy(), batch.support_y[i, :, 0].numpy(), s=22, color=color,
                   zorder=5, edgecolors="white", linewidths=0.6)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if title:
        ax.set_title(title)


def draw_fit(
    ax: Axes,
    grid: np.ndarray,
    truth: np.ndarray,
    support_x: np.ndarray,
    support_y: np.ndarray,
    fits: Mapping[str, np.ndarray],
    *,
    colors: Mapping[str, str] | None = None,
    title: str = "",
    legend: bool = True,
) -> None:
    """One task: the true function (black), the support points (dots) and each learner's fit.

    Args:
        grid: x values ``[G]``; ``truth`` and every fit are ``[G]``.
        support_x, support_y: the K support points, ``[K]`` each.
        fits: ``{learner name: f_D(grid)}``.
        colors: ``{learner name: colour}`` (default: the course palette in order).
    """
    ax.plot(grid, truth, color=_TRUTH_COLOR, lw=2.2, label="true function")
    for index, (name, fit) in enumerate(fits.items()):
        color = colors[name] if colors and name in colors else _learner_color(index)
        ax.plot(grid, fit, color=color, lw=1.8, label=name)
    ax.scatter(support_x, support_y, label=f"support set (K = {len(support_x)})", **_SUPPORT_STYLE)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(loc="best", fontsize=8)


def draw_shots_comparison(
    ax: Axes, comparison: ShotsComparison, *, noise_floor: float | None = None, title: str = ""
) -> None:
    """Mean query MSE (± 95 % interval) against K for each learner, both axes logarithmic.

    Args:
        comparison: from :func:`~metalearn_lib.mapping.compare_by_shots`.
        noise_floor: if given, a dashed line at this MSE (the observation noise variance σ²,
            below which no learner's expected error can go).
    """
    shots = np.asarray(comparison.shots)
    for index, name in enumerate(comparison.names):
        ax.errorbar(shots, comparison.mean_mse[name], yerr=comparison.ci95[name], marker="o", ms=4, capsize=3,
                    color=_learner_color(index), label=name)
    if noise_floor is not None:
        ax.axhline(noise_floor, color="#777777", ls="--", lw=1.2, label=f"noise floor σ² = {noise_floor:.3g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(shots, [str(k) for k in shots])
    ax.minorticks_off()
    ax.set_xlabel("K, support points per task")
    ax.set_ylabel("query MSE (mean over tasks)")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)


class FitGallery:
    """Every learner's fit of every task of a test batch, for every K from 1 to ``max_shots``.

    With K shots each learner sees the *first* K support points of a task (the supports are
    nested as K grows, as in :func:`~metalearn_lib.mapping.compare_by_shots`). Predictions are
    computed for all tasks at once, per K, the first time that K is asked for, and kept.

    Args:
        learners: ``{name: learner}``, each ``learner(support_x, support_y) -> predictor``.
        family: a family with ``sample`` and ``function`` whose tasks have one input.
        num_tasks: test tasks, >= 1.
        max_shots: the largest K, >= 1.
        num_query: query points per task (the readout's MSE), >= 1.
        seed: int >= 0 of the test tasks (keep it away from training seeds).

    Raises:
        ValueError: an argument out of range, or tasks with more than one input.
        TypeError: an argument of the wrong type.
    """

    def __init__(
        self,
        learners: Mapping[str, Learner],
        family: TaskFamily,
        *,
        num_tasks: int = 20,
        max_shots: int = 20,
        num_query: int = 100,
        seed: int = 2_000_000,
    ) -> None:
        if not isinstance(learners, Mapping) or not learners:
            raise TypeError(f"learners must be a non-empty mapping {{name: learner}}, got {type(learners).__name__}")
        for name, learner in learners.items():
            if not isinstance(name, str) or not callable(learner):
                raise TypeError(f"learners must map names (str) to callables (support_x, support_y) -> predictor, "
                                f"got {name!r}: {type(learner).__name__}")
        if ALL_LEARNERS in learners:
            raise ValueError(f"{ALL_LEARNERS!r} is reserved for the dropdown; rename that learner")
        _check_function_family(family)
        for arg, value in (("num_tasks", num_tasks), ("max_shots", max_shots), ("num_query", num_query)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{arg} must be an int >= 1, got {value!r}")
        self.learners: dict[str, Learner] = dict(learners)
        self.family = family
        self.max_shots = max_shots
        self.batch = family.sample(num_tasks, max_shots, num_query, seed=seed)
        _check_one_input(self.batch)
        self.grid = np.linspace(*_x_range(family, self.batch), _GRID_POINTS)
        self.truth = true_curves(family, self.batch, self.grid)  # [T, G]
        self.colors = {name: _learner_color(i) for i, name in enumerate(self.learners)}
        self._grid_x = tf.constant(
            np.broadcast_to(self.grid[None, :, None], (num_tasks, _GRID_POINTS, 1)), self.batch.support_x.dtype)
        self._cache: dict[int, tuple[dict[str, np.ndarray], dict[str, np.ndarray]]] = {}

    @property
    def num_tasks(self) -> int:
        """The number of test tasks."""
        return self.batch.num_tasks

    def _check(self, task: int, num_shots: int) -> None:
        if isinstance(task, bool) or not isinstance(task, int | np.integer) or not 0 <= task < self.num_tasks:
            raise ValueError(f"task must be an int in [0, {self.num_tasks - 1}], got {task!r}")
        if isinstance(num_shots, bool) or not isinstance(num_shots, int | np.integer) \
                or not 1 <= num_shots <= self.max_shots:
            raise ValueError(f"num_shots must be an int in [1, {self.max_shots}], got {num_shots!r}")

    def _compute(self, num_shots: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        if num_shots not in self._cache:
            sx, sy = self.batch.support_x[:, :num_shots], self.batch.support_y[:, :num_shots]
            fits, errors = {}, {}
            for name, learner in self.learners.items():
                predictor = learner(sx, sy)
                fits[name] = np.asarray(predictor(self._grid_x), np.float64)[..., 0]
                query = np.asarray(predictor(self.batch.query_x), np.float64)
                errors[name] = np.mean((query - self.batch.query_y.numpy().astype(np.float64)) ** 2, axis=(1, 2))
            self._cache[num_shots] = (fits, errors)
        return self._cache[num_shots]

    def fits(self, task: int, num_shots: int) -> dict[str, np.ndarray]:
        """``{name: f_D(grid)}`` for task ``task`` after ``num_shots`` support points, ``[G]`` each."""
        self._check(task, num_shots)
        return {name: fit[task] for name, fit in self._compute(num_shots)[0].items()}

    def query_mse(self, task: int, num_shots: int) -> dict[str, float]:
        """``{name: mean_q (f_D(x_q) − y_q)²}`` on the task's query points."""
        self._check(task, num_shots)
        return {name: float(err[task]) for name, err in self._compute(num_shots)[1].items()}

    def support(self, task: int, num_shots: int) -> tuple[np.ndarray, np.ndarray]:
        """The first ``num_shots`` support points of task ``task``: ``(x [K], y [K])``."""
        self._check(task, num_shots)
        return (self.batch.support_x[task, :num_shots, 0].numpy().astype(np.float64),
                self.batch.support_y[task, :num_shots, 0].numpy().astype(np.float64))

    def describe_task(self, task: int) -> str:
        """The task's true parameters, e.g. ``weights = 2.31``."""
        self._check(task, 1)
        parts = []
        for key, value in self.batch.task_params.items():
            values = np.asarray(value[task], np.float64).ravel()
            shown = f"{values[0]:.2f}" if values.size == 1 else "[" + ", ".join(f"{v:.2f}" for v in values) + "]"
            parts.append(f"{key} = {shown}")
        return ", ".join(parts)

    def view(self, task: int, num_shots: int, show: str = ALL_LEARNERS, *, width: float = 6.5,
             height: float = 3.6) -> View:
        """The explorer's render function: one task's fits after K shots, and every learner's MSE.

        Args:
            task: which test task, in [0, num_tasks − 1].
            num_shots: K in [1, max_shots].
            show: a learner's name, or :data:`ALL_LEARNERS`; the readout always lists every learner.

        Raises:
            ValueError: an argument out of range or an unknown learner.
        """
        if show != ALL_LEARNERS and show not in self.learners:
            raise ValueError(f"show must be {ALL_LEARNERS!r} or one of {list(self.learners)}, got {show!r}")
        fits = self.fits(task, num_shots)
        errors = self.query_mse(task, num_shots)
        shown = {n: f for n, f in fits.items() if show in (ALL_LEARNERS, n)}
        support_x, support_y = self.support(task, num_shots)
        figure, axes = new_figure(width=width, height=height)
        draw_fit(axes[0, 0], self.grid, self.truth[task], support_x, support_y, shown, colors=self.colors,
                 title=f"task {task}, K = {num_shots}: each learner's fit f_D")
        ylim = self._ylim(task)
        axes[0, 0].set_ylim(*ylim)
        for name, fit in shown.items():
            departure = off_chart_step(fit[None], ylim)
            if departure is not None:
                where = "is not finite (NaN or inf)" if departure[1] == "not finite" else \
                    f"lies outside the plot (y from {fit.min():.3g} to {fit.max():.3g})"
                mark_problem(axes[0, 0], f"{name}'s fit {where}")
        best = min(errors, key=errors.get)
        readout = (
            f"task {task} (true {self.describe_task(task)})   K = {plural(num_shots, 'support point')}\n"
            f"query MSE on {self.batch.num_query} points:   "
            + "   ".join(f"{name} {err:.3f}" for name, err in errors.items())
            + f"   (lowest: {best})"
        )
        data = {"task": task, "num_shots": num_shots, "show": show, "query_mse": errors, "fits": shown,
                "support_x": support_x, "support_y": support_y, "truth": self.truth[task]}
        return View(figure=figure, readout=readout, data=data)

    def _ylim(self, task: int) -> tuple[float, float]:
        """Fixed y-limits per task (the truth and all support points, with a margin), so moving K
        does not rescale the axes."""
        values = np.concatenate([self.truth[task], self.batch.support_y[task, :, 0].numpy().astype(np.float64)])
        low, high = float(values.min()), float(values.max())
        margin = 0.25 * max(high - low, 1.0)
        return low - margin, high + margin


def fits_by_shots(
    gallery: FitGallery, task: int = 0, shots: Sequence[int] = (1, 2, 5, 10, 20), *, height: float = 3.0
) -> Figure:
    """One task's fits side by side, one panel per K in ``shots``, the same y-axis everywhere.

    Raises:
        ValueError: an empty ``shots`` or a K out of the gallery's range.
    """
    shots = list(shots)
    if not shots:
        raise ValueError("shots must name at least one K")
    figure, axes = new_figure(1, len(shots), width=2.6 * len(shots), height=height)
    ylim = gallery._ylim(task)
    for j, (ax, k) in enumerate(zip(axes[0], shots, strict=True)):
        support_x, support_y = gallery.support(task, k)
        draw_fit(ax, gallery.grid, gallery.truth[task], support_x, support_y, gallery.fits(task, k),
                 colors=gallery.colors, title=f"K = {k}", legend=False)
        ax.set_ylim(*ylim)
        if j:
            ax.set_ylabel("")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    labels = [label if not label.startswith("support set") else "support set" for label in labels]
    figure.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=9)
    return figure


def fit_explorer(
    learners: Mapping[str, Learner],
    family: TaskFamily,
    *,
    task: int = 0,
    num_shots: int = 1,
    num_tasks: int = 20,
    max_shots: int = 20,
    num_query: int = 100,
    seed: int = 2_000_000,
) -> WidgetApp:
    """Pick a test task and K and watch each (already trained) learner's fit and query error.

    Controls, in this order: a task slider (0 … ``num_tasks`` − 1), a K slider (1 …
    ``max_shots``) and a dropdown choosing which learner's fit to draw (all by default). The
    readout lists every learner's query MSE on the chosen task with K shots.

    Args:
        learners: ``{name: learner}``; see :class:`FitGallery`.
        family: the test family (one input feature).
        task, num_shots: the initial task and K.
        num_tasks, max_shots, num_query, seed: the test batch; see :class:`FitGallery`.

    Raises:
        ValueError: an argument out of range.
        TypeError: an argument of the wrong type.
    """
    gallery = FitGallery(learners, family, num_tasks=num_tasks, max_shots=max_shots, num_query=num_query, seed=seed)
    gallery._check(task, num_shots)
    style = {"description_width": "initial"}
    controls = {
        "task": ipywidgets.IntSlider(value=int(task), min=0, max=gallery.num_tasks - 1, step=1, description="task",
                                     continuous_update=False, style=style),
        "num_shots": ipywidgets.IntSlider(value=int(num_shots), min=1, max=max_shots, step=1,
                                          description="K (support points)", continuous_update=False, style=style),
        "show": ipywidgets.Dropdown(options=[ALL_LEARNERS, *gallery.learners], value=ALL_LEARNERS,
                                    description="draw", style=style),
    }
    app = WidgetApp(controls, gallery.view, title="A learner maps a support set to a function: pick a task and K")
    app.gallery = gallery  # type: ignore[attr-defined]  # for tests and curious learners
    return app
