"""Emit: write the partitioned, placed, routed network as a :class:`~spikefab.arch.image.Image`.

The tables are exactly what :mod:`spikefab.arch.reference` interprets: per core its profiles,
neurons (profile, bias), zero initial state, accumulator-class exponents, axon table (one run of
synapse entries per source), synapse memory, and per neuron a route pointer into its route entries;
the host route table holds one run per input channel.  Everything is built with whole-array NumPy
operations and then cut into cores, so the work per synapse is a handful of vector passes.
The manifest maps every input, output and population to channels, cores and neuron slots.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spikefab.arch.image import (AXON_DTYPE, NEURON_DTYPE, PROFILE_DTYPE, ROUTE_DTYPE,
                                   ROUTE_PTR_DTYPE, STATE_DTYPE, SYNAPSE_DTYPE, CoreImage, Image)
from spikefab.compiler.hwnet import HwNetwork
from spikefab.compiler.passes.kernels import fill_routes, fill_synapses, segment_classes
from spikefab.compiler.passes.emit_learning import learning_tables
from spikefab.compiler.passes.partition import Partition
from spikefab.compiler.passes.place import Placement, Sites
from spikefab.compiler.passes.route import Routing

__all__ = ["emit", "jsonable"]


def jsonable(value: Any) -> Any:
    """``value`` with NumPy scalars/arrays and tuples turned into plain JSON types."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    return value


def _routes(part: Partition, placement: Placement, sites: Sites):
    """Every route entry grouped by source key (pairs, then the host entry), as a ROUTE array.

    Returns ``(counts per source key, routes)``.
    """
    syn = part.syn
    out_g = np.flatnonzero(part.is_output)
    r = np.zeros(len(part.pair_src) + len(out_g), ROUTE_DTYPE)
    counts = fill_routes(part.pair_src, part.pair_core, syn.n_channels + out_g,
                         part.output_channel[out_g], np.asarray(placement.site, np.int64),
                         sites.chiplet, sites.x, sites.y, sites.slot, syn.n_sources,
                         r["host"], r["slot"], r["chiplet"], r["x"], r["y"], r["axon"])
    return counts, r


def emit(net: HwNetwork, part: Partition, placement: Placement, routing: Routing, *,
         options: dict[str, Any] | None = None) -> Image:
    """Build the image; pure function of its inputs (same inputs -> identical bytes)."""
    target, syn = part.target, part.syn
    sites = Sites.of(target)
    b = part.bounds
    nc = part.n_cores
    n = syn.n_neurons

    neuron_core, neurons, prof_table, pfirst = _neuron_tables(net, part)
    synapses, seg, acc_exps, cfirst = _synapse_tables(part)
    afirst = np.searchsorted(part.pair_core, np.arange(nc + 1))
    axons = np.zeros(len(part.pair_core), AXON_DTYPE)
    axons["count"] = part.pair_count
    astart = axons["start"]
    for k in range(nc):          # core by core: no int64 temporaries as long as every axon
        astart[afirst[k]:afirst[k + 1]] = part.pair_start[afirst[k]:afirst[k + 1]] - seg[k]

    counts, routes = _routes(part, placement, sites)
    starts = np.zeros(syn.n_sources + 1, np.int64)
    np.cumsum(counts, out=starts[1:])
    host_ptr = np.zeros(syn.n_channels, ROUTE_PTR_DTYPE)
    host_ptr["start"] = starts[:syn.n_channels]
    host_ptr["count"] = counts[:syn.n_channels]
    nstart = starts[syn.n_channels:]
    route_ptr = np.zeros(n, ROUTE_PTR_DTYPE)
    route_ptr["start"] = nstart[:-1] - nstart[b[neuron_core]] if n else 0
    route_ptr["count"] = counts[syn.n_channels:]
    state = np.zeros(n, STATE_DTYPE)
    learn, learn_manifest = learning_tables(net, part, int((options or {}).get("seed", 0)))

    cores = []
    site = placement.site
    for k in range(nc):
        s, e = int(b[k]), int(b[k + 1])
        cores.append(CoreImage(
            chiplet=int(sites.chiplet[site[k]]), x=int(sites.x[site[k]]),
            y=int(sites.y[site[k]]), slot=int(sites.slot[site[k]]),
            acc_exps=acc_exps[cfirst[k]:cfirst[k + 1]],
            profiles=prof_table[pfirst[k]:pfirst[k + 1]],
            neurons=neurons[s:e], state=state[s:e],
            axons=axons[afirst[k]:afirst[k + 1]],
            synapses=synapses[seg[k]:seg[k + 1]],
            route_ptr=route_ptr[s:e],
            routes=routes[nstart[s]:nstart[e]], **learn[k]))

    manifest = _manifest(net, part, placement, options, learn_manifest)
    return Image(target=target.name, cores=cores, host_route_ptr=host_ptr, host_routes=routes[:0]
                 if syn.n_channels == 0 else routes[:int(starts[syn.n_channels])],
                 manifest=manifest)


def _neuron_tables(net: HwNetwork, part: Partition):
    """Neurons (profile index per core, profiles in population order, bias), the profile table
    and where each core's profiles start; also each neuron's core."""
    syn, b, nc, n = part.syn, part.bounds, part.n_cores, part.syn.n_neurons
    bias_m = np.zeros(n, np.int64)
    bias_e = np.zeros(n, np.int64)
    for i, name in enumerate(syn.pop_names):
        bm, be = net.populations[name].bias()
        bias_m[syn.pop_offset[i]:syn.pop_offset[i + 1]] = bm
        bias_e[syn.pop_offset[i]:syn.pop_offset[i + 1]] = be
    neuron_core = np.repeat(np.arange(nc, dtype=np.int64), np.diff(b))
    nprof = len(syn.profiles) + 1
    pkey = neuron_core * nprof + syn.neuron_profile
    ukey = np.unique(pkey)                       # (core, profile) pairs, sorted
    pfirst = np.searchsorted(ukey // nprof, np.arange(nc + 1))
    neurons = np.zeros(n, NEURON_DTYPE)
    neurons["profile"] = np.searchsorted(ukey, pkey) - pfirst[neuron_core]
    neurons["bias_mant"] = bias_m
    neurons["bias_exp"] = bias_e
    prof_table = np.zeros(len(ukey), PROFILE_DTYPE)
    for j, k in enumerate(ukey.tolist()):
        du, dv, vth, reset, refr, tdec, tinc = syn.profiles[k % nprof]
        prof_table[j] = (du, dv, vth, reset, refr, tdec, tinc)
    return neuron_core, neurons, prof_table, pfirst


def _synapse_tables(part: Partition):
    """Synapses in (core, source) order with their accumulator class rank inside the core;
    each core's first synapse, its accumulator exponents and where they start."""
    syn, b, nc = part.syn, part.bounds, part.n_cores
    order = part.order
    seg = syn.indptr[b]
    present = segment_classes(syn.cls, seg, len(syn.class_exp))
    class_rank = np.cumsum(present, axis=1) - 1          # class id -> accumulator index
    cfirst = np.zeros(nc + 1, np.int64)
    np.cumsum(present.sum(axis=1), out=cfirst[1:])
    acc_exps = np.broadcast_to(syn.class_exp, present.shape)[present]
    synapses = np.zeros(len(order), SYNAPSE_DTYPE)
    fill_synapses(order, syn.post, syn.weight, syn.delay, syn.cls, seg, b, class_rank,
                  synapses["neuron"], synapses["weight"], synapses["delay"],
                  synapses["acc_class"])
    return synapses, seg, acc_exps, cfirst


def _manifest(net: HwNetwork, part: Partition, placement: Placement,
              options: dict[str, Any] | None, learning: dict[str, Any]) -> dict[str, Any]:
    """Names, sizes and channel bases of inputs, outputs and population slices; the options."""
    syn, b = part.syn, part.bounds
    manifest: dict[str, Any] = {
        "inputs": {name: {"size": int(net.inputs[name]), "channel_base": int(base)}
                   for name, base in syn.input_base.items()},
        "outputs": {name: {"size": int(net.populations[net.outputs[name]].size),
                           "channel_base": int(base), "population": net.outputs[name]}
                    for name, base in part.output_base.items()},
        "populations": {},
        "options": jsonable(options or {}),
        "placement": jsonable(placement.summary()),
    }
    for i, name in enumerate(syn.pop_names):
        a, z = int(syn.pop_offset[i]), int(syn.pop_offset[i + 1])
        slices = []
        for k in range(int(part.core_of(a)), int(part.core_of(z - 1)) + 1):
            lo, hi = max(a, int(b[k])), min(z, int(b[k + 1]))
            slices.append({"core": k, "offset": lo - int(b[k]), "count": hi - lo, "start": lo - a})
        manifest["populations"][name] = {"size": z - a, "slices": slices}
    _voltage_readouts(net, manifest["outputs"])
    if learning:
        manifest["learning"] = learning
    if "quantization" in net.meta:
        manifest["quantization"] = jsonable(net.meta["quantization"])
    for key in ("source", "dt"):
        if key in net.meta:
            manifest.setdefault("options", {}).setdefault(key, jsonable(net.meta[key]))
    return manifest


def _voltage_readouts(net: HwNetwork, outputs: dict[str, dict[str, Any]]) -> None:
    """Mark outputs that report a graded voltage (LI, CubaLI, I readouts) in the manifest.

    ``v_scale`` (integer v = ``v_scale`` x float v, one number or one per neuron) lets every
    backend turn the probed integer voltage back into the graph's units.
    """
    rows = {r["population"]: r for r in net.meta.get("quantization", {}).get("populations", [])}
    for name in net.meta.get("voltage_outputs", []):
        row = rows.get(net.outputs.get(name, ""))
        if name in outputs and row is not None:
            outputs[name]["readout"] = "voltage"
            outputs[name]["v_scale"] = jsonable(row["v_scale"])
