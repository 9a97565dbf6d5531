"""Figures and the explorer for ``02_two_level_learning``: how an initialisation adapts.

Everything here fine-tunes *already trained* initialisations θ (MAML's, the pretrained
baseline's, …) on a test task's K support points with plain SGD,
θ'(s+1) = θ'(s) − α ∇L^support(θ'(s)) (the same K points at every step, as in the MAML paper's
evaluation), and draws the function after a few steps:

* :class:`AdaptationGallery` computes fits and query errors for a fixed batch of test tasks;
* :func:`adaptation_figure` is the MAML paper's qualitative figure — pre-update, after 1 and after
  10 steps, for K = 5 and 10, one row per initialisation;
* :func:`adaptation_explorer` is the widget: K, inner steps, inner learning rate and the task.

Nothing here trains anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets
import numpy as np
import tensorflow as tf
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from metalearn_lib.models import forward, mse, tile_params
from metalearn_lib.plotting import COLORS, hidden_since, mark_problem, new_figure
from metalearn_lib.tasks import SinusoidFamily
from metalearn_lib.two_level import adapt
from metalearn_lib.widgets.core import View, WidgetApp, plural

__all__ = [
    "INNER_LRS",
    "AdaptationGallery",
    "adaptation_explorer",
    "adaptation_figure",
    "draw_adaptation",
]

#: The inner learning rates the explorer offers (the MAML paper's α = 0.01 in the middle).
INNER_LRS: tuple[float, ...] = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05)
_GRID_POINTS = 200
_TRUTH_COLOR = "#000000"
_SUPPORT_STYLE: dict[str, Any] = dict(s=40, color="#000000", marker="^", zorder=5, edgecolors="white",
                                      linewidths=0.8)
#: Line styles of the step counts in :func:`adaptation_figure`: pre-update dotted, then solid.
_STEP_STYLES = ((":", 1.6), ("--", 1.6), ("-", 2.0), ("-", 2.4))


def _check_inits(inits: Any) -> dict[str, list[tf.Tensor]]:
    if not isinstance(inits, Mapping) or not inits:
        raise TypeError(f"inits must be a non-empty mapping {{name: params}}, got {type(inits).__name__}")
    checked = {}
    for name, params in inits.items():
        if not isinstance(name, str) or not isinstance(params, (list, tuple)) or not params:
            raise TypeError(f"inits must map names (str) to parameter lists [W1, b1, ...], got {name!r}: "
                            f"{type(params).__name__}")
        checked[name] = [tf.convert_to_tensor(p) for p in params]
    return checked


def _check_int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name} must be an int in [{low}, {high}], got {value!r}")
    return int(value)


class AdaptationGallery:
    """Fine-tuning of several initialisations on a fixed batch of sinusoid test tasks.

    Task ``t`` with K shots uses the *first* K of its ``max_shots`` support points (nested as K
    grows). Results are computed per (K, α) for all tasks at once, the first time they are
    asked for, and kept: query MSE and predictions on an x grid after every step 0 … max_steps.

    Args:
        inits: ``{name: params}``, each a shared parameter list of a 1-…-1 MLP.
        family: the test family (a :class:`~metalearn_lib.tasks.SinusoidFamily`).
        num_tasks: test tasks, >= 1.
        max_shots: the largest K, >= 1.
        max_steps: the most SGD steps, >= 1.
        num_query: query points per task, >= 1.
        seed: int >= 0 of the test tasks (keep it away from training seeds).

    Raises:
        TypeError: ``inits`` or ``family`` of the wrong kind.
        ValueError: a count out of range.
    """

    def __init__(
        self,
        inits: Mapping[str, Sequence[tf.Tensor]],
        family: SinusoidFamily,
        *,
        num_tasks: int = 10,
        max_shots: int = 20,
        max_steps: int = 20,
        num_query: int = 100,
        seed: int = 3_000_000,
    ) -> None:
        self.inits = _check_inits(inits)
        if not callable(getattr(family, "sample", None)) or not callable(getattr(family, "function", None)):
            raise TypeError(f"family must be a task family with sample() and function() (SinusoidFamily), "
                            f"got {type(family).__name__}")
        self.max_shots = _check_int("max_shots", max_shots, 1, 10_000)
        self.max_steps = _check_int("max_steps", max_steps, 1, 10_000)
        _check_int("num_tasks", num_tasks, 1, 10_000)
        _check_int("num_query", num_query, 1, 100_000)
        self.family = family
        self.batch = family.sample(num_tasks, max_shots, num_query, seed=seed)
        if self.batch.support_x.shape[-1] != 1:
            raise ValueError("the family's tasks must have one input feature to be drawn as curves")
        x_range = getattr(family, "x_range", (-5.0, 5.0))
        self.grid = np.linspace(float(x_range[0]), float(x_range[1]), _GRID_POINTS)
        dtype = self.batch.support_x.dtype
        self._grid_x = tf.constant(np.broadcast_to(self.grid[None, :, None], (num_tasks, _GRID_POINTS, 1)), dtype)
        self.truth = np.asarray(family.function(self._grid_x, **self.batch.task_params), np.float64)[..., 0]
        self.colors = {name: COLORS[i % (len(COLORS) - 1)] for i, name in enumerate(self.inits)}
        self._cache: dict[tuple[int, float], dict[str, tuple[np.ndarray, np.ndarray]]] = {}

    @property
    def num_tasks(self) -> int:
        """The number of test tasks."""
        return self.batch.num_tasks

    def _run(self, num_shots: int, inner_lr: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``{name: (fits [steps + 1, tasks, G], query_mse [steps + 1, tasks])}`` for this K and α."""
        key = (num_shots, float(inner_lr))
        if key not in self._cache:
            sx, sy = self.batch.support_x[:, :num_shots], self.batch.support_y[:, :num_shots]
            results = {}
            for name, params in self.inits.items():
                adapted = tile_params(params, self.num_tasks)
                fits, errors = [], []
                for step in range(self.max_steps + 1):
                    if step:  # θ' ← θ' − α ∇L^support(θ'), the same K points every step
                        adapted = adapt(adapted, sx, sy, inner_lr=float(inner_lr), first_order=True)
                    fits.append(forward(adapted, self._grid_x).numpy()[..., 0])
                    errors.append(mse(forward(adapted, self.batch.query_x), self.batch.query_y).numpy())
                results[name] = (np.asarray(fits, np.float64), np.asarray(errors, np.float64))
            self._cache[key] = results
        return self._cache[key]

    def _check(self, task: int, num_shots: int, num_steps: int, inner_lr: float) -> None:
        _check_int("task", task, 0, self.num_tasks - 1)
        _check_int("num_shots", num_shots, 1, self.max_shots)
        _check_int("num_steps", num_steps, 0, self.max_steps)
        if isinstance(inner_lr, bool) or not isinstance(inner_lr, (int, float)) or not 0 <= inner_lr < 10:
            raise ValueError(f"inner_lr must be a number in [0, 10), got {inner_lr!r}")

    def fits(self, task: int, num_shots: int, num_steps: int, inner_lr: float = 0.01) -> dict[str, np.ndarray]:
        """``{name: f_θ'(grid)}`` after ``num_steps`` SGD steps on the task's first K points, ``[G]``."""
        self._check(task, num_shots, num_steps, inner_lr)
        return {n: fits[num_steps, task] for n, (fits, _) in self._run(num_shots, inner_lr).items()}

    def query_mse(self, task: int, num_shots: int, num_steps: int, inner_lr: float = 0.01) -> dict[str, float]:
        """``{name: query MSE}`` of the task after ``num_steps`` SGD steps on its first K points."""
        self._check(task, num_shots, num_steps, inner_lr)
        return {n: float(err[num_steps, task]) for n, (_, err) in self._run(num_shots, inner_lr).items()}

    def support(self, task: int, num_shots: int) -> tuple[np.ndarray, np.ndarray]:
        """The task's first ``num_shots`` support points, ``(x [K], y [K])``."""
        self._check(task, num_shots, 0, 0.0)
        return (self.batch.support_x[task, :num_shots, 0].numpy().astype(np.float64),
                self.batch.support_y[task, :num_shots, 0].numpy().astype(np.float64))

    def describe_task(self, task: int) -> str:
        """``A = 3.21, φ = 1.05`` for sinusoids (or each task parameter by name)."""
        self._check(task, 1, 0, 0.0)
        names = {"amplitude": "A", "phase": "φ"}
        return ", ".join(f"{names.get(k, k)} = {float(np.ravel(v[task])[0]):.2f}"
                         for k, v in self.batch.task_params.items())

    def ylim(self, task: int) -> tuple[float, float]:
        """Fixed y-limits for a task (its true curve with a margin), so moving a control never rescales."""
        amplitude = float(np.abs(self.truth[task]).max())
        margin = max(1.0, 0.6 * amplitude)
        return -amplitude - margin, amplitude + margin

    def failure(self, task: int, num_shots: int, num_steps: int, inner_lr: float) -> dict[str, tuple[int, str]]:
        """``{name: (step, reason)}`` for each initialisation whose fit cannot be seen after ``num_steps``
        steps: ``reason`` is ``"not finite"`` (the steps diverged to NaN or inf; ``step`` is the first
        such step) or ``"off the chart"`` (``step`` is where the fit left the panel's y-range)."""
        self._check(task, num_shots, num_steps, inner_lr)
        ylim = self.ylim(task)
        failed = {}
        for name, (fits, _) in self._run(num_shots, inner_lr).items():
            hidden = hidden_since(fits[: num_steps + 1, task], ylim)
            if hidden is not None:
                failed[name] = hidden
        return failed

    def view(self, num_shots: int, num_steps: int, inner_lr: float, task: int, *, width: float = 6.5,
             height: float = 3.6) -> View:
        """The explorer's render function: every initialisation before and after ``num_steps`` steps.

        An initialisation whose steps diverged (NaN or inf) or whose fit left the panel is said so on
        the panel and in the readout, with the step where it happened.
        """
        self._check(task, num_shots, num_steps, inner_lr)
        before = self.fits(task, num_shots, 0, inner_lr)
        after = self.fits(task, num_shots, num_steps, inner_lr)
        mse_before = self.query_mse(task, num_shots, 0, inner_lr)
        mse_after = self.query_mse(task, num_shots, num_steps, inner_lr)
        failed = self.failure(task, num_shots, num_steps, inner_lr)
        support_x, support_y = self.support(task, num_shots)
        steps = plural(num_steps, "step")
        figure, axes = new_figure(width=width, height=height)
        ax = axes[0, 0]
        ax.plot(self.grid, self.truth[task], color=_TRUTH_COLOR, lw=2.2, label="true function")
        for name in self.inits:
            color = self.colors[name]
            ax.plot(self.grid, before[name], color=color, lw=1.2, ls=":", label=f"{name}, before")
            hidden = " (not visible)" if name in failed else ""
            ax.plot(self.grid, after[name], color=color, lw=2.0, label=f"{name}, {steps}{hidden}")
        ax.scatter(support_x, support_y, label=f"support set (K = {num_shots})", **_SUPPORT_STYLE)
        ax.set_ylim(*self.ylim(task))
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title(f"task {task}: {plural(num_steps, 'SGD step')}, α = {inner_lr:g}, K = {num_shots}")
        ax.legend(loc="upper right", fontsize=7, ncol=2)
        for name, (step, reason) in failed.items():
            mark_problem(ax, self._failure_message(name, step, reason, task, num_shots, inner_lr))
        shown_after = {n: "diverged" if failed.get(n, (0, ""))[1] == "not finite" else _format_mse(mse_after[n])
                       for n in self.inits}
        readout = (
            f"task {task} (true {self.describe_task(task)})   K = {num_shots}   {steps} of SGD, α = {inner_lr:g}\n"
            f"query MSE on {self.batch.num_query} points, before → after:   "
            + "   ".join(f"{n} {_format_mse(mse_before[n])} → {shown_after[n]}" for n in self.inits)
        )
        data = {"task": task, "num_shots": num_shots, "num_steps": num_steps, "inner_lr": inner_lr,
                "query_mse": mse_after, "query_mse_before": mse_before, "fits": after, "fits_before": before,
                "support_x": support_x, "support_y": support_y, "truth": self.truth[task], "failed": failed}
        return View(figure=figure, readout=readout, data=data)

    def _failure_message(self, name: str, step: int, reason: str, task: int, num_shots: int,
                         inner_lr: float) -> str:
        errors = self._run(num_shots, inner_lr)[name][1][:, task]
        if reason == "not finite":
            fits = self._run(num_shots, inner_lr)[name][0][step, task]
            kind = "NaN" if np.isnan(errors[step]) or np.isnan(fits).any() else "inf"
            last = f" (query MSE {_format_mse(errors[step - 1])} at step {step - 1})" if step else ""
            return (f"{name} diverged: {kind} from step {step}{last};\n"
                    f"its curve is not drawn — try a smaller α")
        if step == 0:
            return f"{name}'s fit lies outside the plot before any step (query MSE {_format_mse(errors[0])})"
        return f"{name}'s fit left the plot at step {step} (query MSE {_format_mse(errors[step])})"


def _format_mse(value: float) -> str:
    """An MSE for the readout: three decimals, or three significant digits once it is large."""
    return f"{value:.3f}" if np.isfinite(value) and abs(value) < 1e3 else f"{value:.3g}"


def draw_adaptation(
    ax: Axes,
    grid: np.ndarray,
    truth: np.ndarray,
    support_x: np.ndarray,
    support_y: np.ndarray,
    fits_by_steps: Mapping[int, np.ndarray],
    *,
    color: str = COLORS[0],
    title: str = "",
    legend: bool = True,
) -> None:
    """One task, one initialisation: the truth, the K support points and the fit after each step count.

    Args:
        grid: x values ``[G]``; ``truth`` and every fit are ``[G]``.
        fits_by_steps: ``{steps: f(grid)}``, drawn pre-update dotted, then dashed and solid.
    """
    ax.plot(grid, truth, color=_TRUTH_COLOR, lw=2.0, alpha=0.35, label="true function")
    for index, (steps, fit) in enumerate(fits_by_steps.items()):
        style, width = _STEP_STYLES[min(index, len(_STEP_STYLES) - 1)]
        label = "pre-update" if steps == 0 else f"{steps} grad step{'s' * (steps != 1)}"
        ax.plot(grid, fit, color=color, ls=style, lw=width, alpha=0.55 + 0.45 * index / max(1, len(fits_by_steps) - 1),
                label=label)
    ax.scatter(support_x, support_y, label="support points", **_SUPPORT_STYLE)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(loc="lower right", fontsize=7)


def adaptation_figure(
    gallery: AdaptationGallery,
    task: int = 0,
    *,
    shots: Sequence[int] = (5, 10),
    steps: Sequence[int] = (0, 1, 10),
    inner_lr: float = 0.01,
    height_per_row: float = 2.8,
) -> Figure:
    """The MAML paper's qualitative figure: one row per initialisation, one column per K.

    Each panel shows one test task's true function, its K support points and the fit before
    fine-tuning and after each step count in ``steps`` (SGD with step ``inner_lr``).

    Raises:
        ValueError: empty ``shots`` or ``steps``, or a K or step count out of the gallery's range.
    """
    shots, steps = list(shots), list(steps)
    if not shots or not steps:
        raise ValueError(f"shots and steps must each name at least one value, got {shots} and {steps}")
    names = list(gallery.inits)
    figure, axes = new_figure(len(names), len(shots), width=4.2 * len(shots), height=height_per_row * len(names))
    for row, name in enumerate(names):
        for col, k in enumerate(shots):
            support_x, support_y = gallery.support(task, k)
            fits = {s: gallery.fits(task, k, s, inner_lr)[name] for s in steps}
            ax = axes[row, col]
            draw_adaptation(ax, gallery.grid, gallery.truth[task], support_x, support_y, fits,
                            color=gallery.colors[name], title=f"{name}, K = {k}", legend=col == len(shots) - 1)
            ax.set_ylim(*gallery.ylim(task))
            if row < len(names) - 1:
                ax.set_xlabel("")
    return figure


def adaptation_explorer(
    inits: Mapping[str, Sequence[tf.Tensor]],
    family: SinusoidFamily,
    *,
    num_shots: int = 5,
    num_steps: int = 1,
    inner_lr: float = 0.01,
    task: int = 0,
    num_tasks: int = 10,
    max_shots: int = 20,
    max_steps: int = 20,
    num_query: int = 100,
    seed: int = 3_000_000,
) -> WidgetApp:
    """Watch already trained initialisations adapt to a test task: K, steps, α and the task.

    Controls, in this order: a K slider (1 … ``max_shots``; the first slider, the one the browser
    test moves), an inner-steps slider (0 … ``max_steps``), an inner learning-rate slider over
    :data:`INNER_LRS` and a task slider. The picture shows the true function, the K support
    points and every initialisation's fit before (dotted) and after the steps; the readout gives
    each one's query MSE before → after.

    Raises:
        TypeError: ``inits`` or ``family`` of the wrong kind.
        ValueError: an argument out of range, or ``inner_lr`` not in :data:`INNER_LRS`.
    """
    gallery = AdaptationGallery(inits, family, num_tasks=num_tasks, max_shots=max_shots, max_steps=max_steps,
                                num_query=num_query, seed=seed)
    if inner_lr not in INNER_LRS:
        raise ValueError(f"inner_lr must be one of {list(INNER_LRS)}, got {inner_lr!r}")
    gallery._check(task, num_shots, num_steps, inner_lr)
    style = {"description_width": "initial"}
    controls = {
        "num_shots": ipywidgets.IntSlider(value=int(num_shots), min=1, max=gallery.max_shots, step=1,
                                          description="K (support points)", continuous_update=False, style=style),
        "num_steps": ipywidgets.IntSlider(value=int(num_steps), min=0, max=gallery.max_steps, step=1,
                                          description="inner steps", continuous_update=False, style=style),
        "inner_lr": ipywidgets.SelectionSlider(options=list(INNER_LRS), value=inner_lr, description="inner lr α",
                                               continuous_update=False, style=style),
        "task": ipywidgets.IntSlider(value=int(task), min=0, max=gallery.num_tasks - 1, step=1, description="task",
                                     continuous_update=False, style=style),
    }
    app = WidgetApp(controls, gallery.view, title="Adapting an initialisation: pick K, the steps and α")
    app.gallery = gallery  # type: ignore[attr-defined]  # for tests and curious learners
    return app
