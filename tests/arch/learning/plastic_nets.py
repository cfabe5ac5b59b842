"""Random plastic networks for the Lava differential test, and our reference run of them.

A network (JSON-able dict, the same spec :mod:`lava_oracle` reads): input spikes -> plastic
projection ``in`` -> LIF population, optionally a plastic recurrent projection ``rec``.  The
reference run uses :func:`spikefab.arch.neuron.lif_step` and the learning contract
(:mod:`spikefab.arch.learning.engine`) with the ``lava`` random generator, in Lava's order.
"""

from __future__ import annotations

import dataclasses

import numpy as np

import spikefab as sf

from spikefab.arch.learning import (STDP, LearningRandom, LearningRule, PlasticGroup, TraceConfig,
                                    is_epoch_end, learn, record_post, record_pre)
from spikefab.arch.neuron import lif_step

TRACES = ("x1", "x2", "y1", "y2", "y3")
FACTORS = ["x1", "x2", "y1", "y2", "y3", "w", "t", "d", "x0", "y0"]


def _factor(rng: np.random.Generator) -> str:
    kind = rng.integers(0, 5)
    var = FACTORS[rng.integers(0, len(FACTORS))]
    c = int(rng.integers(1, 40))
    if kind == 0 and var not in ("x0", "y0"):
        return f"({var} + {c})" if rng.random() < 0.5 else f"({c} - {var})"
    if kind == 1:
        sv = ("w", "t", "d")[rng.integers(0, 3)]
        return f"sgn({sv} - {c})" if rng.random() < 0.5 else f"sgn({sv})"
    return var


def random_rule(rng: np.random.Generator, k: int) -> str:
    """A random rule from the grammar: 1-3 products, scaled, 0-3 factors each."""
    out = []
    for i in range(int(rng.integers(1, 4))):
        sign = "-" if rng.random() < 0.4 else ("+" if i else "")
        lit = [f"2^{-int(rng.integers(0, 8))}", f"{int(rng.integers(1, 8))}*2^{int(rng.integers(-7, 4))}",
               f"{int(rng.integers(1, 8))}"][rng.integers(0, 3)]
        dep = ["x0", "y0", f"u{k}"][rng.integers(0, 3)]
        parts = [lit, dep] + [_factor(rng) for _ in range(int(rng.integers(0, 4)))]
        out.append(sign + " * ".join(parts))
    return " ".join(out)


def random_projection(rng: np.random.Generator, shape: tuple[int, int]) -> dict:
    k = int(rng.integers(0, 3))
    spec = {"dw": random_rule(rng, k)}
    if rng.random() < 0.3:
        spec["dd"] = random_rule(rng, k)
    if rng.random() < 0.3:
        spec["dt"] = random_rule(rng, k)
    sign_mode = int(rng.choice([1, 1, 2, 3]))
    w = rng.integers(-120, 121, size=shape) * 2
    if sign_mode == 2:
        w = np.abs(w)
    elif sign_mode == 3:
        w = -np.abs(w)
    spec.update(
        impulse={t: float(rng.choice([0.0, rng.integers(0, 64) / 4, rng.uniform(0, 40)]))
                 for t in TRACES},
        tau={t: int(rng.choice([0, rng.integers(1, 40)])) for t in TRACES},
        t_epoch=int(rng.integers(1, 6)), rng_seed=int(rng.integers(0, 10000)),
        sign_mode=sign_mode, weights=w.tolist())
    return spec


def random_net(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    n_in, n = int(rng.integers(2, 7)), int(rng.integers(2, 6))
    proj = {"in": random_projection(rng, (n, n_in))}
    if rng.random() < 0.5:
        proj["rec"] = random_projection(rng, (n, n))
        proj["rec"]["t_epoch"] = proj["in"]["t_epoch"]
    chunk = proj["in"]["t_epoch"]                     # snapshot after every epoch
    steps = chunk * int(rng.integers(3, 7))
    return {
        "n": n, "steps": steps, "chunk": chunk,
        "input": (rng.random((steps, n_in)) < rng.uniform(0.2, 0.7)).astype(int).tolist(),
        "du": int(rng.integers(0, 4096)), "dv": int(rng.integers(0, 4096)),
        "vth": int(rng.integers(1, 150)),
        "bias_mant": rng.integers(0, 200, size=n).tolist(), "bias_exp": [int(rng.integers(0, 4))] * n,
        "proj": proj,
    }


def rule_of(spec: dict) -> LearningRule:
    return LearningRule(dw=spec.get("dw"), dd=spec.get("dd"), dt=spec.get("dt"),
                        t_epoch=spec["t_epoch"], rng_seed=spec["rng_seed"],
                        sign_mode={1: "mixed", 2: "excitatory", 3: "inhibitory"}[spec["sign_mode"]],
                        **{t: TraceConfig(spec["impulse"][t], spec["tau"][t]) for t in TRACES})


def dense_group(w: np.ndarray) -> PlasticGroup:
    n_post, n_pre = w.shape
    post, pre = np.divmod(np.arange(n_post * n_pre), n_pre)
    return PlasticGroup.empty(pre, post, w.reshape(-1), n_pre, n_post)


def run_reference(net: dict) -> dict:
    """Our reference run of ``net``: same structure as the Lava oracle's output."""
    n, steps, chunk = net["n"], net["steps"], net["chunk"]
    inp = np.array(net["input"], dtype=bool)
    keys = list(net["proj"])
    profs = {k: rule_of(net["proj"][k]).profile() for k in keys}
    groups = {k: dense_group(np.array(net["proj"][k]["weights"])) for k in keys}
    rnds = {k: LearningRandom.lava(net["proj"][k]["rng_seed"]) for k in keys}
    u = np.zeros(n, np.int64)
    v = np.zeros(n, np.int64)
    a_buff = np.zeros(n, np.int64)
    spikes = np.zeros((steps, n), int)
    snaps = []
    for t in range(1, steps + 1):
        u, v, s, _, _ = lif_step(u, v, a_buff, du=net["du"], dv=net["dv"], vth=net["vth"],
                                 bias_mant=np.array(net["bias_mant"]),
                                 bias_exp=np.array(net["bias_exp"]))
        spikes[t - 1] = s
        pre = {"in": inp[t - 1], "rec": s}
        a_buff = np.zeros(n, np.int64)
        for k in keys:
            g = groups[k]
            a_buff += np.bincount(g.post, weights=g.w * pre[k][g.pre], minlength=n).astype(np.int64)
            record_pre(g, profs[k], pre[k], t)
            rnds[k].advance_traces()
            record_post(g, profs[k], s, t, rnds[k])
            rnds[k].advance_traces()
        for k in keys:
            if is_epoch_end(t, profs[k].t_epoch):
                learn(groups[k], profs[k], t, rnds[k])
        if t % chunk == 0:
            snap = {"u": u.tolist(), "v": v.tolist()}
            for k in keys:
                g = groups[k]
                shape = np.array(net["proj"][k]["weights"]).shape
                snap[f"{k}.weights"] = g.w.reshape(shape).tolist()
                snap[f"{k}.tag_1"] = g.t.reshape(shape).tolist()
                snap[f"{k}.tag_2"] = g.d.reshape(shape).tolist()
                for i, tr in enumerate(TRACES):
                    snap[f"{k}.{tr}"] = (g.x[i] if i < 2 else g.y[i - 2]).tolist()
            snaps.append(snap)
    return {"snapshots": snaps, "spikes": spikes.T.tolist()}


def build(net: dict, generator: str = "lava") -> sf.Network:
    b = sf.Network()
    b.input("x", len(net["input"][0]))
    b.population("p", net["n"], sf.LoihiLIF(du=net["du"], dv=net["dv"], vth=net["vth"],
                                            bias_mant=np.array(net["bias_mant"]),
                                            bias_exp=np.array(net["bias_exp"])))
    for k, spec in net["proj"].items():
        rule = dataclasses.replace(rule_of(spec), generator=generator)
        b.connect("x" if k == "in" else "p", "p", np.array(spec["weights"]), learning=rule,
                  name=k)
    b.output("y", "p")
    return b


def small_stdp_net(**rule_kw) -> sf.Network:
    b = sf.Network()
    b.input("x", 4)
    b.population("p", 3, sf.LoihiLIF(du=4095, dv=512, vth=40))
    b.connect("x", "p", np.full((3, 4), 60), learning=STDP(1, -1, 8, 8, t_epoch=2, **rule_kw))
    b.output("y", "p")
    return b
