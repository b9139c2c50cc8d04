# make install: virtualenv + dependencies; make run: demo data + serve; make test: the suite.
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
IVR    := $(VENV)/bin/ivr
HOST   ?= 127.0.0.1
PORT   ?= 5005

.PHONY: install run demo serve test lint format bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@if [ -d ivr/translations ]; then $(VENV)/bin/pybabel compile -q -d ivr/translations; fi
	touch $@

demo: install
	$(IVR) demo

serve: install
	$(IVR) run --host $(HOST) --port $(PORT)

run: demo serve

test: install
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
