"""The machinery of the exercise checks (each chapter's checks live in a sibling module).

An exercise's check cell is one call such as ``check_stable_softmax(stable_softmax)``. The
check runs the learner's function on prepared cases and

* on success prints one line: ``✅ stable_softmax: all 8 checks passed.``
* on failure raises :class:`CheckFailed`, which Jupyter shows as a short verdict — each failed
  case with what was expected, what came back, and a hint — and never as a TensorFlow
  traceback. (nbgrader sees the exception and marks the cell as failed.)

Errors raised *inside* the learner's function are caught and reported as one line
(``your function raised InvalidArgumentError: ...``); what a check's adapter finds itself
(:class:`WrongShape`, :class:`NoGradient`) reads as what came back and how to fix it. The same
mistake in several cases is shown once, with the other cases counted, and a verdict is at most
:data:`MAX_VERDICT_LINES` lines.

New checks are a list of :class:`Case` objects and a call to :func:`run_check`.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import tensorflow as tf

from metalearn_lib.tasks import TaskBatch

__all__ = [
    "TF_NOISE",
    "Case",
    "CheckFailed",
    "CheckReport",
    "Diagnosis",
    "Failure",
    "MAX_SHOWN_ELEMENTS",
    "MAX_VERDICT_LINES",
    "NoGradient",
    "ShownBatch",
    "WrongShape",
    "require_tensors",
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
        parts = [short(a, argument=True) for a in self.args]
        parts += [f"{k}={short(v, argument=True)}" for k, v in self.kwargs.items()]
        return "(" + ", ".join(parts) + ")"


@dataclass
class Failure:
    """One failed case: what came back (``got``), the hint, and the kind of failure —
    ``"value"`` (wrong numbers), ``"finding"`` (the check's own adapter found a wrong shape or a
    missing gradient), ``"raised"`` (the learner's function raised), ``"none"``, ``"shape"``, ``"type"``."""

    case: Case
    got: str
    hint: str
    kind: str = "value"

    def key(self) -> str:
        """The same mistake in two cases has the same key: the messages without their numbers and shapes
        (a wrong value is known by its hint alone, a raised error by its message alone)."""
        if self.kind == "value":
            return f"value|{_gist(self.hint)}"
        if self.kind in ("raised", "none"):
            return f"{self.kind}|{_gist(self.got)}"
        return f"{self.kind}|{_gist(self.got)}|{_gist(self.hint)}"


#: A verdict shows at most this many lines; the rest is counted.
MAX_VERDICT_LINES = 15
_WIDTH = 88
_HINT_INDENT, _MORE_INDENT = "      hint:     ", "                "


def _gist(message: str) -> str:
    """``message`` without its numbers and bracketed parts: the same mistake in two cases reads the same."""
    return re.sub(r"\([^()]*\)|\[[^\[\]]*\]|[-+]?\d+(\.\d*)?(e[-+]?\d+)?", "#", message)


def _clip(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


@dataclass
class CheckReport:
    """The outcome of a check: how many cases passed, and each failure with its hint.

    A failed check reads as one block per distinct mistake: the first case that made it (the first
    mistake with the call and the expected answer, the others with what came back and the hint), then
    ``… and N more cases failed the same way: names``. A mistake
    whose hint was already shown does not repeat it, and the whole verdict is at most
    :data:`MAX_VERDICT_LINES` lines (the last says how many failed cases were not shown).
    """

    function_name: str
    num_cases: int
    failures: list[Failure]

    @property
    def passed(self) -> bool:
        return not self.failures

    def groups(self) -> list[list[Failure]]:
        """The failures grouped by mistake (:meth:`Failure.key`), in the order first seen."""
        grouped: dict[str, list[Failure]] = {}
        for failure in self.failures:
            grouped.setdefault(failure.key(), []).append(failure)
        return list(grouped.values())

    def __str__(self) -> str:
        if self.passed:
            return f"✅ {self.function_name}: all {self.num_cases} checks passed."
        lines = [f"❌ {self.function_name}: {len(self.failures)} of {self.num_cases} checks failed."]
        shown_hints: set[str] = set()
        groups = self.groups()
        for index, group in enumerate(groups):
            block = self._block(group, shown_hints, full=index == 0)
            room = MAX_VERDICT_LINES - len(lines) - (1 if index < len(groups) - 1 else 0)
            if index and len(block) > room:
                hidden = sum(len(g) for g in groups[index:])
                lines.append(f"  … {hidden} more failed {'case' if hidden == 1 else 'cases'} not shown: fix the "
                             f"mistake above first, then run the check again.")
                break
            lines += block[: max(room, 5)]
            shown_hints.add(group[0].hint)
        return "\n".join(lines)

    def _block(self, group: list[Failure], shown_hints: set[str], *, full: bool) -> list[str]:
        """The lines of one mistake: its first case (with the call and the expected answer when ``full``), the
        hint unless already shown, and the other cases that made it, counted and named."""
        first = group[0]
        block = [f"  • {first.case.name}"]
        if full:
            block += [f"      call:     {_clip(self.function_name + first.case.describe_call(), 150)}",
                      f"      expected: {short(first.case.expected)}"]
        block.append(f"      got:      {_clip(first.got, 160)}")
        if first.hint not in shown_hints:
            hint = textwrap.wrap(first.hint, width=_WIDTH, initial_indent=_HINT_INDENT, subsequent_indent=_MORE_INDENT)
            block += hint if len(hint) <= 5 else [*hint[:4], _clip(hint[4], _WIDTH - 1) + " …"]
        if len(group) > 1:
            rest = len(group) - 1
            names = "; ".join(f.case.name for f in group[1:])
            block.append(_clip(f"      … and {rest} more {'case' if rest == 1 else 'cases'} failed the same way: "
                               f"{names}", _WIDTH + 6))
        return block


class WrongShape(ValueError):
    """Raised by a check's adapter when the learner's function returned the wrong shape or
    structure; the message says what was expected, and the verdict shows it as what came back."""


class NoGradient(TypeError):
    """Raised by a check's adapter when a gradient the exercise needs came back ``None``
    (the computation left TensorFlow, or happened outside the tape)."""


def require_tensors(values: Sequence[Any], why: str) -> None:
    """Raise :class:`NoGradient` when an entry of ``values`` (what the learner returned) is not a TensorFlow
    tensor. ``why`` names the later exercise or cell that differentiates through the result, e.g.
    ``"exercise 2 (maml_outer_loss) differentiates through inner_step, and NumPy arrays cut the gradient"``."""
    if any(not tf.is_tensor(value) for value in values):
        raise NoGradient(f"NumPy arrays, not tf.Tensors: {why}")


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


#: In a ``call:`` line an array of more elements than this (or of 3 axes or more, a batch of tasks) shows as its
#: shape, ``array (3, 5, 1)``.
MAX_SHOWN_ELEMENTS = 6


def short(value: Any, max_chars: int = 70, *, argument: bool = False) -> str:
    """A compact, deterministic rendering of a value for verdict messages — one rule for every check.

    NumPy arrays, tensors and lists of numbers print as rounded numbers (3 decimals); as a call's
    ``argument``, one of more than :data:`MAX_SHOWN_ELEMENTS` elements or 3+ axes prints as its shape
    (``array (3, 5, 1)``). Scalars print as plain numbers (``1.503``, never ``np.float64(1.503)``), a
    list of arrays of different shapes (a parameter list) as their shapes, a function by its name.
    At most ``max_chars``.
    """
    return _clip(" ".join(_render(value, argument).split()), max_chars)


def _render(value: Any, argument: bool) -> str:
    if hasattr(value, "numpy") and callable(value.numpy) and hasattr(value, "dtype"):  # tf.Tensor / tf.Variable
        try:
            value = value.numpy()
        except Exception:  # noqa: BLE001 - a symbolic tensor has no value
            return f"tensor {tuple(value.shape)}"
    if isinstance(value, (bool, np.bool_, str)) or value is None:
        return repr(value.item() if isinstance(value, np.generic) else value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return _number(float(value))
    if isinstance(value, (np.ndarray, list, tuple)) and not (isinstance(value, (list, tuple)) and
                                                             (not value or isinstance(value[0], str))):
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):  # ragged: a parameter list, a pair (Q, V), …
            if isinstance(value, (list, tuple)):  # each entry's shape (a scalar's value)
                inner = ", ".join(str(tuple(np.shape(v))) if np.ndim(v) else _render(v, argument=True) for v in value)
                return f"[{inner}]" if isinstance(value, list) else f"({inner})"
            return f"{type(value).__name__}"
        if argument and (array.size > MAX_SHOWN_ELEMENTS or array.ndim > 2):
            return f"array {array.shape}"
        if array.ndim == 0:
            return _number(float(array))
        return np.array2string(array, precision=3, separator=", ", suppress_small=True, max_line_width=10**6)
    if callable(value) and hasattr(value, "__name__"):
        return f"<function {value.__name__}>"
    return repr(value)


def _number(value: float) -> str:
    """A plain number: ``1.0``, ``0.001``, ``1.503`` (4 significant digits when it has more)."""
    rounded = f"{value:.4g}"
    exact = repr(value)
    return exact if float(rounded) == value and len(exact) <= 12 else rounded


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
                       "Replace `raise NotImplementedError()` with your code, run that cell, then this one.", "raised")
    except (WrongShape, NoGradient) as finding:  # the check's own finding, not an error of the learner's code
        got, _, advice = str(finding).partition(": ")
        advice = advice.strip()
        if not advice:
            return Failure(case, got, case.hint, "finding")
        return Failure(case, got, advice + ("" if advice[-1] in ".!?" else "."), "finding")
    except Exception as error:  # noqa: BLE001 - a learner's code can raise anything
        return Failure(case, f"your function raised {_first_line(error)}", case.hint, "raised")
    if result is None:
        return Failure(case, "None", "Your function returned nothing: is a `return` statement missing?", "none")
    try:
        got = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError) as error:
        return Failure(case, f"{type(result).__name__} that is not an array of numbers ({_first_line(error)})",
                       "Return a NumPy array or a tf.Tensor of numbers.", "type")
    expected = np.asarray(case.expected, dtype=np.float64)
    if got.shape != expected.shape:
        return Failure(case, f"an array of shape {got.shape}", f"The result should have shape {expected.shape}.",
                       "shape")
    if np.allclose(got, expected, rtol=rtol, atol=atol):
        return None
    for diagnose in diagnoses:
        hint = diagnose(case, got)
        if hint:
            return Failure(case, short(got), hint)
    return Failure(case, short(got), case.hint)
