"""The course as a static website: ``make book`` builds it into ``_build/book/``.

Sphinx with myst-nb and sphinx-book-theme (pinned in ``requirements-docs.txt``; configuration in
``docs/book/conf.py``) renders, from the repository as it is committed:

* the README as the landing page (``index.html``), its links resolving to pages as they are;
* every lecture in ``notebooks/`` and every exercise in ``exercises/`` with their **committed
  outputs** — nothing is executed (``nb_execution_mode = "off"``), so the build takes seconds and
  needs no network; widgets show their static picture (the PNG every widget output carries), and
  no widget JavaScript is loaded;
* ``docs/teaching.md`` and ``benchmarks/README.md``;
* the API reference from the library's docstrings (:mod:`metalearn_lib.authoring.book_api`).

Maths is typeset by a MathJax copied from a pip package into the site (no CDN). The navigation
follows the README's course map (:func:`course_map`): one group per chapter with its lecture, its
exercise and its API page. Warnings are errors (``sphinx-build -W --keep-going``), and after the
build :func:`metalearn_lib.authoring.book_links.check_site` verifies every relative link and that
no page loads a script or stylesheet from elsewhere.

Command line (what ``make book`` runs)::

    python -m metalearn_lib.authoring.book [--out _build/book] [--offline]

``--offline`` runs Sphinx in a network namespace of its own (``unshare -rn``), proving the build
needs no network; it fails where such a namespace cannot be made.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from metalearn_lib.authoring import book_api, book_links

__all__ = [
    "CONF_DIR",
    "DEFAULT_OUT",
    "BuildReport",
    "Chapter",
    "REPO_ROOT",
    "build",
    "course_map",
    "main",
    "offline_prefix",
    "sphinx_command",
    "toctree_markdown",
]

#: The repository (Sphinx's source directory: pages keep the paths they have in the repository).
REPO_ROOT = Path(__file__).resolve().parents[2]
#: Where ``conf.py`` lives.
CONF_DIR = REPO_ROOT / "docs" / "book"
#: Where ``make book`` writes the site (its doctrees go beside it, in ``_build/doctrees``).
DEFAULT_OUT = REPO_ROOT / "_build" / "book"

_COURSE_MAP = re.compile(r"^## Course map\s*$(?P<body>.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL)
_ROW_LINK = re.compile(r"\[`?(?P<text>[^\]`]+)`?\]\((?P<target>[^)\s]+)\)")


@dataclass(frozen=True)
class Chapter:
    """One row of the README's course map: a chapter's lecture, its exercise (or None), its API page."""

    number: int
    lecture: str
    exercise: str | None
    api: str

    @property
    def docnames(self) -> list[str]:
        """The chapter's pages in navigation order, as Sphinx document names."""
        pages = [self.lecture, *([self.exercise] if self.exercise else []), f"docs/book/api/{self.api}"]
        return [str(Path(page).with_suffix("")) if page.endswith(".ipynb") else page for page in pages]


def course_map(readme_text: str) -> list[Chapter]:
    """The chapters of the README's course map, in its order.

    A row's first cell links its lecture (``notebooks/NN_….ipynb``), its third cell its exercise
    (``exercises/NN_…_exercises.ipynb``) or none; chapter ``NN``'s API page is
    ``book_api.API_PAGES[NN]``.

    Raises:
        ValueError: no course map, a row without a lecture link, or chapters out of order.
    """
    section = _COURSE_MAP.search(readme_text)
    if section is None:
        raise ValueError("the README has no '## Course map' section")
    chapters = []
    for row in section["body"].splitlines():
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("["):
            continue
        lecture = next((m["target"] for m in _ROW_LINK.finditer(cells[0]) if m["target"].startswith("notebooks/")),
                       None)
        if lecture is None:
            raise ValueError(f"a course-map row without a notebooks/ link: {row!r}")
        exercise = next((m["target"] for m in _ROW_LINK.finditer(cells[2])
                         if m["target"].startswith("exercises/")), None)
        number = int(Path(lecture).name.split("_", 1)[0])
        if number != len(chapters) or number >= len(book_api.API_PAGES):
            raise ValueError(f"course-map row {lecture}: expected chapter {len(chapters)} next")
        chapters.append(Chapter(number, lecture, exercise, book_api.API_PAGES[number].slug))
    if not chapters:
        raise ValueError("the README's course map has no rows")
    return chapters


def _lecture_title(lecture: str, root: Path) -> str:
    """``Two-level learning`` from the lecture's first heading ``# 02 · Two-level learning: …``."""
    notebook = nbformat.read(root / lecture, as_version=4)
    for cell in notebook.cells:
        for line in cell.source.splitlines() if cell.cell_type == "markdown" else []:
            if line.startswith("# "):
                return line[2:].split("·", 1)[-1].split(":", 1)[0].strip()
    raise ValueError(f"{lecture} has no '# ' heading")


def toctree_markdown(chapters: list[Chapter], root: Path = REPO_ROOT) -> str:
    """Hidden MyST toctrees for the landing page: one per chapter, then the reference, the
    teachers' guide and the benchmarks (the site's whole navigation, in order)."""
    blocks = []

    def toctree(caption: str, entries: list[str]) -> None:
        blocks.append("\n".join(["```{toctree}", ":hidden:", f":caption: {caption}", "", *entries, "```"]))

    for chapter in chapters:
        toctree(f"Chapter {chapter.number} · {_lecture_title(chapter.lecture, root)}", chapter.docnames)
    chapter_pages = {chapter.api for chapter in chapters}
    reference = [page for page in book_api.API_PAGES if page.slug not in chapter_pages]
    toctree("Reference", [f"docs/book/api/{page.slug}" for page in reference])
    toctree("For teachers", ["docs/teaching"])
    toctree("Benchmarks", ["benchmarks/README"])
    return "\n\n".join(blocks) + "\n"


# ------------------------------------------------------------------------------------ building
def offline_prefix() -> list[str] | None:
    """A command prefix that runs a program with no network (a new, empty network namespace), or
    None where this machine cannot make one (no ``unshare``, or user namespaces not allowed)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    for flags in (["-rn"], ["--net"]):
        try:
            probe = subprocess.run([unshare, *flags, "true"], capture_output=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return [unshare, *flags]
    return None


def sphinx_command(out: Path, doctrees: Path, warnings_file: Path) -> list[str]:
    """``sphinx-build`` for the site: HTML from the repository into ``out``, warnings as errors."""
    return [
        sys.executable, "-m", "sphinx",
        "-b", "html",
        "-c", str(CONF_DIR),
        "-d", str(doctrees),
        "-W", "--keep-going",
        "-w", str(warnings_file),
        "-q",
        str(REPO_ROOT), str(out),
    ]  # fmt: skip


@dataclass
class BuildReport:
    """What one build did: its exit status, the seconds it took, its warnings and its output."""

    returncode: int
    seconds: float
    warnings: list[str]
    output: str
    offline: bool


def build(out: Path = DEFAULT_OUT, *, doctrees: Path | None = None, offline: bool = False) -> BuildReport:
    """Build the site into ``out`` (doctrees in ``doctrees``, default ``out/../doctrees``).

    Incremental, as Sphinx is, except after a build that had warnings (see the code).

    Raises:
        RuntimeError: ``offline`` was asked for but this machine cannot run a program without network.
    """
    out = Path(out).resolve()
    doctrees = Path(doctrees) if doctrees is not None else out.parent / "doctrees"
    out.parent.mkdir(parents=True, exist_ok=True)
    warnings_file = out.parent / f"{out.name}-warnings.txt"
    if warnings_file.exists() and warnings_file.read_text(encoding="utf-8").strip():
        # Sphinx re-reads only changed pages and does not repeat the warnings of the others: after
        # a build with warnings, start afresh, so that they are reported until they are fixed.
        shutil.rmtree(doctrees, ignore_errors=True)
    prefix: list[str] = []
    if offline:
        found = offline_prefix()
        if found is None:
            raise RuntimeError("cannot build offline here: `unshare -rn` / `unshare --net` is not available")
        prefix = found
    started = time.perf_counter()
    result = subprocess.run([*prefix, *sphinx_command(out, doctrees, warnings_file)], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    seconds = time.perf_counter() - started
    warnings = warnings_file.read_text(encoding="utf-8").splitlines() if warnings_file.exists() else []
    return BuildReport(result.returncode, seconds, [w for w in warnings if w.strip()],
                       result.stdout + result.stderr, offline)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metalearn_lib.authoring.book", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the site (default _build/book)")
    parser.add_argument("--offline", action="store_true", help="build in a network namespace of its own")
    args = parser.parse_args(argv)
    report = build(args.out, offline=args.offline)
    if report.returncode != 0 or report.warnings:
        print(report.output, file=sys.stderr)
        print(f"book: the build failed ({len(report.warnings)} warnings, exit {report.returncode})", file=sys.stderr)
        return 1
    problems = book_links.check_site(args.out)
    if problems:
        print("\n".join(problems[:50]), file=sys.stderr)
        print(f"book: {len(problems)} problems in the built site", file=sys.stderr)
        return 1
    pages = sum(1 for _ in Path(args.out).rglob("*.html"))
    print(f"book: {pages} pages in {args.out} in {report.seconds:.1f} s; every internal link resolves, "
          f"no script or stylesheet from another host")
    return 0


if __name__ == "__main__":
    sys.exit(main())
