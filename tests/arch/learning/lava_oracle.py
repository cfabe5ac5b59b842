"""Runs plastic networks in Lava 0.10 (``LearningDense`` fixed_pt + bit-accurate ``LIF``).

Executed by the Lava venv's Python (3.10), never imported by the test suite's interpreter:
``python lava_oracle.py spec.json out.json``.  Each network: a RingBuffer of input spikes ->
plastic LearningDense -> LIF, optionally a plastic recurrent LearningDense LIF -> LIF; the LIF's
spikes are the back-propagating action potential of both.  After every ``chunk`` steps it
records weights, tags and traces of every projection and the LIF state; spikes at the end.
"""

import json
import sys
import warnings

import numpy as np

warnings.simplefilter("ignore")

from lava.magma.core.learning.learning_rule import Loihi2FLearningRule  # noqa: E402
from lava.magma.core.run_conditions import RunSteps  # noqa: E402
from lava.magma.core.run_configs import Loihi2SimCfg  # noqa: E402
from lava.proc.dense.process import LearningDense  # noqa: E402
from lava.proc.io.sink import RingBuffer as Sink  # noqa: E402
from lava.proc.io.source import RingBuffer as Source  # noqa: E402
from lava.proc.lif.process import LIF  # noqa: E402
from lava.utils.weightutils import SignMode  # noqa: E402

SIGN = {1: SignMode.MIXED, 2: SignMode.EXCITATORY, 3: SignMode.INHIBITORY}
TRACES = ("x1", "x2", "y1", "y2", "y3")


def projection(spec, shape):
    kw = {}
    for name in TRACES:
        kw[f"{name}_impulse"] = spec["impulse"][name]
        kw[f"{name}_tau"] = spec["tau"][name]
    rule = Loihi2FLearningRule(dw=spec.get("dw"), dd=spec.get("dd"), dt=spec.get("dt"),
                               t_epoch=spec["t_epoch"], rng_seed=spec["rng_seed"], **kw)
    return LearningDense(weights=np.array(spec["weights"], dtype=int),
                         learning_rule=rule, sign_mode=SIGN[spec["sign_mode"]],
                         num_message_bits=0)


def run(net):
    steps, chunk = net["steps"], net["chunk"]
    inp = np.array(net["input"], dtype=int)                   # (steps, n_in)
    n_in, n = inp.shape[1], net["n"]
    lif = LIF(shape=(n,), du=net["du"], dv=net["dv"], vth=net["vth"],
              bias_mant=np.array(net["bias_mant"]), bias_exp=np.array(net["bias_exp"]))
    src = Source(data=inp.T.copy())
    projs = {"in": projection(net["proj"]["in"], (n, n_in))}
    src.s_out.connect(projs["in"].s_in)
    if "rec" in net["proj"]:
        projs["rec"] = projection(net["proj"]["rec"], (n, n))
        lif.s_out.connect(projs["rec"].s_in)
    for p in projs.values():
        p.a_out.connect(lif.a_in)
        lif.s_out.connect(p.s_in_bap)
    sink = Sink(shape=(n,), buffer=steps)
    lif.s_out.connect(sink.a_in)
    cfg = Loihi2SimCfg(select_tag="fixed_pt")
    snaps = []
    try:
        for _ in range(steps // chunk):
            lif.run(condition=RunSteps(num_steps=chunk), run_cfg=cfg)
            snap = {"u": lif.u.get().astype(int).tolist(), "v": lif.v.get().astype(int).tolist()}
            for key, p in projs.items():
                for var in ("weights", "tag_1", "tag_2") + TRACES:
                    snap[f"{key}.{var}"] = np.asarray(getattr(p, var).get()).astype(int).tolist()
            snaps.append(snap)
        spikes = sink.data.get().astype(int).tolist()           # (n, steps)
    finally:
        lif.stop()
    return {"snapshots": snaps, "spikes": spikes}


def main():
    nets = json.load(open(sys.argv[1]))
    json.dump([run(net) for net in nets], open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
