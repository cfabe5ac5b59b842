"""Plastic seed images and learning-table mutations for the image fuzzer (:mod:`spikefab.fuzz`).

The fuzzer's static seeds have no learning sections, so on their own they never reach the
learning tables' checks or the learning engines.  This module compiles small random plastic
networks (random rules from the rule language, traces, epochs, sign modes, delays, recurrence,
reward-modulated STDP) and mutates what only plastic images hold: one value of a learning table
(integer edges, out-of-range profile ids and spike times, non-finite or wrong decays), and the
manifest's ``learning`` object (generator, projection shapes and synapse lists).
"""

from __future__ import annotations

import json

import numpy as np

from spikefab.arch.image import LEARN_TABLES, Image

__all__ = ["seed_plastic_image", "edit_learning_field", "edit_learning_manifest"]

_TRACES = ("x1", "x2", "y1", "y2", "y3")
_FACTORS = ("x1", "x2", "y1", "y2", "y3", "w", "t", "d", "x0", "y0")
_FLOATS = (float("nan"), float("inf"), -float("inf"), -1.0, 0.0, 0.25, 0.5, 0.9999, 1.0, 2.0,
           1e300, 5e-324)


def _rule_text(rng: np.random.Generator, k: int) -> str:
    out = []
    for i in range(int(rng.integers(1, 4))):
        sign = "-" if rng.random() < 0.4 else ("+" if i else "")
        lit = [f"2^{-int(rng.integers(0, 8))}", f"{int(rng.integers(1, 8))}",
               f"{int(rng.integers(1, 8))}*2^{int(rng.integers(-7, 4))}"][int(rng.integers(3))]
        parts = [lit, ["x0", "y0", f"u{k}"][int(rng.integers(3))]]
        for _ in range(int(rng.integers(0, 4))):
            var = _FACTORS[int(rng.integers(len(_FACTORS)))]
            if var not in ("x0", "y0") and rng.random() < 0.3:
                var = f"({var} + {int(rng.integers(1, 40))})"
            parts.append(var)
        out.append(sign + " * ".join(parts))
    return " ".join(out)


def _random_rule(rng: np.random.Generator, reward: bool, gen: str):
    from spikefab.arch.learning import LearningRule, RewardModulatedSTDP, TraceConfig
    t_epoch = int(rng.choice([1, 2, 3, 5]))
    sign = str(rng.choice(["mixed", "excitatory", "inhibitory"]))
    if reward:
        return RewardModulatedSTDP(1, -1, int(rng.integers(1, 20)), int(rng.integers(1, 20)), 0.25,
                                   t_epoch=t_epoch, sign_mode=sign, generator=gen,
                                   rng_seed=int(rng.integers(0, 1 << 32)))
    k = int(rng.integers(0, 3))
    rules = {"dw": _rule_text(rng, k)}
    for target in ("dd", "dt"):
        if rng.random() < 0.3:
            rules[target] = _rule_text(rng, k)
    traces = {t: TraceConfig(float(rng.choice([0.0, rng.integers(0, 64) / 4])),
                             int(rng.choice([0, rng.integers(1, 40)]))) for t in _TRACES}
    return LearningRule(**rules, **traces, t_epoch=t_epoch, sign_mode=sign, generator=gen,
                        rng_seed=int(rng.integers(0, 1 << 32)))


def seed_plastic_image(rng: np.random.Generator, target: str) -> Image:
    """A small plastic image for ``target`` (which must have a learning engine)."""
    import spikefab as sf
    n_in, n = int(rng.integers(2, 6)), int(rng.integers(2, 6))
    reward = rng.random() < 0.25
    b = sf.Network()
    b.input("x", n_in)
    b.population("p", n, sf.LoihiLIF(du=int(rng.integers(0, 4096)), dv=int(rng.integers(0, 4096)),
                                     vth=int(rng.integers(1, 100)),
                                     bias_mant=rng.integers(0, 200, n), bias_exp=1))
    gen = str(rng.choice(["hardware", "lava"]))      # one generator per image
    rule = _random_rule(rng, reward, gen)
    w = rng.integers(-120, 121, (n, n_in)) * 2
    b.connect("x", "p", w, learning=rule, name="in", delay=rng.integers(0, 3, (n, n_in)))
    if not reward and rng.random() < 0.4:
        b.connect("p", "p", rng.integers(-60, 61, (n, n)), name="rec",
                  learning=_random_rule(rng, False, gen))
    if reward:
        b.input("r", 1)
        b.reward("r", "in")
    b.output("y", "p")
    return sf.compile(b, target, seed=int(rng.integers(0, 1 << 16)))


def _candidates(table: str, name: str, dtype: np.dtype) -> list:
    if dtype.kind == "f":
        return list(_FLOATS)
    info = np.iinfo(dtype)
    out = [0, 1, 2, 3, 7, 8, 9, 10, 15, 16, 62, 63, 64, 126, 127, 128, 254, 255, 256, 257, -1,
           -2, -8, -9, -257, -258, int(info.min), int(info.max)]
    from spikefab.arch.learning.tables import _LEARN_RANGES
    for fname, lo, hi in _LEARN_RANGES.get(table, ()):
        if fname == name:
            out += [lo, hi, lo - 1, hi + 1]
    return [v for v in out if info.min <= v <= info.max]


def edit_learning_field(arr: np.ndarray, table: str, rng: np.random.Generator) -> np.ndarray:
    """One value of one field (one element of a sub-array field) of a learning table."""
    arr = arr.copy()
    if not len(arr):
        return arr
    name = arr.dtype.names[int(rng.integers(len(arr.dtype.names)))]
    col = arr[name]
    base = col.dtype.base if col.ndim == 1 else col.dtype
    i = int(rng.integers(len(arr)))
    pos = (i,) if col.ndim == 1 else (i, int(rng.integers(col.shape[1])))
    cands = _candidates(table, name, base)
    if rng.random() < 0.8:
        v = cands[int(rng.integers(len(cands)))]
    elif base.kind == "f":
        v = float(rng.normal() * 4)
    else:
        info = np.iinfo(base)
        v = int(rng.integers(0, 1 << 64, dtype=np.uint64)) % (int(info.max) - int(info.min) + 1) \
            + int(info.min)
    col[pos] = v
    return arr


def edit_learning_manifest(manifest: dict, rng: np.random.Generator) -> dict:
    """One hostile edit of the manifest's ``learning`` object."""
    m = json.loads(json.dumps(manifest))
    lm = m.get("learning")
    r = rng.random()
    values = [None, 0, -1, 1 << 40, "lava", "x", [], {}, 1.5, [1, 2], [[0, 0, 0, 0]]]
    if not isinstance(lm, dict) or r < 0.15:
        m["learning"] = values[int(rng.integers(len(values)))]
        return m
    projs = lm.get("projections", {})
    if r < 0.3 or not projs:
        lm["generator"] = str(rng.choice(["hardware", "lava", "", "xorshift"]))
        return m
    spec = projs[sorted(projs)[int(rng.integers(len(projs)))]]
    syn = spec.get("synapses", [])
    if r < 0.55:
        spec["shape"] = [[1 << 30, 1 << 30], [0, 0], [1], [-1, 2], "3", [1 << 62, 1],
                         [spec["shape"][0], 0]][int(rng.integers(7))]
    elif r < 0.8 and syn:
        j, k = int(rng.integers(len(syn))), int(rng.integers(4))
        syn[j][k] = [-1, 1 << 20, 1 << 63, 255, 65535, "1", None][int(rng.integers(7))]
    else:
        spec["synapses"] = syn[:int(rng.integers(len(syn) + 1))] + syn * int(rng.integers(0, 3))
    return m


#: Table name -> dtype of every learning section (for the fuzzer's section decoder).
TABLES = dict(LEARN_TABLES)
