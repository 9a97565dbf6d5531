"""Explorer and figures of ``04_teacher_guided_loop``: pick a teacher, set its strength, watch
the linear learner's loss and fit.

* :func:`teacher_explorer` — controls: the teacher's strength (first: the step size η of the
  gradient teacher, the step s of the article's teacher, the damping s of the exact teacher),
  and the teacher; picture: the loss over the steps (log scale, with the optimum L*) and the
  learner's fitted line over the data; readout: final loss, steps to the target, and whether
  the run reached it, stalled, diverged or ran out of steps.
* figures for the lecture: :func:`loss_curves_figure` (trajectories side by side),
  :func:`alphas_figure` (Meta-SGD's learned step sizes, one strip per parameter tensor),
  :func:`horizon_figure` (learned optimiser vs SGD and Adam, loss after H steps) and
  :func:`curriculum_figure` (which task the curriculum teacher picked, round by round).

The runs use :func:`metalearn_lib.teacher.run_teacher_loop`; nothing here trains a teacher.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from metalearn_lib.plotting import COLORS, hidden_since, mark_problem, new_figure
from metalearn_lib.teacher.linear import ArticleTeacher, ExactLinearTeacher, GradientTeacher, linear_loss
from metalearn_lib.teacher.loop import LearnerState, Trajectory, run_teacher_loop, steps_to_target
from metalearn_lib.widgets.core import View, WidgetApp, plural

__all__ = [
    "TEACHERS",
    "LineTask",
    "ScaledTeacher",
    "alphas_figure",
    "curriculum_figure",
    "horizon_figure",
    "loss_curves_figure",
    "make_teacher",
    "teacher_explorer",
]

#: The teachers the explorer offers, by the name shown in its dropdown.
TEACHERS: tuple[str, ...] = (
    "gradient: Δθ = −η∇L",
    "article (replace): Δθ = s(Xᵀy − θ)",
    "article (add): Δθ = s·Xᵀy",
    "exact: Δθ = s(θ* − θ)",
)


class ScaledTeacher:
    """Another teacher's update multiplied by s: Δθ = s · T(state) (s = 1: the teacher itself)."""

    def __init__(self, teacher: Any, scale: float) -> None:
        self.teacher, self.scale = teacher, float(scale)

    def reset(self, params: Sequence[tf.Tensor]) -> None:
        self.teacher.reset(params)

    def update(self, state: LearnerState) -> list[tf.Tensor]:
        return [tf.constant(self.scale, d.dtype) * d for d in self.teacher.update(state)]


def make_teacher(name: str, strength: float, x: Any, y: Any, l2: float = 0.0) -> Any:
    """The teacher called ``name`` (one of :data:`TEACHERS`) at ``strength`` for data (X, y)."""
    if name not in TEACHERS:
        raise ValueError(f"teacher must be one of {list(TEACHERS)}, got {name!r}")
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not strength > 0:
        raise ValueError(f"strength must be a number > 0, got {strength!r}")
    if name == TEACHERS[0]:
        return GradientTeacher(strength)
    if name == TEACHERS[1]:
        return ArticleTeacher(x, y, strength, mode="replace")
    if name == TEACHERS[2]:
        return ArticleTeacher(x, y, strength, mode="add")
    return ScaledTeacher(ExactLinearTeacher(x, y, l2=l2), strength)


class LineTask:
    """A line-fitting task for the linear learner ŷ = a·x + b, θ = (a, b), X = [x, 1].

    Args:
        x: inputs ``[n]`` (n ≥ 2).
        y: targets ``[n]``.
        l2: λ ≥ 0 of the ridge penalty in L(θ) = (1/n)(‖Xθ − y‖² + λ‖θ‖²).
        max_steps: the loop's budget.
        target_gap: the target is L* + ``target_gap`` (L* the optimum).
    """

    def __init__(self, x: Any, y: Any, *, l2: float = 0.0, max_steps: int = 40, target_gap: float = 0.01) -> None:
        x = np.asarray(x, np.float64).ravel()
        y = np.asarray(y, np.float64).ravel()
        if x.size < 2 or y.shape != x.shape:
            raise ValueError(f"x and y must hold the same number (>= 2) of points, got {x.size} and {y.size}")
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
            raise ValueError(f"max_steps must be an int >= 1, got {max_steps!r}")
        if isinstance(target_gap, bool) or not isinstance(target_gap, (int, float)) or not target_gap > 0:
            raise ValueError(f"target_gap must be a number > 0, got {target_gap!r}")
        self.x_points, self.y_points = x, y
        self.x = tf.constant(np.stack([x, np.ones_like(x)], axis=1))  # [n, 2]
        self.y = tf.constant(y[:, None])  # [n, 1]
        self.l2 = float(l2)
        self.loss = linear_loss(self.x, self.y, self.l2)
        self.theta_star = ExactLinearTeacher(self.x, self.y, l2=self.l2).theta_star
        self.loss_star = float(self.loss([self.theta_star]))
        self.target = self.loss_star + float(target_gap)
        self.max_steps = max_steps
        self.init = [tf.zeros([2, 1], tf.float64)]

    def run(self, name: str, strength: float) -> Trajectory:
        """The loop with teacher ``name`` at ``strength`` from θ_0 = 0 (it stops at the target)."""
        teacher = make_teacher(name, strength, self.x, self.y, self.l2)
        return run_teacher_loop(teacher, self.loss, self.init, max_steps=self.max_steps,
                                target_loss=self.target, diverge_above=1e6)

    def fitted_lines(self, trajectory: Trajectory, grid: np.ndarray) -> np.ndarray:
        """The learner's line a·x + b on ``grid`` after each step, ``[T + 1, len(grid)]``."""
        slopes_offsets = np.array([np.asarray(params[0], np.float64).ravel() for params in trajectory.params])
        with np.errstate(over="ignore", invalid="ignore"):
            return slopes_offsets[:, :1] * grid[None, :] + slopes_offsets[:, 1:]

    def fit_ylim(self) -> tuple[float, float]:
        """The y-range of the fit panel: the data with a margin."""
        low, high = float(self.y_points.min()), float(self.y_points.max())
        margin = 0.5 * (high - low)
        return low - margin, high + margin

    def view(self, strength: float, teacher: str) -> View:
        """The explorer's render function.

        A run that diverged, stalled or whose line left the fit panel says so on the figure and in
        the readout, with the step where it happened.
        """
        trajectory = self.run(teacher, strength)
        reached = steps_to_target(trajectory, self.target)
        losses = trajectory.losses
        steps = trajectory.num_steps
        moved = float(np.max(np.abs(np.asarray(trajectory.params[-1][0]) - np.asarray(trajectory.params[-2][0])))) \
            if steps >= 1 else 0.0
        if trajectory.stopped == "diverged":
            status = f"diverged: the loss exceeded 10⁶ (or overflowed) at step {steps}"
        elif reached is not None:
            status = f"reached the target L* + 0.01 at step {reached}"
        elif moved < 1e-9:
            status = "stalled: the teacher stopped moving the learner above the target"
        else:
            status = f"still above the target after {plural(steps, 'step')}"
        final = trajectory.final_loss
        grid = np.linspace(self.x_points.min(), self.x_points.max(), 50)
        departure = hidden_since(self.fitted_lines(trajectory, grid), self.fit_ylim())
        left_plot = None
        if departure is not None:
            step, reason = departure
            if reason == "not finite":
                left_plot = f"the learner's line is not drawn: its parameters overflowed at step {step}"
            elif step == 0:
                left_plot = f"the learner's line is outside the plot from the start: loss {_format_loss(losses[0])}"
            else:
                left_plot = f"the learner's line left the plot at step {step}: loss {_format_loss(losses[step])}"
        failed = trajectory.stopped == "diverged" or status.startswith("stalled")
        figure = _explorer_figure(self, trajectory, grid, title=f"{teacher.split(':')[0]}, strength {strength:.3g}",
                                  status=status if failed else None, left_plot=left_plot)
        readout = (  # a failure's status is shown as a note (⚠) under the readout
            f"{teacher}   strength {strength:.3g}\n"
            f"final loss {_format_loss(final)}   optimum L* {self.loss_star:.3g}   steps to target: "
            f"{'—' if reached is None else reached}" + ("" if failed else f"\n{status}")
        )
        data = {"losses": losses, "stopped": trajectory.stopped, "steps_to_target": reached, "final_loss": final,
                "final_params": np.asarray(trajectory.final_params[0]).ravel(), "status": status,
                "strength": strength, "teacher": teacher, "left_plot_at": None if departure is None else departure[0]}
        return View(figure=figure, readout=readout, data=data)


def _format_loss(value: float) -> str:
    return f"{value:.3g}"


def _explorer_figure(task: LineTask, trajectory: Trajectory, grid: np.ndarray, *, title: str,
                     status: str | None = None, left_plot: str | None = None) -> Figure:
    figure, axes = new_figure(1, 2, width=9.0, height=3.4)
    ax = axes[0, 0]
    steps = np.arange(trajectory.losses.size)
    finite = np.where(np.isfinite(trajectory.losses), trajectory.losses, np.nan)
    ax.semilogy(steps, np.maximum(finite, 1e-12), color=COLORS[0], lw=2.0, marker=".", label="L(θ_t)")
    ax.axhline(task.loss_star, color="#000000", ls="--", lw=1.2, label="optimum L*")
    ax.axhline(task.target, color=COLORS[2], ls=":", lw=1.2, label="target L* + 0.01")
    ax.set_xlim(0, task.max_steps)
    ax.set_xlabel("step t")
    ax.set_ylabel("loss (log scale)")
    ax.set_title(title)
    ax.legend(loc="best", fontsize=7)
    if status is not None:
        mark_problem(ax, status.replace(": ", ":\n", 1))
    ax = axes[0, 1]
    ax.scatter(task.x_points, task.y_points, s=14, color="#777777", label="data")
    a_star, b_star = np.asarray(task.theta_star).ravel()
    ax.plot(grid, a_star * grid + b_star, color="#000000", ls="--", lw=1.2, label="optimum θ*")
    ax.plot(grid, task.fitted_lines(trajectory, grid)[-1], color=COLORS[3], lw=2.2,
            label=f"learner after {plural(trajectory.num_steps, 'step')}" + (" (not visible)" if left_plot else ""))
    ax.set_ylim(*task.fit_ylim())
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("the learner's fit")
    ax.legend(loc="upper left", fontsize=7)
    if left_plot is not None:
        mark_problem(ax, left_plot.replace(": ", ":\n", 1), y=0.3)
    return figure


def teacher_explorer(x: Any, y: Any, *, l2: float = 0.0, strength: float = 0.1, teacher: str = TEACHERS[0],
                     max_steps: int = 40) -> WidgetApp:
    """Pick a teacher and its strength; watch the linear learner's loss curve and fit.

    Controls, in this order: the strength (log slider from 0.001 to 10; the first control, the
    one the browser test moves) and the teacher, one of :data:`TEACHERS`.

    Raises:
        ValueError: malformed data, ``teacher`` not in :data:`TEACHERS`, ``strength`` outside
            [0.001, 10].
    """
    task = LineTask(x, y, l2=l2, max_steps=max_steps)
    if teacher not in TEACHERS:
        raise ValueError(f"teacher must be one of {list(TEACHERS)}, got {teacher!r}")
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 1e-3 <= strength <= 10:
        raise ValueError(f"strength must be a number in [0.001, 10] for the slider, got {strength!r}")
    style = {"description_width": "initial"}
    controls = {
        "strength": ipywidgets.FloatLogSlider(value=float(strength), base=10, min=-3, max=1, step=0.05,
                                              description="strength (η or s)", readout_format=".3g",
                                              continuous_update=False, style=style),
        "teacher": ipywidgets.Dropdown(options=list(TEACHERS), value=teacher, description="teacher", style=style),
    }
    app = WidgetApp(controls, task.view, title="A teacher and its strength: the learner's loss and fit")
    app.task = task  # type: ignore[attr-defined]  # for tests and curious learners
    return app


# ============================================================================================
# figures of the lecture
# ============================================================================================
def loss_curves_figure(curves: Mapping[str, Any], *, optimum: float | None = None, title: str = "",
                       xlabel: str = "step t", width: float = 6.5, height: float = 3.4) -> Figure:
    """Loss curves (log scale), one per label; the optimum as a dashed line."""
    if not curves:
        raise ValueError("curves must name at least one curve")
    figure, axes = new_figure(width=width, height=height)
    ax = axes[0, 0]
    for i, (label, values) in enumerate(curves.items()):
        values = np.asarray(values, np.float64).ravel()
        ax.semilogy(np.arange(values.size), np.maximum(values, 1e-12), color=COLORS[i % len(COLORS)], lw=2.0,
                    ls=("-", "--", ":", "-.")[i % 4], marker="." if values.size <= 30 else None, label=label)
    if optimum is not None:
        ax.axhline(optimum, color="#000000", ls="--", lw=1.0, label="optimum L*")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss (log scale)")
    ax.set_title(title)
    ax.legend(loc="best", fontsize=7)
    return figure


def alphas_figure(alphas: Sequence[Any], names: Sequence[str], *, initial: float | None = None,
                  width: float = 7.0, height: float = 3.2) -> Figure:
    """Meta-SGD's learned step sizes: every entry of α, one strip (and its mean) per parameter tensor."""
    if len(alphas) != len(names) or not alphas:
        raise ValueError(f"alphas and names must have the same, non-zero length, got {len(alphas)} and {len(names)}")
    figure, axes = new_figure(width=width, height=height)
    ax = axes[0, 0]
    jitter = np.random.default_rng(0)
    for i, a in enumerate(alphas):
        values = np.asarray(a, np.float64).ravel()
        ax.scatter(i + jitter.uniform(-0.25, 0.25, values.size), values, s=6, alpha=0.5, color=COLORS[i % len(COLORS)])
        ax.plot([i - 0.35, i + 0.35], [values.mean()] * 2, color="#000000", lw=2.0)
    if initial is not None:
        ax.axhline(initial, color="#777777", ls=":", lw=1.2, label=f"initial α = {initial:g}")
        ax.legend(loc="upper right", fontsize=7)
    ax.set_xticks(range(len(names)), list(names))
    ax.set_ylabel("learned step size α")
    ax.set_title("Meta-SGD: one step size per weight (black: mean per tensor)")
    return figure


def horizon_figure(result: Mapping[str, Any], *, width: float = 6.5, height: float = 3.4) -> Figure:
    """Loss after H steps on unseen tasks (mean ± 95 % CI) of the learned optimiser, SGD and Adam,
    from :func:`metalearn_lib.teacher.compare_optimizers` (each baseline's step tuned per H)."""
    horizons = list(result["horizons"])
    figure, axes = new_figure(width=width, height=height)
    ax = axes[0, 0]
    for i, kind in enumerate(("learned", "sgd", "adam")):
        mean = np.array([result[kind][h][0] for h in horizons])
        ci = np.array([result[kind][h][1] for h in horizons])
        label = {"learned": "learned optimiser", "sgd": "SGD (tuned per H)", "adam": "Adam (tuned per H)"}[kind]
        ax.errorbar(horizons, mean, yerr=ci, color=COLORS[i], lw=2.0, marker="o", ms=4, capsize=3, label=label)
    ax.axhline(result["initial"][0], color="#777777", ls=":", lw=1.2, label="before training")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("steps H")
    ax.set_ylabel("loss after H steps")
    ax.set_title("unseen tasks: loss after H steps")
    ax.legend(loc="lower left", fontsize=7)
    return figure


def curriculum_figure(choices: Any, per_task_loss: Any, *, window: int = 50, width: float = 10.0,
                      height: float = 3.4) -> Figure:
    """Left: the share of each task among the last ``window`` choices, round by round. Right: each
    task's loss over the rounds."""
    choices = np.asarray(choices).ravel().astype(int)
    losses = np.asarray(per_task_loss, np.float64)
    num_tasks = losses.shape[1]
    figure, axes = new_figure(1, 2, width=width, height=height)
    onehot = np.eye(num_tasks)[choices]
    kernel = np.ones(window) / window
    share = np.stack([np.convolve(onehot[:, k], kernel, mode="valid") for k in range(num_tasks)], axis=1)
    rounds = np.arange(window, choices.size + 1)
    for k in range(num_tasks):
        axes[0, 0].plot(rounds, share[:, k], color=COLORS[k % len(COLORS)], lw=1.8, label=f"task {k + 1}")
        axes[0, 1].semilogy(np.arange(1, choices.size + 1), np.maximum(losses[:, k], 1e-8),
                            color=COLORS[k % len(COLORS)], lw=1.8, label=f"task {k + 1}")
    axes[0, 0].set_xlabel("round")
    axes[0, 0].set_ylabel(f"share of the last {window} choices")
    axes[0, 0].set_title("what the curriculum teacher picks")
    axes[0, 0].legend(loc="upper right", fontsize=7)
    axes[0, 1].set_xlabel("round")
    axes[0, 1].set_ylabel("task loss (log scale)")
    axes[0, 1].set_title("each task's loss")
    return figure
