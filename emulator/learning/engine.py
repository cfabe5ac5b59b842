"""Prepare and read back the learning engine of a run (both emulator engines).

:func:`prepare` returns ``None`` for images without plastic synapses, so static images keep the
functional engine's fast path (precomputed fan-out runs); otherwise a :class:`PlasticRun` whose
``args`` the kernels take (the functional engine's ``run_functional_plastic``, the cycle
engine's ``run_cycle``, which gets :func:`no_learning` for static images) and whose
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
from spikefab.emulator.learning.kernels import N_G

__all__ = ["PlasticRun", "prepare", "no_learning"]


def no_learning() -> tuple:
    """The learning arguments of a static image (no groups: the kernels skip learning)."""
    return (np.zeros((0, N_G), np.int64), np.zeros((0, 10), np.int64), np.zeros((0, 5), np.int64),
            np.zeros((0, 5), np.float64), np.zeros((0, 3), np.int64), np.zeros((0, 4), np.int64),
            np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64),
            np.zeros((0, 2), np.int64), np.zeros((0, 5), np.int64), np.zeros((0, 4), np.int64),
            np.zeros((0, 4), np.int64), np.zeros((0, 4), np.int64), np.zeros((1, 0), np.float64),
            np.zeros((1, 0, 5), np.float64), np.ones(2, np.int64), np.zeros(1, np.int64), 0,
            np.zeros((0, 0), np.int32), np.zeros(0, np.int64), np.zeros(0, np.int64),
            np.zeros(0, np.int64))


@dataclass
class PlasticRun:
    args: tuple                           #: learning arguments of the kernels
    entries: dict[str, np.ndarray]        #: projection -> [core, entry, pre, post] rows
    shapes: dict[str, tuple[int, int]]
    sbase: np.ndarray
    weight_every: int

    @property
    def counts(self) -> np.ndarray:
        return self.args[17]

    def learned(self, syn_w: np.ndarray) -> dict[str, Any]:
        """Synapse updates, final weights and snapshots per plastic projection."""
        snaps = self.args[19]
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
    args = (fl.gp, fl.gimp, fl.gtau, fl.gdec, fl.xs, fl.ys, fl.s_glob, fl.s_pre, fl.s_post,
            fl.tags, fl.prod, fl.pvar, fl.pconst, fl.psgn, r_mid, r_end,
            np.array([lt.update_cycles, lt.trace_cycles], np.int64), np.zeros(1, np.int64),
            int(weight_every), np.zeros((n_snap, len(snap_idx)), np.int32), snap_idx,
            fl.r_pre, fl.r_post)
    return PlasticRun(args, entries, {n: tuple(s["shape"]) for n, s in projs.items()}, sbase,
                      int(weight_every))
