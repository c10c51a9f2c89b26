# handclasp: build, lint, test and benchmark entry points. CI runs `make test` (via .ci/run) as root on a
# clean clone; everything it needs is installed from here (venv from PyPI, peers via scripts/install-peers.sh).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q --disable-pip-version-check
# pytest gets this long in total (s); pytest-timeout bounds each test (pyproject.toml)
TEST_TIME_LIMIT ?= 1500
LINT_PATHS := $(wildcard src tests bench)

.PHONY: demo test lint bench venv install install-dev peers

venv: $(PY)

$(PY):
	$(PYTHON) -m venv $(VENV)

# The stamps live inside the venv, so a removed venv means a fresh install.
$(VENV)/.stamp-install: pyproject.toml | $(PY)
	$(PIP) -e .
	touch $@

$(VENV)/.stamp-dev: pyproject.toml | $(PY)
	$(PIP) -e '.[dev]'
	touch $@ $(VENV)/.stamp-install

install: $(VENV)/.stamp-install
install-dev: $(VENV)/.stamp-dev

demo: install
	$(VENV)/bin/handclasp demo

peers: install-dev
	bash scripts/install-peers.sh $(VENV)

lint: install-dev
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/mypy --strict src/handclasp

# Lint and pytest both run (so pytest's summary line is always printed); the target fails if either failed.
# As root the installer has put every peer in place, so a missing peer fails its test instead of skipping.
# The installer is retried once (registry hiccups); if it still fails, the tests run anyway and the target fails.
test: install-dev
	@peers_rc=0; bash scripts/install-peers.sh $(VENV) || bash scripts/install-peers.sh $(VENV) || peers_rc=$$?; \
	lint_rc=0; $(MAKE) --no-print-directory lint || lint_rc=$$?; \
	if [ "$$(id -u)" -eq 0 ]; then export HANDCLASP_REQUIRE_PEERS=1; fi; \
	test_rc=0; timeout -s INT -k 60 $(TEST_TIME_LIMIT) $(PY) -m pytest tests || test_rc=$$?; \
	if [ "$$test_rc" -eq 5 ]; then echo "pytest collected no tests"; test_rc=0; fi; \
	if [ "$$peers_rc" -ne 0 ]; then echo "scripts/install-peers.sh failed (exit $$peers_rc)"; fi; \
	if [ "$$lint_rc" -ne 0 ]; then echo "make lint failed (exit $$lint_rc)"; fi; \
	if [ "$$test_rc" -ne 0 ]; then echo "pytest failed (exit $$test_rc)"; fi; \
	[ "$$peers_rc" -eq 0 ] && [ "$$lint_rc" -eq 0 ] && [ "$$test_rc" -eq 0 ]

bench: install
	$(PY) -m bench
