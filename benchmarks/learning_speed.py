"""Emulator speed with on-chip learning on vs off, same network (docs/learning.md, "Speed").

A dense 256 -> 128 projection (32,768 synapses, weights 1..120) into LIF neurons with lateral
inhibition, 5 % input rate, on loihi1's functional engine: once static, once plastic with pair
STDP at t_epoch 1 (every step is an epoch end) and t_epoch 8.  Prints one JSON line per case
with the median (``seconds``) and best of ``repeats`` wall times after a warm-up run (Numba
compiled and cached) and the 1-minute load average at its end: on a shared machine the median
is the figure to compare, the load says how shared it was.

    python benchmarks/learning_speed.py [--steps 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np

import spikefab as sf


def network(t_epoch: int | None, n_in: int = 256, n_out: int = 128) -> sf.Network:
    rng = np.random.default_rng(0)
    net = sf.Network()
    net.input("x", n_in)
    net.population("p", n_out, sf.LoihiLIF(du=2048, dv=1024, vth=400))
    w = rng.integers(1, 121, size=(n_out, n_in))
    rule = None if t_epoch is None else sf.STDP(1, -1, 8, 8, 2 ** -2, t_epoch=t_epoch,
                                                 sign_mode="excitatory")
    net.connect("x", "p", w, learning=rule)
    net.connect("p", "p", -60 * (1 - np.eye(n_out, dtype=int)))
    net.output("y", "p")
    return net


def measure(t_epoch: int | None, steps: int, repeats: int) -> dict:
    image = sf.compile(network(t_epoch), "loihi1", progress=False)
    x = (np.random.default_rng(1).random((steps, 256)) < 0.05).astype(np.uint8)
    sf.run(image, {"x": x[:50]}, 50)                             # warm-up (JIT, caches)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = sf.run(image, {"x": x}, steps)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    return {"case": "static" if t_epoch is None else f"stdp t_epoch={t_epoch}",
            "steps": steps, "seconds": round(med, 4), "best_s": round(min(times), 4),
            "repeats": repeats, "load_avg": round(os.getloadavg()[0], 2),
            "steps_per_s": round(steps / med, 1),
            "spikes": int(res.counters["spikes"]),
            "learning_updates": int(res.counters.get("learning_updates", 0))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    rows = [measure(t, args.steps, args.repeats) for t in (None, 8, 1)]
    for r in rows:
        r["slowdown_vs_static"] = round(r["seconds"] / rows[0]["seconds"], 2)
        print(json.dumps(r))


if __name__ == "__main__":
    main()
