"""nbval's output comparison, applied to a notebook run somewhere else (JupyterLab, Voilà).

``make test`` runs every lecture in the two places a learner runs it: JupyterLab (Run All) and
Voilà (:mod:`tests.test_browser`). Each of those runs is also checked the way nbval checks a
run: every code cell's outputs must equal the committed ones under **nbval's own rules** —
nbval's :func:`~nbval.plugin.coalesce_streams` on both sides, its
:meth:`~nbval.plugin.IPyNbCell.compare_outputs` (the same skipped keys: metadata, execution
counts, tracebacks, widget model ids and images, as ``--nbval`` without nbdime skips them) and
the same sanitizers (``tests/sanitize.cfg``). So the two browser runs are the lectures' "nbval
passes twice in a row", and the lectures are not run a third and fourth time by nbval itself
(``--lectures-in-browser``, see conftest.py).

Only what nbval supports for this course is supported: a notebook with ``NBVAL_*`` markers
(none has one) is refused rather than compared differently.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nbformat
from nbval.plugin import IPyNbCell, coalesce_streams, get_sanitize_patterns, nocolors

REPO_ROOT = Path(__file__).resolve().parents[1]
SANITIZE_CFG = REPO_ROOT / "tests" / "sanitize.cfg"

#: nbval's keys left out of a comparison (``IPyNbFile.skip_compare``), images included as
#: without ``--nbdime``; ``test_output_comparison`` checks this against nbval's own list.
SKIP_COMPARE: tuple[str, ...] = (
    "metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
    "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg",
)  # fmt: skip
MAX_REPORT_LINES = 40


class _Comparer:
    """Just enough of an nbval cell item to run nbval's comparison methods unchanged."""

    colors = nocolors
    compare_outputs = IPyNbCell.compare_outputs
    format_output_compare = IPyNbCell.format_output_compare
    sanitize = IPyNbCell.sanitize

    def __init__(self, sanitize_patterns: OrderedDict) -> None:
        self.parent = SimpleNamespace(skip_compare=SKIP_COMPARE, sanitize_patterns=sanitize_patterns)
        self.config = None
        self.ihook = SimpleNamespace(pytest_assertrepr_compare=lambda **_: [])  # nbval's plain fallback
        self.comparison_traceback: list[str] = []


def sanitize_patterns(path: Path = SANITIZE_CFG) -> OrderedDict:
    """The regex → replacement pairs of an nbval sanitize file, in order."""
    return OrderedDict(get_sanitize_patterns(path.read_text(encoding="utf-8")))


def _as_outputs(outputs: list[dict[str, Any]]) -> list[nbformat.NotebookNode]:
    """Outputs as nbformat reads them from a file (multi-line strings joined)."""
    cell = {"id": "run", "cell_type": "code", "source": "", "metadata": {}, "execution_count": 1, "outputs": outputs}
    notebook = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return nbformat.reads(json.dumps(notebook), as_version=4).cells[0].outputs


def code_cells(notebook: Path) -> list[nbformat.NotebookNode]:
    """The code cells of a committed notebook, refusing nbval markers this comparison does not honour."""
    cells = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    for index, cell in enumerate(cells):
        tags = [t for t in cell.metadata.get("tags", []) if t.startswith("nbval-")]
        if tags or "NBVAL_" in cell.source:
            raise ValueError(f"{notebook.name}, code cell {index}: nbval markers ({tags or 'a # NBVAL_ comment'}) "
                             f"are not supported by the browser runs' comparison")
    return cells


def output_mismatches(notebook: Path, executed: list[list[dict[str, Any]]], *,
                      patterns: OrderedDict | None = None) -> list[str]:
    """One message per code cell whose executed outputs differ from the committed ones (nbval's rules).

    Args:
        notebook: the committed notebook.
        executed: the outputs of every code cell of a fresh run, in order (nbformat dicts).
        patterns: sanitizers (default: ``tests/sanitize.cfg``).

    Returns:
        ``[]`` when every cell matches; otherwise messages naming the cell as nbval does
        (``Cell N``, counting code cells from 0) with nbval's description of the difference.
    """
    cells = code_cells(notebook)
    patterns = sanitize_patterns() if patterns is None else patterns
    if len(executed) != len(cells):
        return [f"{notebook.name}: the run has {len(executed)} code cells, the committed notebook {len(cells)}"]
    problems = []
    for index, (cell, outputs) in enumerate(zip(cells, executed, strict=True)):
        if cell.execution_count is None:
            continue  # nbval does not check a cell that was not run in the reference
        comparer = _Comparer(patterns)
        test = coalesce_streams(_as_outputs(outputs))
        ref = coalesce_streams(_as_outputs(json.loads(json.dumps(cell.outputs))))
        if not comparer.compare_outputs(test, ref):
            lines = "\n".join(comparer.comparison_traceback).splitlines()
            if len(lines) > MAX_REPORT_LINES:
                lines = [*lines[:MAX_REPORT_LINES], f"… ({len(lines) - MAX_REPORT_LINES} more lines)"]
            problems.append(f"{notebook.name}::Cell {index}: outputs differ from the committed ones\n"
                            + "\n".join(lines))
    return problems
