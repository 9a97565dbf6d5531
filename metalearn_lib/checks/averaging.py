"""Checks for the exercises of ``03_model_averaging``: performance weights and one Hedge step.

* :func:`check_performance_weights` — ``performance_weights(scores, temperature, kind)``, the
  softmax wᵢ = exp(sᵢ/τ) / Σⱼ exp(sⱼ/τ) with sᵢ = scoreᵢ (``kind="reward"``) or sᵢ = −lossᵢ
  (``kind="loss"``), computed without overflow;
* :func:`check_hedge_update` — ``hedge_update(weights, losses, learning_rate)``, one step of
  Hedge, wᵢ ← wᵢ exp(−η ℓᵢ) / Σⱼ wⱼ exp(−η ℓⱼ), on *weights* (not log weights), stable for large
  η ℓ.

Expected answers come from :mod:`metalearn_lib.averaging`; the overflow and normalisation
diagnoses are chapter 0's (:mod:`metalearn_lib.checks.welcome`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from metalearn_lib.averaging import hedge_update, performance_weights
from metalearn_lib.checks.core import Case, run_check, short
from metalearn_lib.checks.welcome import diagnose_not_finite, diagnose_not_normalised

__all__ = ["check_hedge_update", "check_performance_weights"]


def _close(got: np.ndarray, value: np.ndarray) -> bool:
    return got.shape == value.shape and bool(np.allclose(got, value, rtol=1e-5, atol=1e-7))


# ============================================================================================
# performance_weights(scores, temperature, kind)
# ============================================================================================
_LOSS_SHIFT = ("For kind='loss' negate first, then subtract the maximum of sᵢ = −lossᵢ (that is, add the smallest "
               "loss). Subtracting max(loss) before negating leaves exponents (max − lossᵢ)/τ ≥ 0, which overflow "
               "exp at a small τ.")


def _diagnose_loss_overflow(case: Case, got: np.ndarray) -> str | None:
    if case.kwargs["kind"] == "loss" and not np.all(np.isfinite(got)):
        return _LOSS_SHIFT
    return None


def _weights_cases() -> list[Case]:
    def case(name: str, scores: Any, temperature: float, kind: str, hint: str) -> Case:
        array = np.asarray(scores, dtype=np.float64)
        expected = performance_weights(array, temperature, kind=kind)
        return Case(name, (array,), expected, hint, {"temperature": temperature, "kind": kind})

    formula = "wᵢ = exp(sᵢ/τ) / Σⱼ exp(sⱼ/τ), with sᵢ = scoreᵢ for rewards and sᵢ = −lossᵢ for losses."
    return [
        case("rewards, τ = 1: the highest reward gets the most weight", [1.0, 2.0, 3.0, 0.5], 1.0, "reward", formula),
        case("losses, τ = 1: the lowest loss gets the most weight", [0.2, 0.4, 0.1, 0.9], 1.0, "loss",
             "For kind='loss' the score is the negated loss, sᵢ = −lossᵢ: a lower loss must get a larger weight."),
        case("rewards of 1000 and more", [1000.0, 1001.0, 1002.0], 1.0, "reward",
             "exp(1000) overflows to inf. Subtract the largest sᵢ before exponentiating: the factor cancels."),
        case("losses of 800 and more", [800.0, 900.0, 850.0], 1.0, "loss",
             "exp(−800) underflows to 0 and 0/0 is nan. Shift by the largest sᵢ = −lossᵢ (the smallest loss)."),
        case("τ = 0.001, nearly greedy", [1.0, 2.0, 3.0], 0.001, "reward",
             "sᵢ/τ = 3000 overflows exp. Subtract the maximum before exponentiating."),
        case("losses at τ = 0.001, nearly greedy", [1.0, 2.0, 3.0], 0.001, "loss", _LOSS_SHIFT),
        case("τ = 0.5 sharpens", [1.0, 2.0, 3.0], 0.5, "reward",
             "Divide the scores by τ: a small τ makes the weights sharper."),
        case("losses at τ = 4 flatten", [1.0, 2.0, 3.0], 4.0, "loss",
             "Divide the negated losses by τ: a large τ makes the weights flatter."),
        case("equal losses give equal weights", [0.3, 0.3, 0.3, 0.3], 0.1, "loss", "Equal scores must give 1/N each."),
        case("a single learner gets all the weight", [5.0], 1.0, "reward", "With one learner the only weight is 1."),
    ]


def _diagnose_weights(case: Case, got: np.ndarray) -> str | None:
    scores = case.args[0]
    temperature, kind = case.kwargs["temperature"], case.kwargs["kind"]
    expected = np.asarray(case.expected)
    other = "reward" if kind == "loss" else "loss"
    if scores.size > 1 and _close(got, performance_weights(scores, temperature, kind=other)):
        if kind == "loss":
            return ("The sign of the loss is confused: with kind='loss' a *lower* loss must get a *larger* weight. "
                    "Use sᵢ = −lossᵢ, i.e. exp(−lossᵢ/τ); you used exp(+lossᵢ/τ), as for a reward.")
        return ("The sign is confused: with kind='reward' a *higher* score must get a *larger* weight, exp(+sᵢ/τ). "
                "Negate the scores only for kind='loss'.")
    if temperature != 1.0 and _close(got, performance_weights(scores, 1.0 / temperature, kind=kind)):
        return "The temperature is applied upside down: divide the scores by τ, do not multiply them."
    if temperature != 1.0 and _close(got, performance_weights(scores, 1.0, kind=kind)):
        return "The temperature is ignored: divide the scores by τ before the exponential."
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (1.0 / scores) / np.sum(1.0 / scores) if kind == "loss" else scores / np.sum(scores)
    if scores.size > 1 and _close(got, ratio) and not _close(got, expected):
        return ("These are proportional weights (score / Σ score): they break for negative scores and ignore τ. "
                "Use the softmax exp(sᵢ/τ) / Σⱼ exp(sⱼ/τ).")
    return None


def check_performance_weights(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``performance_weights(scores, temperature, kind)`` on 10 prepared cases.

    The function is called as ``function(scores, temperature=τ, kind=kind)`` with ``scores`` a
    float64 array ``[N]``. Prints ✅ and returns ``None``, or raises
    :class:`~metalearn_lib.checks.core.CheckFailed` with the verdict.
    """
    run_check(
        function,
        _weights_cases(),
        diagnoses=(_diagnose_loss_overflow, diagnose_not_finite, diagnose_not_normalised, _diagnose_weights),
        name="performance_weights",
        quiet=quiet,
    )


# ============================================================================================
# hedge_update(weights, losses, learning_rate)
# ============================================================================================
def _hedge(weights: np.ndarray, losses: np.ndarray, learning_rate: float) -> np.ndarray:
    """The library's Hedge step, on weights: exp(hedge_update(log w, ℓ, η))."""
    with np.errstate(divide="ignore"):
        return np.exp(hedge_update(np.log(weights), losses, learning_rate))


def _hedge_cases() -> list[Case]:
    def case(name: str, weights: Any, losses: Any, learning_rate: float, hint: str) -> Case:
        w, loss = np.asarray(weights, np.float64), np.asarray(losses, np.float64)
        return Case(name, (w, loss), _hedge(w, loss, learning_rate), hint, {"learning_rate": learning_rate})

    step = "wᵢ ← wᵢ exp(−η ℓᵢ) / Σⱼ wⱼ exp(−η ℓⱼ): multiply by exp(−η ℓᵢ), then normalise."
    rng = np.random.default_rng(3)
    return [
        case("uniform weights, three experts, η = 0.5", np.full(3, 1 / 3), [0.1, 0.5, 0.9], 0.5, step),
        case("the current weights are kept as a prior, η = 1", [0.7, 0.2, 0.1], [0.9, 0.1, 0.5], 1.0,
             "Multiply the *current* weights by exp(−η ℓᵢ): an expert's past counts."),
        case("η = 0.1: the step scales with learning_rate", [0.5, 0.3, 0.2], [1.0, 0.0, 0.5], 0.1,
             "Use the argument learning_rate as η."),
        case("weights that do not sum to 1 come back normalised", [2.0, 1.0, 1.0], [0.0, 0.0, 0.0], 0.5,
             "Divide by Σⱼ wⱼ exp(−η ℓⱼ) so the new weights sum to 1."),
        case("a huge step: η ℓ ≈ 900 underflows exp", np.full(4, 0.25), [0.8, 0.9, 1.0, 0.85], 1000.0,
             "exp(−800) underflows to 0 for every expert and 0/0 is nan. Work in log space: "
             "log wᵢ − η ℓᵢ, subtract the maximum, exponentiate, normalise."),
        case("a huge step on spread losses: η (ℓ_max − ℓᵢ) = 1000 overflows exp", np.full(4, 0.25),
             [0.0, 1.0, 0.5, 0.9], 1000.0,
             "Shift by the maximum of log wᵢ − η ℓᵢ (the *smallest* loss), not by the largest loss: "
             "exp(−η (ℓᵢ − ℓ_max)) = exp(+1000) overflows."),
        case("five experts, random weights and losses", rng.dirichlet(np.ones(5)), rng.uniform(size=5), 0.3, step),
    ]


def _diagnose_hedge(case: Case, got: np.ndarray) -> str | None:
    weights, losses = case.args
    eta = case.kwargs["learning_rate"]
    expected = np.asarray(case.expected)
    if not np.all(np.isfinite(got)):
        return ("The result contains nan or inf: exp(−η ℓ) underflowed (or overflowed). Work in log space: "
                "z = log wᵢ − η ℓᵢ, subtract max(z), then exp and normalise.")
    with np.errstate(divide="ignore"):
        if _close(got, np.log(expected)) and not _close(got, expected):
            return "You returned log weights: return the weights themselves, exp(log wᵢ − η ℓᵢ − logsumexp)."
    if not np.allclose(got.sum(), 1.0, atol=1e-6):
        return (f"The new weights sum to {short(got.sum())}, not 1: divide by Σⱼ wⱼ exp(−η ℓⱼ) (renormalise).")

    def normalised(values: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return values / values.sum()

    named = [
        (_hedge(weights, -losses, eta), "The sign is flipped: the expert with the larger loss gained weight. "
         "Hedge multiplies by exp(−η ℓᵢ), not exp(+η ℓᵢ)."),
        (_hedge(weights, losses, 1.0), f"The learning rate is ignored (this is η = 1, while learning_rate = {eta:g}): "
         "multiply the losses by η."),
        (_hedge(np.ones_like(weights), losses, eta), "The current weights were dropped: the result is "
         "softmax(−η ℓ) of this round alone. Multiply the current weights wᵢ by exp(−η ℓᵢ)."),
        (normalised(weights * (1.0 - eta * losses)), "This is wᵢ (1 − η ℓᵢ), the linear approximation of "
         "exp(−η ℓᵢ): Hedge exponentiates, wᵢ exp(−η ℓᵢ)."),
        (normalised(weights * eta * losses), "The losses were multiplied in, not exponentiated: wᵢ · η ℓᵢ gives "
         "*more* weight to larger losses. Use wᵢ exp(−η ℓᵢ)."),
        (normalised(weights * losses), "The losses were multiplied in, not exponentiated: wᵢ · ℓᵢ gives *more* "
         "weight to larger losses. Use wᵢ exp(−η ℓᵢ)."),
        (_hedge(weights, losses, 1.0 / eta) if eta > 0 else expected, "The learning rate is upside down: "
         "multiply the losses by η, do not divide."),
    ]
    for value, hint in named:
        if _close(got, value) and not _close(got, expected):
            return hint
    return None


def check_hedge_update(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``hedge_update(weights, losses, learning_rate)`` on 7 prepared cases.

    ``weights`` and ``losses`` are float64 arrays ``[N]``; the function must return the new
    weights ``[N]`` (not log weights), summing to 1. Prints ✅ and returns ``None``, or raises
    :class:`~metalearn_lib.checks.core.CheckFailed` with the verdict.
    """
    def call(weights: np.ndarray, losses: np.ndarray, *, learning_rate: float) -> Any:
        return function(weights.copy(), losses.copy(), learning_rate)

    call.__name__ = getattr(function, "__name__", "hedge_update")
    run_check(call, _hedge_cases(), diagnoses=(_diagnose_hedge,), name="hedge_update", quiet=quiet)
