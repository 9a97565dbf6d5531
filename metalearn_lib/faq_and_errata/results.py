"""Reading the committed benchmark results (``benchmarks/results/*.json``) and quoting them.

Chapter 9 states no number of its own: every figure it quotes is read here from a results file,
and each read is recorded as a :class:`Quote` (the file, the path inside it, the value) so that a
test can re-read the same path and fail when a quoted number and its source disagree. Chapter 8's
course map reads its lines through the same helpers.

A path inside a results file is a tuple of steps: a string indexes a dict, an int a list, and a
dict selects *the one* row of a list of rows whose keys equal it (floats compared with a tolerance).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "NotMeasured",
    "Quote",
    "format_number",
    "format_pm",
    "load_result",
    "resolve",
    "result_row",
    "results_folder",
]


class NotMeasured(Exception):
    """A result cannot be read (its file is missing, or it has no such row): the message says which."""


@dataclass(frozen=True)
class Quote:
    """One number quoted from a results file.

    Attributes:
        file: the file's name inside ``benchmarks/results``.
        path: the steps from the file's top to the number (see the module docstring).
        value: the number found there.
    """

    file: str
    path: tuple[Any, ...]
    value: float


def results_folder(results_dir: str | os.PathLike[str]) -> Path:
    """``results_dir`` as a :class:`~pathlib.Path`, checked to be a folder.

    Raises:
        TypeError: ``results_dir`` is not a path.
        FileNotFoundError: it is not a folder.
    """
    if not isinstance(results_dir, (str, os.PathLike)):
        raise TypeError(f"results_dir must be a path to benchmarks/results, got {type(results_dir).__name__}")
    directory = Path(results_dir)
    if not directory.is_dir():
        raise FileNotFoundError(f"results_dir must be the folder of the benchmark results (benchmarks/results), "
                                f"but {str(directory)!r} is not a folder (from {Path.cwd()})")
    return directory


def load_result(directory: Path, name: str) -> dict[str, Any]:
    """The JSON of ``directory / name``; :class:`NotMeasured` if the file is missing.

    Raises:
        NotMeasured: the file is missing.
        ValueError: the file is not valid JSON.
    """
    path = directory / name
    if not path.is_file():
        raise NotMeasured(f"not measured ({name} missing)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from error


def _same(value: Any, wanted: Any) -> bool:
    numbers = isinstance(wanted, float) and isinstance(value, (int, float))
    return math.isclose(value, wanted, abs_tol=1e-9) if numbers else value == wanted


def result_row(rows: Sequence[Mapping[str, Any]], name: str, **match: Any) -> Mapping[str, Any]:
    """The one row of ``rows`` whose keys equal ``match`` (floats compared with a tolerance).

    Raises:
        NotMeasured: no row matches.
        ValueError: more than one row matches.
    """
    found = [r for r in rows if all(_same(r.get(k), v) for k, v in match.items())]
    described = ", ".join(f"{k} = {v}" for k, v in match.items())
    if not found:
        raise NotMeasured(f"not measured yet ({name} has no row with {described})")
    if len(found) > 1:
        raise ValueError(f"{name} has {len(found)} rows with {described}: exactly one is needed")
    return found[0]


def resolve(data: Any, path: Sequence[Any], name: str = "the results") -> Any:
    """Follow ``path`` (strings, ints and row selectors) from ``data``; see the module docstring.

    Raises:
        NotMeasured: a key, an index or a row is missing.
        ValueError: a row selector matches more than one row.
    """
    value = data
    for step in path:
        if isinstance(step, Mapping):
            if not isinstance(value, list):
                raise NotMeasured(f"not measured yet ({name}: rows expected before {dict(step)})")
            value = result_row(value, name, **step)
        elif isinstance(step, int) and isinstance(value, list):
            if not -len(value) <= step < len(value):
                raise NotMeasured(f"not measured yet ({name} has no item {step})")
            value = value[step]
        elif isinstance(value, Mapping) and step in value:
            value = value[step]
        else:
            raise NotMeasured(f"not measured yet ({name} has no {step!r} where it is read)")
    return value


def _decimals(value: float) -> int:
    """Decimals that show ``value`` with at least two significant digits (and at least two decimals)."""
    magnitude = abs(value)
    return 2 if magnitude == 0 or magnitude >= 0.1 else 1 - math.floor(math.log10(magnitude))


def format_number(value: Any, decimals: int | None = None) -> str:
    """A number as the course prints it (a true minus sign; ``not finite`` for a diverged None/NaN)."""
    if value is None or not math.isfinite(value):
        return "not finite"
    return f"{value:.{_decimals(value) if decimals is None else decimals}f}".replace("-", "−")


def format_pm(row: Mapping[str, Any], key: str = "mse", ci: str = "ci95") -> str:
    """``mean ± ci95`` of a row, the interval printed with the mean's decimals."""
    text = format_number(row[key])
    return text if text == "not finite" else f"{text} ± {format_number(row[ci], _decimals(row[key]))}"
