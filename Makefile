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

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# TensorFlow's C++ start-up lines are kept out of notebooks by the library itself
# (metalearn_lib.quiet_tf), so they are quiet in `make lab`, Voila, nbval, Colab and Binder alike.

.PHONY: lab teach test install exercises badges execute execute-all lint clean

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

test: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest
	@echo "== nbval again: every notebook's outputs must match on a second run in a row"
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest notebooks solutions -q -p no:cacheprovider

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

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
