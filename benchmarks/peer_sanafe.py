"""SANA-FE side of the peer comparison (runs in the benchmark venv, not in spikefab's).

Usage: ``python peer_sanafe.py NETWORK.npz STEPS MODELS REPS > out.json`` where the npz holds
``src, dst, weight, bias, core`` (the same network and the same placement spikefab used, see
``bench_peers.py``) and MODELS is a comma list of SANA-FE timing models (simple,detailed,cycle),
each optionally with its own repetition count (``simple:3,detailed:1``; default REPS).  Wall time
is ``chip.sim()`` only (network build and ``chip.load`` excluded), median over the repetitions.
The network follows the reference notes' script (sanafe-peer.md section 6b): 4,000 LIF neurons,
threshold 64, leak 0.95, bias-driven, 2 % random recurrent connectivity, mapped by hand.
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
# spikefab is not installed in the benchmark venv; its numpy-only exporter is imported from the
# source tree (spikefab.export.sanafe builds the SANA-FE network, as `spikefab export` does)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import sanafe  # noqa: E402

from spikefab.export.sanafe import populate  # noqa: E402


def main() -> None:
    path, steps, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[4])
    models = [(m.split(":")[0], int(m.split(":")[1]) if ":" in m else reps)
              for m in sys.argv[3].split(",")]
    d = np.load(path)
    n = len(d["bias"])
    arch = sanafe.load_loihi()
    net = populate(sanafe, arch, d)
    out = {"neurons": n, "synapses": int(len(d["src"])), "cores_used": int(len(np.unique(d["core"]))),
           "models": {}}
    for model, model_reps in models:
        walls, res = [], None
        for _ in range(model_reps):
            chip = sanafe.SpikingChip(arch)
            chip.load(net)
            t0 = time.perf_counter()
            res = chip.sim(steps, timing_model=model, processing_threads=1, scheduler_threads=0)
            walls.append(time.perf_counter() - t0)
            del chip
        wall = statistics.median(walls)
        out["models"][model] = {
            "steps": steps, "wall_s": wall, "walls": walls, "steps_per_s": steps / wall,
            "synaptic_events": int(res["spikes"]), "neurons_fired": int(res["neurons_fired"]),
            "fired_fraction": res["neurons_fired"] / (n * steps),
            "energy_per_step_pj": res["energy"]["total"] / steps * 1e12,
            "energy_split_pj": {k: v / steps * 1e12 for k, v in res["energy"].items()
                                if k != "total"},
            "latency_per_step_us": res["sim_time"] / steps * 1e6,
        }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
