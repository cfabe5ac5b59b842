"""NeuroBench's own harness runs the digits example through ``spikefab.neurobench``.

NeuroBench needs PyTorch, so it runs in ``.venv-neurobench`` (``make test`` builds it, torch
pinned); the example's JSON results are checked here against what the hardware model must count.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NB_PYTHON = ROOT / ".venv-neurobench" / "bin" / "python"
EXAMPLE = ROOT / "examples" / "neurobench_digits.py"


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> tuple[dict, str]:
    if not NB_PYTHON.exists():
        pytest.skip("NeuroBench lives in .venv-neurobench: make .venv-neurobench/.installed-stamp")
    out = tmp_path_factory.mktemp("nb") / "results.json"
    proc = subprocess.run([str(NB_PYTHON), str(EXAMPLE), "--samples", "50", "--steps", "32",
                           "--mode", "cycle", "--json", str(out)],
                          capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text()), proc.stdout


def test_harness_reports_accuracy_and_hardware_counted_metrics(results) -> None:
    res, text = results
    # NeuroBench swallows a failing metric as 0.0: every one must be a real, positive number
    for name in ("ClassificationAccuracy", "SynapticOperations", "NeuronUpdates", "Packets",
                 "ModelledEnergy", "ModelledLatency"):
        assert res[name] > 0, name
    assert res["ClassificationAccuracy"] > 0.8         # the converted digits network works
    assert 0.0 < res["ActivationSparsity"] < 1.0
    # every neuron is updated every step: (64 pixels? no: hidden 32 + 10 outputs) x 32 steps
    assert res["NeuronUpdates"] == pytest.approx((32 + 10) * 32)
    assert "ModelledEnergy is pJ and ModelledLatency us per sample" in text
    assert "energy.synop_pj" in text                   # the modelled figures cite their source


def test_wrong_batch_shape_is_a_typed_error(tmp_path) -> None:
    if not NB_PYTHON.exists():
        pytest.skip("NeuroBench lives in .venv-neurobench")
    snippet = """
import numpy as np, torch, spikefab as sf
from spikefab.errors import InputError
from spikefab.neurobench import SpikefabModel
net = sf.Network(); net.input("x", 4); net.population("p", 2, sf.LoihiLIF(vth=1))
net.connect("x", "p", np.full((2, 4), 100)); net.output("y", "p")
model = SpikefabModel(sf.compile(net, target="loihi1", placer="sequential"), steps=8)
print(model(torch.ones(3, 8, 4)).shape)
try:
    model(torch.ones(3, 5, 4))
except InputError as exc:
    print("InputError:", exc)
"""
    proc = subprocess.run([str(NB_PYTHON), "-c", snippet], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "torch.Size([3, 2])" in proc.stdout
    assert "a batch must have shape (batch, 8, 4)" in proc.stdout
