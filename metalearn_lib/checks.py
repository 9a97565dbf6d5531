"""Friendly checks for exercise notebooks.

An exercise's check cell is one call such as ``check_stable_softmax(stable_softmax)``. The
check runs the learner's function on prepared cases and

* on success prints one line: ``✅ stable_softmax: all 8 checks passed.``
* on failure raises :class:`CheckFailed`, which Jupyter shows as a short verdict — each failed
  case with what was expected, what came back, and a hint — and never as a TensorFlow
  traceback. (nbgrader sees the exception and marks the cell as failed.)

Errors raised *inside* the learner's function are caught and reported as one line
(``your function raised InvalidArgumentError: ...``).

New checks are a list of :class:`Case` objects and a call to :func:`run_check`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from metalearn_lib.welcome import stable_softmax

__all__ = ["Case", "CheckFailed", "CheckReport", "check_stable_softmax", "run_check"]

#: A diagnosis looks at (case, returned array) and returns a hint, or None if it does not apply.
Diagnosis = Callable[["Case", np.ndarray], "str | None"]


@dataclass(frozen=True)
class Case:
    """One prepared input and the answer expected for it.

    Attributes:
        name: what the case tests, in words a learner understands.
        args, kwargs: passed to the learner's function.
        expected: the right answer (compared with ``np.allclose`` after ``np.asarray``).
        hint: shown when this case fails and no diagnosis says something more specific.
    """

    name: str
    args: tuple[Any, ...]
    expected: Any
    hint: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    def describe_call(self) -> str:
        parts = [_short(a) for a in self.args] + [f"{k}={_short(v)}" for k, v in self.kwargs.items()]
        return "(" + ", ".join(parts) + ")"


@dataclass
class Failure:
    case: Case
    got: str
    hint: str


@dataclass
class CheckReport:
    """The outcome of a check: how many cases passed, and each failure with its hint."""

    function_name: str
    num_cases: int
    failures: list[Failure]

    @property
    def passed(self) -> bool:
        return not self.failures

    def __str__(self) -> str:
        if self.passed:
            return f"✅ {self.function_name}: all {self.num_cases} checks passed."
        lines = [f"❌ {self.function_name}: {len(self.failures)} of {self.num_cases} checks failed."]
        for failure in self.failures:
            lines += [
                f"  • {failure.case.name}",
                f"      call:     {self.function_name}{failure.case.describe_call()}",
                f"      expected: {_short(failure.case.expected)}",
                f"      got:      {failure.got}",
            ]
            lines += textwrap.wrap(failure.hint, width=88, initial_indent="      hint:     ",
                                   subsequent_indent="                ")
        return "\n".join(lines)


class CheckFailed(AssertionError):
    """Raised by a check when some case fails; shown in Jupyter as the verdict alone."""

    def __init__(self, report: CheckReport) -> None:
        super().__init__(str(report))
        self.report = report

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing a traceback.
        return str(self.report).splitlines()


def _short(value: Any, max_chars: int = 70) -> str:
    """A compact, deterministic rendering of a value for verdict messages."""
    if isinstance(value, np.ndarray) or isinstance(value, (list, tuple)) and value and not isinstance(value[0], str):
        try:
            array = np.asarray(value, dtype=np.float64)
            text = np.array2string(array, precision=3, separator=", ", suppress_small=True, max_line_width=10**6)
        except (TypeError, ValueError):
            text = repr(value)
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def _first_line(error: BaseException) -> str:
    message = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {message[0] if message else ''}".rstrip(": ")
    return text if len(text) <= 160 else text[:159] + "…"


def run_check(
    function: Callable[..., Any],
    cases: Sequence[Case],
    *,
    diagnoses: Sequence[Diagnosis] = (),
    name: str | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    quiet: bool = False,
) -> CheckReport:
    """Run ``function`` on every case; print the verdict on success, raise :class:`CheckFailed` otherwise.

    Args:
        function: the learner's function.
        cases: prepared inputs with expected outputs.
        diagnoses: functions that recognise a typical mistake from the returned array and say so;
            the first that applies replaces the case's generic hint.
        name: the name used in messages (default: ``function.__name__``).
        rtol, atol: tolerances of the ``np.allclose`` comparison.
        quiet: do not print the success line (for tests).

    Raises:
        TypeError: ``function`` is not callable.
        ValueError: ``cases`` is empty.
        CheckFailed: at least one case failed.
    """
    if not callable(function):
        raise TypeError(
            f"function must be callable (pass the function itself, without calling it), got {type(function).__name__}"
        )
    if not cases:
        raise ValueError("cases must contain at least one Case")
    name = name or getattr(function, "__name__", "your function")
    failures: list[Failure] = []
    for case in cases:
        failure = _run_case(function, case, diagnoses, rtol=rtol, atol=atol)
        if failure is not None:
            failures.append(failure)
            if failure.got.startswith("NotImplementedError"):
                break  # one message is enough for a function not written yet
    report = CheckReport(function_name=name, num_cases=len(cases), failures=failures)
    if not report.passed:
        raise CheckFailed(report)
    if not quiet:
        print(report)
    return report


def _run_case(
    function: Callable[..., Any], case: Case, diagnoses: Sequence[Diagnosis], *, rtol: float, atol: float
) -> Failure | None:
    try:
        result = function(*case.args, **case.kwargs)
    except NotImplementedError:
        return Failure(case, "NotImplementedError (not written yet)",
                       "Replace `raise NotImplementedError()` with your code, run that cell, then this one.")
    except Exception as error:  # noqa: BLE001 - a learner's code can raise anything
        return Failure(case, f"your function raised {_first_line(error)}", case.hint)
    if result is None:
        return Failure(case, "None", "Your function returned nothing: is a `return` statement missing?")
    try:
        got = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError) as error:
        return Failure(case, f"{type(result).__name__} that is not an array of numbers ({_first_line(error)})",
                       "Return a NumPy array or a tf.Tensor of numbers.")
    expected = np.asarray(case.expected, dtype=np.float64)
    if got.shape != expected.shape:
        return Failure(case, f"an array of shape {got.shape}", f"The result should have shape {expected.shape}, "
                       "the same as the input.")
    if np.allclose(got, expected, rtol=rtol, atol=atol):
        return None
    for diagnose in diagnoses:
        hint = diagnose(case, got)
        if hint:
            return Failure(case, _short(got), hint)
    return Failure(case, _short(got), case.hint)


# --------------------------------------------------------------------------------------------
# 00_welcome: the stable softmax


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


def _diagnose_not_finite(case: Case, got: np.ndarray) -> str | None:
    if not np.all(np.isfinite(got)):
        return ("The result contains nan or inf: the exponentials overflowed or underflowed. "
                "Subtract the maximum score (along the last axis) before calling exp.")
    return None


def _diagnose_not_normalised(case: Case, got: np.ndarray) -> str | None:
    if not np.allclose(got.sum(axis=-1), 1.0, atol=1e-6):
        return (f"Each row should sum to 1, yours sum to {_short(got.sum(axis=-1))}. Divide by the sum of "
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
        diagnoses=(_diagnose_not_finite, _diagnose_not_normalised, _diagnose_temperature, _diagnose_sign),
        name="stable_softmax",
        quiet=quiet,
    )
