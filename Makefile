# Two commands do all the set-up on a fresh machine:
#   make serve   - install into .venv (first time) and run the emulator
#   make test    - install into .venv (first time) and run the test suite
VENV ?= .venv
PY := $(VENV)/bin/python
ARGS ?=
# a Python that is 3.11 or newer: the first of these found
PY_OK := import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)
PYTHON ?= $(firstword $(foreach p,python3 python3.13 python3.12 python3.11,\
	$(shell command -v $(p) >/dev/null 2>&1 && $(p) -c '$(PY_OK)' 2>/dev/null && echo $(p))) python3)

# a .venv made by a wrong (or since removed) Python is rebuilt, not used
ifneq ($(wildcard $(VENV)),)
ifneq ($(shell $(PY) -c '$(PY_OK)' >/dev/null 2>&1 && echo ok),ok)
$(info $(VENV) was made by a Python older than 3.11 (or one that is gone): rebuilding it with $(PYTHON))
$(shell rm -rf $(VENV))
endif
endif

.PHONY: serve test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

serve: $(VENV)/.installed
	$(VENV)/bin/localex serve $(ARGS)

test: $(VENV)/.installed
	$(PY) -m pytest $(ARGS)

bench: $(VENV)/.installed
	$(PY) bench/run.py $(ARGS)

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
