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
* the "Open in Colab" / "Launch Binder" badges and the Colab set-up cell are copied unchanged:
  a solution notebook's already open its exercise (``make badges``,
  :mod:`~metalearn_lib.authoring.launch`), and a solution whose launch links open anything else
  (its own answers, say) is refused.

A learner's work is never destroyed: an existing exercise whose cells no longer match that record
is left alone unless ``--force`` is given, and then it is first copied to
``<name>.ipynb.bak-<YYYYmmdd-HHMMSS>``. Running cells (outputs only) does not count as an edit.

Command line (``make exercises [FORCE=1]``)::

    metalearn-exercises [--solutions DIR] [--exercises DIR] [--force] [--check]

Exit status: 0 when everything is written or already up to date; 1 when an edited exercise was
refused or (with ``--check``) when anything is missing, stale or differs; 2 when a solution
notebook is invalid or a directory is missing.

The work is split by job: :mod:`~metalearn_lib.authoring.exercise_notebook` turns one solution
notebook into its exercise (markers, stubs, nbgrader checks, provenance, reading and writing);
:mod:`~metalearn_lib.authoring.exercise_folders` compares and writes the folders (drift, the
protection of edited exercises, backups). This module is the command, and re-exports both's
public names.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from metalearn_lib.authoring.exercise_folders import (
    ExerciseStatus,
    WriteResult,
    check_drift,
    plan_exercises,
    write_exercises,
)
from metalearn_lib.authoring.exercise_folders import State as State  # importable here as before, not in __all__
from metalearn_lib.authoring.exercise_notebook import (
    BEGIN_MARKER,
    CODE_STUBS,
    END_MARKER,
    METADATA_KEY,
    TEXT_STUB,
    ExerciseSourceError,
    _shown,
    cells_sha256,
    clear_solution_regions,
    dumps_notebook,
    generate_exercise,
    read_notebook,
    render_exercise,
)

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
