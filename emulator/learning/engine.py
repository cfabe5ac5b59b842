"""Run a plastic image's steps: the functional loop with the learning engine (one kernel call).

Called by :func:`spikefab.emulator.simulate` with the arrays it prepared; returns ``None`` for
images without plastic synapses, so static images keep the fast path untouched.  The cycle
engine does not model the learning phase yet and refuses plastic images with an
:class:`~spikefab.errors.InputError`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spikefab.arch.image import Image
from spikefab.arch.learning.readout import plastic_projections
from spikefab.arch.target import Target
from spikefab.emulator.flat import FlatImage
from spikefab.emulator.learning.flat import flatten_learning
from spikefab.emulator.learning.kernels import run_functional_plastic
from spikefab.errors import InputError

__all__ = ["run_plastic"]


def _max_route_latency(flat: FlatImage, target: Target) -> int:
    from spikefab.emulator.engine import _max_route_latency as mrl
    return mrl(flat, target)


def run_plastic(image: Image, flat: FlatImage, target: Target, mode: str, common: tuple,
                steps: int, weight_every: int):
    """``(per_step, cycles, hops, extra, learned)`` of a plastic run, or None if not plastic."""
    fl = flatten_learning(image, flat.noff)
    if fl is None:
        return None
    if mode != "functional":
        raise InputError(f"image has plastic synapses: mode must be 'functional' (the cycle "
                         f"engine does not model the learning phase yet), not {mode!r}")
    from spikefab.emulator import costs
    from spikefab.emulator import kernels as FK
    counters = common[-1]
    syn_w = common[11]
    r_mid, r_end = fl.draw(steps)
    projs = plastic_projections(image)
    sbase = np.zeros(len(image.cores) + 1, np.int64)
    sbase[1:] = np.cumsum([len(c.synapses) for c in image.cores])
    entries = {n: np.asarray(s["synapses"], np.int64).reshape(-1, 4) for n, s in projs.items()}
    snap_idx = np.concatenate([sbase[e[:, 0]] + e[:, 1] for e in entries.values()]
                              + [np.zeros(0, np.int64)])
    n_snap = steps // weight_every if weight_every > 0 else 0
    snaps = np.zeros((n_snap, len(snap_idx)), np.int32)
    tm, lt = target.timing, target.learning
    est = np.zeros(steps, np.int64)
    learn_counts = np.zeros(1, np.int64)
    run_functional_plastic(*common, np.array([tm.neuron_cycles, tm.packet_cycles,
                                              tm.synapse_cycles], np.int64), est,
                           fl.gp, fl.gimp, fl.gtau, fl.gdec, fl.xs, fl.ys, fl.s_glob, fl.s_pre,
                           fl.s_post, fl.tags, fl.prod, fl.pvar, fl.pconst, fl.psgn, r_mid, r_end,
                           np.array([lt.update_cycles, lt.trace_cycles], np.int64), learn_counts,
                           int(weight_every), snaps, snap_idx)
    per_step = est + _max_route_latency(flat, target) + costs.barrier_cycles(
        target, flat.chiplets_used)
    hops = counters[[FK.C_HOPS_EW, FK.C_HOPS_NS, FK.C_HOPS_CHIP]]
    weights: dict[str, Any] = {}
    snapshots: dict[str, Any] = {}
    col = 0
    for name, e in entries.items():
        shape = tuple(projs[name]["shape"])
        m = np.zeros(shape, np.int64)
        m[e[:, 3], e[:, 2]] = syn_w[sbase[e[:, 0]] + e[:, 1]]
        weights[name] = m
        if weight_every > 0:
            s = np.zeros((n_snap,) + shape, np.int64)
            s[:, e[:, 3], e[:, 2]] = snaps[:, col:col + len(e)]
            snapshots[name] = s
        col += len(e)
    return per_step, None, hops, {}, {"updates": learn_counts[0], "weights": weights,
                                      "snapshots": snapshots}
