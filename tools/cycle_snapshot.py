"""Before/after snapshot of the cycle engine and the NoC traffic mode (issue 19, round 5).

Run from the repository root: ``python tools/cycle_snapshot.py out.pkl [before.pkl]``.  Records
cycles per step, counters (hops, deepest FIFO, link tables), spikes, traces and final states of
94 cases (random images on every shipped profile, the tiny wafer under xy / yx / west-first,
the SANA-FE network at 400 / 1,200 / 4,000 neurons, NoC traffic at 3 patterns x 3 rates x 3
meshes) and, given a second file, names the cases that differ.  A speed-up of the cycle
kernels must leave every case identical.  Numba caches a kernel by its own file's content: run
with a fresh ``NUMBA_CACHE_DIR`` after changing only ``emulator/noc/kernels.py``.
"""
import dataclasses
import math
import pickle
import sys
import tempfile
from pathlib import Path
import numpy as np
sys.path.insert(0, "tests/emulator")
sys.path.insert(0, ".")
from emu_images import TINY_WAFER, random_image, random_inputs
from spikefab.arch.target import load_target
from spikefab.emulator import simulate, noc_traffic
from spikefab.arch import mesh

def res_facts(r):
    c = dict(r.counters)
    return {"cycles": np.asarray(r.cycles_per_step).tolist(), "counters": repr(sorted(c.items())),
            "spikes": {k: np.asarray(v).tobytes() for k, v in r.spikes.items()},
            "traces": {k: np.asarray(v).tobytes() for k, v in r.traces.items()},
            "final": [np.asarray(s).tobytes() for s in r.final_state]}

cases = {}
tmp = Path(tempfile.mkdtemp())
wafers = {}
for name in mesh.ROUTINGS:
    p = tmp / f"{name}.toml"
    p.write_text(TINY_WAFER.replace("[topology]\n", f'[topology]\nrouting = "{name}"\n'))
    wafers[name] = str(p)
for tname in ["darwin3", "loihi1", "ice40-up5k", "ecp5-85k", "darwinwafer"]:
    tgt = load_target(tname)
    for seed in range(8):
        rng = np.random.default_rng(1000 + seed)
        img = random_image(rng, tgt, max_cores=min(12, tgt.topology.cores), max_neurons=20,
                           activity=3.0)
        inp = random_inputs(rng, img, 12, p=0.5)
        cases[f"{tname}/{seed}"] = res_facts(simulate(img, inp, 12, "cycle"))
for seed in range(8):
    rng = np.random.default_rng(2000 + seed)
    img = random_image(rng, load_target(wafers["xy"]), max_cores=16, max_neurons=20, activity=3.0)
    inp = random_inputs(rng, img, 12, p=0.5)
    for name, spec in wafers.items():
        cases[f"tiny-{name}/{seed}"] = res_facts(simulate(img, inp, 12, "cycle", target=spec))
sys.path.insert(0, "benchmarks")
from bench_peers import sanafe_fixed_point
from spikefab.compiler.driver import compile_result
base = load_target("loihi1")
for n, steps in ((400, 30), (1200, 20), (4000, 10)):
    net, _ = sanafe_fixed_point(n)
    cap = math.ceil(n / base.topology.cores)
    tgt = dataclasses.replace(base, core=dataclasses.replace(base.core, neurons=cap))
    img = compile_result(net, tgt, placer="anneal", seed=0, progress=False).image
    cases[f"sanafe/{n}"] = res_facts(simulate(img, None, steps, "cycle"))
for pat in ("uniform", "transpose", "hotspot"):
    for rate in (0.05, 0.2, 0.45):
        for ch, tg in (((1, 1), "darwin3"), ((2, 2), wafers["xy"]), ((2, 2), wafers["west-first"])):
            mesh_ = (6, 6) if ch == (1, 1) else (3, 3)
            r = noc_traffic(mesh_, pat, rate, 1500, seed=3, chiplets=ch, target=tg)
            d = {k: (v if np.isscalar(v) else repr(v)) for k, v in dataclasses.asdict(r).items()
                 if k not in ("wall_s", "cycles_per_second")}
            cases[f"noc/{pat}/{rate}/{ch}/{Path(tg).stem}"] = repr(sorted(d.items()))
out = sys.argv[1]
Path(out).write_bytes(pickle.dumps(cases))
print(len(cases), "cases")
if len(sys.argv) > 2:
    old = pickle.loads(Path(sys.argv[2]).read_bytes())
    bad = [k for k in old if old[k] != cases.get(k)]
    print("DIFF", bad if bad else "none", "missing", set(old) ^ set(cases))
