"""Prepare and read back the learning engine of a run (both emulator engines).

:func:`prepare` returns ``None`` for images without plastic synapses, so static images keep the
functional engine's fast path (precomputed fan-out runs); otherwise a :class:`PlasticRun` whose
``args`` (a :class:`LearnRun`) the kernels take (the functional engine's
``run_functional_plastic``, the cycle engine's ``run_cycle``, which gets :func:`no_learning`
for static images) and whose
:meth:`PlasticRun.learned` reads weights and snapshots back after the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spikefab.arch.image import Image
from spikefab.arch.learning.readout import plastic_projections
from spikefab.arch.target import Target
from spikefab.emulator.flat import FlatImage
from spikefab.emulator.learning.flat import flatten_learning
from spikefab.emulator.learning.kernels import (N_G, LearnGroups, LearnRules, LearnRun,
                                                LearnState, LearnSynapses)

__all__ = ["PlasticRun", "prepare", "no_learning"]


def no_learning() -> LearnRun:
    """The learning arguments of a static image (no groups: the kernels skip learning)."""
    z = np.zeros
    return LearnRun(
        groups=LearnGroups(z((0, N_G), np.int64), z((0, 10), np.int64), z((0, 5), np.int64),
                           z((0, 5), np.float64)),
        state=LearnState(z((0, 3), np.int64), z((0, 4), np.int64), z((0, 2), np.int64),
                         z(0, np.uint8)),
        syn=LearnSynapses(*(z(0, np.int64) for _ in range(5)), z(1, np.int64), z(0, np.int64),
                          z(1, np.int64), z(0, np.int64)),
        rules=LearnRules(z((0, 5), np.int64), *(z((0, 4), np.int64) for _ in range(3))),
        r_mid=z((1, 0), np.float64), r_end=z((1, 0, 5), np.float64),
        learn_cycles=np.array([1, 1, 0], np.int64), learn_counts=z(1, np.int64), snap_every=0,
        snaps=z((0, 0), np.int32), snap_idx=z(0, np.int64))


@dataclass
class PlasticRun:
    args: LearnRun                        #: learning arguments of the kernels
    entries: dict[str, np.ndarray]        #: projection -> [core, entry, pre, post] rows
    shapes: dict[str, tuple[int, int]]
    sbase: np.ndarray
    weight_every: int

    @property
    def counts(self) -> np.ndarray:
        return self.args.learn_counts

    def learned(self, syn_w: np.ndarray) -> dict[str, Any]:
        """Synapse updates, final weights and snapshots per plastic projection."""
        snaps = self.args.snaps
        weights, snapshots, col = {}, {}, 0
        for name, e in self.entries.items():
            m = np.zeros(self.shapes[name], np.int64)
            m[e[:, 3], e[:, 2]] = syn_w[self.sbase[e[:, 0]] + e[:, 1]]
            weights[name] = m
            if self.weight_every > 0:
                s = np.zeros((len(snaps),) + self.shapes[name], np.int64)
                s[:, e[:, 3], e[:, 2]] = snaps[:, col:col + len(e)]
                snapshots[name] = s
            col += len(e)
        return {"updates": int(self.counts[0]), "weights": weights, "snapshots": snapshots}


def prepare(image: Image, flat: FlatImage, target: Target, steps: int,
            weight_every: int) -> PlasticRun | None:
    """The learning engine's arrays and random streams for ``steps`` steps (None: static)."""
    fl = flatten_learning(image, flat.noff)
    if fl is None:
        return None
    r_mid, r_end = fl.draw(steps)
    projs = plastic_projections(image)
    sbase = np.zeros(len(image.cores) + 1, np.int64)
    sbase[1:] = np.cumsum([len(c.synapses) for c in image.cores])
    entries = {n: np.asarray(s["synapses"], np.int64).reshape(-1, 4) for n, s in projs.items()}
    snap_idx = np.concatenate([sbase[e[:, 0]] + e[:, 1] for e in entries.values()]
                              + [np.zeros(0, np.int64)])
    n_snap = steps // weight_every if weight_every > 0 else 0
    lt = target.learning
    args = LearnRun(
        groups=LearnGroups(fl.gp, fl.gimp, fl.gtau, fl.gdec),
        state=LearnState(fl.xs, fl.ys, fl.tags, np.zeros(len(fl.gp), np.uint8)),
        syn=LearnSynapses(fl.s_glob, fl.s_pre, fl.s_post, fl.r_pre, fl.r_post, fl.x_ptr,
                          fl.x_syn, fl.y_ptr, fl.y_syn),
        rules=LearnRules(fl.prod, fl.pvar, fl.pconst, fl.psgn), r_mid=r_mid, r_end=r_end,
        learn_cycles=np.array([lt.update_cycles, lt.trace_cycles,
                               int(lt.cycle_model == "rtl_engine")], np.int64),
        learn_counts=np.zeros(1, np.int64), snap_every=int(weight_every),
        snaps=np.zeros((n_snap, len(snap_idx)), np.int32), snap_idx=snap_idx)
    return PlasticRun(args, entries, {n: tuple(s["shape"]) for n, s in projs.items()}, sbase,
                      int(weight_every))
