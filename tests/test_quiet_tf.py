"""TensorFlow's quiet import (metalearn_lib.quiet_tf): no C++ start-up lines in a learner's notebook,
while a real import failure still shows its error.

A stand-in ``tensorflow`` package that writes to file descriptor 2 (as TensorFlow's C++ code does)
shows the mechanism in plain processes; a Jupyter kernel with JupyterLab's settings (descriptor 2
captured into the notebook) shows it on the real TensorFlow, next to the control: the same kernel
without the library does print the lines.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from tests.notebook_tools import REPO_ROOT

START_UP_LINE = "I0000 00:00:0.0 port.cc:153] fake oneDNN custom operations are on"


def run_python(code: str, fake_tensorflow: str | None, tmp_path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    environment.update(env)
    if fake_tensorflow is not None:
        package = tmp_path / "fake" / "tensorflow"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(textwrap.dedent(fake_tensorflow))
        environment["PYTHONPATH"] = str(tmp_path / "fake")
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=REPO_ROOT, env=environment, timeout=120)


FAKE_OK = f"""
import os
os.write(2, b"{START_UP_LINE}\\n")
VALUE = 42
"""
FAKE_BROKEN = """
import os
os.write(2, b"E0000 fake C++ error: libtensorflow_framework.so.2 not found\\n")
raise ImportError("fake: cannot load the TensorFlow runtime")
"""


def test_the_start_up_lines_are_kept_out_and_kept_for_the_curious(tmp_path):
    result = run_python("""
        import os, sys
        from metalearn_lib import tf
        from metalearn_lib.quiet_tf import startup_log
        assert tf is sys.modules["tensorflow"] and tf.VALUE == 42
        assert "fake oneDNN" in startup_log()
        assert tf.__spec__.loader.__class__.__name__ != "_QuietLoader"  # the real loader, after the import
        print(os.environ["TF_CPP_MIN_LOG_LEVEL"])
    """, FAKE_OK, tmp_path)
    assert result.returncode == 0, result.stderr
    assert START_UP_LINE not in result.stderr and result.stderr == ""
    assert result.stdout.strip() == "3"


def test_without_the_library_the_same_lines_reach_stderr(tmp_path):
    result = run_python("import tensorflow", FAKE_OK, tmp_path)
    assert result.returncode == 0 and START_UP_LINE in result.stderr


def test_library_modules_importing_tensorflow_are_quiet_too(tmp_path):
    result = run_python("""
        import metalearn_lib
        import tensorflow  # as metalearn_lib.models or a learner's later cell would
        assert tensorflow.VALUE == 42
    """, FAKE_OK, tmp_path)
    assert result.returncode == 0 and result.stderr == ""


def test_the_users_own_log_level_wins(tmp_path):
    result = run_python("import os, metalearn_lib; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])", None, tmp_path,
                        TF_CPP_MIN_LOG_LEVEL="1")
    assert result.stdout.strip() == "1"


def test_a_failed_import_shows_tensorflows_own_lines_and_the_python_error(tmp_path):
    result = run_python("from metalearn_lib import tf", FAKE_BROKEN, tmp_path)
    assert result.returncode != 0
    assert "E0000 fake C++ error: libtensorflow_framework.so.2 not found" in result.stderr
    assert "ImportError: fake: cannot load the TensorFlow runtime" in result.stderr


def test_importing_the_package_stays_cheap():
    result = subprocess.run([sys.executable, "-c", "import sys, metalearn_lib; print('tensorflow' in sys.modules)"],
                            capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
    assert result.stdout.strip() == "False"


def kernel_stderr(code: str) -> list[str]:
    """The stderr stream messages a Jupyter kernel sends for ``code`` — with descriptor 2 captured
    into the notebook, as in JupyterLab (ipykernel's default)."""
    import jupyter_client

    # ipykernel does not capture descriptor 2 when it sees PYTEST_CURRENT_TEST: hide it, as in Lab.
    environment = {k: v for k, v in os.environ.items() if k not in {"TF_CPP_MIN_LOG_LEVEL", "PYTEST_CURRENT_TEST"}}
    manager, client = jupyter_client.manager.start_new_kernel(kernel_name="python3", env=environment,
                                                              cwd=str(REPO_ROOT))
    try:
        message_id = client.execute(code)
        found, deadline = [], time.monotonic() + 120
        while time.monotonic() < deadline:
            message = client.get_iopub_msg(timeout=120)
            if message["parent_header"].get("msg_id") != message_id:
                continue
            if message["msg_type"] == "stream" and message["content"]["name"] == "stderr":
                found.append(message["content"]["text"])
            if message["msg_type"] == "error":
                found.append("\n".join(message["content"]["traceback"]))
            if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                break
        # Lines written just before idle may arrive a moment later: collect them too.
        while True:
            try:
                message = client.get_iopub_msg(timeout=1.0)
            except Exception:  # queue.Empty
                break
            if message["msg_type"] == "stream" and message["content"]["name"] == "stderr":
                found.append(message["content"]["text"])
        return found
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


@pytest.mark.slow
def test_a_notebook_kernel_shows_no_stderr_box_with_the_real_tensorflow():
    quiet = kernel_stderr(
        "from metalearn_lib import seed_everything, tf\n"
        "rng = seed_everything(0)\n"
        "tf.function(lambda x: x * 2, jit_compile=True)(tf.constant(1.0))\n"
        "tf.math.bincount(tf.constant([1, 2, 2]))\n"
    )
    assert quiet == [], f"stderr in the notebook: {quiet}"


@pytest.mark.slow
def test_control_the_same_kernel_without_the_library_shows_tensorflows_lines():
    noisy = kernel_stderr("import tensorflow as tf\n")
    assert noisy and "absl::InitializeLog" in "".join(noisy), (
        f"TensorFlow {sys.version_info[:2]} printed nothing at import: if a TensorFlow update made it quiet, "
        f"metalearn_lib.quiet_tf may no longer be needed; got {noisy}")
