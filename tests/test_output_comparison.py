"""The browser runs' output comparison (tests/output_comparison.py) judges as nbval does, and
``--lectures-in-browser`` leaves the lectures to the browser only when a browser can run them."""

from __future__ import annotations

import copy
import inspect
import os
import subprocess
import sys
from types import SimpleNamespace

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output
from nbval.plugin import IPyNbFile

import conftest
from tests import browser_support
from tests.output_comparison import SKIP_COMPARE, output_mismatches

PNG_A, PNG_B = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk", "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAA"


def committed(tmp_path, *cells):
    """A committed notebook whose code cells carry ``cells`` (lists of outputs), each run once."""
    notebook = new_notebook(cells=[new_code_cell("pass", outputs=outs, execution_count=i + 1)
                                   for i, outs in enumerate(cells)])
    path = tmp_path / "lecture.ipynb"
    nbformat.write(notebook, path)
    return path


def as_run(*cells):
    """Outputs of a fresh run, as plain JSON dicts (what a browser hands back)."""
    return [[dict(copy.deepcopy(o)) for o in outs] for outs in cells]


def stream(text, name="stdout"):
    return new_output("stream", name=name, text=text)


def result(data, count=1):
    return new_output("execute_result", data=data, execution_count=count)


def test_the_same_outputs_match(tmp_path):
    cells = ([stream("loss 0.125\n")], [result({"text/plain": "array([1, 2])"})])
    assert output_mismatches(committed(tmp_path, *cells), as_run(*cells)) == []


def test_a_changed_number_is_a_mismatch_naming_the_cell_as_nbval_does(tmp_path):
    path = committed(tmp_path, [stream("setup\n")], [stream("loss 0.125\n")])
    problems = output_mismatches(path, as_run([stream("setup\n")], [stream("loss 0.126\n")]))
    assert len(problems) == 1
    assert problems[0].startswith("lecture.ipynb::Cell 1: outputs differ")
    assert "loss 0.125" in problems[0] and "loss 0.126" in problems[0]


def test_a_missing_or_extra_output_is_a_mismatch(tmp_path):
    path = committed(tmp_path, [stream("done\n")])
    assert output_mismatches(path, as_run([stream("done\n"), stream("a warning\n", "stderr")]))
    assert output_mismatches(path, as_run([]))
    error = new_output("error", ename="ValueError", evalue="boom", traceback=["Traceback", "ValueError: boom"])
    assert output_mismatches(path, as_run([stream("done\n"), error]))


def test_the_sanitizers_mask_only_what_varies(tmp_path):
    path = committed(tmp_path, [stream("trained, took 3.2 s; loss 0.125\n")])
    assert output_mismatches(path, as_run([stream("trained, took 11 s; loss 0.125\n")])) == []
    assert output_mismatches(path, as_run([stream("trained, took 11 s; loss 0.5\n")]))


def test_streams_are_coalesced_and_carriage_returns_applied_like_nbval(tmp_path):
    path = committed(tmp_path, [stream("step 1\nstep 2\n")])
    assert output_mismatches(path, as_run([stream("step 1\n"), stream("step 2\n")])) == []
    assert output_mismatches(path, as_run([stream("step 1\nstep 9\rstep 2\n")])) == []


def test_images_widget_ids_and_execution_counts_are_not_compared_like_nbval(tmp_path):
    widget = "application/vnd.jupyter.widget-view+json"
    path = committed(tmp_path, [result({"image/png": PNG_A, "text/plain": "<Figure>", widget: {"model_id": "a"}})])
    run = as_run([result({"image/png": PNG_B, "text/plain": "<Figure>", widget: {"model_id": "b"}}, count=7)])
    assert output_mismatches(path, run) == []
    run[0][0]["data"]["text/plain"] = "<Other>"
    assert output_mismatches(path, run)


def test_a_cell_not_run_in_the_reference_is_not_compared(tmp_path):
    path = committed(tmp_path, [stream("x\n")])
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[0].execution_count, notebook.cells[0].outputs = None, []
    nbformat.write(notebook, path)
    assert output_mismatches(path, as_run([stream("anything\n")])) == []


def test_a_different_number_of_code_cells_is_reported(tmp_path):
    path = committed(tmp_path, [], [])
    (problem,) = output_mismatches(path, as_run([]))
    assert "1 code cells" in problem and "2" in problem


def test_nbval_markers_are_refused_not_ignored(tmp_path):
    path = committed(tmp_path, [stream("x\n")])
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[0].source = "# NBVAL_IGNORE_OUTPUT\nprint('x')"
    nbformat.write(notebook, path)
    with pytest.raises(ValueError, match="nbval markers"):
        output_mismatches(path, as_run([stream("x\n")]))


def test_the_skipped_keys_are_nbvals_own():
    source = inspect.getsource(IPyNbFile.__init__)
    for key in SKIP_COMPARE:
        assert f"'{key}'" in source, f"{key!r} is not in nbval's skip_compare"


def _config(option: bool):
    return SimpleNamespace(getoption=lambda name: option if name == "--lectures-in-browser" else None)


def test_lectures_go_to_the_browser_only_with_the_option_and_a_browser(monkeypatch):
    lecture = conftest.REPO_ROOT / "notebooks" / "00_welcome.ipynb"
    exercise = conftest.REPO_ROOT / "solutions" / "00_welcome_exercises.ipynb"
    monkeypatch.setattr(browser_support, "find_chromium", lambda: "/usr/bin/chromium")
    pytest.importorskip("playwright.sync_api")
    assert conftest.pytest_ignore_collect(lecture, _config(True)) is True
    assert conftest.pytest_ignore_collect(exercise, _config(True)) is None
    assert conftest.pytest_ignore_collect(lecture, _config(False)) is None
    monkeypatch.setattr(browser_support, "find_chromium", lambda: None)
    assert conftest.pytest_ignore_collect(lecture, _config(True)) is None  # no browser: nbval runs it


def test_a_voila_runs_time_is_the_kernels_from_first_start_to_last_end():
    records = [
        {"outputs": [], "execution": {"iopub.status.busy": "2026-12-02T05:00:01.500000Z",
                                      "iopub.status.idle": "2026-12-02T05:00:03.000000Z"}},
        {"outputs": [], "execution": {"iopub.status.busy": "2026-12-02T05:00:03.100000Z",
                                      "shell.execute_reply": "2026-12-02T05:00:12.000000Z",
                                      "iopub.status.idle": "2026-12-02T05:00:12.250000Z"}},
    ]
    assert browser_support.kernel_seconds(records) == pytest.approx(10.75)
    with pytest.raises(AssertionError, match="no execution times"):
        browser_support.kernel_seconds([{"outputs": [], "execution": {}}])


def _collected(*args: str) -> list[str]:
    run = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                          *args], cwd=conftest.REPO_ROOT, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTEST_ADDOPTS": ""})
    assert run.returncode == 0, run.stdout + run.stderr
    return [line for line in run.stdout.splitlines() if "::Cell " in line]


def test_second_run_collects_every_exercise_notebook_twice_under_its_own_ids():
    once = _collected("solutions/00_welcome_exercises.ipynb")
    twice = _collected("--second-run", "solutions/00_welcome_exercises.ipynb")
    assert once and all(item.startswith("solutions/00_welcome_exercises.ipynb::Cell ") for item in once)
    second = [item.replace(".ipynb::", f".ipynb{conftest.SECOND_RUN}::") for item in once]
    assert sorted(twice) == sorted(once + second)
