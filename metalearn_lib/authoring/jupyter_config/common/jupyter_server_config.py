# The course's JupyterLab settings for learners and teachers alike (see metalearn_lib/authoring/lab.py).
from pathlib import Path

c = get_config()  # noqa: F821 (provided by Jupyter when it loads this file)
c.LabApp.news_url = None  # no news feed fetched from the network
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
# Default settings (lab_settings/overrides.json): no "get notified about Jupyter news?" pop-up.
c.LabApp.app_settings_dir = str(Path(__file__).resolve().parent / "lab_settings")
