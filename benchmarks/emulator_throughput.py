"""Emulator speed: functional synaptic events/s, per-step overhead, cycle engine cycles/s.

Measures, in one run (DESIGN.md: numbers go to docs/benchmarks.md, never into test asserts):

1. functional engine on ONE core holding a high-activity 4,000-neuron recurrent network with
   2 % connectivity (80 synapses per neuron; about half the neurons spike every step);
2. the functional engine's fixed cost per step on a 10-neuron network;
3. the cycle engine's NoC (`noc_traffic`) on an 8x8 mesh at 0.02 and 0.4 packets/node/cycle,
   and the cycle engine on the 4,000-neuron image.

A benchmark-only profile (``bench1core``: Darwin3 timing, one core with room for 320 k synapses)
holds the one-core network, since no shipped core has that much synapse memory.

Usage: ``python benchmarks/emulator_throughput.py [--quick] [--json out.json]``
(``--quick``: tiny sizes, a smoke test that runs in seconds).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from importlib import resources
from pathlib import Path

import numpy as np

from spikefab.arch.image import (AXON_DTYPE, NEURON_DTYPE, PROFILE_DTYPE, ROUTE_DTYPE,
                                   ROUTE_PTR_DTYPE, STATE_DTYPE, SYNAPSE_DTYPE, CoreImage, Image)
from spikefab.emulator import noc_traffic, simulate


def bench_profile(folder: Path) -> Path:
    """darwin3 with one core whose memories hold the benchmark network."""
    text = (resources.files("spikefab.arch.profiles") / "darwin3.toml").read_text()
    text = text.replace('name = "darwin3"', 'name = "bench1core"')
    text = text.replace("synapses = 65536", "synapses = 1048576")
    path = folder / "bench1core.toml"
    path.write_text(text)
    return path


def recurrent_image(n: int, p: float, seed: int, target: str = "bench1core") -> Image:
    """One core, ``n`` neurons, each neuron's axon reaches ``p * n`` random neurons (weights
    small, bias strong, vth low: a high, steady firing rate)."""
    rng = np.random.default_rng(seed)
    k = max(1, int(round(p * n)))
    prof = np.array([(410, 1024, 40, 1, 0, 0, 0)], PROFILE_DTYPE)
    neu = np.zeros(n, NEURON_DTYPE)
    neu["bias_mant"] = rng.integers(1500, 4000, n)
    neu["bias_exp"] = 1
    syn = np.zeros(n * k, SYNAPSE_DTYPE)
    syn["neuron"] = np.concatenate([rng.choice(n, k, replace=False) for _ in range(n)])
    syn["weight"] = rng.integers(-40, 40, n * k)
    syn["delay"] = rng.integers(0, 3, n * k)
    ax = np.zeros(n, AXON_DTYPE)
    ax["start"] = np.arange(n) * k
    ax["count"] = k
    ptr = np.zeros(n, ROUTE_PTR_DTYPE)
    ptr["start"] = np.arange(n)
    ptr["count"] = 1
    routes = np.zeros(n, ROUTE_DTYPE)
    routes["axon"] = np.arange(n)
    core = CoreImage(chiplet=0, x=0, y=0, slot=0, acc_exps=np.zeros(1, np.int8), profiles=prof,
                     neurons=neu, state=np.zeros(n, STATE_DTYPE), axons=ax, synapses=syn,
                     route_ptr=ptr, routes=routes)
    manifest = {"inputs": {}, "outputs": {},
                "populations": {"net": {"size": n, "slices": [{"core": 0, "offset": 0,
                                                                "count": n, "start": 0}]}}}
    return Image(target=target, cores=[core], host_route_ptr=np.zeros(0, ROUTE_PTR_DTYPE),
                 host_routes=np.zeros(0, ROUTE_DTYPE), manifest=manifest)


def timed(fn, repeat: int = 3):
    """Best wall time of ``repeat`` calls; CPU time of that call is kept in ``timed.cpu``."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        res = fn()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if wall < best:
            best, out, timed.cpu = wall, res, cpu
    return best, out


def run(quick: bool = False) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        prof = str(bench_profile(Path(tmp)))
        n, steps = (400, 20) if quick else (4000, 200)
        big = recurrent_image(n, 0.02, seed=1)
        simulate(big, None, 2, target=prof)                        # compile / load caches
        wall, res = timed(lambda: simulate(big, None, steps, target=prof))
        events = res.counters["synops"]
        out = {"functional": {"neurons": n, "steps": steps, "synops": events,
                              "spikes_per_step": res.counters["spikes"] / steps, "wall_s": wall,
                              "cpu_s": timed.cpu, "events_per_s": events / wall,
                              "events_per_cpu_s": events / timed.cpu}}
        small = recurrent_image(10, 0.2, seed=2)
        ssteps = 100000     # quick too: the difference must dwarf the noise of one call
        simulate(small, None, 2, target=prof)
        wall_s, _ = timed(lambda: simulate(small, None, ssteps, target=prof))
        wall_1, _ = timed(lambda: simulate(small, None, 1, target=prof))
        out["overhead"] = {"steps": ssteps, "us_per_step": (wall_s - wall_1) / (ssteps - 1) * 1e6,
                           "call_ms": wall_1 * 1e3}
        csteps = 5 if quick else 50
        simulate(big, None, 1, "cycle", target=prof)
        wall_c, resc = timed(lambda: simulate(big, None, csteps, "cycle", target=prof), 1)
        sim = int(resc.cycles_per_step.sum())
        out["cycle_image"] = {"steps": csteps, "cycles": sim, "wall_s": wall_c,
                              "cycles_per_s": sim / wall_c,
                              "synops_per_s": resc.counters["synops"] / wall_c}
    cyc = 2000 if quick else 100000
    noc_traffic(rate=0.02, cycles=200, seed=0)
    for rate in (0.02, 0.4):
        c0 = time.process_time()
        r = noc_traffic(rate=rate, cycles=cyc, seed=1, drain=cyc // 10)
        cpu = time.process_time() - c0
        out[f"noc_{rate}"] = {"cycles": r.cycles, "wall_s": r.wall_s, "cpu_s": cpu,
                              "cycles_per_s": r.cycles_per_second,
                              "cycles_per_cpu_s": r.cycles / cpu, "avg_latency": r.avg_latency,
                              "accepted": r.accepted}
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    ap.add_argument("--json", help="write the numbers to this file")
    args = ap.parse_args(argv)
    out = run(args.quick)
    f = out["functional"]
    print(f"functional: {f['neurons']} neurons, {f['spikes_per_step']:.0f} spikes/step, "
          f"{f['synops']:,} synaptic events in {f['wall_s']:.3f} s = "
          f"{f['events_per_s']:.3g} events/s ({f['events_per_cpu_s']:.3g} per CPU-second)")
    o = out["overhead"]
    print(f"per-step overhead (10 neurons): {o['us_per_step']:.2f} us/step, "
          f"call {o['call_ms']:.2f} ms")
    c = out["cycle_image"]
    print(f"cycle engine on that image: {c['cycles']:,} cycles in {c['wall_s']:.3f} s = "
          f"{c['cycles_per_s']:.3g} cycles/s ({c['synops_per_s']:.3g} synops/s)")
    for rate in (0.02, 0.4):
        r = out[f"noc_{rate}"]
        print(f"NoC 8x8 uniform @ {rate}: {r['cycles']:,} cycles in {r['wall_s']:.3f} s = "
              f"{r['cycles_per_s']:.3g} cycles/s ({r['cycles_per_cpu_s']:.3g} per CPU-s; "
              f"latency {r['avg_latency']:.2f}, "
              f"accepted {r['accepted']:.3f})")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
