# The course's two commands (see README.md):
#   make lab    create .venv, install everything, open the course in JupyterLab
#   make test   create .venv, install everything, run the whole test suite
# For teachers:
#   make teach                JupyterLab with nbgrader's tools (the Nbgrader menu, Create Assignment)
# Contributor commands:
#   make exercises            regenerate exercises/ from solutions/ (refuses to overwrite edits)
#   make badges               rewrite every notebook's Colab/Binder badges and Colab set-up cell from
#                             metalearn_lib/authoring/launch.py, then regenerate exercises/
#   make execute NB=path.ipynb   re-execute one notebook in a fresh kernel and save its outputs
#   make execute-all          the same for every notebook in notebooks/ and solutions/
#   make lint                 ruff over the library, tests, benchmarks and notebooks
#   make book                 the course as a static website in _build/book/ (committed outputs, no execution)
#   make serve-book           serve _build/book/ on http://127.0.0.1:8000 (PORT=… for another port)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The website's tools (requirements-docs.txt) go into the same .venv, behind their own stamp.
DOCS_STAMP := $(VENV)/.installed-docs
# TensorFlow's C++ start-up lines are kept out of notebooks by the library itself
# (metalearn_lib.quiet_tf), so they are quiet in `make lab`, Voila, nbval, Colab and Binder alike.

.PHONY: lab teach test install exercises badges execute execute-all lint book serve-book clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "metalearn needs Python 3.11 or newer, found " + sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# A learner's JupyterLab: no news pop-up, no nbgrader tools (metalearn_lib/authoring/lab.py).
lab: $(STAMP)
	$(BIN)/metalearn-lab notebooks/00_welcome.ipynb

teach: $(STAMP)
	$(BIN)/metalearn-lab --teacher notebooks/00_welcome.ipynb

# The tests run on WORKERS processes (pytest-xdist; conftest.py hands out the work, longest first);
# WORKERS=1 runs them in one. Every lecture runs twice, where learners run it: Run All in JupyterLab
# and a Voilà page (tests/test_browser.py), each run's outputs compared with the committed ones by
# nbval's rules (--lectures-in-browser; without a browser nbval runs the lectures instead). nbval
# runs each of its notebooks twice, in two fresh kernels, in the same session (--second-run).
WORKERS ?= 2
PARALLEL = $(if $(filter 1,$(WORKERS)),,-n $(WORKERS))
# Compiled XLA programs are kept for the run in _build/xla-cache (TensorFlow's persistent
# compilation cache): a training loop that a lecture's first run compiled is not compiled again by
# a later run (in JupyterLab, then Voilà, or the other way round). Only compiling is saved; every
# result is computed.
XLA_CACHE := $(CURDIR)/_build/xla-cache
TEST_ENV = PATH="$(CURDIR)/$(BIN):$$PATH" TF_XLA_FLAGS="--tf_xla_persistent_cache_directory=$(XLA_CACHE) $$TF_XLA_FLAGS"

test: $(STAMP) $(DOCS_STAMP)
	rm -rf $(XLA_CACHE) && mkdir -p $(XLA_CACHE)
	$(TEST_ENV) $(BIN)/python -m pytest $(PARALLEL) --lectures-in-browser --second-run

exercises: $(STAMP)
	$(BIN)/metalearn-exercises $(if $(FORCE),--force)

# CHECK=1: write nothing, fail listing every notebook whose badges or set-up cell are stale.
badges: $(STAMP)
	$(BIN)/metalearn-badges $(if $(CHECK),--check)

execute: $(STAMP)
	@test -n "$(NB)" || (echo "usage: make execute NB=notebooks/00_welcome.ipynb" && exit 2)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/metalearn-execute $(NB)

execute-all: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/metalearn-execute notebooks/*.ipynb solutions/*.ipynb

lint: $(STAMP)
	$(BIN)/ruff check .

PORT ?= 8000

$(DOCS_STAMP): $(STAMP) requirements-docs.txt
	$(BIN)/python -m pip install --quiet -r requirements-docs.txt
	touch $(DOCS_STAMP)

# Sphinx + myst-nb from the committed notebooks: warnings are errors, then every internal link is
# checked and no page may load a script or stylesheet from elsewhere (metalearn_lib/authoring/book.py).
book: $(DOCS_STAMP)
	$(BIN)/python -m metalearn_lib.authoring.book

serve-book: book
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/book $(PORT)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
