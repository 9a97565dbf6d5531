"""Figures and the explorer for ``08_applications``: what a learned prior costs when the tasks shift.

* :func:`shift_explorer`: one task y = A·sin(x − φ) of MAML's family moved by offsets s_A, s_φ
  (A ∈ [0.1 + s_A, 5 + s_A], φ ∈ [s_φ, π + s_φ]; the *same* uniform draws u at every offset,
  A = a₀ + s_A + u_A (a₁ − a₀), so a slider moves the same task), its K support points and each start's
  fit after SGD steps θ'(s+1) = θ'(s) − α ⊙ ∇L^support(θ'(s)); beside it the mean query MSE over many
  tasks of the shifted family (:func:`~metalearn_lib.applications.shift.evaluate_start`).
* :func:`shift_curves_figure`, :func:`multi_task_figure`, :func:`sample_efficiency_figure` draw the rows of
  ``benchmarks/applications.py``; :func:`regressors_figure` shows separately trained regressors next to
  the (almost flat) function of their averaged parameters. Nothing here trains anything.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import ipywidgets
import numpy as np
import tensorflow as tf
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

from metalearn_lib.applications.families import shifted_family
from metalearn_lib.applications.shift import evaluate_start
from metalearn_lib.applications.starting_points import StartingPoint
from metalearn_lib.models import forward, is_batched, mse, tile_params
from metalearn_lib.plotting import COLORS, PROBLEM_COLOR, hidden_since, legend_below, mark_problem, new_figure
from metalearn_lib.tasks import SinusoidFamily, TaskBatch
from metalearn_lib.two_level import adapt
from metalearn_lib.validation import check_int, check_number, check_param_list
from metalearn_lib.widgets.core import View, WidgetApp, plural

__all__ = ["METHOD_COLORS", "METHOD_LABELS", "PHASE_SHIFTS", "ShiftGallery", "multi_task_figure", "regressors_figure",
           "sample_efficiency_figure", "shift_curves_figure", "shift_explorer"]

#: How the result rows' methods are named on figures.
METHOD_LABELS: dict[str, str] = {
    "maml": "MAML", "meta_sgd": "Meta-SGD", "pretrained": "pretrained on all tasks", "maml_broad": "MAML, broad family",
    "scratch": "from scratch", "multi_task_no_reg": "multi-task, no penalty", "multi_task_l2": "multi-task, ℓ2",
    "multi_task_mean_reg": "multi-task, pulled to mean θ", "pretrained_adam": "pretrained + Adam",
    "scratch_adam": "from scratch + Adam"}
#: One colour per method, the same on every figure (Okabe–Ito, yellow left out: too pale for lines).
METHOD_COLORS: dict[str, str] = {
    "maml": COLORS[0], "pretrained": COLORS[1], "meta_sgd": COLORS[2], "maml_broad": COLORS[4], "scratch": COLORS[7],
    "multi_task_no_reg": COLORS[3], "multi_task_l2": COLORS[5], "multi_task_mean_reg": COLORS[2],
    "pretrained_adam": COLORS[3], "scratch_adam": COLORS[7]}
#: The phase offsets the explorer offers: multiples of π/8 from 0 to π, with their labels.
PHASE_SHIFTS: tuple[tuple[str, float], ...] = tuple(
    (label, k * math.pi / 8) for k, label in enumerate(("0", "π/8", "π/4", "3π/8", "π/2", "5π/8", "3π/4", "7π/8", "π")))
_LINE_COLORS = tuple(c for c in COLORS if c != "#F0E442")
_STEP_COLORS = (COLORS[5], COLORS[0], COLORS[4], COLORS[2], COLORS[1])  # the bars of 1, 5, 10, … steps
_GRID_POINTS = 200
_SUPPORT_STYLE: dict[str, Any] = dict(s=55, color="#000000", marker="^", zorder=5, edgecolors="white", linewidths=0.8)


def _label(method: str, labels: Mapping[str, str] | None) -> str:
    if labels and method in labels:
        return labels[method]
    if method.endswith("_shared_init"):
        return f"{_label(method.removesuffix('_shared_init'), labels)}, one shared init"
    return METHOD_LABELS.get(method, method)


def _colors(methods: Sequence[str]) -> list[str]:
    """One colour per method: its own (:data:`METHOD_COLORS`) unless an earlier method took it, else a free one."""
    chosen: list[str] = []
    for method in methods:
        own = METHOD_COLORS.get(method.removesuffix("_shared_init"))
        free = [c for c in _LINE_COLORS if c not in chosen] or list(_LINE_COLORS)
        chosen.append(own if own and own not in chosen else free[0])
    return chosen


def _bounded_int(name: str, value: Any, low: int, high: int) -> int:
    if (value := check_int(name, value, low)) > high:
        raise ValueError(f"{name} must be an int in [{low}, {high}], got {value}")
    return value


def _format_mse(value: float) -> str:
    return f"{value:.3f}" if np.isfinite(value) and abs(value) < 100 else f"{value:.3g}"


class _SameSeedFamilies:
    """S families as one: ``sample(S·N, …, seed)`` concatenates each family's ``sample(N, …, seed)``, so one
    batched :func:`evaluate_start` scores the S families on exactly the tasks a call per family would."""

    def __init__(self, families: Sequence[SinusoidFamily]) -> None:
        self.families = list(families)

    def sample(self, num_tasks: int, num_shots: int, num_query: int | None = None, *, seed: int) -> TaskBatch:
        batches = [f.sample(num_tasks // len(self.families), num_shots, num_query, seed=seed) for f in self.families]
        return TaskBatch(*(tf.concat([getattr(b, n) for b in batches], axis=0)
                           for n in ("support_x", "support_y", "query_x", "query_y")),
                         {k: tf.concat([b.task_params[k] for b in batches], axis=0) for k in ("amplitude", "phase")})


class ShiftGallery:
    """Fits and errors of several starts on sinusoid tasks moved by an amplitude and a phase offset.

    The family of offset (s_A, s_φ) is :meth:`family`; its ``num_tasks`` shown tasks are
    ``family.sample(num_tasks, num_shots, num_query, seed=seed)``, its ``num_average_tasks`` (≥ 2) scored
    tasks use ``average_seed``. Each start is fine-tuned with its own α for 0 … ``max_steps`` SGD steps
    on the same K points. Results are kept per offset; :meth:`precompute` batches many offsets.

    Raises:
        TypeError: ``starts`` is not a non-empty mapping {label: StartingPoint}.
        ValueError, TypeError: a count out of range (named).
    """

    def __init__(self, starts: Mapping[str, StartingPoint], *, num_tasks: int = 5, num_shots: int = 5,
                 max_steps: int = 10, num_query: int = 100, num_average_tasks: int = 100, seed: int = 3_000_000,
                 average_seed: int = 10_005) -> None:
        if not isinstance(starts, Mapping) or not starts or not all(
                isinstance(k, str) and isinstance(v, StartingPoint) for k, v in starts.items()):
            raise TypeError(f"starts must be a non-empty mapping {{label: StartingPoint}}, got {starts!r:.80}")
        self.starts = dict(starts)
        self.num_tasks, self.num_shots = check_int("num_tasks", num_tasks), check_int("num_shots", num_shots)
        self.max_steps, self.num_query = check_int("max_steps", max_steps), check_int("num_query", num_query)
        self.num_average_tasks = check_int("num_average_tasks", num_average_tasks, 2)
        self.seed, self.average_seed = check_int("seed", seed, 0), check_int("average_seed", average_seed, 0)
        self.colors = dict(zip(self.starts, _colors([s.name for s in self.starts.values()]), strict=True))
        self.grid, self._cache = np.linspace(-5.0, 5.0, _GRID_POINTS), {}

    @staticmethod
    def key(amplitude_shift: float, phase_shift: float) -> tuple[float, float]:
        """The cache key of an offset (rounded, so a browser's 3·(π/8) is the same offset as Python's)."""
        return (round(check_number("amplitude_shift", amplitude_shift, positive=False), 6),
                round(check_number("phase_shift", phase_shift, positive=False), 6))

    @staticmethod
    def family(amplitude_shift: float, phase_shift: float) -> SinusoidFamily:
        """MAML's sinusoids with A ∈ [0.1 + s_A, 5 + s_A] and φ ∈ [s_φ, π + s_φ]."""
        return shifted_family("phase", float(phase_shift), base=shifted_family("amplitude", float(amplitude_shift)))

    def precompute(self, offsets: Iterable[tuple[float, float]]) -> None:
        """Compute every offset not yet kept, all in one batch per start."""
        if not (keys := list(dict.fromkeys(k for a, p in offsets if (k := self.key(a, p)) not in self._cache))):
            return
        families = [self.family(*k) for k in keys]
        shown = _SameSeedFamilies(families).sample(len(keys) * self.num_tasks, self.num_shots, self.num_query,
                                                   seed=self.seed)
        grid_x = tf.constant(np.broadcast_to(self.grid[None, :, None], (len(keys) * self.num_tasks, _GRID_POINTS, 1)),
                             shown.support_x.dtype)
        results: dict[str, Any] = {}
        steps = tuple(range(self.max_steps + 1))
        for label, start in self.starts.items():
            adapted, fits, errors = tile_params(start.params, len(keys) * self.num_tasks), [], []
            for step in steps:
                if step:  # θ' ← θ' − α ⊙ ∇L^support(θ'), the same K points at every step
                    adapted = adapt(adapted, shown.support_x, shown.support_y, inner_lr=start.inner_lr,
                                    first_order=True)
                fits.append(forward(adapted, grid_x).numpy()[..., 0])
                errors.append(mse(forward(adapted, shown.query_x), shown.query_y).numpy())
            evaluation = evaluate_start(start, _SameSeedFamilies(families), steps=steps, seed=self.average_seed,
                                        num_tasks=len(keys) * self.num_average_tasks, num_shots=self.num_shots)
            per_task = np.asarray(evaluation.per_task_mse, np.float64).reshape(len(steps), len(keys), -1)
            with np.errstate(invalid="ignore", over="ignore"):
                mean, ci = per_task.mean(axis=2), 1.96 * per_task.std(axis=2) / math.sqrt(self.num_average_tasks)
            results[label] = (np.asarray(fits, np.float64).reshape(len(steps), len(keys), self.num_tasks, -1),
                              np.asarray(errors, np.float64).reshape(len(steps), len(keys), self.num_tasks),
                              mean, ci)
        arrays = {"support_x": shown.support_x[..., 0], "support_y": shown.support_y[..., 0], **shown.task_params}
        for i, key in enumerate(keys):
            tasks = slice(i * self.num_tasks, (i + 1) * self.num_tasks)
            self._cache[key] = {**{name: np.asarray(v, np.float64)[tasks] for name, v in arrays.items()}, **{
                label: {"fits": r[0][:, i], "query_mse": r[1][:, i], "mean": r[2][:, i], "ci95": r[3][:, i]}
                for label, r in results.items()}}

    def results(self, amplitude_shift: float, phase_shift: float) -> dict[str, Any]:
        """Everything kept for an offset (computed the first time it is asked for)."""
        self.precompute([key := self.key(amplitude_shift, phase_shift)])
        return self._cache[key]

    @staticmethod
    def ylim(amplitude: float) -> tuple[float, float]:
        """The y-range of a task of amplitude A: ±⌈1.25 A + 0.75⌉ (whole numbers: small moves keep it)."""
        top = float(math.ceil(1.25 * abs(amplitude) + 0.75))
        return -top, top

    def view(self, amplitude_shift: float, phase_shift: float, num_steps: int, task: int) -> View:
        """The explorer's render function (see :func:`shift_explorer`)."""
        task = _bounded_int("task", task, 0, self.num_tasks - 1)
        num_steps = _bounded_int("num_steps", num_steps, 0, self.max_steps)
        result, reference = self.results(amplitude_shift, phase_shift), self.results(0.0, 0.0)
        family = self.family(*self.key(amplitude_shift, phase_shift))
        amplitude, phase = float(result["amplitude"][task]), float(result["phase"][task])
        truth = amplitude * np.sin(self.grid - phase)
        ylim = self.ylim(amplitude)
        figure, axes = new_figure(1, 2, width=9.0, height=4.1)
        axes[0, 0].get_gridspec().set_width_ratios([1.65, 1.0])
        ax, avg = axes[0, 0], axes[0, 1]
        ax.plot(self.grid, truth, color="#000000", lw=2.4, alpha=0.45, label="true function")
        fits, query, mean, ci, failed = {}, {}, {}, {}, {}
        for label, start in self.starts.items():
            kept = result[label]
            alpha = "learned α" if isinstance(start.inner_lr, list) else f"α = {float(start.inner_lr):g}"
            fits[label], query[label] = kept["fits"][num_steps, task], float(kept["query_mse"][num_steps, task])
            mean[label], ci[label] = float(kept["mean"][num_steps]), float(kept["ci95"][num_steps])
            hidden = hidden_since(kept["fits"][: num_steps + 1, task], ylim)
            if (bad := np.flatnonzero(~np.isfinite(kept["query_mse"][: num_steps + 1, task]))).size:
                hidden = (int(bad[0]), "not finite")  # the fit may be finite and its squared error not
            if hidden is not None:
                failed[label] = hidden
                mark_problem(ax, f"{label} diverged at step {hidden[0]}: SGD with {alpha} gives NaN or inf"
                             if hidden[1] == "not finite" else
                             f"{label}'s fit is off the chart from step {hidden[0]} (MSE {_format_mse(query[label])})")
            shown = "diverged" if not np.isfinite(query[label]) else f"task MSE {_format_mse(query[label])}"
            ax.plot(self.grid, fits[label], color=self.colors[label], lw=2.0, label=f"{label}: {shown}")
        steps = np.arange(self.max_steps + 1.0)
        _draw_curves(avg, {n: (steps, result[n]["mean"], result[n]["ci95"]) for n in self.starts}, self.colors,
                     {n: n for n in self.starts}, where="step", marker_size=3,
                     header="SGD diverged at this step size\n(mean MSE not finite or > 1000):",
                     dotted={n: reference[n]["mean"] for n in self.starts} if amplitude_shift or phase_shift else None)
        for label, value in mean.items():
            if np.isfinite(value) and value <= 1e3:
                avg.plot([num_steps], [value], "o", color=self.colors[label], ms=8, mec="white", mew=1.2, zorder=5)
        ax.scatter(result["support_x"][task], result["support_y"][task], label=f"{self.num_shots} support points",
                   **_SUPPORT_STYLE)
        (lo, hi), (plo, phi) = family.amplitude_range, family.phase_range
        ax.set(ylim=ylim, xlim=(-5.0, 5.0), xlabel="x", ylabel="y")
        ax.set_title(f"task {task}: A = {amplitude:.2f}, φ = {phase:.2f}, after {plural(num_steps, 'SGD step')}",
                     fontsize=10)
        avg.axvline(num_steps, color="0.5", lw=0.8, ls="--")
        avg.set(xlim=(-0.3, self.max_steps + 0.3), xlabel="SGD steps on the support points",
                ylabel=f"mean {self.num_shots}-shot query MSE")
        avg.set_title(f"mean over {self.num_average_tasks} tasks of this family:\nA ∈ [{lo:.1f}, {hi:.1f}], "
                      f"φ ∈ [{plo:.2f}, {phi:.2f}]", fontsize=9.5)
        handles, _ = ax.get_legend_handles_labels()
        handles += [Line2D([], [], color="0.3", lw=1.8, marker="o", ms=3, label="mean ± 95 % CI (right)")]
        if amplitude_shift or phase_shift:
            handles.append(Line2D([], [], color="0.3", lw=1.2, ls=":", label="dotted: no shift (right)"))
        legend_below(figure, handles, ncol=3, fontsize=8)
        readout = (
            f"offsets: amplitude +{self.key(amplitude_shift, phase_shift)[0]:g}, phase +{phase_shift:.2f}   "
            f"→ A ∈ [{lo:.1f}, {hi:.1f}], φ ∈ [{plo:.2f}, {phi:.2f}]\ntask {task}: A = {amplitude:.2f}, "
            f"φ = {phase:.2f}   K = {self.num_shots}, {plural(num_steps, 'step')} of SGD\n"
            f"this task's query MSE ({self.num_query} points):   "
            + "   ".join(f"{n} {'diverged' if not np.isfinite(q) else _format_mse(q)}" for n, q in query.items())
            + f"\nmean over {self.num_average_tasks} tasks ± 95 % CI:   "
            + "   ".join(f"{n} {_format_mse(m)} ± {_format_mse(ci[n])}" if np.isfinite(m) else f"{n} diverged"
                         for n, m in mean.items()))
        data = {"amplitude_shift": amplitude_shift, "phase_shift": phase_shift, "num_steps": num_steps, "task": task,
                "amplitude": amplitude, "phase": phase, "amplitude_range": (lo, hi), "phase_range": (plo, phi),
                "support_x": result["support_x"][task], "support_y": result["support_y"][task], "grid": self.grid,
                "truth": truth, "fits": fits, "query_mse": query, "average_mse": mean, "average_ci95": ci,
                "failed": failed}
        return View(figure=figure, readout=readout, data=data)


def shift_explorer(starts: Mapping[str, StartingPoint], *, amplitude_shift: float = 0.0, phase_shift: float = 0.0,
                   num_steps: int = 1, task: int = 0, num_tasks: int = 5, num_shots: int = 5, max_steps: int = 10,
                   max_amplitude_shift: float = 7.5, amplitude_step: float = 0.5, num_average_tasks: int = 100,
                   seed: int = 3_000_000, average_seed: int = 10_005) -> WidgetApp:
    """Move MAML's sinusoid family and watch what each start's prior costs on one task and on average.

    ``starts`` is ``{label: StartingPoint}`` (e.g. ``{"MAML": …, "pretrained": …}``). Controls, in order: the
    amplitude offset s_A (0 … ``max_amplitude_shift``), the phase offset s_φ (0 … π in steps of π/8,
    :data:`PHASE_SHIFTS`), the SGD steps (0 … ``max_steps``) and the task. Left: the task, its K support
    points, each start's fit and its query MSE on the task. Right: each start's mean K-shot query MSE ±
    95 % CI over ``num_average_tasks`` tasks of the shifted family against the steps (dotted: unshifted).
    Diverged SGD is said in words. The offsets along both slider axes through the initial setting are
    computed when the explorer is built (one batch per start), others when first shown, then kept.

    Raises:
        TypeError, ValueError: a bad ``starts`` or an argument out of range (named).
    """
    gallery = ShiftGallery(starts, num_tasks=num_tasks, num_shots=num_shots, max_steps=max_steps,
                           num_average_tasks=num_average_tasks, seed=seed, average_seed=average_seed)
    amplitude_step = check_number("amplitude_step", amplitude_step)
    max_amplitude_shift = check_number("max_amplitude_shift", max_amplitude_shift)
    if max_amplitude_shift < amplitude_step:
        raise ValueError(f"max_amplitude_shift must be >= amplitude_step = {amplitude_step:g}, "
                         f"got {max_amplitude_shift:g}")
    amplitude_shift = check_number("amplitude_shift", amplitude_shift, positive=False)
    if amplitude_shift > max_amplitude_shift:
        raise ValueError(f"amplitude_shift must be in [0, {max_amplitude_shift:g}], got {amplitude_shift:g}")
    phases = [value for _, value in PHASE_SHIFTS]
    asked = check_number("phase_shift", phase_shift, positive=False)
    phase_shift = min(phases, key=lambda p: abs(p - asked))
    if abs(phase_shift - asked) > 1e-9:
        raise ValueError(f"phase_shift must be a multiple of π/8 in [0, π], got {asked!r}")
    _bounded_int("num_steps", num_steps, 0, gallery.max_steps)
    _bounded_int("task", task, 0, gallery.num_tasks - 1)
    gallery.precompute([(float(a), phase_shift) for a in np.arange(0.0, max_amplitude_shift + 1e-9, amplitude_step)]
                       + [(amplitude_shift, p) for p in phases] + [(0.0, 0.0)])
    common: dict[str, Any] = dict(continuous_update=False, style={"description_width": "initial"})
    controls = {
        "amplitude_shift": ipywidgets.FloatSlider(value=amplitude_shift, min=0.0, max=max_amplitude_shift,
                                                  step=amplitude_step, readout_format=".1f",
                                                  description="amplitude offset", **common),
        "phase_shift": ipywidgets.SelectionSlider(options=list(PHASE_SHIFTS), value=phase_shift,
                                                  description="phase offset", **common),
        "num_steps": ipywidgets.IntSlider(value=int(num_steps), min=0, max=gallery.max_steps, description="SGD steps",
                                          **common),
        "task": ipywidgets.IntSlider(value=int(task), min=0, max=gallery.num_tasks - 1, description="task", **common),
    }
    app = WidgetApp(controls, gallery.view, title="Shift the task family: what does each prior cost?")
    app.gallery = gallery  # type: ignore[attr-defined]  # for tests and curious learners
    return app


# ----------------------------------------------------------------------------------------------
# static figures of the result rows
# ----------------------------------------------------------------------------------------------

_SHIFT_AXES = {"amplitude": "amplitude offset s  (A ∈ [0.1 + s, 5 + s])", "phase": "phase offset s  (φ ∈ [s, π + s])",
               "input": "input offset s  (x ∈ [−5 + s, 5 + s])"}


def _select(rows: Iterable[Mapping[str, Any]], experiment: str, required: Sequence[str]) -> list[Mapping]:
    """The rows of ``experiment`` (or without an ``"experiment"``), each with the keys ``required``."""
    if isinstance(rows, Mapping | str) or not isinstance(rows, Iterable):
        raise TypeError(f"rows must be a sequence of result rows (dicts), got {type(rows).__name__}")
    chosen = []
    for row in rows:
        if not isinstance(row, Mapping):
            raise TypeError(f"rows must hold dicts, got {type(row).__name__}")
        if row.get("experiment", experiment) == experiment:
            missing = [k for k in required if k not in row]
            if missing:
                raise ValueError(f"a row {dict(row)} lacks the keys {missing}")
            chosen.append(row)
    return chosen


def _methods(chosen: Sequence[Mapping], methods: Sequence[str] | None) -> list[str]:
    present = list(dict.fromkeys(str(r["method"]) for r in chosen))
    if methods is None:
        order = [m for base in METHOD_LABELS for m in (base, f"{base}_shared_init")]
        return sorted(present, key=lambda m: order.index(m) if m in order else len(order) + present.index(m))
    missing = [m for m in methods if m not in present]
    if missing or not methods:
        raise ValueError(f"methods must name methods of the rows {present}, got {list(methods)}")
    return list(methods)


def _number(row: Mapping[str, Any], key: str) -> float:
    """``row[key]`` as a float; ``None`` (how JSON writes NaN) is NaN: a diverged result."""
    return math.nan if row[key] is None else float(row[key])


def _pi_text(value: float) -> str:
    """``0``, ``π/4``, …, ``π`` for multiples of π/4 up to π, else two decimals."""
    k = round(value / (math.pi / 4))
    exact = abs(value - k * math.pi / 4) < 1e-6 and 0 <= k <= 4
    return ("0", "π/4", "π/2", "3π/4", "π")[k] if exact else f"{value:.2f}"


def _draw_curves(ax: Axes, curves: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]], colors: Mapping[str, str],
                 labels: Mapping[str, str], *, where: str, header: str = "not drawn (diverged or > 1000):",
                 fmt: Any = "{:g}".format, short: Mapping[str, str] | None = None,
                 dotted: Mapping[str, np.ndarray] | None = None, marker_size: float = 4, also: Sequence[float] = ()
                 ) -> None:
    """Mean ± CI curves (and ``dotted`` reference curves) on a log y axis labelled in plain numbers (no
    mathtext: quick to draw) that shows them and ``also``. Points not finite or above 1000 are left out and
    said in words in room kept free above the data: ``header``, then "<curve> at <where> = <x values>"."""
    unshown, shown = [], [float(v) for v in also]
    for name, (x, mean, ci) in curves.items():
        ok = np.isfinite(mean) & (mean > 0) & (mean <= 1e3)
        mean_ok, ci_ok = np.where(ok, mean, np.nan), np.where(ok, np.nan_to_num(ci), np.nan)
        ax.plot(x, mean_ok, color=colors[name], lw=1.8, marker="o", ms=marker_size, label=labels[name])
        ax.fill_between(x, np.maximum(mean_ok - ci_ok, mean_ok / 3), mean_ok + ci_ok, color=colors[name], alpha=0.15,
                        lw=0)
        if dotted is not None:
            reference = np.where(np.isfinite(dotted[name]) & (dotted[name] > 0) & (dotted[name] <= 1e3), dotted[name],
                                 np.nan)
            ax.plot(x, reference, color=colors[name], lw=1.2, ls=":")
            shown += list(reference[np.isfinite(reference)])
        shown += list(mean_ok[ok])
        if not ok.all():
            first = int(np.argmin(ok))  # "s ≥ 5" when every point from the first one left out is left out
            left_out = f"≥ {fmt(x[first])}" if (~ok[first:]).all() and len(x) - first > 2 else "= " + ", ".join(
                fmt(v) for v in x[~ok])
            unshown.append(f"{(short or labels)[name]} at {where} {left_out}")
    low, high = (min(shown) / 1.6, max(shown) * 1.6) if shown else (0.1, 10.0)
    if unshown:  # the note's share of the panel's height (a 9-pt line over a panel ≈ 0.6 of the figure's height)
        free = (len(unshown) + header.count("\n") + 1) * 9 * 1.3 / 72 / (0.6 * ax.figure.get_size_inches()[1]) + 0.06
        high = low * (high / low) ** (1.0 / (1.0 - free))
        mark_problem(ax, f"{header}\n" + "\n".join(unshown), y=1.0 - free / 2)
    ax.set_yscale("log")
    ax.set_ylim(low, high)
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if high / low < 300 else (1.0,)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_locator(NullLocator())


def shift_curves_figure(rows: Iterable[Mapping[str, Any]], kind: str, *, steps: Sequence[int] = (1, 10),
                        metric: str = "mse", methods: Sequence[str] | None = None,
                        labels: Mapping[str, str] | None = None, title: str = "", width: float = 9.0,
                        height: float = 3.6) -> Figure:
    """Query MSE (``metric="mse"``) or normalised MSE (``"nmse"``) ± 95 % CI against the shift, one line per
    method and one panel per step count (log y axis; a diverged result is said in words, not drawn).

    Args:
        rows: ``{"method", "shift_kind", "shift", "steps", "mse", "ci95", "nmse", "nmse_ci95"}`` each
            (``shift_rows``' rows; other experiments' rows are skipped).
        kind: the shift kind drawn (``"amplitude"``, ``"phase"``, ``"input"``), with ≥ 2 shifts in ``rows``.

    Raises:
        ValueError: an unknown ``metric``, a ``kind`` without two shifts, or a step count or method without rows.
    """
    if metric not in ("mse", "nmse"):
        raise ValueError(f"metric must be 'mse' or 'nmse', got {metric!r}")
    ci_key = "ci95" if metric == "mse" else "nmse_ci95"
    chosen = [r for r in _select(rows, "shift_sinusoid", ("method", "shift_kind", "shift", "steps", metric, ci_key))
              if r["shift_kind"] == kind]
    shifts = sorted({float(r["shift"]) for r in chosen})
    if len(shifts) < 2:
        raise ValueError(f"kind must name a shift kind with at least two shifts in rows, got {kind!r} "
                         f"({len(shifts)} shifts)")
    steps = [check_int("steps", s, 0) for s in steps]
    missing = [s for s in steps if not any(int(r["steps"]) == s for r in chosen)]
    if not steps or missing:
        raise ValueError(f"steps must name step counts present in the rows, got {steps} (missing {missing})")
    methods = _methods(chosen, methods)
    colors, names = dict(zip(methods, _colors(methods), strict=True)), {m: _label(m, labels) for m in methods}
    figure, axes = new_figure(1, len(steps), width=width, height=height)
    for col, s in enumerate(steps):
        ax = axes[0, col]
        curves = {}
        for method in methods:
            mine = sorted((r for r in chosen if r["method"] == method and int(r["steps"]) == s),
                          key=lambda r: float(r["shift"]))
            curves[method] = (np.array([float(r["shift"]) for r in mine]),
                              *(np.array([_number(r, k) for r in mine]) for k in (metric, ci_key)))
        _draw_curves(ax, curves, colors, names, where="s", fmt=_pi_text if kind == "phase" else "{:g}".format)
        ax.set_xlabel(_SHIFT_AXES.get(kind, f"{kind} offset s"), fontsize=9)
        if kind == "phase":
            ticks = [k * math.pi / 4 for k in range(5) if k * math.pi / 4 <= shifts[-1] + 1e-9]
            ax.set_xticks(ticks, [_pi_text(t) for t in ticks])
        ax.set_title(f"after {plural(s, 'SGD step')}")
        if col == 0:
            ax.set_ylabel("query MSE (log scale)" if metric == "mse" else "normalised MSE (log scale)")
    legend_below(figure, axes[0, 0].get_legend_handles_labels()[0], ncol=min(len(methods), 4))
    if title:
        figure.suptitle(title)
    return figure


def multi_task_figure(rows: Iterable[Mapping[str, Any]], *, steps: Sequence[int] = (1, 5, 10),
                      methods: Sequence[str] | None = None, labels: Mapping[str, str] | None = None,
                      max_shown: float = 10.0, title: str = "", width: float = 7.5, height: float | None = None
                      ) -> Figure:
    """5-shot query MSE ± 95 % CI after each step count, as horizontal bars per method; the MAML
    authors' published values (the rows' ``"published"``, where not ``None``) as diamonds. A bar above
    ``max_shown`` is cut there, hatched, with its value written; a diverged one (NaN) says so.

    Args:
        rows: ``{"experiment": "multi_task", "method", "steps", "mse", "ci95", "published"}`` each.

    Raises:
        ValueError: no multi-task rows, a method without rows, or a (method, steps) pair missing.
    """
    if not (chosen := _select(rows, "multi_task", ("method", "steps", "mse", "ci95"))):
        raise ValueError("rows must hold multi-task rows (experiment 'multi_task': method, steps, mse, ci95)")
    methods, steps = _methods(chosen, methods), [check_int("steps", s, 0) for s in steps]
    table = {(str(r["method"]), int(r["steps"])): r for r in chosen}
    missing = [(m, s) for m in methods for s in steps if (m, s) not in table]
    if missing or not steps:
        raise ValueError(f"steps must name step counts with a row for every method, got {steps} (missing {missing})")
    height = 1.4 + 0.19 * len(methods) * len(steps) if height is None else height
    figure, axes = new_figure(width=width, height=height)
    ax, bar = axes[0, 0], 0.8 / len(steps)
    max_shown, published = check_number("max_shown", max_shown), []
    for j, s in enumerate(steps):
        y = np.arange(len(methods)) + (j - (len(steps) - 1) / 2) * bar
        values = np.array([_number(table[(m, s)], "mse") for m in methods])
        ci = np.nan_to_num(np.array([_number(table[(m, s)], "ci95") for m in methods]))
        cut = ~np.isfinite(values) | (values > max_shown)
        bars = ax.barh(y, np.where(cut, np.where(np.isnan(values), 0.0, max_shown), values), height=bar * 0.9,
                       xerr=np.where(cut, 0.0, ci), capsize=2, color=_STEP_COLORS[j % len(_STEP_COLORS)],
                       error_kw={"lw": 0.9}, label=f"after {plural(s, 'step')}")
        for patch, yy, value in zip(bars, y, values, strict=True):
            if np.isnan(value) or value > max_shown:
                patch.set_hatch("////")
                ax.text(max_shown if value > max_shown else 0.05, yy, "diverged (NaN)" if np.isnan(value)
                        else f"{value:.3g} ›", ha="right" if value > max_shown else "left", va="center", fontsize=7,
                        color=PROBLEM_COLOR, bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
        published += [(float(table[(m, s)]["published"]), yy) for m, yy in zip(methods, y, strict=True)
                      if table[(m, s)].get("published") is not None]
    if published:
        ax.plot(*zip(*published, strict=True), "D", color="#000000", mfc="white", ms=5, mew=1.3,
                label="published (Finn et al.)")
    ax.set(xlim=(0.0, min(ax.get_xlim()[1], max_shown * 1.02)), xlabel="5-shot query MSE after fine-tuning (lower is "
           "better)")
    ax.set_yticks(np.arange(len(methods)), [_label(m, labels) for m in methods])
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    ax.set_title(title or "Averaged separate regressors vs MAML and pretraining", fontsize=10)
    handles = sorted(ax.get_legend_handles_labels()[0], key=lambda h: isinstance(h, Line2D))  # bars, then published
    legend_below(figure, handles, ncol=len(steps) + bool(published))
    return figure


def sample_efficiency_figure(rows: Iterable[Mapping[str, Any]], *, target_mse: float = 0.5,
                             methods: Sequence[str] | None = None, labels: Mapping[str, str] | None = None,
                             title: str = "", width: float = 6.5, height: float = 4.2) -> Figure:
    """Mean query MSE ± 95 % CI against the number of support points K (log–log), one line per method,
    the target MSE dashed; each legend entry says the smallest K that reaches the target.

    Args:
        rows: ``{"experiment": "sample_efficiency", "method", "num_shots", "mse", "ci95"}`` each
            (an optional ``"protocol"`` is added to the label).

    Raises:
        ValueError: no sample-efficiency rows, a method without rows, or a bad ``target_mse``.
    """
    target_mse = check_number("target_mse", target_mse)
    if not (chosen := _select(rows, "sample_efficiency", ("method", "num_shots", "mse", "ci95"))):
        raise ValueError("rows must hold sample-efficiency rows (experiment 'sample_efficiency': method, num_shots, …)")
    methods = _methods(chosen, methods)
    curves, names = {}, {}
    for method in methods:
        mine = sorted((r for r in chosen if r["method"] == method), key=lambda r: int(r["num_shots"]))
        k = np.array([int(r["num_shots"]) for r in mine], np.float64)
        mean, ci = (np.array([_number(r, key) for r in mine]) for key in ("mse", "ci95"))
        curves[method] = (k, mean, ci)
        reached = [int(kk) for kk, m in zip(k, mean, strict=True) if np.isfinite(m) and m <= target_mse]
        names[method] = (f"{_label(method, labels)}{f' ({p})' if (p := mine[0].get('protocol')) else ''}: "
                         + (f"K = {reached[0]}" if reached else f"not by K = {int(k[-1])}"))
    figure, axes = new_figure(width=width, height=height)
    _draw_curves(ax := axes[0, 0], curves, dict(zip(methods, _colors(methods), strict=True)), names, where="K",
                 short={m: _label(m, labels) for m in methods}, also=(target_mse,))
    ax.axhline(target_mse, color="0.35", lw=1.2, ls="--", label=f"target MSE {target_mse:g}")
    shots = sorted({int(r["num_shots"]) for r in chosen})
    ax.set(xscale="log", xlabel="support points K of the new task (log scale)",
           ylabel="query MSE after fine-tuning (log scale)")
    ax.set_xticks(shots, [str(s) for s in shots])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_title(title or "Points needed to reach the target (legend: smallest K)", fontsize=10)
    legend_below(figure, ax.get_legend_handles_labels()[0], ncol=1)
    return figure


def regressors_figure(stacked_params: Sequence[tf.Tensor], amplitude: Any, phase: Any,
                      average_params: Sequence[tf.Tensor] | Mapping[str, Sequence[tf.Tensor]], *, num_shown: int = 4,
                      title: str = "", width: float = 9.0, height: float = 3.6) -> Figure:
    """Left: ``num_shown`` of the separately trained regressors, each over its own sinusoid
    y = A_i·sin(x − φ_i) (dashed); right: the function of the averaged parameters θ̄ (one network, or
    ``{label: params}``) over the same sinusoids, on the same y-range.

    Args:
        stacked_params: the N regressors, stacked (``W1: [N, 1, h]``).
        amplitude, phase: ``[N]``, each regressor's task.
        average_params: θ̄, shared parameters (``W1: [1, h]``), or a mapping of labels to such.

    Raises:
        ValueError, TypeError: parameters of the wrong layout, task arrays of the wrong length, a bad ``num_shown``.
    """
    if not is_batched(stacked := check_param_list("stacked_params", stacked_params)):
        raise ValueError("stacked_params must carry a leading regressor axis (W1 of rank 3)")
    count = int(stacked[0].shape[0])
    amplitude, phase = (np.asarray(v, np.float64).ravel() for v in (amplitude, phase))
    if amplitude.shape != (count,) or phase.shape != (count,):
        raise ValueError(f"amplitude and phase must hold one value per regressor ({count}), got {amplitude.shape} "
                         f"and {phase.shape}")
    num_shown = _bounded_int("num_shown", num_shown, 1, count)
    averages = dict(average_params) if isinstance(average_params, Mapping) else {"averaged θ̄": average_params}
    averages = {label: check_param_list("average_params", p) for label, p in averages.items()}
    if not averages or any(is_batched(p) for p in averages.values()):
        raise ValueError("average_params must be shared parameters (W1 of rank 2), or a mapping of labels to such")
    grid = np.linspace(-5.0, 5.0, _GRID_POINTS)
    x = tf.constant(np.broadcast_to(grid[None, :, None], (num_shown, _GRID_POINTS, 1)), stacked[0].dtype)
    fits = forward([p[:num_shown] for p in stacked], x).numpy()[..., 0]
    truths = amplitude[:num_shown, None] * np.sin(grid[None, :] - phase[:num_shown, None])
    figure, axes = new_figure(1, 2, width=width, height=height)
    left, right = axes[0, 0], axes[0, 1]
    for i in range(num_shown):
        color = _LINE_COLORS[i % len(_LINE_COLORS)]
        left.plot(grid, truths[i], color=color, lw=1.0, ls="--", alpha=0.8)
        left.plot(grid, fits[i], color=color, lw=1.9)
        right.plot(grid, truths[i], color=color, lw=1.0, ls="--", alpha=0.6)
    ranges = []
    for j, (label, params) in enumerate(averages.items()):
        values = forward(params, tf.constant(grid[:, None], params[0].dtype)).numpy()[:, 0]
        ranges.append(f"{label}: f(x) ∈ [{values.min():.2f}, {values.max():.2f}]")
        right.plot(grid, values, color=("#000000", COLORS[3], COLORS[4])[j % 3], lw=2.6, label=label)
    top = max(1.1 * np.abs(truths).max(), min(np.abs(fits).max(), 2.0 * np.abs(truths).max())) + 0.4
    for ax, heading in ((left, f"{num_shown} of the {count} regressors, each on its own task"),
                        (right, "the function of their averaged parameters")):
        ax.set(ylim=(-top, top), xlabel="x")
        ax.set_title(heading, fontsize=10)
    left.set_ylabel("y")
    right.text(0.03, 0.04, "\n".join(ranges), transform=right.transAxes, fontsize=8, va="bottom",
               bbox={"facecolor": "white", "edgecolor": "0.8", "alpha": 0.9})
    handles = [Line2D([], [], color="0.3", lw=1.9, label="a regressor's fit"),
               Line2D([], [], color="0.3", lw=1.0, ls="--", label="its sinusoid A·sin(x − φ)"),
               *right.get_legend_handles_labels()[0]]
    legend_below(figure, handles, ncol=len(handles))
    if title:
        figure.suptitle(title)
    return figure
