"""Where the course is published: the one place that names its repository.

Every "Open in Colab" and "Launch Binder" badge, the Colab set-up cell and the website's
repository button are built from :data:`REPOSITORY` and :data:`BRANCH`. To publish the course
under another name, change these two lines and run ``make badges`` (it rewrites every notebook's
badges; a test fails while any notebook points elsewhere).

What is built here, for a notebook at a repository path such as ``notebooks/01_mapping.ipynb``:

* its Colab and Binder URLs, :func:`colab_url` and :func:`binder_url`
  (``https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/{path}`` and
  ``https://mybinder.org/v2/gh/{REPOSITORY}/{BRANCH}?urlpath=lab/tree/{path}``);
* its badge line, :func:`badges_markdown`: the two standard badge images, with alt texts
  "Open in Colab" and "Launch Binder" so that they read as text where images do not load. It
  sits in the notebook's first markdown cell, right under the ``# NN · Title`` heading;
* its Colab set-up cell, :func:`colab_setup_source`, the notebook's first code cell. Only when
  ``google.colab`` is imported (the kernel runs on Colab) it clones the repository shallowly into
  ``/content/<name>``, installs it with ``pip install -e`` (no ``[tensorflow]`` extra, so Colab's
  own TensorFlow stays), puts the clone on ``sys.path`` (the kernel started before the install),
  changes into the clone's folder that holds the notebook (lectures read
  ``../benchmarks/results/``) and enables Colab's custom widget manager. Anywhere else it does
  nothing and prints nothing, so nbval and ``make lab`` are unaffected.

Which notebook a badge opens, :func:`launch_path`: a lecture opens itself, an exercise opens
itself, and a *solution* notebook opens its *exercise*. A solution notebook is the single source
of its exercise (``make exercises``) and of nbgrader's release (``nbgrader generate_assignment``),
both of which copy its cells unchanged; its badges and set-up cell are therefore the exercise's,
so neither route can hand learners a link that opens the answers.

Command line (``make badges``)::

    metalearn-badges [--root DIR] [--check]

writes the badges and the set-up cell of ``notebooks/*.ipynb`` and ``solutions/*.ipynb`` (a
notebook already up to date is not touched), then regenerates ``exercises/`` from the solutions
the way ``metalearn-exercises`` does (an exercise a learner edited is refused, never
overwritten). ``--check`` writes nothing and exits 1 listing every notebook of ``notebooks/``,
``solutions/`` and ``exercises/`` whose badges or set-up cell differ from this module's. A
notebook that gains a set-up cell must be re-executed (``make execute NB=...``, printed).

This module imports nothing of the course but the other authoring tools (its checks follow
:mod:`metalearn_lib.validation`'s conventions without importing it, which would import
TensorFlow).
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from collections.abc import Sequence
from pathlib import Path, PurePath, PurePosixPath
from urllib.parse import quote

import nbformat
from nbformat import NotebookNode

__all__ = [
    "BINDER_BADGE_ALT",
    "BINDER_BADGE_IMAGE",
    "BRANCH",
    "COLAB_BADGE_ALT",
    "COLAB_BADGE_IMAGE",
    "NOTEBOOK_FOLDERS",
    "REPOSITORY",
    "REPOSITORY_URL",
    "SETUP_CELL_ID",
    "SETUP_COMMENT",
    "badges_markdown",
    "binder_url",
    "colab_setup_source",
    "colab_url",
    "launch_links",
    "launch_path",
    "launch_problems",
    "main",
    "repository_url",
    "with_launch",
]

#: The course's GitHub repository, ``owner/name``.
REPOSITORY = "metalearn-course/metalearn"
#: The branch the badges open.
BRANCH = "main"

#: The repository's web address, as of import time; :func:`repository_url` reads
#: :data:`REPOSITORY` when called.
REPOSITORY_URL = f"https://github.com/{REPOSITORY}"

#: The standard badge images and their alt texts (shown where images do not load).
COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BINDER_BADGE_IMAGE = "https://mybinder.org/badge_logo.svg"
COLAB_BADGE_ALT = "Open in Colab"
BINDER_BADGE_ALT = "Launch Binder"

#: The repository folders that hold notebooks, and the folder a notebook's badges open.
NOTEBOOK_FOLDERS = {"notebooks": "notebooks", "exercises": "exercises", "solutions": "exercises"}

#: The id of a set-up cell this module inserts, and the comment line that opens every set-up cell.
SETUP_CELL_ID = "colab-setup"
SETUP_COMMENT = "# Colab set-up: on Google Colab, install the course and open its files; anywhere else, do nothing."

# The set-up cell. One template for every notebook; str.format fills in the clone, its branch and
# URL, and the folder of the clone that holds the notebook.
_SETUP_TEMPLATE = SETUP_COMMENT + """
import sys

if "google.colab" in sys.modules:
    import os
    import subprocess

    from google.colab import output

    clone = "{clone}"
    if not os.path.isdir(clone):
        url = "{url}"
        subprocess.run(["git", "clone", "--depth", "1", "--branch", "{branch}", url, clone], check=True)
    # No [tensorflow] extra: Colab's own TensorFlow is kept.
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-e", clone], check=True)
    sys.path.insert(0, clone)  # this kernel started before the install
    os.chdir(f"{{clone}}/{folder}")  # the folder of this notebook, so that ../benchmarks/ is found
    output.enable_custom_widget_manager()  # the course's interactive explorers"""

# nbgrader metadata of the set-up cell in a solution notebook: read-only, never graded.
_SETUP_NBGRADER = {"grade": False, "grade_id": SETUP_CELL_ID, "locked": True, "schema_version": 3, "solution": False}

_REPOSITORY_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9._-]+$")
_BRANCH_RE = re.compile(r"^[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*$")
_LAUNCH_LINK_RE = re.compile(r"https://(?:colab\.research\.google\.com/github|mybinder\.org/v2/gh)/[^\s()<>\"'\]]+")
_OPENED_PATH_RE = re.compile(r"([^/?#=\s]+/[^/?#=\s]+\.ipynb)$")


# --------------------------------------------------------------------------------------------
# The repository, and the paths a badge opens
# --------------------------------------------------------------------------------------------


def _repository() -> str:
    """:data:`REPOSITORY`, read now (so that changing it changes every URL), checked."""
    if not isinstance(REPOSITORY, str) or not _REPOSITORY_RE.match(REPOSITORY):
        raise ValueError(f"REPOSITORY must be a GitHub 'owner/name', got {REPOSITORY!r}")
    return REPOSITORY


def _branch() -> str:
    """:data:`BRANCH`, read now, checked."""
    if not isinstance(BRANCH, str) or not _BRANCH_RE.match(BRANCH) or ".." in BRANCH:
        raise ValueError(f"BRANCH must be a git branch name such as 'main', got {BRANCH!r}")
    return BRANCH


def _repository_path(name: str, value: object) -> PurePosixPath:
    """``value`` as a relative POSIX path to a ``.ipynb`` file inside the repository."""
    if not isinstance(value, str | PurePath):
        raise TypeError(f"{name} must be a str or path such as 'notebooks/00_welcome.ipynb', "
                        f"got {type(value).__name__}")
    text = value.as_posix() if isinstance(value, PurePath) else value
    path = PurePosixPath(text)
    if (not text or "\\" in text or path.is_absolute() or ".." in path.parts or path.suffix != ".ipynb"
            or len(path.parts) < 2):
        raise ValueError(f"{name} must be a relative path to a .ipynb file inside the repository, "
                         f"such as 'notebooks/00_welcome.ipynb', got {text!r}")
    return path


def repository_url() -> str:
    """The repository's web address, ``https://github.com/{REPOSITORY}``.

    Raises:
        ValueError: if :data:`REPOSITORY` is not ``owner/name``.
    """
    return f"https://github.com/{_repository()}"


def launch_path(notebook_path: str | PurePath) -> str:
    """The repository path that the badges and the set-up cell of a notebook open.

    ``notebooks/X`` and ``exercises/X`` open themselves; ``solutions/X`` opens ``exercises/X``,
    its generated exercise (see the module docstring for why).

    Raises:
        TypeError: if ``notebook_path`` is not a str or path.
        ValueError: if it is not a relative ``.ipynb`` path in ``notebooks/``, ``exercises/``
            or ``solutions/``.
    """
    path = _repository_path("notebook_path", notebook_path)
    folder = path.parts[0]
    if folder not in NOTEBOOK_FOLDERS:
        raise ValueError(f"notebook_path must lie in one of {sorted(NOTEBOOK_FOLDERS)}, got {str(path)!r}")
    return PurePosixPath(NOTEBOOK_FOLDERS[folder], *path.parts[1:]).as_posix()


def _url_path(path: str | PurePath) -> str:
    """``path`` checked (a relative ``.ipynb`` path) and quoted for a URL; raises like the URL builders."""
    return quote(_repository_path("path", path).as_posix(), safe="/")


def colab_url(path: str | PurePath) -> str:
    """``https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/{path}``: Colab
    opening the notebook at repository path ``path`` (taken as it is; see :func:`launch_path`).

    Raises:
        TypeError: if ``path`` is not a str or path.
        ValueError: if ``path`` is not a relative ``.ipynb`` path, or the configuration is invalid.
    """
    return f"https://colab.research.google.com/github/{_repository()}/blob/{_branch()}/{_url_path(path)}"


def binder_url(path: str | PurePath) -> str:
    """``https://mybinder.org/v2/gh/{REPOSITORY}/{BRANCH}?urlpath=lab/tree/{path}``: JupyterLab on
    Binder opening the notebook at repository path ``path`` (raises as :func:`colab_url` does).
    """
    return f"https://mybinder.org/v2/gh/{_repository()}/{_branch()}?urlpath=lab/tree/{_url_path(path)}"


def badges_markdown(notebook_path: str | PurePath) -> str:
    """The badge line of a notebook: "Open in Colab" and "Launch Binder", both opening
    :func:`launch_path` of ``notebook_path``.

    Raises:
        TypeError, ValueError: as :func:`launch_path`.
    """
    target = launch_path(notebook_path)
    return (f"[![{COLAB_BADGE_ALT}]({COLAB_BADGE_IMAGE})]({colab_url(target)}) "
            f"[![{BINDER_BADGE_ALT}]({BINDER_BADGE_IMAGE})]({binder_url(target)})")


def colab_setup_source(notebook_path: str | PurePath) -> str:
    """The source of a notebook's Colab set-up cell (see the module docstring): the one template,
    filled in with the repository, its branch and the folder of :func:`launch_path`.

    Raises:
        TypeError, ValueError: as :func:`launch_path`.
    """
    folder = PurePosixPath(launch_path(notebook_path)).parent.as_posix()
    clone = f"/content/{_repository().split('/')[1]}"
    return _SETUP_TEMPLATE.format(clone=clone, url=repository_url(), branch=_branch(), folder=folder)


def launch_links(text: str) -> list[tuple[str, str]]:
    """Every Colab or Binder link to a notebook in ``text``, whatever its repository, as
    ``(url, opened)``: ``opened`` is the notebook's ``folder/name.ipynb`` (the last two parts).

    Raises:
        TypeError: if ``text`` is not a str.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    links = []
    for url in _LAUNCH_LINK_RE.findall(text):
        opened = _OPENED_PATH_RE.search(url)
        if opened:
            links.append((url, opened.group(1)))
    return links


# --------------------------------------------------------------------------------------------
# One notebook: check, and bring up to date
# --------------------------------------------------------------------------------------------


def _check_notebook(nb: object) -> NotebookNode:
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise TypeError(f"nb must be an nbformat NotebookNode, got {type(nb).__name__}")
    return nb  # type: ignore[return-value]


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _first_index(nb: NotebookNode, cell_type: str) -> int | None:
    return next((i for i, c in enumerate(nb.cells) if c.get("cell_type") == cell_type), None)


def _is_setup_cell(cell: dict) -> bool:
    """A set-up cell, current or stale: a code cell opening with :data:`SETUP_COMMENT`, or with the id
    this module gives it."""
    return cell.get("cell_type") == "code" and (
        _source(cell).split("\n", 1)[0] == SETUP_COMMENT or cell.get("id") == SETUP_CELL_ID)


def _is_badge_line(line: str) -> bool:
    return COLAB_BADGE_IMAGE in line or BINDER_BADGE_IMAGE in line


def launch_problems(nb: NotebookNode, notebook_path: str | PurePath) -> list[str]:
    """What is missing or stale in a notebook's badges and set-up cell (empty: up to date).

    Checked: the first markdown cell holds :func:`badges_markdown` as a line of its own; no
    markdown cell links Colab or Binder to anything else; the first code cell is
    :func:`colab_setup_source` exactly, and there is no other set-up cell.

    Raises:
        TypeError: if ``nb`` is not a notebook; TypeError, ValueError: as :func:`launch_path`.
    """
    nb = _check_notebook(nb)
    expected_badges = badges_markdown(notebook_path)
    expected_setup = colab_setup_source(notebook_path)
    wanted = {colab_url(launch_path(notebook_path)), binder_url(launch_path(notebook_path))}
    problems = []
    first_markdown = _first_index(nb, "markdown")
    if first_markdown is None:
        problems.append("has no markdown cell to carry the badges")
    elif expected_badges not in _source(nb.cells[first_markdown]).split("\n"):
        problems.append("its first markdown cell lacks the badge line " + expected_badges)
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") == "markdown":
            for url, _opened in launch_links(_source(cell)):
                if url not in wanted:
                    problems.append(f"cell #{index + 1} has a stale launch link {url}")
    first_code = _first_index(nb, "code")
    if first_code is None or _source(nb.cells[first_code]) != expected_setup:
        problems.append("its first code cell is not the Colab set-up cell of launch.py")
    setup_cells = sum(_is_setup_cell(cell) for cell in nb.cells)
    if setup_cells > 1:
        problems.append(f"has {setup_cells} Colab set-up cells")
    return problems


def _new_setup_cell(nb: NotebookNode, notebook_path: str | PurePath) -> NotebookNode:
    ids = {cell.get("id") for cell in nb.cells}
    cell_id = SETUP_CELL_ID
    while cell_id in ids:
        cell_id += "x"
    metadata = {}
    if PurePosixPath(_repository_path("notebook_path", notebook_path)).parts[0] == "solutions":
        metadata["nbgrader"] = dict(_SETUP_NBGRADER)
    cell = nbformat.v4.new_code_cell(colab_setup_source(notebook_path), metadata=metadata)
    if nb.get("nbformat") == 4 and nb.get("nbformat_minor", 0) >= 5:
        cell["id"] = cell_id
    else:
        cell.pop("id", None)
    return cell


def with_launch(nb: NotebookNode, notebook_path: str | PurePath) -> NotebookNode:
    """A copy of ``nb`` with its badges and set-up cell as :func:`launch_problems` wants them.

    The badge line replaces every line of the first markdown cell that shows a badge image, or
    goes right under its ``#`` heading. The set-up cell's source is replaced in place (its
    execution count is kept: it prints nothing); a notebook without one gets a new one right
    after its first markdown cell (a solution's is a locked nbgrader cell), and must then be
    re-executed. Applying it twice changes nothing more.

    Raises:
        TypeError: if ``nb`` is not a notebook; TypeError, ValueError: as :func:`launch_path`.
        ValueError: if ``nb`` has no markdown cell.
    """
    nb = nbformat.from_dict(copy.deepcopy(_check_notebook(nb)))
    badges = badges_markdown(notebook_path)
    first_markdown = _first_index(nb, "markdown")
    if first_markdown is None:
        raise ValueError(f"{notebook_path}: has no markdown cell to carry the badges; give it a '# NN · Title' cell")
    cell = nb.cells[first_markdown]
    lines = _source(cell).split("\n")
    kept = [line for line in lines if not _is_badge_line(line)]
    at = next((i for i, line in enumerate(lines) if _is_badge_line(line)), None)
    if at is not None:
        kept.insert(at, badges)
    elif kept[0].startswith("#"):  # right under the heading, one blank line either side
        rest = kept[1:]
        while rest and rest[0] == "":
            rest.pop(0)
        kept = [kept[0], "", badges, *([""] + rest if rest else [])]
    else:
        kept[0:0] = [badges, ""]
    cell.source = "\n".join(kept)

    for index in reversed([i for i, c in enumerate(nb.cells) if _is_setup_cell(c)][1:]):
        del nb.cells[index]  # one set-up cell is enough
    setup = next((i for i, c in enumerate(nb.cells) if _is_setup_cell(c)), None)
    if setup is None:
        setup_cell = _new_setup_cell(nb, notebook_path)
    else:
        setup_cell = nb.cells.pop(setup)
        setup_cell.source = colab_setup_source(notebook_path)
    first_markdown, first_code = _first_index(nb, "markdown"), _first_index(nb, "code")
    nb.cells.insert(first_markdown + 1 if first_code is None else min(first_markdown + 1, first_code), setup_cell)
    return nb


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


def _notebooks(root: Path, folders: Sequence[str]) -> list[Path]:
    return [path for folder in folders for path in sorted((root / folder).glob("*.ipynb")) if path.is_file()]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="metalearn-badges",
        description="Write every notebook's 'Open in Colab' / 'Launch Binder' badges and Colab set-up cell "
        "from metalearn_lib/authoring/launch.py (notebooks/ and solutions/), then regenerate exercises/.",
    )
    parser.add_argument("--root", type=Path, help="the course repository (default: the one holding solutions/)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 listing every notebook whose badges or set-up cell are stale")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``metalearn-badges``; return its exit status.

    0: everything written or already up to date; 1: with ``--check``, a notebook is stale, or an
    edited exercise was refused; 2: a notebook cannot be read or the repository is not found.
    """
    from metalearn_lib.authoring.exercise_folders import write_exercises  # (it imports this module)
    from metalearn_lib.authoring.exercise_notebook import _shown, dumps_notebook, read_notebook
    from metalearn_lib.authoring.exercises import find_repo_root

    args = _parser().parse_args(argv)
    try:
        root: Path = args.root or find_repo_root()
        if args.check:
            stale = 0
            for path in _notebooks(root, ("notebooks", "solutions", "exercises")):
                problems = launch_problems(read_notebook(path), path.relative_to(root).as_posix())
                stale += bool(problems)
                for problem in problems:
                    print(f"stale: {_shown(path)} -- {problem}")
            if stale:
                print(f"{stale} notebook(s) differ from launch.py; run `make badges`")
                return 1
            print(f"every notebook's badges and Colab set-up cell match launch.py ({REPOSITORY}, {BRANCH})")
            return 0
        written, to_execute = 0, []
        for path in _notebooks(root, ("notebooks", "solutions")):
            text = path.read_text(encoding="utf-8")
            nb = read_notebook(path)
            had_setup = any(_is_setup_cell(cell) for cell in nb.cells)
            new_text = dumps_notebook(with_launch(nb, path.relative_to(root).as_posix()))
            if new_text != text:
                path.write_bytes(new_text.encode("utf-8"))
                written += 1
                print(f"wrote {_shown(path)}")
                if not had_setup:
                    to_execute.append(path.relative_to(root).as_posix())
        print(f"{written} notebook(s) written")
        if to_execute:
            print(f're-execute the notebooks that gained a set-up cell: make execute NB="{" ".join(to_execute)}"')
        results = write_exercises(root / "solutions", root / "exercises", log=print)
    except (ValueError, OSError) as error:
        print(f"metalearn-badges: error: {error}", file=sys.stderr)
        return 2
    return 1 if any(result.action == "refused" for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
