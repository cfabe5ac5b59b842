"""Compiler back-end scaling: time per pass and peak memory for 1 M, 10 M and wafer-scale networks.

Each size runs in its own process so that its peak resident memory (``ru_maxrss``) is its own.
Networks are random layered nets built directly as :class:`HwNetwork` projections (a dense builder
matrix of 10 M x 10 M could not exist), synapses in target order.

    .venv/bin/python benchmarks/compiler_scale.py 1M 10M        # darwin3
    .venv/bin/python benchmarks/compiler_scale.py wafer         # darwinwafer, 100 M synapses
    .venv/bin/python benchmarks/compiler_scale.py wafer150      # the same, 150 M (not in make bench)

Prints one JSON line per size (network, timings per pass, synapses/s, peak RSS, cores, chiplets).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


SIZES = {
    # name: (target, layers, neurons per layer, fan-in, input channels)
    "1M": ("darwin3", 4, 5_000, 50, 1_000),
    "10M": ("darwin3", 10, 10_000, 100, 1_000),
    # 10 M neurons, 100 M synapses; random sources make every synapse its own axon and route
    # entry: the most memory a layered net of this size can need
    "wafer": ("darwinwafer", 10, 1_000_000, 10, 1_000),
    "wafer150": ("darwinwafer", 10, 1_000_000, 15, 1_000),
}


def build(layers: int, width: int, fan_in: int, n_in: int, seed: int = 0):
    """Random layered network (see :func:`spikefab.compiler.synthetic.layered_network`)."""
    from spikefab.compiler.synthetic import layered_network
    return layered_network(layers, width, fan_in, n_in, seed)


def run_one(size: str) -> dict:
    from spikefab.compiler.driver import compile_result
    target, layers, width, fan_in, n_in = SIZES[size]
    t0 = time.perf_counter()
    net = build(layers, width, fan_in, n_in)
    t_build = time.perf_counter() - t0
    rss_net = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    t0 = time.perf_counter()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    res = compile_result(net, target, placer="anneal", seed=0, progress=False)
    total = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime
    chiplets = len({c.chiplet for c in res.image.cores})
    return {"size": size, "target": target, "neurons": net.n_neurons,
            "synapses": net.n_synapses, "build_s": round(t_build, 2),
            "compile_s": round(total, 2), "compile_cpu_s": round(cpu, 2),
            "passes": {t["pass"]: round(t["seconds"] + t["verify_seconds"], 2)
                       for t in res.timings},
            "synapses_per_s": round(net.n_synapses / total),
            "cores": len(res.image.cores), "chiplets": chiplets,
            "placement_cost": res.placement.cost,
            "rss_after_build_gib": round(rss_net, 2),
            "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)}


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        print(json.dumps(run_one(argv[1])), flush=True)
        return
    for size in argv or ["1M", "10M"]:
        out = subprocess.run([sys.executable, __file__, "--one", size], capture_output=True,
                             text=True)
        print(out.stdout.strip() or out.stderr.strip()[-2000:], flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
