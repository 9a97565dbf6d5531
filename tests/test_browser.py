"""Real-browser tests: Debian's chromium, driven by Playwright, looks at every explorer as a learner does.

For each lecture in ``WIDGET_NOTEBOOKS`` the test opens it in JupyterLab (the learner's Lab of
``make lab``, served on 127.0.0.1 from this repository with throw-away Jupyter state) and in
Voilà, on a 1366 × 768 laptop screen, and checks what the learner sees:

* before the cells run (Lab), the stored output is the explorer's static picture, at its natural
  width;
* after Run All, every cell has run, no output is a Python error and **no stderr box** is shown
  (TensorFlow's start-up lines are kept out by ``metalearn_lib.quiet_tf``);
* every code cell's outputs — in JupyterLab as it would save them, in Voilà as its executor
  recorded them — **equal the committed ones by nbval's rules** (:mod:`tests.output_comparison`):
  with ``--lectures-in-browser`` (``make test``) these two runs are the lectures' two runs in a
  row, and nbval does not run them;
* the explorer's picture is displayed at its **natural CSS width** (the PNG's width divided by
  the kit's pixel ratio, ±2 px: never stretched), every slider's **track is at least 120 px**,
  every dropdown option and control label is shown in full, and the explorer fits the visible
  part of the page (controls and figure on one screen);
* **dragging** the first slider with the mouse changes its value, the readout and the picture.

Waits are for what is needed (the server's kernel idle, every code cell numbered after Run All,
the explorer's readout), within a time budget per notebook derived from its measured run time
(:func:`budget`): ``BUDGET_OVERHEAD_S + BUDGET_SLOWDOWN × run time`` — measured by nbval earlier
in the same process, or the README's course map (this file alone, or a worker of ``make test``'s
parallel run: :mod:`tests.notebook_runtimes`). When the
budget runs out, the failure names the notebook, the phase and the numbers.

A screenshot of every explorer goes to ``tests/artifacts/browser-<where>-<stem>.png``, and a
full-page one to ``tests/artifacts/browser-<where>-<stem>-failure.png`` on failure (CI keeps
``tests/artifacts/``).

Without a browser the tests are skipped with a message saying how to install one, except when
``CI`` is set: there a missing browser is a failure, never a silent skip.

Run: ``.venv/bin/python -m pytest tests/test_browser.py -q`` (about 5 minutes on 2 cores).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from metalearn_lib.plotting import PIXEL_RATIO
from tests import notebook_runtimes
from tests.browser_support import (
    ARTIFACTS_DIR,
    REPO_ROOT,
    jupyterlab_server,
    kernel_seconds,
    launch_chromium,
    require_chromium,
    require_playwright,
    screenshot_on_failure,
    voila_cell_records,
    voila_server,
    wait_until,
)
from tests.notebook_runtimes import RUN_SECONDS_PROPERTY
from tests.output_comparison import output_mismatches

pytestmark = pytest.mark.browser

# Lectures whose explorer the browser test checks, one a chapter, in JupyterLab and in Voilà.
# Each displays a VBox with class ``metalearn-widget`` holding a slider, an HTML readout with
# class ``metalearn-readout`` and an Image, updated when the slider moves.
WIDGET_NOTEBOOKS: tuple[str, ...] = (
    "notebooks/00_welcome.ipynb",
    "notebooks/01_mapping.ipynb",
    "notebooks/02_two_level_learning.ipynb",
    "notebooks/03_model_averaging.ipynb",
    "notebooks/04_teacher_guided_loop.ipynb",
    "notebooks/05_meta_rl_bandits.ipynb",
    "notebooks/06_maml_rl.ipynb",
    "notebooks/07_meta_rl_mdps.ipynb",
    "notebooks/08_applications.ipynb",
    "notebooks/09_faq_and_errata.ipynb",
)
VOILA_NOTEBOOKS: tuple[str, ...] = WIDGET_NOTEBOOKS

# The harness's own stand-in notebook: the same DOM contract, no course code, two layout faults
# and one changed committed output that the checks must find (see tests/fixtures/browser_probe.ipynb).
PROBE_NOTEBOOK = "tests/fixtures/browser_probe.ipynb"
PROBE_RUN_TIME = (2.0, "the probe's own estimate: two cells, no TensorFlow")
PROBE_MISMATCH = "browser_probe.ipynb::Cell 1: outputs differ"

VIEWPORT = {"width": 1366, "height": 768}
MIN_TRACK_PX = 120
WIDTH_TOLERANCE_PX = 2

#: Budget of one notebook's check: this many seconds (server, kernel start, TensorFlow import and
#: page rendering on a busy 2-core machine) plus ``BUDGET_SLOWDOWN`` times its measured run time.
BUDGET_OVERHEAD_S = 60.0
BUDGET_SLOWDOWN = 3.0
UPDATE_TIMEOUT_S = 20.0  # a slider move until readout and image have changed

WIDGET = ".metalearn-widget"
SLIDER = f"{WIDGET} .widget-slider"
HANDLE = f"{SLIDER} .noUi-handle"
SLIDER_READOUT = f"{SLIDER} .widget-readout"
READOUT = f"{WIDGET} .metalearn-readout"
IMAGE = f"{WIDGET} img"
LAB_OUTPUTS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output"
VOILA_OUTPUTS = ".jp-OutputArea-output"

# The outputs of every code cell of the notebook in view, as JupyterLab would save them.
LAB_CODE_OUTPUTS = """() => window.jupyterapp.shell.currentWidget.content.model.toJSON().cells
  .filter((cell) => cell.cell_type === 'code').map((cell) => cell.outputs)"""

ERROR_MARKERS = ("Traceback (most recent call last)", "Error displaying widget", "Error rendering")
STDERR_MIME = "application/vnd.jupyter.stderr"
ERROR_MIME = "application/vnd.jupyter.error"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# What the page reports about the explorer: its picture, sliders, dropdowns, labels and size.
MEASURE_EXPLORER = """(widget) => {
  const box = (e) => e.getBoundingClientRect();
  const img = widget.querySelector('img');
  const label = (e) => ((e.closest('.widget-inline-hbox') || e).querySelector('.widget-label') || {}).textContent || '';
  const canvas = document.createElement('canvas').getContext('2d');
  const selects = [...widget.querySelectorAll('select')].map((s) => {
    const style = getComputedStyle(s);
    canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const texts = [...s.options].map((o) => o.text);
    const widths = texts.map((t) => canvas.measureText(t).width);
    const widest = Math.max(...widths);
    return {label: label(s), widest, option: texts[widths.indexOf(widest)],
            room: s.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)};
  });
  const labels = [...widget.querySelectorAll('.widget-label')].filter((l) => l.textContent.trim()).map(
    (l) => ({text: l.textContent, scroll: l.scrollWidth, client: l.clientWidth}));
  return {
    displayed: img ? box(img).width : 0, naturalPx: img ? img.naturalWidth : 0,
    height: box(widget).height,
    tracks: [...widget.querySelectorAll('.widget-slider .noUi-target')].map(
      (t) => ({label: label(t), width: box(t).width})),
    selects, labels,
  };
}"""


def stem(notebook: str) -> str:
    return Path(notebook).stem


def require_notebook(notebook: str) -> Path:
    path = REPO_ROOT / notebook
    if not path.is_file():
        pytest.fail(f"{notebook} is registered for the browser test but does not exist")
    return path


# ------------------------------------------------------------------------------------- budgets
@dataclass
class Budget:
    """One notebook's time budget, spent phase by phase; running out names the phase."""

    notebook: str
    where: str
    seconds: float
    explanation: str
    started: float = field(default_factory=time.monotonic)
    phase: str = "start"

    def remaining(self) -> float:
        return self.seconds - (time.monotonic() - self.started)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def wait(self, predicate, what: str, interval: float = 0.25, progress=None):
        """Poll ``predicate`` until truthy within what is left of the budget."""
        try:
            return wait_until(predicate, max(1.0, self.remaining()), interval=interval, what=what)
        except AssertionError:
            extra = f"; {progress()}" if progress is not None else ""
            raise AssertionError(
                f"{self.notebook} in {self.where}: the time budget ran out in phase '{self.phase}' "
                f"after {self.elapsed():.0f} s, waiting for {what}{extra}. Budget {self.seconds:.0f} s = "
                f"{self.explanation}."
            ) from None


def budget(notebook: str, where: str, run_time: tuple[float, str] | None = None) -> Budget:
    """``BUDGET_OVERHEAD_S + BUDGET_SLOWDOWN × the notebook's run time`` (see the module docstring);
    ``run_time`` — ``(seconds, source)`` — for a notebook nbval does not run (the probe)."""
    seconds, source = run_time or notebook_runtimes.run_time(notebook)
    total = BUDGET_OVERHEAD_S + BUDGET_SLOWDOWN * seconds
    explanation = f"{BUDGET_OVERHEAD_S:.0f} s + {BUDGET_SLOWDOWN:g} × {seconds:.1f} s run time ({source})"
    return Budget(notebook, where, total, explanation)


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
    """One JupyterLab server (the learner's configuration of ``make lab``) for the module."""
    with jupyterlab_server() as server:
        yield server


@pytest.fixture
def page(browser):
    """A fresh 1366 × 768 browser context and page; console errors are kept for failure reports."""
    context = browser.new_context(viewport=VIEWPORT)
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
# One round trip for all outputs: this runs every half second while a notebook computes, and one
# Playwright call per output (two dozen and more) would take CPU from the kernel it waits for.
OUTPUT_ERRORS = """([selector, markers, errorMime]) => [...document.querySelectorAll(selector)]
  .map((e) => ({text: e.innerText, mime: e.getAttribute('data-mime-type') || ''}))
  .filter((o) => o.mime === errorMime || markers.some((m) => o.text.includes(m)))
  .map((o) => o.text.slice(-2000))"""


def output_errors(page, output_selector: str) -> list[str]:
    """Texts of outputs that show a Python error or a widget that failed to render."""
    return page.evaluate(OUTPUT_ERRORS, [output_selector, list(ERROR_MARKERS), ERROR_MIME])


def stderr_outputs(page, output_selector: str) -> list[str]:
    """Texts of the stderr boxes on the page."""
    return [t[-600:] for t in page.locator(f'{output_selector}[data-mime-type="{STDERR_MIME}"]').all_inner_texts()]


def raise_if_errors(page, output_selector: str) -> None:
    errors = output_errors(page, output_selector)
    if errors:
        raise AssertionError("an output shows an error:\n" + "\n---\n".join(errors))


def widget_state(page) -> tuple[str, str | None, str]:
    """(readout text, image src, slider value text) as the learner sees them."""
    readout = page.locator(READOUT).first.inner_text(timeout=5_000).strip()
    src = page.locator(IMAGE).first.get_attribute("src", timeout=5_000)
    value = page.locator(SLIDER_READOUT).first.inner_text(timeout=5_000).strip()
    return readout, src, value


def wait_for_explorer(page, plan: Budget, outputs: str) -> None:
    """The explorer's slider, readout and picture are on the page (fail at once on an error)."""
    plan.phase = "show the explorer"
    handle = page.locator(HANDLE).first

    def shown_or_error():
        raise_if_errors(page, outputs)
        return handle.is_visible() and page.locator(READOUT).first.is_visible()

    plan.wait(shown_or_error, f"a slider and a readout inside {WIDGET}", interval=0.5)
    plan.wait(lambda: page.locator(IMAGE).first.evaluate("(img) => img.complete && img.naturalWidth > 0"),
              "the explorer's picture to load")


def geometry_problems(report: dict, visible_height: float) -> list[str]:
    """What a learner would see wrong in the explorer, from :data:`MEASURE_EXPLORER`'s report."""
    problems = []
    natural = report["naturalPx"] / PIXEL_RATIO
    if abs(report["displayed"] - natural) > WIDTH_TOLERANCE_PX:
        problems.append(f"the picture is displayed {report['displayed']:.0f} px wide, but its natural width is "
                        f"{natural:.0f} px ({report['naturalPx']} px PNG / pixel ratio {PIXEL_RATIO}): "
                        f"scaled ×{report['displayed'] / max(natural, 1):.2f}")
    for track in report["tracks"]:
        if track["width"] < MIN_TRACK_PX:
            problems.append(f"slider {track['label']!r}: its track is {track['width']:.0f} px, "
                            f"shorter than {MIN_TRACK_PX} px (too short to aim with a mouse)")
    for select in report["selects"]:
        if select["widest"] > select["room"] + 1:
            problems.append(f"dropdown {select['label']!r}: option {select['option']!r} needs "
                            f"{select['widest']:.0f} px but has {select['room']:.0f} px (cut off)")
    for label in report["labels"]:
        if label["scroll"] > label["client"] + 1:
            problems.append(f"label {label['text']!r} is cut ({label['scroll']} px of text in {label['client']} px)")
    if report["height"] > visible_height + 1:
        problems.append(f"the explorer is {report['height']:.0f} px tall, more than the {visible_height:.0f} px "
                        f"visible at {VIEWPORT['width']} × {VIEWPORT['height']}: controls and figure do not fit "
                        "on one screen")
    return problems


def measure_explorer(page) -> dict:
    widget = page.locator(WIDGET).first
    widget.scroll_into_view_if_needed()
    return widget.evaluate(MEASURE_EXPLORER)


def drag_first_slider(page) -> str:
    """Drag the first slider's handle with the mouse; assert the value, readout and image change."""
    before_readout, before_src, before_value = widget_state(page)
    assert before_readout, "the .metalearn-readout shows no text before the slider moves"
    handle = page.locator(HANDLE).first
    handle.scroll_into_view_if_needed()
    track = page.locator(f"{SLIDER} .noUi-target").first.bounding_box()
    knob = handle.bounding_box()
    x, y = knob["x"] + knob["width"] / 2, knob["y"] + knob["height"] / 2
    to_x = x + 0.35 * track["width"] if x < track["x"] + 0.5 * track["width"] else x - 0.35 * track["width"]
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(to_x, y, steps=10)
    page.mouse.up()
    wait_until(lambda: widget_state(page)[2] != before_value, 5.0,
               what=f"the slider's value to change when its handle is dragged from x = {x:.0f} to {to_x:.0f}")

    def changed():
        readout, src, _ = widget_state(page)
        return readout != before_readout and src != before_src

    try:
        wait_until(changed, UPDATE_TIMEOUT_S, what="the readout text and the chart image to change")
    except AssertionError as exc:
        after = widget_state(page)
        raise AssertionError(f"{exc}: before readout={before_readout!r} value={before_value!r}; "
                             f"after readout={after[0]!r} value={after[2]!r}") from None
    after_readout, _, after_value = widget_state(page)
    return f"{before_value} -> {after_value}: {before_readout.splitlines()[0]!r} -> {after_readout.splitlines()[0]!r}"


def save_explorer_screenshot(page, name: str) -> None:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.locator(WIDGET).first.screenshot(path=str(ARTIFACTS_DIR / f"browser-{name}.png"), timeout=15_000)


def diagnostics(page, server=None, outputs: str = VOILA_OUTPUTS) -> str:
    parts = []
    try:
        texts = [t[-800:] for t in page.locator(outputs).all_inner_texts()]
        parts.append("outputs:\n" + ("\n---\n".join(texts[-8:]) if texts else "(none)"))
    except Exception as exc:  # the page may be gone
        parts.append(f"outputs: unavailable ({exc!r})")
    errors = getattr(page, "console_errors", [])
    if errors:
        parts.append("browser console errors:\n" + "\n".join(e[:300] for e in errors[-10:]))
    if server is not None:
        parts.append(f"{server.name} log tail:\n{server.log_tail(2500)}")
    return "\n\n".join(parts)


def widget_cell_index(notebook: str) -> int:
    """The index (among all cells) of the notebook's first cell whose stored output is a widget."""
    cells = nbformat.read(REPO_ROOT / notebook, as_version=4).cells
    for index, cell in enumerate(cells):
        if any(WIDGET_VIEW in output.get("data", {}) for output in cell.get("outputs", [])):
            return index
    raise AssertionError(f"{notebook} stores no widget output: display the explorer as a cell's value")


# ------------------------------------------------------------------------------------ JupyterLab
def lab_menu(page, menu: str, command: str) -> None:
    """Open a menu of the menu bar and click the item of ``command`` (by command id, not by text)."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(rf"^\s*{menu}\s*$")).first.click()
    item = page.locator(f'li[data-command="{command}"]')
    item.wait_for(state="visible", timeout=10_000)
    item.click()


def lab_wait_kernel_idle(lab, notebook: str, page, plan: Budget) -> None:
    """The server reports the notebook's kernel idle and the page's indicator shows it too."""
    plan.phase = "start the kernel"

    def idle_on_server():
        for session in lab.api("api/sessions"):
            kernel = session.get("kernel") or {}
            if session.get("path") == notebook and kernel.get("execution_state") == "idle":
                return True
        return False

    plan.wait(idle_on_server, f"{notebook}'s kernel to be idle", interval=0.5)
    indicator = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator").first
    plan.wait(lambda: indicator.count() == 0 or indicator.get_attribute("data-status") == "idle",
              "the notebook's kernel indicator to show idle")


LAB_PROMPTS = """() => {
  const prompts = [...document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')].map((p) => p.textContent.trim());
  return {total: prompts.length, done: prompts.filter((t) => /^\\[\\d+\\]:$/.test(t)).length};
}"""


def lab_run_all_and_wait(page, plan: Budget) -> None:
    """Clear every output (so each code cell's prompt is blank), Run All, and wait until every code
    cell shows an execution count; fail at once when an output shows an error."""
    plan.phase = "clear the outputs"
    lab_menu(page, "Edit", "editmenu:clear-all")
    plan.wait(lambda: page.evaluate(LAB_PROMPTS)["done"] == 0, "the execution counts to clear")
    plan.phase = "run all cells"
    lab_menu(page, "Run", "runmenu:run-all")

    def all_ran():
        raise_if_errors(page, LAB_OUTPUTS)
        prompts = page.evaluate(LAB_PROMPTS)
        return prompts["total"] > 0 and prompts["done"] == prompts["total"]

    def progress():
        prompts = page.evaluate(LAB_PROMPTS)
        return f"{prompts['done']} of {prompts['total']} code cells have run"

    plan.wait(all_ran, "every code cell to run", interval=0.5, progress=progress)


def check_static_picture_in_lab(page, notebook: str) -> None:
    """Before the cells run, the explorer's cell shows its static picture at its natural width."""
    cell = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(
        widget_cell_index(notebook))
    image = cell.locator('.jp-OutputArea-output[data-mime-type="image/png"] img').first
    image.wait_for(state="attached", timeout=30_000)
    cell.scroll_into_view_if_needed()
    sizes = image.evaluate("(img) => [img.getBoundingClientRect().width, img.naturalWidth]")
    natural = sizes[1] / PIXEL_RATIO
    assert abs(sizes[0] - natural) <= WIDTH_TOLERANCE_PX, (
        f"{notebook}: before its cells run, the explorer's static picture is displayed {sizes[0]:.0f} px wide, "
        f"not at its natural {natural:.0f} px (re-execute the notebook: `make execute NB={notebook}`)")


def check_outputs(notebook: str, outputs: list, where: str, *, probe: bool = False) -> None:
    """Every code cell's outputs equal the committed ones (nbval's rules); the probe notebook's
    planted change (its last cell, 41 committed where 42 is printed) must be the one mismatch."""
    mismatches = output_mismatches(REPO_ROOT / notebook, outputs)
    if probe:
        assert len(mismatches) == 1 and mismatches[0].startswith(PROBE_MISMATCH), (
            f"the comparison missed the probe's planted output change in {where}; it found {mismatches}")
        assert "answer: 41" in mismatches[0] and "answer: 42" in mismatches[0], mismatches[0]
    else:
        assert not mismatches, f"{notebook} {where}:\n" + "\n\n".join(mismatches)


def check_notebook_in_lab(lab, page, notebook: str, *, expect_problems: tuple[str, ...] = ()) -> Budget:
    """Everything the module docstring lists, in JupyterLab. ``expect_problems``: fragments of the
    layout problems the probe notebook must be found to have (the course's notebooks have none)."""
    require_notebook(notebook)
    plan = budget(notebook, "JupyterLab", PROBE_RUN_TIME if notebook == PROBE_NOTEBOOK else None)
    shot = ARTIFACTS_DIR / f"browser-lab-{stem(notebook)}-failure.png"
    shot.unlink(missing_ok=True)
    with screenshot_on_failure(page, shot, lambda: diagnostics(page, lab, LAB_OUTPUTS)):
        plan.phase = "open the notebook"
        page.goto(lab.url(f"lab/tree/{notebook}", reset=""), wait_until="domcontentloaded")
        plan.wait(lambda: page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.is_visible(),
                  "the notebook's first cell")
        if not expect_problems:
            check_static_picture_in_lab(page, notebook)
        lab_wait_kernel_idle(lab, notebook, page, plan)
        lab_run_all_and_wait(page, plan)
        wait_for_explorer(page, plan, LAB_OUTPUTS)
        plan.phase = "compare every cell's outputs with the committed ones (nbval's rules)"
        check_outputs(notebook, page.evaluate(LAB_CODE_OUTPUTS), "after Run All in JupyterLab",
                      probe=notebook == PROBE_NOTEBOOK)
        plan.phase = "look at the explorer"
        stderr = stderr_outputs(page, LAB_OUTPUTS)
        assert not stderr, f"{notebook} shows stderr boxes after Run All:\n" + "\n---\n".join(stderr)
        visible = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer").first.evaluate(
            "(e) => e.clientHeight")
        problems = geometry_problems(measure_explorer(page), visible)
        save_explorer_screenshot(page, f"lab-{stem(notebook)}")
        if expect_problems:
            for fragment in expect_problems:
                assert any(fragment in p for p in problems), f"the checks missed {fragment!r}; they found {problems}"
        else:
            assert not problems, f"{notebook} in JupyterLab:\n- " + "\n- ".join(problems)
        plan.phase = "drag a slider"
        change = drag_first_slider(page)
        raise_if_errors(page, LAB_OUTPUTS)
    print(f"{notebook}: {change} ({plan.elapsed():.1f} s in JupyterLab, budget {plan.seconds:.0f} s)")
    return plan


# ------------------------------------------------------------------------------------------- tests
@pytest.mark.parametrize("notebook", WIDGET_NOTEBOOKS, ids=stem)
def test_explorer_in_jupyterlab(lab, page, notebook):
    check_notebook_in_lab(lab, page, notebook)


def test_browser_harness_finds_the_probe_notebooks_layout_faults(lab, page):
    """The harness on a notebook with the same DOM contract, no course code and two known faults:
    its picture is stretched and its first slider squeezed. The checks must report both, and the
    rest (run all, no stderr, dragging the slider changes the output) must pass."""
    check_notebook_in_lab(lab, page, PROBE_NOTEBOOK, expect_problems=("the picture is displayed", "its track is"))


def open_voila_page(page, voila, plan: Budget) -> None:
    """Open the Voilà page and wait until Voilà has run every cell and shows the rendered page."""
    page.goto(voila.url(""), wait_until="commit", timeout=max(1, plan.remaining()) * 1000)
    plan.wait(lambda: page.locator("#rendered_cells").count() > 0 and page.locator("#loading").count() == 0,
              "Voilà to run every cell and render the page", interval=0.5)


def test_voila_run_finds_the_probe_notebooks_changed_output(chromium_executable, page):
    """Voilà's recorded outputs reach the comparison: the probe's planted change is found."""
    plan = budget(PROBE_NOTEBOOK, "Voilà", PROBE_RUN_TIME)
    with voila_server(REPO_ROOT / PROBE_NOTEBOOK, capture_outputs=True) as voila:
        open_voila_page(page, voila, plan)
        records = voila_cell_records(page)
        assert len(records) == 2 and kernel_seconds(records) >= 0
        check_outputs(PROBE_NOTEBOOK, [record["outputs"] for record in records], "run in Voilà", probe=True)


def test_output_errors_finds_python_errors_and_failed_widgets(page):
    """The error scan that runs while a notebook computes: a traceback in any output, an output of
    the error mime type and a widget that failed to render are found; clean outputs are not."""
    page.set_content("""
      <div class="out" data-mime-type="text/plain">all fine: 0.65 ± 0.06</div>
      <div class="out" data-mime-type="application/vnd.jupyter.stderr">Traceback (most recent call last):
        ZeroDivisionError</div>
      <div class="out" data-mime-type="application/vnd.jupyter.error">NameError: name 'x' is not defined</div>
      <div class="out" data-mime-type="text/html">Error displaying widget: model not found</div>
      <div class="elsewhere">Traceback (most recent call last): not an output</div>""")
    found = output_errors(page, ".out")
    assert len(found) == 3, found
    assert "ZeroDivisionError" in found[0] and "NameError" in found[1] and "Error displaying widget" in found[2]
    assert output_errors(page, ".elsewhere") and not output_errors(page, ".nothing")


def test_learners_lab_has_no_teacher_tools_and_no_news_popup(lab, page):
    """``make lab``'s JupyterLab: no nbgrader menu, sidebar or button, and no news pop-up."""
    page.goto(lab.url("lab/tree/notebooks/00_welcome.ipynb", reset=""), wait_until="domcontentloaded")
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(state="visible", timeout=60_000)
    page.locator(".jp-Notebook-ExecutionIndicator").first.wait_for(state="attached", timeout=30_000)
    time.sleep(5)  # the news question, when it comes, comes a moment after the application is restored
    menus = [t.strip() for t in page.locator(".lm-MenuBar-item").all_inner_texts()]
    assert "Run" in menus and "Nbgrader" not in menus, menus
    assert page.get_by_text("Create Assignment").count() == 0
    assert page.locator(".jp-Toolbar-item", has_text="Validate").count() == 0
    toasts = page.locator(".Toastify__toast").all_inner_texts()
    assert not toasts, f"pop-ups in a learner's Lab: {toasts}"


@pytest.mark.parametrize("notebook", VOILA_NOTEBOOKS, ids=stem)
def test_explorer_in_voila(chromium_executable, page, notebook, record_property):
    require_notebook(notebook)
    plan = budget(notebook, "Voilà")
    shot = ARTIFACTS_DIR / f"browser-voila-{stem(notebook)}-failure.png"
    shot.unlink(missing_ok=True)
    with (
        voila_server(REPO_ROOT / notebook, capture_outputs=True) as voila,
        screenshot_on_failure(page, shot, lambda: diagnostics(page, voila)),
    ):
        plan.phase = "render and run the notebook"
        open_voila_page(page, voila, plan)
        wait_for_explorer(page, plan, VOILA_OUTPUTS)
        plan.phase = "compare every cell's outputs with the committed ones (nbval's rules)"
        records = voila_cell_records(page)
        record_property(RUN_SECONDS_PROPERTY, kernel_seconds(records))
        check_outputs(notebook, [record["outputs"] for record in records], "run in Voilà")
        plan.phase = "look at the explorer"
        stderr = stderr_outputs(page, VOILA_OUTPUTS)
        assert not stderr, f"{notebook} shows stderr boxes in Voilà:\n" + "\n---\n".join(stderr)
        problems = geometry_problems(measure_explorer(page), VIEWPORT["height"])
        save_explorer_screenshot(page, f"voila-{stem(notebook)}")
        assert not problems, f"{notebook} in Voilà:\n- " + "\n- ".join(problems)
        plan.phase = "drag a slider"
        change = drag_first_slider(page)
        raise_if_errors(page, VOILA_OUTPUTS)
    print(f"{notebook}: {change} ({plan.elapsed():.1f} s in Voilà, budget {plan.seconds:.0f} s)")
