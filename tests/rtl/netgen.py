"""Random small images for the RTL tests, built directly from random tables (tests only).

Each image uses 1..all cores of the target's mesh, random LIF profiles (decays, thresholds,
reset modes, refractory periods, adaptive thresholds), random biases, random synapses with delays,
recurrent and cross-core routes, host input channels and output channels.
"""

from __future__ import annotations

import numpy as np

from spikefab.arch.image import (AXON_DTYPE, NEURON_DTYPE, PROFILE_DTYPE, ROUTE_DTYPE,
                                   ROUTE_PTR_DTYPE, STATE_DTYPE, SYNAPSE_DTYPE, CoreImage, Image)
from spikefab.arch.target import Target, load_target


def _route(host: int, x: int, y: int, slot: int, axon: int) -> tuple:
    return (host, slot, 0, x, y, axon)


def random_image(seed: int, target: str | Target = "ice40-up5k", max_neurons: int = 10,
                 steps: int = 12, exps: tuple[int, int] = (-2, 2),
                 ) -> tuple[Image, dict[str, np.ndarray]]:
    """A random image for ``target`` and random input spikes for ``steps`` steps.

    Each class's weight exponent is drawn from ``exps`` (inclusive); synapse delays are drawn
    independently of it, so right-shifting classes mix delays (Lava floors each (source step,
    delay) bucket apart: docs/microarchitecture.md section 7).

    About 30 % of the seeds draw a *congested* network (most neurons biased to fire, up to 6
    route entries per neuron, up to 8 synapses per axon) so that injection stalls and full
    router FIFOs are exercised, not only the quiet case.
    """
    rng = np.random.default_rng(seed)
    busy = rng.random() < 0.3       # congested: many spikes, wide fan-out (credit stalls)
    fanout, syn_max = (7, 9) if busy else (3, 5)
    t = load_target(target)
    topo, lim = t.topology, t.core
    places = [(x, y, k) for y in range(topo.mesh_y) for x in range(topo.mesh_x)
              for k in range(topo.cores_per_router)]
    n_used = int(rng.integers(1, len(places) + 1))
    used = [places[i] for i in sorted(rng.choice(len(places), n_used, replace=False))]
    sizes = [int(rng.integers(1, max_neurons + 1)) for _ in used]
    n_in = int(rng.integers(1, 6))
    axons_of = [int(rng.integers(1, 8)) for _ in used]     # axons per core

    cores = []
    out_channel = 0
    outputs_of = []
    for ci, ((x, y, k), n) in enumerate(zip(used, sizes)):
        n_prof = int(rng.integers(1, lim.profiles + 1))
        prof = np.zeros(n_prof, PROFILE_DTYPE)
        prof["du"] = rng.choice([0, 1, 410, 1024, 4095], n_prof)
        prof["dv"] = rng.choice([0, 1, 205, 2048, 4095], n_prof)
        prof["vth"] = rng.integers(1, 1500, n_prof)
        prof["reset_mode"] = rng.integers(0, 2, n_prof)
        prof["refractory"] = np.minimum(rng.integers(0, 3, n_prof) * (rng.random(n_prof) < 0.4),
                                        lim.max_refractory)
        adaptive = (rng.random(n_prof) < 0.3) & bool(lim.adaptive_threshold)
        prof["theta_decay"] = rng.integers(0, 4096, n_prof) * adaptive
        prof["theta_inc"] = rng.integers(0, 1 << 14, n_prof) * adaptive
        neurons = np.zeros(n, NEURON_DTYPE)
        neurons["profile"] = rng.integers(0, n_prof, n)
        neurons["bias_mant"] = rng.integers(-600, 2000, n) * (rng.random(n) < (0.9 if busy else 0.5))
        neurons["bias_exp"] = rng.integers(0, 6, n)
        state = np.zeros(n, STATE_DTYPE)
        if rng.random() < 0.5:
            state["u"] = rng.integers(-5000, 5000, n)
            state["v"] = rng.integers(-5000, 5000, n)
        na = axons_of[ci]
        counts = rng.integers(0, syn_max, na)
        axons = np.zeros(na, AXON_DTYPE)
        axons["count"] = counts
        axons["start"] = np.concatenate([[0], np.cumsum(counts)[:-1]])
        ns = int(counts.sum())
        syn = np.zeros(ns, SYNAPSE_DTYPE)
        syn["neuron"] = rng.integers(0, n, ns)
        syn["weight"] = rng.integers(-256, 256, ns)
        syn["delay"] = rng.integers(0, lim.max_delay + 1, ns)
        syn["acc_class"] = rng.integers(0, lim.acc_classes, ns)
        acc_exps = rng.integers(exps[0], exps[1] + 1, lim.acc_classes).astype(np.int8)
        outs = rng.random(n) < 0.5
        outputs_of.append(outs)
        routes, ptr = [], np.zeros(n, ROUTE_PTR_DTYPE)
        for j in range(n):
            ptr[j]["start"] = len(routes)
            if outs[j]:
                routes.append(_route(1, 0, 0, 0, out_channel))
                out_channel += 1
            for _ in range(int(rng.integers(0, fanout))):
                dj = int(rng.integers(0, len(used)))
                dx, dy, dk = used[dj]
                routes.append(_route(0, dx, dy, dk, int(rng.integers(0, axons_of[dj]))))
            order = rng.permutation(len(routes) - int(ptr[j]["start"]))
            block = routes[int(ptr[j]["start"]):]
            routes[int(ptr[j]["start"]):] = [block[o] for o in order]
            ptr[j]["count"] = len(routes) - int(ptr[j]["start"])
        cores.append(CoreImage(chiplet=0, x=x, y=y, slot=k, acc_exps=acc_exps, profiles=prof,
                               neurons=neurons, state=state, axons=axons, synapses=syn,
                               route_ptr=ptr, routes=np.array(routes, ROUTE_DTYPE)))
    host_routes, host_ptr = [], np.zeros(n_in, ROUTE_PTR_DTYPE)
    for ch in range(n_in):
        host_ptr[ch]["start"] = len(host_routes)
        for _ in range(int(rng.integers(1, 3))):
            dj = int(rng.integers(0, len(used)))
            dx, dy, dk = used[dj]
            host_routes.append(_route(0, dx, dy, dk, int(rng.integers(0, axons_of[dj]))))
        host_ptr[ch]["count"] = len(host_routes) - int(host_ptr[ch]["start"])
    manifest = {"inputs": {"in": {"size": n_in, "channel_base": 0}},
                "outputs": {"out": {"size": max(out_channel, 1), "channel_base": 0}},
                "populations": {f"p{ci}": {"size": n, "slices": [
                    {"core": ci, "offset": 0, "count": n, "start": 0}]}
                    for ci, n in enumerate(sizes)}}
    image = Image(target=t.name, cores=cores, host_route_ptr=host_ptr,
                  host_routes=np.array(host_routes, ROUTE_DTYPE), manifest=manifest)
    p_in = rng.choice([0.2, 0.5, 0.8])
    inputs = {"in": (rng.random((steps, n_in)) < p_in).astype(np.uint8)}
    return image, inputs
