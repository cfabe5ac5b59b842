"""Random multi-core images for the runtime tests (tests only; the compiler is not needed).

Every core listens to every host channel and to every neuron of the image (recurrent and
cross-core routes), so a run exercises host packets, core-to-core packets, delays and output
packets.  Seeds fix everything.
"""

from __future__ import annotations

import numpy as np

from spikefab.arch.image import (AXON_DTYPE, NEURON_DTYPE, PROFILE_DTYPE, ROUTE_DTYPE,
                                   ROUTE_PTR_DTYPE, STATE_DTYPE, SYNAPSE_DTYPE, CoreImage, Image)
from spikefab.arch.target import load_target
from spikefab.arch.validate import check_fits, check_image


def random_image(seed: int, *, target: str = "ice40-up5k", n_in: int = 6,
                 neurons: tuple[int, int] = (4, 14), p_syn: float = 0.35,
                 p_route: float = 0.3) -> Image:
    """A random image using every core of ``target`` (at most 4 cores are used)."""
    rng = np.random.default_rng(seed)
    tgt = load_target(target)
    topo = tgt.topology
    n_cores = min(topo.cores, 4)
    sizes = rng.integers(neurons[0], neurons[1] + 1, n_cores)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    n_total = int(offsets[-1])
    n_axons = n_in + n_total
    addr = []
    for p in range(n_cores):
        router, slot = divmod(p, topo.cores_per_router)
        addr.append((0, router % topo.mesh_x, router // topo.mesh_x, slot))
    n_out = max(1, n_total // 3)
    out_neurons = rng.choice(n_total, n_out, replace=False)
    cores = []
    for c in range(n_cores):
        n = int(sizes[c])
        n_prof = int(rng.integers(1, min(tgt.core.profiles, 3) + 1))
        profiles = np.zeros(n_prof, PROFILE_DTYPE)
        profiles["du"] = rng.integers(0, 4096, n_prof)
        profiles["dv"] = rng.integers(0, 4096, n_prof)
        profiles["vth"] = rng.integers(20, 200, n_prof)
        profiles["reset_mode"] = rng.integers(0, 2, n_prof)
        profiles["refractory"] = np.minimum(rng.integers(0, 3, n_prof), tgt.core.max_refractory)
        neurons_t = np.zeros(n, NEURON_DTYPE)
        neurons_t["profile"] = rng.integers(0, n_prof, n)
        neurons_t["bias_mant"] = rng.integers(-20, 60, n)
        neurons_t["bias_exp"] = rng.integers(0, 3, n)
        state = np.zeros(n, STATE_DTYPE)
        state["v"] = rng.integers(-500, 500, n)
        axons = np.zeros(n_axons, AXON_DTYPE)
        syn = []
        for a in range(n_axons):
            targets = np.flatnonzero(rng.random(n) < p_syn)
            axons[a] = (len(syn), len(targets))
            for j in targets:
                syn.append((j, int(rng.integers(-120, 256)), int(rng.integers(0, 4)), 0))
        synapses = np.array(syn, SYNAPSE_DTYPE)
        n_acc = int(tgt.core.acc_classes)
        synapses["delay"] = np.minimum(synapses["delay"], tgt.core.max_delay)
        route_ptr = np.zeros(n, ROUTE_PTR_DTYPE)
        routes = []
        for j in range(n):
            g = int(offsets[c]) + j
            start = len(routes)
            for d in range(n_cores):
                if rng.random() < p_route:
                    routes.append((0, addr[d][3], addr[d][0], addr[d][1], addr[d][2], n_in + g))
            hit = np.flatnonzero(out_neurons == g)
            if len(hit):
                routes.append((1, 0, 0, 0, 0, int(hit[0])))
            route_ptr[j] = (start, len(routes) - start)
        ch, x, y, slot = addr[c]
        cores.append(CoreImage(chiplet=ch, x=x, y=y, slot=slot,
                               acc_exps=rng.integers(0, 3, n_acc), profiles=profiles,
                               neurons=neurons_t, state=state, axons=axons, synapses=synapses,
                               route_ptr=route_ptr, routes=np.array(routes, ROUTE_DTYPE)))
    host_ptr = np.array([(i * n_cores, n_cores) for i in range(n_in)], ROUTE_PTR_DTYPE)
    host_routes = np.array([(0, addr[d][3], addr[d][0], addr[d][1], addr[d][2], i)
                            for i in range(n_in) for d in range(n_cores)], ROUTE_DTYPE)
    slices = [{"core": c, "offset": 0, "count": int(sizes[c]), "start": int(offsets[c])}
              for c in range(n_cores)]
    manifest = {"inputs": {"x": {"size": n_in, "channel_base": 0}},
                "outputs": {"y": {"size": n_out, "channel_base": 0}},
                "populations": {"p": {"size": n_total, "slices": slices}},
                "options": {"built_by": "tests/runtime/images.py", "seed": seed}}
    image = Image(target=target, cores=cores, host_route_ptr=host_ptr, host_routes=host_routes,
                  manifest=manifest)
    check_image(image)
    check_fits(image, tgt)
    return image


def random_inputs(image: Image, steps: int, seed: int, rate: float = 0.3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed + 7919)
    return {name: (rng.random((steps, int(s["size"]))) < rate).astype(np.uint8)
            for name, s in image.inputs.items()}
