"""Explorer and figures of ``05_meta_rl_bandits``: an RL² agent playing one bandit, next to the
posterior and the Bayes-optimal choice.

* :func:`bandit_explorer` — controls: one slider per arm mean (the first is the one the browser
  test moves) and a ``pulls played`` slider (t, from 0 to n) that steps or plays the agent's trial;
  picture: left, each arm's posterior Beta(1 + s_a, 1 + f_a) after t pulls (with the true mean
  dashed); right, the agent's policy π(· | h_t) for the next pull next to the Bayes-optimal
  Q-values; readout: the pulls so far, the agent's and the Bayes-optimal next arm, and how often
  they agreed so far.
* figures for the lecture: :func:`posterior_figure` (Beta posteriors of one bandit),
  :func:`training_curve_figure` (an agent's mean trial reward over training) and
  :func:`exploration_figure` (how the agent's behaviour changes over the trial).

Nothing here trains an agent; the agent comes from :mod:`metalearn_lib.bandits.rl2`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets
import numpy as np
import tensorflow as tf
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from metalearn_lib.bandits.bayes_optimal import bayes_optimal_solver
from metalearn_lib.bandits.env import pull
from metalearn_lib.bandits.policies import beta_pdf
from metalearn_lib.bandits.rl2 import RL2Agent
from metalearn_lib.plotting import COLORS, mark_problem, new_figure
from metalearn_lib.rl import derive_seed
from metalearn_lib.widgets.core import View, WidgetApp, plural, size_control

__all__ = [
    "BanditTrace",
    "bandit_explorer",
    "exploration_figure",
    "play_trace",
    "posterior_figure",
    "training_curve_figure",
]

_GRID = np.linspace(0.0, 1.0, 401)


def _draw_posteriors(ax: Axes, successes: np.ndarray, failures: np.ndarray, means: Sequence[float] | None) -> None:
    for a, (s, f) in enumerate(zip(successes, failures, strict=True)):
        color = COLORS[a % len(COLORS)]
        ax.plot(_GRID, beta_pdf(_GRID, 1.0 + s, 1.0 + f), color=color, lw=2.0, label=f"arm {a + 1}: {s}/{s + f}")
        if means is not None:
            ax.axvline(means[a], color=color, ls="--", lw=1.0)
    ax.set_xlabel("arm mean p")
    ax.set_ylabel("posterior density")
    ax.set_xlim(0.0, 1.0)
    ax.legend(loc="upper left", fontsize=7, title="successes/pulls", title_fontsize=7)


def posterior_figure(successes: Sequence[int], failures: Sequence[int], *, means: Sequence[float] | None = None,
                     title: str = "", width: float = 6.5, height: float = 3.2) -> Figure:
    """Each arm's posterior Beta(1 + s_a, 1 + f_a) (true means dashed, if given).

    Raises:
        ValueError: counts of different lengths, empty, or negative.
    """
    s, f = np.asarray(successes, dtype=np.int64), np.asarray(failures, dtype=np.int64)
    if s.ndim != 1 or s.shape != f.shape or s.size == 0 or np.any(s < 0) or np.any(f < 0):
        raise ValueError(f"successes and failures must be non-negative int arrays of one length k >= 1, "
                         f"got shapes {s.shape} and {f.shape}")
    figure, axes = new_figure(width=width, height=height)
    _draw_posteriors(axes[0, 0], s, f, means)
    axes[0, 0].set_title(title or "what the player believes: Beta posteriors")
    return figure


def training_curve_figure(rewards: Sequence[float], *, references: Mapping[str, float] | None = None,
                          window: int = 20, title: str = "", width: float = 6.5, height: float = 3.2) -> Figure:
    """Mean trial reward per training iteration (and its moving average), with reference lines."""
    values = np.asarray(rewards, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("rewards must hold at least one value")
    figure, axes = new_figure(width=width, height=height)
    ax = axes[0, 0]
    ax.plot(np.arange(1, values.size + 1), values, color=COLORS[0], lw=0.8, alpha=0.4, label="per iteration")
    w = max(1, min(window, values.size))
    smooth = np.convolve(values, np.ones(w) / w, mode="valid")
    ax.plot(np.arange(w, values.size + 1), smooth, color=COLORS[0], lw=2.0, label=f"moving average ({w})")
    for i, (label, value) in enumerate((references or {}).items()):
        ax.axhline(value, color=COLORS[(i + 1) % len(COLORS)], ls="--", lw=1.2, label=label)
    ax.set_xlabel("training iteration")
    ax.set_ylabel("mean total reward of a trial")
    ax.set_title(title or "RL² training")
    ax.legend(loc="lower right", fontsize=7)
    return figure


def exploration_figure(curves: Mapping[str, Sequence[float]], *, ylabel: str, title: str = "",
                       width: float = 6.5, height: float = 3.2) -> Figure:
    """One line per label over the pulls t = 1 … n of a trial (e.g. how often a player explores)."""
    if not curves:
        raise ValueError("curves must name at least one curve")
    figure, axes = new_figure(width=width, height=height)
    ax = axes[0, 0]
    for i, (label, values) in enumerate(curves.items()):
        values = np.asarray(values, dtype=np.float64).ravel()
        ax.plot(np.arange(1, values.size + 1), values, color=COLORS[i % len(COLORS)], lw=2.0, marker="o", ms=3,
                ls=("-", "--", ":", "-.")[i % 4], label=label)
    ax.set_xlabel("pull t")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="best", fontsize=7)
    return figure


class BanditTrace:
    """One trial of an agent on one bandit: what it pulled, what it got, what it believed.

    Attributes:
        actions: ``[n]`` arms pulled; rewards: ``[n]`` 0/1; probabilities: ``[n, k]`` the agent's
        π(· | h_t) before pull t.
    """

    def __init__(self, actions: np.ndarray, rewards: np.ndarray, probabilities: np.ndarray) -> None:
        self.actions, self.rewards, self.probabilities = actions, rewards, probabilities

    def counts(self, t: int, num_arms: int) -> tuple[np.ndarray, np.ndarray]:
        """(successes, failures) per arm after the first ``t`` pulls."""
        successes = np.bincount(self.actions[:t], weights=self.rewards[:t], minlength=num_arms).astype(np.int64)
        pulls = np.bincount(self.actions[:t], minlength=num_arms).astype(np.int64)
        return successes, pulls - successes


def play_trace(agent: RL2Agent, means: Sequence[float], *, seed: int = 0) -> BanditTrace:
    """Let ``agent`` play one whole trial on a bandit with arm means ``means``.

    Rewards are r_t = 1[u_t < p_{a_t}] with u_t drawn from the stateless seed
    ``derive_seed([seed, 0], t)`` — the same u_t whatever the means, so moving one mean changes
    the trial only where it matters. The agent's own sampling is seeded by its ``seed``, as in
    its first trial: the same arguments give the same trace every time.
    """
    p = tf.constant([list(means)], tf.float32)
    if p.shape[1] != agent.num_arms:
        raise ValueError(f"means must have {agent.num_arms} entries (the agent's arms), got {p.shape[1]}")
    agent = RL2Agent(agent.params, agent.num_arms, agent.num_pulls, greedy=agent.greedy, seed=agent.seed)
    actions, rewards, probabilities = [], [], []
    action: int | None = None
    reward: float | None = None
    for t in range(agent.num_pulls):
        action = agent.act(action, reward)
        probabilities.append(agent.probabilities.copy())
        reward = float(pull(p, tf.constant([action]), derive_seed(tf.constant([seed, 0], tf.int64), t))[0])
        actions.append(action)
        rewards.append(reward)
    return BanditTrace(np.asarray(actions, np.int64), np.asarray(rewards), np.asarray(probabilities))


def _explorer_view(agent: RL2Agent, means: list[float], pulls: int, seed: int) -> View:
    k, n = agent.num_arms, agent.num_pulls
    trace = play_trace(agent, means, seed=seed)
    solver = bayes_optimal_solver(k, n)
    successes, failures = trace.counts(pulls, k)
    agreed = 0
    for t in range(pulls):  # did the agent's pull t match a Bayes-optimal arm?
        s_t, f_t = trace.counts(t, k)
        q_t = solver.q_values(s_t, f_t, n - t)
        agreed += int(q_t[trace.actions[t]] >= q_t.max() - 1e-12)
    figure, axes = new_figure(1, 2, width=9.0, height=3.3)
    _draw_posteriors(axes[0, 0], successes, failures, means)
    axes[0, 0].set_title(f"posteriors after {pulls}/{n} pulls (true means dashed)")
    ax = axes[0, 1]
    arms = np.arange(k)
    labels = [f"arm {a + 1}" for a in arms]
    if pulls < n:
        policy = trace.probabilities[pulls]
        q = solver.q_values(successes, failures, n - pulls)
        best = np.flatnonzero(q >= q.max() - 1e-12)
        ax.bar(arms - 0.2, policy, width=0.4, color=COLORS[0], label="agent π(a) for the next pull")
        ax2 = ax.twinx()
        ax2.bar(arms + 0.2, q, width=0.4, color=COLORS[1], label="Bayes-optimal Q_a")
        ax2.set_ylabel("Q_a: expected reward to go")
        spread = float(q.max() - q.min()) + 0.05
        ax2.set_ylim(float(q.min()) - 2 * spread, float(q.max()) + 0.4 * spread)  # zoomed: the differences matter
        ax2.spines["right"].set_visible(True)
        ax2.grid(False)
        for a in best:
            ax2.annotate("★", (a + 0.2, q[a]), ha="center", va="bottom", fontsize=12, color=COLORS[3])
        ax.set_ylim(0.0, 1.05)
        handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
        ax.legend(handles, [h.get_label() for h in handles], loc="upper left", fontsize=7)
        ax.set_ylabel("probability")
        ax.set_title(f"pull {pulls + 1}: the agent's choice vs the Bayes-optimal one")
        next_agent = int(np.argmax(policy))
        verdict = (f"next pull: the agent prefers arm {next_agent + 1} (π = {policy[next_agent]:.2f}); "
                   f"Bayes-optimal: arm {', '.join(str(a + 1) for a in best)} (Q = {q.max():.2f})")
    else:
        ax.bar(arms, np.bincount(trace.actions, minlength=k) / n, color=COLORS[0])
        ax.set_ylim(0.0, 1.05)
        ax.set_ylabel("share of the pulls")
        ax.set_title(f"the trial is over: where the {plural(n, 'pull')} went")
        mark_problem(ax, f"all {plural(n, 'pull')} are played: there is no next\n"
                         "choice to compare with the Bayes-optimal one", y=0.78)
        verdict = f"the trial is over: all {plural(n, 'pull')} played (the bars show where they went)"
        policy, q = np.zeros(k), np.zeros(k)
    ax.set_xticks(arms, labels)
    total = float(trace.rewards[:pulls].sum())
    agreement = (f"so far the agent chose a Bayes-optimal arm at {agreed} of {plural(pulls, 'pull')}" if pulls
                 else "no pulls yet: step the trial with ▶ or the 'pulls played' slider")
    readout = (f"means = [{', '.join(f'{m:.2f}' for m in means)}]   pulls played {pulls} of {n}   "
               f"reward so far {total:.0f}\n"
               f"{verdict}\n{agreement}")
    data = {"actions": trace.actions[:pulls], "rewards": trace.rewards[:pulls], "policy": policy, "q_values": q,
            "agreed": agreed, "total_reward": total, "means": list(means), "pulls": pulls}
    return View(figure=figure, readout=readout, data=data)


def bandit_explorer(agent: RL2Agent, *, means: Sequence[float] | None = None, pulls: int = 3,
                    seed: int = 0) -> WidgetApp:
    """Set each arm's mean, step through the agent's trial, and compare its choices with the
    Bayes-optimal ones.

    Controls, in this order: one slider per arm mean (0 to 1; the first is the control the
    browser test moves) and ``pulls played`` t (0 to n; its play button plays the trial).

    Args:
        agent: an :class:`~metalearn_lib.bandits.rl2.RL2Agent` (k arms, n pulls).
        means: the initial arm means (default evenly spread, shuffled).
        pulls: the initial t, in [0, n].
        seed: seeds the rewards of the trial (see :func:`play_trace`).

    Raises:
        TypeError: ``agent`` is not an RL2Agent.
        ValueError: ``means`` of the wrong length or outside [0, 1], ``pulls`` outside [0, n].
    """
    if not isinstance(agent, RL2Agent):
        raise TypeError(f"agent must be an RL2Agent, got {type(agent).__name__}")
    k, n = agent.num_arms, agent.num_pulls
    if means is None:
        means = list(np.round(np.random.default_rng(seed).permutation(np.linspace(0.15, 0.85, k)), 2))
    means = [float(m) for m in means]
    if len(means) != k or not all(0.0 <= m <= 1.0 for m in means):
        raise ValueError(f"means must be {k} numbers in [0, 1], got {means}")
    if isinstance(pulls, bool) or not isinstance(pulls, int) or not 0 <= pulls <= n:
        raise ValueError(f"pulls must be an int in [0, {n}], got {pulls!r}")
    style = {"description_width": "initial"}
    controls: dict[str, ipywidgets.ValueWidget] = {
        f"mean_{a}": ipywidgets.FloatSlider(value=means[a], min=0.0, max=1.0, step=0.05, description=f"p{a + 1}",
                                            readout_format=".2f", continuous_update=False, style=style)
        for a in range(k)
    }
    controls["pulls"] = ipywidgets.Play(value=pulls, min=0, max=n, step=1, interval=700, description="pulls played")
    slider = ipywidgets.IntSlider(value=pulls, min=0, max=n, description="pulls played", continuous_update=False,
                                  style=style)
    size_control(slider)
    ipywidgets.jslink((controls["pulls"], "value"), (slider, "value"))

    def render(**values: Any) -> View:
        return _explorer_view(agent, [values[f"mean_{a}"] for a in range(k)], int(values["pulls"]), seed)

    app = WidgetApp(controls, render, title="An RL² agent on one bandit: its choices, the posterior and the "
                                            "Bayes-optimal arm")
    slider.observe(lambda change: setattr(controls["pulls"], "value", change["new"]), names="value")
    app.container.children = (*app.container.children[:2], slider, *app.container.children[2:])
    return app
