"""Repository-wide pytest configuration: the notebooks' runtime budget, shared paths.

nbval runs each notebook as one item per cell; this file adds up the time of every item of a
notebook (kernel start included), prints a table of per-notebook durations at the end of the
run, and fails the run if a notebook exceeds its budget (60 s on the 2-core CI machine). The
same durations size the browser test's waits (tests/notebook_runtimes.py).
"""

from __future__ import annotations

import os
import pathlib
from collections import defaultdict

import pytest

import metalearn_lib  # noqa: F401  (first, so that TensorFlow's import is quiet in every test: metalearn_lib.quiet_tf)
from tests import notebook_runtimes

REPO_ROOT = pathlib.Path(__file__).resolve().parent
NOTEBOOK_BUDGET_S = float(os.environ.get("METALEARN_NOTEBOOK_BUDGET_S", "60"))

_notebook_seconds: dict[str, float] = defaultdict(float)


@pytest.fixture(scope="session")
def repo_root() -> pathlib.Path:
    return REPO_ROOT


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path, _, _ = report.nodeid.partition("::")
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration
        notebook_runtimes.record(path, report.duration)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _notebook_seconds:
        return
    terminalreporter.section("notebook durations (fresh kernel, all cells)")
    for path, seconds in sorted(_notebook_seconds.items()):
        flag = "  OVER BUDGET" if seconds > NOTEBOOK_BUDGET_S else ""
        terminalreporter.write_line(f"{seconds:7.1f} s  {path}{flag}")
    terminalreporter.write_line(f"budget: {NOTEBOOK_BUDGET_S:.0f} s per notebook")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    over = {path: s for path, s in _notebook_seconds.items() if s > NOTEBOOK_BUDGET_S}
    if over and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        names = ", ".join(f"{p} ({s:.0f} s)" for p, s in over.items())
        print(f"\nnotebook runtime budget of {NOTEBOOK_BUDGET_S:.0f} s exceeded: {names}")
