"""Route: the AER destinations of every source and the load they put on each mesh link.

Every axon pair (source, destination core) of the :class:`Partition` becomes one route entry of
its source: destination (chiplet, x, y, slot) from the :class:`Placement`, destination axon = the
pair's rank among its core's pairs.  Output neurons get one more entry with ``host = 1`` and the
output channel as axon.  Host input channels get their entries in the host route table.

Packets follow the target's routing algorithm (:mod:`spikefab.arch.mesh`, deterministic), so each
traffic edge's path is fixed; :func:`route` walks them (Numba) to give the spike-weighted load of
every router output port — the estimate the report shows (a hot link is where a run will stall).
Table limits are checked again here, against the final tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikefab.arch.mesh import routing_code
from spikefab.compiler.passes.kernels import link_loads, pair_ranks
from spikefab.compiler.passes.partition import Partition
from spikefab.compiler.passes.place import Placement, Sites, Traffic
from spikefab.errors import ResourceError

__all__ = ["Routing", "route"]


@dataclass
class Routing:
    """Per-pair destination axon ids and the estimated link loads."""

    pair_core: np.ndarray     # the partition's pair_core (shared, not copied): axon ids follow
    loads: np.ndarray         # (global_y, global_x, 4) spike-weighted load per router output port
    host_in: float            # packets per step entering through the host port
    host_out: float           # packets per step leaving through the host port

    @property
    def axon(self) -> np.ndarray:
        """Destination axon id of every pair: its rank among its core's pairs (pairs are sorted
        by core).  Computed on each use, not kept: a wafer has ~10**8 pairs, and emit writes the
        ranks straight into the route table."""
        return pair_ranks(self.pair_core)

    def summary(self) -> dict:
        top = float(self.loads.max()) if self.loads.size else 0.0
        where = np.unravel_index(int(np.argmax(self.loads)), self.loads.shape) if self.loads.size \
            else (0, 0, 0)
        return {"max_link_load": top,
                "max_link": {"gx": int(where[1]), "gy": int(where[0]),
                             "port": "NESW"[int(where[2])]},
                "mean_busy_link_load": float(self.loads[self.loads > 0].mean())
                if (self.loads > 0).any() else 0.0,
                "host_in_load": self.host_in, "host_out_load": self.host_out}


def route(part: Partition, placement: Placement, tr: Traffic) -> Routing:
    """Assign destination axons, check the tables and estimate link loads."""
    target = part.target
    lim = target.core
    nc = part.n_cores
    per_core = np.bincount(part.pair_core, minlength=nc)
    if nc and per_core.max() > lim.input_axons:
        k = int(np.argmax(per_core))
        raise ResourceError(f"core {k}: axon table needs {int(per_core[k])} entries, target "
                            f"{target.name} allows {lim.input_axons}")
    routes = part.core_usage()["route_entries"]
    if nc and routes.max() > lim.route_entries:
        k = int(np.argmax(routes))
        raise ResourceError(f"core {k}: route table needs {int(routes[k])} entries, target "
                            f"{target.name} allows {lim.route_entries}")
    sites = Sites.of(target)
    gx = np.append(sites.gx[placement.site], 0)
    gy = np.append(sites.gy[placement.site], 0)
    t = target.topology
    loads = link_loads(gx[tr.src], gy[tr.src], gx[tr.dst], gy[tr.dst], tr.weight.astype(np.float64),
                       t.global_x, t.global_y, routing_code(t.routing))
    host_in = float(tr.weight[tr.src == nc].sum())
    host_out = float(tr.weight[tr.dst == nc].sum())
    return Routing(part.pair_core, loads, host_in, host_out)
