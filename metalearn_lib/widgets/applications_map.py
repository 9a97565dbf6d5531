"""Chapter 8's synthesis figures: curves over the rounds of a stream, and the course on one map.

* :func:`round_curves_figure` — one line per learner over the rounds t = 1 … T of an online stream
  (a loss, a regret, a weight), optionally smoothed by a trailing moving average and on a log axis;
  values that cannot be drawn (not finite, or ≤ 0 on a log axis) are said on the figure, not drawn.
* :func:`course_map_entries` and :func:`course_map_figure` — "learning the learning process": every
  chapter placed by *what it learns* (a prior, an initialisation, weights over models, step sizes,
  an exploration strategy), each with one measured line whose numbers are read from the committed
  benchmark results (``benchmarks/results/*.json``), never typed in. Nothing here trains or evaluates anything.
"""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from metalearn_lib.faq_and_errata.results import NotMeasured as _NotMeasured
from metalearn_lib.faq_and_errata.results import format_number as _num
from metalearn_lib.faq_and_errata.results import format_pm as _pm
from metalearn_lib.faq_and_errata.results import load_result as _load
from metalearn_lib.faq_and_errata.results import result_row as _row
from metalearn_lib.faq_and_errata.results import results_folder
from metalearn_lib.plotting import COLORS, PROBLEM_COLOR, legend_below, mark_problem, new_figure
from metalearn_lib.validation import check_int, check_number
from metalearn_lib.widgets.core import plural

__all__ = ["CHAPTER_TITLES", "LEARNED_CATEGORIES", "course_map_entries", "course_map_figure", "round_curves_figure"]

#: What a chapter learns, in the order of the map's columns (the order the course meets them).
LEARNED_CATEGORIES: tuple[str, ...] = (
    "a prior", "an initialisation", "weights over models", "step sizes / an update rule",
    "an exploration strategy (in a memory)", "— (what a learned prior costs)")
#: The course's chapters, as the course map names them.
CHAPTER_TITLES: dict[int, str] = {1: "mapping", 2: "two-level learning", 3: "model averaging",
                                  4: "teacher-guided loop", 5: "meta-RL on bandits", 6: "MAML-RL",
                                  7: "meta-RL on MDPs", 8: "applications"}
_MARKER_GID = "course-map-marker"
_MAP_TITLE = "Learning the learning process: what each chapter learns (columns), and one thing it measured"
_TEXT_COLOR, _MUTED_COLOR = "#222222", "#6E6E6E"


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean m_t = (1 / min(t, w)) · Σ_{s = max(1, t − w + 1)}^{t} v_s for t = 1 … T (not finite
    where the window holds a value that is not finite)."""
    sums = np.lib.stride_tricks.sliding_window_view(np.concatenate([np.zeros(window - 1), values]), window)
    return sums.sum(axis=1) / np.minimum(np.arange(1, values.size + 1), window)


def _minor_log_label(value: float, _position: int) -> str:
    """Plain labels for the minor ticks 2, 3 and 5 × 10ᵏ of a log axis (the others stay unlabelled)."""
    mantissa = value / 10 ** math.floor(math.log10(value)) if value > 0 else 0.0
    return f"{value:g}" if any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (2, 3, 5)) else ""


def round_curves_figure(curves: Mapping[str, Sequence[float]], *, ylabel: str, xlabel: str = "round t",
                        log: bool = False, smooth: int = 1, title: str = "", width: float = 6.5,
                        height: float = 3.4, every: int = 1) -> Figure:
    """One line per learner over the rounds t = 1 … T of a stream, with one legend under the panel.

    Args:
        curves: label → the learner's value at each round (1-D, ≥ 1 value; lengths may differ).
        ylabel, xlabel, title: the panel's texts; log: a logarithmic y axis (ticks as plain numbers).
        smooth: window w ≥ 1 of the trailing moving average drawn instead of the raw values,
            m_t = (1 / min(t, w)) Σ_{s = max(1, t − w + 1)}^{t} v_s (w = 1: the values themselves).
        width, height: the figure's size in inches (> 0).
        every: the values are rounds 0, every, 2·every, … (a benchmark's curve rows keep every 10th
            round) instead of 1 … T.

    Rounds whose drawn value is not finite (a smoothed one whose window holds such a value) or is ≤ 0 on
    a log axis leave a gap, and a message on the panel (:func:`~metalearn_lib.plotting.mark_problem`) names
    the learner, the reason, how many rounds and the first one.

    Raises:
        ValueError: no curves, an empty or not 1-D curve, ``smooth`` < 1, a size ≤ 0.
        TypeError: ``curves`` is not a mapping, ``smooth`` not an int.
    """
    if not isinstance(curves, Mapping):
        raise TypeError(f"curves must be a mapping label → values, got {type(curves).__name__}")
    if not curves:
        raise ValueError("curves must name at least one curve")
    window = check_int("smooth", smooth, 1)
    every = check_int("every", every, 1)
    width, height = check_number("width", width), check_number("height", height)
    arrays = {}
    for label, values in curves.items():
        array = np.asarray(values, dtype=np.float64)
        if array.ndim != 1 or array.size == 0:
            raise ValueError(f"curves[{label!r}] must be 1-D with at least one round, got shape {array.shape}")
        arrays[str(label)] = array
    figure, axes = new_figure(width=width, height=height)
    ax = axes[0, 0]
    handles, messages = [], []
    for i, (label, values) in enumerate(arrays.items()):
        drawn = _moving_average(values, window)
        nonfinite = ~np.isfinite(drawn)
        nonpositive = log & ~nonfinite & (np.nan_to_num(drawn) <= 0)
        drawn[nonfinite | nonpositive] = np.nan  # a gap in the line: matplotlib draws no NaN
        rounds = np.arange(1, values.size + 1) if every == 1 else every * np.arange(values.size)
        (line,) = ax.plot(rounds, drawn, color=COLORS[i % len(COLORS)], lw=1.8,
                          ls=("-", "--", ":", "-.")[i % 4], label=label)
        handles.append(line)
        hidden = nonfinite | nonpositive
        if hidden.any():
            why = " or ".join(w for w, bad in (("not finite", nonfinite), ("≤ 0 on the log axis", nonpositive))
                              if bad.any())
            first, count = int(rounds[np.flatnonzero(hidden)[0]]), int(hidden.sum())
            where = f"at round {first}" if count == 1 else f"at {plural(count, 'round')} (from round {first})"
            messages.append(f"{label}: {why} {where}: not drawn")
    if log:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.yaxis.set_minor_formatter(FuncFormatter(_minor_log_label))
    longest = max(a.size for a in arrays.values())
    first_round, last_round = (1, longest) if every == 1 else (0, every * (longest - 1))
    ax.set_xlim((first_round - 0.5, first_round + 0.5) if longest == 1 else (first_round, last_round))
    ax.set_xlabel(xlabel if window == 1 else f"{xlabel} (mean of the last {plural(window, 'round')})")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    for message in messages:
        mark_problem(ax, message)
    legend_below(figure, handles, ncol=min(len(handles), 4))
    return figure


MAP_SHOTS, MAP_ARMS, MAP_PULLS, SHIFT_KIND, SHIFT = 2, 5, 10, "input", 2.5


def _mapping(directory: Path) -> tuple[str, str]:
    name = "mapping_full.json"
    rows = [r for r in _load(directory, name)["rows"] if r["family"].startswith("sinusoid")]
    learned = _row(rows, name, learner="learned prior (empirical Bayes)", shots=MAP_SHOTS)
    fixed = _row(rows, name, learner="fixed prior (λ = 1)", shots=MAP_SHOTS)
    mean = _row(rows, name, learner="support mean", shots=MAP_SHOTS)
    line = (f"sinusoids, K = {MAP_SHOTS} shots: query MSE {_pm(learned)} with the learned (empirical-Bayes) prior "
            f"vs {_pm(fixed)} with the fixed prior (support mean {_num(mean['mse'])})")
    return line, f"{name}: sinusoid family, learners empirical Bayes / fixed prior / support mean, shots {MAP_SHOTS}"


def _two_level(directory: Path) -> tuple[str, str]:
    name = "sinusoid_full.json"
    rows = _load(directory, name)["rows"]
    maml = _row(rows, name, method="maml", test_shots=5, steps=1)
    pretrained = _row(rows, name, method="pretrained", test_shots=5, steps=1)
    line = (f"sinusoids, 5 shots, 1 SGD step: MSE {_pm(maml)} from MAML's initialisation vs {_pm(pretrained)} "
            "from the network pretrained on all tasks")
    return line, f"{name}: rows method maml / pretrained, test_shots 5, steps 1"


def _hedge_line(data: Mapping[str, Any], name: str) -> tuple[str, str]:
    rows = [r for r in data.get("rows", []) if r.get("experiment") == "online_switching"
            and r.get("subset", "all") == "all"]
    comparison = _row(rows, name, kind="comparison", method="hedge_fixed_share", baseline="hedge")
    share = _row(rows, name, kind="summary", method="hedge_fixed_share")
    plain = _row(rows, name, kind="summary", method="hedge")
    line = (f"switching sinusoid streams, query MSE a round: {_pm(share, 'loss')} for Hedge with fixed share vs "
            f"{_pm(plain, 'loss')} for plain Hedge (paired difference {_pm(comparison, 'loss_difference')})")
    return line, f"{name}: online_switching rows, comparison hedge_fixed_share − hedge and summaries, all rounds"


def _multi_task_line(data: Mapping[str, Any], name: str) -> tuple[str, str]:
    rows = [r for r in data.get("rows", []) if r.get("experiment") == "multi_task"]
    tuned = any(r.get("tuned") for r in rows if r.get("method") == "multi_task_no_reg")
    averaged = _row(rows, name, method="multi_task_no_reg", steps=1, tuned=tuned)
    maml = _row(rows, name, method="maml", steps=1, tuned=False)
    count = (data.get("multi_task") or {}).get("num_regressors")
    networks = f"{count} networks" if count else "separately trained networks"
    line = (f"5 shots, 1 SGD step: MSE {_pm(averaged)} from the averaged parameters of {networks} "
            f"vs {_pm(maml)} from MAML's initialisation")
    return line, f"{name}: multi_task rows multi_task_no_reg (tuned = {tuned}) / maml, steps 1"


def _averaging(directory: Path) -> tuple[str, str]:
    """Hedge with fixed share vs plain Hedge on chapter 8's switching streams (applications_full.json); failing
    that, parameter averaging against MAML (the same file)."""
    files = ("applications_full.json",)
    found = {name: (directory / name).is_file() for name in files}
    if not any(found.values()):
        raise _NotMeasured(f"not measured ({' and '.join(files)} missing)")
    reason = ""
    for name in (n for n in files if found[n]):
        try:
            return _hedge_line(_load(directory, name), name)
        except _NotMeasured as missing:
            reason = str(missing)
    if found[files[0]]:
        return _multi_task_line(_load(directory, files[0]), files[0])
    raise _NotMeasured(reason)


def _teacher(directory: Path) -> tuple[str, str]:
    name = "teachers_full.json"
    rows = _load(directory, name)["sections"]["meta_sgd"]["rows"]
    meta_sgd = _row(rows, name, method="meta_sgd", test_shots=5, steps=1)
    maml = _row(rows, name, method="maml", test_shots=5, steps=1)
    line = (f"sinusoids, 5 shots, 1 step: MSE {_pm(meta_sgd)} with Meta-SGD's learned per-weight step sizes "
            f"vs {_pm(maml)} with MAML's fixed α")
    return line, f"{name}: section meta_sgd, rows method meta_sgd / maml, test_shots 5, steps 1"


def _bandits(directory: Path) -> tuple[str, str]:
    name = "bandits_full.json"
    config = _load(directory, name)["configs"].get(f"{MAP_PULLS},{MAP_ARMS}")
    if config is None:
        raise _NotMeasured(f"not measured yet ({name} has no (n, k) = ({MAP_PULLS}, {MAP_ARMS}) configuration)")
    rl2 = _row(config["rows"], name, policy="rl2")
    line = (f"Bernoulli bandits, (n, k) = ({rl2['pulls']}, {rl2['arms']}): RL²'s GRU collects "
            f"{_pm(rl2, 'mean_reward')} a trial vs the exact Bayes-optimal V* = {_num(config['bayes_optimal_value'])}")
    return line, f"{name}: configs[\"{MAP_PULLS},{MAP_ARMS}\"], row policy rl2 and bayes_optimal_value"


def _maml_rl(directory: Path) -> tuple[str, str]:
    name = "maml_rl_full.json"
    rows = _load(directory, name)["rows"]
    maml = _row(rows, name, method="maml", steps=1)
    pretrained = _row(rows, name, method="pretrained", steps=1)
    line = (f"2D navigation, return after 1 policy-gradient step: {_pm(maml, 'mean_return')} from MAML's "
            f"policy initialisation vs {_pm(pretrained, 'mean_return')} from the pretrained policy")
    return line, f"{name}: rows method maml / pretrained, steps 1"


def _meta_rl_mdps(directory: Path) -> tuple[str, str]:
    name = "meta_rl_mdps_full.json"
    rows = _load(directory, name)["rows"]
    rl2 = _row(rows, name, env="gridworld", policy="rl2")
    bayes = _row(rows, name, env="gridworld", policy="bayes_optimal")
    sampling = _row(rows, name, env="gridworld", policy="posterior_sampling")
    percent = 100.0 * rl2["mean_return"] / bayes["mean_return"]
    line = (f"VariBAD's gridworld: RL² returns {_pm(rl2, 'mean_return')}, {percent:.1f} % of the exact "
            f"Bayes-optimal {_num(bayes['mean_return'])} (posterior sampling {_num(sampling['mean_return'])})")
    return line, f"{name}: rows env gridworld, policy rl2 / bayes_optimal / posterior_sampling"


def _applications(directory: Path) -> tuple[str, str]:
    name = "applications_full.json"
    rows, where = _load(directory, name).get("rows", []), {"shift_kind": SHIFT_KIND, "shift": SHIFT, "steps": 1}
    maml = _row(rows, name, experiment="shift_sinusoid", method="maml", **where)
    pretrained = _row(rows, name, experiment="shift_sinusoid", method="pretrained", **where)
    line = (f"inputs shifted by {SHIFT:g}: 5-shot nMSE (1 = predicting 0) after 1 step {_pm(maml, 'nmse', 'nmse_ci95')}"
            f" from MAML's initialisation vs {_pm(pretrained, 'nmse', 'nmse_ci95')} from the pretrained network")
    return line, f"{name}: shift_sinusoid rows maml / pretrained, shift_kind {SHIFT_KIND}, shift {SHIFT:g}, steps 1"


#: chapter → (what it learns, the reader of its measured line).
_CHAPTERS: dict[int, tuple[str, Callable[[Path], tuple[str, str]]]] = {
    1: ("a prior", _mapping), 2: ("an initialisation", _two_level), 3: ("weights over models", _averaging),
    4: ("step sizes / an update rule", _teacher), 5: ("an exploration strategy (in a memory)", _bandits),
    6: ("an initialisation", _maml_rl), 7: ("an exploration strategy (in a memory)", _meta_rl_mdps),
    8: ("— (what a learned prior costs)", _applications),
}


def course_map_entries(results_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every chapter of the course with what it learns and one line measured by its benchmark.

    Args:
        results_dir: the folder of the committed benchmark results (from a notebook,
            ``"../benchmarks/results"``).

    Returns:
        One dict per chapter 1 … 8, in order: ``chapter`` (int), ``title``, ``learned`` (one of
        :data:`LEARNED_CATEGORIES`), ``line`` (a sentence whose numbers are formatted from the JSON
        rows), ``source`` (the file and the rows read) and ``measured`` (False where the line is
        ``"not measured (FILE missing)"`` or ``"not measured yet (…)"``).

    Raises:
        TypeError: ``results_dir`` is not a path.
        FileNotFoundError: ``results_dir`` is not a folder.
        ValueError: a results file that is not JSON, or one with two rows where the map reads one.
    """
    directory = results_folder(results_dir)
    entries = []
    for chapter, (learned, reader) in _CHAPTERS.items():
        try:
            (line, source), measured = reader(directory), True
        except _NotMeasured as missing:
            line, source, measured = str(missing), "—", False
        entries.append({"chapter": chapter, "title": CHAPTER_TITLES[chapter], "learned": learned, "line": line,
                        "source": source, "measured": measured})
    return entries


def course_map_figure(entries: Sequence[Mapping[str, Any]], *, width: float = 9.5, height: float = 5.8,
                      title: str = _MAP_TITLE) -> Figure:
    """The course on one map: a row per chapter (1 at the top), a column per thing learned
    (:data:`LEARNED_CATEGORIES`), a marker at (what it learns, chapter) and its measured line beside it.

    A line sits on the side of its marker with more room and is wrapped to fit inside the panel;
    entries that are not measured get a hollow marker and grey text.

    Raises:
        ValueError: no entries, an entry without the keys ``chapter``, ``title``, ``learned``, ``line``,
            a ``learned`` outside :data:`LEARNED_CATEGORIES`, a chapter twice, a size ≤ 0.
    """
    width, height = check_number("width", width), check_number("height", height)
    if not entries:
        raise ValueError("entries must hold at least one chapter (see course_map_entries)")
    for entry in entries:
        missing = {"chapter", "title", "learned", "line"} - set(entry)
        if missing:
            raise ValueError(f"each entry needs the keys chapter, title, learned, line; {dict(entry)} lacks {missing}")
        if entry["learned"] not in LEARNED_CATEGORIES:
            raise ValueError(f"learned must be one of {list(LEARNED_CATEGORIES)}, got {entry['learned']!r}")
    chapters = [int(e["chapter"]) for e in entries]
    if len(set(chapters)) != len(chapters):
        raise ValueError(f"each chapter may appear once, got chapters {chapters}")
    figure, axes = new_figure(width=width, height=height)
    ax = axes[0, 0]
    columns, ordered = len(LEARNED_CATEGORIES), sorted(entries, key=lambda e: int(e["chapter"]))
    rows = {int(e["chapter"]): i + 1 for i, e in enumerate(ordered)}  # row 1 on top
    ax.set(xlim=(-0.5, columns - 0.5), ylim=(len(entries) + 0.5, 0.5))
    ax.set_xticks(range(columns), [textwrap.fill(c, 16) for c in LEARNED_CATEGORIES], fontsize=9)
    ax.set_yticks(list(rows.values()), [f"{e['chapter']}  {e['title']}" for e in ordered], fontsize=9)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    ax.grid(True, alpha=0.25)
    ax.spines[:].set_visible(False)
    ax.set_title(title, fontsize=11, loc="left")
    figure.supxlabel("numbers read from benchmarks/results/*.json; a hollow marker: not measured yet",
                     fontsize=8, color=_MUTED_COLOR)
    figure.canvas.draw()  # settle the layout (ticks, title), then wrap each line into the room beside its marker
    renderer = figure.canvas.get_renderer()
    box, offset = ax.get_window_extent(renderer), 9.0  # offset: points between marker and text
    for entry in entries:
        column, row, line = LEARNED_CATEGORIES.index(entry["learned"]), rows[int(entry["chapter"])], str(entry["line"])
        line = line.replace(" ± ", "\u00a0±\u00a0").replace(" = ", "\u00a0=\u00a0")  # no break inside "a ± b"
        measured = entry.get("measured", not line.startswith("not measured"))
        color = COLORS[column % len(COLORS)]
        ax.plot([column], [row], ls="none", marker="o", ms=10, mew=2.0, color=color, mfc=color if measured else "white",
                mec=color if measured else _MUTED_COLOR, gid=_MARKER_GID, zorder=3)
        right = column < (columns - 1) / 2
        marker_x = ax.transData.transform((column, row))[0]
        room = (box.x1 - marker_x if right else marker_x - box.x0) - offset * figure.dpi / 72 - 10
        # a missing file is a problem of the checkout (vermillion); a result not run yet is only pending (grey)
        color = _TEXT_COLOR if measured else PROBLEM_COLOR if line.startswith("not measured (") else _MUTED_COLOR
        text = ax.annotate(line, xy=(column, row), xytext=(offset if right else -offset, 0), textcoords="offset points",
                           ha="left" if right else "right", va="center", fontsize=8.5, linespacing=1.15, color=color,
                           style="normal" if measured else "italic", annotation_clip=False,
                           bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})
        text.set_in_layout(False)
        for chars in range(max(len(line), 20), 19, -2):  # the widest wrap that fits the room, then its lines balanced
            text.set_text(textwrap.fill(line, chars, break_on_hyphens=False))
            if text.get_window_extent(renderer).width <= room:
                break
        lines = text.get_text().count("\n") + 1
        while chars > 20 and len(textwrap.wrap(line, chars - 1, break_on_hyphens=False)) == lines:
            chars -= 1
        text.set_text(textwrap.fill(line, chars, break_on_hyphens=False))
    return figure
