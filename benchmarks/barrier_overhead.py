"""What one step's barrier costs the functional engine's threads (``emulator/barrier.py``).

Two Numba threads in one parallel region (as ``kernels.run_functional_threads``) each do
``W`` µs of work per step (a clock-timed busy loop, so a preempted thread still ends its work on
time and the figure is the barrier's, not the scheduler's) and meet at :func:`wait`; on every
step one of them (alternating) is late by ``D`` µs.  Overhead per step = wall per step - W - D.
Compared: a waiter that sleeps almost at once (budget 0: ~128 polls, then the futex) and the
engine's budget (``SPIN_NS``): the difference is the wake-up of a sleeping partner.  Only
meaningful with a core per thread (see the printed load average).

    .venv/bin/python benchmarks/barrier_overhead.py [--steps N] [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from numba import njit, prange

from spikefab.emulator.barrier import SPIN_NS, new_barrier, wait
from spikefab.emulator.clock import MONOTONIC, clock_ns


@njit(cache=True)
def _busy(ns):
    t0 = clock_ns(MONOTONIC)
    while clock_ns(MONOTONIC) - t0 < ns:
        pass


@njit(cache=True, parallel=True)
def _run(steps, w_ns, d_ns, spin_ns):
    bar = new_barrier(spin_ns)
    for w in prange(2):
        gen = 0
        for t in range(steps):
            _busy(w_ns + (d_ns if (t & 1) == w else 0))
            gen = wait(bar, 2, gen)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--work-us", type=float, default=40.0)
    a = ap.parse_args()
    w_ns = int(a.work_us * 1e3)
    _run(10, w_ns, 0, SPIN_NS)                                   # compile
    budgets = {"sleep at once": 0, f"spin {SPIN_NS // 1000} us": SPIN_NS}
    for d_us in (0, 5, 30):
        res: dict[str, list[float]] = {k: [] for k in budgets}
        for _ in range(a.rounds):                                # alternate the budgets
            for k, b in budgets.items():
                t0 = time.perf_counter()
                _run(a.steps, w_ns, d_us * 1000, b)
                dt = time.perf_counter() - t0
                res[k].append(dt / a.steps * 1e6 - a.work_us - d_us)
        for k, v in res.items():
            print(f"late by {d_us:2d} us, {k:13s}: overhead median {statistics.median(v):6.2f} "
                  f"min {min(v):6.2f} us/step ({a.rounds} rounds)")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
