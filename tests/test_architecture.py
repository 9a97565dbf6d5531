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
#: ``rl`` (the shared RL room) sits under every RL chapter: bandits (05), maml_rl (06), meta_rl_mdps (07).
CHAPTER_ORDER = ["welcome", "mapping", "two_level", "averaging", "teacher", "rl", "bandits", "maml_rl",
                 "meta_rl_mdps", "applications", "faq_and_errata"]
#: Each lecture's library module (``notebooks/NN_topic.ipynb`` ↔ ``metalearn_lib.<module>``).
CHAPTER_MODULES = {0: "welcome", 1: "mapping", 2: "two_level", 3: "averaging", 4: "teacher", 5: "bandits",
                   6: "maml_rl", 7: "meta_rl_mdps", 8: "applications",
                   9: "faq_and_errata"}


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


def test_chapters_are_placed_in_notebook_order():
    modules = [CHAPTER_MODULES[n] for n in sorted(CHAPTER_MODULES)]
    positions = [CHAPTER_ORDER.index(m) for m in modules]
    assert positions == sorted(positions), f"CHAPTER_ORDER must list the chapters in notebook order: {modules}"
    assert CHAPTER_ORDER.index("rl") < CHAPTER_ORDER.index("bandits"), "rl must sit under every RL chapter"
    for notebook in sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        number = int(notebook.name[:2])
        assert number in CHAPTER_MODULES, f"{notebook.name} has no library module in CHAPTER_MODULES"
        module = PACKAGE / CHAPTER_MODULES[number]
        assert module.is_dir() or module.with_suffix(".py").exists(), \
            f"{notebook.name}'s module metalearn_lib.{CHAPTER_MODULES[number]} does not exist"


def test_rl_is_split_by_job_and_chapters_use_its_public_names():
    jobs = {p.stem for p in (PACKAGE / "rl").glob("*.py")} - {"__init__"}
    assert {"environments", "networks", "rollouts", "advantages", "a2c", "checkpoints", "evaluation"} <= jobs


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_library_module_stays_small(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 600, f"{path.relative_to(PACKAGE)} has {lines} lines: split it by job"


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
