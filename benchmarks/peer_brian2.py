"""Brian2 side of the emulator-throughput comparison (runs in the benchmark venv).

Usage: ``python peer_brian2.py TARGET EL_MV [REPS] [--quick] > out.json`` with TARGET ``numpy``
or ``cpp_standalone``; the median of REPS timed runs is reported (standalone: the binary is built
once and re-run, ``device._last_run_time`` each time; runtime: the network keeps running, one
timed second after another).  ``--quick`` simulates 50 ms (smoke test).  The standalone project
lives in a fixed directory per regime under the temp dir, so re-runs only rebuild what changed.
The network is the Brian2 documentation's CUBA example (4,000 LIF neurons, 2 % connectivity,
1 s of biological time at dt = 0.1 ms), as in the reference notes
(perf-anchors.md section 2); EL_MV = -49 gives the low-activity regime (~6 Hz), -30 the high one.
Synaptic events = spikes x mean out-degree.
"""

import json
import os
import statistics
import sys
import tempfile
import time

import brian2 as b2


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--quick"]
    quick = "--quick" in sys.argv
    target, el = args[0], float(args[1])
    reps = int(args[2]) if len(args) > 2 else 1
    duration = (0.05 if quick else 1.0) * b2.second
    steps = int(round(float(duration / (0.1 * b2.ms))))
    if target == "cpp_standalone":
        build = os.path.join(tempfile.gettempdir(), f"spikefab_brian2_cuba_{el:g}")
        b2.set_device("cpp_standalone", directory=build)
    else:
        b2.prefs.codegen.target = target
    b2.seed(1)
    b2.defaultclock.dt = 0.1 * b2.ms
    taum, taue, taui = 20 * b2.ms, 5 * b2.ms, 10 * b2.ms
    vt, vr = -50 * b2.mV, -60 * b2.mV
    El = el * b2.mV
    eqs = """dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
             dge/dt = -ge/taue : volt
             dgi/dt = -gi/taui : volt"""
    P = b2.NeuronGroup(4000, eqs, threshold="v>vt", reset="v = vr", refractory=5 * b2.ms,
                       method="exact")
    P.v = "vr + rand() * (vt - vr)"
    P.ge = P.gi = 0 * b2.mV
    we, wi = (60 * 0.27 / 10) * b2.mV, (-20 * 4.5 / 10) * b2.mV
    Ce = b2.Synapses(P, P, on_pre="ge += we")
    Ci = b2.Synapses(P, P, on_pre="gi += wi")
    Ce.connect("i<3200", p=0.02)
    Ci.connect("i>=3200", p=0.02)
    mon = b2.SpikeMonitor(P, record=False)
    walls = []
    if target == "cpp_standalone":
        b2.run(duration)
        walls.append(b2.device._last_run_time)
        for _ in range(reps - 1):
            b2.device.run(with_output=False)
            walls.append(b2.device._last_run_time)
        spikes = int(mon.num_spikes)
    else:
        b2.run(1 * b2.ms)  # warm-up: code generation and compilation outside the timed run
        before = int(mon.num_spikes)
        for _ in range(reps):
            t0 = time.perf_counter()
            b2.run(duration)
            walls.append(time.perf_counter() - t0)
        spikes = (int(mon.num_spikes) - before) // reps
    wall = statistics.median(walls)
    n_syn = len(Ce) + len(Ci)
    events = spikes * n_syn / 4000
    json.dump({"target": target, "El_mV": el, "steps": steps, "wall_s": wall, "walls": walls,
               "steps_per_s": steps / wall, "spikes": spikes, "synapses": n_syn,
               "rate_hz": spikes / 4000 / float(duration / b2.second),
               "fired_fraction": spikes / 4000 / steps, "synaptic_events": events,
               "events_per_s": events / wall}, sys.stdout)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
