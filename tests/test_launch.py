"""Launching the course elsewhere: the Colab and Binder badges, the Colab set-up cell, binder/.

One place names the repository, ``metalearn_lib/authoring/launch.py``; every notebook's badges and
set-up cell are written from it (``make badges``). The expected URLs below are spelled out from
``REPOSITORY`` and ``BRANCH`` by hand, not by launch.py's own functions, so that a wrong URL
builder fails here too.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import nbformat
import pytest

from metalearn_lib.authoring import exercises as ex
from metalearn_lib.authoring import launch
from tests.notebook_tools import ALL_NOTEBOOKS, EXERCISES, LECTURES, REPO_ROOT, SOLUTIONS

BADGE = re.compile(r"\[!\[(?P<alt>[^\]]+)\]\((?P<image>[^)\s]+)\)\]\((?P<url>[^)\s]+)\)")
COLAB_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BINDER_IMAGE = "https://mybinder.org/badge_logo.svg"


def rel(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix()


def opened_by(path: Path) -> str:
    """What a notebook's badges must open: itself, or for a solution, its exercise."""
    folder = "exercises" if path.parent.name == "solutions" else path.parent.name
    return f"{folder}/{path.name}"


def first_cell(nb: nbformat.NotebookNode, cell_type: str) -> nbformat.NotebookNode:
    return next(cell for cell in nb.cells if cell.cell_type == cell_type)


# --------------------------------------------------------------------------------------------
# The badges
# --------------------------------------------------------------------------------------------


def test_the_course_has_notebooks_of_every_kind():
    assert LECTURES and SOLUTIONS and EXERCISES


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=[rel(p) for p in ALL_NOTEBOOKS])
def test_both_badges_sit_under_the_title_and_open_this_notebook(path):
    nb = nbformat.read(path, as_version=4)
    lines = first_cell(nb, "markdown").source.split("\n")
    assert re.match(r"^# \d\d · ", lines[0]), "the first markdown cell opens with the '# NN · Title' heading"
    badges = {m["alt"]: m.groupdict() for m in BADGE.finditer(lines[2])}
    target = opened_by(path)
    assert badges == {
        "Open in Colab": {
            "alt": "Open in Colab",
            "image": COLAB_IMAGE,
            "url": f"https://colab.research.google.com/github/{launch.REPOSITORY}/blob/{launch.BRANCH}/{target}",
        },
        "Launch Binder": {
            "alt": "Launch Binder",
            "image": BINDER_IMAGE,
            "url": f"https://mybinder.org/v2/gh/{launch.REPOSITORY}/{launch.BRANCH}?urlpath=lab/tree/{target}",
        },
    }, f"{rel(path)}: run `make badges`"
    assert lines[1] == "" and lines[3] == "", "one blank line either side of the badge line"
    assert lines[2] == launch.badges_markdown(rel(path)), "launch.py builds exactly these badges"


@pytest.mark.parametrize("path", SOLUTIONS, ids=[rel(p) for p in SOLUTIONS])
def test_a_solution_never_links_learners_to_its_answers(path):
    """The solution is the exercise's single source, copied cell for cell by `make exercises` and by
    nbgrader: its launch links open the exercise, so neither release can open the answers."""
    nb = nbformat.read(path, as_version=4)
    links = [link for cell in nb.cells for link in launch.launch_links(cell.source)]
    assert len(links) == 2
    assert {opened for _url, opened in links} == {f"exercises/{path.name}"}
    exercise = nbformat.reads(ex.render_exercise(path), as_version=4)
    assert first_cell(exercise, "markdown").source == first_cell(nb, "markdown").source


def test_the_generator_refuses_a_solution_whose_badges_open_the_answers():
    path = REPO_ROOT / "solutions" / "00_welcome_exercises.ipynb"
    nb = nbformat.read(path, as_version=4)
    intro = first_cell(nb, "markdown")
    intro.source = intro.source.replace(
        launch.binder_url(f"exercises/{path.name}"), launch.binder_url(f"solutions/{path.name}"))
    with pytest.raises(ex.ExerciseSourceError, match=r"opens 'solutions/00_welcome_exercises.ipynb'.*make badges"):
        ex.generate_exercise(nb, generated_from=f"solutions/{path.name}")
    intro.source = intro.source.replace(f"solutions/{path.name}", "exercises/01_mapping_exercises.ipynb")
    with pytest.raises(ex.ExerciseSourceError, match="must open 'exercises/00_welcome_exercises.ipynb'"):
        ex.generate_exercise(nb, generated_from=f"solutions/{path.name}")


# --------------------------------------------------------------------------------------------
# The Colab set-up cell
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=[rel(p) for p in ALL_NOTEBOOKS])
def test_the_first_code_cell_is_the_colab_set_up_cell_of_launch_py(path):
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code[0].source == launch.colab_setup_source(rel(path)), f"{rel(path)}: run `make badges`"
    assert sum(cell.source.startswith(launch.SETUP_COMMENT) for cell in code) == 1
    folder = "exercises" if path.parent.name == "solutions" else path.parent.name
    assert f'os.chdir(f"{{clone}}/{folder}")' in code[0].source
    if path.parent.name != "notebooks":  # a read-only, ungraded nbgrader cell
        assert code[0].metadata["nbgrader"] == {"grade": False, "grade_id": "colab-setup", "locked": True,
                                                "schema_version": 3, "solution": False}


@pytest.fixture
def recorded(monkeypatch):
    """subprocess.run, os.chdir and sys.path under watch: what the set-up cell would do."""
    calls: dict[str, list] = {"run": [], "chdir": []}
    monkeypatch.setattr(subprocess, "run", lambda args, **kwargs: calls["run"].append((list(args), kwargs)))
    monkeypatch.setattr(os, "chdir", lambda where: calls["chdir"].append(where))
    monkeypatch.setattr(sys, "path", list(sys.path))
    return calls


def _run_cell(source: str) -> dict:
    namespace: dict = {"__name__": "__main__"}
    exec(compile(source, "<colab set-up cell>", "exec"), namespace)  # noqa: S102 - the course's own template
    return namespace


@pytest.mark.parametrize("path", ["notebooks/01_mapping.ipynb", "solutions/01_mapping_exercises.ipynb"])
def test_the_set_up_cell_does_nothing_outside_colab(path, recorded, capsys):
    assert "google.colab" not in sys.modules
    path_before, cwd_before = list(sys.path), Path.cwd()
    _run_cell(launch.colab_setup_source(path))
    assert recorded == {"run": [], "chdir": []}
    assert sys.path == path_before and Path.cwd() == cwd_before
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(("path", "folder"), [("notebooks/01_mapping.ipynb", "notebooks"),
                                              ("solutions/01_mapping_exercises.ipynb", "exercises")])
def test_on_colab_the_set_up_cell_clones_installs_and_opens_the_notebooks_folder(path, folder, recorded,
                                                                                  monkeypatch):
    widget_manager = []
    colab = types.ModuleType("google.colab")
    colab.output = types.SimpleNamespace(enable_custom_widget_manager=lambda: widget_manager.append(True))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    clone = f"/content/{launch.REPOSITORY.split('/')[1]}"
    real_isdir = os.path.isdir
    monkeypatch.setattr(os.path, "isdir", lambda p: False if p == clone else real_isdir(p))

    _run_cell(launch.colab_setup_source(path))

    (git, git_kwargs), (pip, pip_kwargs) = recorded["run"]
    assert git == ["git", "clone", "--depth", "1", "--branch", launch.BRANCH,
                   f"https://github.com/{launch.REPOSITORY}", clone]
    assert pip[:3] == [sys.executable, "-m", "pip"] and pip[3] == "install" and pip[-2:] == ["-e", clone]
    assert not any("tensorflow" in arg for arg in pip), "Colab's own TensorFlow must be kept: no [tensorflow] extra"
    assert git_kwargs.get("check") is True and pip_kwargs.get("check") is True
    assert sys.path[0] == clone
    assert recorded["chdir"] == [f"{clone}/{folder}"]
    assert widget_manager == [True]

    recorded["run"].clear()  # run again, the clone present: no second clone
    monkeypatch.setattr(os.path, "isdir", lambda p: True if p == clone else real_isdir(p))
    _run_cell(launch.colab_setup_source(path))
    assert [args[:2] for args, _ in recorded["run"]] == [[sys.executable, "-m"]]


# --------------------------------------------------------------------------------------------
# One place names the repository
# --------------------------------------------------------------------------------------------


def test_changing_the_repository_in_launch_py_changes_every_url(monkeypatch):
    old = launch.REPOSITORY
    monkeypatch.setattr(launch, "REPOSITORY", "someone-else/fork")
    monkeypatch.setattr(launch, "BRANCH", "teaching")
    for path in ("notebooks/02_two_level_learning.ipynb", "solutions/02_two_level_learning_exercises.ipynb"):
        built = [launch.repository_url(), launch.colab_url(path), launch.binder_url(path),
                 launch.badges_markdown(path), launch.colab_setup_source(path)]
        for text in built:
            assert "someone-else/fork" in text and old not in text
        assert "blob/teaching/" in built[1] and "fork/teaching?" in built[2] and '"teaching"' in built[4]
        assert '"/content/fork"' in built[4]
    stale = [rel(p) for p in ALL_NOTEBOOKS if launch.launch_problems(nbformat.read(p, as_version=4), rel(p))]
    assert stale == [rel(p) for p in ALL_NOTEBOOKS], "every notebook's badges come from launch.py"


def test_no_other_file_spells_out_the_repository():
    """The repository's files (tracked or new, not ignored; notebooks are written from launch.py)."""
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("needs a git checkout to list the repository's files")
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    spelled = sorted(name for name in listed
                     if not name.endswith(".ipynb") and (REPO_ROOT / name).is_file()
                     and launch.REPOSITORY.encode() in (REPO_ROOT / name).read_bytes())
    assert spelled == ["metalearn_lib/authoring/launch.py"], "import it from metalearn_lib.authoring.launch"


@pytest.mark.parametrize(("call", "error", "named"), [
    (lambda: launch.colab_url(3), TypeError, "path"),
    (lambda: launch.binder_url("/abs/x.ipynb"), ValueError, "path"),
    (lambda: launch.colab_url("notebooks/x.py"), ValueError, "path"),
    (lambda: launch.colab_url("notebooks/../x.ipynb"), ValueError, "path"),
    (lambda: launch.launch_path("x.ipynb"), ValueError, "notebook_path"),
    (lambda: launch.badges_markdown("benchmarks/x.ipynb"), ValueError, "notebook_path"),
    (lambda: launch.colab_setup_source(None), TypeError, "notebook_path"),
    (lambda: launch.launch_links(None), TypeError, "text"),
    (lambda: launch.with_launch({"cells": 1}, "notebooks/x.ipynb"), TypeError, "nb"),
])
def test_bad_arguments_are_named(call, error, named):
    with pytest.raises(error, match=rf"^{named} must"):
        call()


@pytest.mark.parametrize(("name", "value"), [("REPOSITORY", "no-owner"), ("REPOSITORY", "a/b/c"),
                                             ("BRANCH", "two words"), ("BRANCH", "")])
def test_a_bad_configuration_is_named(monkeypatch, name, value):
    monkeypatch.setattr(launch, name, value)
    with pytest.raises(ValueError, match=rf"^{name} must"):
        launch.colab_url("notebooks/00_welcome.ipynb")


# --------------------------------------------------------------------------------------------
# Writing the badges: with_launch and `metalearn-badges`
# --------------------------------------------------------------------------------------------


def test_with_launch_inserts_once_then_updates_in_place(monkeypatch):
    old = launch.REPOSITORY
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 07 · A title\n\nText.", metadata={"nbgrader": {
            "grade": False, "grade_id": "intro", "locked": True, "schema_version": 3, "solution": False}}),
        nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {
            "grade": False, "grade_id": "imports", "locked": True, "schema_version": 3, "solution": False}}),
    ])
    path = "solutions/07_demo_exercises.ipynb"
    once = launch.with_launch(nb, path)
    assert launch.launch_problems(nb, path) and not launch.launch_problems(once, path)
    assert [c.cell_type for c in once.cells] == ["markdown", "code", "code"] and len(nb.cells) == 2
    assert once.cells[0].source == f"# 07 · A title\n\n{launch.badges_markdown(path)}\n\nText."
    assert once.cells[1].id == "colab-setup" and once.cells[1].metadata["nbgrader"]["locked"] is True
    assert launch.with_launch(once, path) == once
    exercise = ex.generate_exercise(once, generated_from=path)  # nbgrader-valid, and copied as it is
    assert exercise.cells[1].source == once.cells[1].source

    once.cells[1].execution_count = 1
    monkeypatch.setattr(launch, "REPOSITORY", "someone-else/fork")
    moved = launch.with_launch(once, path)
    assert not launch.launch_problems(moved, path) and len(moved.cells) == 3
    assert moved.cells[1].execution_count == 1, "a stale set-up cell is rewritten in place, not re-added"
    assert moved.cells[0].source.split("\n")[2] == launch.badges_markdown(path) and old not in moved.cells[0].source


def _course_copy(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    for folder, name in (("notebooks", "00_welcome.ipynb"), ("solutions", "00_welcome_exercises.ipynb"),
                         ("exercises", "00_welcome_exercises.ipynb")):
        (root / folder).mkdir(parents=True)
        shutil.copy(REPO_ROOT / folder / name, root / folder / name)
    return root


def test_the_badges_command_checks_rewrites_and_is_idempotent(tmp_path, capsys):
    root = _course_copy(tmp_path)
    lecture = root / "notebooks" / "00_welcome.ipynb"
    assert launch.main(["--root", str(root), "--check"]) == 0
    original = lecture.read_bytes()
    lecture.write_text(lecture.read_text(encoding="utf-8").replace(launch.REPOSITORY, "old-owner/old-name"),
                       encoding="utf-8")
    capsys.readouterr()

    assert launch.main(["--root", str(root), "--check"]) == 1
    out = capsys.readouterr().out
    assert "00_welcome.ipynb -- its first markdown cell lacks the badge line" in out and "stale launch link" in out
    assert "00_welcome_exercises" not in out, "only the edited lecture is stale"

    assert launch.main(["--root", str(root)]) == 0
    assert lecture.read_bytes() == original, "rewriting the badges restores the notebook byte for byte"
    snapshot = {p: p.read_bytes() for p in root.rglob("*.ipynb")}
    capsys.readouterr()
    assert launch.main(["--root", str(root)]) == 0
    assert "0 notebook(s) written" in capsys.readouterr().out
    assert {p: p.read_bytes() for p in root.rglob("*.ipynb")} == snapshot
    assert launch.main(["--root", str(root), "--check"]) == 0


def test_the_badges_command_never_overwrites_a_learners_edited_exercise(tmp_path, monkeypatch, capsys):
    root = _course_copy(tmp_path)
    exercise = root / "exercises" / "00_welcome_exercises.ipynb"
    nb = nbformat.read(exercise, as_version=4)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    answer.source = answer.source.replace("raise NotImplementedError()", "return 0")
    nbformat.write(nb, exercise)
    edited = exercise.read_bytes()
    monkeypatch.setattr(launch, "REPOSITORY", "someone-else/fork")  # every badge is now stale

    assert launch.main(["--root", str(root)]) == 1
    assert "refusing to overwrite" in capsys.readouterr().out
    assert exercise.read_bytes() == edited
    assert not launch.launch_problems(nbformat.read(root / "solutions" / exercise.name, as_version=4),
                                      f"solutions/{exercise.name}")
    assert launch.main(["--root", str(root), "--check"]) == 1

    nbformat.write(nbformat.reads(ex.render_exercise(REPO_ROOT / "solutions" / exercise.name), as_version=4),
                   exercise)  # the learner's exercise as first generated, unedited: now regenerated
    assert launch.main(["--root", str(root)]) == 0
    assert launch.main(["--root", str(root), "--check"]) == 0
    assert ex.check_drift(root / "solutions", root / "exercises") == []


def test_make_badges_runs_the_command():
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["metalearn-badges"] == "metalearn_lib.authoring.launch:main"
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^badges: \$\(STAMP\)\n\t\$\(BIN\)/metalearn-badges\b", makefile, re.M)
    assert re.search(r"^\.PHONY:.*\bbadges\b", makefile, re.M)


# --------------------------------------------------------------------------------------------
# Binder
# --------------------------------------------------------------------------------------------


def test_binder_installs_the_pinned_requirements_then_the_library():
    binder = REPO_ROOT / "binder"
    requirements = [line.strip() for line in (binder / "requirements.txt").read_text().splitlines()]
    assert requirements == ["-r ../requirements.txt"] and (binder / "../requirements.txt").resolve().is_file()
    assert (binder / "runtime.txt").read_text().strip() == "python-3.11"
    post_build = binder / "postBuild"
    assert post_build.stat().st_mode & stat.S_IXUSR and os.access(post_build, os.X_OK), "chmod +x binder/postBuild"
    text = post_build.read_text()
    assert text.startswith("#!/bin/bash\n") and "set -e" in text
    assert re.search(r"^pip install --no-deps -e \.$", text, re.M)
