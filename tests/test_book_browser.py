"""Real-browser test of the course website: Debian's chromium, driven by Playwright, reads the site
as a visitor does, with nothing but the site itself reachable.

The session's build (tests/book_support.py) is served on 127.0.0.1 by Python's ``http.server``
(what ``make serve-book`` runs), and every request to any other host is blocked (``page.route``)
and recorded. The visitor opens the landing page, follows the course map's link to chapter 2,
sees typeset equations (MathJax's ``mjx-container`` elements, from the site's own MathJax) and a
figure that loaded (``naturalWidth > 0``), then opens chapter 2's API page from the sidebar and
finds ``meta_gradient``'s description. No script, stylesheet or font may have needed another host.

Screenshots of each page go to ``tests/artifacts/book-<page>.png``, and a full-page one to
``tests/artifacts/book-<page>-failure.png`` on failure. Without a browser the test is skipped with
a message saying how to install one, except when ``CI`` is set.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.book_support import site_fixture
from tests.browser_support import (
    ARTIFACTS_DIR,
    launch_chromium,
    require_chromium,
    require_playwright,
    screenshot_on_failure,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORT = {"width": 1366, "height": 768}
TIMEOUT_MS = 30_000
#: Request types that would break the page if they needed the network.
PAGE_RESOURCES = {"script", "stylesheet", "font", "xhr", "fetch"}


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    return site_fixture(tmp_path_factory)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the test reports what matters
        pass


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    """``root`` over HTTP on 127.0.0.1 and a free port, as ``make serve-book`` serves it."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    require_playwright()
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, executable)
        try:
            yield browser
        finally:
            browser.close()


def shot(page, name: str) -> None:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / f"book-{name}.png"))


def test_a_visitor_reads_chapter_2_and_its_api_offline(site, browser):
    with serve(site.root) as base:
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        blocked: list[tuple[str, str]] = []

        def only_this_site(route) -> None:
            if route.request.url.startswith(base + "/"):
                route.continue_()
            else:
                blocked.append((route.request.resource_type, route.request.url))
                route.abort()

        page.route("**/*", only_this_site)
        console_errors: list[str] = []
        page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
        where = "index"

        def diagnostics() -> str:
            return f"page {page.url}\nblocked requests: {blocked}\nconsole errors: {console_errors}"

        try:
            with screenshot_on_failure(page, ARTIFACTS_DIR / "book-visit-failure.png", diagnostics):
                page.goto(base + "/index.html")
                course_map = page.locator("main table a[href='notebooks/02_two_level_learning.html']").first
                course_map.wait_for()
                shot(page, where)

                where = "chapter-2"
                course_map.click()
                page.wait_for_url("**/notebooks/02_two_level_learning.html")
                page.wait_for_function("document.querySelectorAll('main mjx-container').length > 10")
                equations = page.locator("main mjx-container").count()
                figure = page.locator("main .cell_output img[src*='_images/']").first
                figure.scroll_into_view_if_needed()
                page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=figure.element_handle())
                width = figure.evaluate("(img) => img.naturalWidth")
                assert equations > 10 and width > 100, (equations, width)
                shot(page, where)

                where = "api-two_level"
                page.locator("nav.bd-docs-nav a[href$='docs/book/api/two_level.html']").first.click()
                page.wait_for_url("**/docs/book/api/two_level.html")
                target = page.locator("[id='metalearn_lib.two_level.meta_gradient']")
                target.scroll_into_view_if_needed()
                assert target.is_visible() and "meta_gradient" in target.inner_text()
                shot(page, where)

                needed = [(kind, url) for kind, url in blocked if kind in PAGE_RESOURCES]
                assert not needed, f"the site needed another host for: {needed}"
                mathjax_errors = [text for text in console_errors if "mathjax" in text.lower()]
                assert not mathjax_errors, mathjax_errors
        finally:
            context.close()
