"""Helpers for the ``spikefab.arch`` tests: hand-built images (tests only).

The real compiler lives in ``spikefab.compiler``; these helpers build the smallest images that
exercise the golden model directly, so the arch tests do not depend on another wing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from spikefab.arch.image import (AXON_DTYPE, NEURON_DTYPE, PROFILE_DTYPE, ROUTE_DTYPE,
                                   ROUTE_PTR_DTYPE, STATE_DTYPE, SYNAPSE_DTYPE, CoreImage, Image)
from spikefab.arch.fields import fold_into_range
from spikefab.arch.neuron import effective_weights

SHARED = Path(__file__).resolve().parents[2].parent / "shared"


def dense_image(weights: np.ndarray | Sequence[Sequence[int]], *, du: int = 0, dv: int = 0,
                vth: int = 100, bias_mant: int | Sequence[int] = 0,
                bias_exp: int | Sequence[int] = 0, weight_exp: int = 0,
                num_weight_bits: int = 8, delays: np.ndarray | None = None,
                target: str = "loihi1", reset_mode: int = 0, refractory: int = 0,
                theta_inc: int = 0, theta_decay: int = 0,
                shuffle_seed: int | None = None, acc_class: np.ndarray | None = None,
                acc_exps: Sequence[int] | None = None, lava_weights: bool = True) -> Image:
    """One core holding a Lava ``Dense -> LIF`` pair, fed by the host, reporting to the host.

    Parameters
    ----------
    weights:
        ``(n_out, n_in)`` matrix as Lava's ``Dense(weights=...)``; Lava's clip and truncation are
        applied here (``effective_weights``) unless ``lava_weights=False`` (weights already
        effective, e.g. several projections with their own sign modes); zeros make no synapse.
    delays:
        optional ``(n_out, n_in)`` per-synapse delays.
    acc_class, acc_exps:
        optional ``(n_out, n_in)`` accumulator class of every synapse and the weight exponent of
        each class (several Dense projections into one population); default one class with
        ``weight_exp``.
    shuffle_seed:
        if given, each axon's synapse run is stored in a random order drawn from this seed
        (order-independence tests).

    The image has input ``"in"`` (``n_in`` host channels, channel ``i`` -> axon ``i``), output
    ``"out"`` (neuron ``j`` -> output channel ``j``) and population ``"lif"``.
    """
    w = np.asarray(weights, dtype=np.int64)
    if lava_weights:
        w = effective_weights(w, num_weight_bits)
    n_out, n_in = w.shape
    d = np.zeros_like(w) if delays is None else np.asarray(delays, np.int64)
    cls = np.zeros_like(w) if acc_class is None else np.asarray(acc_class, np.int64)
    exps = [weight_exp] if acc_exps is None else list(acc_exps)
    profiles = np.array([(du, dv, vth, reset_mode, refractory, theta_decay, theta_inc)],
                        dtype=PROFILE_DTYPE)
    neurons = np.zeros(n_out, NEURON_DTYPE)
    neurons["bias_mant"] = bias_mant
    neurons["bias_exp"] = bias_exp
    axons = np.zeros(n_in, AXON_DTYPE)
    syn_rows = []
    rng = None if shuffle_seed is None else np.random.default_rng(shuffle_seed)
    for i in range(n_in):
        targets = np.flatnonzero(w[:, i])
        if rng is not None:
            targets = rng.permutation(targets)
        axons[i] = (len(syn_rows), len(targets))
        syn_rows += [(j, w[j, i], d[j, i], cls[j, i]) for j in targets]
    synapses = np.array(syn_rows, dtype=SYNAPSE_DTYPE)
    route_ptr = np.array([(j, 1) for j in range(n_out)], ROUTE_PTR_DTYPE)
    routes = np.array([(1, 0, 0, 0, 0, j) for j in range(n_out)], ROUTE_DTYPE)
    core = CoreImage(chiplet=0, x=0, y=0, slot=0, acc_exps=np.array(exps),
                     profiles=profiles, neurons=neurons, state=np.zeros(n_out, STATE_DTYPE),
                     axons=axons, synapses=synapses, route_ptr=route_ptr, routes=routes)
    host_ptr = np.array([(i, 1) for i in range(n_in)], ROUTE_PTR_DTYPE)
    host_routes = np.array([(0, 0, 0, 0, 0, i) for i in range(n_in)], ROUTE_DTYPE)
    manifest = {
        "inputs": {"in": {"size": n_in, "channel_base": 0}},
        "outputs": {"out": {"size": n_out, "channel_base": 0}},
        "populations": {"lif": {"size": n_out, "slices": [
            {"core": 0, "offset": 0, "count": n_out, "start": 0}]}},
        "options": {"built_by": "tests/arch/helpers.py"},
    }
    return Image(target=target, cores=[core], host_route_ptr=host_ptr, host_routes=host_routes,
                 manifest=manifest)


def random_image(rng: np.random.Generator, *, max_cores: int = 3, target: str = "loihi1") -> Image:
    """A small random image whose every pointer is in range (passes ``check_image``).

    Table contents are random within their dtypes; routes go to existing cores' axons or to the
    host's output channels.  Used for round-trip and corruption tests.
    """
    n_cores = int(rng.integers(1, max_cores + 1))
    addresses = set()
    while len(addresses) < n_cores:
        addresses.add(tuple(int(v) for v in rng.integers(0, 4, 4)))
    addresses = sorted(addresses)
    n_axons = [int(rng.integers(1, 6)) for _ in range(n_cores)]
    n_out = int(rng.integers(1, 4))
    n_in = int(rng.integers(1, 4))

    tables = {PROFILE_DTYPE: "profiles", NEURON_DTYPE: "neurons", STATE_DTYPE: "state",
              SYNAPSE_DTYPE: "synapses"}

    def random_table(dtype: np.dtype, n: int) -> np.ndarray:
        raw = rng.integers(0, 256, n * dtype.itemsize, dtype=np.uint8).tobytes()
        return fold_into_range(tables[dtype], np.frombuffer(raw, dtype=dtype))

    def routes(n_ptr: int) -> tuple[np.ndarray, np.ndarray]:
        counts = rng.integers(0, 3, n_ptr)
        ptr = np.zeros(n_ptr, ROUTE_PTR_DTYPE)
        ptr["start"] = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.uint32)
        ptr["count"] = counts
        r = np.zeros(int(counts.sum()), ROUTE_DTYPE)
        for k in range(len(r)):
            if rng.random() < 0.3:
                r[k] = (1, 0, 0, 0, 0, int(rng.integers(0, n_out)))
            else:
                ci = int(rng.integers(0, n_cores))
                ch, x, y, slot = addresses[ci]
                r[k] = (0, slot, ch, x, y, int(rng.integers(0, n_axons[ci])))
        return ptr, r

    cores = []
    for ci, (ch, x, y, slot) in enumerate(addresses):
        n = int(rng.integers(1, 7))
        n_prof = int(rng.integers(1, 4))
        n_cls = int(rng.integers(1, 4))
        neurons = random_table(NEURON_DTYPE, n)
        neurons["profile"] = rng.integers(0, n_prof, n)
        axons = np.zeros(n_axons[ci], AXON_DTYPE)
        counts = rng.integers(0, 4, n_axons[ci])
        axons["start"] = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.uint32)
        axons["count"] = counts
        synapses = random_table(SYNAPSE_DTYPE, int(counts.sum()))
        synapses["neuron"] = rng.integers(0, n, len(synapses))
        synapses["acc_class"] = rng.integers(0, n_cls, len(synapses))
        synapses["delay"] = rng.integers(0, 8, len(synapses))
        ptr, r = routes(n)
        cores.append(CoreImage(chiplet=ch, x=x, y=y, slot=slot,
                               acc_exps=rng.integers(-8, 8, n_cls), profiles=random_table(
                                   PROFILE_DTYPE, n_prof), neurons=neurons,
                               state=random_table(STATE_DTYPE, n), axons=axons,
                               synapses=synapses, route_ptr=ptr, routes=r))
    host_ptr, host_routes = routes(n_in)
    pops = {f"p{ci}": {"size": c.n_neurons, "slices": [
        {"core": ci, "offset": 0, "count": c.n_neurons, "start": 0}]}
        for ci, c in enumerate(cores)}
    manifest = {"inputs": {"in": {"size": n_in, "channel_base": 0}},
                "outputs": {"out": {"size": n_out, "channel_base": 0}},
                "populations": pops, "options": {"seed": int(rng.integers(0, 1000))}}
    return Image(target=target, cores=cores, host_route_ptr=host_ptr, host_routes=host_routes,
                 manifest=manifest)


def images_equal(a: Image, b: Image) -> bool:
    """Exact equality of two images: target, manifest and every table's bytes."""
    if a.target != b.target or a.manifest != b.manifest or len(a.cores) != len(b.cores):
        return False
    if a.host_route_ptr.tobytes() != b.host_route_ptr.tobytes():
        return False
    if a.host_routes.tobytes() != b.host_routes.tobytes():
        return False
    for ca, cb in zip(a.cores, b.cores):
        if ca.address != cb.address:
            return False
        for name, arr in ca.tables().items():
            other = cb.tables()[name]
            if arr.dtype != other.dtype or arr.tobytes() != other.tobytes():
                return False
    return True
