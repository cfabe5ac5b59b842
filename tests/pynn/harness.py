"""Run a PyNN example script on PyNN's Brian2 backend (cached) or on spikefab.pynn.

The scripts in ``scripts/`` import ``pyNN.brian2 as sim``; for spikefab the harness replaces that
one line with ``import spikefab.pynn as sim`` and runs the text in this process (so pytest's
warnings-as-errors apply to our backend).  The Brian2 reference runs in the benchmark venv
(``.venv-bench``: Brian2 2.9 with PyNN 0.13, made by ``make test``) with Brian2's NumPy code
generation (no C compiler needed), and its result is cached under ``build/pynn-reference/``
keyed by the SHA-256 of the script and of this runner, so it is computed once per script
version.  ``reference/`` in this folder ships results under the same keys for scripts whose
Brian2 run is too long for every clean checkout (the Vogels-Abbott benchmark: PyNN's Brian2
backend sets its 320,000 synapses one by one, several CPU minutes); a changed script has a new
key and is rerun on Brian2.
"""

from __future__ import annotations

import hashlib
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spikefab.pynn.stats import SpikeStats, spike_stats

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).parent / "scripts"
BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
CACHE = ROOT / "build" / "pynn-reference"
SHIPPED = Path(__file__).parent / "reference"
IMPORT_LINE = "import pyNN.brian2 as sim"

RUNNER = """
import runpy, sys
import brian2
brian2.prefs.codegen.target = "numpy"
script, out = sys.argv[1], sys.argv[2]
sys.argv = [script, out]
runpy.run_path(script, run_name="__main__")
"""


def reference(name: str) -> dict[str, np.ndarray]:
    """The Brian2 result of ``scripts/<name>.py`` (computed once, then read from the cache)."""
    script = SCRIPTS / f"{name}.py"
    key = hashlib.sha256((script.read_text() + RUNNER).encode()).hexdigest()[:16]
    path = CACHE / f"{name}-{key}.npz"
    if not path.exists() and (SHIPPED / path.name).exists():
        path = SHIPPED / path.name
    if not path.exists():
        if not BENCH_PYTHON.exists():
            pytest.skip("the Brian2 reference needs the benchmark venv: make .venv-bench/"
                        ".installed-stamp (make test builds it)")
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        proc = subprocess.run([str(BENCH_PYTHON), "-c", RUNNER, str(script), str(tmp)],
                              capture_output=True, text=True, timeout=3000, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr[-3000:]
        tmp.replace(path)
    with np.load(path) as data:
        return dict(data)


def run_spikefab(name: str, out: Path, **setup: str) -> dict[str, np.ndarray]:
    """Run ``scripts/<name>.py`` on spikefab.pynn with ``setup`` options; its saved arrays."""
    text = (SCRIPTS / f"{name}.py").read_text()
    assert text.count(IMPORT_LINE) == 1
    path = out / f"{name}-spikefab.py"
    path.write_text(text.replace(IMPORT_LINE, "import spikefab.pynn as sim"))
    result = out / f"{name}-{'-'.join(setup.values())}.npz"
    argv = sys.argv
    sys.argv = [str(path), str(result), *[f"{k}={v}" for k, v in setup.items()]]
    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:
        sys.argv = argv
    with np.load(result) as data:
        return dict(data)


def stats(data: dict[str, np.ndarray], population: str) -> SpikeStats:
    """Spike statistics of ``population`` in a script's saved arrays."""
    return spike_stats(data[f"{population}.times"], data[f"{population}.index"],
                       int(data[f"{population}.size"]), float(data["tstop"]))
