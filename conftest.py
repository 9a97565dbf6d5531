"""Repository-wide pytest configuration: the notebooks' runtime budget, where lectures run, shared paths.

nbval runs each notebook as one item per cell; this file adds up the time of every item of a
notebook (kernel start included), prints a table of per-notebook durations at the end of the
run, and fails the run if a notebook exceeds its budget (60 s on the 2-core CI machine). The
same durations size the browser test's waits (tests/notebook_runtimes.py).

``--lectures-in-browser`` (``make test``): the lectures (``notebooks/``) are run where learners
run them — Run All in JupyterLab and a Voilà page (tests/test_browser.py) — and each of those two
runs has its outputs compared with the committed ones by nbval's own rules
(tests/output_comparison.py), so nbval does not run them a third and a fourth time and skips
``notebooks/``. A lecture's duration then is its Voilà run's (kernel clock, all cells). Where no
browser can run (no Chromium or no Playwright), the option does nothing: nbval runs the lectures.
The exercises (``solutions/``) always run under nbval.

``--second-run`` (``make test``): every notebook nbval runs is collected a second time under its
own nodeid (``solutions/NN_….ipynb@second-run::Cell k``) and so runs twice, in two fresh
kernels, both compared with the committed outputs, within the one parallel session.
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
_second_run_seconds: dict[str, float] = defaultdict(float)  # --second-run
_browser_seconds: dict[str, float] = {}  # lectures timed by their Voilà run (--lectures-in-browser)


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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--second-run", action="store_true", default=False,
                     help="run every notebook nbval runs a second time, in a fresh kernel of its own (see conftest.py)")
    parser.addoption("--lectures-in-browser", action="store_true", default=False,
                     help="check notebooks/ in JupyterLab and Voilà (outputs compared by nbval's rules), not in nbval, "
                          "when a browser is available (see conftest.py)")


def lectures_in_browser(config: pytest.Config) -> bool:
    """Whether this run leaves the lectures to the browser tests (the option, and a browser to run them)."""
    if not config.getoption("--lectures-in-browser"):
        return False
    from tests.browser_support import find_chromium

    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return find_chromium() is not None


def pytest_ignore_collect(collection_path: pathlib.Path, config: pytest.Config) -> bool | None:
    if collection_path.suffix == ".ipynb" and collection_path.parent == REPO_ROOT / "notebooks" \
            and lectures_in_browser(config):
        return True
    return None


#: The suffix of the second run of an exercise notebook (``--second-run``): its nbval items are
#: ``solutions/NN_….ipynb@second-run::Cell k``, a collector of their own with a kernel of its own.
SECOND_RUN = "@second-run"


def pytest_collect_file(file_path: pathlib.Path, parent: pytest.Collector):
    """With ``--second-run``, every notebook nbval runs (``solutions/``, and ``notebooks/`` unless
    the browser runs the lectures) is collected twice: nbval's own collector, and a second one (its
    own nodeid, its own fresh kernel) that runs and compares it again — two independent fresh runs,
    scheduled in one session beside everything else."""
    config = parent.config
    if not config.getoption("--second-run") or file_path.suffix != ".ipynb" or not config.option.nbval:
        return None
    if file_path.parent != REPO_ROOT / "solutions" and not (
            file_path.parent == REPO_ROOT / "notebooks" and not lectures_in_browser(config)):
        return None
    from nbval.plugin import IPyNbFile

    nodeid = file_path.relative_to(parent.config.rootpath).as_posix() + SECOND_RUN
    return IPyNbFile.from_parent(parent, path=file_path, nodeid=nodeid)


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
    items.sort(key=lambda item: hand_out_key(work_unit(item.nodeid), run_times))


def hand_out_key(unit: str, run_times: dict[str, float]) -> tuple[int, float]:
    """Longest first, except that the JupyterLab tests come before everything else: a lecture's
    two runs (JupyterLab, Voilà) then do not start side by side on the two workers, so the second
    finds the training loops the first compiled in the XLA cache (see the Makefile), and each
    worker starts its JupyterLab server once (a module fixture, torn down when another file's
    tests come in between)."""
    first = 0 if unit.startswith(BROWSER_TEST_FILES) and "voila" not in unit else 1
    return first, -estimated_seconds(unit, run_times)


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """The work units above, handed out in the workers' (longest-first) collection order."""
    from xdist.scheduler import LoadScopeScheduling

    class CourseScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    config.option.loadscopereorder = False  # keep the longest-first order of the collection
    return CourseScheduling(config, log)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path, _, test = report.nodeid.partition("::")
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration
        notebook_runtimes.record(path, report.duration)
    elif path.endswith(".ipynb" + SECOND_RUN):
        _second_run_seconds[path.removesuffix(SECOND_RUN)] += report.duration
    measured = dict(report.user_properties).get(notebook_runtimes.RUN_SECONDS_PROPERTY)
    if measured is not None and report.when == "call" and "[" in test:
        _browser_seconds[f"notebooks/{test.partition('[')[2].rstrip(']')}.ipynb"] = float(measured)


def notebook_durations() -> dict[str, tuple[float, str]]:
    """``{notebook: (seconds, how it was measured)}`` for every notebook this run executed."""
    durations = {path: (max(seconds, _second_run_seconds.get(path, 0.0)), "nbval") for path, seconds in
                 _notebook_seconds.items()}  # the slower of its two runs
    for path, seconds in _browser_seconds.items():
        durations.setdefault(path, (seconds, "Voilà, kernel clock"))  # nbval's time, when it ran the lecture, wins
    return dict(sorted(durations.items()))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    durations = notebook_durations()
    if not durations:
        return
    terminalreporter.section("notebook durations (fresh kernel, all cells)")
    for path, (seconds, where) in durations.items():
        flag = "  OVER BUDGET" if seconds > NOTEBOOK_BUDGET_S else ""
        terminalreporter.write_line(f"{seconds:7.1f} s  {path}  ({where}){flag}")
    terminalreporter.write_line(f"budget: {NOTEBOOK_BUDGET_S:.0f} s per notebook")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    over = {path: s for path, (s, _) in notebook_durations().items() if s > NOTEBOOK_BUDGET_S}
    if over and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        names = ", ".join(f"{p} ({s:.0f} s)" for p, s in over.items())
        print(f"\nnotebook runtime budget of {NOTEBOOK_BUDGET_S:.0f} s exceeded: {names}")
