# vilab: two commands do all the set-up (Linux and macOS; Windows: see the README).
#   make lab    create .venv, install the course's packages (CPU torch), prepare the data, open JupyterLab
#   make test   the same set-up plus the test tools, then ruff, pytest and nbval on every notebook (what CI runs)
# Other targets: make test-seeds SEED_OFFSET=N (every notebook with all seeds shifted), make test-browser (real-browser
# widget test), make test-colab (nbval with Colab's ipywidgets 7 and classic notebook), make bench (benchmark table),
# make clean.

# The minimum Python of the pinned wheels (numpy 2.4, scipy 1.17, matplotlib 3.11 and ipykernel 7 require 3.11);
# pyproject.toml, notebooks/00_start_here.ipynb and the README say the same (tests/test_repository.py checks).
MIN_PYTHON := 3.11
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
COURSE_STAMP := $(VENV)/.course-installed
TEST_STAMP := $(VENV)/.test-tools-installed
# PyTorch's CPU wheel index, tried first on Linux (where PyPI's torch is the multi-GB CUDA build);
# tools/install_torch.py falls back to pip's own indexes only when a dry run shows no CUDA packages.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
LAB_ARGS ?=
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
SYSTEM_DATA := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
NBVAL_ARGS := -q --nbval-lax --nbval-current-env -p no:cacheprovider
NBVAL := $(BIN)/python -m pytest $(NBVAL_ARGS)
ONLY_SYSTEM_DATA := $(if $(wildcard $(SYSTEM_DATA)),env -u VILAB_DATA XDG_CACHE_HOME=$(CURDIR)/artifacts/offline-cache,env)
# Colab's notebook stack, for make test-colab: its own venv, without JupyterLab.
COLAB_VENV := .venv-colab

.PHONY: lab test test-seeds test-browser test-colab bench setup setup-test data clean

setup: $(COURSE_STAMP)
setup-test: $(TEST_STAMP)

# A venv that works: Python >= MIN_PYTHON, and pip inside it. A half-made .venv (venv failed, e.g. without
# Debian's python3-venv, but left .venv/bin/python behind) is detected and made again.
$(VENV)/.venv-ok:
	@command -v $(PYTHON) >/dev/null || { echo "ERROR: $(PYTHON) not found (vilab needs Python >= $(MIN_PYTHON))"; exit 1; }
	@$(PYTHON) -c 'import sys; v = tuple(map(int, "$(MIN_PYTHON)".split("."))); sys.exit(0 if sys.version_info >= v else "ERROR: vilab needs Python >= $(MIN_PYTHON); $(PYTHON) is " + sys.version.split()[0] + ": install a newer Python and run: make lab PYTHON=python$(MIN_PYTHON)")'
	@if [ -e $(VENV) ] && ! $(BIN)/python -m pip --version >/dev/null 2>&1; then \
	  echo "$(VENV) is half-made (no working pip inside): removing it and creating it again"; rm -rf $(VENV); fi
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "ERROR: '$(PYTHON) -m venv $(VENV)' failed. On Debian/Ubuntu install the venv module: sudo apt install python3-venv"; \
	  echo "       (python3.X-venv for a python3.X other than the default), then run make again."; exit 1; }
	@$(BIN)/python -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV); \
	  echo "ERROR: the new $(VENV) has no pip. On Debian/Ubuntu: sudo apt install python3-venv, then run make again."; exit 1; }
	touch $@

# The course: what the notebooks need, nothing more (requirements.txt), and vilab itself (editable), torch first.
$(COURSE_STAMP): $(VENV)/.venv-ok requirements.txt pyproject.toml tools/install_torch.py
	$(BIN)/python tools/install_torch.py --index "$(TORCH_INDEX)" -- -r requirements.txt -e .
	$(BIN)/python tools/install_torch.py --check
	touch $@

# The test tools, for make test and the other test targets only.
$(TEST_STAMP): $(COURSE_STAMP) requirements-test.txt
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	$(BIN)/python tools/install_torch.py --check
	touch $@

data: $(COURSE_STAMP)
	@$(BIN)/python -m vilab.data fetch || echo "WARNING: Fashion-MNIST is not available yet: notebooks 03 and 04 need it (see README, Troubleshooting)."

lab: data
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks --LabApp.default_url=/lab/tree/00_start_here.ipynb $(ALLOW_ROOT) $(LAB_ARGS)

test: data $(TEST_STAMP)
	$(BIN)/ruff check src tests notebooks benchmarks tools site
	$(BIN)/ruff format --check src tests notebooks benchmarks tools site
	$(BIN)/python -m pytest -q tests
	@# nbval, as an offline proof: no network at all (tests/offline/sitecustomize.py makes every non-loopback
	@# connection and lookup raise, in pytest and in each kernel); where the Debian copy of the data exists,
	@# every other copy is hidden so the course is shown to run from it alone.
	rm -rf artifacts/offline-cache && mkdir -p artifacts/offline-cache
	$(ONLY_SYSTEM_DATA) VILAB_OFFLINE=1 PYTHONPATH=$(CURDIR)/tests/offline $(NBVAL) $(NOTEBOOKS)

# Every notebook again with every seed shifted by SEED_OFFSET (torch, numpy, random and the package's seed=
# arguments; see tests/seeds/seed_shift.py): a claim must hold for every seed, not only the committed one.
#   make test-seeds SEED_OFFSET=17
SEED_OFFSET ?= 1
test-seeds: data $(TEST_STAMP)
	rm -rf artifacts/offline-cache && mkdir -p artifacts/offline-cache
	$(ONLY_SYSTEM_DATA) VILAB_OFFLINE=1 VILAB_SEED_OFFSET=$(SEED_OFFSET) \
	  PYTHONPATH=$(CURDIR)/tests/seeds:$(CURDIR)/tests/offline $(NBVAL) $(NOTEBOOKS)

# JupyterLab + headless Chromium: every notebook run as a student would, every panel's sliders moved;
# screenshots in artifacts/screenshots/.
test-browser: data $(TEST_STAMP)
	$(BIN)/python -m pytest -q --browser -p no:cacheprovider tests/browser

# Colab's widget stack (ipywidgets 7.7.1, classic notebook 6.5, no JupyterLab; tests/colab/requirements.txt) in a
# venv of its own, with the course's numpy/scipy/torch: every notebook under nbval, offline, from the system data.
$(COLAB_VENV)/.installed: $(COURSE_STAMP) tests/colab/requirements.txt
	rm -rf $(COLAB_VENV) && $(PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_VENV)/bin/python tools/install_torch.py --index "$(TORCH_INDEX)" -- -r tests/colab/requirements.txt .
	$(COLAB_VENV)/bin/python tools/install_torch.py --check
	touch $@

test-colab: data $(COLAB_VENV)/.installed
	@$(COLAB_VENV)/bin/python -c "import ipywidgets, notebook, importlib.util as u; print('test-colab: ipywidgets', ipywidgets.__version__, '| notebook', notebook.__version__, '| jupyterlab installed:', u.find_spec('jupyterlab') is not None)"
	rm -rf artifacts/offline-cache && mkdir -p artifacts/offline-cache
	$(ONLY_SYSTEM_DATA) VILAB_OFFLINE=1 PYDEVD_DISABLE_FILE_VALIDATION=1 PYTHONPATH=$(CURDIR)/tests/offline \
	  $(COLAB_VENV)/bin/python -m pytest $(NBVAL_ARGS) $(NOTEBOOKS)

# One table: notebook time and memory (also inside a 1-CPU, 2 GB cgroup: Binder's box), threads (one vs two,
# two trainings at once), widget compute and panel update times, browser latency, VAE speed.
bench: data $(TEST_STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(COLAB_VENV) .pytest_cache artifacts

# --- The course website and the student edition -------------------------------------------------------------------
#   make site       every notebook executed once (fresh kernel, offline), then a static site in artifacts/site/html
#   make test-site  that site in headless Chromium with the network cut, axe-core audit, palette check, pre-commit hook
#   make student    the student edition (no `solution` cells) in artifacts/student, run under nbval, offline
# The site's packages (site/requirements.txt: Sphinx, myst-nb, sphinx-book-theme...; site/package.json: MathJax,
# axe-core) go into .venv and site/node_modules only here: students never need them.
SITE_STAMP := $(VENV)/.site-installed
SITE_CONSTRAINTS := requirements-test.txt

.PHONY: site test-site student

$(SITE_STAMP): site/requirements.txt site/package.json site/package-lock.json $(COURSE_STAMP) $(TEST_STAMP)
	$(BIN)/python -m pip install --quiet -r site/requirements.txt -c $(SITE_CONSTRAINTS)
	npm ci --prefix site --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

site: data $(SITE_STAMP)
	$(BIN)/python site/build.py

test-site: $(SITE_STAMP)
	$(BIN)/ruff check site tools tests/site tests/student
	$(BIN)/ruff format --check site tools tests/site tests/student
	$(BIN)/python -m pytest -q --site -p no:cacheprovider tests/site

student: data $(COURSE_STAMP) $(TEST_STAMP)
	$(BIN)/python tools/student_edition.py --output artifacts/student
	rm -rf artifacts/offline-cache && mkdir -p artifacts/offline-cache
	$(ONLY_SYSTEM_DATA) VILAB_OFFLINE=1 PYTHONPATH=$(CURDIR)/tests/offline:$(CURDIR)/tests/student \
	  $(NBVAL) -p exercise_status artifacts/student/*.ipynb
