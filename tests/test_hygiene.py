"""Hygiene of every notebook in the course, and drift between the notebooks and the README.

nbval (run by the same `make test`) re-executes notebooks/ and solutions/ and compares outputs;
these tests check what nbval does not: the notebooks as files.
"""

from __future__ import annotations

import getpass
import json
import os
import pathlib
import re

import nbformat
import pytest

from metalearn_lib.authoring.launch import colab_setup_source
from tests.notebook_tools import ALL_NOTEBOOKS, EXECUTED, EXERCISES, LECTURES, REPO_ROOT, SOLUTIONS

MAX_BYTES = 2_000_000


def ids(paths: list[pathlib.Path]) -> list[str]:
    return [str(p.relative_to(REPO_ROOT)) for p in paths]


def code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code"]


def course_code_cells(path: pathlib.Path) -> list[nbformat.NotebookNode]:
    """The code cells less the Colab set-up cell, the exact one launch.py writes first in every notebook
    (tests/test_launch.py checks it); it alone may put the Colab clone on sys.path."""
    setup = colab_setup_source(path.relative_to(REPO_ROOT).as_posix())
    return [c for c in code_cells(nbformat.read(path, as_version=4)) if c.source != setup]


def test_the_course_has_notebooks():
    assert LECTURES and SOLUTIONS and EXERCISES


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=ids(ALL_NOTEBOOKS))
def test_valid_nbformat_4(path):
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    assert nb.nbformat == 4
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=ids(ALL_NOTEBOOKS))
def test_under_2_mb(path):
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size / 1e6:.1f} MB"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=ids(ALL_NOTEBOOKS))
def test_no_stored_widget_state(path):
    nb = nbformat.read(path, as_version=4)
    assert "widgets" not in nb.metadata, "re-save with `make execute NB=...` (it drops widget state)"
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert "application/vnd.jupyter.widget-state+json" not in output.get("data", {})


@pytest.mark.parametrize("path", EXECUTED, ids=ids(EXECUTED))
def test_executed_top_to_bottom_in_one_fresh_kernel(path):
    counts = [c.execution_count for c in code_cells(nbformat.read(path, as_version=4))]
    rerun = f"run `make execute NB={path.relative_to(REPO_ROOT)}`"
    assert counts == list(range(1, len(counts) + 1)), f"execution counts {counts}: {rerun}"


@pytest.mark.parametrize("path", EXECUTED, ids=ids(EXECUTED))
def test_no_error_outputs(path):
    for index, cell in enumerate(code_cells(nbformat.read(path, as_version=4))):
        for output in cell.outputs:
            assert output.output_type != "error", f"code cell {index + 1}: {output.ename}: {output.evalue}"
            if output.output_type == "stream" and output.name == "stderr":
                assert "Traceback" not in output.text, f"code cell {index + 1} printed a traceback"


@pytest.mark.parametrize("path", EXERCISES, ids=ids(EXERCISES))
def test_exercises_ship_without_outputs(path):
    for cell in code_cells(nbformat.read(path, as_version=4)):
        assert cell.outputs == [] and cell.execution_count is None


def _local_path_patterns() -> list[re.Pattern[str]]:
    patterns = [
        re.escape(str(REPO_ROOT) + os.sep),
        re.escape(os.path.expanduser("~") + os.sep),
        r"/home/\w+/",
        r"/Users/\w+/",
        r"/tmp/",
        r"[A-Za-z]:\\\\Users\\\\",
        r"site-packages",
    ]
    user = getpass.getuser()
    if len(user) >= 4 and user not in {"root", "user", "runner"}:
        patterns.append(rf"\b{re.escape(user)}\b")
    return [re.compile(p) for p in patterns]


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=ids(ALL_NOTEBOOKS))
def test_no_local_paths_or_user_names(path):
    text = path.read_text(encoding="utf-8")
    for pattern in _local_path_patterns():
        match = pattern.search(text)
        assert match is None, f"{path.name} contains {match.group(0)!r} (a path or name of this machine)"


@pytest.mark.parametrize("path", LECTURES, ids=ids(LECTURES))
def test_lecture_opens_with_goals_and_ends_with_a_summary(path):
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0].cell_type == "markdown" and re.search(r"^#+ Learning goals", cells[0].source, re.M)
    assert cells[-1].cell_type == "markdown" and re.search(r"^#+ Summary", cells[-1].source, re.M)


@pytest.mark.parametrize("path", EXECUTED, ids=ids(EXECUTED))
def test_seeds_in_the_first_code_cell(path):
    """The first code cell after the Colab set-up cell (which does nothing outside Colab)."""
    first = course_code_cells(path)[0].source
    assert re.search(r"\bseed_everything\(", first), (
        "call metalearn_lib.seed_everything in the first code cell after the Colab set-up cell")


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=ids(ALL_NOTEBOOKS))
def test_plots_use_the_course_style_not_raw_pyplot(path):
    for cell in code_cells(nbformat.read(path, as_version=4)):
        assert "matplotlib.pyplot" not in cell.source and "import pylab" not in cell.source, (
            "make figures with metalearn_lib.plotting.new_figure so every chapter looks alike"
        )


TENSORFLOW_IMPORT = re.compile(r"^\s*(import tensorflow\b|from tensorflow\b)", re.MULTILINE)
COURSE_IMPORT = re.compile(r"^\s*(import metalearn_lib\b|from metalearn_lib\b)", re.MULTILINE)


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=ids(ALL_NOTEBOOKS))
def test_tensorflow_is_taken_from_the_course_library(path):
    """``from metalearn_lib import tf``: a plain ``import tensorflow`` before the library prints
    TensorFlow's C++ start-up lines into the notebook as a stderr box (see metalearn_lib.quiet_tf)."""
    source = "\n".join(c.source for c in code_cells(nbformat.read(path, as_version=4)))
    tensorflow, course = TENSORFLOW_IMPORT.search(source), COURSE_IMPORT.search(source)
    if tensorflow is not None:
        assert course is not None and course.start() < tensorflow.start(), (
            f"{path.name} imports TensorFlow before metalearn_lib: "
            "write `from metalearn_lib import seed_everything, tf`")


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=ids(ALL_NOTEBOOKS))
def test_no_sys_path_tricks(path):
    for cell in course_code_cells(path):
        assert "sys.path" not in cell.source, "metalearn_lib is installed (`pip install -e .`): import it directly"


@pytest.mark.parametrize("path", LECTURES, ids=ids(LECTURES))
def test_lecture_links_its_exercise(path):
    exercise = REPO_ROOT / "exercises" / f"{path.stem}_exercises.ipynb"
    if not (REPO_ROOT / "solutions" / exercise.name).exists():
        pytest.skip(f"{path.name} has no exercise")
    text = "".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    assert f"../exercises/{exercise.name}" in text


MARKDOWN_LINK = re.compile(r"\]\(([^)\s#]+)(#[^)]*)?\)")


@pytest.mark.parametrize("path", [*ALL_NOTEBOOKS, REPO_ROOT / "README.md"], ids=[*ids(ALL_NOTEBOOKS), "README.md"])
def test_relative_links_resolve(path):
    if path.suffix == ".ipynb":
        text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    for target, _anchor in MARKDOWN_LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue  # http(s):, mailto: — not followed (no network at run time)
        assert (path.parent / target).exists(), f"{path.name} links to missing {target}"


def test_every_solution_has_a_lecture_and_an_exercise():
    for solution in SOLUTIONS:
        assert solution.stem.endswith("_exercises")
        lecture = solution.stem.removesuffix("_exercises")
        assert (REPO_ROOT / "notebooks" / f"{lecture}.ipynb").exists()
        assert (REPO_ROOT / "exercises" / solution.name).exists()


def test_readme_course_map_lists_every_notebook_and_exercise():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for lecture in LECTURES:
        assert f"notebooks/{lecture.name}" in readme, f"add {lecture.name} to the README's course map"
    for exercise in EXERCISES:
        assert f"exercises/{exercise.name}" in readme, f"add {exercise.name} to the README's course map"


def test_notebook_json_is_stored_the_nbformat_way():
    """Byte-stable files: written by nbformat (indent 1, sorted keys, trailing newline)."""
    for path in ALL_NOTEBOOKS:
        text = path.read_text(encoding="utf-8")
        assert text == nbformat.writes(nbformat.reads(text, as_version=4)) + "\n" or text == nbformat.writes(
            nbformat.reads(text, as_version=4)
        ), f"{path.name}: re-save with nbformat (make execute / make exercises)"
        json.loads(text)


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.mark.parametrize("path", LECTURES, ids=ids(LECTURES))
def test_widget_outputs_carry_a_static_fallback(path):
    """Where widgets cannot render (GitHub, nbviewer, nbconvert) the default view still shows."""
    for cell in code_cells(nbformat.read(path, as_version=4)):
        for output in cell.outputs:
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                assert "image/png" in data and data.get("text/plain"), "display widgets through metalearn_lib.widgets"


def test_static_html_export_shows_the_widget_fallback_picture():
    from nbconvert import HTMLExporter

    path = REPO_ROOT / "notebooks" / "00_welcome.ipynb"
    nb = nbformat.read(path, as_version=4)
    widget_cells = [c for c in code_cells(nb) if any(WIDGET_VIEW in o.get("data", {}) for o in c.outputs)]
    assert widget_cells, "00_welcome should display a widget"
    fallback = next(o for o in widget_cells[0].outputs if WIDGET_VIEW in o.get("data", {}))["data"]["image/png"]
    html, _ = HTMLExporter().from_notebook_node(nb)
    assert fallback.strip()[:200] in html.replace("\n", "")
