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


# ------------------------------------------------------------------ parallel runs (pytest-xdist)
# ``make test`` runs pytest on two workers (``-n 2``). The scheduler below hands out work units,
# each run whole on one worker, in order:
# * a notebook's nbval items share one kernel, so a notebook is one unit (its cells in order);
# * every other test file is one unit, so that its module-scoped fixtures (a trained model, a
#   temporary nbgrader course, a JupyterLab server) are built once;
# * the website's two test files share one build of the site: one unit;
# * the browser tests are one unit each: every one runs a whole lecture, and the two workers
#   share them out.
# Units are handed out longest first (longest-processing-time scheduling), so that no long unit
# is left for the end while the other worker idles. The estimates are rough — a browser test or
# a notebook by the README's run time of its notebook — and only the order depends on them.
# (xdist's own ``--dist loadgroup`` cannot do this here: with pytest 9 its group marks do not
# reach the test ids, so every test would be a unit of its own.)
BROWSER_TEST_FILES = ("tests/test_browser.py",)
WEBSITE_TEST_FILES = ("tests/test_book.py", "tests/test_book_browser.py")
WEBSITE_ESTIMATE_S = 40.0  # one full build of the site, then its checks and the browser visit
AUTOGRADING_ESTIMATE_S = 70.0  # tests/test_autograding.py: one nbgrader course, every chapter
OTHER_FILE_ESTIMATE_S = 5.0


def work_unit(nodeid: str) -> str:
    """The work unit (see above) of the test ``nodeid``."""
    path = nodeid.partition("::")[0]
    if path in WEBSITE_TEST_FILES:
        return "website"
    return nodeid if path in BROWSER_TEST_FILES else path


def estimated_seconds(unit: str, run_times: dict[str, float]) -> float:
    """A rough run time of a work unit, for the order in which units are handed out."""
    if unit == "website":
        return WEBSITE_ESTIMATE_S
    path, _, test = unit.partition("::")
    if path.endswith(".ipynb"):
        return run_times.get(path, OTHER_FILE_ESTIMATE_S)
    if path in BROWSER_TEST_FILES:
        notebook = next((nb for nb in run_times if f"[{pathlib.Path(nb).stem}]" in test), None)
        return 10.0 + 1.5 * run_times[notebook] if notebook else 2 * OTHER_FILE_ESTIMATE_S
    if path == "tests/test_autograding.py":
        return AUTOGRADING_ESTIMATE_S
    return OTHER_FILE_ESTIMATE_S


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return  # one process: keep pytest's order (nbval first, see testpaths in pyproject.toml)
    run_times = notebook_runtimes.readme_run_times()
    # A stable sort: the items of one unit stay together and in their order.
    items.sort(key=lambda item: -estimated_seconds(work_unit(item.nodeid), run_times))


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """The work units above, handed out in the workers' (longest-first) collection order."""
    from xdist.scheduler import LoadScopeScheduling

    class CourseScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    config.option.loadscopereorder = False  # keep the longest-first order of the collection
    return CourseScheduling(config, log)


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
