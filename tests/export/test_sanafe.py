"""``spikefab export sanafe``: the files load in SANA-FE and, where the arithmetic agrees, SANA-FE
fires exactly as often as our emulator.

SANA-FE runs in the benchmark venv (``.venv-bench``, made by ``make test``); the round trip is a
subprocess there.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

import spikefab as sf
from spikefab.cli import main
from spikefab.export.sanafe import sanafe_core_index, sanafe_network

ROOT = Path(__file__).resolve().parents[2]
BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
RUN_SANAFE = """
import json, sys
import sanafe
arch = sanafe.load_arch(sys.argv[1] + "/arch.yaml")
net = sanafe.load_net(sys.argv[1] + "/snn.yaml", arch)
chip = sanafe.SpikingChip(arch)
chip.load(net)
res = chip.sim(int(sys.argv[2]), timing_model="simple", processing_threads=1, scheduler_threads=0)
print(json.dumps({"fired": res["neurons_fired"], "energy": res["energy"]["total"],
                  "sim_time": res["sim_time"], "cores": len(arch.cores())}))
"""


def _network(dv: int = 0) -> sf.Network:
    """Two recurrently connected bias-driven populations (integrate-and-fire when dv = 0)."""
    rng = np.random.default_rng(3)
    net = sf.Network()
    net.population("a", 200, sf.LoihiLIF(du=4095, dv=dv, vth=64,
                                         bias_mant=rng.integers(20, 200, 200), bias_exp=0))
    net.population("b", 100, sf.LoihiLIF(du=4095, dv=dv, vth=64))
    net.connect("a", "b", rng.integers(-40, 60, (100, 200)) * (rng.random((100, 200)) < 0.1))
    net.connect("b", "a", rng.integers(-60, 20, (200, 100)) * (rng.random((200, 100)) < 0.1),
                weight_exp=1)
    net.output("oa", "a")
    net.output("ob", "b")
    return net


def _sanafe(directory: Path, steps: int) -> dict:
    if not BENCH_PYTHON.exists():
        pytest.skip("SANA-FE lives in the benchmark venv: make .venv-bench/.installed-stamp")
    proc = subprocess.run([str(BENCH_PYTHON), "-c", RUN_SANAFE, str(directory), str(steps)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_export_round_trip_spike_counts_match_the_emulator(tmp_path) -> None:
    image = sf.compile(_network(), target="loihi1", placer="anneal")
    ours = sf.run(image, None, 300)
    fired = int(sum(v.sum() for v in ours.spikes.values()))
    assert fired > 300                                   # an active network, not a silent one
    path = image.save(tmp_path / "net.sfi")
    assert main(["export", "sanafe", str(path), "-o", str(tmp_path / "out")]) == 0
    theirs = _sanafe(tmp_path / "out", 300)
    assert theirs["fired"] == fired
    assert theirs["cores"] == 128                       # loihi1: 32 tiles x 4 cores
    assert theirs["energy"] > 0 and theirs["sim_time"] > 0


def test_export_keeps_our_placement_and_weights() -> None:
    image = sf.compile(_network(), target="loihi1", placer="anneal")
    net = sanafe_network(image)
    a_first = net.groups["a"][1]
    core = sanafe_core_index(image, "a")
    np.testing.assert_array_equal(net.tile[a_first:a_first + 200] * 4 +
                                  net.core[a_first:a_first + 200], core)
    assert len(np.unique(core)) >= 1
    # b -> a has weight_exp 1: SANA-FE gets the effective weight w << 1
    hw = _network()
    b2a = hw.projections[1]
    b_first = net.groups["b"][1]
    from_b = (net.src >= b_first) & (net.src < b_first + 100)
    assert sorted(net.weight[from_b].tolist()) == sorted((b2a.weight * 2.0).tolist())


def test_export_notes_where_the_arithmetic_differs(tmp_path, capsys) -> None:
    image = sf.compile(_network(dv=200), target="loihi1", placer="sequential")
    path = image.save(tmp_path / "leaky.sfi")
    assert main(["export", "sanafe", str(path), "-o", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "agree only approximately" in out
    text = (tmp_path / "out" / "snn.yaml").read_text()
    assert "leak_decay: 0.951171875" in text          # (4096 - 200) / 4096
    assert main(["export", "sanafe", str(tmp_path / "missing.sfi"), "-o", str(tmp_path)]) == 2
