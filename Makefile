# vilab: two commands do all the set-up.
#   make lab    create .venv, install everything, prepare the data, open JupyterLab
#   make test   same set-up, then ruff, pytest and nbval on every notebook
# Other targets: make test-seeds SEED_OFFSET=N (every notebook with all seeds shifted), make test-browser (real-browser widget test), make bench (benchmark table), make clean.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Extra pip arguments for torch, e.g. TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
# on a Linux machine where the plain PyPI wheel would be the (large) CUDA build.
TORCH_PIP_ARGS ?=
LAB_ARGS ?=
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
SYSTEM_DATA := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
NBVAL := $(BIN)/python -m pytest -q --nbval-lax --nbval-current-env -p no:cacheprovider
ONLY_SYSTEM_DATA := $(if $(wildcard $(SYSTEM_DATA)),env -u VILAB_DATA XDG_CACHE_HOME=$(CURDIR)/artifacts/offline-cache,env)

.PHONY: lab test test-seeds test-browser bench setup data clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "vilab needs Python >= 3.10, found " + sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0 $(TORCH_PIP_ARGS)
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@$(BIN)/python -c "import torch; print('torch', torch.__version__, '(CUDA build: see TORCH_PIP_ARGS)' if torch.version.cuda else '(CPU build)')"
	touch $(STAMP)

data: $(STAMP)
	@$(BIN)/python -m vilab.data fetch || echo "WARNING: Fashion-MNIST is not available yet: notebooks 03 and 04 need it (see README, Troubleshooting)."

lab: data
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks --LabApp.default_url=/lab/tree/00_start_here.ipynb $(ALLOW_ROOT) $(LAB_ARGS)

test: data
	$(BIN)/ruff check src tests notebooks benchmarks
	$(BIN)/ruff format --check src tests notebooks benchmarks
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
test-seeds: data
	rm -rf artifacts/offline-cache && mkdir -p artifacts/offline-cache
	$(ONLY_SYSTEM_DATA) VILAB_OFFLINE=1 VILAB_SEED_OFFSET=$(SEED_OFFSET) \
	  PYTHONPATH=$(CURDIR)/tests/seeds:$(CURDIR)/tests/offline $(NBVAL) $(NOTEBOOKS)

# JupyterLab + headless Chromium: every notebook run as a student would, every panel's sliders moved;
# screenshots in artifacts/screenshots/.
test-browser: data
	$(BIN)/python -m pytest -q --browser -p no:cacheprovider tests/browser

# One table: notebook time and memory, widget compute and panel update times, browser latency, VAE speed.
bench: data
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache artifacts

# --- The course website and the student edition -------------------------------------------------------------------
#   make site       every notebook executed once (fresh kernel, offline), then a static site in artifacts/site/html
#   make test-site  that site in headless Chromium with the network cut, axe-core audit, palette check, pre-commit hook
#   make student    the student edition (no `solution` cells) in artifacts/student, run under nbval, offline
# The site's packages (site/requirements.txt: Sphinx, myst-nb, sphinx-book-theme...; site/package.json: MathJax,
# axe-core) go into .venv and site/node_modules only here: students never need them.
SITE_STAMP := $(VENV)/.site-installed
SITE_CONSTRAINTS := $(firstword $(wildcard requirements-test.txt requirements-dev.txt))

.PHONY: site test-site student

$(SITE_STAMP): site/requirements.txt site/package.json site/package-lock.json $(STAMP) $(TEST_STAMP)
	$(BIN)/python -m pip install --quiet -r site/requirements.txt -c $(SITE_CONSTRAINTS)
	npm ci --prefix site --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

site: data $(SITE_STAMP)
	$(BIN)/python site/build.py

test-site: $(SITE_STAMP)
	$(BIN)/ruff check site tools tests/site tests/student
	$(BIN)/ruff format --check site tools tests/site tests/student
	$(BIN)/python -m pytest -q --site -p no:cacheprovider tests/site

student: data $(STAMP) $(TEST_STAMP)
	$(BIN)/python tools/student_edition.py --output artifacts/student
	rm -rf artifacts/offline-cache && mkdir -p artifacts/offline-cache
	$(ONLY_SYSTEM_DATA) VILAB_OFFLINE=1 PYTHONPATH=$(CURDIR)/tests/offline:$(CURDIR)/tests/student \
	  $(NBVAL) -p exercise_status artifacts/student/*.ipynb
