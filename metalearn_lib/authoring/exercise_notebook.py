"""One solution notebook to its exercise notebook: the job behind ``metalearn-exercises``.

Holds the solution-region markers and stubs, the parsing and clearing of
``### BEGIN SOLUTION`` / ``### END SOLUTION`` regions (:func:`clear_solution_regions`), the
checks of a solution notebook's nbgrader metadata, the provenance record
(:data:`METADATA_KEY`, :func:`cells_sha256`), and deterministic reading and writing of notebooks
(:func:`read_notebook`, :func:`dumps_notebook`, :func:`generate_exercise`,
:func:`render_exercise`). Nothing here touches the ``exercises/`` folder; see
:mod:`metalearn_lib.authoring.exercise_folders` for that and
:mod:`metalearn_lib.authoring.exercises` for the command.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import warnings
from pathlib import Path, PurePosixPath
from typing import Any

import nbformat
from nbformat import NotebookNode

from metalearn_lib.authoring.launch import launch_links

__all__ = [
    "BEGIN_MARKER",
    "CODE_STUBS",
    "END_MARKER",
    "METADATA_KEY",
    "TEXT_STUB",
    "ExerciseSourceError",
    "cells_sha256",
    "clear_solution_regions",
    "dumps_notebook",
    "generate_exercise",
    "read_notebook",
    "render_exercise",
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


class ExerciseSourceError(ValueError):
    """A solution notebook cannot be turned into an exercise (bad markers or metadata)."""


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


def _check_launch_links(nb: NotebookNode, where: str, generated_from: str | None) -> None:
    """Refuse a Colab or Binder link that opens anything but this exercise.

    The exercise, copied cell for cell, is what learners open (and what ``nbgrader
    generate_assignment`` releases): a solution notebook's badges open its exercise
    (:func:`metalearn_lib.authoring.launch.launch_path`), so that no route hands learners a link
    to the answers.
    """
    name = PurePosixPath(generated_from).name if generated_from is not None else None
    expected = f"exercises/{name}" if name else "exercises/<its exercise>"
    for index, cell in enumerate(nb.cells):
        for url, opened in launch_links(_joined(cell.get("source", ""))):
            folder, _, opened_name = opened.partition("/")
            if folder != "exercises" or (name is not None and opened_name != name):
                raise ExerciseSourceError(
                    f"{_describe_cell(where, index, cell)}: the launch link {url} opens {opened!r}, but "
                    f"learners open the exercise, so it must open {expected!r}; run `make badges`"
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
    _check_launch_links(nb, where, generated_from)

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
