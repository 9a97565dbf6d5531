"""Generate the learners' exercise notebooks from the teacher's solution notebooks.

Every exercise notebook has one source: ``solutions/NN_topic_exercises.ipynb``, an nbgrader-style
notebook whose solution cells carry ``nbgrader`` metadata and whose answers sit between the lines
``### BEGIN SOLUTION`` and ``### END SOLUTION``. This module writes
``exercises/NN_topic_exercises.ipynb`` from it:

* each solution region becomes ``# YOUR CODE HERE`` / ``raise NotImplementedError()`` (in
  markdown and raw cells ``YOUR ANSWER HERE``) at the marker's indentation, and a solution cell
  without markers is replaced whole by the stub -- byte for byte what nbgrader 0.9.6's
  ``ClearSolutions`` preprocessor produces, so the exercises are a valid nbgrader release and a
  teacher may run ``nbgrader generate_assignment`` on the same sources instead;
* outputs and execution counts are cleared, cell metadata (``nbgrader`` included) is kept;
* ``metadata.metalearn`` records where the notebook came from and a SHA-256 of its cells' types
  and sources, so a later run can tell whether a learner has edited it.

A learner's work is never destroyed: an existing exercise whose cells no longer match that record
is left alone unless ``--force`` is given, and then it is first copied to
``<name>.ipynb.bak-<YYYYmmdd-HHMMSS>``. Running cells (outputs only) does not count as an edit.

Command line (``make exercises [FORCE=1]``)::

    metalearn-exercises [--solutions DIR] [--exercises DIR] [--force] [--check]

Exit status: 0 when everything is written or already up to date; 1 when an edited exercise was
refused or (with ``--check``) when anything is missing, stale or differs; 2 when a solution
notebook is invalid or a directory is missing.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import re
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import nbformat
from nbformat import NotebookNode

__all__ = [
    "BEGIN_MARKER",
    "CODE_STUBS",
    "END_MARKER",
    "METADATA_KEY",
    "TEXT_STUB",
    "ExerciseSourceError",
    "ExerciseStatus",
    "WriteResult",
    "cells_sha256",
    "check_drift",
    "clear_solution_regions",
    "dumps_notebook",
    "find_repo_root",
    "generate_exercise",
    "main",
    "plan_exercises",
    "read_notebook",
    "render_exercise",
    "write_exercises",
]

#: The line that opens a solution region (it may be indented).
BEGIN_MARKER = "### BEGIN SOLUTION"
#: The line that closes a solution region (it may be indented).
END_MARKER = "### END SOLUTION"
# nbgrader's delimiters: it treats any line *containing* these as a marker.
_BEGIN_DELIMITER = "BEGIN SOLUTION"
_END_DELIMITER = "END SOLUTION"

#: What replaces a solution in a code cell, per kernel language (nbgrader 0.9.6's defaults).
CODE_STUBS: dict[str, str] = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
    "R": "# YOUR CODE HERE\nfail()",
    "matlab": "% YOUR CODE HERE\nerror('No Answer Given!')",
    "octave": "% YOUR CODE HERE\nerror('No Answer Given!')",
    "sas": "/* YOUR CODE HERE */\n %notImplemented;",
    "java": "// YOUR CODE HERE",
}
#: What replaces a solution in a markdown or raw cell (nbgrader 0.9.6's default).
TEXT_STUB = "YOUR ANSWER HERE"

#: The notebook-metadata key under which the provenance record is stored.
METADATA_KEY = "metalearn"

# nbgrader features that this generator does not implement; a source using them is rejected
# rather than silently producing something other than what nbgrader would release.
_UNSUPPORTED_DELIMITERS = (
    "BEGIN HIDDEN TESTS",
    "END HIDDEN TESTS",
    "BEGIN MARK SCHEME",
    "END MARK SCHEME",
)
_AUTOTEST_DELIMITER = "AUTOTEST"
# Per-cell metadata written by running a notebook, cleared like nbconvert's ClearOutput does.
_RUN_METADATA = ("collapsed", "scrolled", "execution", "ExecuteTime")
_GRADE_ID = re.compile(r"^[a-zA-Z0-9_\-]+$")
_CELL_ID = re.compile(r"^[a-zA-Z0-9_\-]{1,64}$")

State = Literal["up-to-date", "missing", "stale", "differs", "edited", "orphan"]


class ExerciseSourceError(ValueError):
    """A solution notebook cannot be turned into an exercise (bad markers or metadata)."""


# --------------------------------------------------------------------------------------------
# Single cells and notebooks
# --------------------------------------------------------------------------------------------


def _shown(path: Path) -> str:
    """A path for messages: relative to the current directory when it lies inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def _check_str(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    return value


def clear_solution_regions(
    source: str,
    *,
    cell_type: str = "code",
    language: str = "python",
    where: str = "cell",
) -> tuple[str, bool]:
    """Replace every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region of one cell source.

    Each region (markers included) becomes the stub for ``cell_type`` -- :data:`CODE_STUBS`
    ``[language]`` for code cells, :data:`TEXT_STUB` otherwise -- with every stub line prefixed
    by the BEGIN marker's leading whitespace, exactly as nbgrader's ``ClearSolutions`` does.

    Args:
        source: the cell's source text.
        cell_type: ``"code"``, ``"markdown"`` or ``"raw"``.
        language: the kernel language (a key of :data:`CODE_STUBS`), used for code cells.
        where: how to name the cell in error messages (e.g. ``"solutions/x.ipynb, cell #3"``).

    Returns:
        The new source and whether any region was replaced.

    Raises:
        TypeError: if an argument is not a str.
        ExerciseSourceError: (a ValueError) for a marker that is not a line of its own, an END
            without a BEGIN, a nested BEGIN, or a BEGIN that is never closed.
        ValueError: for an unknown ``cell_type`` or ``language``.
    """
    _check_str(source, "source")
    _check_str(cell_type, "cell_type")
    _check_str(language, "language")
    _check_str(where, "where")
    if cell_type not in ("code", "markdown", "raw"):
        raise ValueError(f"cell_type must be 'code', 'markdown' or 'raw', got {cell_type!r}")
    if cell_type == "code" and language not in CODE_STUBS:
        raise ValueError(
            f"language must be one of {sorted(CODE_STUBS)} (the notebook's "
            f"metadata.kernelspec.language), got {language!r}"
        )
    stub_lines = (CODE_STUBS[language] if cell_type == "code" else TEXT_STUB).split("\n")

    new_lines: list[str] = []
    in_solution = False
    replaced = False
    begin_line = 0
    for number, line in enumerate(source.split("\n"), start=1):
        has_begin = _BEGIN_DELIMITER in line
        has_end = _END_DELIMITER in line
        if has_begin or has_end:
            expected = BEGIN_MARKER if has_begin else END_MARKER
            if line.strip() != expected or (has_begin and has_end):
                raise ExerciseSourceError(
                    f"{where}, line {number}: {line.strip()!r} is not a marker line; a solution "
                    f"marker must be a line of its own, exactly {expected!r} (indentation "
                    f"allowed), and nbgrader treats any line containing "
                    f"{_BEGIN_DELIMITER!r} or {_END_DELIMITER!r} as one"
                )
        if has_begin:
            if in_solution:
                raise ExerciseSourceError(
                    f"{where}, line {number}: nested {BEGIN_MARKER!r} (the region opened on "
                    f"line {begin_line} is not closed yet)"
                )
            in_solution = True
            replaced = True
            begin_line = number
            indent = re.match(r"\s*", line).group(0)  # type: ignore[union-attr]
            new_lines.extend(indent + stub_line for stub_line in stub_lines)
        elif has_end:
            if not in_solution:
                raise ExerciseSourceError(
                    f"{where}, line {number}: {END_MARKER!r} without a matching {BEGIN_MARKER!r}"
                )
            in_solution = False
        elif not in_solution:
            new_lines.append(line)
    if in_solution:
        raise ExerciseSourceError(
            f"{where}, line {begin_line}: {BEGIN_MARKER!r} is never closed by {END_MARKER!r}"
        )
    return "\n".join(new_lines), replaced


def _describe_cell(where: str, index: int, cell: NotebookNode) -> str:
    """Name a cell for error messages: file, 1-based position, id and grade_id when known."""
    parts = [f"{where}, cell #{index + 1} ({cell.get('cell_type', '?')}"]
    if cell.get("id"):
        parts.append(f", id {cell['id']!r}")
    meta = cell.get("metadata", {}).get("nbgrader")
    if isinstance(meta, dict) and meta.get("grade_id"):
        parts.append(f", grade_id {meta['grade_id']!r}")
    return "".join(parts) + ")"


def _validate_nbgrader_metadata(nb: NotebookNode, where: str) -> None:
    """Check every cell's ``nbgrader`` metadata the way nbgrader's v3 validator would."""
    seen: dict[str, str] = {}
    for index, cell in enumerate(nb.cells):
        if "nbgrader" not in cell.get("metadata", {}):
            continue
        label = _describe_cell(where, index, cell)
        meta = cell.metadata["nbgrader"]
        if not isinstance(meta, dict):
            raise ExerciseSourceError(f"{label}: metadata.nbgrader must be an object")
        if meta.get("schema_version") != 3:
            raise ExerciseSourceError(
                f"{label}: metadata.nbgrader.schema_version must be 3, got "
                f"{meta.get('schema_version')!r}"
            )
        for key in ("grade", "solution", "locked"):
            if not isinstance(meta.get(key), bool):
                raise ExerciseSourceError(
                    f"{label}: metadata.nbgrader.{key} must be true or false, got {meta.get(key)!r}"
                )
        if "task" in meta and not isinstance(meta["task"], bool):
            raise ExerciseSourceError(f"{label}: metadata.nbgrader.task must be true or false")
        if not (meta["grade"] or meta["solution"] or meta["locked"] or meta.get("task")):
            continue
        grade_id = meta.get("grade_id")
        if not isinstance(grade_id, str) or not _GRADE_ID.match(grade_id):
            raise ExerciseSourceError(
                f"{label}: metadata.nbgrader.grade_id must be a non-empty string of letters, "
                f"digits, '_' and '-', got {grade_id!r}"
            )
        if grade_id in seen:
            raise ExerciseSourceError(
                f"{label}: duplicate grade_id {grade_id!r} (also used by {seen[grade_id]})"
            )
        seen[grade_id] = label
        if meta["grade"]:
            points = meta.get("points")
            if isinstance(points, bool) or not isinstance(points, int | float) or points < 0:
                raise ExerciseSourceError(
                    f"{label}: a grade cell needs metadata.nbgrader.points >= 0, got {points!r}"
                )
        if meta.get("task"):
            if cell.cell_type != "markdown":
                raise ExerciseSourceError(f"{label}: nbgrader task cells must be markdown")
        elif cell.cell_type == "markdown" and meta["grade"] != meta["solution"]:
            raise ExerciseSourceError(
                f"{label}: nbgrader requires a markdown cell to be both a grade and a solution "
                "cell, or neither"
            )


def _reject_unsupported(cell: NotebookNode, label: str) -> None:
    """Refuse nbgrader features that this generator does not reproduce."""
    for number, line in enumerate(cell.source.split("\n"), start=1):
        for delimiter in _UNSUPPORTED_DELIMITERS:
            if delimiter in line:
                raise ExerciseSourceError(
                    f"{label}, line {number}: {delimiter!r} regions are not supported by "
                    "metalearn-exercises (the solutions are published, so there is nothing to "
                    "hide); remove them"
                )
        if cell.cell_type == "code" and _AUTOTEST_DELIMITER in line:
            raise ExerciseSourceError(
                f"{label}, line {number}: nbgrader {_AUTOTEST_DELIMITER!r} lines are not "
                "supported by metalearn-exercises; write the assertions out"
            )


def cells_sha256(nb: NotebookNode) -> str:
    """Return the SHA-256 (hex) of a notebook's cell types and sources, in order.

    Outputs, execution counts and metadata are deliberately left out, so running a notebook
    does not change the hash while editing any cell does.

    Raises:
        TypeError: if ``nb`` is not a notebook (a mapping with a ``cells`` list).
    """
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise TypeError(f"nb must be a notebook with a 'cells' list, got {type(nb).__name__}")
    payload = [
        [cell.get("cell_type", ""), _joined(cell.get("source", ""))]
        for cell in cells
        if isinstance(cell, dict)
    ]
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _joined(source: object) -> str:
    """A cell source as one string (nbformat on disk may store it as a list of lines)."""
    if isinstance(source, list):
        return "".join(str(part) for part in source)
    return str(source)


def generate_exercise(
    solution_nb: NotebookNode,
    *,
    generated_from: str | None = None,
    where: str = "<solution notebook>",
) -> NotebookNode:
    """Return the exercise notebook for a solution notebook (the input is not modified).

    Solution regions and solution cells are replaced as nbgrader's ``ClearSolutions`` would
    replace them, code-cell outputs and execution counts are cleared (with the per-cell
    ``collapsed``/``scrolled``/``execution`` metadata that running leaves behind), the
    notebook's ``celltoolbar`` and ``widgets`` metadata are dropped, and
    ``metadata.metalearn = {"generated_from": ..., "cells_sha256": ...}`` is recorded.

    Args:
        solution_nb: the solution notebook (nbformat 4).
        generated_from: the provenance path to record, e.g. ``"solutions/01_x_exercises.ipynb"``;
            ``None`` records no path.
        where: how to name the notebook in error messages.

    Raises:
        TypeError: if ``solution_nb`` is not a notebook or ``generated_from``/``where`` is not a
            str.
        ExerciseSourceError: (a ValueError, naming the file and cell) for unbalanced or nested
            markers, markers in a cell not marked ``nbgrader.solution``, invalid or duplicate
            nbgrader metadata, or unsupported nbgrader features.
    """
    if not isinstance(solution_nb, dict) or not isinstance(solution_nb.get("cells"), list):
        raise TypeError(
            f"solution_nb must be an nbformat NotebookNode, got {type(solution_nb).__name__}"
        )
    if generated_from is not None:
        _check_str(generated_from, "generated_from")
    _check_str(where, "where")
    if solution_nb.get("nbformat") != 4:
        raise ValueError(
            f"{where}: solution_nb must be nbformat 4, got {solution_nb.get('nbformat')!r}"
        )

    nb = nbformat.from_dict(copy.deepcopy(solution_nb))
    language = nb.metadata.get("kernelspec", {}).get("language", "python")
    if language not in CODE_STUBS:
        raise ExerciseSourceError(
            f"{where}: metadata.kernelspec.language {language!r} has no code stub; expected "
            f"one of {sorted(CODE_STUBS)}"
        )
    _validate_nbgrader_metadata(nb, where)

    for index, cell in enumerate(nb.cells):
        label = _describe_cell(where, index, cell)
        cell.source = _joined(cell.get("source", ""))
        _reject_unsupported(cell, label)
        new_source, replaced = clear_solution_regions(
            cell.source, cell_type=cell.cell_type, language=language, where=label
        )
        meta = cell.metadata.get("nbgrader", {})
        is_solution = bool(meta.get("solution", False))
        if replaced and not is_solution:
            raise ExerciseSourceError(
                f"{label}: has {BEGIN_MARKER!r} markers but its metadata is not marked as an "
                'nbgrader solution cell; add metadata.nbgrader = {"solution": true, '
                '"grade_id": ..., "grade": false, "locked": false, "schema_version": 3}'
            )
        if is_solution and not replaced:
            new_source = CODE_STUBS[language] if cell.cell_type == "code" else TEXT_STUB
        cell.source = new_source
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in _RUN_METADATA:
            cell.metadata.pop(key, None)

    nb.metadata.pop("celltoolbar", None)
    nb.metadata.pop("widgets", None)
    record: dict[str, Any] = {}
    if generated_from is not None:
        record["generated_from"] = generated_from
    record["cells_sha256"] = cells_sha256(nb)
    nb.metadata[METADATA_KEY] = nbformat.from_dict(record)
    return nb


def dumps_notebook(nb: NotebookNode) -> str:
    """Serialise a notebook deterministically: nbformat's JSON (sorted keys, one-space indent,
    non-ASCII kept) followed by exactly one trailing newline."""
    if not isinstance(nb, dict):
        raise TypeError(f"nb must be an nbformat NotebookNode, got {type(nb).__name__}")
    text = nbformat.writes(nbformat.from_dict(nb), version=4)
    return text if text.endswith("\n") else text + "\n"


def read_notebook(path: Path | str) -> NotebookNode:
    """Read a notebook as nbformat 4, giving cells that lack an ``id`` a deterministic one.

    nbformat would otherwise invent random ids for such cells, which would make the generated
    exercises differ from run to run.

    Raises:
        TypeError: if ``path`` is not a str or Path.
        FileNotFoundError: if the file does not exist.
        ValueError: if the file is not valid notebook JSON.
    """
    if not isinstance(path, str | Path):
        raise TypeError(f"path must be a str or Path, got {type(path).__name__}")
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid notebook JSON ({error})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise ValueError(f"{path}: not a Jupyter notebook (no 'cells' list)")
    if raw.get("nbformat") == 4 and raw.get("nbformat_minor", 0) >= 5:
        used = {c.get("id") for c in raw["cells"] if isinstance(c, dict)}
        for index, cell in enumerate(raw["cells"]):
            if isinstance(cell, dict) and not (
                isinstance(cell.get("id"), str) and _CELL_ID.match(cell["id"])
            ):
                candidate = f"cell-{index}"
                while candidate in used:
                    candidate += "x"
                cell["id"] = candidate
                used.add(candidate)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return nbformat.reads(json.dumps(raw), as_version=4)
        except Exception as error:  # nbformat raises several unrelated types
            raise ValueError(f"{path}: not a readable Jupyter notebook ({error})") from None


def render_exercise(solution_path: Path | str, *, generated_from: str | None = None) -> str:
    """Return the exact text of the exercise notebook generated from ``solution_path``.

    Args:
        solution_path: the solution notebook file.
        generated_from: the provenance path to record; defaults to
            ``"<solution folder name>/<file name>"``, e.g. ``"solutions/01_x_exercises.ipynb"``.

    Raises:
        TypeError: if ``solution_path`` is not a str or Path.
        FileNotFoundError: if it does not exist.
        ExerciseSourceError: (a ValueError) if the solution notebook is invalid.
    """
    if not isinstance(solution_path, str | Path):
        raise TypeError(f"solution_path must be a str or Path, got {type(solution_path).__name__}")
    solution_path = Path(solution_path)
    if generated_from is None:
        generated_from = f"{solution_path.parent.name}/{solution_path.name}"
    nb = read_notebook(solution_path)
    return dumps_notebook(
        generate_exercise(nb, generated_from=generated_from, where=_shown(solution_path))
    )


# --------------------------------------------------------------------------------------------
# Folders: plan, check, write
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExerciseStatus:
    """Where one exercise notebook stands relative to its solution notebook.

    ``state`` is one of:

    * ``"up-to-date"`` -- the file is exactly what would be generated;
    * ``"missing"`` -- the exercise file does not exist;
    * ``"stale"`` -- unedited by the learner, but its sources differ from what would be
      generated (the solution changed);
    * ``"differs"`` -- same sources, other bytes (outputs from running cells, metadata);
    * ``"edited"`` -- its cells no longer match its recorded ``cells_sha256`` (or it has no
      record): a learner's work, never overwritten without ``force``;
    * ``"orphan"`` -- an exercise whose solution notebook does not exist.
    """

    state: State
    exercise: Path
    solution: Path | None
    rendered: str | None
    detail: str

    def describe(self) -> str:
        """One line for humans: state, file and detail."""
        return f"{self.state}: {_shown(self.exercise)} -- {self.detail}"


@dataclass(frozen=True)
class WriteResult:
    """What :func:`write_exercises` did to one exercise notebook.

    ``action`` is ``"written"``, ``"unchanged"``, ``"refused"`` (edited, no force) or
    ``"orphan"`` (reported, never deleted); ``backup`` is the copy made before a forced
    overwrite.
    """

    action: Literal["written", "unchanged", "refused", "orphan"]
    status: ExerciseStatus
    backup: Path | None
    message: str


def _check_dir(value: object, name: str, *, must_exist: bool) -> Path:
    if not isinstance(value, str | Path):
        raise TypeError(f"{name} must be a str or Path, got {type(value).__name__}")
    path = Path(value)
    if must_exist and not path.is_dir():
        raise FileNotFoundError(f"{name}: {path} is not a directory")
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{name}: {path} exists and is not a directory")
    return path


def _solution_notebooks(solutions_dir: Path) -> list[Path]:
    return sorted(p for p in solutions_dir.glob("*.ipynb") if p.is_file())


def _recorded_hash(nb: NotebookNode) -> str | None:
    record = nb.get("metadata", {}).get(METADATA_KEY)
    if isinstance(record, dict) and isinstance(record.get("cells_sha256"), str):
        return record["cells_sha256"]
    return None


def _status_of(solution: Path, exercise: Path) -> ExerciseStatus:
    rendered = render_exercise(solution)
    if not exercise.exists():
        return ExerciseStatus("missing", exercise, solution, rendered, "not generated yet")
    current_text = exercise.read_bytes().decode("utf-8", errors="replace")
    if current_text == rendered:
        return ExerciseStatus("up-to-date", exercise, solution, rendered, "up to date")
    try:
        current = read_notebook(exercise)
    except ValueError as error:
        return ExerciseStatus(
            "edited", exercise, solution, rendered, f"cannot be read as a notebook ({error})"
        )
    recorded = _recorded_hash(current)
    actual = cells_sha256(current)
    if recorded is None:
        return ExerciseStatus(
            "edited",
            exercise,
            solution,
            rendered,
            f"has no metadata.{METADATA_KEY}.cells_sha256 record, so it may hold a learner's work",
        )
    if recorded != actual:
        return ExerciseStatus(
            "edited", exercise, solution, rendered, "its cells were edited since it was generated"
        )
    generated_hash = _recorded_hash(nbformat.reads(rendered, as_version=4))
    if actual == generated_hash:
        return ExerciseStatus(
            "differs",
            exercise,
            solution,
            rendered,
            "same cells, but outputs or metadata differ from the generated file",
        )
    return ExerciseStatus(
        "stale", exercise, solution, rendered, f"{_shown(solution)} changed since it was generated"
    )


def plan_exercises(solutions_dir: Path | str, exercises_dir: Path | str) -> list[ExerciseStatus]:
    """Compare every solution notebook with its exercise notebook; write nothing.

    Returns one :class:`ExerciseStatus` per ``solutions_dir/*.ipynb`` (sorted by name), then
    one ``"orphan"`` status per ``exercises_dir/*.ipynb`` without a solution.

    Raises:
        TypeError: if a directory is not a str or Path.
        FileNotFoundError: if ``solutions_dir`` does not exist.
        ExerciseSourceError: (a ValueError) if a solution notebook is invalid.
    """
    solutions = _check_dir(solutions_dir, "solutions_dir", must_exist=True)
    exercises = _check_dir(exercises_dir, "exercises_dir", must_exist=False)
    sources = _solution_notebooks(solutions)
    statuses = [_status_of(source, exercises / source.name) for source in sources]
    names = {source.name for source in sources}
    if exercises.is_dir():
        for orphan in sorted(exercises.glob("*.ipynb")):
            if orphan.name not in names:
                statuses.append(
                    ExerciseStatus(
                        "orphan",
                        orphan,
                        None,
                        None,
                        f"no {_shown(solutions / orphan.name)} to match it",
                    )
                )
    return statuses


def check_drift(solutions_dir: Path | str, exercises_dir: Path | str) -> list[ExerciseStatus]:
    """Return the exercises that are not exactly what the generator would write (empty: no drift).

    Takes the same arguments and raises the same errors as :func:`plan_exercises`.
    """
    return [s for s in plan_exercises(solutions_dir, exercises_dir) if s.state != "up-to-date"]


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8 with ``\\n`` newlines, replacing ``path`` in one step."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(text.encode("utf-8"))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _backup(path: Path, now: datetime) -> Path:
    """Copy ``path`` to ``<name>.bak-<YYYYmmdd-HHMMSS>`` (``-2``, ``-3``... if taken)."""
    data = path.read_bytes()
    base = f"{path.name}.bak-{now:%Y%m%d-%H%M%S}"
    for attempt in range(1, 1000):
        candidate = path.with_name(base if attempt == 1 else f"{base}-{attempt}")
        try:
            with open(candidate, "xb") as handle:  # never overwrite an existing backup
                handle.write(data)
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"too many backups of {path} named {base}*")


def write_exercises(
    solutions_dir: Path | str,
    exercises_dir: Path | str,
    *,
    force: bool = False,
    now: datetime | None = None,
    log: Callable[[str], None] | None = print,
) -> list[WriteResult]:
    """Generate every exercise notebook, never destroying a learner's edits.

    Missing, stale and run (outputs only) exercises are (re)written; up-to-date ones are not
    touched. An edited exercise is refused unless ``force``, in which case it is first copied
    to ``<name>.ipynb.bak-<YYYYmmdd-HHMMSS>``. Orphans are reported, never deleted.

    Args:
        solutions_dir: the folder of solution notebooks.
        exercises_dir: the folder of exercise notebooks (created if missing).
        force: overwrite edited exercises after backing them up.
        now: the time used in backup names (default: the current local time).
        log: called with one line per notebook; ``None`` for silence.

    Raises:
        TypeError: for arguments of the wrong type.
        FileNotFoundError: if ``solutions_dir`` does not exist.
        ExerciseSourceError: (a ValueError) if a solution notebook is invalid; nothing is
            written in that case, since every solution is checked before any file is.
    """
    if not isinstance(force, bool):
        raise TypeError(f"force must be a bool, got {type(force).__name__}")
    if now is not None and not isinstance(now, datetime):
        raise TypeError(f"now must be a datetime or None, got {type(now).__name__}")
    if log is not None and not callable(log):
        raise TypeError(f"log must be callable or None, got {type(log).__name__}")
    statuses = plan_exercises(solutions_dir, exercises_dir)
    exercises = Path(exercises_dir)
    emit = log or (lambda _line: None)
    results: list[WriteResult] = []
    for status in statuses:
        backup: Path | None = None
        if status.state == "orphan":
            result = WriteResult("orphan", status, None, f"warning: {status.describe()}")
        elif status.state == "up-to-date":
            result = WriteResult("unchanged", status, None, f"unchanged: {_shown(status.exercise)}")
        elif status.state == "edited" and not force:
            result = WriteResult(
                "refused",
                status,
                None,
                f"refusing to overwrite {_shown(status.exercise)}: {status.detail}. It is left "
                "as it is. To regenerate it anyway (a .bak copy is made first), run "
                "`make exercises FORCE=1` or `metalearn-exercises --force`.",
            )
        else:
            assert status.rendered is not None
            exercises.mkdir(parents=True, exist_ok=True)
            message = f"wrote {_shown(status.exercise)} ({status.state}: {status.detail})"
            if status.state == "edited":
                backup = _backup(status.exercise, now or datetime.now())
                message = (
                    f"backed up {_shown(status.exercise)} to {_shown(backup)}; wrote it anew "
                    f"(--force: {status.detail})"
                )
            _write_atomically(status.exercise, status.rendered)
            result = WriteResult("written", status, backup, message)
        emit(result.message)
        results.append(result)
    return results


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def find_repo_root() -> Path:
    """Return the course repository root: the folder holding ``solutions/``.

    Looks first at the parent of the installed ``metalearn_lib`` package (an editable install
    in the repository), then at the current directory.

    Raises:
        FileNotFoundError: if neither holds a ``solutions/`` folder.
    """
    package_parent = Path(__file__).resolve().parents[2]
    for candidate in (package_parent, Path.cwd()):
        if (candidate / "solutions").is_dir():
            return candidate
    raise FileNotFoundError(
        f"cannot find the course repository: neither {package_parent} nor the current "
        "directory has a solutions/ folder; run from the repository root or pass --solutions"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="metalearn-exercises",
        description="Generate exercises/*.ipynb from solutions/*.ipynb (nbgrader-style "
        "'### BEGIN SOLUTION' / '### END SOLUTION' regions become stubs). Edited exercises "
        "are never overwritten without --force.",
    )
    parser.add_argument("--solutions", type=Path, help="solution notebooks (default: solutions/)")
    parser.add_argument("--exercises", type=Path, help="exercise notebooks (default: exercises/)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--force",
        action="store_true",
        help="overwrite exercises a learner edited, after copying each to "
        "<name>.ipynb.bak-<YYYYmmdd-HHMMSS>",
    )
    mode.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 listing every exercise that is missing, stale, edited or "
        "otherwise differs from what would be generated",
    )
    return parser


def _print_line(line: str) -> None:
    """Print a progress line; refusals and warnings go to stderr."""
    problem = line.startswith(("refusing", "warning"))
    print(line, file=sys.stderr if problem else sys.stdout)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``metalearn-exercises`` command; return its exit status (see the module doc)."""
    args = _parser().parse_args(argv)
    try:
        solutions: Path = args.solutions or find_repo_root() / "solutions"
        exercises: Path = args.exercises or solutions.parent / "exercises"
        if args.check:
            drift = check_drift(solutions, exercises)
            if not drift:
                print(f"{_shown(exercises)} matches {_shown(solutions)}")
                return 0
            for status in drift:
                print(status.describe())
            print(
                f"{len(drift)} exercise notebook(s) differ from what would be generated; "
                "run `make exercises` to regenerate them"
            )
            return 1
        results = write_exercises(solutions, exercises, force=args.force, log=_print_line)
    except (ValueError, OSError) as error:
        print(f"metalearn-exercises: error: {error}", file=sys.stderr)
        return 2
    refused = [r for r in results if r.action == "refused"]
    written = sum(r.action == "written" for r in results)
    print(
        f"{written} written, {sum(r.action == 'unchanged' for r in results)} unchanged, "
        f"{len(refused)} refused"
    )
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
