"""A temporary nbgrader course for the tests (its folder, configuration and command line), and the
exercises of a solution notebook as nbgrader sees them (answer cell, check cell, points).

The course is a plain folder (``source/``, ``release/``, ``submitted/``, ``autograded/``) with an
``nbgrader_config.py`` that pins everything to it: the course root, the course id and the
gradebook (an SQLite file inside the course). nbgrader runs from the virtualenv of the test run,
with that virtualenv first on ``PATH`` so that its kernels are the virtualenv's ``python3``, and
with a private Jupyter configuration folder so that the user's own settings play no part. Nothing
here needs the network.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

VENV_BIN = Path(sys.executable).parent
NBGRADER = VENV_BIN / "nbgrader"
COURSE_ID = "metalearn"
SOLUTION_REGION = re.compile(
    r"^[ \t]*### BEGIN SOLUTION[ \t]*\n(?P<body>.*?)^[ \t]*### END SOLUTION[ \t]*$", re.S | re.M
)


@dataclass(frozen=True)
class Exercise:
    """One exercise of a solution notebook: its answer cell, its check cell and the check's points."""

    answer_id: str  # the grade_id of the answer (solution) cell
    check_id: str  # the grade_id of the grade cell that checks it
    points: float  # that grade cell's nbgrader points
    solution: str  # the answer cell's source in solutions/, with its ### BEGIN/END SOLUTION regions

    @property
    def function(self) -> str:
        """The name of the function the learner writes (the answer cell's first ``def``)."""
        return re.search(r"^def (\w+)\(", self.solution, re.M)[1]

    @property
    def lines_to_write(self) -> int:
        """Lines of code in the solution regions, blank lines and comment-only lines not counted."""
        body = "".join(SOLUTION_REGION.findall(self.solution))
        return sum(1 for line in body.splitlines() if line.strip() and not line.strip().startswith("#"))


def nbgrader_meta(cell) -> dict:
    """A cell's nbgrader metadata (``{}`` for a plain cell)."""
    return cell.metadata.get("nbgrader", {})


def exercises(path: Path) -> list[Exercise]:
    """The exercises of a solution notebook, in order: each code answer cell with the next grade cell."""
    found, answer = [], None
    for cell in nbformat.read(path, as_version=4).cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type == "code" and meta.get("solution"):
            answer = cell
        elif meta.get("grade") and answer is not None:
            answer_id = nbgrader_meta(answer)["grade_id"]
            found.append(Exercise(answer_id, meta["grade_id"], float(meta["points"]), answer.source))
            answer = None
    return found


def require_nbgrader() -> Path:
    """The ``nbgrader`` command of this virtualenv (skip the test where it is not installed)."""
    if not NBGRADER.exists():
        pytest.skip("nbgrader is not installed in this environment (requirements.txt pins it)")
    return NBGRADER


def make_course(root: Path, *, cell_timeout_s: int | None = None) -> Path:
    """Create an empty nbgrader course in ``root`` (``nbgrader_config.py`` and ``source/``).

    Args:
        root: the course folder (created); its ``gradebook.db`` is nbgrader's database.
        cell_timeout_s: if given, the longest one cell may run during ``autograde`` (nbgrader's
            ``ExecutePreprocessor.timeout``) before nbgrader interrupts it and scores the cell 0.

    Returns:
        ``root``.
    """
    (root / "source").mkdir(parents=True, exist_ok=True)
    lines = [
        "c = get_config()  # noqa: F821",
        f"c.CourseDirectory.root = {str(root)!r}",
        f"c.CourseDirectory.course_id = {COURSE_ID!r}",
        f"c.CourseDirectory.db_url = {'sqlite:///' + str(root / 'gradebook.db')!r}",
    ]
    if cell_timeout_s is not None:
        lines.append(f"c.ExecutePreprocessor.timeout = {int(cell_timeout_s)}")
    (root / "nbgrader_config.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def add_source(course: Path, assignment: str, notebooks: list[Path]) -> Path:
    """Copy ``notebooks`` into ``course/source/<assignment>/``; returns that folder."""
    folder = course / "source" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    for path in notebooks:
        shutil.copy(path, folder / path.name)
    return folder


def run_nbgrader(course: Path, *args: str, timeout_s: float = 300) -> subprocess.CompletedProcess:
    """Run ``nbgrader <args>`` in ``course``; fail the test (with nbgrader's output) if it fails."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    # A private Jupyter configuration folder next to the course: the user's own settings play no part.
    env["JUPYTER_CONFIG_DIR"] = str(course.with_name(course.name + "-jupyter-config"))
    proc = subprocess.run(
        [str(require_nbgrader()), *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc
