"""Place: put every core range of a :class:`Partition` on a physical core (chiplet, x, y, slot).

Cost model.  Packets follow minimal paths on the global router mesh (docs/
microarchitecture.md sections 2-3), so the hops between two routers are the Manhattan distance of
their global coordinates, and the chiplet edges crossed are the Manhattan distance of their chiplet
coordinates.  The placement cost is the spike-weighted sum over traffic edges (source core ->
destination core, host -> core for input channels, core -> host for outputs; the host sits at
global router (0, 0)) of ``hops + (crossing_weight - 1) * crossings``: a chiplet crossing costs
``crossing_weight`` on-chip hops, the ratio of the target's inter-chiplet to on-chip hop energy.
Traffic per route entry is the source's spike rate: 1 for every source by default, or measured
rates per population / input (``rates=``).

Placers.  ``sequential`` fills sites in address order (chiplet, then row, then column, then slot):
the baseline.  ``anneal`` starts from the partition order laid along a hierarchical Hilbert curve
(chiplets along a Hilbert curve of the chiplet grid, routers along one of each chiplet), which
keeps consecutive cores (usually connected layers) close and compact, then refines by simulated
annealing (swap moves in a shrinking window, Numba kernel, seeded) and keeps whichever of the
annealed and the sequential placement costs less.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from spikefab.arch import mesh
from spikefab.arch.target import Target
from spikefab.compiler.passes.kernels import (GEO_CORES_PER_ROUTER, GEO_GLOBAL_X, GEO_GLOBAL_Y,
                                              GEO_MESH_X, GEO_MESH_Y, anneal, core_traffic,
                                              placement_cost)
from spikefab.compiler.passes.partition import Partition
from spikefab.errors import ModelError, ResourceError

__all__ = ["PLACERS", "Sites", "Traffic", "Placement", "traffic", "place", "crossing_weight"]

PLACERS = ("anneal", "sequential")


def crossing_weight(target: Target) -> float:
    """How many on-chip hops one inter-chiplet hop costs (energy ratio of the target)."""
    e = target.energy
    on_chip = (e.hop_ew_pj + e.hop_ns_pj) / 2
    return max(1.0, e.chiplet_hop_pj / on_chip) if on_chip > 0 else 1.0


@dataclass(frozen=True)
class Sites:
    """Every physical core of a target in address order, with its global router coordinates."""

    chiplet: np.ndarray
    x: np.ndarray
    y: np.ndarray
    slot: np.ndarray
    gx: np.ndarray
    gy: np.ndarray

    @classmethod
    def of(cls, target: Target) -> "Sites":
        t = target.topology
        idx = np.arange(t.cores, dtype=np.int64)
        slot = idx % t.cores_per_router
        router = idx // t.cores_per_router
        x = router % t.mesh_x
        y = (router // t.mesh_x) % t.mesh_y
        chiplet = router // t.routers_per_chiplet
        gx, gy = mesh.global_xy(chiplet, x, y, t.chiplets_x, t.mesh_x, t.mesh_y)
        return cls(chiplet, x, y, slot, gx, gy)


@dataclass
class Traffic:
    """Directed, spike-weighted traffic edges between cores; node ``n_cores`` is the host."""

    n_cores: int
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray

    def undirected_csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR adjacency (both directions, self loops dropped) for the annealer."""
        n = self.n_cores + 1
        keep = self.src != self.dst
        a = np.concatenate([self.src[keep], self.dst[keep]])
        b = np.concatenate([self.dst[keep], self.src[keep]])
        w = np.concatenate([self.weight[keep], self.weight[keep]])
        key, inv = np.unique(a * n + b, return_inverse=True)
        wsum = np.bincount(inv, weights=w)
        a, b = key // n, key % n
        indptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(a, minlength=n), out=indptr[1:])
        return indptr, b.astype(np.int64), wsum.astype(np.float64)


def source_rates(part: Partition, rates: Mapping[str, object] | None) -> np.ndarray:
    """Spike rate per source key (host channels, then neurons); 1.0 for anything not given."""
    syn = part.syn
    r = np.ones(syn.n_sources, np.float64)
    if not rates:
        return r
    spans = {}
    for name, b in syn.input_base.items():
        nxt = [v for v in syn.input_base.values() if v > b]
        spans[name] = (b, min(nxt) if nxt else syn.n_channels)
    for i, name in enumerate(syn.pop_names):
        spans[name] = (syn.n_channels + int(syn.pop_offset[i]),
                       syn.n_channels + int(syn.pop_offset[i + 1]))
    for name, value in rates.items():
        if name not in spans:
            raise ModelError(f"rates: {name!r} must name an input or population, one of "
                             f"{', '.join(spans)}")
        a, b = spans[name]
        v = np.asarray(value, np.float64)
        if v.ndim and v.shape != (b - a,) or not np.all(np.isfinite(v)) or np.any(v < 0):
            raise ModelError(f"rates[{name!r}] must be a non-negative number or {b - a} of them, "
                             f"not shape {v.shape}")
        r[a:b] = v
    return r


def traffic(part: Partition, rates: Mapping[str, object] | None = None) -> Traffic:
    """Core-to-core traffic implied by the axon pairs (one packet per route entry per spike)."""
    syn = part.syn
    r = source_rates(part, rates)
    nc = part.n_cores
    neuron_core = np.repeat(np.arange(nc, dtype=np.int32), np.diff(part.bounds))
    out_g = np.flatnonzero(part.is_output)
    src, dst, w = core_traffic(part.pair_core, part.pair_src, r, syn.n_channels, neuron_core,
                               out_g, r[syn.n_channels + out_g], nc)
    return Traffic(nc, src, dst, w)


@dataclass
class Placement:
    """Physical site (index into :class:`Sites`) of every core, and what it costs."""

    placer: str
    seed: int
    site: np.ndarray
    hops: float
    crossings: float
    cost: float

    def summary(self) -> dict:
        return {"placer": self.placer, "seed": self.seed, "hops": self.hops,
                "chiplet_crossings": self.crossings, "cost": self.cost}


def _evaluate(target: Target, sites: Sites, tr: Traffic, site: np.ndarray):
    gx = np.append(sites.gx[site], 0)
    gy = np.append(sites.gy[site], 0)
    t = target.topology
    hops, cross = placement_cost(tr.src, tr.dst, tr.weight, gx, gy, t.mesh_x, t.mesh_y)
    return float(hops), float(cross), float(hops + (crossing_weight(target) - 1.0) * cross)


def _hilbert_d(n: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Position along a Hilbert curve of an ``n x n`` grid (``n`` a power of two)."""
    x, y = x.astype(np.int64).copy(), y.astype(np.int64).copy()
    d = np.zeros_like(x)
    s = n // 2
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        d += s * s * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        flip = ~ry
        xr = np.where(flip & rx, n - 1 - x, x)
        yr = np.where(flip & rx, n - 1 - y, y)
        x, y = np.where(flip, yr, xr), np.where(flip, xr, yr)
        s //= 2
    return d


def hilbert_order(target: Target) -> np.ndarray:
    """Site indices along chiplets' Hilbert curve, then each chiplet's routers' curve, then slot."""
    t = target.topology
    sites = Sites.of(target)

    def pow2(v: int) -> int:
        return 1 << max(0, (v - 1).bit_length())

    cx, cy = sites.chiplet % t.chiplets_x, sites.chiplet // t.chiplets_x
    dc = _hilbert_d(pow2(max(t.chiplets_x, t.chiplets_y)), cx, cy)
    dr = _hilbert_d(pow2(max(t.mesh_x, t.mesh_y)), sites.x, sites.y)
    return np.lexsort((sites.slot, dr, dc))


def place(part: Partition, placer: str = "anneal", *, seed: int = 0,
          rates: Mapping[str, object] | None = None, tr: Traffic | None = None) -> Placement:
    """Choose a site for every core; deterministic for a given ``seed``."""
    target = part.target
    if placer not in PLACERS:
        raise ModelError(f"placer must be one of {', '.join(PLACERS)}, not {placer!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ModelError(f"seed must be a non-negative integer, not {seed!r}")
    nc = part.n_cores
    if nc > target.topology.cores:
        raise ResourceError(f"network needs {nc} cores, target {target.name} has "
                            f"{target.topology.cores} cores")
    sites = Sites.of(target)
    tr = tr if tr is not None else traffic(part, rates)
    seq = np.arange(nc, dtype=np.int64)
    best = (seq, *_evaluate(target, sites, tr, seq))
    if placer == "anneal" and nc > 1:
        start = hilbert_order(target)[:nc]
        indptr, nbr, w = tr.undirected_csr()
        host_site = np.array([0], np.int64)
        node_site = np.concatenate([start, host_site])
        avg_deg = max(1.0, len(nbr) / (nc + 1))
        n_iter = int(min(max(20_000, 300 * nc), 2_000_000, 4e7 / avg_deg))
        t = target.topology
        geometry = np.zeros(5, np.int64)
        geometry[[GEO_GLOBAL_X, GEO_GLOBAL_Y, GEO_CORES_PER_ROUTER, GEO_MESH_X, GEO_MESH_Y]] = (
            t.global_x, t.global_y, t.cores_per_router, t.mesh_x, t.mesh_y)
        site_gxy = np.stack([sites.gx, sites.gy]).astype(np.int64)
        site = anneal(indptr, nbr, w, node_site, nc, site_gxy, geometry,
                      crossing_weight(target) - 1.0, n_iter, int(seed))[:nc]
        for cand in (start, site):
            ev = _evaluate(target, sites, tr, cand)
            if ev[2] < best[3]:
                best = (cand, *ev)
    site, hops, cross, cost = best
    return Placement(placer, int(seed), np.asarray(site, np.int64), hops, cross, cost)


def sequential_cost(part: Partition, tr: Traffic) -> Placement:
    """The baseline placement's cost (for reports next to the chosen placer's)."""
    sites = Sites.of(part.target)
    seq = np.arange(part.n_cores, dtype=np.int64)
    return Placement("sequential", 0, seq, *_evaluate(part.target, sites, tr, seq))
