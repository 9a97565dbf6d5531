"""Chapter 7's figures and explorer: searching VariBAD's 5 × 5 gridworld for a hidden goal.

* :func:`draw_gridworld` — one panel: the grid, the start S, the cells that are never the goal (hatched), the
  goal ★, the belief over the goal as shaded cells and a search path as arrows numbered by step;
* :func:`search_paths_figure` — one column per agent, one row per episode of one task: each episode's path over
  the belief at its start (the Bayes-optimal search never returns to a cell it has searched before it finds
  the goal; posterior sampling walks straight to one guess at a time);
* :func:`episode_returns_figure` — the mean return of each episode ± 95 % CI, the Bayes-optimal values as lines;
* :func:`tabular_returns_figure` — RL²'s Table 2: the tabular baselines' mean reward per episode against the
  number of episodes n of a trial, the oracle as the ceiling;
* :func:`gridworld_explorer` — pick the goal, step or play agents side by side and watch each one's path,
  position, return so far, and the belief its history leaves.

The explorer's agents (:class:`GridworldAgent`: ``reset()`` and ``act(history) -> action``) and their adapters
:func:`bayes_optimal_agent`, :func:`posterior_sampling_agent` and :func:`recurrent_agent` are in
:mod:`metalearn_lib.widgets.meta_rl_mdps_agents` and re-exported here. Nothing here trains an agent.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import ipywidgets
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from metalearn_lib.meta_rl_mdps import (
    Gridworld,
    belief_state_after,
    belief_vector,
    gridworld_bayes_optimal,
    reached_cells,
)
from metalearn_lib.meta_rl_mdps.gridworld import GOAL_REWARD, STEP_REWARD
from metalearn_lib.plotting import COLORS, legend_below, mark_problem, new_figure
from metalearn_lib.validation import check_int
from metalearn_lib.widgets.core import View, WidgetApp, plural
from metalearn_lib.widgets.meta_rl_mdps_agents import (
    AgentTrial,
    GridworldAgent,
    History,
    bayes_optimal_agent,
    check_gridworld,
    play_agent,
    posterior_sampling_agent,
    recurrent_agent,
)

__all__ = [
    "AGENT_COLORS",
    "AgentTrial",
    "GridworldAgent",
    "GridworldExplorer",
    "History",
    "TABULAR_LABELS",
    "bayes_optimal_agent",
    "draw_gridworld",
    "episode_returns_figure",
    "gridworld_explorer",
    "play_agent",
    "posterior_sampling_agent",
    "recurrent_agent",
    "search_paths_figure",
    "tabular_returns_figure",
]

#: The colour of the i-th agent's path and curve, the same in every figure (vermillion is the goal's).
AGENT_COLORS = (COLORS[0], COLORS[1], COLORS[2], COLORS[4])
GOAL_COLOR = COLORS[3]
#: Belief shading: white (probability 0) to sky blue (the panel's largest probability).
BELIEF_CMAP = LinearSegmentedColormap.from_list("metalearn-belief", ["#FFFFFF", "#8FCBEE"])
_EXCLUDED_STYLE: dict[str, Any] = dict(facecolor="0.9", edgecolor="0.65", hatch="///", linewidth=0.0)
_ARROW_GID = "metalearn-path-step"
#: The explorer shows at most this many agents side by side (a panel ≥ 2.2 inches within 9).
MAX_AGENTS = 4
#: Labels of the policies of ``benchmarks/results/meta_rl_mdps_full.json``'s rows.
TABULAR_LABELS: dict[str, str] = {
    "random": "random", "greedy": "greedy (posterior mean)", "epsilon_greedy": "ε-greedy", "psrl": "PSRL",
    "ucrl2": "UCRL2", "oracle": "oracle (knows the MDP)", "oracle_exact": "oracle (knows the MDP)",
    "greedy_paper_prior": "greedy, the paper's prior", "epsilon_greedy_paper_prior": "ε-greedy, the paper's prior",
    "psrl_paper_prior": "PSRL, the paper's prior", "rl2": "RL² (this course's agent)",
}


def _step_runs(steps: list[int]) -> str:
    """``[2, 9, 10, 11]`` → ``"2,9–11"``: consecutive steps as a range."""
    runs: list[list[int]] = []
    for s in steps:
        if runs and s == runs[-1][-1] + 1:
            runs[-1].append(s)
        else:
            runs.append([s])
    return ",".join(str(r[0]) if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)


def draw_gridworld(ax: Axes, env: Gridworld, *, goal: int | None = None, belief: Any = None,
                   path: Sequence[int] | None = None, position: int | None = None, color: str = AGENT_COLORS[0],
                   title: str = "", status: str = "") -> None:
    """Draw the grid on ``ax``: cells (x, y) at x across and y up, the start S, the never-goal block hatched.

    Args:
        env: the :class:`~metalearn_lib.meta_rl_mdps.Gridworld`.
        goal: the goal's cell, drawn ★.
        belief: ``[N²]`` probabilities of the goal per cell (0 on visited and excluded cells), shaded from
            white (0) to sky blue (the largest); the image holds the probabilities themselves.
        path: the cells the agent stood on in order, from the one it started the episode on: each step is an
            arrow, and each cell says at which steps (1, 2, …) the agent arrived on it ("9–15": it stayed).
        position: the agent's cell now, a dot of ``color``.
        title, status: the panel's title, and a line under it (as the x label).

    Raises:
        ValueError: a cell outside the grid, a goal that is not a candidate cell, a belief of the wrong shape
            or with negative entries, or a path that jumps (more than one cell a step).
    """
    env = check_gridworld(env)
    n = env.grid_size
    cells = n * n
    for name, cell in (("goal", goal), ("position", position)):
        if cell is not None and not (isinstance(cell, int | np.integer) and 0 <= cell < cells):
            raise ValueError(f"{name} must be a cell index in [0, {cells - 1}], got {cell!r}")
    if goal is not None and not env.candidate_mask[goal]:
        raise ValueError(f"goal must be a candidate cell, got {goal} = {tuple(env.coordinates(goal))}")
    if belief is not None:
        belief = np.asarray(belief, dtype=np.float64)
        if belief.shape != (cells,) or not np.all(np.isfinite(belief)) or np.any(belief < 0):
            raise ValueError(f"belief must be [{cells}] non-negative probabilities, got shape {belief.shape}")
        top = float(belief.max()) or 1.0
        ax.imshow(belief.reshape(n, n).T, origin="lower", cmap=BELIEF_CMAP, vmin=0.0, vmax=top,
                  extent=(-0.5, n - 0.5, -0.5, n - 0.5), interpolation="nearest", zorder=0)
    for c in range(cells):
        if not env.candidate_mask[c]:
            x, y = env.coordinates(c)
            ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1.0, 1.0, zorder=1, **_EXCLUDED_STYLE))
    for k in range(n + 1):
        ax.axhline(k - 0.5, color="0.6", lw=0.6, zorder=2)
        ax.axvline(k - 0.5, color="0.6", lw=0.6, zorder=2)
    sx, sy = env.coordinates(env.start_cell)
    ax.text(sx, sy, "S", ha="center", va="center", fontsize=10, fontweight="bold", color="0.3", zorder=3)
    if path is not None:
        path = [int(c) for c in path]
        if any(not 0 <= c < cells for c in path):
            raise ValueError(f"path must hold cell indices in [0, {cells - 1}], got {path}")
        if any(env.distances[a, b] > 1 for a, b in zip(path, path[1:], strict=False)):
            raise ValueError(f"path must move at most one cell a step (cells, not actions), got {path}")
        xy = env.coordinates(path).astype(np.float64)
        for (x0, y0), (x1, y1) in zip(xy, xy[1:], strict=False):
            if (x0, y0) == (x1, y1):
                continue
            dx, dy = 0.09 * (y1 - y0), -0.09 * (x1 - x0)  # to the right of the move: A→B and B→A apart
            arrow = ax.annotate("", xy=(x1 + dx, y1 + dy), xytext=(x0 + dx, y0 + dy), zorder=4,
                                arrowprops=dict(arrowstyle="-|>", color=color, lw=1.6, shrinkA=4, shrinkB=4,
                                                mutation_scale=10))
            arrow.set_gid(_ARROW_GID)
        arrivals: dict[int, list[int]] = {}
        for step, c in enumerate(path[1:], start=1):
            arrivals.setdefault(c, []).append(step)
        for c, steps in arrivals.items():
            x, y = env.coordinates(c)
            ax.text(x - 0.44, y + 0.44, _step_runs(steps), ha="left", va="top", fontsize=7, color="0.1", zorder=8,
                    bbox=dict(boxstyle="square,pad=0.05", facecolor="white", edgecolor="none", alpha=0.75))
    if goal is not None:
        gx, gy = env.coordinates(goal)
        ax.plot([gx], [gy], "*", color=GOAL_COLOR, markersize=15, markeredgecolor="white", markeredgewidth=0.8,
                zorder=6)
    if position is not None:
        px, py = env.coordinates(position)
        ax.plot([px], [py], "o", markersize=17, markerfacecolor="none", markeredgecolor=color, markeredgewidth=2.4,
                zorder=7)  # a ring: the goal ★ stays visible inside when the agent stands on it
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(-0.5, n - 0.5)
    ax.set_aspect("equal")
    ax.grid(False)
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.tick_params(length=0, labelsize=7, pad=2)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(status, fontsize=8)


def _legend_handles(with_position: bool) -> list[Any]:
    handles = [Patch(facecolor="#8FCBEE", edgecolor="0.6", label="where the goal may be (belief > 0)"),
               Patch(label="never the goal", **_EXCLUDED_STYLE),
               Line2D([], [], marker="*", ls="", color=GOAL_COLOR, markersize=11, label="goal")]
    if with_position:
        handles.append(Line2D([], [], marker="o", ls="", markerfacecolor="none", markeredgecolor="0.3",
                              markeredgewidth=2.0, markersize=10, label="the agent now"))
    return handles


def _trial_actions(env: Gridworld, trial: Any) -> np.ndarray:
    """The ``[t]`` actions of one task's trial: ints, a one-task GridworldTrial or an AgentTrial."""
    actions = getattr(trial, "actions", trial)
    actions = np.asarray(actions.numpy() if hasattr(actions, "numpy") else actions)
    if actions.ndim == 2 and actions.shape[0] == 1:
        actions = actions[0]
    if actions.ndim != 1:
        raise ValueError(f"a trial must be the actions of one task, [t], got shape {actions.shape}")
    reached_cells(env, actions)  # validates: ints in 0 … 4, at most T of them
    return actions.astype(np.int64)


def _rewards(env: Gridworld, cells: np.ndarray, goal: int) -> np.ndarray:
    return np.where(cells == goal, GOAL_REWARD, STEP_REWARD)


def _episode(env: Gridworld, actions: np.ndarray, goal: int, episode: int) -> dict[str, Any]:
    """The path of one episode of a trial, the belief at its start, and what it searched."""
    H = env.episode_length
    cells = reached_cells(env, actions)
    rewards = _rewards(env, cells, goal)
    start, end = episode * H, min((episode + 1) * H, cells.size)
    state = belief_state_after(env, actions[:start], rewards[:start])
    path = [env.start_cell, *cells[start:end].tolist()]
    seen = set(cells[:start].tolist())
    known = state.goal >= 0
    new = revisits = 0
    found = None
    for k, c in enumerate(cells[start:end].tolist(), start=1):
        if not known and env.candidate_mask[c]:
            revisits += c in seen
            new += c not in seen
        if not known and c == goal:
            known, found = True, k
        seen.add(c)
    return {"path": path, "belief": belief_vector(env, state), "new": new, "revisits": revisits, "found": found,
            "known": state.goal >= 0}


def search_paths_figure(env: Gridworld, trials: Mapping[str, Any], *, goal: int, episodes: Sequence[int] = (0, 1),
                        title: str = "", panel_size: float = 2.7) -> Figure:
    """One task's search, one column per agent and one row per episode (1 and 2 by default).

    Each panel shows the belief over the goal at the episode's start (cells visited before have probability 0)
    and the episode's path, each cell numbered with the steps that arrived on it; its status line counts the
    candidate cells searched for the first time and the revisits (steps onto a candidate cell already
    visited, before the goal is found).

    Args:
        env: the :class:`~metalearn_lib.meta_rl_mdps.Gridworld`.
        trials: label → the actions of one trial of ``goal`` (``[t]`` ints, a one-task
            :class:`~metalearn_lib.meta_rl_mdps.GridworldTrial` or an :class:`AgentTrial`), at least up to the
            last episode shown.
        goal: the task's goal cell.
        episodes: the episodes shown (0 is the first).

    Raises:
        ValueError: no trials, a bad goal or episode, or a trial shorter than the episodes shown.
    """
    env = check_gridworld(env)
    if not trials:
        raise ValueError("trials must name at least one agent's trial")
    if not isinstance(goal, int | np.integer) or not 0 <= goal < env.num_cells or not env.candidate_mask[goal]:
        raise ValueError(f"goal must be a candidate cell, got {goal!r}")
    episodes = [check_int("episode", e, 0) for e in episodes]
    if not episodes or max(episodes) >= env.num_episodes:
        raise ValueError(f"episodes must be a non-empty list in [0, {env.num_episodes - 1}], got {episodes}")
    actions = {label: _trial_actions(env, trial) for label, trial in trials.items()}
    for label, a in actions.items():
        if a.size < (max(episodes) + 1) * env.episode_length:
            raise ValueError(f"the trial of {label!r} has {plural(a.size, 'step')}, too few for episode "
                             f"{max(episodes) + 1}")
    figure, axes = new_figure(len(episodes), len(actions), width=panel_size * len(actions) + 0.3,
                              height=panel_size * len(episodes) + 0.45)
    for col, (label, a) in enumerate(actions.items()):
        for row, e in enumerate(episodes):
            info = _episode(env, a, int(goal), e)
            if info["known"]:
                status = f"goal known: there in {env.distances[env.start_cell, goal]} steps"
            else:
                status = (f"{plural(info['new'], 'new cell')}, {plural(info['revisits'], 'revisit')}, "
                          + (f"found at step {info['found']}" if info["found"] else "not found"))
            draw_gridworld(axes[row, col], env, goal=int(goal), belief=info["belief"], path=info["path"],
                           color=AGENT_COLORS[col % len(AGENT_COLORS)], title=f"{label} · episode {e + 1}",
                           status=status)
    legend_below(figure, _legend_handles(False), ncol=3)
    if title:
        figure.suptitle(title)
    return figure


def episode_returns_figure(returns: Mapping[str, tuple[Sequence[float], Sequence[float]]], *,
                           bayes_optimal: Sequence[float] | None = None, title: str = "", width: float = 6.5,
                           height: float = 3.4) -> Figure:
    """The mean return of each episode 1 … E of a trial ± its 95 % CI, one line per agent; the Bayes-optimal
    policy's exact per-episode returns (e.g. ``gridworld_bayes_optimal(env).episode_returns()``) dashed.

    Raises:
        ValueError: no curves, or a mean and CI of different lengths.
    """
    if not returns:
        raise ValueError("returns must name at least one agent's (mean, ci)")
    figure, axes = new_figure(width=width, height=height)
    ax = axes[0, 0]
    episodes = 1
    for i, (label, (mean, ci)) in enumerate(returns.items()):
        mean, ci = np.asarray(mean, np.float64).ravel(), np.asarray(ci, np.float64).ravel()
        if mean.shape != ci.shape or mean.size == 0:
            raise ValueError(f"returns[{label!r}] must be (mean [E], ci [E]) of one length, got {mean.shape} and "
                             f"{ci.shape}")
        episodes = max(episodes, mean.size)
        x = np.arange(1, mean.size + 1) + 0.05 * (i - (len(returns) - 1) / 2)
        ax.errorbar(x, mean, yerr=ci, marker="o", ms=4, capsize=3, lw=1.6, color=AGENT_COLORS[i % 4], label=label)
    if bayes_optimal is not None:
        values = np.asarray(bayes_optimal, np.float64).ravel()
        episodes = max(episodes, values.size)
        ax.plot(np.arange(1, values.size + 1), values, ls="--", marker="_", ms=14, color="0.2",
                label="Bayes-optimal (exact)")
    ax.set_xticks(range(1, episodes + 1))
    ax.set_xlim(0.6, episodes + 0.4)
    ax.set_xlabel("episode of the trial (same goal)")
    ax.set_ylabel("mean return of the episode")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    return figure


def tabular_returns_figure(rows: Iterable[Mapping[str, Any]], *, policies: Sequence[str] | None = None,
                           published: Mapping[Any, Mapping[str, float]] | None = None, title: str = "",
                           width: float = 6.5, height: float = 3.8) -> Figure:
    """RL²'s Table 2 as curves: each policy's mean reward *per episode* (total / n, ± 95 % CI / n) against the
    number of episodes n of a trial. Exploring pays over more episodes; the oracle (which knows the MDP) is
    the ceiling, the random policy the floor.

    Args:
        rows: result rows with ``policy``, ``episodes``, ``mean_reward``, ``ci95`` (those of
            ``benchmarks/results/meta_rl_mdps_full.json``; rows without ``episodes`` are skipped).
        policies: the policies drawn, in order; default those with the true prior, then the oracle
            (``oracle_exact`` where present).
        published: n → {policy: published total} (the results file's ``published``): RL²'s values are drawn
            as × at the n of the rows.

    Raises:
        ValueError: no tabular rows, or a policy without rows.
    """
    table: dict[str, dict[int, tuple[float, float]]] = {}
    for row in rows:
        if "episodes" in row:
            table.setdefault(str(row["policy"]), {})[int(row["episodes"])] = (float(row["mean_reward"]),
                                                                              float(row["ci95"]))
    if not table:
        raise ValueError("rows must hold tabular results (policy, episodes, mean_reward, ci95)")
    if policies is None:
        ceiling = "oracle_exact" if "oracle_exact" in table else "oracle"
        policies = [p for p in ("random", "greedy", "epsilon_greedy", "psrl", "ucrl2") if p in table] + [ceiling]
    missing = [p for p in policies if p not in table]
    if missing:
        raise ValueError(f"no rows for the policies {missing}; the rows have {sorted(table)}")
    figure, axes = new_figure(width=width, height=height)
    ax = axes[0, 0]
    ns = sorted({n for p in policies for n in table[p]})
    learners = [p for p in policies if not p.startswith(("oracle", "random"))]
    for p in policies:
        n = np.array(sorted(table[p]))
        mean = np.array([table[p][k][0] for k in n]) / n
        ci = np.array([table[p][k][1] for k in n]) / n
        label = TABULAR_LABELS.get(p, p)
        if p.startswith("oracle"):
            ax.plot(n, mean, ls="--", color="0.2", lw=1.6, label=f"{label}: the ceiling")
            ax.fill_between(n, mean - ci, mean + ci, color="0.2", alpha=0.12, lw=0)
        elif p.startswith("random"):
            ax.plot(n, mean, ls=":", color="0.45", lw=1.6, marker="o", ms=3, label=f"{label}: the floor")
        else:
            i = learners.index(p)
            offset = 0.6 * (i - (len(learners) - 1) / 2)
            ax.errorbar(n + offset, mean, yerr=ci, marker="o", ms=4, capsize=2, lw=1.5,
                        color=COLORS[(i + 1) % len(COLORS)], label=label)
    if published is not None:
        points = [(int(k), v["rl2"]) for k, v in published.items() if "rl2" in v and int(k) in ns]
        if points:
            n, total = np.array(points, dtype=np.float64).T
            ax.plot(n, total / n, "x", color="0.1", ms=8, mew=1.8, label="RL², published")
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda k: ("ceiling" not in labels[k], "floor" in labels[k]))
    ax.legend([handles[k] for k in order], [labels[k] for k in order], fontsize=7.5, loc="center left",
              bbox_to_anchor=(1.01, 0.5))
    ax.set_xticks(ns)
    ax.set_xlabel("episodes n in a trial (same MDP)")
    ax.set_ylabel("mean reward per episode")
    ax.set_title(title or "Random tabular MDPs: reward per episode")
    return figure


# ----------------------------------------------------------------------------------------------
# the explorer
# ----------------------------------------------------------------------------------------------


class GridworldExplorer(WidgetApp):
    """The :func:`gridworld_explorer` app: :class:`WidgetApp` plus the Play, Step and Reset buttons.

    Attributes:
        agents: name → agent; env: the gridworld; trials: goal → name → :class:`AgentTrial` (played once per
            goal, the view shows the first ``steps`` steps); play, step_button, reset_button: the widgets.
    """

    def __init__(self, agents: Mapping[str, GridworldAgent], env: Gridworld, goal: int, steps: int) -> None:
        self.agents, self.env = dict(agents), env
        self.solver = gridworld_bayes_optimal(env)
        self.trials: dict[int, dict[str, AgentTrial]] = {}
        options = [(f"({x}, {y})", c) for c, (x, y) in zip(env.candidate_cells, env.coordinates(env.candidate_cells),
                                                             strict=True)]
        controls: dict[str, ipywidgets.ValueWidget] = {
            "steps": ipywidgets.IntSlider(value=steps, min=0, max=env.horizon, description="steps played",
                                          continuous_update=False),
            "goal": ipywidgets.Dropdown(options=options, value=goal, description="goal (x, y)"),
        }
        super().__init__(controls, self._render, title="Searching for the goal: agents side by side")
        button = ipywidgets.Layout(width="84px", flex="0 0 auto")
        self.play = ipywidgets.Play(value=steps, min=0, max=env.horizon, interval=600, show_repeat=False,
                                    tooltip="play the trial step by step", layout=ipywidgets.Layout(flex="0 0 auto"))
        ipywidgets.link((self.play, "value"), (controls["steps"], "value"))
        self.step_button = ipywidgets.Button(description="Step ▶", tooltip="play one more step", layout=button)
        self.reset_button = ipywidgets.Button(description="Reset", tooltip="back to step 0: the agents start "
                                              "the trial again", layout=button)
        self.step_button.on_click(lambda _: self.step())
        self.reset_button.on_click(lambda _: self.reset())
        self.controls_row.children = (*self.controls_row.children, self.play, self.step_button, self.reset_button)

    def step(self) -> None:
        """One step more (nothing at the trial's end)."""
        steps = self.controls["steps"]
        steps.value = min(steps.max, steps.value + 1)

    def reset(self) -> None:
        """Back to step 0; every agent's trial is played again from ``reset()``."""
        self.play.playing = False
        self.trials.clear()
        if self.controls["steps"].value == 0:
            self.refresh()
        else:
            self.controls["steps"].value = 0

    def _render(self, steps: int, goal: int) -> View:
        env, H = self.env, self.env.episode_length
        if goal not in self.trials:
            self.trials[goal] = {name: play_agent(agent, env, goal) for name, agent in self.agents.items()}
        episode = max(0, steps - 1) // H
        panel = min(2.75, int(870 / len(self.agents)) / 100)  # inches, whole pixels: 2.75 up to three agents
        figure, axes = new_figure(1, len(self.agents), width=max(4.8, panel * len(self.agents) + 0.3),
                                  height=panel + 1.3)
        optimum = float(self.solver.returns_by_goal()[env.candidate_cells.index(goal)].sum())
        data: dict[str, Any] = {"goal": goal, "steps": steps, "episode": episode, "bayes_optimal_return": optimum,
                                "actions": {}, "rewards": {}, "returns": {}, "positions": {}, "beliefs": {},
                                "failures": {}}
        lines = []
        for i, (name, trial) in enumerate(self.trials[goal].items()):
            t = min(steps, len(trial.actions))
            actions, rewards = np.asarray(trial.actions[:t], np.int64), np.asarray(trial.rewards[:t])
            cells = reached_cells(env, actions)
            belief = belief_vector(env, belief_state_after(env, actions, rewards))
            start = min(episode * H, t)
            position = int(cells[-1]) if t else env.start_cell
            total = float(rewards.sum())
            found = np.flatnonzero(rewards > 0)
            if found.size:
                status = f"found the goal: episode {found[0] // H + 1}, step {found[0] % H + 1}"
            else:
                searched = int(np.sum(env.candidate_mask[np.unique(cells)])) if t else 0
                status = f"searched {searched} of {plural(env.num_candidates, 'cell')}"
            failed = trial.failure is not None and steps > trial.failure[0]
            if failed:
                status = f"stopped at step {trial.failure[0] + 1}: it could not act"
            ax = axes[0, i]
            draw_gridworld(ax, env, goal=goal, belief=belief, path=[env.start_cell, *cells[start:t].tolist()],
                           position=position, color=AGENT_COLORS[i % len(AGENT_COLORS)],
                           title=f"{name}\nreturn so far {total:+.1f}", status=status)
            if failed:
                message = textwrap.fill(textwrap.shorten(trial.failure[1], 90), 30)
                mark_problem(ax, f"{name} could not act at step {trial.failure[0] + 1}:\n{message}")
            lines.append(f"{name}: return so far {total:+.1f}, {status}")
            data["actions"][name], data["rewards"][name] = actions.tolist(), rewards.tolist()
            data["returns"][name], data["positions"][name], data["beliefs"][name] = total, position, belief
            if failed:
                data["failures"][name] = trial.failure
        legend_below(figure, _legend_handles(True), ncol=2, fontsize=7.5)
        x, y = env.coordinates(goal)
        where = (f"episode {episode + 1} of {env.num_episodes}, step {steps - episode * H} of {H}" if steps
                 else "no steps yet: press Step ▶ or ▶ (play), or move 'steps played'")
        head = f"goal ({x}, {y}) · {steps} of {plural(env.horizon, 'step')} played · {where}"
        if steps == env.horizon:
            head += "\nthe trial is over (Reset, or move 'steps played' back)"
        foot = (f"Bayes-optimal over the whole trial on this goal: {optimum:.1f} "
                f"(on average over the goals {self.solver.expected_return:.2f})")
        return View(figure=figure, readout="\n".join([head, *lines, foot]), data=data)


def gridworld_explorer(agents: Mapping[str, GridworldAgent], env: Gridworld | None = None, *,
                       goal: tuple[int, int] = (3, 0), steps: int | None = None) -> GridworldExplorer:
    """Choose the goal, step or play agents side by side through one trial, and compare their searches.

    Each panel shows an agent's path in the current episode (arrows, cells numbered by step), where it is, the
    belief over the goal that its history leaves (uniform over the candidate cells it has not visited), and
    its return so far. Controls, in this order: ``steps played`` (0 … T, the first control), ``goal (x, y)``
    (a dropdown of the candidate cells), then ▶ (play), Step ▶ and Reset.

    Args:
        agents: name → a :class:`GridworldAgent` (e.g. :func:`bayes_optimal_agent`,
            :func:`posterior_sampling_agent`, :func:`recurrent_agent`), at most four.
        env: the gridworld (default: the reference :class:`~metalearn_lib.meta_rl_mdps.Gridworld`).
        goal: the initial goal (x, y), a candidate cell.
        steps: the initial steps played (default: the first episode, H).

    Raises:
        TypeError: an agent without ``reset()`` and ``act(history)``.
        ValueError: no agents or too many, a goal that is not a candidate cell, ``steps`` outside 0 … T.
    """
    env = Gridworld() if env is None else check_gridworld(env)
    if not agents or len(agents) > MAX_AGENTS:
        raise ValueError(f"agents must name 1 to {MAX_AGENTS} agents, got {len(agents)}")
    for name, agent in agents.items():
        if not isinstance(agent, GridworldAgent):
            raise TypeError(f"agents[{name!r}] must have reset() and act(history), got {type(agent).__name__}")
    try:
        cell = env.cell(*goal)
    except (TypeError, ValueError):
        cell = -1
    if cell < 0 or not env.candidate_mask[cell]:
        raise ValueError(f"goal must be a candidate cell (x, y) of the {env.grid_size} × {env.grid_size} grid, "
                         f"got {goal!r}")
    steps = env.episode_length if steps is None else steps
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= env.horizon:
        raise ValueError(f"steps must be an int in [0, {env.horizon}], got {steps!r}")
    return GridworldExplorer(agents, env, cell, steps)
