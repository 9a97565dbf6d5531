"""The authoring tools: exercises generated from solutions, and notebook re-execution."""

from __future__ import annotations

import copy
import os
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from metalearn_lib.authoring import exercises as ex
from metalearn_lib.authoring.execute import (
    NotebookExecutionError,
    execute_notebook,
)
from metalearn_lib.authoring.execute import main as execute_main
from tests.nbgrader_tools import add_source, make_course, run_nbgrader

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_SOLUTIONS = sorted((REPO_ROOT / "solutions").glob("*.ipynb"))
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
FIXED_TIME = datetime(2026, 11, 25, 10, 30, 0)


# --------------------------------------------------------------------------------------------
# Synthetic notebooks
# --------------------------------------------------------------------------------------------


def _nbg(grade_id: str, *, solution=False, grade=False, locked=False, points=None) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _solution_nb() -> nbformat.NotebookNode:
    """A solution notebook using every feature: indented and repeated regions, markdown
    regions, whole solution cells, grade cells, plain cells with outputs."""
    body = (
        "def f(x):\n"
        '    """Double x."""\n'
        "    ### BEGIN SOLUTION\n"
        "    y = 2 * x\n"
        "    return y\n"
        "    ### END SOLUTION\n"
        "\n"
        "\n"
        "### BEGIN SOLUTION\n"
        "g = f\n"
        "### END SOLUTION\n"
        "h = 3"
    )
    cells = [
        new_markdown_cell(
            "# Exercises\n\nIntro — with ünïcode.", metadata=_nbg("intro", locked=True)
        ),
        new_code_cell("import math", metadata=_nbg("imports", locked=True)),
        new_code_cell(body, metadata=_nbg("f", solution=True)),
        new_code_cell(
            "assert f(2) == 4", metadata=_nbg("check-f", grade=True, locked=True, points=1)
        ),
        new_code_cell("x = 1  # whole solution cell", metadata=_nbg("whole", solution=True)),
        new_markdown_cell(
            "Explain:\n\n  ### BEGIN SOLUTION\n  Because.\n  ### END SOLUTION\nThanks.",
            metadata=_nbg("explain", solution=True, grade=True, points=1),
        ),
        new_markdown_cell(
            "A free answer.", metadata=_nbg("free", solution=True, grade=True, points=1)
        ),
        new_code_cell("print(math.pi)", metadata={"scrolled": True}),
    ]
    cells[-1].outputs = [new_output("stream", name="stdout", text="3.14\n")]
    cells[-1].execution_count = 7
    nb = new_notebook(cells=cells)
    for index, cell in enumerate(nb.cells):
        cell.id = f"c{index}"
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    nb.metadata["celltoolbar"] = "Create Assignment"
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    return nb


def _dirs(tmp_path: Path, *notebooks: tuple[str, nbformat.NotebookNode]) -> tuple[Path, Path]:
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    for name, nb in notebooks or (("01_demo_exercises.ipynb", _solution_nb()),):
        nbformat.write(nb, solutions / name)
    return solutions, exercises


def _run_cli(*args: str) -> int:
    return ex.main(list(args))


# --------------------------------------------------------------------------------------------
# Marker replacement
# --------------------------------------------------------------------------------------------


def test_regions_are_replaced_at_the_marker_indentation():
    source = _solution_nb().cells[2].source
    new, replaced = ex.clear_solution_regions(source)
    assert replaced
    assert new == (
        "def f(x):\n"
        '    """Double x."""\n'
        "    # YOUR CODE HERE\n"
        "    raise NotImplementedError()\n"
        "\n"
        "\n"
        "# YOUR CODE HERE\n"
        "raise NotImplementedError()\n"
        "h = 3"
    )


def test_markdown_regions_and_whole_cells_get_the_text_stub():
    new, replaced = ex.clear_solution_regions(
        "Q?\n\t### BEGIN SOLUTION\nA.\n\t### END SOLUTION", cell_type="markdown"
    )
    assert (new, replaced) == ("Q?\n\tYOUR ANSWER HERE", True)
    assert ex.clear_solution_regions("no markers") == ("no markers", False)

    sources = [cell.source for cell in ex.generate_exercise(_solution_nb()).cells]
    assert sources[4] == STUB  # code solution cell without markers
    assert sources[5] == "Explain:\n\n  YOUR ANSWER HERE\nThanks."
    assert sources[6] == "YOUR ANSWER HERE"  # markdown solution cell without markers
    assert sources[0] == "# Exercises\n\nIntro — with ünïcode."
    assert sources[3] == "assert f(2) == 4"


def test_outputs_cleared_metadata_kept_and_provenance_recorded():
    solution = _solution_nb()
    before = copy.deepcopy(solution)
    nb = ex.generate_exercise(solution, generated_from="solutions/01_demo_exercises.ipynb")
    assert solution == before, "the input notebook must not be modified"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert "scrolled" not in nb.cells[-1].metadata
    assert [c.metadata.get("nbgrader") for c in nb.cells] == [
        c.metadata.get("nbgrader") for c in solution.cells
    ]
    assert [c.id for c in nb.cells] == [c.id for c in solution.cells]
    assert "celltoolbar" not in nb.metadata and "widgets" not in nb.metadata
    assert nb.metadata["metalearn"] == {
        "generated_from": "solutions/01_demo_exercises.ipynb",
        "cells_sha256": ex.cells_sha256(nb),
    }
    nbformat.validate(nb)


def test_rendering_is_deterministic_with_one_trailing_newline(tmp_path):
    solutions, _ = _dirs(tmp_path)
    path = solutions / "01_demo_exercises.ipynb"
    first = ex.render_exercise(path)
    assert first == ex.render_exercise(path)
    assert first.endswith("}\n") and not first.endswith("\n\n")


def test_cells_without_ids_get_deterministic_ids(tmp_path):
    nb = _solution_nb()
    text = nbformat.writes(nb).replace('"id": "c2",', "")
    path = tmp_path / "solutions" / "x.ipynb"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    assert ex.render_exercise(path) == ex.render_exercise(path)
    assert ex.read_notebook(path).cells[2].id == "cell-2"


# --------------------------------------------------------------------------------------------
# Equality with nbgrader's ClearSolutions
# --------------------------------------------------------------------------------------------


def _nbgrader_clear(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    from nbgrader.preprocessors import ClearSolutions

    cleared, _ = ClearSolutions().preprocess(copy.deepcopy(nb), {})
    return [(cell.cell_type, cell.source) for cell in cleared.cells]


def _ours(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in ex.generate_exercise(nb).cells]


def _variants() -> list[nbformat.NotebookNode]:
    base = _solution_nb()
    trailing = copy.deepcopy(base)
    trailing.cells[2].source += "\n"  # a trailing newline, and a region at the very end
    trailing.cells[4].source = "a = 1\n    ### BEGIN SOLUTION\n    b = 2\n    ### END SOLUTION\n"
    empty = copy.deepcopy(base)
    empty.cells[2].source = "### BEGIN SOLUTION\n### END SOLUTION"
    return [base, trailing, empty]


@pytest.mark.parametrize("index", range(len(_variants())))
def test_matches_nbgrader_clear_solutions_on_synthetic_notebooks(index):
    nb = _variants()[index]
    assert _ours(nb) == _nbgrader_clear(nb)


@pytest.mark.parametrize(
    "path",
    REAL_SOLUTIONS
    or [pytest.param(None, marks=pytest.mark.skip(reason="no solutions/*.ipynb yet"))],
    ids=lambda p: p.name if isinstance(p, Path) else "none",
)
def test_matches_nbgrader_clear_solutions_on_real_solutions(path):
    nb = ex.read_notebook(path)
    assert _ours(nb) == _nbgrader_clear(nb)


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _broken(change) -> nbformat.NotebookNode:
    nb = _solution_nb()
    change(nb)
    return nb


def _set_source(index: int, source: str):
    def change(nb):
        nb.cells[index].source = source

    return change


def _set_meta(index: int, meta: dict):
    def change(nb):
        nb.cells[index].metadata = meta

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set_source(2, "### BEGIN SOLUTION\nx = 1"), r"cell #3 .*line 1: .*never closed"),
        (_set_source(2, "x = 1\n### END SOLUTION"), r"cell #3 .*line 2: .*without a matching"),
        (
            _set_source(2, "### BEGIN SOLUTION\n  ### BEGIN SOLUTION\n### END SOLUTION"),
            r"cell #3 .*line 2: nested",
        ),
        (_set_source(2, "x = 1  ### BEGIN SOLUTION"), r"cell #3 .*not a marker line"),
        (
            _set_source(1, "### BEGIN SOLUTION\nx = 1\n### END SOLUTION"),
            r"cell #2 .*grade_id 'imports'.*not marked as an nbgrader solution cell",
        ),
        (_set_meta(7, {}), None),  # a plain cell without markers is fine
        (
            _set_meta(4, _nbg("f", solution=True)),
            r"cell #5 .*duplicate grade_id 'f' \(also used by .*cell #3",
        ),
        (_set_meta(4, _nbg("", solution=True)), r"cell #5 .*grade_id must be a non-empty"),
        (_set_meta(3, _nbg("g", grade=True, locked=True)), r"cell #4 .*needs .*points"),
        (
            _set_meta(6, _nbg("md", solution=True)),
            r"cell #7 .*markdown cell to be both a grade and a solution",
        ),
        (
            _set_source(3, "### BEGIN HIDDEN TESTS\nassert 1\n### END HIDDEN TESTS"),
            r"cell #4 .*HIDDEN TESTS.* not supported",
        ),
    ],
    ids=[
        "unclosed",
        "end-without-begin",
        "nested",
        "marker-not-alone",
        "markers-in-non-solution-cell",
        "plain-cell-ok",
        "duplicate-grade-id",
        "empty-grade-id",
        "grade-without-points",
        "markdown-solution-not-grade",
        "hidden-tests",
    ],
)
def test_invalid_solution_notebooks_are_rejected_naming_file_and_cell(change, message):
    nb = _broken(change)
    if message is None:
        ex.generate_exercise(nb, where="solutions/x.ipynb")
        return
    with pytest.raises(ex.ExerciseSourceError, match=r"^solutions/x\.ipynb, " + message):
        ex.generate_exercise(nb, where="solutions/x.ipynb")


def test_invalid_argument_types_are_reported_by_name(tmp_path):
    with pytest.raises(TypeError, match="solution_nb"):
        ex.generate_exercise("not a notebook")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="generated_from"):
        ex.generate_exercise(_solution_nb(), generated_from=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cell_type"):
        ex.clear_solution_regions("x", cell_type="heading")
    with pytest.raises(TypeError, match="force"):
        ex.write_exercises(tmp_path, tmp_path, force="yes")  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match="solutions_dir"):
        ex.plan_exercises(tmp_path / "nowhere", tmp_path)


def test_cli_reports_an_invalid_solution_and_writes_nothing(tmp_path, capsys):
    good = ("01_a_exercises.ipynb", _solution_nb())
    bad = ("02_b_exercises.ipynb", _broken(_set_source(2, "### BEGIN SOLUTION")))
    solutions, exercises = _dirs(tmp_path, good, bad)
    assert _run_cli("--solutions", str(solutions), "--exercises", str(exercises)) == 2
    assert "02_b_exercises.ipynb, cell #3" in capsys.readouterr().err
    assert not exercises.exists()


# --------------------------------------------------------------------------------------------
# Writing: never destroy a learner's work
# --------------------------------------------------------------------------------------------


def _generate(solutions: Path, exercises: Path, *extra: str) -> int:
    return _run_cli("--solutions", str(solutions), "--exercises", str(exercises), *extra)


def test_generate_then_rerun_leaves_an_unchanged_file_alone(tmp_path, capsys):
    solutions, exercises = _dirs(tmp_path)
    target = exercises / "01_demo_exercises.ipynb"
    assert _generate(solutions, exercises) == 0
    assert target.read_text(encoding="utf-8") == ex.render_exercise(
        solutions / "01_demo_exercises.ipynb"
    )
    os.utime(target, (1_000_000_000, 1_000_000_000))
    assert _generate(solutions, exercises) == 0
    assert target.stat().st_mtime == 1_000_000_000, "an up-to-date exercise must not be rewritten"
    assert "unchanged" in capsys.readouterr().out


def _edit_learner_cell(target: Path) -> bytes:
    nb = nbformat.read(target, as_version=4)
    nb.cells[2].source = nb.cells[2].source.replace("raise NotImplementedError()", "y = 2 * x")
    nbformat.write(nb, target)
    return target.read_bytes()


def test_an_edited_exercise_is_refused_and_left_untouched(tmp_path, capsys):
    solutions, exercises = _dirs(tmp_path)
    target = exercises / "01_demo_exercises.ipynb"
    assert _generate(solutions, exercises) == 0
    edited = _edit_learner_cell(target)
    capsys.readouterr()

    assert _generate(solutions, exercises) == 1
    assert target.read_bytes() == edited
    err = capsys.readouterr().err
    assert "refusing to overwrite" in err and "01_demo_exercises.ipynb" in err
    assert "--force" in err and "FORCE=1" in err
    assert not list(exercises.glob("*.bak-*"))


def test_an_exercise_without_a_record_is_refused(tmp_path):
    solutions, exercises = _dirs(tmp_path)
    exercises.mkdir()
    target = exercises / "01_demo_exercises.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("mine = 1")]), target)
    before = target.read_bytes()
    results = ex.write_exercises(solutions, exercises, log=None)
    assert [r.action for r in results] == ["refused"]
    assert "no metadata.metalearn.cells_sha256 record" in results[0].message
    assert target.read_bytes() == before


def test_force_backs_up_the_edited_exercise_first_and_never_overwrites_a_backup(tmp_path):
    solutions, exercises = _dirs(tmp_path)
    target = exercises / "01_demo_exercises.ipynb"
    ex.write_exercises(solutions, exercises, log=None)
    rendered = target.read_text(encoding="utf-8")

    first_edit = _edit_learner_cell(target)
    messages: list[str] = []
    [result] = ex.write_exercises(
        solutions, exercises, force=True, now=FIXED_TIME, log=messages.append
    )
    backup = exercises / "01_demo_exercises.ipynb.bak-20261125-103000"
    assert result.action == "written" and result.backup == backup
    assert backup.read_bytes() == first_edit
    assert target.read_text(encoding="utf-8") == rendered
    assert "backed up" in messages[0] and backup.name in messages[0]

    second_edit = _edit_learner_cell(target)
    [result] = ex.write_exercises(solutions, exercises, force=True, now=FIXED_TIME, log=None)
    assert result.backup == exercises / "01_demo_exercises.ipynb.bak-20261125-103000-2"
    assert backup.read_bytes() == first_edit, "an existing backup must never be overwritten"
    assert result.backup.read_bytes() == second_edit


def test_cli_force_prints_the_backup(tmp_path, capsys):
    solutions, exercises = _dirs(tmp_path)
    _generate(solutions, exercises)
    _edit_learner_cell(exercises / "01_demo_exercises.ipynb")
    capsys.readouterr()
    assert _generate(solutions, exercises, "--force") == 0
    assert ".ipynb.bak-" in capsys.readouterr().out
    assert len(list(exercises.glob("01_demo_exercises.ipynb.bak-*"))) == 1


def test_outputs_from_running_cells_are_not_edits(tmp_path):
    solutions, exercises = _dirs(tmp_path)
    target = exercises / "01_demo_exercises.ipynb"
    ex.write_exercises(solutions, exercises, log=None)
    rendered = target.read_text(encoding="utf-8")
    nb = nbformat.read(target, as_version=4)
    nb.cells[1].execution_count = 1
    nb.cells[1].outputs = [new_output("stream", name="stdout", text="ran\n")]
    nb.metadata["widgets"] = {"x": {}}
    nbformat.write(nb, target)

    assert [s.state for s in ex.check_drift(solutions, exercises)] == ["differs"]
    [result] = ex.write_exercises(solutions, exercises, log=None)
    assert result.action == "written" and result.backup is None
    assert target.read_text(encoding="utf-8") == rendered
    assert not list(exercises.glob("*.bak-*"))


def test_a_changed_solution_regenerates_an_unedited_exercise(tmp_path):
    solutions, exercises = _dirs(tmp_path)
    ex.write_exercises(solutions, exercises, log=None)
    nb = _solution_nb()
    nb.cells[1].source = "import math\nimport cmath"
    nbformat.write(nb, solutions / "01_demo_exercises.ipynb")
    assert [s.state for s in ex.check_drift(solutions, exercises)] == ["stale"]
    [result] = ex.write_exercises(solutions, exercises, log=None)
    assert result.action == "written"
    assert ex.check_drift(solutions, exercises) == []


def test_check_lists_drift_and_writes_nothing(tmp_path, capsys):
    solutions, exercises = _dirs(
        tmp_path,
        ("01_a_exercises.ipynb", _solution_nb()),
        ("02_b_exercises.ipynb", _solution_nb()),
    )
    assert _generate(solutions, exercises, "--check") == 1
    out = capsys.readouterr().out
    assert "missing" in out and "01_a_exercises" in out and "02_b_exercises" in out
    assert not exercises.exists()

    assert _generate(solutions, exercises) == 0
    assert _generate(solutions, exercises, "--check") == 0
    _edit_learner_cell(exercises / "02_b_exercises.ipynb")
    nbformat.write(new_notebook(), exercises / "99_orphan_exercises.ipynb")
    capsys.readouterr()
    assert _generate(solutions, exercises, "--check") == 1
    out = capsys.readouterr().out
    assert "edited" in out and "02_b_exercises" in out
    assert "orphan" in out and "99_orphan_exercises" in out
    assert "01_a_exercises" not in out


def test_exercises_match_solutions():
    """exercises/ must be exactly what `make exercises` generates from solutions/."""
    if not REAL_SOLUTIONS:
        pytest.skip("no solutions/*.ipynb yet")
    drift = ex.check_drift(REPO_ROOT / "solutions", REPO_ROOT / "exercises")
    if drift:
        pytest.fail(
            "exercises/ differs from solutions/; run `make exercises`:\n"
            + "\n".join(status.describe() for status in drift),
            pytrace=False,
        )


# --------------------------------------------------------------------------------------------
# A teacher can run nbgrader on the same sources
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_nbgrader_generate_assignment_releases_the_same_cells(tmp_path):
    course = make_course(tmp_path / "course")
    source = add_source(course, "ps00", REAL_SOLUTIONS)
    nbformat.write(_solution_nb(), source / "01_demo_exercises.ipynb")
    run_nbgrader(course, "generate_assignment", "ps00", "--force")

    for path in sorted(source.glob("*.ipynb")):
        release = nbformat.read(course / "release" / "ps00" / path.name, as_version=4)
        ours = nbformat.reads(ex.render_exercise(path), as_version=4)
        assert [(c.cell_type, c.source) for c in release.cells if c.cell_type == "code"] == [
            (c.cell_type, c.source) for c in ours.cells if c.cell_type == "code"
        ], path.name
        assert ex.cells_sha256(release) == ex.cells_sha256(ours), path.name


# --------------------------------------------------------------------------------------------
# Re-execution
# --------------------------------------------------------------------------------------------


def test_execute_notebook_runs_in_a_fresh_kernel_and_saves(tmp_path):
    nb = new_notebook(
        cells=[
            new_code_cell("print(1)"),
            new_code_cell("import os\nprint(os.environ['PYTHONHASHSEED'], os.getcwd())"),
            new_code_cell("print(3)"),
        ]
    )
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    nb.metadata["kernelspec"] = {"name": "someone-elses-env", "display_name": "Old"}
    folder = tmp_path / "notebooks"
    folder.mkdir()
    path = folder / "tiny.ipynb"
    nbformat.write(nb, path)

    result = execute_notebook(path, cell_timeout=60, wall_timeout=120)
    saved = nbformat.read(path, as_version=4)
    assert result.path == path and result.duration_s > 0
    assert [c.execution_count for c in saved.cells] == [1, 2, 3]
    texts = [c.outputs[0]["text"] for c in saved.cells]
    assert texts == ["1\n", f"0 {folder.resolve()}\n", "3\n"]
    assert "widgets" not in saved.metadata
    assert saved.metadata.kernelspec == {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    assert all("execution" not in c.metadata for c in saved.cells)
    assert path.read_text(encoding="utf-8").endswith("}\n")


def test_a_failing_cell_is_named_and_the_notebook_is_not_saved(tmp_path, capsys):
    path = tmp_path / "broken.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1"), new_code_cell("1 / 0")]), path)
    before = path.read_bytes()
    with pytest.raises(NotebookExecutionError, match=r"cell #2\b.*ZeroDivisionError") as info:
        execute_notebook(path, cell_timeout=60, wall_timeout=120)
    assert info.value.cell_index == 1
    assert path.read_bytes() == before


def test_execute_refuses_exercises_and_bad_arguments(tmp_path, capsys):
    folder = tmp_path / "exercises"
    folder.mkdir()
    path = folder / "01_demo_exercises.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("print(1)")]), path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="under exercises/"):
        execute_notebook(path)
    assert execute_main([str(path)]) == 2
    assert "exercises/" in capsys.readouterr().err
    assert path.read_bytes() == before
    with pytest.raises(ValueError, match="cell_timeout"):
        execute_notebook(tmp_path / "x.ipynb", cell_timeout=0)
    with pytest.raises(ValueError, match=r"\.ipynb"):
        execute_notebook(tmp_path / "x.py")
    with pytest.raises(TypeError, match="path"):
        execute_notebook(3)  # type: ignore[arg-type]
