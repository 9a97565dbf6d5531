"""How long each notebook takes to run, for the browser test's time budgets.

The root ``conftest.py`` adds up nbval's time for every cell of a notebook (kernel start
included) and records it here. In one process, nbval runs before the browser test (``testpaths``
in pyproject.toml puts ``notebooks`` and ``solutions`` first), so the browser test's budgets come
from this very machine, this very run. When the browser test runs alone, or on a worker of a
parallel run (``make test``; the longest units, the browser tests among them, start first), the
run times come from the README's course map (measured on the 2-core CI machine), and the budget
says so.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
README = REPO_ROOT / "README.md"

#: The ``user_properties`` key under which a browser run reports a lecture's run time (kernel
#: seconds, all cells) to conftest.py, which holds it to the notebook budget like nbval's times.
RUN_SECONDS_PROPERTY = "notebook_run_s"

_measured: dict[str, float] = {}
_COURSE_MAP_ROW = re.compile(
    r"^\|\s*\[`(?P<path>notebooks/[^`]+\.ipynb)`\].*\|\s*~(?P<seconds>\d+(?:\.\d+)?) s\s*\|\s*$", re.MULTILINE
)


def record(notebook: str, seconds: float) -> None:
    """Add ``seconds`` to the measured run time of ``notebook`` (a path relative to the repository)."""
    _measured[notebook] = _measured.get(notebook, 0.0) + float(seconds)


def readme_run_times(text: str | None = None) -> dict[str, float]:
    """``{notebook path: seconds}`` from the README course map's run-time column (``~40 s``)."""
    text = README.read_text(encoding="utf-8") if text is None else text
    return {m["path"]: float(m["seconds"]) for m in _COURSE_MAP_ROW.finditer(text)}


def run_time(notebook: str) -> tuple[float, str]:
    """``(seconds, where the number comes from)`` for ``notebook``.

    Raises:
        LookupError: nbval has not run the notebook in this session and the README's course map
            gives it no run time.
    """
    if notebook in _measured:
        return _measured[notebook], "measured by nbval in this run"
    readme = readme_run_times()
    if notebook in readme:
        return readme[notebook], "the README's course map (nbval did not run it in this session)"
    raise LookupError(f"{notebook}: no run time — nbval did not run it in this session and the README's course map "
                      f"gives none (add its '~N s' to the course map)")
