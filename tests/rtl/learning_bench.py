"""Stimulus and expected engine contents for the learning engine's cocotb bench.

:func:`bench_config` drives the reference :class:`CoreLearner` with random spikes (some axons
hit twice, reward synapses of hit axons) and records, per step, the strobes the bench must give
and the engine-native words every memory must then hold, so the bench (``cocotb_learning.py``)
needs nothing but JSON.  One engine built for :data:`BENCH_CAPS` runs every image: each image
is loaded through the memory port after a reset (one simulator build for all).
"""

from __future__ import annotations

import numpy as np

from spikefab.arch.learning.tables import CoreLearner, synapse_axons
from spikefab.arch.learning.layout import EngineLayout, engine_layout, reward_profile
from spikefab.arch.learning.words import EngineCaps, load_writes, pack_synapse, pack_x, pack_y

#: capacity of the bench's engine: every random plastic core of the tests fits
BENCH_CAPS = EngineCaps(axons=16, neurons=16, profiles=2, synapses=64, products=16)


def end_cycles(lay: EngineLayout, kk: list[int]) -> int:
    """Cycles from the ``step_end`` strobe until ``ready`` again (see the engine docstring)."""
    ending = [p for p in range(lay.n_profiles) if kk[p] == lay.t_epoch[p]]
    if not ending:
        return 1
    return 1 + sum(lay.epoch_cycles(p) if p in ending else 1 for p in range(lay.n_profiles))


def bench_config(core, steps: int, seed: int, caps: EngineCaps = BENCH_CAPS) -> dict:
    """One image's run: its load writes, per-step strobes and expected (index, word) pairs."""
    rng = np.random.default_rng(seed)
    lay = engine_layout(core)
    weights = core.synapses["weight"].astype(np.int64).copy()
    ref = CoreLearner(core, weights, "hardware")
    axon = synapse_axons(core)
    rewards = [k for k in range(len(core.synapses)) if reward_profile(core, k) is not None]
    xi = [p * caps.axons + a for p in range(lay.n_profiles) for a in range(lay.n_axons)]
    yi = [p * caps.neurons + n for p in range(lay.n_profiles) for n in range(lay.n_neurons)]
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
        words = [(0, j, pack_synapse(caps, a, n, w, d, t)) for j, (a, n, w, d, t) in
                 enumerate(zip(lay.pre, lay.post, weights[lay.syn_index], syn["tag_d"],
                               syn["tag_t"]))]
        words += [(1, k, pack_x(r)) for k, r in zip(xi, tab["learn_x"])]
        words += [(2, k, pack_y(r)) for k, r in zip(yi, tab["learn_y"])]
        words += [(3, p * 5 + s, int(v)) for p, r in enumerate(tab["learn_rng"])
                  for s, v in enumerate(r["state"])]
        expected.append({"cycles": end_cycles(lay, kk), "words": words})
        ops_all.append(ops)
    return {"writes": load_writes(lay, caps), "steps": ops_all, "expected": expected}
