"""Run a network description on Intel Lava's bit-accurate models; runs inside ``.venv-lava``.

Usage: ``.venv-lava/bin/python lava_oracle.py NET.json OUT.npz``.  ``NET.json`` holds
``steps``, ``inputs`` {name: spikes as a list (steps x n)}, ``populations`` {name: {"n", "du",
"dv", "vth", "bias_mant", "bias_exp"}} and ``projections`` [{"src", "dst", "weights" (dst x
src, already effective), "weight_exp", "delays" (dst x src) or null}].  ``OUT.npz`` receives,
per population, ``NAME.u``, ``NAME.v`` and ``NAME.s`` (steps x n, the values at the end of each
step).  A projection with delays is Lava's ``DelayDense``, one without is ``Dense``; every
process runs its ``fixed_pt`` (bit-accurate) model under ``Loihi2SimCfg``.

This file imports only Lava and NumPy: it is the oracle, not part of spikefab.
"""

import json
import sys

import numpy as np
from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.proc.dense.process import DelayDense, Dense
from lava.proc.io.source import RingBuffer
from lava.proc.lif.process import LIF
from lava.proc.monitor.process import Monitor


def main(net_path: str, out_path: str) -> None:
    with open(net_path) as f:
        net = json.load(f)
    steps = int(net["steps"])
    sources = {}
    for name, spikes in net["inputs"].items():
        data = np.asarray(spikes, dtype=float).T            # (n, steps)
        sources[name] = RingBuffer(data=data)
    lifs = {}
    for name, p in net["populations"].items():
        n = int(p["n"])
        lifs[name] = LIF(shape=(n,), du=int(p["du"]), dv=int(p["dv"]), vth=int(p["vth"]),
                         bias_mant=np.asarray(p["bias_mant"], dtype=int),
                         bias_exp=np.asarray(p["bias_exp"], dtype=int), name=name)
    for k, pr in enumerate(net["projections"]):
        w = np.asarray(pr["weights"], dtype=int)
        exp = int(pr["weight_exp"])
        if pr.get("delays") is not None:
            conn = DelayDense(weights=w, delays=np.asarray(pr["delays"], dtype=int),
                              weight_exp=exp, name=f"proj{k}")
        else:
            conn = Dense(weights=w, weight_exp=exp, name=f"proj{k}")
        src = sources[pr["src"]] if pr["src"] in sources else lifs[pr["src"]]
        src.s_out.connect(conn.s_in)
        conn.a_out.connect(lifs[pr["dst"]].a_in)
    monitors = {}
    for name, lif in lifs.items():
        for var in ("u", "v"):
            m = Monitor()
            m.probe(getattr(lif, var), steps)
            monitors[(name, var)] = m
        m = Monitor()
        m.probe(lif.s_out, steps)
        monitors[(name, "s")] = m
    proc = next(iter(lifs.values()))
    proc.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
    out = {}
    try:
        for (name, var), m in monitors.items():
            data = m.get_data()
            target = getattr(lifs[name], "s_out" if var == "s" else var)
            arr = np.asarray(data[lifs[name].name][target.name])
            out[f"{name}.{var}"] = arr.reshape(steps, -1).astype(np.int64)
    finally:
        proc.stop()
    np.savez(out_path, **out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
