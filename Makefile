# make install: virtualenv + dependencies; make run: demo data + serve; make test: the suite.
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
IVR    := $(VENV)/bin/ivr
HOST   ?= 127.0.0.1
PORT   ?= 5005

.PHONY: install run demo serve test lint format bench catalog clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
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

# After changing English prompts: re-extract, then translate what is new or fuzzy in
# ivr/translations/es/LC_MESSAGES/messages.po (tests/unit/test_translations.py names them).
catalog: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ -o ivr/translations/messages.pot .
	$(VENV)/bin/pybabel update -i ivr/translations/messages.pot -d ivr/translations --previous --ignore-obsolete

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
