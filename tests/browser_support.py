"""Helpers for the real-browser tests: find Chromium, run JupyterLab or Voilà, drive a page.

Everything here is bounded in time and cleans up after itself. The servers run from the same
Python as the tests, on 127.0.0.1 and a free port, with every Jupyter config, data, runtime,
settings and workspace directory pointed at a temporary folder so that no user state leaks in
and nothing is written into the repository (checkpoints go to the temporary folder too, and
JupyterLab's autosave is off, so running the notebooks never rewrites them).

Debian's chromium is driven through the Python ``playwright`` package with
``executable_path``; never run ``playwright install`` (it downloads a browser).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

from metalearn_lib.authoring.lab import lab_environment

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS_DIR = REPO_ROOT / "tests" / "artifacts"

CHROMIUM_ENV = "METALEARN_CHROMIUM"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = "install Debian's chromium (apt-get install chromium) to run the real-browser widget test"

SERVER_START_TIMEOUT = 60.0
SERVER_STOP_TIMEOUT = 15.0

# JupyterLab user settings written into the temporary settings directory: no autosave (the
# test must never rewrite a notebook). News and update checks are off through the learner's
# configuration (metalearn_lib.authoring.lab, what `make lab` uses), which the test must prove.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}


# ----------------------------------------------------------------------------------- browser
def in_ci() -> bool:
    """True when the ``CI`` environment variable holds a true value."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no", "off"}


def find_chromium() -> str | None:
    """The Chromium executable to use, or None.

    ``$METALEARN_CHROMIUM`` wins when set (and is then the only candidate, so that pointing it at
    a missing file really means "no browser"); otherwise /usr/bin/chromium, then ``chromium`` on
    PATH.
    """
    override = os.environ.get(CHROMIUM_ENV)
    if override:
        path = shutil.which(override) or (override if os.access(override, os.X_OK) else None)
        return path
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def require_chromium() -> str:
    """The Chromium path; skip the test locally when there is none, but fail loudly in CI."""
    path = find_chromium()
    if path is None:
        override = os.environ.get(CHROMIUM_ENV)
        looked = (
            f"${CHROMIUM_ENV}={override!r} is not an executable"
            if override
            else "no /usr/bin/chromium and no `chromium` on PATH"
        )
        if in_ci():
            pytest.fail(f"CI is set, so the browser test may not be skipped: {looked}; {INSTALL_HINT}")
        pytest.skip(f"{looked}: {INSTALL_HINT}")
    return path


def require_playwright() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        message = f"the Python package playwright is not importable ({exc}); pip install playwright"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)


def launch_chromium(playwright, executable: str):
    """Launch headless Chromium through Playwright with the flags that work on these machines."""
    return playwright.chromium.launch(
        executable_path=executable,
        headless=True,
        args=CHROMIUM_FLAGS,
        timeout=60_000,
    )


# ----------------------------------------------------------------------------------- servers
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def isolated_jupyter_env(base: Path, role: str = "learner") -> dict[str, str]:
    """An environment whose Jupyter user directories all live under ``base``, with ``role``'s
    configuration (``make lab``: learner, ``make teach``: teacher) first on ``JUPYTER_CONFIG_PATH``."""
    dirs = {
        "JUPYTER_CONFIG_DIR": base / "config",
        "JUPYTER_DATA_DIR": base / "data",
        "JUPYTER_RUNTIME_DIR": base / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": base / "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": base / "lab-workspaces",
        "IPYTHONDIR": base / "ipython",
        "MPLCONFIGDIR": base / "matplotlib",
    }
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    for name, value in LAB_SETTINGS.items():
        target = dirs["JUPYTERLAB_SETTINGS_DIR"] / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(value))
    env = dict(os.environ)
    env.update({name: str(path) for name, path in dirs.items()})
    for name in ("JUPYTER_PATH", "JUPYTER_PLATFORM_DIRS", "JUPYTER_CONFIG_PATH", "TF_CPP_MIN_LOG_LEVEL"):
        env.pop(name, None)  # TensorFlow's quiet start is the library's job: the test must see it done
    env = lab_environment(role, base=env)
    env["PYTHONUNBUFFERED"] = "1"
    # The kernel must find the same Python and tools as the tests.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


@dataclass
class Server:
    """A Jupyter server process (JupyterLab or Voilà) that we started."""

    name: str
    argv: list[str]
    port: int
    token: str
    workdir: Path
    status_path: str
    # Voilà has no status endpoint: any HTTP answer (even 404) means it is listening.
    any_http_answer_is_up: bool = False
    proc: subprocess.Popen | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.workdir / f"{self.name}.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str, **query: str) -> str:
        params = dict(query)
        if self.token:
            params["token"] = self.token
        qs = "&".join(f"{k}={v}" if v != "" else k for k, v in params.items())
        return f"{self.base_url}/{path.lstrip('/')}" + (f"?{qs}" if qs else "")

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def api(self, path: str, method: str = "GET", timeout: float = 5.0):
        req = urllib.request.Request(self.url(path), method=method)
        if self.token:
            req.add_header("Authorization", f"token {self.token}")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def start(self, env: dict[str, str], cwd: Path) -> None:
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode} while starting:\n"
                    + self.log_tail()
                )
            try:
                self.api(self.status_path, timeout=2.0)
                return
            except urllib.error.HTTPError as exc:
                if self.any_http_answer_is_up:
                    return
                last_error = exc
            except (urllib.error.URLError, OSError, ValueError) as exc:
                last_error = exc
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(
            f"{self.name} did not answer {self.status_path} within {SERVER_START_TIMEOUT:.0f} s "
            f"(last error: {last_error}):\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """Ask the server to shut down (kernels included), then TERM, then KILL; always reap."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        if self.name == "jupyterlab":
            try:
                self.api("api/shutdown", method="POST", timeout=5.0)
            except Exception:  # a dead or wedged server: signals below
                pass
            else:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=SERVER_STOP_TIMEOUT)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if proc.poll() is not None:
                break
            # The server runs in its own session, so its group holds only it and its kernels.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=SERVER_STOP_TIMEOUT)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            # Anything still left in the group (an orphaned kernel) goes too.
            os.killpg(proc.pid, signal.SIGKILL)


def root_flag() -> list[str]:
    return ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []


@contextlib.contextmanager
def jupyterlab_server(root_dir: Path = REPO_ROOT, role: str = "learner") -> Iterator[Server]:
    """A JupyterLab server on 127.0.0.1 serving ``root_dir`` as ``make lab`` (or, with
    ``role="teacher"``, ``make teach``) configures it; stopped and reaped on exit."""
    with tempfile.TemporaryDirectory(prefix="metalearn-lab-") as tmp:
        base = Path(tmp)
        env = isolated_jupyter_env(base, role)
        port, token = free_port(), secrets.token_hex(24)
        checkpoints = base / "checkpoints"
        checkpoints.mkdir()
        argv = [
            sys.executable, "-m", "jupyter", "lab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root_dir}",
            # An absolute checkpoint_dir keeps .ipynb_checkpoints out of the repository.
            f"--FileCheckpoints.checkpoint_dir={checkpoints}",
            f"--LabApp.workspaces_dir={base / 'lab-workspaces'}",
            f"--LabApp.user_settings_dir={base / 'lab-settings'}",
            # window.jupyterapp, for reading a notebook's outputs after Run All (test_browser.LAB_CODE_OUTPUTS).
            "--LabApp.expose_app_in_browser=True",
            *root_flag(),
        ]  # fmt: skip
        server = Server("jupyterlab", argv, port, token, base, "api/status")
        try:
            server.start(env, cwd=root_dir)
            yield server
        finally:
            server.stop()


@contextlib.contextmanager
def voila_server(notebook: Path, root_dir: Path = REPO_ROOT, *, capture_outputs: bool = False) -> Iterator[Server]:
    """A Voilà server rendering ``notebook``; stopped and reaped on exit.

    With ``capture_outputs`` the page is Voilà's own ``lab`` template plus, before each code
    cell, a hidden ``<script type="application/x.metalearn-cell+json">`` holding the cell's
    outputs and execution timing exactly as Voilà's executor (nbclient) recorded them — for
    nbval's comparison (:func:`voila_cell_records`). Nothing else on the page changes.
    """
    with tempfile.TemporaryDirectory(prefix="metalearn-voila-") as tmp:
        base = Path(tmp)
        env = isolated_jupyter_env(base)
        template_args = []
        if capture_outputs:
            folder = base / "data" / "voila" / "templates" / CAPTURE_TEMPLATE
            folder.mkdir(parents=True)
            (folder / "conf.json").write_text(json.dumps({"base_template": "lab"}))
            (folder / "index.html.j2").write_text(CAPTURE_TEMPLATE_SOURCE)
            template_args = [f"--template={CAPTURE_TEMPLATE}"]
        port, token = free_port(), secrets.token_hex(24)
        argv = [
            sys.executable, "-m", "voila", str(notebook),
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            f"--Voila.token={token}",
            "--Voila.port_retries=0",
            "--show_tracebacks=True",
            *template_args,
        ]  # fmt: skip
        server = Server(
            "voila", argv, port, token, base, "voila/static/", any_http_answer_is_up=True
        )
        try:
            server.start(env, cwd=root_dir)
            yield server
        finally:
            server.stop()


CAPTURE_TEMPLATE = "metalearn-capture"
CELL_RECORD_MIME = "application/x.metalearn-cell+json"
CAPTURE_TEMPLATE_SOURCE = """{%- extends 'lab/index.html.j2' -%}
{%- block codecell scoped -%}
<script type="%s">{{ {"outputs": cell.outputs, "execution": cell.metadata.get("execution", {})} | tojson }}</script>
{{ super() }}
{%- endblock codecell -%}
""".replace("%s", CELL_RECORD_MIME)


def voila_cell_records(page) -> list[dict]:
    """``[{"outputs": [...], "execution": {...}}]`` of every code cell Voilà ran, in order (see
    :func:`voila_server`'s ``capture_outputs``)."""
    texts = page.eval_on_selector_all(f'script[type="{CELL_RECORD_MIME}"]',
                                      "(nodes) => nodes.map((n) => n.textContent)")
    return [json.loads(text) for text in texts]


def kernel_seconds(records: list[dict]) -> float:
    """Seconds from the first code cell's start to the last one's end, by the kernel's own clock
    (nbclient's ``execution`` timestamps); kernel start-up is not included."""
    stamps = [datetime.fromisoformat(stamp) for record in records
              for key, stamp in record["execution"].items() if key in ("iopub.status.busy", "iopub.status.idle")]
    if not stamps:
        raise AssertionError("Voilà recorded no execution times (nbclient's record_timing is off?)")
    return (max(stamps) - min(stamps)).total_seconds()


# ------------------------------------------------------------------------------- page helpers
def wait_until(predicate, timeout: float, interval: float = 0.2, what: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value; raise AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def screenshot_path(name: str) -> Path:
    return ARTIFACTS_DIR / f"browser-{name}.png"


@contextlib.contextmanager
def screenshot_on_failure(page, path: Path, diagnostics=None) -> Iterator[None]:
    """Run a block; if it raises, save a full-page screenshot and name it in the failure.

    The report shows the original error with its traceback, then (as its direct consequence)
    a failure naming the screenshot, followed by ``diagnostics()`` (outputs, console, log).
    """
    try:
        yield
    except (KeyboardInterrupt, SystemExit, pytest.skip.Exception):
        raise
    except BaseException as exc:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            page.screenshot(path=str(path), full_page=True, timeout=15_000)
            where = f"screenshot saved to {path}"
        except Exception as shot_exc:  # report it, but do not mask the real failure
            where = f"screenshot FAILED ({shot_exc!r}); wanted {path}"
        extra = ""
        if diagnostics is not None:
            with contextlib.suppress(Exception):
                extra = "\n\n" + diagnostics()
        message = f"{type(exc).__name__}: {exc}\n{where}{extra}"
        raise pytest.fail.Exception(message, pytrace=True) from exc
