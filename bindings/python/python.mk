# Python binding (bindings/python): included by the root Makefile, which exports LFQ_LIB_DIR and
# LFQ_INCLUDE_DIR for setup.py.
#   make test-python    install the package, ruff check + ruff format --check, pytest
#   make demo-python    the `make demo` rows for Python (stdout: rows only)
#   make bench-python   the full benchmark table against queue.Queue / queue.SimpleQueue

PYTHON    ?= python3
PY_DIR    := bindings/python
PY_STAMP  := $(PY_DIR)/build/installed.stamp
PY_INPUTS := $(PY_DIR)/setup.py $(PY_DIR)/pyproject.toml $(wildcard $(PY_DIR)/src/lfq/*) \
             $(LIB_DIR)/liblfq.a $(INCLUDE_DIR)/lfq.h
PIP       := $(PYTHON) -m pip install -q --disable-pip-version-check --no-deps --force-reinstall

.PHONY: test-python demo-python bench-python python-install python-tools

# (Re)install the package when its sources, the library or the header changed since the last
# install, or when this interpreter cannot import it. pip's chatter goes to stderr so that
# `make demo` prints nothing but its rows on stdout.
python-install: lib
	@if [ -f $(PY_STAMP) ] && [ -z "$$(find $(PY_INPUTS) -newer $(PY_STAMP) 2>/dev/null)" ] \
	    && $(PYTHON) -c 'import lfq._lfq' 2>/dev/null; then :; else \
	  echo "pip install ./$(PY_DIR)" >&2; \
	  $(PIP) ./$(PY_DIR) >&2 && mkdir -p $(PY_DIR)/build && touch $(PY_STAMP); fi

# The test tools, installed for this interpreter when missing (a fresh machine has neither).
python-tools:
	@$(PYTHON) -m ruff --version >/dev/null 2>&1 && $(PYTHON) -m pytest --version >/dev/null 2>&1 \
	  || $(PYTHON) -m pip install -q --disable-pip-version-check ruff pytest >&2

test-python: python-install python-tools
	$(PYTHON) -m ruff check $(PY_DIR)
	$(PYTHON) -m ruff format --check $(PY_DIR)
	$(PYTHON) -m pytest -q $(PY_DIR)/tests

demo-python: python-install
	@$(PYTHON) $(PY_DIR)/bench.py --demo

bench-python: python-install
	$(PYTHON) $(PY_DIR)/bench.py
