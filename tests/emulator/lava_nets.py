"""Random Lava networks (LIF, Dense, DelayDense) and the same networks as spikefab images.

A network is the JSON-able dict :mod:`lava_oracle` reads.  :func:`network_image` places it on
cores the way the hardware would hold it: every population split over one or more cores, every
projection into a population its own accumulator class (Lava floors each projection's sum
separately, so projections are never merged), one input axon per (projection, source, core).
"""

from __future__ import annotations

import numpy as np

from spikefab.arch.image import (AXON_DTYPE, NEURON_DTYPE, PROFILE_DTYPE, ROUTE_DTYPE,
                                   ROUTE_PTR_DTYPE, STATE_DTYPE, SYNAPSE_DTYPE, CoreImage, Image)
from spikefab.arch.target import Target


def random_network(rng: np.random.Generator, steps: int, *, max_delay: int = 5) -> dict:
    """Several populations, recurrence, mixed signs and exponents, delays on most projections."""
    inputs = {f"in{k}": int(rng.integers(2, 5)) for k in range(int(rng.integers(1, 3)))}
    pops = {}
    for k in range(int(rng.integers(2, 4))):
        n = int(rng.integers(2, 7))
        pops[f"p{k}"] = {"n": n, "du": int(rng.choice([0, 410, 2048, 4095])),
                         "dv": int(rng.choice([0, 163, 1024, 4095])),
                         "vth": int(rng.integers(5, 200)),
                         "bias_mant": rng.integers(-50, 120, n).tolist(),
                         "bias_exp": rng.integers(0, 4, n).tolist()}
    names = list(pops)
    projections, incoming = [], {p: 0 for p in names}

    def add(src: str, n_src: int, dst: str) -> None:
        if incoming[dst] >= 4:
            return
        incoming[dst] += 1
        n_dst = pops[dst]["n"]
        w = rng.integers(-128, 128, (n_dst, n_src)) * 2          # effective mixed-sign weights
        w[rng.random((n_dst, n_src)) < 0.3] = 0
        delays = (rng.integers(0, max_delay + 1, (n_dst, n_src)).tolist()
                  if rng.random() < 0.75 else None)
        projections.append({"src": src, "dst": dst, "weights": w.tolist(),
                            "weight_exp": int(rng.integers(-4, 2)), "delays": delays})

    for name, n in inputs.items():
        add(name, n, names[int(rng.integers(len(names)))])
    add(names[0], pops[names[0]]["n"], names[0])                  # recurrence
    for a, b in zip(names, names[1:]):                             # one connected graph: Lava
        add(a, pops[a]["n"], b)                                    # runs what p0 reaches
    for _ in range(int(rng.integers(2, 5))):
        a, b = (names[int(i)] for i in rng.integers(len(names), size=2))
        add(a, pops[a]["n"], b)
    spikes = {name: (rng.random((steps, n)) < 0.4).astype(int).tolist()
              for name, n in inputs.items()}
    return {"steps": steps, "inputs": spikes, "populations": pops, "projections": projections}


def network_image(net: dict, target: Target, rng: np.random.Generator) -> Image:
    """The network as an image for ``target``: populations over cores, projections as classes."""
    topo = target.topology
    free = [(c, x, y, s) for c in range(topo.chiplets) for x in range(topo.mesh_x)
            for y in range(topo.mesh_y) for s in range(topo.cores_per_router)]
    order = rng.permutation(len(free))
    cores: list[dict] = []                     # each: pop, offset (first population index), n
    placement: dict[str, list[int]] = {}
    for name, p in net["populations"].items():
        n = int(p["n"])
        k = int(rng.integers(0, 2)) if n > 1 else 0
        cuts = sorted({0, n, *(int(c) for c in rng.integers(1, max(n, 2), k))})
        for lo, hi in zip(cuts, cuts[1:]):
            placement.setdefault(name, []).append(len(cores))
            cores.append({"pop": name, "lo": lo, "hi": hi,
                          "address": free[int(order[len(cores)])]})
    in_base, base = {}, 0
    for name, spikes in net["inputs"].items():
        in_base[name] = base
        base += len(spikes[0])
    n_in = base
    # axons: one per (projection, source index, destination core)
    axons: dict[tuple[int, int, int], int] = {}
    syn: list[list[tuple]] = [[] for _ in cores]
    ax_rows: list[list[tuple[int, int]]] = [[] for _ in cores]
    exps: list[list[int]] = [[] for _ in cores]
    for k, pr in enumerate(net["projections"]):
        w = np.asarray(pr["weights"], np.int64)
        d = np.zeros_like(w) if pr["delays"] is None else np.asarray(pr["delays"], np.int64)
        for ci in placement[pr["dst"]]:
            c = cores[ci]
            cls = len(exps[ci])
            exps[ci].append(int(pr["weight_exp"]))
            for j in range(w.shape[1]):
                rows = [(i - c["lo"], int(w[i, j]), int(d[i, j]), cls)
                        for i in range(c["lo"], c["hi"]) if w[i, j]]
                axons[(k, j, ci)] = len(ax_rows[ci])
                ax_rows[ci].append((len(syn[ci]), len(rows)))
                syn[ci] += rows

    def dests(src: str, j: int) -> list[tuple]:
        out = []
        for k, pr in enumerate(net["projections"]):
            if pr["src"] != src:
                continue
            for ci in placement[pr["dst"]]:
                ch, x, y, s = cores[ci]["address"]
                out.append((0, s, ch, x, y, axons[(k, j, ci)]))
        return out

    def table(rows_per_src: list[list[tuple]]) -> tuple[np.ndarray, np.ndarray]:
        ptr = np.zeros(len(rows_per_src), ROUTE_PTR_DTYPE)
        rows: list[tuple] = []
        for i, r in enumerate(rows_per_src):
            ptr[i] = (len(rows), len(r))
            rows += r
        return ptr, np.array(rows, ROUTE_DTYPE) if rows else np.zeros(0, ROUTE_DTYPE)

    images = []
    for ci, c in enumerate(cores):
        p = net["populations"][c["pop"]]
        n = c["hi"] - c["lo"]
        neu = np.zeros(n, NEURON_DTYPE)
        neu["bias_mant"] = p["bias_mant"][c["lo"]:c["hi"]]
        neu["bias_exp"] = p["bias_exp"][c["lo"]:c["hi"]]
        ptr, routes = table([dests(c["pop"], j) for j in range(c["lo"], c["hi"])])
        ch, x, y, s = c["address"]
        images.append(CoreImage(
            chiplet=ch, x=x, y=y, slot=s, acc_exps=np.array(exps[ci] or [0], np.int8),
            profiles=np.array([(p["du"], p["dv"], p["vth"], 0, 0, 0, 0)], PROFILE_DTYPE),
            neurons=neu, state=np.zeros(n, STATE_DTYPE),
            axons=np.array(ax_rows[ci], AXON_DTYPE) if ax_rows[ci] else np.zeros(0, AXON_DTYPE),
            synapses=np.array(syn[ci], SYNAPSE_DTYPE) if syn[ci] else np.zeros(0, SYNAPSE_DTYPE),
            route_ptr=ptr, routes=routes))
    hptr, hroutes = table([dests(name, j) for name, sp in net["inputs"].items()
                           for j in range(len(sp[0]))])
    manifest = {
        "inputs": {name: {"size": len(sp[0]), "channel_base": in_base[name]}
                   for name, sp in net["inputs"].items()},
        "outputs": {},
        "populations": {name: {"size": int(p["n"]), "slices": [
            {"core": ci, "offset": 0, "count": cores[ci]["hi"] - cores[ci]["lo"],
             "start": cores[ci]["lo"]} for ci in placement[name]]}
            for name, p in net["populations"].items()}}
    assert n_in == len(hptr)
    return Image(target=target.name, cores=images, host_route_ptr=hptr, host_routes=hroutes,
                 manifest=manifest)
