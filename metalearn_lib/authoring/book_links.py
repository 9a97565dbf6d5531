"""Checks of a built site: every internal link lands, nothing is loaded from another host.

:func:`check_links` reads every HTML page under the site and follows each relative ``href`` and
``src``: the file must exist inside the site (a folder counts when it holds an ``index.html``),
and a ``#fragment`` into an HTML page of the site must be an ``id`` (or ``name``) on that page.
:func:`external_assets` lists every script, stylesheet or other ``<link>`` resource and every CSS
``url(…)``/``@import`` that points at another host — hyperlinks (``<a href="https://…">``) are
fine, they load nothing. :func:`check_site` runs both; ``make book`` fails on any finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["PageLinks", "check_links", "check_site", "external_assets", "pages", "read_page"]

_REMOTE = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")
_CSS_REMOTE = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])\s*((?:https?:)?//[^'")\s]+)""")
#: Attributes that make the browser fetch code, styles or embedded documents, per tag. ``<a href>``
#: only navigates; ``<img src>`` is left out on purpose: the notebooks' "Open in Colab" / "Launch
#: Binder" badges are pictures from those services, which a reader without network sees as their
#: alt text (the links still work), while a missing script or stylesheet would break the page.
_LOADS = {"script": "src", "link": "href", "iframe": "src", "embed": "src", "object": "data"}
#: Folders of the site that hold no pages (the theme ships Jinja templates as .html in _static/).
_NOT_PAGES = ("_static", "_sources", "_images")


@dataclass
class PageLinks:
    """What one HTML page links to and which fragments it defines."""

    links: list[tuple[str, str, str]] = field(default_factory=list)  # (tag, attribute, value)
    ids: set[str] = field(default_factory=set)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = PageLinks()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name in {"id", "name"} and not (tag == "meta" and name == "name"):
                self.page.ids.add(value)
            elif name in {"href", "src", "data"}:
                self.page.links.append((tag, name, value))

    handle_startendtag = handle_starttag


@cache
def _read(path: Path, mtime: float) -> PageLinks:
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8", errors="replace"))
    return collector.page


def read_page(path: Path) -> PageLinks:
    """The links and ids of the HTML page ``path`` (cached while the file is unchanged)."""
    path = Path(path).resolve()
    return _read(path, path.stat().st_mtime)


def _is_remote(value: str) -> bool:
    return bool(_REMOTE.match(value.strip()))


def pages(site: Path) -> list[Path]:
    """The HTML pages of ``site`` (not the theme's templates under ``_static/``)."""
    site = Path(site).resolve()
    return [p for p in sorted(site.rglob("*.html")) if p.relative_to(site).parts[0] not in _NOT_PAGES]


def check_links(site: Path) -> list[str]:
    """Every relative ``href``/``src`` of every page of ``site`` that does not resolve, as messages
    ``page: <tag attr="value">: why``; empty when all land."""
    site = Path(site).resolve()
    problems = []
    for page_path in pages(site):
        page = read_page(page_path)
        where = page_path.relative_to(site).as_posix()
        for tag, attribute, value in page.links:
            if _is_remote(value) or not value.strip():
                continue
            parts = urlsplit(value.strip())
            path, fragment = unquote(parts.path), unquote(parts.fragment)
            target = (page_path.parent / path).resolve() if path else page_path
            shown = f'{where}: <{tag} {attribute}="{value}">'
            if not target.is_relative_to(site):
                problems.append(f"{shown}: points outside the site")
                continue
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                problems.append(f"{shown}: no such file {target.relative_to(site).as_posix()}")
                continue
            if fragment and target.suffix == ".html" and fragment not in read_page(target).ids:
                problems.append(f"{shown}: no id {fragment!r} in {target.relative_to(site).as_posix()}")
    return problems


def external_assets(site: Path) -> list[str]:
    """Every script, stylesheet (any ``<link>``), frame or embedded object a page of ``site`` would
    load from another host, and every CSS ``url()``/``@import`` of one, as messages; empty when the
    site's code and styles are all its own."""
    site = Path(site).resolve()
    found = []
    for page_path in pages(site):
        where = page_path.relative_to(site).as_posix()
        for tag, attribute, value in read_page(page_path).links:
            if _LOADS.get(tag) == attribute and _is_remote(value) and not value.startswith("data:"):
                found.append(f'{where}: <{tag} {attribute}="{value}"> loads from another host')
    for css in sorted(site.rglob("*.css")):
        for match in _CSS_REMOTE.finditer(css.read_text(encoding="utf-8", errors="replace")):
            found.append(f"{css.relative_to(site).as_posix()}: loads {match.group(1)}")
    return found


def check_site(site: Path) -> list[str]:
    """:func:`check_links` and :func:`external_assets` together."""
    return check_links(site) + external_assets(site)
