"""Which rank owns which chiplets, routers and cores; every rank computes the same answer.

Ranks own **contiguous blocks of chiplets** (chiplet index order, row-major over the wafer)
when the target has at least as many chiplets as ranks; otherwise (one-chiplet targets, or more
ranks than chiplets) contiguous blocks of **routers** (router index ``gy * GX + gx``), so a
router's cores always share one rank.  Every router of the mesh is owned, also those without
cores, because packets cross them (cycle engine).  Blocks are balanced by a work estimate per
core taken from the image's section sizes (``2 * neurons + synapses + 1``), so the partition is
known before any rank reads a payload.  Rank 0 always owns router (0, 0) and with it the host
port: it injects host input and receives output spikes.

The **lookahead** of the cycle engine is the smallest latency of a link whose two routers sit on
different ranks: chiplet links (``chiplet_link_latency``) when ranks own chiplets, on-chip links
(``link_latency``) when a cut runs through a chiplet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikefab.arch.target import Target

__all__ = ["Partition", "partition"]


@dataclass(frozen=True)
class Partition:
    """The ownership of one image on ``ranks`` ranks (see module docstring)."""

    ranks: int
    unit: str                   #: "chiplet" or "router"
    router_owner: np.ndarray    #: (R,) rank of every global router
    core_owner: np.ndarray      #: (cores,) rank of every core
    core_router: np.ndarray     #: (cores,) global router id of every core
    core_gxy: np.ndarray        #: (cores, 2) global router coordinates
    core_slot: np.ndarray       #: (cores,) slot at its router
    axon_base: np.ndarray       #: (cores,) first axon of the core in its owner's local numbering
    lookahead_cycles: int       #: cycles between exchanges in the cycle engine

    def local_cores(self, rank: int) -> np.ndarray:
        """Global indices of the cores ``rank`` owns, ascending (its local core order)."""
        return np.flatnonzero(self.core_owner == rank)


def partition(addresses, neurons, synapses, axons, target: Target, ranks: int) -> Partition:
    """Partition cores (``addresses[i]`` = (chiplet, x, y, slot), per-core table sizes)."""
    topo, tm = target.topology, target.timing
    gxn, gyn = topo.global_x, topo.global_y
    a = np.asarray(addresses, np.int64).reshape(-1, 4)
    gx = (a[:, 0] % topo.chiplets_x) * topo.mesh_x + a[:, 1]
    gy = (a[:, 0] // topo.chiplets_x) * topo.mesh_y + a[:, 2]
    core_router = gy * gxn + gx
    R = gxn * gyn
    rx, ry = np.arange(R) % gxn, np.arange(R) // gxn
    if topo.chiplets >= ranks:
        unit = "chiplet"
        unit_of_router = (ry // topo.mesh_y) * topo.chiplets_x + rx // topo.mesh_x
        n_units = topo.chiplets
    else:
        unit = "router"
        unit_of_router = np.arange(R)
        n_units = R
    work = 2 * np.asarray(neurons, np.int64) + np.asarray(synapses, np.int64) + 1
    w = np.zeros(n_units, np.int64)
    np.add.at(w, unit_of_router[core_router], work)
    total = max(int(w.sum()), 1)
    mid = np.cumsum(w) - w / 2.0                  # each unit goes where its work's middle falls
    unit_owner = np.minimum((mid * ranks / total).astype(np.int64), ranks - 1)
    unit_owner[0] = 0                             # rank 0 holds the host port at router (0, 0)
    router_owner = unit_owner[unit_of_router]
    core_owner = router_owner[core_router]
    axon_base = np.zeros(len(a), np.int64)
    ax = np.asarray(axons, np.int64)
    for r in range(ranks):
        mine = np.flatnonzero(core_owner == r)
        axon_base[mine] = np.concatenate([[0], np.cumsum(ax[mine])[:-1]]) if len(mine) else []
    return Partition(ranks=ranks, unit=unit, router_owner=router_owner, core_owner=core_owner,
                     core_router=core_router, core_gxy=np.stack([gx, gy], 1), core_slot=a[:, 3],
                     axon_base=axon_base,
                     lookahead_cycles=_lookahead(router_owner, gxn, gyn, topo.mesh_x,
                                                 topo.mesh_y, tm.link_latency,
                                                 tm.chiplet_link_latency))


def _lookahead(owner, gxn, gyn, mx, my, L, Lc) -> int:
    """Smallest latency of a link between routers of different ranks (a large value if none)."""
    best = 1 << 40
    grid = owner.reshape(gyn, gxn)
    east = grid[:, :-1] != grid[:, 1:]                     # link between gx and gx + 1
    if east.any():
        cols = np.flatnonzero(east.any(axis=0))
        best = min(best, L if np.any((cols + 1) % mx != 0) else Lc)
    north = grid[:-1, :] != grid[1:, :]
    if north.any():
        rows = np.flatnonzero(north.any(axis=1))
        best = min(best, L if np.any((rows + 1) % my != 0) else Lc)
    return int(best)
