"""Which versions of today's RL tools install next to the course (chapter 9's tool list).

The source article recommends OpenAI Baselines, which is archived. Chapter 9 names what an RL
learner uses now — Gymnasium, Stable-Baselines3, CleanRL — with the versions this script found:
for each package, pip resolves it against this Python with ``pip install --dry-run --report``
(nothing is installed; Stable-Baselines3 and CleanRL bring PyTorch, about 3 GB with its CUDA
libraries, which the course does not need). A package the course already depends on (Gymnasium)
is also imported. The result goes to ``benchmarks/results/tools_checked.json``; no notebook runs
this script (it needs the package index), the lecture reads the file.

    python benchmarks/tools_check.py [--json benchmarks/results/tools_checked.json]
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import platform
import re
import subprocess
import sys
from pathlib import Path

#: package → (what it is, the packages of its resolution worth naming, the module to import if installed).
TOOLS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "gymnasium": ("the maintained successor of OpenAI Gym: the environment API", (), "gymnasium"),
    "stable-baselines3": ("reliable PyTorch implementations of PPO, A2C, SAC, DQN, …", ("torch", "gymnasium"),
                          "stable_baselines3"),
    "cleanrl": ("single-file reference implementations, one algorithm a file", ("torch", "gymnasium", "gym"),
                "cleanrl"),
}


def _resolve(package: str) -> dict[str, str]:
    """The versions pip would install for ``package`` (name → version), from its JSON report."""
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                             "--report", "-", package], capture_output=True, text=True, check=True)
    report = json.loads(result.stdout)
    return {_normalise(item["metadata"]["name"]): item["metadata"]["version"] for item in report["install"]}


def _normalise(name: str) -> str:
    """A package name as PyPI compares names (PEP 503): lower case, runs of -_. as one hyphen."""
    return re.sub(r"[-_.]+", "-", name).lower()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default=str(Path(__file__).parent / "results" / "tools_checked.json"))
    args = parser.parse_args(argv)
    rows = []
    for package, (what, companions, module) in TOOLS.items():
        resolved = _resolve(package)
        try:
            installed = importlib.metadata.version(package)
            __import__(module)
        except (importlib.metadata.PackageNotFoundError, ImportError):
            installed = None
        rows.append({"package": package, "what": what, "version": resolved[_normalise(package)],
                     "installed_and_imported": installed,
                     "with": {name: resolved[name] for name in companions if name in resolved},
                     "num_packages": len(resolved)})
        print(f"{package}: pip resolves {resolved[_normalise(package)]} ({len(resolved)} packages)"
              + (f"; installed and imported: {installed}" if installed else ""))
    data = {"benchmark": "tools_check", "command": "python benchmarks/tools_check.py",
            "date": datetime.date.today().isoformat(), "python": platform.python_version(),
            "machine": platform.machine(), "method": "pip install --dry-run --report (nothing installed)",
            "rows": rows}
    Path(args.json).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
