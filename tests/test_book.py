"""The course website (``make book``): built once per session from the committed notebooks.

The build (Sphinx + myst-nb + sphinx-book-theme, ``docs/book/conf.py``) runs fresh into a
temporary folder, inside a network namespace of its own where the machine can make one (see
tests/book_support.py). The tests check what a reader gets: every page, every internal link, maths
typeset by a MathJax of the site's own, figures and the widgets' static pictures, an API reference
that holds every public name of the library once, and the navigation of the README's course map.
Each checker is also run on a small page made to fail it.

Run: ``.venv/bin/python -m pytest tests/test_book.py -q`` (about 30 s on 2 cores: the build).
"""

from __future__ import annotations

import base64
import importlib
import re
import subprocess
import sys
import zlib
from pathlib import Path

import nbformat
import pytest

from metalearn_lib.authoring import book, book_api, book_links, launch
from tests import notebook_runtimes
from tests.book_support import REPO_ROOT, repository_files_changed_since, site_fixture

#: A full build on a busy 2-core machine takes about 25 s (nothing is executed); past this, something
#: started executing notebooks or fetching.
BUILD_BUDGET_S = 120.0
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
LECTURES = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
EXERCISES = sorted((REPO_ROOT / "exercises").glob("*.ipynb"))


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    return site_fixture(tmp_path_factory)


def html_of(site, page: str) -> str:
    path = site.root / page
    assert path.is_file(), f"the site has no {page}"
    return path.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------ the build
@pytest.mark.slow
def test_the_build_has_no_warning(site):
    assert site.report.warnings == [], "sphinx-build -W reported:\n" + "\n".join(site.report.warnings)
    assert site.report.returncode == 0, site.report.output[-6000:]


@pytest.mark.slow
def test_the_build_takes_seconds_and_needs_no_network(site):
    assert site.report.seconds < BUILD_BUDGET_S, f"the build took {site.report.seconds:.0f} s"
    if book.offline_prefix() is not None:
        assert site.report.offline, "this machine can build without network, so the test must"


def test_the_offline_prefix_really_has_no_network():
    prefix = book.offline_prefix()
    if prefix is None:
        pytest.skip("no network namespace on this machine (unshare -rn / --net refused)")
    probe = "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 443), timeout=3)\nexcept OSError:\n" \
            "    raise SystemExit(7)\n"
    result = subprocess.run([*prefix, sys.executable, "-c", probe], capture_output=True, timeout=30)
    assert result.returncode == 7, f"a connection left the namespace ({result.returncode}: {result.stderr!r})"


def test_a_build_after_warnings_starts_afresh(tmp_path, monkeypatch):
    """Sphinx does not repeat the warnings of pages it does not re-read: so after a build with
    warnings the next one drops the cached doctrees (and a clean build keeps them)."""
    doctrees = tmp_path / "doctrees"
    commands = []
    monkeypatch.setattr(book.subprocess, "run", lambda command, **_: commands.append(command)
                        or subprocess.CompletedProcess(command, 0, "", ""))
    for warnings, kept in (("", True), ("README.md:3: WARNING: x\n", False)):
        doctrees.mkdir(exist_ok=True)
        (tmp_path / "book-warnings.txt").write_text(warnings, encoding="utf-8")
        book.build(tmp_path / "book", doctrees=doctrees)
        assert doctrees.exists() == kept
    assert len(commands) == 2 and "-W" in commands[0]


def test_make_book_fails_on_a_broken_link(tmp_path, monkeypatch, capsys):
    site = write_mini_site(tmp_path / "book")
    clean = book.BuildReport(returncode=0, seconds=1.0, warnings=[], output="", offline=False)
    monkeypatch.setattr(book, "build", lambda out, offline=False: clean)
    assert book.main(["--out", str(site)]) == 1
    assert "missing.html" in capsys.readouterr().err
    (site / "index.html").write_text('<a href="sub/page.html#top">ok</a>', encoding="utf-8")
    assert book.main(["--out", str(site)]) == 0


@pytest.mark.slow
def test_the_build_writes_nothing_into_the_repository(site):
    assert not site.root.is_relative_to(REPO_ROOT)
    changed = repository_files_changed_since(site.started)
    assert not changed, f"the build wrote into the repository: {changed}"


# ------------------------------------------------------------------------------------- pages
def expected_pages() -> list[str]:
    pages = ["index.html", "README.html", "docs/teaching.html", "benchmarks/README.html"]
    pages += [f"notebooks/{p.stem}.html" for p in LECTURES] + [f"exercises/{p.stem}.html" for p in EXERCISES]
    return pages + [f"docs/book/api/{page.slug}.html" for page in book_api.API_PAGES]


@pytest.mark.slow
def test_every_page_is_built(site):
    missing = [page for page in expected_pages() if not (site.root / page).is_file()]
    assert not missing, f"pages missing from the site: {missing}"
    assert not list(site.root.glob("solutions/*")), "the solutions are the teacher's: not on the site"


def test_every_api_page_has_its_stub_and_no_stub_is_left_over():
    stubs = {p.stem for p in (REPO_ROOT / "docs" / "book" / "api").glob("*.rst")}
    assert stubs == {page.slug for page in book_api.API_PAGES}


# ------------------------------------------------------------------------------------- links
@pytest.mark.slow
def test_every_internal_link_resolves(site):
    problems = book_links.check_links(site.root)
    assert not problems, f"{len(problems)} broken links:\n" + "\n".join(problems[:40])


def write_mini_site(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "page.html").write_text('<h1 id="top">Page</h1>', encoding="utf-8")
    (root / "figure.png").write_bytes(b"png")
    (root / "index.html").write_text(
        '<a href="sub/page.html#top">ok</a> <a href="#here" id="here">ok</a> <img src="figure.png">'
        '<a href="https://example.org/elsewhere">ok</a> <a href="sub/">folder without index</a>'
        '<a href="sub/page.html#nowhere">bad anchor</a> <a href="missing.html">missing</a>'
        '<img src="../outside.png"> <a href="#absent">bad local anchor</a>',
        encoding="utf-8",
    )
    return root


def test_the_link_checker_finds_each_kind_of_broken_link(tmp_path):
    problems = book_links.check_links(write_mini_site(tmp_path))
    found = sorted(re.search(r'="([^"]+)"', p).group(1) for p in problems)
    assert found == sorted(["sub/", "sub/page.html#nowhere", "missing.html", "../outside.png", "#absent"]), problems


@pytest.mark.slow
def test_links_to_repository_files_go_to_github(site):
    readme = html_of(site, "README.html")
    assert f'href="{launch.REPOSITORY_URL}/tree/{launch.BRANCH}/solutions"' in readme
    assert f'href="{launch.REPOSITORY_URL}/blob/{launch.BRANCH}/tests/test_autograding.py"' in readme
    assert 'href="notebooks/02_two_level_learning.html"' in readme
    assert not (site.root / "_downloads").exists(), "repository files were copied into the site as downloads"


@pytest.mark.slow
def test_chapter_9_links_land_on_jupyterlab_style_heading_ids(site):
    """Chapter 9 links lectures by JupyterLab's heading anchors; the site's headings carry the same ids."""
    notebook = nbformat.read(REPO_ROOT / "notebooks" / "09_faq_and_errata.ipynb", as_version=4)
    text = "\n".join(
        [c.source for c in notebook.cells if c.cell_type == "markdown"]
        + [o.get("data", {}).get("text/markdown", "") for c in notebook.cells for o in c.get("outputs", [])]
    )
    # the anchor may hold balanced parentheses: ...#Teacher-4:-learned-step-sizes-(Meta-SGD))
    links = set(re.findall(r"\]\((\d\d_[a-z_]+)\.ipynb#((?:[^()\s]|\([^()\s]*\))+)\)", text))
    assert len(links) >= 5, "chapter 9 should link sections of the lectures"
    for stem, anchor in sorted(links):
        assert f'id="{anchor}"' in html_of(site, f"notebooks/{stem}.html"), f"{stem}#{anchor} has no target"


# ------------------------------------------------------------------------- assets and maths
@pytest.mark.slow
def test_no_page_loads_a_script_or_stylesheet_from_another_host(site):
    found = book_links.external_assets(site.root)
    assert not found, "\n".join(found[:40])


def test_the_asset_checker_finds_cdn_scripts_and_styles(tmp_path):
    (tmp_path / "style.css").write_text('@import "https://fonts.example.org/f.css"; a {}', encoding="utf-8")
    (tmp_path / "index.html").write_text(
        '<script src="https://cdn.example.org/mathjax.js"></script><script src="local.js"></script>'
        '<link rel="stylesheet" href="//cdn.example.org/x.css"><a href="https://example.org">a link</a>',
        encoding="utf-8",
    )
    found = book_links.external_assets(tmp_path)
    assert len(found) == 3 and "mathjax.js" in found[0] and "x.css" in found[1] and "f.css" in found[2], found


@pytest.mark.slow
def test_mathjax_is_the_sites_own_copy(site):
    mathjax = site.root / "_static" / "mathjax" / "tex-chtml.js"
    assert mathjax.is_file(), "MathJax was not copied into the site"
    assert 'VERSION="3.2.2"' in mathjax.read_text(encoding="utf-8", errors="replace")
    assert (site.root / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
    page = html_of(site, "notebooks/02_two_level_learning.html")
    assert re.search(r'<script[^>]+src="\.\./_static/mathjax/tex-chtml\.js', page), "the lecture loads no local MathJax"


@pytest.mark.slow
def test_a_lecture_has_rendered_maths_and_a_figure(site):
    page = html_of(site, "notebooks/02_two_level_learning.html")
    assert re.search(r'<span class="math[^"]*">\\\(.+?\\\)</span>', page), "no inline maths \\( … \\)"
    assert re.search(r'<div class="math[^"]*">\s*\\\[', page), "no displayed maths \\[ … \\]"
    figures = re.findall(r'<img[^>]+src="\.\./(_images/[^"]+\.png)"', page)
    assert figures, "no figure"
    assert all((site.root / figure).stat().st_size > 1000 for figure in figures)


def widget_pictures(notebook: Path) -> list[bytes]:
    pictures = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        for output in cell.get("outputs", []):
            if WIDGET_VIEW in output.get("data", {}):
                pictures.append(base64.b64decode(output["data"]["image/png"]))
    return pictures


@pytest.mark.slow
@pytest.mark.parametrize("notebook", LECTURES, ids=[p.stem for p in LECTURES])
def test_widgets_show_their_static_picture_and_load_no_widget_code(site, notebook):
    page = html_of(site, f"notebooks/{notebook.stem}.html")
    assert WIDGET_VIEW not in page and "widget-state" not in page, "widget state or views on the page"
    assert not re.search(r'<script[^>]+src="[^"]*(require\.js|embed-amd|html-manager)', page), "widget JavaScript"
    shown = {(site.root / src).read_bytes() for src in re.findall(r'<img[^>]+src="\.\./(_images/[^"]+)"', page)}
    for number, picture in enumerate(widget_pictures(notebook)):
        assert picture in shown, f"widget output {number} of {notebook.name} is not shown as its picture"


# ----------------------------------------------------------------------------- API reference
def read_inventory(path: Path) -> list[tuple[str, str, int, str]]:
    """``(name, domain:role, priority, uri)`` of every entry of a Sphinx ``objects.inv``."""
    header, body = path.read_bytes().split(b"\n", 4)[:4], path.read_bytes().split(b"\n", 4)[4]
    assert header[0] == b"# Sphinx inventory version 2", header
    entries = []
    for line in zlib.decompress(body).decode("utf-8").splitlines():
        match = re.match(r"(.+?)\s+(\S+:\S+)\s+(-?\d+)\s+(\S+)\s+(.*)", line)
        assert match, line
        entries.append((match[1], match[2], int(match[3]), match[4]))
    return entries


def _resolve(full_name: str):
    """``(name, the object)`` for ``module.name`` of the library, or None."""
    module, _, name = full_name.rpartition(".")
    try:
        return name, getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        return None


OBJECT_ROLES = {"py:function", "py:class", "py:exception", "py:data"}


def described_objects(entries) -> list[tuple[str, int]]:
    """``(name, id(object))`` of every object *described* in the inventory (aliases left out).

    Keyed by name and identity, so an object counts wherever it is described, under any of its
    import paths (a constant shares its value with others, but not its name as well)."""
    found = []
    for name, role, priority, _uri in entries:
        if role in OBJECT_ROLES and priority >= 0:
            resolved = _resolve(name)
            if resolved is not None:
                found.append((resolved[0], id(resolved[1])))
    return found


def missing_from_reference(described: set[tuple[str, int]]) -> list[str]:
    """``module.name`` of every public name of the library that ``described`` lacks."""
    missing = []
    for module in book_api.library_modules():
        mod = importlib.import_module(module)
        for name in book_api.public_names(module):
            if (name, id(getattr(mod, name))) not in described:
                missing.append(f"{module}.{name}")
    return missing


@pytest.fixture(scope="session")
def inventory(site):
    return read_inventory(site.root / "objects.inv")


@pytest.mark.slow
def test_the_reference_describes_every_public_name(inventory):
    described = set(described_objects(inventory))
    missing = missing_from_reference(described)
    assert not missing, f"{len(missing)} public names are not in the API reference: {missing[:30]}"
    # … and the check can fail: the reference without one of its descriptions misses that name.
    dropped = ("ridge_fit", id(importlib.import_module("metalearn_lib.mapping").ridge_fit))
    assert "metalearn_lib.mapping.ridge_fit" in missing_from_reference(described - {dropped})


@pytest.mark.slow
def test_every_object_is_described_once(inventory):
    described = described_objects(inventory)
    repeated = sorted({key[0] for key in described if described.count(key) > 1})
    assert not repeated, f"described more than once (under several import paths): {repeated}"


@pytest.mark.slow
def test_reexported_paths_are_aliases_of_the_one_description(inventory):
    by_name = {(name, role): (priority, uri) for name, role, priority, uri in inventory}
    seeding = by_name[("metalearn_lib.seeding.seed_everything", "py:function")]
    alias = by_name[("metalearn_lib.seed_everything", "py:function")]
    assert seeding[0] == 1 and alias[0] == -1 and alias[1].split("#")[0] == seeding[1].split("#")[0]
    assert by_name[("metalearn_lib.bandits.pull", "py:function")][0] == 1
    assert by_name[("metalearn_lib.bandits.env.pull", "py:function")][0] == -1


def test_public_names_follow_all_or_what_a_module_defines():
    assert book_api.public_names("metalearn_lib") == ("seed_everything", "tf", "__version__")
    assert set(book_api.public_names("metalearn_lib.seeding")) == {
        "DEFAULT_SEED", "INTEROP_THREADS", "configure_threads", "seed_everything"}
    assert book_api.public_names("metalearn_lib.applications") == ()  # a package that only documents
    assert "metalearn_lib.mapping._checks" not in book_api.library_modules()
    assert book_api.origin("metalearn_lib.bandits", "pull") == "metalearn_lib.bandits.env"
    assert book_api.origin("metalearn_lib", "seed_everything") == "metalearn_lib.seeding"
    assert book_api.page_of("metalearn_lib.quiet_tf").slug == "package"


# ------------------------------------------------------------------------------- navigation
def navigation(page_html: str) -> list[tuple[str, str]]:
    """The primary sidebar in order: ``("caption", text)`` and ``("page", href)`` items."""
    nav = page_html[page_html.index('class="bd-links bd-docs-nav"'):]
    nav = nav[: nav.index("</nav>")]
    items = []
    for match in re.finditer(r'caption-text">([^<]+)<|class="toctree-l1[^"]*"><a class="reference internal" '
                             r'href="([^"]+)"', nav):
        items.append(("caption", match[1]) if match[1] else ("page", match[2]))
    return items


def expected_navigation() -> list[tuple[str, str]]:
    chapters = book.course_map((REPO_ROOT / "README.md").read_text(encoding="utf-8"))
    items = []
    for chapter in chapters:
        items.append(("caption", f"Chapter {chapter.number}"))
        items += [("page", f"{docname}.html") for docname in chapter.docnames]
    items.append(("caption", "Reference"))
    items += [("page", f"docs/book/api/{p.slug}.html") for p in book_api.API_PAGES[len(chapters):]]
    return [*items, ("caption", "For teachers"), ("page", "docs/teaching.html"),
            ("caption", "Benchmarks"), ("page", "benchmarks/README.html")]


@pytest.mark.slow
def test_the_navigation_follows_the_course_map(site):
    shown = [(kind, text.split(" ·")[0] if kind == "caption" else text)
             for kind, text in navigation(html_of(site, "index.html"))]
    assert shown == expected_navigation()


def test_the_course_map_lists_every_lecture_and_exercise_in_order():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    chapters = book.course_map(readme)
    # the browser test's independent parser of the same table agrees on the lectures
    assert [c.lecture for c in chapters] == list(notebook_runtimes.readme_run_times(readme))
    assert [c.lecture for c in chapters] == [f"notebooks/{p.name}" for p in LECTURES]
    assert [c.exercise for c in chapters if c.exercise] == [f"exercises/{p.name}" for p in EXERCISES]
    assert [c.api for c in chapters] == [page.slug for page in book_api.API_PAGES[: len(chapters)]]


def test_the_course_map_parser_rejects_a_shuffled_or_missing_map():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| [`notebooks/")]
    with pytest.raises(ValueError, match="expected chapter 0"):
        book.course_map(readme.replace(rows[0] + "\n", ""))
    with pytest.raises(ValueError, match="no '## Course map'"):
        book.course_map(readme.replace("## Course map", "## Map"))


# ----------------------------------------------------------------------------- launch buttons
@pytest.mark.slow
def test_notebook_pages_have_launch_and_repository_buttons(site):
    page = html_of(site, "notebooks/02_two_level_learning.html")
    path = "notebooks/02_two_level_learning.ipynb"
    assert f"https://colab.research.google.com/github/{launch.REPOSITORY}/blob/{launch.BRANCH}/{path}" in page
    assert f"https://mybinder.org/v2/gh/{launch.REPOSITORY}/{launch.BRANCH}?urlpath=lab/tree/{path}" in page
    assert f'href="{launch.REPOSITORY_URL}"' in page
