"""``make lab`` and ``make teach``: the learner's JupyterLab has no grading tools and no news pop-up;
the teacher's has nbgrader. Checked on real JupyterLab servers (no browser needed): the page
configuration they serve, their settings and their endpoints."""

from __future__ import annotations

import html
import json
import os
import re
import urllib.error
import urllib.request

import pytest

from metalearn_lib.authoring.lab import CONFIG_ROOT, config_path, lab_environment, main
from tests.browser_support import jupyterlab_server

NBGRADER_LAB_EXTENSION = "@jupyter/nbgrader"
NOTIFICATION_SETTINGS = "lab/api/settings/@jupyterlab/apputils-extension:notification"


def page_config(server) -> dict:
    request = urllib.request.Request(server.url("lab"))
    with urllib.request.urlopen(request, timeout=30) as response:
        page = response.read().decode("utf-8")
    data = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S)
    assert data, "the /lab page carries no jupyter-config-data"
    return json.loads(html.unescape(data.group(1)))


def status_of(server, path: str) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(server.url(path)), timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture(scope="module", params=["learner", "teacher"])
def lab(request):
    with jupyterlab_server(role=request.param) as server:
        server.role = request.param
        yield server


def test_nbgrader_is_off_for_learners_and_on_for_teachers(lab):
    config = page_config(lab)
    disabled = config.get("disabledExtensions", [])
    disabled = set(disabled) if isinstance(disabled, list) else {k for k, v in disabled.items() if v}
    installed = {extension["name"] for extension in config["federated_extensions"]}
    assert NBGRADER_LAB_EXTENSION in installed  # installed in both: only the configuration differs
    assert (NBGRADER_LAB_EXTENSION in disabled) == (lab.role == "learner")
    formgrader = status_of(lab, "formgrader")
    assert (formgrader == 404) == (lab.role == "learner"), f"/formgrader answered {formgrader}"


def test_no_news_and_no_update_checks_for_anyone(lab):
    assert page_config(lab)["news"] == {"disabled": True}
    defaults = lab.api(NOTIFICATION_SETTINGS)["schema"]["properties"]  # overrides.json sets the defaults
    assert defaults["fetchNews"]["default"] == "false" and defaults["checkForUpdates"]["default"] is False


def test_the_roles_put_their_folders_first_and_keep_the_users_path():
    env = lab_environment("learner", base={"JUPYTER_CONFIG_PATH": "/somewhere/else"})
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [*map(str, config_path("learner")), "/somewhere/else"]
    assert config_path("teacher") == [CONFIG_ROOT / "common"]
    assert all(path.is_dir() for role in ("learner", "teacher") for path in config_path(role))
    with pytest.raises(ValueError, match="role must be one of"):
        config_path("student")


def test_the_command_line_hands_the_rest_to_jupyter_lab(monkeypatch):
    calls = []
    monkeypatch.setattr("subprocess.call", lambda command, env: calls.append((command, env)) or 0)
    assert main(["--teacher", "--no-browser", "notebooks/00_welcome.ipynb"]) == 0
    command, env = calls[0]
    assert command[1:] == ["-m", "jupyter", "lab", "--no-browser", "notebooks/00_welcome.ipynb"]
    assert env["JUPYTER_CONFIG_PATH"].startswith(str(CONFIG_ROOT / "common"))
