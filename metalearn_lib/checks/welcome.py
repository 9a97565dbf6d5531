"""Checks for the exercises of ``00_welcome``: the stable softmax."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from metalearn_lib.checks.core import Case, run_check, short
from metalearn_lib.welcome import stable_softmax

__all__ = ["check_stable_softmax", "diagnose_not_finite", "diagnose_not_normalised"]


def _softmax_cases() -> list[Case]:
    def case(name: str, scores: Any, temperature: float, hint: str) -> Case:
        kwargs = {} if temperature == 1.0 else {"temperature": temperature}
        return Case(name, (np.asarray(scores, dtype=np.float64),), stable_softmax(scores, temperature), hint, kwargs)

    return [
        case("small scores", [1.0, 2.0, 3.0], 1.0, "wᵢ = exp(sᵢ/τ) / Σⱼ exp(sⱼ/τ): a higher score gets more weight."),
        case("a single score gets all the weight", [5.0], 1.0, "With one score the only weight is 1."),
        case("large scores (1000 and up)", [1000.0, 1001.0, 1002.0], 1.0,
             "exp(1000) overflows to inf. Subtract the largest score before exponentiating: "
             "the factor exp(−max/τ) cancels, so the weights do not change."),
        case("very negative scores", [-1000.0, -1001.0, -999.0], 1.0,
             "exp(−1000) underflows to 0 and 0/0 is nan. Subtracting the maximum fixes this too."),
        case("temperature τ = 0.5 sharpens", [1.0, 2.0, 3.0], 0.5,
             "Divide the scores by τ: small τ makes the weights sharper (closer to the argmax)."),
        case("temperature τ = 4 flattens", [1.0, 2.0, 3.0], 4.0,
             "Divide the scores by τ: large τ makes the weights flatter (closer to uniform)."),
        case("equal scores give equal weights", [7.0, 7.0, 7.0, 7.0], 2.0, "Equal scores must give 1/n each."),
        case("a batch of score vectors: normalise each row", [[1.0, 2.0, 3.0], [0.0, 0.0, 10.0]], 1.0,
             "Take the max and the sum over the last axis only (axis=-1, keepdims=True), so each row "
             "sums to 1 on its own."),
    ]


def diagnose_not_finite(case: Case, got: np.ndarray) -> str | None:
    if not np.all(np.isfinite(got)):
        return ("The result contains nan or inf: the exponentials overflowed or underflowed. "
                "Subtract the maximum score (along the last axis) before calling exp.")
    return None


def diagnose_not_normalised(case: Case, got: np.ndarray) -> str | None:
    if not np.allclose(got.sum(axis=-1), 1.0, atol=1e-6):
        return (f"Each row should sum to 1, yours sum to {short(got.sum(axis=-1))}. Divide by the sum of "
                "the exponentials over the last axis (keepdims=True).")
    return None


def _diagnose_temperature(case: Case, got: np.ndarray) -> str | None:
    temperature = case.kwargs.get("temperature", 1.0)
    scores = case.args[0]
    if temperature != 1.0 and np.allclose(got, stable_softmax(scores * temperature), atol=1e-6):
        return "The temperature is applied upside down: divide the scores by τ, do not multiply."
    if temperature != 1.0 and np.allclose(got, stable_softmax(scores), atol=1e-6):
        return "The temperature is ignored: divide the scores by τ before the exponential."
    return None


def _diagnose_sign(case: Case, got: np.ndarray) -> str | None:
    temperature = case.kwargs.get("temperature", 1.0)
    if np.allclose(got, stable_softmax(-case.args[0], temperature), atol=1e-6) and not np.allclose(got, case.expected):
        return "The sign is flipped: the highest score must get the largest weight (exp(+s/τ), not exp(−s/τ))."
    return None


def check_stable_softmax(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``stable_softmax(scores, temperature=1.0)`` on 8 prepared cases.

    Prints ✅ and returns ``None`` (so a check as a cell's last line shows nothing more), or
    raises :class:`CheckFailed` with the verdict.
    """
    run_check(
        function,
        _softmax_cases(),
        diagnoses=(diagnose_not_finite, diagnose_not_normalised, _diagnose_temperature, _diagnose_sign),
        name="stable_softmax",
        quiet=quiet,
    )
