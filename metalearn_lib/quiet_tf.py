"""TensorFlow without its C++ start-up lines: the course's one quiet TensorFlow import.

``import tensorflow`` writes log lines from C++ straight to the process's standard error (file
descriptor 2): absl's "All log messages before absl::InitializeLog() is called are written to
STDERR", oneDNN's "custom operations are on" (twice), the CPU-instruction notice. JupyterLab's
kernel forwards that descriptor into the notebook, where a newcomer sees a pink "stderr" box
after the first cell and reads it as an error. ``TF_CPP_MIN_LOG_LEVEL`` does not hide the
lines written before TensorFlow has read it.

:func:`install` (run by ``import metalearn_lib``) does two things, and nothing else:

* sets ``TF_CPP_MIN_LOG_LEVEL=3`` unless the user set it: TensorFlow's C++ INFO, WARNING and
  ERROR log lines stay out of notebooks (a real error still reaches Python as an exception);
* the first time TensorFlow is imported — by a notebook (``from metalearn_lib import tf``), by a
  library module, or by anyone after ``import metalearn_lib`` — its module runs with file
  descriptor 2 pointed at a temporary file. If the import succeeds the captured lines are kept
  for :func:`startup_log`; if it fails they are written to ``sys.stderr`` and the exception is
  raised unchanged, so a broken install still shows its error.

Python's own warnings and tracebacks never pass through this (they go through ``sys.stderr``,
which the kernel shows). Results are unaffected: no TensorFlow option is changed.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import sys
import tempfile
from collections.abc import Iterator
from types import ModuleType

__all__ = ["LOG_LEVEL", "import_tensorflow", "install", "startup_log"]

#: The ``TF_CPP_MIN_LOG_LEVEL`` set when the user has not chosen one (3: FATAL only).
LOG_LEVEL = "3"

_captured: list[str] = []


@contextlib.contextmanager
def _stderr_descriptor_captured() -> Iterator[list[str]]:
    """Point file descriptor 2 at a temporary file for the block; yield a list that receives its text.

    Where descriptor 2 cannot be redirected (no such descriptor, as under ``pythonw``), the block
    runs unchanged.
    """
    lines: list[str] = []
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):
        yield lines
        return
    with tempfile.TemporaryFile(mode="w+b") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            log.seek(0)
            lines.append(log.read().decode("utf-8", errors="replace"))


class _QuietLoader(importlib.abc.Loader):
    """Runs the real loader of ``tensorflow`` with descriptor 2 captured."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        # From here on the module and its spec name the real loader (introspection, reloads).
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        _uninstall_finder()
        failed = True
        try:
            with _stderr_descriptor_captured() as text:
                self.loader.exec_module(module)
            failed = False
        finally:
            _captured.extend(text)
            if failed and "".join(text).strip():
                sys.stderr.write("".join(text))
                sys.stderr.flush()


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` as the path finder does, and hands it a :class:`_QuietLoader`."""

    def find_spec(self, fullname: str, path: object = None, target: ModuleType | None = None):
        if fullname != "tensorflow":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _QuietLoader(spec.loader)
        return spec


_FINDER = _QuietTensorFlowFinder()


def _uninstall_finder() -> None:
    with contextlib.suppress(ValueError):
        sys.meta_path.remove(_FINDER)


def install() -> None:
    """Make the next import of TensorFlow quiet (see the module's docstring). Idempotent."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", LOG_LEVEL)
    if "tensorflow" not in sys.modules and _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def import_tensorflow() -> ModuleType:
    """``import tensorflow``, quietly: the real TensorFlow module (``tf``)."""
    install()
    import tensorflow

    return tensorflow


def startup_log() -> str:
    """What TensorFlow wrote to file descriptor 2 while it was imported quietly ("" if nothing)."""
    return "".join(_captured)
