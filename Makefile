# Two commands on a fresh machine with python3, pip and make:  make run  |  make test
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

RUN_STAMP := $(VENV)/.installed-run

# `make run` installs only what running needs (mullet and its dashboard), with pip's progress shown.
$(RUN_STAMP): pyproject.toml
	@echo "==> make run: creating $(VENV) and installing mullet with what running needs (about a minute on a fresh machine)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --progress-bar on pip
	$(PY) -m pip install --progress-bar on -e ".[web]"
	@touch $(RUN_STAMP)

run: $(RUN_STAMP)
	@echo "==> mullet dispatch scenarios/default.toml"
	$(VENV)/bin/mullet dispatch scenarios/default.toml
	@echo ""
	@echo "mullet is installed in $(VENV). To use the mullet command in this shell:"
	@echo "    source $(VENV)/bin/activate"
	@echo "then try: mullet --help, mullet serve (dashboard on http://127.0.0.1:8000/), mullet network at 840000"

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(PY) -m pytest -n 2 src tests

test: lint typecheck pytest

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
