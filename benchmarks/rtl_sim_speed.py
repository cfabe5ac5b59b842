"""RTL simulation speed: simulated clock cycles per second on Icarus vs Verilator (and pysim).

Runs the same random ice40-up5k images on the Mesh built for each simulator and reports
cycles/s of the stepping phase (``sum(cycles_per_step) / wall time inside the simulator``), plus
the one-off build time.  Results go to docs/benchmarks.md (RTL section) by hand.

    python benchmarks/rtl_sim_speed.py [--steps 40] [--networks 4]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "rtl"))

from netgen import random_image  # noqa: E402

from spikefab.rtl.sim.driver import build_simulator, simulator_problem  # noqa: E402
from spikefab.rtl.sim.program import jobs_from  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--networks", type=int, default=4)
    ap.add_argument("--neurons", type=int, default=64)
    ap.add_argument("--cache", help="simulator build cache (default: a temporary folder)")
    args = ap.parse_args()
    jobs = []
    for seed in range(args.networks):
        image, inputs = random_image(500 + seed, max_neurons=args.neurons, steps=args.steps)
        jobs.append(jobs_from(image, inputs, args.steps))
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or tmp
        for simulator in ("icarus", "verilator"):
            problem = simulator_problem(simulator)
            if problem:
                print(f"{simulator}: skipped ({problem})")
                continue
            t0 = time.perf_counter()
            sim = build_simulator("ice40-up5k", simulator, cache)
            build = time.perf_counter() - t0
            t0 = time.perf_counter()
            sim.run(jobs)
            total = time.perf_counter() - t0
            st = sim.last_stats
            print(f"{simulator}: build {build:.1f} s; stepping {st['run_cycles']:,} cycles in "
                  f"{st['run_wall_s']:.2f} s -> {st['run_cycles'] / st['run_wall_s']:,.0f} "
                  f"cycles/s; all {st['total_cycles']:,} cycles (loads, read-back) in "
                  f"{st['wall_s']:.2f} s -> {st['total_cycles'] / st['wall_s']:,.0f} cycles/s; "
                  f"whole call {total:.1f} s incl. simulator start-up")


if __name__ == "__main__":
    main()
