"""Stimulus and expected engine contents for the learning engine's cocotb bench.

:func:`bench_config` drives the reference :class:`CoreLearner` with random spikes (some axons
hit twice, reward synapses of hit axons) and records, per step, the strobes the bench must give
and the engine-native words every memory must then hold, so the bench (``cocotb_learning.py``)
needs nothing but JSON.
"""

from __future__ import annotations

import numpy as np

from spikefab.arch.learning.tables import CoreLearner, synapse_axons
from spikefab.rtl.learning.engine import LearningEngine
from spikefab.rtl.learning.layout import engine_layout, reward_profile
from spikefab.rtl.learning.words import load_writes, pack_synapse, pack_x, pack_y


def end_cycles(lay, kk: list[int]) -> int:
    """Cycles from the ``step_end`` strobe until ``ready`` again (see the engine docstring)."""
    ending = [p for p in range(lay.n_profiles) if kk[p] == lay.t_epoch[p]]
    if not ending:
        return 1
    return 1 + sum(lay.epoch_cycles(p) if p in ending else 1 for p in range(lay.n_profiles))


def bench_config(core, steps: int, seed: int) -> tuple[LearningEngine, dict]:
    rng = np.random.default_rng(seed)
    lay = engine_layout(core)
    caps = lay.caps()
    eng = LearningEngine(caps)                  # empty: the bench loads it through the port
    weights = core.synapses["weight"].astype(np.int64).copy()
    ref = CoreLearner(core, weights, "hardware")
    axon = synapse_axons(core)
    rewards = [k for k in range(len(core.synapses)) if reward_profile(core, k) is not None]
    kk = [0] * lay.n_profiles
    ops_all, expected = [], []
    for step in range(1, steps + 1):
        ax = rng.random(lay.n_axons) < rng.uniform(0.1, 0.7)
        ne = rng.random(lay.n_neurons) < rng.uniform(0.1, 0.7)
        kk = [1 if k == lay.t_epoch[p] else k + 1 for p, k in enumerate(kk)]
        hits = [int(a) for a in np.flatnonzero(ax)]
        hits += [a for a in hits if rng.random() < 0.3]
        ops = [["step_begin"]] + [["pre", int(a)] for a in rng.permutation(hits)]
        ops += [["post", int(n)] for n in np.flatnonzero(ne)]
        ops += [["reward", reward_profile(core, k), int(core.synapses["neuron"][k])]
                for k in rewards if ax[axon[k]]]
        ops.append(["step_end"])
        ref.step(ax, ne, step)
        tab = ref.tables()
        syn = tab["learn_synapses"][lay.syn_index]
        expected.append({
            "cycles": end_cycles(lay, kk),
            "syn": [pack_synapse(caps, a, n, w, d, t) for a, n, w, d, t in
                    zip(lay.pre, lay.post, weights[lay.syn_index], syn["tag_d"], syn["tag_t"])],
            "x": [pack_x(r) for r in tab["learn_x"]],
            "y": [pack_y(r) for r in tab["learn_y"]],
            "rng": [int(s) for r in tab["learn_rng"] for s in r["state"]],
        })
        ops_all.append(ops)
    return eng, {"writes": load_writes(lay, caps), "steps": ops_all, "expected": expected}
