"""Random images for the emulator tests, built directly from the image tables (tests only).

The compiler is another wing; these generators make images that pass ``check_image`` and
exercise every feature the engines must reproduce: several cores on several routers, slots and
chiplets, delays, accumulator classes with negative exponents, refractory periods, reset by
subtraction, adaptive thresholds, recurrence (routes back into the same core), output routes and
host routes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spikefab.arch.image import (AXON_DTYPE, NEURON_DTYPE, PROFILE_DTYPE, ROUTE_DTYPE,
                                   ROUTE_PTR_DTYPE, STATE_DTYPE, SYNAPSE_DTYPE, CoreImage, Image)

SHARED = Path(__file__).resolve().parents[2].parent / "shared"

#: a small multi-chiplet profile with slow, serialising chiplet links and shallow FIFOs, so that
#: random images see backpressure, arbitration and inter-chiplet serialisation
TINY_WAFER = """
name = "tinywafer"
description = "test profile: 2x2 chiplets of 3x2 routers, 2 cores per router"
[topology]
chiplets_x = 2
chiplets_y = 2
mesh_x = 3
mesh_y = 2
cores_per_router = 2
[core]
neurons = 64
synapses = 4096
input_axons = 256
route_entries = 256
profiles = 4
acc_classes = 4
max_delay = 7
accumulator_bits = 32
[timing]
clock_mhz = 100.0
neuron_cycles = 2
synapse_cycles = 1
packet_cycles = 2
fifo_depth = 2
link_latency = 2
chiplet_link_latency = 5
chiplet_link_cycles = 3
barrier_cycles = 8
wafer_barrier_cycles = 20
[energy]
synop_pj = 1.0
neuron_active_pj = 2.0
neuron_inactive_pj = 1.0
spike_pj = 0.5
hop_ew_pj = 0.25
hop_ns_pj = 0.5
chiplet_hop_pj = 4.0
static_mw = 1.0
[sources]
topology = "test"
core = "test"
timing = "test"
energy = "test"
"""


def random_image(rng: np.random.Generator, target, *, max_cores: int = 5, max_neurons: int = 12,
                 n_in: int | None = None, n_out: int | None = None,
                 activity: float = 1.0) -> Image:
    """A random image that fits ``target`` (a Target); see the module docstring."""
    topo, lim = target.topology, target.core
    n_cores = int(rng.integers(1, min(max_cores, topo.cores) + 1))
    addresses: list[tuple[int, int, int, int]] = []
    while len(addresses) < n_cores:
        a = (int(rng.integers(topo.chiplets)), int(rng.integers(topo.mesh_x)),
             int(rng.integers(topo.mesh_y)), int(rng.integers(topo.cores_per_router)))
        if a not in addresses:
            addresses.append(a)
    sizes = [int(rng.integers(0 if k else 1, max_neurons + 1)) for k in range(n_cores)]
    n_axons = [int(rng.integers(0, 9)) for _ in range(n_cores)]
    n_in = int(rng.integers(1, 5)) if n_in is None else n_in
    n_out = int(rng.integers(1, 5)) if n_out is None else n_out
    max_delay = min(lim.max_delay, 5)

    def destinations(k: int) -> np.ndarray:
        rows = []
        for _ in range(k):
            cands = [i for i in range(n_cores) if n_axons[i]]
            if not cands or rng.random() < 0.2:
                rows.append((1, 0, 0, 0, 0, int(rng.integers(n_out))))
            else:
                ci = int(rng.choice(cands))
                ch, x, y, s = addresses[ci]
                rows.append((0, s, ch, x, y, int(rng.integers(n_axons[ci]))))
        return np.array(rows, ROUTE_DTYPE) if rows else np.zeros(0, ROUTE_DTYPE)

    def route_table(n_src: int, max_fan: int) -> tuple[np.ndarray, np.ndarray]:
        counts = rng.integers(0, max_fan + 1, n_src)
        ptr = np.zeros(n_src, ROUTE_PTR_DTYPE)
        ptr["count"] = counts
        ptr["start"] = np.concatenate([[0], np.cumsum(counts)[:-1]]) if n_src else []
        return ptr, destinations(int(counts.sum()))

    cores = []
    for ci, (ch, x, y, s) in enumerate(addresses):
        n = sizes[ci]
        n_cls = int(rng.integers(1, min(3, lim.acc_classes) + 1))
        n_prof = int(rng.integers(1, min(3, lim.profiles) + 1))
        prof = np.zeros(n_prof, PROFILE_DTYPE)
        prof["du"] = rng.choice([0, 1, 410, 2048, 4095], n_prof)
        prof["dv"] = rng.choice([0, 1, 163, 1024, 4095], n_prof)
        prof["vth"] = rng.integers(1, 60, n_prof)
        prof["reset_mode"] = rng.integers(0, 2, n_prof)
        # (extensions only where the target's cores have them)
        prof["refractory"] = np.minimum(rng.choice([0, 0, 1, 3], n_prof), lim.max_refractory)
        prof["theta_decay"] = rng.choice([0, 100, 4095], n_prof)
        prof["theta_inc"] = rng.choice([0, 0, 64, 3000], n_prof) * lim.adaptive_threshold
        neu = np.zeros(n, NEURON_DTYPE)
        neu["profile"] = rng.integers(0, n_prof, n)
        neu["bias_exp"] = rng.integers(-2, 4, n)
        neu["bias_mant"] = rng.integers(-300, int(600 * activity) + 1, n)
        st = np.zeros(n, STATE_DTYPE)
        st["u"] = rng.integers(-5000, 5000, n)
        st["v"] = rng.integers(-3000, 3000, n)
        st["ref"] = np.minimum(rng.integers(0, 2, n), lim.max_refractory)
        ax = np.zeros(n_axons[ci], AXON_DTYPE)
        syn_rows = []
        for a in range(n_axons[ci]):
            k = int(rng.integers(0, 7)) if n else 0
            ax[a] = (len(syn_rows), k)
            for _ in range(k):
                syn_rows.append((int(rng.integers(n)), int(rng.integers(-256, 256)),
                                 int(rng.integers(0, max_delay + 1)), int(rng.integers(n_cls))))
        syn = np.array(syn_rows, SYNAPSE_DTYPE) if syn_rows else np.zeros(0, SYNAPSE_DTYPE)
        exps = rng.integers(-4, 4, n_cls).astype(np.int8)
        ptr, routes = route_table(n, 3)
        cores.append(dict(chiplet=ch, x=x, y=y, slot=s, acc_exps=exps, profiles=prof,
                          neurons=neu, state=st, axons=ax, synapses=syn, route_ptr=ptr,
                          routes=routes))
    host_ptr, host_routes = route_table(n_in, 3)
    pops, start = {}, 0
    for ci, n in enumerate(sizes):
        if n:
            pops[f"p{ci}"] = {"size": n, "slices": [{"core": ci, "offset": 0, "count": n,
                                                      "start": 0}]}
    total = sum(sizes)
    slices, start = [], 0
    for ci, n in enumerate(sizes):
        if n:
            slices.append({"core": ci, "offset": 0, "count": n, "start": start})
            start += n
    pops["all"] = {"size": total, "slices": slices}
    manifest = {"inputs": {"in": {"size": n_in, "channel_base": 0}},
                "outputs": {"out": {"size": n_out, "channel_base": 0}},
                "populations": pops}
    return Image(target=target.name, cores=[CoreImage(**c) for c in cores],
                 host_route_ptr=host_ptr, host_routes=host_routes, manifest=manifest)


def random_inputs(rng: np.random.Generator, image: Image, steps: int, p: float = 0.3):
    return {name: (rng.random((steps, int(s["size"]))) < p).astype(np.uint8)
            for name, s in image.inputs.items()}


def build_image(target_name: str, cores: list[dict], host: list[list], n_out: int = 1) -> Image:
    """A hand-made image for timing tests.

    ``cores[i]``: ``address`` (chiplet, x, y, slot), ``n`` neurons, ``spike`` (neurons that spike
    in step 0: huge bias, refractory so they spike once), ``routes`` {neuron: [dest, ...]},
    ``axons`` [S, ...] synapse counts (weight 0 to neuron 0).  ``host[ch]`` = [dest, ...].
    A dest is ``("host", channel)`` or ``(core index, axon)``.
    """
    def dest_rows(dests):
        rows = []
        for d in dests:
            if d[0] == "host":
                rows.append((1, 0, 0, 0, 0, d[1]))
            else:
                ch, x, y, s = cores[d[0]]["address"]
                rows.append((0, s, ch, x, y, d[1]))
        return rows

    def table(per_src: list[list]):
        ptr = np.zeros(len(per_src), ROUTE_PTR_DTYPE)
        rows = []
        for i, dests in enumerate(per_src):
            ptr[i] = (len(rows), len(dests))
            rows += dest_rows(dests)
        return ptr, np.array(rows, ROUTE_DTYPE) if rows else np.zeros(0, ROUTE_DTYPE)

    out = []
    for spec in cores:
        n = spec["n"]
        prof = np.array([(4095, 0, 1000, 0, 50, 0, 0)], PROFILE_DTYPE)
        neu = np.zeros(n, NEURON_DTYPE)
        for i in spec.get("spike", ()):
            neu[i] = (0, 6, 4095)       # bias 4095 << 6 > 1000 << 6: spikes in step 0
        axons = np.zeros(len(spec.get("axons", [])), AXON_DTYPE)
        syn = []
        for a, s in enumerate(spec.get("axons", [])):
            axons[a] = (len(syn), s)
            syn += [(0, 0, 0, 0)] * s
        ptr, routes = table([spec.get("routes", {}).get(i, []) for i in range(n)])
        ch, x, y, s = spec["address"]
        out.append(CoreImage(chiplet=ch, x=x, y=y, slot=s, acc_exps=np.zeros(1, np.int8),
                             profiles=prof, neurons=neu, state=np.zeros(n, STATE_DTYPE),
                             axons=axons, synapses=np.array(syn, SYNAPSE_DTYPE) if syn
                             else np.zeros(0, SYNAPSE_DTYPE), route_ptr=ptr, routes=routes))
    hptr, hroutes = table(host)
    manifest = {"inputs": {"in": {"size": max(len(host), 1), "channel_base": 0}},
                "outputs": {"out": {"size": n_out, "channel_base": 0}},
                "populations": {f"p{i}": {"size": c["n"], "slices": [
                    {"core": i, "offset": 0, "count": c["n"], "start": 0}]}
                    for i, c in enumerate(cores) if c["n"]}}
    if not host:
        hptr = np.zeros(1, ROUTE_PTR_DTYPE)
    return Image(target=target_name, cores=out, host_route_ptr=hptr, host_routes=hroutes,
                 manifest=manifest)


def dense_image(weights, *, du: int = 0, dv: int = 0, vth: int = 100, bias_mant: int = 0,
                bias_exp: int = 0, target: str = "loihi1") -> Image:
    """One core holding Lava's ``Dense -> LIF`` (weights already effective), host in and out.

    Input ``"in"`` channel i -> axon i; neuron j -> output ``"out"`` channel j; population
    ``"lif"``.
    """
    w = np.asarray(weights, np.int64)
    n_out, n_in = w.shape
    axons = np.zeros(n_in, AXON_DTYPE)
    rows = []
    for i in range(n_in):
        tg = np.flatnonzero(w[:, i])
        axons[i] = (len(rows), len(tg))
        rows += [(int(j), int(w[j, i]), 0, 0) for j in tg]
    neu = np.zeros(n_out, NEURON_DTYPE)
    neu["bias_mant"], neu["bias_exp"] = bias_mant, bias_exp
    core = CoreImage(chiplet=0, x=0, y=0, slot=0, acc_exps=np.zeros(1, np.int8),
                     profiles=np.array([(du, dv, vth, 0, 0, 0, 0)], PROFILE_DTYPE), neurons=neu,
                     state=np.zeros(n_out, STATE_DTYPE), axons=axons,
                     synapses=np.array(rows, SYNAPSE_DTYPE) if rows else
                     np.zeros(0, SYNAPSE_DTYPE),
                     route_ptr=np.array([(j, 1) for j in range(n_out)], ROUTE_PTR_DTYPE),
                     routes=np.array([(1, 0, 0, 0, 0, j) for j in range(n_out)], ROUTE_DTYPE))
    manifest = {"inputs": {"in": {"size": n_in, "channel_base": 0}},
                "outputs": {"out": {"size": n_out, "channel_base": 0}},
                "populations": {"lif": {"size": n_out, "slices": [
                    {"core": 0, "offset": 0, "count": n_out, "start": 0}]}}}
    return Image(target=target, cores=[core],
                 host_route_ptr=np.array([(i, 1) for i in range(n_in)], ROUTE_PTR_DTYPE),
                 host_routes=np.array([(0, 0, 0, 0, 0, i) for i in range(n_in)], ROUTE_DTYPE),
                 manifest=manifest)
