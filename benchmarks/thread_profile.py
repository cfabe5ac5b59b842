"""Summaries of the functional engine's per-thread profile (``engine.profile_threads``).

The kernel records, per step and thread, the thread's CPU and wall nanoseconds in each phase
(deliver, update, send, serial, wait) and its work (spike rows, synaptic events, neurons,
spikes); see ``emulator/kernels.py`` (``P_*``).  On a shared machine wall time includes the
time a thread waits for a core; CPU time does not, so the *critical path* -- per step the
busiest thread's CPU time, summed over the steps -- is what the run would take on dedicated
cores, and its ratio between 1 and 2 threads is the speed-up the engine allows.
"""

from __future__ import annotations

import numpy as np

PHASES = ("deliver", "update", "send", "serial", "wait")
WORK = ("rows", "events", "block_rows", "neurons", "spikes")


def summarize(prof) -> dict:
    """Per-thread means per step (CPU and wall µs per phase, work) and the run's critical path.

    ``prof``: ``(steps, threads, kernels.P_N)`` int64 from ``engine.last_profile``, or a list
    of such profiles of repeated identical runs: then each step's entries are the least of the
    runs (the run least disturbed by other jobs; the work columns are equal in all).  Step 0 is
    left out (it delivers nothing)."""
    from spikefab.emulator import kernels as K
    if isinstance(prof, (list, tuple)):
        prof = np.min(np.stack(prof), axis=0)
    p = np.asarray(prof[1:] if prof.shape[0] > 1 else prof, np.float64)
    steps = max(p.shape[0], 1)
    cols = {"deliver": K.P_DELIVER_CPU, "update": K.P_UPDATE_CPU, "send": K.P_SEND_CPU,
            "serial": K.P_SERIAL_CPU, "wait": K.P_WAIT_CPU}
    work = {"rows": K.P_ROWS, "events": K.P_EVENTS, "block_rows": K.P_BLOCK_ROWS,
            "neurons": K.P_NEURONS, "spikes": K.P_SPIKES}
    threads = []
    for w in range(p.shape[1]):
        row = {f"{ph}_cpu_us": p[:, w, c].sum() / steps / 1e3 for ph, c in cols.items()}
        row.update({f"{ph}_wall_us": p[:, w, c + 1].sum() / steps / 1e3
                    for ph, c in cols.items()})
        row.update({k: p[:, w, c].sum() / steps for k, c in work.items()})
        threads.append(row)
    busy = sum(p[:, :, cols[ph]] for ph in ("deliver", "update", "send", "serial"))
    return {"steps": int(steps), "threads": threads,
            "busy_cpu_us_per_step": float(busy.sum() / steps / 1e3),
            "critical_cpu_us_per_step": float(busy.max(axis=1).sum() / steps / 1e3),
            "wall_us_per_step": float(p[:, 0, [c + 1 for c in cols.values()]].sum()
                                      / steps / 1e3)}


def cpu_speedup(one: dict, two: dict) -> float:
    """The speed-up on dedicated cores: 1 thread's critical path over 2 threads'."""
    return one["critical_cpu_us_per_step"] / max(two["critical_cpu_us_per_step"], 1e-9)
