"""Sphinx configuration of the course website (``make book``; see metalearn_lib/authoring/book.py).

The source directory is the repository itself, so every page keeps its repository path and the
relative links between them (README → ``notebooks/02_two_level_learning.ipynb`` → ``../exercises/…``)
resolve as they are; ``include_patterns`` admits exactly the site's pages.
"""

from __future__ import annotations

from pathlib import Path

from metalearn_lib.authoring import book_sphinx, launch

ROOT = Path(__file__).resolve().parents[2]

project = "metalearn"
author = "the metalearn authors"
copyright = "the metalearn authors, MIT licence"

# ------------------------------------------------------------------------------------- pages
root_doc = book_sphinx.ROOT_DOC  # the README is the landing page (copied to index.html)
include_patterns = [
    "README.md",
    "notebooks/*.ipynb",
    "exercises/*.ipynb",
    "docs/teaching.md",
    "benchmarks/README.md",
    "docs/book/**",
]
# Folders that hold no page are not even walked (.venv alone has ~100,000 files).
_PAGE_FOLDERS = {"notebooks", "exercises", "docs", "benchmarks"}
exclude_patterns = sorted(
    {"_build", "**/.ipynb_checkpoints", "benchmarks/results"}
    | {p.name for p in ROOT.iterdir() if p.is_dir() and p.name not in _PAGE_FOLDERS}
)

# The library's docstrings and the lectures write maths in Unicode, with ' as the prime (θ', s'):
# docutils' "smart quotes" would turn it into a closing quote (θ’).
smartquotes = False

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx-mathjax-offline",  # MathJax 3.2.2 from the wheel into _static/mathjax; sets mathjax_path
    "metalearn_lib.authoring.book_sphinx",
]

# --------------------------------------------------------------------------------- notebooks
nb_execution_mode = "off"  # render the committed outputs; never execute
nb_ipywidgets_js = {}  # no widget JavaScript (it would come from a CDN, and there is no kernel)
# Widgets degrade to the static picture each widget output carries (image/png), as on nbviewer:
# the widget view is dropped from the html builder's priorities.
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
nb_render_markdown_format = "myst"  # markdown outputs (chapter 9's tables) get links between pages resolved

myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 6
# Heading ids as JupyterLab makes them ("The-inner-loop:-one-task"), so the links between lectures
# that work in JupyterLab and on nbviewer (chapter 9's, metalearn_lib.faq_and_errata) land here too.
# (Given by its import path: a function here would keep Sphinx from caching the configuration.)
myst_heading_slug_func = "metalearn_lib.faq_and_errata.chapters.heading_anchor"

# ---------------------------------------------------------------------------- API reference
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_preserve_defaults = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True  # a class's "Attributes:" become fields, not descriptions autodoc repeats
napoleon_use_rtype = False
autosummary_generate = False

# -------------------------------------------------------------------------------------- HTML
html_theme = "sphinx_book_theme"
html_title = "metalearn — meta-learning for RL"
html_copy_source = False
html_theme_options = {
    "repository_url": launch.repository_url(),
    "repository_branch": launch.BRANCH,
    "path_to_docs": "",
    "use_repository_button": True,
    "use_download_button": False,
    "launch_buttons": {
        "colab_url": "https://colab.research.google.com",
        "binderhub_url": "https://mybinder.org",
        "notebook_interface": "jupyterlab",
    },
    "show_toc_level": 2,
    "home_page_in_toc": True,
}
