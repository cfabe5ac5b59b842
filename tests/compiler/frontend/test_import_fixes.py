"""What trained networks from the frameworks need of the importer (issue: bring your own network).

Per-neuron time constants become neuron profiles; a time constant that does not fit dt is a
typed error with the numbers; memoryless Threshold nodes keep the float tie rule; integrator
readouts warn before saturating; 0-d parameters and truncated files are handled.
"""

from __future__ import annotations

import importlib
import warnings

import h5py
import numpy as np
import pytest

import spikefab as sf
from spikefab.compiler import load_model
from spikefab.compiler.floatsim import simulate as fsim
from spikefab.compiler.frontends import read_nir, write_nir
from spikefab.compiler.ir import CubaLIF, Graph, I, Input, LI, LIF, Linear, Output, Threshold
from spikefab.compiler.passes import lower_to_hardware
from spikefab.compiler.passes.quantize import ReadoutSaturationWarning
from spikefab.errors import ModelError, ResourceError


def chain(neuron, n_in: int, weight) -> Graph:
    g = Graph()
    g.add_node("x", Input(shape=(n_in,)))
    g.add_node("w", Linear(weight=np.asarray(weight, np.float64)))
    g.add_node("n", neuron)
    g.add_node("y", Output(shape=(np.asarray(weight).shape[0],)))
    for e in [("x", "w"), ("w", "n"), ("n", "y")]:
        g.add_edge(*e)
    return g


def lif(tau, n: int, vth=1.0):
    return LIF(tau=np.broadcast_to(tau, (n,)).astype(float), r=np.ones(n), v_leak=np.zeros(n),
               v_threshold=np.full(n, vth))


def run_both(g: Graph, target: str, steps: int = 200, seed: int = 1, dt: float = 1e-3):
    rng = np.random.default_rng(seed)
    n_in = g["x"].shape[0]
    x = (rng.random((steps, n_in)) < 0.3).astype(np.uint8)
    f = fsim(g, {"x": x.astype(float)}, dt, latency="hardware")["y"]
    img = sf.compile(g, target, dt=dt)
    r = sf.run(img, {"x": x}, steps)
    return f, r, img


# ------------------------------------------------------------------ per-neuron time constants
@pytest.mark.parametrize("target", ["loihi1", "darwin3"])
def test_per_neuron_tau_compiles_into_profiles_and_matches_float(target):
    n = 12
    tau = np.tile([10e-3, 20e-3, 30e-3], n // 3)
    rng = np.random.default_rng(0)
    g = chain(lif(tau, n), 8, rng.uniform(0.0, 0.6, (n, 8)))
    hw = lower_to_hardware(g, dt=1e-3)
    dv = np.asarray(hw.populations["n"].neuron.dv)
    assert sorted(np.unique(dv).tolist()) == [137, 205, 410]       # 4096/30, /20, /10
    row = hw.meta["quantization"]["populations"][0]
    assert row["profiles"] == 3 and len(row["beta"]) == n
    f, r, img = run_both(g, target)
    assert len(img.cores[0].profiles) == 3
    counts_f, counts_q = f.sum(axis=0), r.spikes["y"].sum(axis=0)
    assert np.corrcoef(counts_f, counts_q)[0, 1] > 0.97
    assert abs(int(counts_q.sum()) - int(counts_f.sum())) <= 0.1 * counts_f.sum()


def test_learned_beta_per_neuron_spreads_over_cores_and_refuses_with_numbers():
    n = 12                                      # 12 distinct decays: 3 cores of <= 4 profiles
    tau = 2e-3 + np.arange(n) * 1e-3
    g = chain(lif(tau, n, vth=0.5), 4, np.full((n, 4), 0.5))
    img = sf.compile(g, "ecp5-85k", dt=1e-3)     # 4 profiles per core, 4 cores
    assert len(img.cores) == 3 and all(len(c.profiles) == 4 for c in img.cores)
    n = 40                                      # 40 profiles on one core of 8: 5 cores needed
    g = chain(lif(2e-3 + np.arange(n) * 1e-3, n, vth=0.5), 4, np.full((n, 4), 0.5))
    with pytest.raises(ResourceError, match=r"needs 5 cores .*neuron profiles limit the cores.*"
                                            r"8 neuron profiles a core holds; 40 in all.*"
                                            r"per-neuron time constants"):
        sf.compile(g, "ice40-up5k", dt=1e-3)


# --------------------------------------------------------------------------- dt against tau
def test_norse_tau_times_dt_is_an_error_naming_node_tau_dt_and_the_fix():
    g = chain(lif(1e-5, 2), 2, np.eye(2))      # Norse 1.1: 10 ms written as 10e-3 * 1e-3
    with pytest.raises(ModelError, match=r"node 'n': tau = 1e-05 s at dt = 0\.001 s gives a "
                                         r"per-step retention -99 .* must be in \[0, 1\].*"
                                         r"Norse 1\.1 writes tau\*dt .*tau/dt = 0\.01 s"):
        lower_to_hardware(g, dt=1e-3)


def test_lava_dl_decay_written_as_tau_is_an_error_with_the_intended_tau():
    n = CubaLIF(tau_syn=np.full(2, 0.1), tau_mem=np.full(2, 1.0), r=np.ones(2),
                v_leak=np.zeros(2), v_threshold=np.ones(2))
    with pytest.raises(ModelError, match=r"node 'n': tau_syn = 0\.1 s at dt = 1 s .*retention "
                                         r"-9 .*lava-dl .*dt/d = 10 s"):
        lower_to_hardware(chain(n, 2, np.eye(2)), dt=1.0)


def test_exact_rule_accepts_short_tau_and_rejects_nonpositive():
    lower_to_hardware(chain(lif(5e-4, 2), 2, np.eye(2)), dt=1e-3, integrator="exact")
    # tau = dt written as float32 gives beta = -2e-7 under Euler: rounding, accepted as 0
    f32 = LIF(tau=np.full(2, 1e-3, np.float32), r=np.ones(2), v_leak=np.zeros(2),
              v_threshold=np.ones(2))
    hw = lower_to_hardware(chain(f32, 2, np.eye(2)), dt=1e-3)
    assert 0.0 <= hw.meta["quantization"]["populations"][0]["beta"] < 1e-6
    with pytest.raises(ModelError, match=r"tau must be > 0 seconds, not -0\.01"):
        lower_to_hardware(chain(lif(-1e-2, 2), 2, np.eye(2)), dt=1e-3)


# ------------------------------------------------------------------------------- Threshold
def test_threshold_node_does_not_fire_on_exact_ties():
    # input sums that hit the threshold exactly (0.5 + 0.5 = 1.0) must not fire, as in float
    g = chain(Threshold(threshold=np.ones(3)), 2, [[0.5, 0.5], [0.5, 0.25], [1.0, 0.75]])
    x = np.zeros((60, 2), np.uint8)
    x[::2] = 1
    x[1::4, 1] = 1
    f = fsim(g, {"x": x.astype(float)}, 1e-3, latency="hardware")["y"]
    r = sf.run(sf.compile(g, "loihi1", dt=1e-3), {"x": x}, 60)
    assert f[:, 0].sum() == 0 and f[:, 2].sum() > 0
    assert np.array_equal(r.spikes["y"], f.astype(np.uint8))


# ------------------------------------------------------------------------ voltage readouts
def test_li_readout_values_in_graph_units(tmp_path):
    li = LI(tau=np.full(3, 5e-3), r=np.ones(3), v_leak=np.zeros(3))
    g = chain(li, 4, np.random.default_rng(2).uniform(-1, 1, (3, 4)))
    f, r, img = run_both(g, "loihi1", steps=100)
    assert img.outputs["y"]["readout"] == "voltage"
    v = r.values["y"]
    assert v.dtype == np.float64 and v.shape == (100, 3) and r.spikes["y"].sum() == 0
    assert np.max(np.abs(v - f)) < 0.02 * np.max(np.abs(f))
    r.save_npz(tmp_path / "out.npz")
    with np.load(tmp_path / "out.npz") as d:
        assert np.array_equal(d["y"], v)


def test_integrator_readout_leaves_room_and_warns_when_it_cannot(monkeypatch):
    q = importlib.import_module("spikefab.compiler.passes.quantize")   # the module, not the pass
    g = chain(I(r=np.full(2, 1.0)), 2, [[1.0, 1.0], [0.5, 0.25]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hw = lower_to_hardware(g, dt=1e-3)
    assert hw.meta["quantization"]["populations"][0]["saturation_steps"] >= q.READOUT_WARN_STEPS
    monkeypatch.setattr(q, "READOUT_HORIZON", 40)     # a scale with room for 40 steps only
    with pytest.warns(ReadoutSaturationWarning, match=r"population 'n': integrator readout .* "
                                                      r"saturates .* after \d+ steps"):
        hw = lower_to_hardware(g, dt=1e-3)
    assert 0 < hw.meta["quantization"]["populations"][0]["saturation_steps"] < 50


# ------------------------------------------------------------------------ files and versions
def test_write_nir_broadcasts_zero_d_parameters(tmp_path):
    n = LIF(tau=np.array(1e-2), r=np.array(1.0), v_leak=np.array(0.0),
            v_threshold=np.array(1.0), v_reset=np.array(0.0))
    g = chain(n, 2, np.eye(2))
    write_nir(g, tmp_path / "g.nir")
    back = read_nir(tmp_path / "g.nir")
    assert back["n"].tau.shape == (2,) and float(back["n"].tau[0]) == 1e-2


def test_truncated_nir_is_reported_as_truncated(tmp_path):
    g = chain(lif(1e-2, 2), 2, np.eye(2))
    write_nir(g, tmp_path / "g.nir")
    half = tmp_path / "half.nir"
    with h5py.File(tmp_path / "g.nir", "r") as src, h5py.File(half, "w") as dst:
        dst.create_group("node")
        nodes = dst["node"].create_group("nodes")
        src.copy(src["node/nodes/x"], nodes, "x")
        nodes.create_group("w")                 # the writer died inside this node
        dst["node"]["type"] = src["node/type"][()]
    with pytest.raises(ModelError, match=r"truncated or half-written .*graph '<root>' has no "
                                         r"'edges'"):
        load_model(half)
    cut = tmp_path / "cut.nir"
    cut.write_bytes((tmp_path / "g.nir").read_bytes()[:1500])
    with pytest.raises(ModelError, match=r"truncated|not HDF5|unreadable"):
        load_model(cut)


def test_run_command_shows_and_saves_voltage_readouts(tmp_path, capsys):
    from spikefab.cli import main
    li = LI(tau=np.full(3, 5e-3), r=np.ones(3), v_leak=np.zeros(3))
    g = chain(li, 4, np.eye(3, 4))
    sf.compile(g, "loihi1", dt=1e-3).save(tmp_path / "li.sfi")
    x = np.zeros((30, 4), np.uint8)
    x[:, 1] = 1
    np.savez(tmp_path / "in.npz", x=x)
    assert main(["run", str(tmp_path / "li.sfi"), "--input", str(tmp_path / "in.npz"), "--steps",
                 "30", "-o", str(tmp_path / "out.npz")]) == 0
    out = capsys.readouterr().out
    assert "output 'y': voltage readout of 3 channels" in out and "(channel 1)" in out
    with np.load(tmp_path / "out.npz") as d:
        v = d["y"]
    assert v.dtype == np.float64 and 0.9 < v[-1, 1] <= 1.0 and v[-1, 0] == 0.0
