"""Flatten an :class:`~spikefab.arch.image.Image` into structure-of-arrays for the kernels.

The Numba kernels never see a structured array or a Python object: this module turns the per-core
tables into global, flat arrays once per run.

* **Neurons** get a global index ``noff[core] + local``; every per-neuron parameter (profile
  fields, scaled bias, the weight exponent of each accumulator class) is expanded to one int64
  array over the global index.
* **Accumulators** are one flat int64 array ``acc[slot * C * N + cls * N + neuron]`` with
  ``D = ring_slots(image)`` slots (largest delay + 2, as the reference model) and ``C`` the
  largest number of classes of any core (missing classes have exponent 0 and stay 0).
* **Synapses** of every core are concatenated; each entry keeps its target offset
  ``delay * C * N + cls * N + neuron`` relative to the step's slot ``(t + 1) mod D``, so the
  inner loop is one add and one conditional wrap.
* **Axons** get a global index ``abase[core] + axon``; a route entry stores that global axon (or
  the output channel for ``host = 1``), its destination core and global router coordinates, and
  its hop counts from the sender (on-chip E/W, on-chip N/S, inter-chiplet;
  :func:`spikefab.arch.mesh.hop_counts`).
* Host input routes are appended after the neuron routes; the host sits at global router (0, 0)
  (docs/microarchitecture.md section 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from spikefab.arch import mesh
from spikefab.arch.host import output_width
from spikefab.arch.image import Image
from spikefab.arch.reference import ring_slots
from spikefab.arch.target import Target
from spikefab.emulator import kernels as FK
from spikefab.emulator.fanout import MAX_GAP, MIN_RUN, FanOut, fan_out_paths, part_bounds, ranges

__all__ = ["FlatImage", "NeuronArrays", "flatten", "neuron_arrays"]


@dataclass
class FlatImage:
    """Global flat arrays of one image on one target (see module docstring)."""

    n: int                    #: total neurons
    n_classes: int            #: accumulator classes C
    slots: int                #: ring-buffer slots D
    n_in: int                 #: host input channels
    n_out: int                #: host output channels
    noff: np.ndarray          #: (cores + 1,) first global neuron of each core
    core_router: np.ndarray   #: (cores,) global router id gy * GX + gx
    core_slot: np.ndarray     #: (cores,) slot at its router
    params: np.ndarray        #: (11, n) int64: du dv vth reset refr th_dec th_inc bias u v theta
    ref0: np.ndarray          #: (n,) int64 initial refractory counters
    nexp: np.ndarray          #: (C * n,) int64 exponent of class c for neuron i at c * n + i
    ax_start: np.ndarray      #: (axons,) int64 first global synapse
    ax_count: np.ndarray      #: (axons,) int64
    syn_off: np.ndarray       #: (synapses,) int32 (int64 for huge images) accumulator offset
    syn_w: np.ndarray         #: (synapses,) int32 weight
    nr_start: np.ndarray      #: (n,) int64 first route of each neuron
    nr_count: np.ndarray      #: (n,) int64
    hr_start: np.ndarray      #: (n_in,) int64 first route of each host channel
    hr_count: np.ndarray      #: (n_in,) int64
    routes: np.ndarray        #: (routes, 10) int64: host axon core dx dy slot hops_ew hops_ns
                              #: hops_chip synapses (of the destination axon; 0 for the host)
    route_dst: np.ndarray     #: (routes, 3) int64: destination core (-1 host), synapses, axon
    route_sums: np.ndarray    #: (n, 5) int64 per neuron over its routes: hops_ew hops_ns
                              #: hops_chip synapses host_packets
    chiplets_used: int        #: distinct chiplets holding a core
    acc_bound: int            #: largest sum of |weight| x routes into one (class, neuron): no
                              #: accumulator slot can exceed it, so int32 ones suffice below 2**31
    parts: int = 1            #: neuron parts of the functional engine's threads (:mod:`.fanout`)
    _fo: FanOut | None = field(default=None, repr=False)

    @property
    def fo(self) -> FanOut:
        """What each neuron's spike adds (scatter runs + dense blocks), built on first use:
        only the single-process functional engine reads it, and only the axons that hold a
        dense run are searched for blocks (a sparse image keeps its fan-out as the scatter)."""
        if self._fo is None:
            fo_start, fo_off, fo_w, elig = _fan_out(self, dense=True)
            self._fo = fan_out_paths(fo_start, fo_off, fo_w, self.n_classes * self.n, self.noff,
                                     self.parts, elig)
        return self._fo

    def fan_out(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The neuron-major fan-out ``(fo_start, fo_off, fo_w)``: neuron ``i``'s synapses are
        ``fo_start[i]..fo_start[i+1]`` (offsets as ``syn_off``).  Rebuilt on demand: only the
        distributed engine and the SANA-FE export read it; :attr:`fo` is its fast split."""
        return _fan_out(self, dense=False)[:3]


@dataclass
class NeuronArrays:
    """The neuron update's operands as narrow per-neuron arrays (the hot loop streams them).

    ``du1 = 4095 - du`` and ``dv1 = 4096 - dv`` are the decay factors, ``vth6 = vth << 6``;
    ``special`` lists the neurons that can be refractory or have an adaptive threshold (a
    refractory period, a threshold increment, or such state at start): only they take the slow
    path after the vectorized int64 update of all neurons.  The fused update also runs the
    refractory period in its loop, so its slow path (``special_f``) is only the adaptive
    neurons (and those refractory at start without a period).

    The fused update (``kernels.update_lif``) runs per *segment*: a run of neurons of one part
    whose profile constants (du, dv, vth, reset) are equal, so they enter its loop as scalars and
    only the state and the bias stream; ``bias32`` is the bias clipped to +-2**25 (exact there:
    see kernels.py).
    """

    du1: np.ndarray           #: (n,) int32
    dv1: np.ndarray           #: (n,) int32
    vth6: np.ndarray          #: (n,) int32
    bias: np.ndarray          #: (n,) int64 scaled bias
    rsub: np.ndarray          #: (n,) int32 1 where reset is by subtraction
    refr: np.ndarray          #: (n,) int32 refractory period
    thd1: np.ndarray          #: (n,) int32 ``4096 - theta_decay``
    thinc: np.ndarray         #: (n,) int32 threshold increment
    special: np.ndarray       #: (k,) int64 neurons with a refractory or adaptive-threshold path
    sp_start: np.ndarray      #: (parts + 1,) int64 first special neuron of each part
    lsh: np.ndarray           #: (C * n,) int64 left shift of class c for neuron i (exp > 0)
    rsh: np.ndarray           #: (C * n,) int64 right shift (exp < 0)
    bias32: np.ndarray        #: (n,) int32 bias clipped to +-2**25
    seg_lo: np.ndarray        #: (segments + 1,) int64 first neuron of each segment
    seg_ps: np.ndarray        #: (parts + 1,) int64 first segment of each part
    seg_duf: np.ndarray       #: (segments,) float64 ``du1 / 4096``
    seg_dvf: np.ndarray       #: (segments,) float64 ``dv1 / 4096``
    seg_vth6: np.ndarray      #: (segments,) int32 ``vth << 6``
    seg_rmask: np.ndarray     #: (segments,) int32 -1 reset by subtraction, 0 reset to zero
    seg_refr: np.ndarray      #: (segments,) int32 refractory period the fused loop applies (0
                              #: in segments of ``special_f`` neurons)
    special_f: np.ndarray     #: (k,) int64 the fused update's slow-path neurons: adaptive
                              #: threshold, or refractory at start without a period
    spf_start: np.ndarray     #: (parts + 1,) int64 first ``special_f`` neuron of each part

    def as_tuple(self) -> tuple:
        """The fields in order: the kernels' NRN tuple (``kernels.N_*`` name the positions)."""
        return tuple(getattr(self, f.name) for f in fields(self))

    @property
    def segments(self) -> int:
        return int(self.seg_lo.shape[0] - 1)


def neuron_arrays(flat: FlatImage, params: np.ndarray, ref: np.ndarray) -> NeuronArrays:
    """Derive :class:`NeuronArrays` from the parameter rows of ``flat`` and the start state."""
    du, dv, vth, reset, refr, th_dec, th_inc, bias = params[:8]
    special = np.flatnonzero((refr > 0) | (th_inc != 0) | (params[10] != 0) | (ref > 0))
    slow = (th_inc != 0) | (params[10] != 0) | ((ref > 0) & (refr == 0))
    special_f = np.flatnonzero(slow)
    i32 = (lambda a: np.ascontiguousarray(a, np.int32))
    pn = part_bounds(flat.n, flat.parts)
    key = np.stack([du, dv, vth, reset == 1, refr, slow])
    cut = np.flatnonzero((key[:, 1:] != key[:, :-1]).any(axis=0)) + 1
    seg_lo = np.union1d(cut, pn).astype(np.int64)
    first = seg_lo[:-1]
    return NeuronArrays(du1=i32(4095 - du), dv1=i32(4096 - dv), vth6=i32(vth << 6),
                        bias=np.ascontiguousarray(bias, np.int64), rsub=i32(reset == 1),
                        refr=i32(refr), thd1=i32(4096 - th_dec), thinc=i32(th_inc),
                        special=special.astype(np.int64),
                        sp_start=np.searchsorted(special, pn).astype(np.int64),
                        lsh=np.maximum(flat.nexp, 0).astype(np.int64),
                        rsh=np.maximum(-flat.nexp, 0).astype(np.int64),
                        bias32=i32(np.clip(bias, -2**25, 2**25)), seg_lo=seg_lo,
                        seg_ps=np.searchsorted(seg_lo, pn).astype(np.int64),
                        seg_duf=(4095 - du[first]) / 4096.0, seg_dvf=(4096 - dv[first]) / 4096.0,
                        seg_vth6=i32(vth[first] << 6), seg_rmask=-i32(reset[first] == 1),
                        seg_refr=i32(np.where(slow[first], 0, refr[first])),
                        special_f=special_f.astype(np.int64),
                        spf_start=np.searchsorted(special_f, pn).astype(np.int64))


def flatten(image: Image, target: Target, parts: int = 1) -> FlatImage:
    """Build the :class:`FlatImage` of ``image`` placed on ``target`` (already checked to fit);
    ``parts`` neuron ranges for the functional engine's threads (:mod:`.fanout`)."""
    cores = image.cores
    noff = np.zeros(len(cores) + 1, np.int64)
    noff[1:] = np.cumsum([c.n_neurons for c in cores])
    n = int(noff[-1])
    n_classes = max([len(c.acc_exps) for c in cores] + [1])
    slots = ring_slots(image)
    cn = n_classes * n
    params, ref0, nexp = _neurons(cores, noff, n_classes)
    ax_start, ax_count, syn_off, syn_w = _synapses(cores, noff, n, cn, slots)
    gx, gy, core_router = _core_xy(cores, target)
    routes, rbase = _routes(image, gx, gy, ax_count, target)
    nr_start = np.concatenate([c.route_ptr["start"].astype(np.int64) + rbase[i]
                               for i, c in enumerate(cores)] + [np.zeros(0, np.int64)])
    nr_count = np.concatenate([c.route_ptr["count"].astype(np.int64) for c in cores]
                              + [np.zeros(0, np.int64)])
    route_sums = np.zeros((n, 5), np.int64)
    owner = np.repeat(np.arange(n), nr_count)
    mine = routes[ranges(nr_start, nr_count)]
    for col, src in enumerate((6, 7, 8, 9, 0)):
        route_sums[:, col] = np.bincount(owner, weights=mine[:, src], minlength=n).astype(np.int64)
    return FlatImage(n=n, n_classes=n_classes, slots=slots, n_in=len(image.host_route_ptr),
                     n_out=output_width(image), noff=noff, core_router=core_router,
                     core_slot=np.array([c.slot for c in cores], np.int64), params=params,
                     ref0=ref0, nexp=nexp, ax_start=ax_start, ax_count=ax_count, syn_off=syn_off,
                     syn_w=syn_w, nr_start=nr_start, nr_count=nr_count,
                     hr_start=image.host_route_ptr["start"].astype(np.int64) + rbase[-1],
                     hr_count=image.host_route_ptr["count"].astype(np.int64), routes=routes,
                     route_dst=np.ascontiguousarray(routes[:, [2, 9, 1]]), route_sums=route_sums,
                     chiplets_used=len({c.chiplet for c in cores}),
                     acc_bound=_acc_bound(ax_start, ax_count, syn_off, syn_w, cn, routes),
                     parts=parts)


def _acc_bound(ax_start, ax_count, syn_off, syn_w, cn: int, routes: np.ndarray) -> int:
    """:attr:`FlatImage.acc_bound`, counting how many routes (neurons' and host channels')
    reach each axon: an axon reached twice in a step delivers its synapses twice."""
    core_bound = routes[:, 0] == 0
    mult = np.bincount(routes[core_bound, 1], minlength=len(ax_start))[:len(ax_start)]
    return int(FK.acc_bound(ax_start, ax_count, mult.astype(np.int64), syn_off, syn_w, cn))


def _neurons(cores, noff: np.ndarray, n_classes: int):
    """``params`` (11, n), ``ref0`` and ``nexp`` over the global neuron index."""
    n = int(noff[-1])
    params = np.zeros((11, n), np.int64)
    ref0 = np.zeros(n, np.int64)
    nexp = np.zeros(n_classes * n, np.int64)
    for ci, c in enumerate(cores):
        lo, hi = int(noff[ci]), int(noff[ci + 1])
        if hi == lo:
            continue
        prof = c.profiles[c.neurons["profile"]]
        e = c.neurons["bias_exp"].astype(np.int64)
        m = c.neurons["bias_mant"].astype(np.int64)
        bias = np.where(e >= 0, m << np.maximum(e, 0), m >> np.maximum(-e, 0))
        for row, col in enumerate((prof["du"], prof["dv"], prof["vth"], prof["reset_mode"],
                                   prof["refractory"], prof["theta_decay"], prof["theta_inc"], bias,
                                   c.state["u"], c.state["v"], c.state["theta"])):
            params[row, lo:hi] = col
        ref0[lo:hi] = c.state["ref"]
        for k, ex in enumerate(c.acc_exps):
            nexp[k * n + lo:k * n + hi] = int(ex)
    return params, ref0, nexp


def _synapses(cores, noff: np.ndarray, n: int, cn: int, slots: int):
    """Global axon table and synapse stream (offsets int32 when the ring fits 2**31)."""
    abase = np.zeros(len(cores) + 1, np.int64)
    abase[1:] = np.cumsum([len(c.axons) for c in cores])
    sbase = np.zeros(len(cores) + 1, np.int64)
    sbase[1:] = np.cumsum([len(c.synapses) for c in cores])
    ax_start = np.concatenate([c.axons["start"].astype(np.int64) + sbase[i]
                               for i, c in enumerate(cores)] + [np.zeros(0, np.int64)])
    ax_count = np.concatenate([c.axons["count"].astype(np.int64) for c in cores]
                              + [np.zeros(0, np.int64)])
    dt = np.int32 if slots * cn < 2**31 else np.int64   # halve the hot loop's synapse stream
    syn_off = np.concatenate([
        (c.synapses["delay"].astype(np.int64) * cn + c.synapses["acc_class"].astype(np.int64) * n
         + c.synapses["neuron"].astype(np.int64) + noff[i]).astype(dt)
        for i, c in enumerate(cores)] + [np.zeros(0, dt)])
    syn_w = np.concatenate([c.synapses["weight"].astype(np.int32) for c in cores]
                           + [np.zeros(0, np.int32)])
    return ax_start, ax_count, syn_off, syn_w


def _core_xy(cores, target: Target):
    """Global router coordinates and router id of every core."""
    topo = target.topology
    gx, gy = mesh.global_xy(*(np.array([getattr(c, k) for c in cores], np.int64)
                              for k in ("chiplet", "x", "y")),
                            topo.chiplets_x, topo.mesh_x, topo.mesh_y)
    return gx, gy, mesh.router_id(gx, gy, topo.global_x).astype(np.int64)


def _routes(image: Image, gx, gy, ax_count: np.ndarray, target: Target):
    """The (routes, 10) table (neuron routes core by core, then host routes) and each core's
    first route."""
    topo = target.topology
    cores = image.cores
    abase = np.zeros(len(cores) + 1, np.int64)
    abase[1:] = np.cumsum([len(c.axons) for c in cores])
    rbase = np.zeros(len(cores) + 1, np.int64)
    rbase[1:] = np.cumsum([len(c.routes) for c in cores])
    tables = [c.routes for c in cores] + [image.host_routes]
    src_x = np.concatenate([np.full(len(c.routes), gx[i]) for i, c in enumerate(cores)]
                           + [np.zeros(len(image.host_routes), np.int64)]).astype(np.int64)
    src_y = np.concatenate([np.full(len(c.routes), gy[i]) for i, c in enumerate(cores)]
                           + [np.zeros(len(image.host_routes), np.int64)]).astype(np.int64)
    allr = np.concatenate(tables) if tables else np.zeros(0, image.host_routes.dtype)
    host = allr["host"].astype(np.int64) != 0
    dcore = _destination_cores(allr, host, cores)
    dx = np.where(host, 0, gx[np.maximum(dcore, 0)] if len(cores) else 0)
    dy = np.where(host, 0, gy[np.maximum(dcore, 0)] if len(cores) else 0)
    axon = np.where(host, allr["axon"].astype(np.int64),
                    abase[np.maximum(dcore, 0)] + allr["axon"].astype(np.int64))
    slot = np.where(host, -1, allr["slot"].astype(np.int64))
    hew, hns, hch = mesh.hop_counts(src_x, src_y, dx, dy, topo.mesh_x, topo.mesh_y)
    # one row per route: a packet's nine fields share a cache line in the kernels' hot loop
    n_syn = np.zeros(len(allr), np.int64)
    n_syn[~host] = ax_count[axon[~host]]
    routes = np.stack([host.astype(np.int64), axon, dcore, dx, dy, slot, hew, hns, hch, n_syn],
                      axis=1).astype(np.int64).reshape(-1, 10)
    return np.ascontiguousarray(routes), rbase


def _destination_cores(allr: np.ndarray, host: np.ndarray, cores) -> np.ndarray:
    """Index in ``cores`` of every route's destination (-1 for the host), by binary search."""
    if not len(cores):
        return np.full(len(allr), -1, np.int64)

    def key(chiplet, x, y, slot):
        return (((np.asarray(chiplet, np.int64) << 16 | np.asarray(x, np.int64)) << 16
                 | np.asarray(y, np.int64)) << 16) | np.asarray(slot, np.int64)

    keys = key(*np.array([c.address for c in cores], np.int64).T)
    order = np.argsort(keys)
    pos = np.searchsorted(keys[order], key(allr["chiplet"], allr["x"], allr["y"], allr["slot"]))
    pos = np.minimum(pos, len(keys) - 1)
    return np.where(host, -1, order[pos]).astype(np.int64)


def _fan_out(flat: FlatImage, dense: bool):
    """Per neuron, the synapses its spike reaches through all its routes, stored contiguously,
    and (``dense``) which of them come from an axon holding a dense run.

    Route -> axon -> synapse run costs several cache misses per packet; the functional engine
    only needs the synapses, so it reads this neuron-major copy sequentially instead (the
    routes are still walked, in order, for the packet and hop counters).
    """
    per = np.bincount(np.repeat(np.arange(flat.n), flat.nr_count),
                      weights=flat.routes[ranges(flat.nr_start, flat.nr_count), 9],
                      minlength=flat.n).astype(np.int64)
    fo_start = np.zeros(flat.n + 1, np.int64)
    fo_start[1:] = np.cumsum(per)
    m = int(fo_start[-1])
    ax_dense = (FK.axons_with_runs(flat.ax_start, flat.ax_count, flat.syn_off, flat.n, MIN_RUN,
                                   MAX_GAP) if dense else np.zeros(flat.ax_start.shape[0], bool))
    fo_off = np.empty(m, flat.syn_off.dtype)
    fo_w = np.empty(m, np.int32)
    elig = np.empty(m, np.bool_)
    FK.gather_fan_out(flat.nr_start, flat.nr_count, flat.routes, flat.ax_start, flat.syn_off,
                      flat.syn_w, fo_start, fo_off, fo_w, elig, ax_dense)
    return fo_start, fo_off, fo_w, elig
