import json

import numpy as np


def test_build_uses_sparse_projections_of_the_requested_size(wafer_scale):
    net = wafer_scale.build(neurons=3000, layers=3, fan_in=5, inputs=32, readout=8, seed=1)
    assert net.n_neurons == 3000 + 8
    sizes = {p.target: p.n_synapses for p in net.projections}
    # zero effective weights are dropped (none here: |w| >= 40)
    assert sizes == {"l0": 5000, "l1": 5000, "l2": 5000, "readout": 40}
    again = wafer_scale.build(neurons=3000, layers=3, fan_in=5, inputs=32, readout=8, seed=1)
    assert all(np.array_equal(a.pre, b.pre) for a, b in zip(net.projections, again.projections))


def test_tiny_wafer_run_reports_costs_and_traffic(wafer_scale, tmp_path, capsys):
    summary = wafer_scale.main(["--neurons", "4000", "--layers", "2", "--fan-in", "4",
                                "--inputs", "64", "--steps", "4", "--out", str(tmp_path),
                                "--quiet"])
    assert summary["neurons"] == 4000 + 256
    assert summary["cores"] >= 1 and summary["chiplets"] >= 1
    assert summary["cycles_per_step"] > 0 and summary["energy_uj_per_step"] > 0
    assert summary["spikes"] > 0                      # the input rate drives the first layer
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["target"] == "darwinwafer"
    assert report["noc"]["packets"] == summary["noc"]["packets"] > 0
    assert "inter-chiplet hops" in capsys.readouterr().out
