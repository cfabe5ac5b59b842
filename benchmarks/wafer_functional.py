"""The functional engine on a wafer image: steps/s, synaptic events/s, peak memory, 1 vs 2 threads.

The image is :func:`scale_out.wafer_image` (built from the tables, no compiler) with one route
per neuron: ``--chiplets`` chiplets of ``--cores`` DarwinWafer cores of 4,096 neurons, 4,096
axons of ``--syn`` synapses each (16 x 153 x 4,096 x 15 = 10 M neurons, 150 M synapses; one route
per neuron keeps the synaptic operations of a step within what the cores' synapse memories can
serve, which ``check_fits`` enforces).  It is built and saved once; each
thread count then runs in its own process (its own peak resident memory: load + flatten + run),
``nice``-d, after a warm-up on a tiny image of the same shape, with the per-thread profile on
(``thread_profile.py``: CPU time per phase and thread, and the critical path that dedicated
cores would give).  Both runs must give the same digest (spikes, final state, counters).  Before building, the free memory is compared with
what the image needs (``BYTES_PER_SYNAPSE``); a size that does not fit is scaled down to the
largest number of cores that does, and the JSON says so.

    python benchmarks/wafer_functional.py [--chiplets 16] [--cores 153] [--syn 15] [--steps 20]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_out import _inputs, _peak_mib, _warm, digest, wafer_image  # noqa: E402
from thread_profile import cpu_speedup  # noqa: E402

#: peak resident bytes per synapse of one run, neuron tables included (15 synapses per neuron):
#: 62 measured on 16 x 38 cores with 1 thread (2.4 GiB); 2 threads add the part-split copy
BYTES_PER_SYNAPSE = 90


def _available() -> int:
    """MemAvailable from /proc/meminfo in bytes (0 where it cannot be read)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _one_route(image):
    """Keep each neuron's first route only (module docstring)."""
    for c in image.cores:
        c.routes = c.routes[c.route_ptr["start"]].copy()
        c.route_ptr["start"] = np.arange(len(c.route_ptr))
        c.route_ptr["count"] = 1
    return image


def child(img: str, inp: str, steps: int, threads: int, out: str) -> None:
    """One run in this process (SPIKEFAB_THREADS set by the parent).  ``run_s`` is the kernel's
    step loop (``engine.last_run_s``), as in section 2: ``simulate`` also checks the image,
    flattens it and builds the Result on one thread, which is not what threads speed up (that
    is ``simulate_s``).  The loop runs with the per-thread profile on (a few clock reads per
    step: µs against a step of milliseconds)."""
    from spikefab.arch.image import load_image
    from spikefab.arch.target import load_target
    from spikefab.emulator import engine, flatten, simulate
    from thread_profile import summarize
    simulate(_warm(), {}, 3)
    t0 = time.perf_counter()
    image = load_image(img)
    t1 = time.perf_counter()
    flatten(image, load_target(image.target), threads).fo      # timed apart: simulate does it
    t2, c2 = time.perf_counter(), time.process_time()
    engine.profile_threads = True
    res = simulate(image, _inputs(inp), steps)
    wall, cpu = time.perf_counter() - t2, time.process_time() - c2
    Path(out).write_text(json.dumps({
        "threads": threads, "load_s": t1 - t0, "flatten_s": t2 - t1,
        "simulate_s": wall, "simulate_cpu_s": cpu, "run_s": engine.last_run_s,
        "profile": summarize(engine.last_profile),
        "peak_mib": _peak_mib(), "digest": digest(res), "spikes": int(res.counters["spikes"]),
        "synops": int(res.counters["synops"]), "load_avg": os.getloadavg()[0]}))


def run(chiplets: int, cores: int, syn: int, steps: int, threads=(1, 2)) -> dict:
    need = chiplets * cores * 4096 * syn * BYTES_PER_SYNAPSE
    avail = _available()
    asked = (chiplets, cores)
    while avail and need > 0.8 * avail and cores > 1:        # the largest size that fits
        cores = max(1, cores * 3 // 4)
        need = chiplets * cores * 4096 * syn * BYTES_PER_SYNAPSE
    report: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    "asked": {"chiplets": asked[0], "cores": asked[1]}, "chiplets": chiplets,
                    "cores_per_chiplet": cores, "scaled_down": (chiplets, cores) != asked,
                    "mem_available_gib": avail / 2**30, "steps": steps}
    with tempfile.TemporaryDirectory(prefix="wafer-") as tmp:
        d = Path(tmp)
        t0 = time.perf_counter()
        image = _one_route(wafer_image(chiplets, cores, axons=4096, syn=syn))
        img = image.save(d / "wafer.sfi")
        report["neurons"] = sum(c.n_neurons for c in image.cores)
        report["synapses"] = sum(len(c.synapses) for c in image.cores)
        del image
        rng = np.random.default_rng(1)
        np.savez(d / "in.npz", **{"in": (rng.random((steps, 64)) < 0.2).astype(np.uint8)})
        report["build_s"] = time.perf_counter() - t0
        rows = []
        for k in threads:
            env = dict(os.environ, SPIKEFAB_THREADS=str(k), NUMBA_NUM_THREADS=str(max(k, 1)))
            if avail and "SPIKEFAB_MAX_RUN_BYTES" not in os.environ:
                # simulate's budget defaults to 8 GiB; this run was sized to the free memory
                env["SPIKEFAB_MAX_RUN_BYTES"] = str(int(0.9 * avail))
            out = d / f"t{k}.json"
            subprocess.run(["nice", "-n", "10", sys.executable, __file__, "_child", str(img),
                            str(d / "in.npz"), str(steps), str(k), str(out)], check=True, env=env)
            r = json.loads(out.read_text())
            r["steps_per_s"] = steps / r["run_s"]
            r["events_per_s"] = r["synops"] / r["run_s"]
            rows.append(r)
        report["runs"] = rows
        report["identical"] = len({r["digest"] for r in rows}) == 1
        if len(rows) > 1:
            report["speedup_2_vs_1"] = rows[0]["run_s"] / rows[1]["run_s"]
            report["cpu_speedup_2_vs_1"] = cpu_speedup(rows[0]["profile"], rows[1]["profile"])
    return report


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chiplets", type=int, default=16)
    ap.add_argument("--cores", type=int, default=153, help="cores per chiplet")
    ap.add_argument("--syn", type=int, default=15, help="synapses per axon")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    rep = run(a.chiplets, a.cores, a.syn, a.steps)
    print(json.dumps(rep, default=float))
    if a.json:
        a.json.write_text(json.dumps(rep, indent=1, default=float))
    return rep


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
    else:
        main()
