"""Every exercise check in the course gives feedback a learner can act on (issue #14, part 3).

Each public ``check_*`` — derived from the ``__all__`` of :mod:`metalearn_lib.checks` and of each chapter's
checks module, so a new chapter's checks are tested here without a line of this file changing — is fed a
set of wrong answers (nothing returned, a wrong shape, wrong values, an exception, NumPy echoed back
instead of tensors). Each verdict must start with ❌, fit in 15 lines, show the same hint at most once
and a mistake made in several cases once (the others counted), and leak no reprs (``np.float64(…)``,
``array(…)``, ``<tf.Tensor …>``), no traceback, and no "your function raised" for what the check itself
found (a wrong shape, a missing gradient).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import tensorflow as tf

import metalearn_lib.checks as checks_package
from metalearn_lib.checks import CheckFailed
from metalearn_lib.checks.core import MAX_VERDICT_LINES, Case, CheckReport, Failure, short
from tests.test_checks_mapping import right_numpy_loop
from tests.test_checks_two_level import right_inner_variables


def _all_checks() -> dict[str, Callable[..., None]]:
    """``{"module.check_name": check}`` for every check_* in the __all__ of the package and its modules."""
    found: dict[str, Callable[..., None]] = {}
    by_object: dict[int, str] = {}
    modules = [importlib.import_module(f"metalearn_lib.checks.{info.name}")
               for info in pkgutil.iter_modules(checks_package.__path__)]
    for module in [checks_package, *modules]:
        for name in getattr(module, "__all__", []):
            check = getattr(module, name)
            if name.startswith("check_") and id(check) not in by_object:
                key = f"{check.__module__.rsplit('.', 1)[-1]}.{name}"
                by_object[id(check)] = key
                found[key] = check
    return found


CHECKS = _all_checks()


# =============================================================================================
# wrong answers that fit any signature
# =============================================================================================
def returns_none(*args: Any, **kwargs: Any) -> None:
    return None


def raises(*args: Any, **kwargs: Any) -> Any:
    raise ValueError(f"something went wrong with {len(args)} arguments at step 3.5")


def wrong_shape(*args: Any, **kwargs: Any) -> Any:
    return np.zeros((7, 7, 7))


def _like_first(first: Any, make: Callable[[Any], Any]) -> Any:
    if isinstance(first, (list, tuple)):
        return [make(np.asarray(p)) for p in first]
    if callable(first):
        return make(np.zeros(()))
    return make(np.asarray(first, np.float64))


def zeros_like_first(first: Any, *args: Any, **kwargs: Any) -> Any:
    """Wrong values, usually of the right shape: zeros shaped like the first argument (as tensors)."""
    return _like_first(first, lambda a: tf.zeros(a.shape, tf.float64 if a.dtype == np.float64 else tf.float32))


def numpy_of_first(first: Any, *args: Any, **kwargs: Any) -> Any:
    """NumPy instead of tensors: the first argument echoed back as NumPy arrays."""
    return _like_first(first, lambda a: np.array(a, np.float64) + 1.0)


GENERIC = (returns_none, raises, wrong_shape, zeros_like_first, numpy_of_first)


def _wrong_pw(scores, temperature, kind):  # shifts by max(loss) before negating: overflows at a small τ
    s = scores - scores.max()
    s = -s if kind == "loss" else s
    e = np.exp(s / temperature)
    return e / e.sum()


#: The wrong answers each check meets besides GENERIC: a check added to an ``__all__`` must be listed here.
SPECIFIC: dict[str, tuple[Callable[..., Any], ...]] = {
    "applications.check_average_parameters": (),
    "applications.check_mean_penalty": (),
    "applications.check_online_meta_update": (),
    "averaging.check_hedge_update": (),
    "averaging.check_performance_weights": (_wrong_pw,),
    "bandits.check_bayes_q_values": (),
    "bandits.check_thompson_action": (),
    "bandits.check_ucb1_index": (),
    "maml_rl.check_inner_step": (),
    "maml_rl.check_reinforce_surrogate": (),
    "maml_rl.check_reward_to_go": (),
    "mapping.check_prior_update": (),
    "mapping.check_ridge_fit": (right_numpy_loop,),
    "mapping.check_ridge_learner": (),
    "meta_rl_mdps.check_belief_update": (),
    "meta_rl_mdps.check_posterior_update": (),
    "meta_rl_mdps.check_value_iteration": (),
    "teacher.check_exact_linear_update": (),
    "teacher.check_gradient_teacher_update": (),
    "teacher.check_meta_sgd_step": (),
    "two_level.check_inner_step": (right_inner_variables,),
    "two_level.check_maml_outer_loss": (),
    "two_level.check_reptile_outer_update": (),
    "welcome.check_stable_softmax": (),
}

LEAKS = ("np.float64(", "np.float32(", "np.int64(", "array(", "<tf.Tensor", "tf.Tensor(", "Traceback", 'File "',
         "raised WrongShape", "raised NoGradient", "function_node", " at 0x")


def test_every_check_is_covered():
    """A check_* added to an __all__ (the package's or a chapter module's) fails here until SPECIFIC lists it."""
    assert set(CHECKS) == set(SPECIFIC), f"not covered: {sorted(set(CHECKS) - set(SPECIFIC))}"
    assert {name for name in checks_package.__all__ if name.startswith("check_")} <= \
        {key.split(".", 1)[1] for key in CHECKS}


def _hints(verdict: str) -> list[str]:
    """The hint paragraphs of a verdict (a hint line and its continuation lines), whitespace collapsed."""
    hints: list[str] = []
    for line in verdict.splitlines():
        if line.startswith("      hint:"):
            hints.append(line.removeprefix("      hint:").strip())
        elif hints and line.startswith(" " * 16) and line.strip():
            hints[-1] += " " + line.strip()
        elif hints and hints[-1] and not line.startswith(" " * 16):
            hints.append("")  # the paragraph ended
    return [hint for hint in hints if hint]


def _assert_actionable(name: str, answer: Callable[..., Any], report: CheckReport, verdict: str) -> None:
    where = f"{name} on {answer.__name__}:\n{verdict}"
    lines = verdict.splitlines()
    assert verdict.startswith("❌ "), where
    assert len(lines) <= MAX_VERDICT_LINES, where
    for leak in LEAKS:
        assert leak not in verdict, f"{leak!r} in {where}"
    hints = _hints(verdict)
    assert hints and len(hints) == len(set(hints)), f"a hint repeated in {where}"
    bullets = [line for line in lines if line.startswith("  • ")]
    assert len(bullets) <= len(report.groups()), where  # one bullet per distinct mistake, at most
    if len(report.groups()) == 1 and len(report.failures) > 1:
        assert len(bullets) == 1 and f"and {len(report.failures) - 1} more" in verdict, where


@pytest.mark.parametrize("name", sorted(SPECIFIC))
def test_wrong_answers_get_short_grouped_readable_verdicts(name):
    check = CHECKS[name]
    with np.errstate(all="ignore"):
        for answer in (*GENERIC, *SPECIFIC[name]):
            with pytest.raises(CheckFailed) as failure:
                check(answer, quiet=True)
            _assert_actionable(name, answer, failure.value.report, str(failure.value))


def test_an_exception_in_every_case_is_reported_once():
    with pytest.raises(CheckFailed) as failure:
        CHECKS["welcome.check_stable_softmax"](raises, quiet=True)
    verdict = str(failure.value)
    assert verdict.count("your function raised ValueError") == 1
    assert "and 7 more cases failed the same way" in verdict


def test_a_verdict_is_capped_and_says_how_many_cases_it_left_out():
    cases = [Case(f"case {i}", (np.zeros(3),), np.full(3, float(i + 1)), f"Hint {'ABCDEFGHIJKL'[i]}: a distinct one.")
             for i in range(12)]
    report = CheckReport("f", 12, [Failure(case, short(np.zeros(3)), case.hint) for case in cases])
    lines = str(report).splitlines()
    assert len(lines) <= MAX_VERDICT_LINES
    shown = sum(line.startswith("  • ") for line in lines)
    assert re.search(rf"… {12 - shown} more failed cases not shown", lines[-1])


@pytest.mark.parametrize(("value", "text"), [
    (np.float64(1.50312), "1.503"), (np.float32(0.5), "0.5"), (np.int64(7), "7"), (1000.0, "1000.0"),
    (tf.constant(2.0), "2.0"), (np.arange(3.0), "[0., 1., 2.]"), (tf.zeros([2, 2]), "[[0., 0.], [0., 0.]]"),
    ([np.zeros((2, 3)), np.zeros(3)], "[(2, 3), (3,)]"), (len, "<function len>"),
])
def test_short_prints_plain_numbers_and_shapes(value, text):
    assert short(value) == text


def test_a_call_line_summarises_an_array_of_more_than_a_few_elements():
    assert short(np.zeros((3, 5, 1)), argument=True) == "array (3, 5, 1)"
    assert short(np.zeros(3), argument=True) == "[0., 0., 0.]"
    assert short(np.zeros((1, 3, 1)), argument=True) == "array (1, 3, 1)"
    assert short(tf.zeros([2, 4]), argument=True) == "array (2, 4)"
