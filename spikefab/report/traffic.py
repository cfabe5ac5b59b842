"""Packets per NoC link, derived from an image's route tables and the spikes of a run.

Packets follow the target's routing algorithm (:mod:`spikefab.arch.mesh`; XY by default: first
along x to the destination column, then along y).  Every spike of a
neuron sends one packet per route entry, every host input spike one per host route entry, so
the number of packets on each link follows exactly from the spike counts: no engine internals
are needed, and the same numbers come out whichever backend produced the spikes.

Links are kept as four arrays over the global router mesh (``GX = chiplets_x * mesh_x`` by
``GY = chiplets_y * mesh_y``): ``east[gy, gx]`` counts packets from router ``(gx, gy)`` to
``(gx + 1, gy)``, ``west[gy, gx]`` the other way along the same link, and ``north`` / ``south``
likewise between ``(gx, gy)`` and ``(gx, gy + 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from spikefab.arch import mesh
from spikefab.arch.host import input_channels
from spikefab.arch.image import Image
from spikefab.arch.target import Target
from spikefab.compiler.passes.kernels import link_loads
from spikefab.errors import InputError

__all__ = ["LinkTraffic", "link_traffic", "population_spike_counts"]


@dataclass
class LinkTraffic:
    """Packet counts per directed mesh link over a whole run (see the module docstring)."""

    east: np.ndarray      #: (GY, GX - 1)
    west: np.ndarray      #: (GY, GX - 1)
    north: np.ndarray     #: (GY - 1, GX)
    south: np.ndarray     #: (GY - 1, GX)
    host_in: int          #: packets the host injected (input spikes x host route entries)
    host_out: int         #: packets delivered to the host (output spikes)
    packets: int          #: all packets sent (neurons and host)
    mesh_x: int
    mesh_y: int
    #: (chiplets, chiplets): packets from neurons on chiplet i to cores on chiplet j (host excluded)
    chiplet_packets: np.ndarray | None = None

    def top_chiplet_pairs(self, n: int = 10) -> list[dict]:
        """The ``n`` busiest pairs of different chiplets, most packets first."""
        if self.chiplet_packets is None:
            return []
        m = self.chiplet_packets.copy()
        np.fill_diagonal(m, 0)
        order = np.argsort(m, axis=None)[::-1][:n]
        return [{"from": int(i), "to": int(j), "packets": int(m[i, j])}
                for i, j in zip(*np.unravel_index(order, m.shape)) if m[i, j] > 0]

    @property
    def horizontal(self) -> np.ndarray:
        """Both directions of each x link, ``(GY, GX - 1)``."""
        return self.east + self.west

    @property
    def vertical(self) -> np.ndarray:
        """Both directions of each y link, ``(GY - 1, GX)``."""
        return self.north + self.south

    @property
    def hops(self) -> int:
        """Router-to-router hops of all packets together."""
        return int(self.horizontal.sum() + self.vertical.sum())

    def chiplet_link_masks(self) -> tuple[np.ndarray, np.ndarray]:
        """Boolean masks of the horizontal and vertical links that cross a chiplet edge."""
        gy, gx1 = self.east.shape
        gy1, gx = self.north.shape
        h = np.zeros((gy, gx1), bool)
        h[:, (np.arange(gx1) + 1) % self.mesh_x == 0] = True
        v = np.zeros((gy1, gx), bool)
        v[(np.arange(gy1) + 1) % self.mesh_y == 0, :] = True
        return h, v

    @property
    def chiplet_hops(self) -> int:
        """Hops over inter-chiplet links."""
        h, v = self.chiplet_link_masks()
        return int(self.horizontal[h].sum() + self.vertical[v].sum())

    def busiest(self) -> dict:
        """The most used directed link: its endpoints (global router coordinates) and packets."""
        best = {"packets": 0, "from": None, "to": None}
        for arr, dx, dy, flip in ((self.east, 1, 0, False), (self.west, 1, 0, True),
                                  (self.north, 0, 1, False), (self.south, 0, 1, True)):
            if arr.size == 0 or arr.max() <= best["packets"]:
                continue
            gy, gx = np.unravel_index(int(arr.argmax()), arr.shape)
            a, b = (int(gx), int(gy)), (int(gx) + dx, int(gy) + dy)
            best = {"packets": int(arr.max()), "from": b if flip else a, "to": a if flip else b}
        return best


def population_spike_counts(image: Image, traces: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """Spikes per neuron slot of every core, from ``"pop.s"`` traces ``(steps, size)``."""
    counts = [np.zeros(c.n_neurons, np.int64) for c in image.cores]
    for pop, spec in image.populations.items():
        key = f"{pop}.s"
        if key not in traces:
            raise InputError(f"traces must include {key!r} (probe every population's spikes) to "
                             f"count its packets; have {', '.join(sorted(traces)) or 'none'}")
        per_neuron = np.asarray(traces[key]).astype(bool).sum(axis=0)
        for sl in spec["slices"]:
            lo, n = int(sl["start"]), int(sl["count"])
            off = int(sl["offset"])
            counts[int(sl["core"])][off:off + n] += per_neuron[lo:lo + n]
    return counts


def _route_weights(route_ptr: np.ndarray, routes: np.ndarray,
                   sent: np.ndarray) -> np.ndarray:
    """Packets per route entry: each source's count repeated over its run of route entries."""
    w = np.zeros(len(routes), np.int64)
    starts, lens = route_ptr["start"].astype(np.int64), route_ptr["count"].astype(np.int64)
    has = (lens > 0) & (sent > 0)
    if has.any():
        idx = np.concatenate([np.arange(s, s + n) for s, n in zip(starts[has], lens[has])])
        w[idx] = np.repeat(sent[has], lens[has])
    return w


def _channel_counts(image: Image, input_spikes: Mapping[str, np.ndarray]) -> np.ndarray:
    """Spikes sent per host channel, through the host program's channel mapping (an input
    left out of ``input_spikes`` sent none)."""
    steps = max((len(a) for a in input_spikes.values()), default=0)
    spikes = {name: np.asarray(input_spikes[name]) != 0 if name in input_spikes else 0
              for name in image.inputs}
    return input_channels(image, spikes, steps).sum(axis=0, dtype=np.int64)


def link_traffic(image: Image, target: Target, input_spikes: Mapping[str, np.ndarray],
                 traces: Mapping[str, np.ndarray]) -> LinkTraffic:
    """Packets on every mesh link during a run.

    Parameters
    ----------
    image, target:
        The image that ran and its target (for the mesh size).
    input_spikes:
        Host inputs as given to the run, name -> ``(steps, n)``.
    traces:
        ``"pop.s"`` spike traces of every population (``probes=[f"{p}.s" ...]``).
    """
    topo = target.topology
    gx_n, gy_n = topo.global_x, topo.global_y
    src_x, src_y, dst_x, dst_y, weight = [], [], [], [], []
    host_out = 0
    chiplets = np.zeros((topo.chiplets, topo.chiplets), np.int64)

    def add(routes: np.ndarray, w: np.ndarray, sx: int, sy: int, chiplet: int = -1) -> None:
        nonlocal host_out
        host = routes["host"].astype(bool)
        host_out += int(w[host].sum())
        if chiplet >= 0:
            np.add.at(chiplets[chiplet], routes["chiplet"][~host].astype(np.int64), w[~host])
        dx, dy = mesh.global_xy(routes["chiplet"].astype(np.int64), routes["x"].astype(np.int64),
                                routes["y"].astype(np.int64), topo.chiplets_x, topo.mesh_x,
                                topo.mesh_y)
        dx, dy = np.where(host, 0, dx), np.where(host, 0, dy)
        src_x.append(np.full(len(routes), sx)), src_y.append(np.full(len(routes), sy))
        dst_x.append(dx), dst_y.append(dy), weight.append(w)

    sent_host = _channel_counts(image, input_spikes)
    w_host = _route_weights(image.host_route_ptr, image.host_routes, sent_host)
    host_in = int(w_host.sum())
    add(image.host_routes, w_host, 0, 0)

    for core, sent in zip(image.cores, population_spike_counts(image, traces)):
        sx, sy = mesh.global_xy(core.chiplet, core.x, core.y, topo.chiplets_x, topo.mesh_x,
                                topo.mesh_y)
        add(core.routes, _route_weights(core.route_ptr, core.routes, sent), int(sx), int(sy),
            int(core.chiplet))

    sx, sy = np.concatenate(src_x), np.concatenate(src_y)
    dx, dy = np.concatenate(dst_x), np.concatenate(dst_y)
    w = np.concatenate(weight)
    loads = link_loads(sx, sy, dx, dy, w, gx_n, gy_n, mesh.routing_code(topo.routing), np.int64)
    east, west = loads[:, :-1, mesh.PORT_E], loads[:, 1:, mesh.PORT_W]
    north, south = loads[:-1, :, mesh.PORT_N], loads[1:, :, mesh.PORT_S]
    east, west, north, south = (np.ascontiguousarray(a) for a in (east, west, north, south))
    return LinkTraffic(east=east, west=west, north=north, south=south, host_in=host_in,
                       host_out=host_out, packets=int(w.sum()), mesh_x=topo.mesh_x,
                       mesh_y=topo.mesh_y, chiplet_packets=chiplets)
