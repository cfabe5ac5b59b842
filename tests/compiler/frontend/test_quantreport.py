"""The quantization report: ``spikefab inspect --target``, ``compile --report``, the API."""

from __future__ import annotations

import json

import numpy as np

from spikefab.cli import main
from spikefab.compiler import load_model
from spikefab.compiler.driver import compile_result
from spikefab.compiler.quantreport import graph_layer_report

from .conftest import PAPER
from .test_import_fixes import chain, lif


def test_per_layer_rows_hold_float_and_integer_parameters_and_agreement():
    g = load_model(PAPER / "braille_noDelay_noBias_subtract.nir")
    res = compile_result(g, "loihi1", dt=1e-4, reset="subtract")
    rows = graph_layer_report(g, res.net, dt=1e-4, reset="subtract", steps=80)
    assert [r["layer"] for r in rows] == ["lif1.lif", "lif2"]
    first = rows[0]
    lo, hi = first["beta"]
    assert abs(lo - 0.85) < 1e-6 and lo == hi          # 1 - dt/tau_mem (float32 in the file)
    assert first["dv"] == (614.0, 614.0) and first["beta_q"][0] == (4096 - 614) / 4096
    assert 0 < first["leak_rel_error"] < 1e-3
    assert first["vth_mantissa"] == res.net.populations["lif1.lif"].neuron.vth
    assert {p["weight_exp"] for p in first["projections"]} == {
        p.weight_exp for p in res.net.projections if p.target == "lif1.lif"}
    for r in rows:
        assert 0.9 <= r["spike_agreement"] <= 1.0 and r["float_spikes"] > 0
        assert r["count_correlation"] > 0.95


def test_per_neuron_time_constants_report_their_profiles():
    g = chain(lif(np.array([5e-3, 10e-3, 20e-3, 40e-3]), 4), 3, np.full((4, 3), 0.7))
    res = compile_result(g, "darwin3", dt=1e-3)
    (row,) = graph_layer_report(g, res.net, dt=1e-3)
    assert row["profiles"] == 4 and row["beta"] == (0.8, 0.975)
    assert row["dv"] == (102.0, 819.0)


def test_inspect_prints_the_report(capsys):
    assert main(["inspect", str(PAPER / "braille_noDelay_noBias_subtract.nir"), "--target",
                 "loihi1", "--dt", "1e-4", "--reset", "subtract", "--steps", "40"]) == 0
    out = capsys.readouterr().out
    assert "target loihi1: 1 cores" in out
    assert "float vs fixed on 40 steps" in out
    report = out[out.index("quantization per layer"):]
    line = next(ln for ln in report.splitlines() if ln.startswith("lif1.lif "))
    assert "CubaLIF" in line and "0.85" in line and "(614)" in line


def test_inspect_refuses_a_fixed_point_model(tmp_path, capsys):
    from spikefab.compiler.ir.hardware import graph_from_hwnet
    from spikefab.compiler.ir.text import write_sfir
    g = load_model(PAPER / "lif_norse.nir")
    hw = compile_result(g, "loihi1", dt=1e-4).net
    write_sfir(graph_from_hwnet(hw), tmp_path / "hw.sfir")
    assert main(["inspect", str(tmp_path / "hw.sfir"), "--target", "loihi1"]) == 2
    assert "needs a float model" in capsys.readouterr().err


def test_compile_report_has_the_layers(tmp_path):
    rep = tmp_path / "r.json"
    assert main(["compile", str(PAPER / "lif_norse.nir"), "--target", "loihi1", "--dt", "1e-4",
                 "--report", str(rep)]) == 0
    layers = json.loads(rep.read_text())["quantization"]["layers"]
    assert layers[0]["layer"] == "1" and layers[0]["spike_agreement"] == 1.0
