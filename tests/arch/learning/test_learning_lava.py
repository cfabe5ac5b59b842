"""The learning contract equals Intel Lava 0.10's fixed-point learning engine bit for bit.

60 random plastic networks (random rules from the grammar with dw/dd/dt, random trace impulses
and time constants, epochs 1..5, sign modes, half of them with a plastic recurrent projection)
run once in Lava (``LearningDense`` fixed_pt + bit-accurate ``LIF``, subprocess of .venv-lava)
and in our reference with the ``lava`` random generator; weights, tags, all five traces and the
LIF state must agree after every epoch, and the spikes at every step.  The same networks,
compiled for loihi1 and run on the emulator's functional engine, must give Lava's spikes and
weights after every epoch.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

import spikefab as sf
from plastic_nets import build, random_net, run_reference
from spikefab.emulator import simulate

ROOT = Path(__file__).resolve().parents[3]
LAVA_PY = ROOT / ".venv-lava" / "bin" / "python"
ORACLE = Path(__file__).with_name("lava_oracle.py")
N_NETS = 60

pytestmark = pytest.mark.lava


@pytest.fixture(scope="module")
def lava_results(tmp_path_factory):
    if not LAVA_PY.exists():
        pytest.skip("no .venv-lava (run `make lava-venv`)")
    d = tmp_path_factory.mktemp("lava")
    nets = [random_net(seed) for seed in range(N_NETS)]
    (d / "spec.json").write_text(json.dumps(nets))
    proc = subprocess.run([str(LAVA_PY), str(ORACLE), str(d / "spec.json"), str(d / "out.json")],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return nets, json.loads((d / "out.json").read_text())


@pytest.mark.parametrize("seed", range(N_NETS))
def test_reference_equals_lava(lava_results, seed):
    nets, results = lava_results
    net, lava = nets[seed], results[seed]
    ours = run_reference(net)
    np.testing.assert_array_equal(ours["spikes"], lava["spikes"])
    assert len(ours["snapshots"]) == len(lava["snapshots"]) == net["steps"] // net["chunk"]
    for epoch, (a, b) in enumerate(zip(ours["snapshots"], lava["snapshots"])):
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=f"epoch {epoch}, {key}")


@pytest.mark.parametrize("seed", range(N_NETS))
def test_emulator_equals_lava(lava_results, seed):
    """The compiled image on the functional engine: spikes and weights after every epoch."""
    nets, results = lava_results
    net, lava = nets[seed], results[seed]
    image = sf.compile(build(net, "lava"), "loihi1")
    res = simulate(image, {"x": np.array(net["input"], np.uint8)}, net["steps"],
                   weight_every=net["chunk"])
    np.testing.assert_array_equal(res.spikes["y"].T, lava["spikes"])
    for key in net["proj"]:
        np.testing.assert_array_equal(res.weight_snapshots[key],
                                      [s[f"{key}.weights"] for s in lava["snapshots"]])


def test_networks_learn(lava_results):
    """The differential test is not vacuous: weights, tags and traces move in most networks."""
    nets, results = lava_results
    moved = sum(r["snapshots"][-1]["in.weights"] != n["proj"]["in"]["weights"]
                for n, r in zip(nets, results))
    tagged = sum(any(np.any(r["snapshots"][-1][f"{k}.tag_{i}"])
                     for k in n["proj"] for i in (1, 2)) for n, r in zip(nets, results))
    spiking = sum(np.any(r["spikes"]) for r in results)
    assert moved >= N_NETS // 2 and tagged >= 5 and spiking >= N_NETS // 2, (moved, tagged, spiking)
