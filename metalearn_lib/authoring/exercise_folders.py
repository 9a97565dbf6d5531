"""The exercises/ folder against the solutions/ folder: plan, check for drift, write safely.

Holds the per-notebook verdict (:class:`ExerciseStatus`, with its ``State``), the comparison of
every solution with its exercise (:func:`plan_exercises`, :func:`check_drift`) and the writer
(:func:`write_exercises`, :class:`WriteResult`) that never destroys a learner's edits: an
edited exercise is refused, or with ``force`` backed up first, and files are replaced
atomically. Each notebook itself is rendered by :mod:`metalearn_lib.authoring.exercise_notebook`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import nbformat
from nbformat import NotebookNode

from metalearn_lib.authoring.exercise_notebook import (
    METADATA_KEY,
    _shown,
    cells_sha256,
    read_notebook,
    render_exercise,
)

__all__ = [
    "ExerciseStatus",
    "WriteResult",
    "check_drift",
    "plan_exercises",
    "write_exercises",
]

State = Literal["up-to-date", "missing", "stale", "differs", "edited", "orphan"]


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
