"""The library's shape (see the course's architecture notes) and its style, checked mechanically."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

from tests.notebook_tools import REPO_ROOT

PACKAGE = REPO_ROOT / "metalearn_lib"
#: Utilities under everything: import nothing of the course.
UTILITIES = {"seeding", "validation", "optim", "quiet_tf"}
#: Ground floor (data and learners): imports only the utilities.
GROUND_FLOOR = {"tasks", "models"}
#: User-interface leaves: notebooks import them; nothing in the library's concept modules does.
UI_LEAVES = {"plotting", "widgets", "checks"}
#: Concept modules in chapter order: a module may import only earlier chapters (and the ground floor).
CHAPTER_ORDER = ["welcome", "mapping", "two_level", "averaging", "teacher", "rl", "bandits"]


def course_imports(path: pathlib.Path) -> set[str]:
    """Top-level metalearn_lib modules that ``path`` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("metalearn_lib"):
            parts = node.module.split(".")
            if len(parts) > 1:
                found.add(parts[1])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "metalearn_lib" and len(parts) > 1:
                    found.add(parts[1])
    return found


def module_name(path: pathlib.Path) -> str:
    """The top-level library module a file belongs to (``checks/core.py`` belongs to ``checks``)."""
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else path.stem


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)
MODULES = [p for p in MODULES if module_name(p) != "authoring"]  # the course's own tools, outside the layers


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_imports_only_go_downward(path):
    name = module_name(path)
    imported = course_imports(path) - {name}
    if name in UTILITIES:
        assert not imported, f"{name} is a utility and must not import {imported}"
    elif name in GROUND_FLOOR:
        extra = imported - UTILITIES
        assert not extra, f"{name} is ground floor and may import only the utilities {UTILITIES}, not {extra}"
    elif name in CHAPTER_ORDER:
        assert not imported & UI_LEAVES, f"{name} must not import the UI leaves {imported & UI_LEAVES}"
        later = set(CHAPTER_ORDER[CHAPTER_ORDER.index(name) + 1:])
        assert not imported & later, f"{name} imports later chapters {imported & later}"
    elif name in UI_LEAVES:
        pass  # leaves may import anything below them
    else:
        raise AssertionError(f"{name} is not placed in the architecture: add it to this test")


def test_authoring_tools_import_no_concept_module():
    for path in (PACKAGE / "authoring").glob("*.py"):
        assert not course_imports(path) - {"authoring"}, f"{path.name} should depend on nbformat/nbclient only"


def test_importing_the_package_does_not_import_tensorflow():
    code = "import sys, metalearn_lib; assert 'tensorflow' not in sys.modules, 'eager TF import'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT)


def test_ruff_is_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
