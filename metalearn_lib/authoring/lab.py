"""Open the course in JupyterLab as a learner (``make lab``) or as a teacher (``make teach``).

The two differ only in Jupyter configuration, kept in this package's ``jupyter_config/`` folder
and put first on ``JUPYTER_CONFIG_PATH`` (so nothing in the user's own Jupyter set-up is
written or changed, and the user's own ``~/.jupyter`` settings still win):

* ``common/`` — for both: no news announcements (JupyterLab's "get notified about official
  Jupyter news?" pop-up) and no update checks (``LabApp.news_url = None``,
  ``LabApp.check_for_updates_class = NeverCheckForUpdate``).
* ``learner/`` — nbgrader's JupyterLab extension (its "Nbgrader" menu, "Create Assignment"
  sidebar and "Validate" button) and its server extensions off: a learner's Lab shows the course,
  not the grading tools.

A teacher gets nbgrader back with ``make teach`` (``metalearn-lab --teacher``).

Command line::

    metalearn-lab [--teacher] [JUPYTER-LAB-ARGUMENTS ...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["CONFIG_ROOT", "ROLES", "config_path", "lab_environment", "main"]

#: The folder holding the configurations.
CONFIG_ROOT = Path(__file__).resolve().parent / "jupyter_config"
#: Each role's configuration folders, highest priority first.
ROLES: dict[str, tuple[str, ...]] = {"learner": ("learner", "common"), "teacher": ("common",)}


def config_path(role: str = "learner") -> list[Path]:
    """The configuration folders of ``role`` (``"learner"`` or ``"teacher"``), highest priority first.

    Raises:
        ValueError: an unknown role.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {list(ROLES)}, got {role!r}")
    return [CONFIG_ROOT / name for name in ROLES[role]]


def lab_environment(role: str = "learner", base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default ``os.environ``) with ``role``'s folders put first on ``JUPYTER_CONFIG_PATH``.

    Raises:
        ValueError: an unknown role.
    """
    env = dict(os.environ if base is None else base)
    folders = [str(path) for path in config_path(role)]
    existing = env.get("JUPYTER_CONFIG_PATH")
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join([*folders, *([existing] if existing else [])])
    return env


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``jupyter lab`` from this Python with the learner's (or, with ``--teacher``, the
    teacher's) configuration; the other arguments go to ``jupyter lab``."""
    parser = argparse.ArgumentParser(prog="metalearn-lab", description=__doc__.split("\n\n")[0])
    parser.add_argument("--teacher", action="store_true", help="keep nbgrader's teacher tools on")
    options, lab_arguments = parser.parse_known_args(argv)
    role = "teacher" if options.teacher else "learner"
    command = [sys.executable, "-m", "jupyter", "lab", *lab_arguments]
    try:
        return subprocess.call(command, env=lab_environment(role))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
