"""One build of the course website per test session, shared by tests/test_book.py and
tests/test_book_browser.py.

The site is built **fresh into a temporary folder**, not taken from ``_build/book``: a reused
build could be stale (any notebook, docstring or the README may have changed since), and Sphinx's
incremental builds do not repeat the warnings of pages they do not re-read, so only a full build
can prove "zero warnings". Where this machine can make a network namespace (``unshare -rn``) the
build runs inside one, proving it needs no network. Nothing is written into the repository.
"""

from __future__ import annotations

import importlib.util
import os
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from metalearn_lib.authoring import book
from tests.browser_support import in_ci

REPO_ROOT = Path(__file__).resolve().parent.parent
#: The packages of requirements-docs.txt the build imports (module names).
DOCS_MODULES = ("sphinx", "myst_nb", "sphinx_book_theme", "sphinx-mathjax-offline")
INSTALL_HINT = "run `make book` once (it installs requirements-docs.txt into .venv)"
#: Folders of the repository a build may leave things in (or that hold no course file).
NOT_WALKED = {".git", ".venv", "_build", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", "artifacts"}


def require_docs_tools() -> None:
    """Skip (locally) or fail (in CI) when the website's packages are not installed."""
    missing = [name for name in DOCS_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        message = f"the website's packages are not installed ({', '.join(missing)}): {INSTALL_HINT}"
        if in_ci():
            pytest.fail(f"CI is set, so the website test may not be skipped: {message}")
        pytest.skip(message)


def repository_files_changed_since(started: float) -> list[str]:
    """Files of the repository (outside build, cache and environment folders) modified after ``started``."""
    changed = []
    for folder, subfolders, files in os.walk(REPO_ROOT):
        subfolders[:] = [name for name in subfolders if name not in NOT_WALKED and not name.endswith(".egg-info")]
        for name in files:
            path = Path(folder) / name
            if path.stat().st_mtime > started:
                changed.append(path.relative_to(REPO_ROOT).as_posix())
    return sorted(changed)


@dataclass(frozen=True)
class BuiltSite:
    """The site of this session's build, and what the build reported."""

    root: Path
    report: book.BuildReport
    started: float


@cache
def built_site(base: Path) -> BuiltSite:
    """Build the site into ``base/book`` once per process (offline where possible)."""
    require_docs_tools()
    started = time.time()
    report = book.build(base / "book", doctrees=base / "doctrees", offline=book.offline_prefix() is not None)
    return BuiltSite(base / "book", report, started)


def site_fixture(tmp_path_factory) -> BuiltSite:
    """The body of both test files' ``site`` fixture: the one build of this session."""
    require_docs_tools()
    base = getattr(site_fixture, "base", None)
    if base is None:
        base = site_fixture.base = tmp_path_factory.mktemp("book")
    site = built_site(base)
    if not (site.root / "index.html").is_file():  # warnings alone still leave a site to check
        pytest.fail(f"the website did not build (exit {site.report.returncode}):\n{site.report.output[-6000:]}")
    return site
