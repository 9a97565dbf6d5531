"""Chapter 6's figures and explorer: a point agent adapting to a goal by policy-gradient steps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from metalearn_lib.maml_rl import AdaptationCurve, PointNavigation, adaptation_curve
from metalearn_lib.plotting import COLORS, mark_problem, new_figure
from metalearn_lib.rl.gaussian_policy import as_gaussian_policy, policy_mean
from metalearn_lib.widgets.core import View, WidgetApp, plural

__all__ = [
    "PLOT_EXTENT",
    "action_field_figure",
    "adapt_to_goal",
    "adaptation_figure",
    "draw_navigation",
    "maml_rl_explorer",
    "returns_figure",
    "training_figure",
]

#: The square [−e, e]² every navigation panel shows (the goal region is [−0.5, 0.5]²).
PLOT_EXTENT = 0.8
#: Colours of adaptation steps 0, 1, 2, 3.
STEP_COLORS = (COLORS[7], COLORS[1], COLORS[2], COLORS[0])


def adapt_to_goal(policy: Any, goal: Sequence[float], *, num_steps: int = 3, num_trajectories: int = 40,
                  seed: int = 0, env: PointNavigation | None = None) -> AdaptationCurve:
    """The paper's adaptation protocol on one goal, keeping every step's trajectories."""
    env = PointNavigation() if env is None else env
    return adaptation_curve(policy, env, np.asarray([goal], np.float32), num_steps=num_steps,
                            num_trajectories=num_trajectories, seed=seed, keep_trajectories=True)


def _positions(curve: AdaptationCurve, step: int, count: int) -> list[np.ndarray]:
    """Up to ``count`` trajectories of goal 0 after ``step`` steps: each ``[steps alive + 1, 2]`` from the origin."""
    trajectories = curve.trajectories[step]
    paths = []
    for n in range(min(count, trajectories.observations.shape[1])):
        alive = int(trajectories.masks[0, n].sum())
        obs = trajectories.observations[0, n, :alive]
        velocity = 0.1 * np.clip(trajectories.actions[0, n, alive - 1], -1.0, 1.0)
        paths.append(np.vstack([obs, obs[-1] + velocity]))  # the last step's landing point too
    return paths


def draw_navigation(ax: Axes, curve: AdaptationCurve, *, steps: Sequence[int] | None = None, num_shown: int = 3,
                    title: str = "") -> list[str]:
    """Trajectories of goal 0 of ``curve`` after each adaptation step (thin: sampled; the goal ★).

    Returns the messages of what could not be drawn (trajectories leaving the panel), also
    written on the panel with :func:`~metalearn_lib.plotting.mark_problem`.
    """
    steps = range(len(curve.trajectories)) if steps is None else steps
    goal = curve.goals[0]
    ax.add_patch(Rectangle((-0.5, -0.5), 1.0, 1.0, fill=False, linestyle=":", color="0.6", label="goal region"))
    left: list[str] = []
    for step in steps:
        color = STEP_COLORS[step % len(STEP_COLORS)]
        for i, path in enumerate(_positions(curve, step, num_shown)):
            ax.plot(path[:, 0], path[:, 1], color=color, linewidth=1.0, alpha=0.8,
                    label=f"{plural(step, 'step')}: return {curve.returns[step, 0]:.1f}" if i == 0 else None)
            if np.any(np.abs(path) > PLOT_EXTENT):
                left.append(step)
    ax.plot([0.0], [0.0], "o", color="0.3", markersize=5)
    ax.plot([goal[0]], [goal[1]], "*", color=COLORS[3], markersize=14, label="goal")
    ax.set_xlim(-PLOT_EXTENT, PLOT_EXTENT)
    ax.set_ylim(-PLOT_EXTENT, PLOT_EXTENT)
    ax.set_aspect("equal")
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize=7)
    messages = []
    if left:
        first = sorted(set(left))
        messages.append(f"trajectories after {', '.join(plural(s, 'step') for s in first)} leave the panel "
                        f"(|x| or |y| > {PLOT_EXTENT})")
        mark_problem(ax, messages[-1], y=0.92)
    return messages


def adaptation_figure(curves: Mapping[str, AdaptationCurve], *, num_shown: int = 3, width: float = 9.0,
                      height: float = 4.2) -> Figure:
    """The paper's figure: one panel per starting policy, its trajectories after 0 … K steps."""
    figure, axes = new_figure(1, len(curves), width=width, height=height)
    for ax, (label, curve) in zip(axes[0], curves.items(), strict=True):
        draw_navigation(ax, curve, num_shown=num_shown, title=label)
    return figure


def returns_figure(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]], *, oracle: float | None = None,
                   published: Sequence[float] | None = None, title: str = "", width: float = 6.5,
                   height: float = 3.6) -> Figure:
    """Mean return ± 95 % CI against the number of adaptation steps, the oracle's optimum as a line."""
    figure, axes = new_figure(1, 1, width=width, height=height)
    ax = axes[0, 0]
    for index, (label, (mean, ci)) in enumerate(curves.items()):
        steps = np.arange(len(mean))
        ax.errorbar(steps + 0.04 * (index - len(curves) / 2), mean, yerr=ci, marker="o", capsize=3, label=label,
                    color=COLORS[index % len(COLORS)])
    if published is not None:
        ax.plot(np.arange(len(published)), published, "x", color="0.2", markersize=8, label="MAML, published")
    if oracle is not None:
        ax.axhline(oracle, color=COLORS[3], linestyle="--", label=f"oracle (exact optimum) {oracle:.2f}")
    ax.set_xlabel("adaptation steps")
    ax.set_ylabel("mean return")
    ax.set_xticks(range(max(len(m) for m, _ in curves.values())))
    ax.set_title(title)
    ax.legend(fontsize=7, loc="lower right")
    return figure


def training_figure(result: Any, *, window: int = 5, title: str = "", width: float = 6.5,
                    height: float = 3.4) -> Figure:
    """Mean return of the training batches before and after the inner step, per meta-iteration
    (a running mean over ``window``), from a :class:`~metalearn_lib.maml_rl.TrainMAMLRLResult`."""
    figure, axes = new_figure(1, 1, width=width, height=height)
    ax = axes[0, 0]
    for index, (name, label) in enumerate((("pre_return", "before the inner step"),
                                           ("post_return", "after one inner step"))):
        values = np.asarray(result.metric(name), np.float64)
        kernel = np.ones(min(window, len(values))) / min(window, len(values))
        ax.plot(np.arange(len(values)), values, color=COLORS[index], alpha=0.25, linewidth=0.8)
        smooth = np.convolve(values, kernel, mode="valid")
        ax.plot(np.arange(len(smooth)) + len(kernel) - 1, smooth, color=COLORS[index], label=label)
    ax.set_xlabel("meta-iteration")
    ax.set_ylabel("mean return of the batch")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    return figure


def action_field_figure(policy: Any, *, num: int = 13, title: str = "", width: float = 4.6,
                        height: float = 4.2) -> Figure:
    """The policy's mean action μ_θ(s) at a grid of positions (arrows, in velocity units)."""
    policy = as_gaussian_policy(policy)
    grid = np.linspace(-0.6, 0.6, num)
    xs, ys = np.meshgrid(grid, grid)
    positions = np.stack([xs.ravel(), ys.ravel()], axis=-1)[np.newaxis].astype(np.float32)
    velocity = 0.1 * np.clip(policy_mean(policy, positions).numpy()[0], -1.0, 1.0)
    figure, axes = new_figure(1, 1, width=width, height=height)
    ax = axes[0, 0]
    ax.quiver(positions[0, :, 0], positions[0, :, 1], velocity[:, 0], velocity[:, 1], color=COLORS[0],
              angles="xy", scale_units="xy", scale=1.0, width=0.004)
    ax.add_patch(Rectangle((-0.5, -0.5), 1.0, 1.0, fill=False, linestyle=":", color="0.6"))
    ax.set_xlim(-0.7, 0.7)
    ax.set_ylim(-0.7, 0.7)
    ax.set_aspect("equal")
    ax.set_title(title)
    return figure


def _explorer_view(policies: Mapping[str, Any], env: PointNavigation, name: str, goal_x: float, goal_y: float,
                   steps: int, seed: int) -> View:
    curve = adapt_to_goal(policies[name], (goal_x, goal_y), num_steps=steps, seed=seed, env=env)
    optimum = float(env.optimal_return(curve.goals)[0])
    figure, axes = new_figure(1, 2, width=9.0, height=4.0)
    draw_navigation(axes[0, 0], curve, title=f"{name}: trajectories after 0–{steps} steps")
    ax = axes[0, 1]
    ax.plot(range(steps + 1), curve.returns[:, 0], "o-", color=COLORS[0], label=f"{name} (40 trajectories a step)")
    ax.axhline(optimum, color=COLORS[3], linestyle="--", label=f"oracle {optimum:.2f}")
    ax.set_xticks(range(steps + 1))
    ax.set_xlim(-0.3, max(steps, 1) + 0.3)
    ax.set_xlabel("adaptation steps")
    ax.set_ylabel("mean return")
    ax.set_title("return on this goal")
    ax.legend(fontsize=7, loc="lower right")
    returns = ", ".join(f"{r:.1f}" for r in curve.returns[:, 0])
    if steps == 0:
        readout = (f"goal ({goal_x:.2f}, {goal_y:.2f}): {name} before adaptation returns {returns} "
                   f"(oracle {optimum:.2f}); move 'steps' to adapt it")
    else:
        readout = (f"goal ({goal_x:.2f}, {goal_y:.2f}): {name}'s return after 0…{steps} steps: {returns} "
                   f"(oracle {optimum:.2f})")
    return View(figure=figure, readout=readout, data={"returns": curve.returns[:, 0], "optimum": optimum,
                                                      "curve": curve})


def maml_rl_explorer(policies: Mapping[str, Any], *, goal: Sequence[float] = (0.3, -0.2), steps: int = 3,
                     seed: int = 0) -> WidgetApp:
    """Place a goal, pick a starting policy and the number of adaptation steps, watch the agent adapt.

    Controls, in this order: ``goal x`` and ``goal y`` (sliders, −0.5 … 0.5; the first is the
    control the browser test moves), ``steps`` (0 … 3) and ``policy`` (a dropdown of ``policies``).

    Args:
        policies: label → Gaussian policy (e.g. the shipped MAML and pretrained ones).
        goal: the initial goal, each coordinate in [−0.5, 0.5].
        steps: the initial number of steps, 0 … 3.
        seed: seeds the trajectories.

    Raises:
        ValueError: no policies, a goal outside the region, ``steps`` outside 0 … 3.
    """
    if not policies:
        raise ValueError("policies must hold at least one policy")
    policies = {name: as_gaussian_policy(p) for name, p in policies.items()}
    goal = [float(g) for g in goal]
    if len(goal) != 2 or not all(-0.5 <= g <= 0.5 for g in goal):
        raise ValueError(f"goal must be two numbers in [-0.5, 0.5], got {goal}")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= 3:
        raise ValueError(f"steps must be an int in [0, 3], got {steps!r}")
    env = PointNavigation()
    controls: dict[str, ipywidgets.ValueWidget] = {
        "goal_x": ipywidgets.FloatSlider(value=goal[0], min=-0.5, max=0.5, step=0.05, description="goal x",
                                         readout_format=".2f", continuous_update=False),
        "goal_y": ipywidgets.FloatSlider(value=goal[1], min=-0.5, max=0.5, step=0.05, description="goal y",
                                         readout_format=".2f", continuous_update=False),
        "steps": ipywidgets.IntSlider(value=steps, min=0, max=3, description="steps", continuous_update=False),
        "name": ipywidgets.Dropdown(options=list(policies), value=next(iter(policies)), description="policy"),
    }

    def render(goal_x: float, goal_y: float, steps: int, name: str) -> View:
        return _explorer_view(policies, env, name, goal_x, goal_y, int(steps), seed)

    return WidgetApp(controls, render, title="A point agent adapting to a goal by policy-gradient steps")
