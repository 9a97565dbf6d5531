"""The Sphinx extension behind ``make book`` (listed in ``docs/book/conf.py``).

What it adds to Sphinx, myst-nb and sphinx-book-theme:

* **The navigation**, generated from the README's course map (:func:`~metalearn_lib.authoring.book.course_map`):
  hidden toctrees appended to the landing page (the README itself), one captioned group per
  chapter with its lecture, its exercise and its API page, then the reference, the teachers' guide
  and the benchmarks.
* **The API pages**: each stub in ``docs/book/api/`` is replaced, as it is read, by its title and
  :func:`~metalearn_lib.authoring.book_api.page_rst` (autodoc directives, one per public object),
  and every other public path of an object is registered as an alias of its one description.
* **Links to repository files that are not pages** (``solutions/``, ``benchmarks/results/x.json``,
  ``metalearn_lib/two_level.py``): links to the file on GitHub, built from
  :func:`metalearn_lib.authoring.launch.repository_url` and ``BRANCH``, instead of a download or a
  broken reference.
* ``index.html``: a copy of the landing page, so the site opens at its root.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from metalearn_lib.authoring import book, book_api, launch

__all__ = ["ROOT_DOC", "github_url", "setup"]

#: The landing page: the README itself, so its relative links resolve as they are.
ROOT_DOC = "README"


def github_url(relative: str, *, directory: bool) -> str:
    """The GitHub address of the repository path ``relative`` (a folder when ``directory``)."""
    kind = "tree" if directory else "blob"
    return f"{launch.repository_url()}/{kind}/{launch.BRANCH}/{relative.strip('/')}"


# ----------------------------------------------------------------------------- generated sources
def _api_slug(docname: str) -> str | None:
    prefix = "docs/book/api/"
    return docname.removeprefix(prefix) if docname.startswith(prefix) else None


def _source_read(app, docname: str, source: list[str]) -> None:
    slug = _api_slug(docname)
    if slug is not None:
        page = next(p for p in book_api.API_PAGES if p.slug == slug)
        source[0] = f"{page.title}\n{'=' * len(page.title)}\n\n{book_api.page_rst(slug)}"
    elif docname == ROOT_DOC:
        readme = Path(app.srcdir) / "README.md"
        chapters = book.course_map(readme.read_text(encoding="utf-8"))
        for chapter in chapters:  # the toctree captions come from the lectures' titles
            app.env.note_dependency(str(Path(app.srcdir) / chapter.lecture))
        source[0] += "\n\n" + book.toctree_markdown(chapters, Path(app.srcdir))


# ------------------------------------------------------------------------- links to the repository
def _link_target(app, docname: str, node) -> Path | None:
    """The absolute path a myst link or download names, or None (a URL, an anchor, a label)."""
    srcdir = Path(app.srcdir)
    if node.get("refdomain") == "doc":  # myst mapped a path with a source suffix to a document name
        target = node.get("reftarget", "")
        candidates = [srcdir / f"{target}{suffix}" for suffix in app.config.source_suffix]
        return next((path for path in candidates if path.exists()), None)
    path = node.get("reftarget", "").split("#", 1)[0]
    if not path or "://" in path:
        return None
    _, absolute = app.env.relfn2path(path, docname)
    return Path(absolute)


def _repository_path(app, absolute: Path) -> tuple[str, bool] | None:
    """``(path relative to the repository, is a folder)`` when ``absolute`` is a file or folder of
    the repository that is not a page of the site; None otherwise."""
    absolute, root = absolute.resolve(), Path(app.srcdir).resolve()
    if not absolute.is_relative_to(root) or not absolute.exists():
        return None
    if absolute.is_file() and app.env.path2doc(str(absolute)) in app.env.found_docs:
        return None
    return absolute.relative_to(root).as_posix(), absolute.is_dir()


def _doctree_read(app, doctree) -> None:
    """Turn links to repository files that are not pages into links to them on GitHub (before
    Sphinx's download collector would copy them, or the myst resolver report them missing)."""
    from docutils import nodes
    from sphinx import addnodes

    docname = app.env.current_document.docname
    links = [*doctree.findall(addnodes.pending_xref), *doctree.findall(addnodes.download_reference)]
    for node in links:
        if node.get("reftype") != "myst":
            continue
        absolute = _link_target(app, docname, node)
        found = _repository_path(app, absolute) if absolute is not None else None
        if found is None:
            continue
        relative, directory = found
        reference = nodes.reference("", "", *node.children, refuri=github_url(relative, directory=directory),
                                    internal=False, classes=["external", "repository-file"])
        node.replace_self(reference)


# ------------------------------------------------------------------------------------ aliases
def _register_aliases(app, env) -> None:
    from sphinx.domains.python import ObjectEntry

    objects = env.domains["py"].objects
    for alias, documented in book_api.aliases().items():
        entry = objects.get(documented)
        if entry is not None and alias not in objects:
            objects[alias] = ObjectEntry(entry.docname, entry.node_id, entry.objtype, aliased=True)


def _skip_member(app, what, name, obj, skip, options):
    """NamedTuple fields: their docstring is only "Alias for field number N" (the class docstring's
    ``Attributes:`` section describes them)."""
    if (getattr(obj, "__doc__", None) or "").startswith("Alias for field number"):
        return True
    return None


_GROUPED_FIELD = re.compile(r"^(?P<indent>\s*):(?P<kind>ivar|vartype) (?P<names>\w+(?:, \w+)+):(?P<rest>.*)$")


def _split_grouped_attributes(app, what, name, obj, options, lines: list[str]) -> None:
    """``Attributes:`` entries that name several attributes at once (``low, high: the range``):
    one field per name, as napoleon already does for ``Args:`` (runs after napoleon)."""
    index = 0
    while index < len(lines):
        match = _GROUPED_FIELD.match(lines[index])
        if match is None:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and lines[end].startswith(match["indent"] + " ") and lines[end].strip():
            end += 1
        continuation = lines[index + 1:end]
        expanded = []
        for attribute in match["names"].split(", "):
            expanded += [f"{match['indent']}:{match['kind']} {attribute}:{match['rest']}", *continuation]
        lines[index:end] = expanded
        index += len(expanded)


def _build_finished(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        out = Path(app.outdir)
        shutil.copyfile(out / f"{ROOT_DOC}.html", out / "index.html")


def setup(app):
    app.connect("source-read", _source_read)
    app.connect("doctree-read", _doctree_read, priority=100)
    app.connect("env-updated", _register_aliases)
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("autodoc-process-docstring", _split_grouped_attributes, priority=600)
    app.connect("build-finished", _build_finished)
    return {"parallel_read_safe": False, "parallel_write_safe": True}
