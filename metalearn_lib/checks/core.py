"""The machinery of the exercise checks (each chapter's checks live in a sibling module).

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

import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from metalearn_lib.tasks import TaskBatch

__all__ = [
    "TF_NOISE",
    "Case",
    "CheckFailed",
    "CheckReport",
    "Diagnosis",
    "Failure",
    "NoGradient",
    "ShownBatch",
    "WrongShape",
    "run_check",
    "short",
]

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
        parts = [short(a) for a in self.args] + [f"{k}={short(v)}" for k, v in self.kwargs.items()]
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
                f"      expected: {short(failure.case.expected)}",
                f"      got:      {failure.got}",
            ]
            lines += textwrap.wrap(failure.hint, width=88, initial_indent="      hint:     ",
                                   subsequent_indent="                ")
        return "\n".join(lines)


class WrongShape(ValueError):
    """Raised by a check's adapter when the learner's function returned the wrong shape or
    structure; the message says what was expected, and the verdict shows it as what came back."""


class NoGradient(TypeError):
    """Raised by a check's adapter when a gradient the exercise needs came back ``None``
    (the computation left TensorFlow, or happened outside the tape)."""


@dataclass(frozen=True, repr=False)
class ShownBatch(TaskBatch):
    """A :class:`~metalearn_lib.tasks.TaskBatch` that prints as a one-line summary in a verdict's
    ``call:`` line (instead of four tensors)."""

    def __repr__(self) -> str:
        return f"<TaskBatch: {self.num_tasks} tasks, K = {self.num_shots}, {self.num_query} query points>"


class CheckFailed(AssertionError):
    """Raised by a check when some case fails; shown in Jupyter as the verdict alone."""

    def __init__(self, report: CheckReport) -> None:
        super().__init__(str(report))
        self.report = report

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing a traceback.
        return str(self.report).splitlines()


def short(value: Any, max_chars: int = 70) -> str:
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


#: The parts of a TensorFlow error message that name graph nodes and devices, not the mistake.
TF_NOISE = re.compile(r"\{\{function_node [^}]*\}\}|\s*\[Op:\w+\]( name: ?\S*)?")


def _first_line(error: BaseException) -> str:
    """``ErrorType: first line of the message``, without TensorFlow's node names, ≤ 160 characters."""
    message = TF_NOISE.sub("", str(error)).strip().splitlines()
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
        return Failure(case, f"an array of shape {got.shape}", f"The result should have shape {expected.shape}.")
    if np.allclose(got, expected, rtol=rtol, atol=atol):
        return None
    for diagnose in diagnoses:
        hint = diagnose(case, got)
        if hint:
            return Failure(case, short(got), hint)
    return Failure(case, short(got), case.hint)
