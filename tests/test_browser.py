"""Real-browser tests: Debian's chromium, driven by Playwright, moves the course's sliders.

For each notebook in ``WIDGET_NOTEBOOKS`` the test opens it in JupyterLab (served on
127.0.0.1 from this repository, with throw-away Jupyter state), runs all cells from the Run
menu, finds the slider inside the ``.metalearn-widget`` container, moves it with the keyboard
and checks that what the widget displays (the ``.metalearn-readout`` text and the chart image)
changes. A full-page screenshot goes to ``tests/artifacts/browser-<stem>.png`` on failure.

Without a browser the tests are skipped with a message saying how to install one, except when
``CI`` is set: there a missing browser is a failure, never a silent skip.

Run: ``.venv/bin/python -m pytest tests/test_browser.py -q``. On a 2-core machine: about 5 s
to start JupyterLab, 10 s per notebook in JupyterLab, 15 s per notebook in Voilà.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.browser_support import (
    REPO_ROOT,
    jupyterlab_server,
    launch_chromium,
    require_chromium,
    require_playwright,
    screenshot_on_failure,
    screenshot_path,
    voila_server,
    wait_until,
)

pytestmark = pytest.mark.browser

# Notebooks whose main widget the browser test drives: one line per chapter. Each must display
# a VBox with class ``metalearn-widget`` holding a slider, an HTML readout with class
# ``metalearn-readout`` and an Image, updated when the slider moves.
WIDGET_NOTEBOOKS: tuple[str, ...] = (
    "notebooks/00_welcome.ipynb",
    "notebooks/01_mapping.ipynb",
    "notebooks/02_two_level_learning.ipynb",
    "notebooks/03_model_averaging.ipynb",
    "notebooks/04_teacher_guided_loop.ipynb",
    "notebooks/05_meta_rl_bandits.ipynb",
)

# Notebooks also checked in Voilà (the learner-facing dashboard view).
VOILA_NOTEBOOKS: tuple[str, ...] = ("notebooks/00_welcome.ipynb",)

# The harness's own stand-in notebook, with the same DOM contract; see tests/fixtures/.
PROBE_NOTEBOOK = "tests/fixtures/browser_probe.ipynb"

WIDGET = ".metalearn-widget"
SLIDER = f"{WIDGET} .widget-slider"
HANDLE = f"{SLIDER} .noUi-handle"
SLIDER_READOUT = f"{SLIDER} .widget-readout"
READOUT = f"{WIDGET} .metalearn-readout"
IMAGE = f"{WIDGET} img"

KERNEL_IDLE_TIMEOUT = 60.0  # kernel start on a busy 2-core machine
WIDGET_TIMEOUT = 60.0  # run all cells (imports, TensorFlow) until the slider shows
UPDATE_TIMEOUT = 20.0  # a slider move until readout and image have changed

ERROR_MARKERS = ("Traceback (most recent call last)", "Error displaying widget", "Error rendering")
STDERR_MIME = "application/vnd.jupyter.stderr"
ERROR_LINE = re.compile(r"^\w*(Error|Exception)\b.*:", re.MULTILINE)


def stem(notebook: str) -> str:
    return Path(notebook).stem


def require_notebook(notebook: str) -> Path:
    path = REPO_ROOT / notebook
    if not path.is_file():
        pytest.fail(f"{notebook} is registered for the browser test but does not exist")
    return path


# ------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def chromium_executable() -> str:
    require_playwright()
    return require_chromium()


@pytest.fixture(scope="module")
def browser(chromium_executable):
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = launch_chromium(playwright, chromium_executable)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture(scope="module")
def lab(chromium_executable):
    """One JupyterLab server for every notebook of the module."""
    with jupyterlab_server() as server:
        yield server


@pytest.fixture
def page(browser):
    """A fresh browser context and page; its console errors are kept for failure reports."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    console_errors: list[str] = []

    def on_console(msg) -> None:
        if msg.type == "error":
            console_errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda err: console_errors.append(f"pageerror: {err}"))
    page.console_errors = console_errors  # read by diagnostics()
    try:
        yield page
    finally:
        context.close()


# ------------------------------------------------------------------------------------- helpers
def output_errors(page, output_selector: str) -> list[str]:
    """Texts of outputs that show a Python error or a widget that failed to render.

    JupyterLab renders error outputs (and stderr) with the stderr MIME type; a traceback is
    recognised by its text wherever it appears, an ``XxxError: ...`` line only on stderr (TF's
    log lines there are warnings, not errors).
    """
    found = []
    for loc in page.locator(output_selector).all():
        text = loc.inner_text(timeout=5_000)
        mime = loc.get_attribute("data-mime-type", timeout=5_000) or ""
        if (
            any(marker in text for marker in ERROR_MARKERS)
            or mime == "application/vnd.jupyter.error"
            or (mime == STDERR_MIME and ERROR_LINE.search(text))
        ):
            found.append(text[-2000:])
    return found


def widget_state(page) -> tuple[str, str | None, str]:
    """(readout text, image src, slider value text) as the learner sees them."""
    readout = page.locator(READOUT).first.inner_text(timeout=5_000).strip()
    src = page.locator(IMAGE).first.get_attribute("src", timeout=5_000)
    value = page.locator(SLIDER_READOUT).first.inner_text(timeout=5_000).strip()
    return readout, src, value


def wait_for_widget(page, timeout: float, outputs: str) -> None:
    """Wait for the slider to show; fail at once if an output shows an error instead."""
    handle = page.locator(HANDLE).first

    def shown_or_error():
        if handle.is_visible():
            return True
        errors = output_errors(page, outputs)
        if errors:
            raise AssertionError(
                "an output shows an error before the widget appeared:\n" + "\n---\n".join(errors)
            )
        return False

    wait_until(shown_or_error, timeout, interval=0.5, what=f"a slider inside {WIDGET}")
    page.locator(READOUT).first.wait_for(state="visible", timeout=10_000)
    page.locator(IMAGE).first.wait_for(state="attached", timeout=10_000)
    # The image's first PNG may arrive a moment after the view is created.
    wait_until(
        lambda: page.locator(IMAGE).first.get_attribute("src"), 10.0, what="the chart image src"
    )


def move_slider_and_check(page) -> str:
    """Move the slider with the keyboard; assert the readout, image and value all change."""
    before_readout, before_src, before_value = widget_state(page)
    assert before_readout, "the .metalearn-readout shows no text before the slider moves"

    handle = page.locator(HANDLE).first
    for key in ("ArrowRight", "ArrowLeft"):  # ArrowLeft when the slider starts at its maximum
        handle.focus()
        for _ in range(5 if key == "ArrowRight" else 10):
            handle.press(key)
        try:
            wait_until(
                lambda: widget_state(page)[2] != before_value, 5.0, what="the slider value"
            )
            break
        except AssertionError:
            continue
    else:
        raise AssertionError(
            f"the slider's .widget-readout stayed {before_value!r} after ArrowRight/ArrowLeft"
        )

    def changed():
        readout, src, _ = widget_state(page)
        return readout != before_readout and src != before_src

    try:
        wait_until(changed, UPDATE_TIMEOUT, what="the readout text and the chart image to change")
    except AssertionError as exc:
        after = widget_state(page)
        raise AssertionError(
            f"{exc}: before readout={before_readout!r} src={before_src!r} value={before_value!r};"
            f" after readout={after[0]!r} src={after[1]!r} value={after[2]!r}"
        ) from None
    after_readout, _, after_value = widget_state(page)
    return f"{before_value} -> {after_value}: {before_readout!r} -> {after_readout!r}"


def lab_wait_kernel_idle(lab, notebook: str, page) -> None:
    """Wait until the server reports the notebook's kernel idle and the page shows it too."""

    def idle_on_server():
        for session in lab.api("api/sessions"):
            kernel = session.get("kernel") or {}
            if session.get("path") == notebook and kernel.get("execution_state") == "idle":
                return True
        return False

    wait_until(idle_on_server, KERNEL_IDLE_TIMEOUT, interval=0.5, what=f"{notebook}'s kernel")
    # The toolbar indicator goes idle -> initializing -> connecting -> idle; by the time the
    # server reports the kernel idle it is past the first idle, so idle now means connected.
    indicator = page.locator(
        ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator"
    ).first
    wait_until(
        lambda: indicator.count() == 0 or indicator.get_attribute("data-status") == "idle",
        KERNEL_IDLE_TIMEOUT,
        interval=0.25,
        what="the notebook's kernel indicator to show idle",
    )


def lab_run_all(page) -> None:
    """Run > Run All Cells (by command id: the text also matches 'Restart Kernel and Run All')."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^\s*Run\s*$")).first.click()
    item = page.locator('li[data-command="runmenu:run-all"]')
    item.wait_for(state="visible", timeout=10_000)
    item.click()


def diagnostics(page, server=None, outputs: str = ".jp-OutputArea-output") -> str:
    parts = []
    try:
        texts = [t[-800:] for t in page.locator(outputs).all_inner_texts()]
        parts.append("outputs:\n" + ("\n---\n".join(texts) if texts else "(none)"))
    except Exception as exc:  # the page may be gone
        parts.append(f"outputs: unavailable ({exc!r})")
    errors = getattr(page, "console_errors", [])
    if errors:
        parts.append("browser console errors:\n" + "\n".join(e[:300] for e in errors[-10:]))
    if server is not None:
        parts.append(f"{server.name} log tail:\n{server.log_tail(2500)}")
    return "\n\n".join(parts)


# --------------------------------------------------------------------------------------- tests
def check_notebook_in_lab(lab, page, notebook: str) -> None:
    require_notebook(notebook)
    shot = screenshot_path(stem(notebook))
    shot.unlink(missing_ok=True)
    started = time.monotonic()
    with screenshot_on_failure(page, shot, lambda: diagnostics(page, lab)):
        page.goto(lab.url(f"lab/tree/{notebook}", reset=""), wait_until="domcontentloaded")
        page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(
            state="visible", timeout=60_000
        )
        lab_wait_kernel_idle(lab, notebook, page)
        lab_run_all(page)
        wait_for_widget(page, WIDGET_TIMEOUT, ".jp-OutputArea-output")
        errors = output_errors(page, ".jp-OutputArea-output")
        assert not errors, f"{notebook} shows an error after Run All:\n" + "\n---\n".join(errors)
        change = move_slider_and_check(page)
        errors = output_errors(page, ".jp-OutputArea-output")
        assert not errors, f"{notebook} shows an error after the slider moved:\n" + "\n".join(
            errors
        )
    print(f"{notebook}: {change} ({time.monotonic() - started:.1f} s in JupyterLab)")


@pytest.mark.parametrize("notebook", WIDGET_NOTEBOOKS, ids=stem)
def test_slider_changes_displayed_output_in_jupyterlab(lab, page, notebook):
    check_notebook_in_lab(lab, page, notebook)


def test_browser_harness_on_probe_notebook(lab, page):
    """The harness itself, on a notebook with the same DOM contract and no course code."""
    check_notebook_in_lab(lab, page, PROBE_NOTEBOOK)


@pytest.mark.parametrize("notebook", VOILA_NOTEBOOKS, ids=stem)
def test_slider_changes_displayed_output_in_voila(chromium_executable, page, notebook):
    require_notebook(notebook)
    shot = screenshot_path(f"voila-{stem(notebook)}")
    shot.unlink(missing_ok=True)
    started = time.monotonic()
    with (
        voila_server(REPO_ROOT / notebook) as voila,
        screenshot_on_failure(page, shot, lambda: diagnostics(page, voila)),
    ):
        page.goto(voila.url(""), wait_until="domcontentloaded", timeout=60_000)
        wait_for_widget(page, WIDGET_TIMEOUT, ".jp-OutputArea-output")
        errors = output_errors(page, ".jp-OutputArea-output")
        assert not errors, f"{notebook} shows an error in Voilà:\n" + "\n---\n".join(errors)
        change = move_slider_and_check(page)
    print(f"{notebook}: {change} ({time.monotonic() - started:.1f} s in Voilà)")
