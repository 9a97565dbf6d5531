"""Helpers the tests use to read the course's notebooks."""

from __future__ import annotations

import pathlib
from typing import Any

import nbformat

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
LECTURES = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
SOLUTIONS = sorted((REPO_ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((REPO_ROOT / "exercises").glob("*.ipynb"))
EXECUTED = LECTURES + SOLUTIONS
ALL_NOTEBOOKS = EXECUTED + EXERCISES


def read(path: str | pathlib.Path) -> nbformat.NotebookNode:
    return nbformat.read(REPO_ROOT / path, as_version=4)


def solution_namespace(path: str | pathlib.Path) -> dict[str, Any]:
    """Execute a solutions notebook's code cells (without outputs) in a fresh namespace.

    Used to prove that what a notebook writes inline equals the library's version.
    Check cells (nbgrader ``grade: true``) are skipped: they only call the checks.
    """
    namespace: dict[str, Any] = {"__name__": "solution_under_test"}
    for cell in read(path).cells:
        if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("grade"):
            continue
        exec(compile(cell.source, f"{path}:cell", "exec"), namespace)  # noqa: S102 - our own notebook
    return namespace
