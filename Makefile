# make install: virtualenv + dependencies; make run: demo data + serve (the webhooks with the
# local job worker on PORT, the staff console on CONSOLE_PORT: Ctrl-C stops all); make test:
# the suite (its browser tests need Debian's chromium: make browser).
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
IVR    := $(VENV)/bin/ivr
HOST   ?= 127.0.0.1
PORT   ?= 5005
CONSOLE_PORT ?= 5006

.PHONY: install run demo serve test lint format bench bench-setup bench-caller-time catalog clean browser

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

demo: install
	$(IVR) demo

# The console runs beside the webhooks and stops with them (the trap ends the whole group).
serve: install
	trap 'kill 0' INT TERM EXIT; \
	$(IVR) console run --host $(HOST) --port $(CONSOLE_PORT) & \
	IVR_JOBS_LOCAL_WORKER=1 $(IVR) run --host $(HOST) --port $(PORT)

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

# After changing English prompts or receipt words: re-extract, then translate what is new or
# fuzzy in ivr/translations/es/LC_MESSAGES/messages.po and
# billing_core/translations/es/LC_MESSAGES/messages.po (tests/unit/test_translations.py and
# tests/unit/test_receipt_translations.py name them).
catalog: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ -o ivr/translations/messages.pot .
	$(VENV)/bin/pybabel update -i ivr/translations/messages.pot -d ivr/translations --previous --ignore-obsolete
	$(VENV)/bin/pybabel extract --no-default-keywords -k N_ -o billing_core/translations/messages.pot billing_core
	$(VENV)/bin/pybabel update -i billing_core/translations/messages.pot -d billing_core/translations --previous --ignore-obsolete

bench: install
	$(PY) -m bench

# The caller-time benchmark synthesises every prompt with espeak-ng; without it, it skips.
# Nothing else (make test, .ci/run) needs espeak-ng.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
bench-setup: install
	command -v espeak-ng >/dev/null || $(SUDO) apt-get install -y espeak-ng

# Debian's chromium, for the staff console's browser tests (.ci/run installs it too).
browser:
	command -v chromium >/dev/null || $(SUDO) apt-get install -y chromium

bench-caller-time: install
	$(PY) -m bench.caller_time

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
