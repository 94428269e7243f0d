# Two commands do everything on a fresh clone (only Python >= 3.11 and make needed):
#   make book   install into .venv if needed, build the book on the default data -> _build/html/index.html
#   make test   install into .venv if needed, run the test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
ARGS   ?=
OUT    ?= _build

.PHONY: book test test-variants lab install clean benchmark screenshots help

help:
	@echo "make book   build the book on the default (synthetic) data -> _build/html/index.html"
	@echo "make test   run the test suite"
	@echo "make test-variants   build the book on all 39 valid variant folders and 29 small trials (about 35 minutes)"
	@echo "make lab    open JupyterLab on book/ to work in the chapters"
	@echo "make benchmark   print build-speed and scale figures (minutes)"
	@echo "make screenshots build the book if needed, then screenshot every page at 1280 and 390 px -> OUT/screenshots/"
	@echo "make clean  remove _build/ and scratch/"

$(STAMP): pyproject.toml requirements-lock.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed; set PYTHON=python3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing pinned dependencies into $(VENV) (first run only, about a minute)"
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	@$(PY) -m pip install --quiet --disable-pip-version-check -c requirements-lock.txt -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

book: $(STAMP)
	@$(PY) -m analysis build $(ARGS)

# the import rule first (rooms, chapters independent: pyproject.toml [tool.importlinter]), then the suite
test: $(STAMP)
	@$(VENV)/bin/lint-imports --no-cache
	@$(PY) -m pytest $(ARGS)

# the whole battery of valid variant folders (39 real builds, about 20 minutes on 2 cores; make test builds 14 of them),
# then the small trials (8 explicit ones and 20 drawn by hypothesis, about 15 minutes; make test builds 6 of them)
test-variants: $(STAMP)
	@MSCT_VARIANTS=all $(PY) -m pytest tests/test_variants.py tests/test_small_trials.py $(ARGS)

LAB_STAMP := $(VENV)/.installed-lab-stamp
# JupyterLab refuses to run as root unless told; allow it only when we are root (containers, CI)
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root,)

$(LAB_STAMP): $(STAMP)
	@$(PY) -m pip install --quiet --disable-pip-version-check -c requirements-lock.txt -e '.[lab]'
	@touch $(LAB_STAMP)

lab: $(LAB_STAMP)
	@echo "opening JupyterLab in book/ (Ctrl-C to stop); chapters read data/synthetic and write to scratch/"
	@cd book && ../$(PY) -m jupyterlab $(LAB_ARGS)

benchmark: $(STAMP)
	@$(PY) benchmarks/bench_build.py

# needs Debian's chromium (apt-get install -y chromium); the build is incremental (quick when nothing changed)
screenshots: $(STAMP)
	@$(PY) -m analysis build --out $(OUT) $(ARGS)
	@$(PY) tools/screenshots.py $(OUT)

clean:
	rm -rf _build scratch
