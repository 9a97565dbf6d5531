"""Figures and the explorer for ``03_model_averaging``: a pool of trained learners and their weights.

* :class:`Pool` holds already trained members (MLP parameter lists), their predictions on a
  validation set, a held-out test set and an x grid, and computes weights by a rule
  (:data:`RULES`) and the ensemble's held-out error f*(x) = Σᵢ wᵢ f(θᵢ, x);
* :func:`pool_figure` draws the weights as bars next to the ensemble's fit and the members';
* :func:`fits_figure` compares fits (output vs parameter averaging) panel by panel;
* :func:`regret_figure` draws Hedge's cumulative regret against its bound √(T ln N / 2);
* :func:`averaging_explorer` is the widget: a temperature slider and a weighting rule.

Nothing here trains anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from metalearn_lib.averaging import (
    HedgeResult,
    bma_weights,
    gaussian_log_likelihood,
    performance_weights,
    stack_params,
)
from metalearn_lib.models import forward
from metalearn_lib.plotting import COLORS, bar_weights, new_figure
from metalearn_lib.widgets.core import View, WidgetApp

__all__ = ["RULES", "Pool", "averaging_explorer", "fits_figure", "pool_figure", "regret_figure"]

#: The weighting rules the explorer offers, by the name shown in its dropdown.
RULES: tuple[str, ...] = (
    "softmax(−validation MSE / τ)",
    "tempered BMA: softmax(log-likelihood / τ)",
    "uniform",
    "best on validation",
)
#: Short names of the rules, for panel titles.
RULE_NAMES: dict[str, str] = dict(zip(RULES, ("softmax of −MSE / τ", "tempered BMA", "uniform", "best one"),
                                      strict=True))
_TEST_STYLE: dict[str, Any] = dict(s=8, color="#999999", alpha=0.5, zorder=1)


def _as_xy(name: str, pair: Any) -> tuple[np.ndarray, np.ndarray]:
    try:
        x, y = pair
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair (x [points, 1], y [points, 1]) of arrays") from None
    if x.ndim != 2 or y.shape != (x.shape[0], 1) or x.shape[0] < 1:
        raise ValueError(f"{name} must be (x [points, features], y [points, 1]) with points >= 1, got shapes "
                         f"{x.shape} and {y.shape}")
    return x, y


class Pool:
    """Trained pool members with their predictions on validation, test and a grid.

    Args:
        members: N ≥ 1 parameter lists of one MLP architecture with one input and one output.
        validation: ``(x, y)``, ``[points, 1]`` each — where the weights are computed.
        test: ``(x, y)``, ``[points, 1]`` each — held-out data the ensemble is scored on.
        grid: x values ``[G]`` to draw the fits on.
        truth: the noise-free function on the grid ``[G]``, drawn in black (optional).
        names: one label per member (default ``learner 1`` …).
        noise_std: σ > 0 of the Gaussian likelihood used by the BMA rule.

    Raises:
        TypeError, ValueError: malformed arguments (named in the message).
    """

    def __init__(
        self,
        members: Sequence[Sequence[tf.Tensor]],
        validation: Any,
        test: Any,
        grid: Any,
        *,
        truth: Any = None,
        names: Sequence[str] | None = None,
        noise_std: float = 0.5,
    ) -> None:
        stacked = stack_params(members)
        self.num_members = len(members)
        self.names = list(names) if names is not None else [f"learner {i + 1}" for i in range(self.num_members)]
        if len(self.names) != self.num_members:
            raise ValueError(f"names must have one entry per member ({self.num_members}), got {len(self.names)}")
        if isinstance(noise_std, bool) or not isinstance(noise_std, (int, float)) or not noise_std > 0:
            raise ValueError(f"noise_std must be a number > 0, got {noise_std!r}")
        self.noise_std = float(noise_std)
        self.val_x, self.val_y = _as_xy("validation", validation)
        self.test_x, self.test_y = _as_xy("test", test)
        self.grid = np.asarray(grid, np.float64).ravel()
        if self.grid.size < 2:
            raise ValueError("grid must hold at least 2 x values")
        self.truth = None if truth is None else np.asarray(truth, np.float64).ravel()
        if self.truth is not None and self.truth.shape != self.grid.shape:
            raise ValueError(f"truth must have the grid's shape {self.grid.shape}, got {self.truth.shape}")

        def predict(x: np.ndarray) -> np.ndarray:
            tiled = tf.constant(np.broadcast_to(x, (self.num_members, *x.shape)), stacked[0].dtype)
            return forward(stacked, tiled).numpy().astype(np.float64)[..., 0]  # [N, points]

        self.val_pred = predict(self.val_x)
        self.test_pred = predict(self.test_x)
        self.grid_pred = predict(self.grid[:, None])
        self.val_mse = np.mean((self.val_pred - self.val_y[:, 0]) ** 2, axis=1)
        self.test_mse = np.mean((self.test_pred - self.test_y[:, 0]) ** 2, axis=1)
        self.log_likelihood = gaussian_log_likelihood(self.val_pred, self.val_y, self.noise_std)
        self.best = int(np.argmin(self.val_mse))

    def weights(self, rule: str, temperature: float) -> np.ndarray:
        """The members' weights ``[N]`` under ``rule`` (one of :data:`RULES`) at temperature τ > 0."""
        if rule not in RULES:
            raise ValueError(f"rule must be one of {list(RULES)}, got {rule!r}")
        if rule == RULES[0]:
            return performance_weights(self.val_mse, temperature, kind="loss")
        if rule == RULES[1]:
            if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
                raise ValueError(f"temperature must be a number > 0, got {temperature!r}")
            return bma_weights(self.log_likelihood / temperature)
        if rule == RULES[2]:
            return np.full(self.num_members, 1.0 / self.num_members)
        return np.eye(self.num_members)[self.best]

    def test_mse_of(self, weights: np.ndarray) -> float:
        """Held-out MSE of the output average Σᵢ wᵢ f(θᵢ, x)."""
        return float(np.mean((np.asarray(weights) @ self.test_pred - self.test_y[:, 0]) ** 2))

    def view(self, temperature: float, rule: str) -> View:
        """The explorer's render function."""
        weights = self.weights(rule, temperature)
        ensemble_mse = self.test_mse_of(weights)
        uniform_mse = self.test_mse_of(self.weights(RULES[2], 1.0))
        best_mse = float(self.test_mse[self.best])
        uses_temperature = rule in RULES[:2]
        figure = pool_figure(self, weights, title=f"the ensemble, τ = {temperature:.3g}" if uses_temperature
                             else f"the ensemble ({rule})", weights_title=f"weights: {RULE_NAMES[rule]}")
        readout = (
            f"{rule}   τ = {temperature:.3g}   (τ is ignored by 'uniform' and 'best')\n"
            f"weights = [{', '.join(f'{w:.2f}' for w in weights)}]\n"
            f"held-out MSE: ensemble {ensemble_mse:.3f}   best on validation ({self.names[self.best]}) "
            f"{best_mse:.3f}   uniform {uniform_mse:.3f}"
        )
        data = {"weights": weights, "ensemble_mse": ensemble_mse, "best_mse": best_mse, "uniform_mse": uniform_mse,
                "ensemble_fit": weights @ self.grid_pred, "temperature": temperature, "rule": rule}
        return View(figure=figure, readout=readout, data=data)


def pool_figure(pool: Pool, weights: Any, *, title: str = "", weights_title: str = "weights", width: float = 9.0,
                height: float = 3.4) -> Figure:
    """Left: the weights as bars. Right: every member's fit (thin), the weighted ensemble's (thick),
    the truth (black) and the held-out points (grey)."""
    weights = np.asarray(weights, np.float64)
    figure, axes = new_figure(1, 2, width=width, height=height)
    bar_weights(axes[0, 0], [str(i + 1) for i in range(pool.num_members)], weights, title=weights_title)
    axes[0, 0].set_xlabel("learner")
    ax = axes[0, 1]
    ax.scatter(pool.test_x[:, 0], pool.test_y[:, 0], label="held-out points", **_TEST_STYLE)
    if pool.truth is not None:
        ax.plot(pool.grid, pool.truth, color="#000000", lw=2.0, label="true function")
    for i in range(pool.num_members):
        ax.plot(pool.grid, pool.grid_pred[i], color=COLORS[i % len(COLORS)], lw=0.9, alpha=0.35 + 0.65 * weights[i])
    ax.plot(pool.grid, weights @ pool.grid_pred, color=COLORS[3], lw=2.6, label="weighted ensemble")
    low, high = float(pool.test_y.min()), float(pool.test_y.max())
    margin = 0.3 * (high - low)
    ax.set_ylim(low - margin, high + margin)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title or "the ensemble and its members")
    ax.legend(loc="upper right", fontsize=7)
    return figure


def regret_figure(result: HedgeResult, *, width: float = 6.5, height: float = 3.4) -> Figure:
    """Hedge's cumulative regret over the rounds, with its bound at the horizon (√(T ln N / 2) for the tuned η)."""
    horizon, num_experts = result.weights.shape
    rounds = np.arange(1, horizon + 1)
    figure, axes = new_figure(width=width, height=height)
    ax = axes[0, 0]
    ax.plot(rounds, result.cumulative_regret, color=COLORS[0], lw=2.0, label="Hedge's cumulative regret")
    ax.axhline(result.bound, color=COLORS[3], ls="--", lw=1.5, label=f"bound at the horizon T: {result.bound:.3g}")
    ax.set_xlabel("round t")
    ax.set_ylabel("regret")
    ax.set_title(f"Hedge with η = {result.learning_rate:.3g}, N = {num_experts} learners")
    ax.legend(loc="upper left", fontsize=8)
    return figure


def averaging_explorer(
    members: Sequence[Sequence[tf.Tensor]],
    validation: Any,
    test: Any,
    grid: Any,
    *,
    truth: Any = None,
    names: Sequence[str] | None = None,
    noise_std: float = 0.5,
    temperature: float = 0.1,
    rule: str = RULES[0],
) -> WidgetApp:
    """Weights from performance, live: a temperature slider and a weighting rule.

    Controls, in this order: a temperature slider (log scale, τ from 0.001 to 100; the first
    control, the one the browser test moves) and a rule dropdown over :data:`RULES`. The picture
    shows the weights as bars and the ensemble's fit next to the members'; the readout gives the
    weights and the held-out MSE of the ensemble, of the member best on validation and of the
    uniform average.

    Raises:
        TypeError, ValueError: see :class:`Pool`; ``rule`` not in :data:`RULES`; ``temperature``
            outside [0.001, 100].
    """
    pool = Pool(members, validation, test, grid, truth=truth, names=names, noise_std=noise_std)
    if rule not in RULES:
        raise ValueError(f"rule must be one of {list(RULES)}, got {rule!r}")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 1e-3 <= temperature <= 100:
        raise ValueError(f"temperature must be a number in [0.001, 100] for the slider, got {temperature!r}")
    style = {"description_width": "initial"}
    controls = {
        "temperature": ipywidgets.FloatLogSlider(value=float(temperature), base=10, min=-3, max=2, step=0.1,
                                                 description="temperature τ", readout_format=".3g",
                                                 continuous_update=False, style=style),
        "rule": ipywidgets.Dropdown(options=list(RULES), value=rule, description="weights", style=style),
    }
    app = WidgetApp(controls, pool.view, title="From performance to weights: the temperature and the rule")
    app.pool = pool  # type: ignore[attr-defined]  # for tests and curious learners
    return app


def fits_figure(
    grid: Any,
    truth: Any,
    panels: dict[str, dict[str, Any]],
    *,
    points: tuple[Any, Any] | None = None,
    height: float = 3.2,
) -> Figure:
    """One panel per entry of ``panels`` (title → {label: curve on the grid}), the truth in black.

    Raises:
        ValueError: no panels, or a curve whose length differs from the grid's.
    """
    grid = np.asarray(grid, np.float64).ravel()
    if not panels:
        raise ValueError("panels must name at least one panel")
    figure, axes = new_figure(1, len(panels), width=4.6 * len(panels), height=height)
    for ax, (title, curves) in zip(axes[0], panels.items(), strict=True):
        if points is not None:
            ax.scatter(np.ravel(points[0]), np.ravel(points[1]), label="held-out points", **_TEST_STYLE)
        ax.plot(grid, np.ravel(truth), color="#000000", lw=2.0, label="true function")
        for index, (label, curve) in enumerate(curves.items()):
            curve = np.ravel(np.asarray(curve, np.float64))
            if curve.shape != grid.shape:
                raise ValueError(f"curve {label!r} must have the grid's shape {grid.shape}, got {curve.shape}")
            ax.plot(grid, curve, color=COLORS[index % len(COLORS)], lw=2.0, ls=("-", "--", ":")[index % 3],
                    label=label)
        ax.set_title(title)
        ax.set_xlabel("x")
        ax.legend(loc="upper right", fontsize=7)
    axes[0, 0].set_ylabel("y")
    return figure
