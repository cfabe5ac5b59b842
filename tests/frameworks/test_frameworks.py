"""Real framework exports compile, run and agree with the framework (marker ``frameworks``).

``export_fw.py`` runs inside each framework venv that ``make test`` builds (``.venv-fw104``:
nir 1.0.4 with snnTorch 0.9.4, Norse 1.1, Sinabs 3.1, Rockpool 3.1; ``.venv-fw106``: nir >= 1.0.6
with snnTorch 1.0).  Its exports and the frameworks' own outputs are cached under
``build/frameworks/VENV-HASH`` (the hash covers the script and the venv's requirements).  Here,
in our venv, every graph is loaded, simulated in float and compiled for loihi1 and darwin3:

* where NIR states the framework's semantics (``exact``), the float simulation equals the
  framework spike for spike (voltages to float rounding);
* the emulator's per-neuron output spike counts correlate >= 0.97 with the framework's;
* a known exporter defect (Norse's tau*dt) is refused with the defect named, and the graph with
  the documented fix applied agrees like any other.

A venv that is absent (its build failed, or ``make frameworks`` was not run) skips its cases
with the reason.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest

import spikefab as sf
from spikefab.compiler import load_model
from spikefab.compiler.floatsim import decay_factor, simulate as fsim
from spikefab.compiler.frontends import NirCompatWarning
from spikefab.compiler.ir import CubaLI, CubaLIF, LI, LIF, Graph
from spikefab.errors import ModelError

pytestmark = pytest.mark.frameworks

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCRIPT = HERE / "export_fw.py"
VENVS = ("fw104", "fw106")
CASE_NAMES = re.findall(r"^@case\ndef (\w+)", SCRIPT.read_text(), flags=re.M)
#: the frameworks each venv holds (the others' cases are not collected for it)
FRAMEWORKS = {"fw104": ("snntorch", "norse", "sinabs", "rockpool", "nir"),
              "fw106": ("snntorch", "nir")}
TARGETS = ("loihi1", "darwin3")


def _export_dir(venv: str) -> Path:
    py = ROOT / f".venv-{venv}" / "bin" / "python"
    if not py.exists():
        pytest.skip(f".venv-{venv} is absent: run `make frameworks` (its build may have failed)")
    h = hashlib.sha256(SCRIPT.read_bytes())
    h.update((HERE / f"requirements-{venv}.txt").read_bytes())
    out = ROOT / "build" / "frameworks" / f"{venv}-{h.hexdigest()[:16]}"
    if not (out / "manifest.json").exists():
        tmp = out.with_name(out.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        proc = subprocess.run([str(py), str(SCRIPT), str(tmp)], capture_output=True, text=True,
                              timeout=900, cwd=ROOT)
        if proc.returncode:
            pytest.fail(f"export_fw.py failed in .venv-{venv}:\n{proc.stderr[-3000:]}")
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
    return out


_MANIFESTS: dict[str, tuple[Path, dict]] = {}


def exported(venv: str, name: str) -> tuple[Path, dict, np.ndarray, np.ndarray]:
    if venv not in _MANIFESTS:
        d = _export_dir(venv)
        _MANIFESTS[venv] = (d, json.loads((d / "manifest.json").read_text()))
    d, m = _MANIFESTS[venv]
    if name in m["failed"]:
        pytest.skip(f"the {venv} exporter failed on {name}: {m['failed'][name]}")
    if name not in m["cases"]:
        pytest.skip(f"{name}: framework not installed in .venv-{venv}")
    with np.load(d / f"{name}.npz") as data:
        return d / f"{name}.nir", m["cases"][name], data["x"], data["y"]


def load(path: Path) -> Graph:
    """Load a framework file; nir 1.0.4 files need the lenient reader, which says so."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NirCompatWarning)
        return load_model(path)


def apply_fix(graph: Graph, fix: str | None, dt: float, integrator: str) -> Graph:
    """The correction docs/frameworks.md tells the user to apply for a known exporter defect."""
    if not fix:
        return graph
    out = Graph(graph.metadata)
    for name, node in graph.nodes.items():
        if fix == "tau_over_dt" and isinstance(node, (LI, LIF)):
            node = dataclasses.replace(node, tau=node.tau / dt)
        elif fix == "tau_over_dt" and isinstance(node, (CubaLI, CubaLIF)):
            # Norse's LIFCell adds each input to i whole; NIR's CubaLIF scales it by dt/tau_syn
            node = dataclasses.replace(node, tau_mem=node.tau_mem / dt, tau_syn=node.tau_syn / dt,
                                       w_in=np.asarray(node.tau_syn, np.float64) / dt / dt
                                       * np.ones_like(np.asarray(node.w_in, np.float64)))
        elif fix == "sinabs_expleak_r" and isinstance(node, LI):
            node = dataclasses.replace(node, r=1.0 / (1.0 - decay_factor(dt, node.tau, integrator)))
        out.add_node(name, node)
    for e in graph.edges:
        out.add_edge(*e)
    return out


def params():
    return [pytest.param(v, n, id=f"{v}-{n}") for v in VENVS for n in CASE_NAMES
            if n.split("_")[0] in FRAMEWORKS[v]]


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    if np.array_equal(a, b):
        return 1.0
    return float(np.corrcoef(a, b)[0, 1])


@pytest.mark.parametrize("venv,name", params())
def test_float_simulation_equals_the_framework(venv, name):
    path, c, x, y = exported(venv, name)
    graph = load(path)
    if c.get("defect"):
        with pytest.raises(ModelError, match=re.escape(c["defect"])):
            sf.compile(graph, "loihi1", dt=c["dt"], integrator=c["integrator"], reset=c["reset"])
    graph = apply_fix(graph, c.get("fix"), c["dt"], c["integrator"])
    (inp,), (out,) = graph.inputs(), graph.outputs()
    got = fsim(graph, {inp: x.astype(np.float64)}, c["dt"], integrator=c["integrator"],
               reset=c["reset"])[out].reshape(y.shape)
    if not c["compare"]:
        assert got.shape == y.shape
        return
    if c["readout"] == "voltage":
        tol = 1e-4 * np.abs(y).max()
        if c["exact"]:
            np.testing.assert_allclose(got, y, atol=tol)
        else:
            assert _corr(got, y) > 0.97
    elif c["exact"]:
        assert y.sum() > 20, "the case must spike to say anything"
        assert np.array_equal(got, y), f"{int((got != y).sum())} of {y.size} (step, neuron) differ"
    else:
        assert _corr(got.sum(axis=0), y.sum(axis=0)) >= 0.97


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("venv,name", params())
def test_emulator_agrees_with_the_framework(venv, name, target):
    path, c, x, y = exported(venv, name)
    graph = apply_fix(load(path), c.get("fix"), c["dt"], c["integrator"])
    img = sf.compile(graph, target, dt=c["dt"], integrator=c["integrator"], reset=c["reset"],
                     placer="sequential")
    (inp,), (out,) = graph.inputs(), graph.outputs()
    r = sf.run(img, {inp: x.reshape(len(x), -1)}, len(x))
    if c["readout"] == "voltage":
        got = r.values[out]
        assert got.shape == y.reshape(len(y), -1).shape and np.isfinite(got).all()
        if c["compare"]:
            # one step of latency per layer: compare each neuron's mean over the run
            assert _corr(got.mean(axis=0), y.reshape(len(y), -1).mean(axis=0)) >= 0.97
        return
    got = r.spikes[out]
    assert got.shape == y.reshape(len(y), -1).shape
    if "latency" in c:       # a one-layer case: the chip's output is the float's, one step later
        lag = c["latency"]
        assert y.sum() > 10 and np.array_equal(got[lag:], y.reshape(len(y), -1)[:-lag])
    if c["compare"]:
        counts_fw = y.reshape(len(y), -1).sum(axis=0)
        counts_hw = got.sum(axis=0)
        assert _corr(counts_hw, counts_fw) >= 0.97, (counts_hw, counts_fw)
