"""Re-execute notebooks in a fresh kernel and save them with outputs, the same way every time.

The stored outputs of ``notebooks/`` and ``solutions/`` are the references that nbval compares
against, so they must be produced exactly as nbval will re-run them:

* nbclient with the *current environment's* ``python3`` kernel (``sys.executable -m
  ipykernel_launcher``, whatever kernelspecs are installed), started with
  ``--IPKernelApp.capture_fd_output=False`` so that TensorFlow's early C++ log lines are not
  captured as stderr (under pytest they are not, and nbval would report missing stderr);
* the notebook's own folder as working directory;
* ``PYTHONHASHSEED=0`` in the kernel's environment (TensorFlow's C++ log lines are kept quiet by the
  library itself, :mod:`metalearn_lib.quiet_tf`);
* no widget state stored (``metadata.widgets`` removed) and no per-cell timing metadata, so
  re-executing changes only what the code prints;
* ``metadata.kernelspec`` normalised to ``python3`` / ``Python 3 (ipykernel)``;
* a per-cell timeout and an overall wall-clock guard (nbclient has been seen to hang on widget
  cells).

Notebooks under ``exercises/`` are refused: they ship without outputs. When a cell fails the
notebook is not saved, the failing cell is reported and the exit status is non-zero.

Command line (``make execute NB=...``, ``make execute-all``)::

    metalearn-execute NOTEBOOK.ipynb [NOTEBOOK.ipynb ...] [--timeout S] [--wall-timeout S]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

__all__ = [
    "DEFAULT_CELL_TIMEOUT",
    "DEFAULT_WALL_TIMEOUT",
    "KERNEL_ENV",
    "KERNELSPEC",
    "ExecutionResult",
    "NotebookExecutionError",
    "execute_notebook",
    "kernel_environment",
    "main",
    "normalise_metadata",
]

#: Seconds one cell may run before execution is abandoned.
DEFAULT_CELL_TIMEOUT = 600
#: Seconds a whole notebook may run (kernel start included) before execution is abandoned.
DEFAULT_WALL_TIMEOUT = 1800
#: Environment variables set for the kernel, on top of the current environment.
KERNEL_ENV: dict[str, str] = {"PYTHONHASHSEED": "0"}
#: The kernelspec every executed notebook records.
KERNELSPEC: dict[str, str] = {
    "display_name": "Python 3 (ipykernel)",
    "language": "python",
    "name": "python3",
}
_KERNEL_ARGUMENTS = ["--IPKernelApp.capture_fd_output=False"]


class NotebookExecutionError(RuntimeError):
    """A notebook could not be executed: a cell raised, timed out, or the kernel died."""

    def __init__(self, message: str, *, cell_index: int | None = None) -> None:
        """Store the message and the 0-based index of the failing cell (``None`` if unknown)."""
        super().__init__(message)
        self.cell_index = cell_index


@dataclass(frozen=True)
class ExecutionResult:
    """The outcome of :func:`execute_notebook`: the executed notebook, where it was saved
    (``None`` when ``save=False``) and how long execution took in seconds."""

    notebook: NotebookNode
    path: Path | None
    duration_s: float


def kernel_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the kernel's environment: ``base`` (default: ``os.environ``) plus :data:`KERNEL_ENV`.

    Raises:
        TypeError: if ``base`` is not a mapping of str to str.
    """
    if base is None:
        base = os.environ
    if not isinstance(base, Mapping):
        raise TypeError(f"base must be a mapping or None, got {type(base).__name__}")
    env = dict(base)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise TypeError("base must map str to str")
    env.update(KERNEL_ENV)
    return env


def normalise_metadata(nb: NotebookNode) -> NotebookNode:
    """Normalise a notebook's metadata in place and return it.

    Sets ``metadata.kernelspec`` to :data:`KERNELSPEC`, removes ``metadata.widgets`` and the
    per-cell ``execution`` timing metadata.

    Raises:
        TypeError: if ``nb`` is not a notebook.
    """
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise TypeError(f"nb must be an nbformat NotebookNode, got {type(nb).__name__}")
    nb.setdefault("metadata", nbformat.NotebookNode())
    nb["metadata"]["kernelspec"] = nbformat.from_dict(dict(KERNELSPEC))
    nb["metadata"].pop("widgets", None)
    for cell in nb["cells"]:
        cell.get("metadata", {}).pop("execution", None)
    return nb


def _under_exercises(path: Path) -> bool:
    """True if ``path`` lies in a folder named ``exercises`` (judged inside the repository
    when the path is in it, so a checkout that happens to live under such a folder still works)."""
    resolved = path.resolve()
    repo = Path(__file__).resolve().parents[2]
    try:
        parts = resolved.relative_to(repo).parts[:-1]
    except ValueError:
        parts = resolved.parts[:-1]
    return "exercises" in parts


def _check_positive(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}")
    if not value > 0:
        raise ValueError(f"{name} must be > 0 seconds, got {value!r}")
    return float(value)


def _describe(nb: NotebookNode, index: int | None) -> str:
    if index is None or not 0 <= index < len(nb.cells):
        return "an unknown cell"
    cell = nb.cells[index]
    first = next((line for line in cell.source.splitlines() if line.strip()), "")
    cell_id = f", id {cell['id']!r}" if cell.get("id") else ""
    return f"cell #{index + 1}{cell_id} ({first.strip()[:60]!r})"


def execute_notebook(
    path: Path | str,
    *,
    cell_timeout: float = DEFAULT_CELL_TIMEOUT,
    wall_timeout: float = DEFAULT_WALL_TIMEOUT,
    save: bool = True,
) -> ExecutionResult:
    """Execute a notebook top to bottom in a fresh current-environment kernel and save it.

    See the module docstring for the exact conditions. The file is written (nbformat, one
    trailing newline) only when every cell succeeded.

    Args:
        path: the ``.ipynb`` file; refused if it lies under an ``exercises/`` folder.
        cell_timeout: seconds one cell may run.
        wall_timeout: seconds the whole notebook may run, kernel start included.
        save: write the executed notebook back to ``path``.

    Returns:
        An :class:`ExecutionResult`.

    Raises:
        TypeError: for arguments of the wrong type.
        ValueError: if ``path`` is not an ``.ipynb`` file or lies under ``exercises/``, or a
            timeout is not positive.
        FileNotFoundError: if ``path`` does not exist.
        NotebookExecutionError: if a cell raised or timed out, the kernel died, or the
            wall-clock guard fired (the message names the cell); nothing is saved.
    """
    if not isinstance(path, str | Path):
        raise TypeError(f"path must be a str or Path, got {type(path).__name__}")
    path = Path(path)
    cell_timeout = _check_positive(cell_timeout, "cell_timeout")
    wall_timeout = _check_positive(wall_timeout, "wall_timeout")
    if not isinstance(save, bool):
        raise TypeError(f"save must be a bool, got {type(save).__name__}")
    if path.suffix != ".ipynb":
        raise ValueError(f"path must be a .ipynb notebook, got {path}")
    if _under_exercises(path):
        raise ValueError(
            f"path {path} is under exercises/: exercise notebooks ship without outputs and are "
            "generated by `make exercises`; execute the solutions/ notebook instead"
        )
    if not path.is_file():
        raise FileNotFoundError(f"path: no notebook at {path}")

    nb = nbformat.read(path, as_version=4)
    normalise_metadata(nb)
    start = time.monotonic()
    asyncio.run(_run(nb, path.resolve().parent, cell_timeout, wall_timeout))
    duration = time.monotonic() - start
    normalise_metadata(nb)
    if save:
        text = nbformat.writes(nb, version=4)
        path.write_bytes((text if text.endswith("\n") else text + "\n").encode("utf-8"))
    return ExecutionResult(nb, path if save else None, duration)


async def _run(nb: NotebookNode, cwd: Path, cell_timeout: float, wall_timeout: float) -> None:
    """Execute ``nb`` in place; raise :class:`NotebookExecutionError` on any failure."""
    import ipykernel.kernelspec
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    class CurrentEnvKernelSpecManager(KernelSpecManager):  # type: ignore[misc]
        """Resolve ``python3`` to this interpreter's ipykernel, whatever is installed."""

        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            """Return the current environment's kernelspec for ``python3``."""
            if kernel_name == KERNELSPEC["name"]:
                return KernelSpec(
                    resource_dir=ipykernel.kernelspec.RESOURCES,
                    **ipykernel.kernelspec.get_kernel_dict(),
                )
            return super().get_kernel_spec(kernel_name)

    km = AsyncKernelManager(
        kernel_name=KERNELSPEC["name"], kernel_spec_manager=CurrentEnvKernelSpecManager()
    )
    current: dict[str, int | None] = {"index": None}

    def on_cell_start(cell: NotebookNode, cell_index: int) -> None:
        current["index"] = cell_index

    client = NotebookClient(
        nb,
        km=km,
        kernel_name=KERNELSPEC["name"],
        timeout=int(cell_timeout),
        startup_timeout=120,
        allow_errors=False,
        extra_arguments=list(_KERNEL_ARGUMENTS),
        store_widget_state=False,
        record_timing=False,
        shutdown_kernel="immediate",
        resources={"metadata": {"path": str(cwd)}},
        on_cell_start=on_cell_start,
    )
    run: Any = client.async_execute(cleanup_kc=True, cwd=str(cwd), env=kernel_environment())
    task = asyncio.ensure_future(run)
    try:
        done, _ = await asyncio.wait({task}, timeout=wall_timeout)
        if not done:  # the wall-clock guard: stop nbclient, whatever it is waiting for
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            where = (
                "before any cell started"
                if current["index"] is None
                else f"stopped in {_describe(nb, current['index'])}"
            )
            raise NotebookExecutionError(
                f"the notebook ran longer than the {wall_timeout:g} s wall-clock limit ({where})",
                cell_index=current["index"],
            )
        task.result()
    except CellExecutionError as error:
        raise NotebookExecutionError(
            f"{_describe(nb, current['index'])} raised {error.ename}:\n{error}",
            cell_index=current["index"],
        ) from None
    except CellTimeoutError:
        raise NotebookExecutionError(
            f"{_describe(nb, current['index'])} ran longer than the {cell_timeout:g} s cell "
            "timeout",
            cell_index=current["index"],
        ) from None
    except DeadKernelError as error:
        raise NotebookExecutionError(
            f"the kernel died during {_describe(nb, current['index'])}: {error}",
            cell_index=current["index"],
        ) from None
    finally:
        if km.has_kernel:  # the guard cancelled nbclient before its own cleanup finished
            try:
                await km.shutdown_kernel(now=True)
            except Exception as error:  # never mask the error being reported
                print(f"warning: could not shut the kernel down: {error}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="metalearn-execute",
        description="Re-execute notebooks in a fresh current-environment kernel and save them "
        "with outputs (the reference outputs nbval compares against). Notebooks under "
        "exercises/ are refused.",
    )
    parser.add_argument("notebooks", nargs="+", type=Path, metavar="NOTEBOOK.ipynb")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_CELL_TIMEOUT,
        help=f"seconds one cell may run (default {DEFAULT_CELL_TIMEOUT})",
    )
    parser.add_argument(
        "--wall-timeout",
        type=float,
        default=DEFAULT_WALL_TIMEOUT,
        help=f"seconds one notebook may run in all (default {DEFAULT_WALL_TIMEOUT})",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``metalearn-execute``: execute each notebook in turn, printing its duration.

    Returns 0 when every notebook was executed and saved, 1 when any failed (the others are
    still executed), 2 for invalid arguments.
    """
    args = _parser().parse_args(argv)
    failed: list[Path] = []
    for path in args.notebooks:
        try:
            result = execute_notebook(
                path, cell_timeout=args.timeout, wall_timeout=args.wall_timeout
            )
        except NotebookExecutionError as error:
            print(f"FAILED {path}: {error}\n{path} was not saved.", file=sys.stderr)
            failed.append(path)
            continue
        except (ValueError, TypeError, OSError) as error:
            print(f"metalearn-execute: error: {error}", file=sys.stderr)
            return 2
        print(f"executed {path} in {result.duration_s:.1f} s", flush=True)
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(map(str, failed))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
