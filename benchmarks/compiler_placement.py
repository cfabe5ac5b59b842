"""Placement quality: spike-weighted hop count of ``anneal`` vs ``sequential``.

    .venv/bin/python benchmarks/compiler_placement.py

Networks: the issue's 2,000-neuron random recurrent network on darwin3 at three connection
densities (more synapses -> more cores), a layered 1 M-synapse network on darwin3, a layered
15 M-synapse network that spans two chiplets of darwinwafer, and every ``.nir`` fixture found in
``../shared/fixtures/nir-paper`` when the front end (``load_model``) is installed.  Prints one JSON
line per network: cores, hops and cost for both placers, the reduction, anneal time.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from spikefab.arch.target import load_target
from spikefab.compiler import LoihiLIF, Network
from spikefab.compiler.passes.partition import partition
from spikefab.compiler.passes.place import place, traffic
from spikefab.compiler.passes.route import route

sys.path.insert(0, str(Path(__file__).parent))
from compiler_scale import build  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "nir-paper"


def recurrent(n: int, p: float, seed: int = 0) -> Network:
    rng = np.random.default_rng(seed)
    net = Network()
    net.input("x", 100)
    net.population("r", n, LoihiLIF(vth=100, du=500, dv=500))
    net.connect("x", "r", rng.integers(0, 100, (n, 100)) * (rng.random((n, 100)) < 0.1))
    net.connect("r", "r", rng.integers(-100, 100, (n, n)) * (rng.random((n, n)) < p),
                weight_exp=-1)
    net.output("y", "r")
    return net


def measure(name: str, net, target: str, seed: int = 0) -> dict:
    part = partition(net, load_target(target))
    tr = traffic(part)
    seq = place(part, "sequential", tr=tr)
    t0 = time.perf_counter()
    opt = place(part, "anneal", seed=seed, tr=tr)
    t_anneal = time.perf_counter() - t0
    r_seq, r_opt = route(part, seq, tr), route(part, opt, tr)
    return {"network": name, "target": target, "cores": part.n_cores,
            "sequential": {"hops": seq.hops, "crossings": seq.crossings, "cost": seq.cost,
                           "max_link_load": float(r_seq.loads.max())},
            "anneal": {"hops": opt.hops, "crossings": opt.crossings, "cost": opt.cost,
                       "max_link_load": float(r_opt.loads.max()), "seconds": round(t_anneal, 2)},
            "hop_reduction": round(1 - opt.hops / seq.hops, 3) if seq.hops else 0.0,
            "cost_reduction": round(1 - opt.cost / seq.cost, 3) if seq.cost else 0.0}


def main() -> None:
    cases = [(f"recurrent2000_p{p}", recurrent(2000, p), "darwin3") for p in (0.1, 0.2, 0.4)]
    cases.append(("layered_1M", build(4, 5_000, 50, 1_000), "darwin3"))
    cases.append(("layered_15M_wafer", build(10, 100_000, 15, 1_000), "darwinwafer"))
    try:
        from spikefab.compiler import load_model
        from spikefab.compiler.passes import lower_to_hardware
        for path in sorted(FIXTURES.glob("*.nir")):
            cases.append((path.name, lower_to_hardware(load_model(path), dt=1e-4), "darwin3"))
    except ImportError:
        print(json.dumps({"note": "front end not installed: NIR fixtures skipped"}))
    for name, net, target in cases:
        print(json.dumps(measure(name, net, target)), flush=True)


if __name__ == "__main__":
    main()
