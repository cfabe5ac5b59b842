"""Brian2 side of the emulator-throughput comparison (runs in the benchmark venv).

Usage: ``python peer_brian2.py TARGET EL_MV > out.json`` with TARGET ``numpy`` or
``cpp_standalone``.  The network is the Brian2 documentation's CUBA example (4,000 LIF neurons,
2 % connectivity, 1 s of biological time at dt = 0.1 ms), as in the reference notes
(perf-anchors.md section 2); EL_MV = -60 gives the low-activity regime (~6 Hz), -30 the high one.
Synaptic events = spikes x mean out-degree.
"""

import json
import os
import sys
import tempfile
import time

import brian2 as b2


def main() -> None:
    target, el = sys.argv[1], float(sys.argv[2])
    if target == "cpp_standalone":
        build = tempfile.mkdtemp(prefix="brian2_cuba_")
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
    if target == "cpp_standalone":
        b2.run(1 * b2.second)
        wall = b2.device._last_run_time
    else:
        b2.run(1 * b2.ms)  # warm-up: code generation and compilation outside the timed run
        t0 = time.perf_counter()
        b2.run(1 * b2.second)
        wall = time.perf_counter() - t0
    n_syn = len(Ce) + len(Ci)
    spikes = int(mon.num_spikes)
    events = spikes * n_syn / 4000
    json.dump({"target": target, "El_mV": el, "steps": 10000, "wall_s": wall,
               "steps_per_s": 10000 / wall, "spikes": spikes, "synapses": n_syn,
               "rate_hz": spikes / 4000 / 1.0, "synaptic_events": events,
               "events_per_s": events / wall}, sys.stdout)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
