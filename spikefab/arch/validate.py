"""Structural checks of an :class:`~spikefab.arch.image.Image`.

Backends index memories with the values they read (synapse -> neuron, route -> core), so an image
whose pointers leave their tables must be refused up front with an
:class:`~spikefab.errors.ImageError` naming the core and table — never an ``IndexError`` deep
inside a kernel.  Capacity against a target is checked by :func:`check_fits`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from spikefab.arch.errors import ImageError

if TYPE_CHECKING:
    from spikefab.arch.image import Image
    from spikefab.arch.target import Target

__all__ = ["check_image", "check_fits"]


def _runs_ok(ptr: np.ndarray, length: int) -> bool:
    end = ptr["start"].astype(np.int64) + ptr["count"].astype(np.int64)
    return bool(np.all(end <= length))


def _address_keys(chiplet, x, y, slot) -> np.ndarray:
    """One int64 key per (chiplet, x, y, slot) address (16 bits per field)."""
    return (((np.asarray(chiplet, np.int64) << 16 | np.asarray(x, np.int64)) << 16
             | np.asarray(y, np.int64)) << 16) | np.asarray(slot, np.int64)


def _check_routes(routes: np.ndarray, keys: np.ndarray, n_axons: np.ndarray, what: str,
                  where: str, n_out_channels: int) -> None:
    """Every route goes to an existing core's existing axon, or to an existing output channel.

    ``keys`` (sorted) are the cores' address keys and ``n_axons`` their axon counts, same order.
    """
    host = routes["host"] != 0
    bad_out = host & (routes["axon"] >= n_out_channels)
    if bad_out.any():
        ch = int(routes["axon"][bad_out][0])
        raise ImageError(f"{where}: {what} routes to output channel {ch}, image has "
                         f"{n_out_channels}", where=what)
    r = routes[~host]
    if not len(r):
        return
    k = _address_keys(r["chiplet"], r["x"], r["y"], r["slot"])
    pos = np.searchsorted(keys, k)
    pos = np.minimum(pos, len(keys) - 1) if len(keys) else pos
    found = (keys[pos] == k) if len(keys) else np.zeros(len(k), bool)
    if not found.all():
        j = int(np.flatnonzero(~found)[0])
        addr = (int(r["chiplet"][j]), int(r["x"][j]), int(r["y"][j]), int(r["slot"][j]))
        raise ImageError(f"{where}: {what} routes to core {addr}, which is not in the image",
                         where=what)
    limit = n_axons[pos]
    bad = r["axon"] >= limit
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise ImageError(f"{where}: {what} routes to axon {int(r['axon'][j])} of a core with "
                         f"{int(limit[j])} axons", where=what)


#: Largest value a manifest count or index may hold (channels, sizes, offsets are u32 in tables).
_MANIFEST_MAX = (1 << 32) - 1
#: Largest value of each core address field (ROUTE_DTYPE widths: chiplet, x, y u16; slot u8).
_ADDRESS_MAX = (0xFFFF, 0xFFFF, 0xFFFF, 0xFF)


def _manifest_int(spec: Any, key: str, what: str, where: str) -> int:
    """``spec[key]`` as a non-negative int that fits 32 bits, else ImageError naming ``what``."""
    value = spec.get(key) if isinstance(spec, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MANIFEST_MAX:
        raise ImageError(f"{where}: manifest {what} needs '{key}' to be an integer in "
                         f"[0, {_MANIFEST_MAX}], not {value!r}", where="manifest")
    return value


def _channels(m: dict, key: str, where: str) -> int:
    """Check ``inputs`` / ``outputs``; return the number of channels they span."""
    n = 0
    for name, spec in m.get(key, {}).items():
        what = f"{key[:-1]} {name!r}"
        n = max(n, _manifest_int(spec, "channel_base", what, where)
                + _manifest_int(spec, "size", what, where))
    return n


def _check_populations(image: "Image", where: str) -> None:
    """Every population slice lies inside its core and inside the population."""
    for name, pop in image.manifest.get("populations", {}).items():
        what = f"population {name!r}"
        size = _manifest_int(pop, "size", what, where)
        slices = pop.get("slices")
        if not isinstance(slices, list):
            raise ImageError(f"{where}: manifest {what} needs a 'slices' list, not {slices!r}",
                             where="manifest")
        for s in slices:
            core, offset, count, start = (_manifest_int(s, k, f"{what} slice", where)
                                          for k in ("core", "offset", "count", "start"))
            if (core >= len(image.cores) or offset + count > image.cores[core].n_neurons
                    or start + count > size):
                raise ImageError(f"{where}: {what} has a slice outside its core or population "
                                 f"(core {core} of {len(image.cores)}, neurons {offset}..."
                                 f"{offset + count}, population indices {start}...{start + count}"
                                 f" of {size})", where="manifest")


def check_image(image: "Image", *, where: str = "<image>") -> None:
    """Raise :class:`ImageError` if any pointer or index of the image leaves its table."""
    m = image.manifest
    for key in ("inputs", "outputs", "populations"):
        if not isinstance(m.get(key, {}), dict):
            raise ImageError(f"{where}: manifest {key!r} must be an object", where="manifest")
    addresses: dict[tuple[int, int, int, int], int] = {}
    for i, c in enumerate(image.cores):
        if not all(0 <= int(v) <= hi for v, hi in zip(c.address, _ADDRESS_MAX)):
            raise ImageError(f"{where}: core {i} address {c.address} must be (chiplet, x, y, slot)"
                             f" within {_ADDRESS_MAX}", where=f"core/{i}")
        if c.address in addresses:
            raise ImageError(f"{where}: cores {addresses[c.address]} and {i} share address "
                             f"{c.address}", where=f"core/{i}")
        addresses[c.address] = i
    keys = _address_keys(*np.array([c.address for c in image.cores], np.int64).reshape(-1, 4).T)
    n_axons = np.array([len(c.axons) for c in image.cores], np.int64)
    order = np.argsort(keys, kind="stable")       # sorted once: lookups are binary searches
    keys, n_axons = keys[order], n_axons[order]
    n_out = _channels(m, "outputs", where)
    n_in = _channels(m, "inputs", where)
    if len(image.host_route_ptr) < n_in:
        raise ImageError(f"{where}: host route table has {len(image.host_route_ptr)} channels, "
                         f"inputs need {n_in}", where="host/route_ptr")
    if not _runs_ok(image.host_route_ptr, len(image.host_routes)):
        raise ImageError(f"{where}: host route pointers leave the host route table",
                         where="host/route_ptr")
    _check_routes(image.host_routes, keys, n_axons, "host/routes", where, n_out)
    for i, c in enumerate(image.cores):
        sec = f"core/{i}"
        n = c.n_neurons
        if len(c.state) != n or len(c.route_ptr) != n:
            raise ImageError(f"{where}: {sec}: neurons ({n}), state ({len(c.state)}) and "
                             f"route_ptr ({len(c.route_ptr)}) must have equal lengths", where=sec)
        if n and int(c.neurons["profile"].max()) >= len(c.profiles):
            raise ImageError(f"{where}: {sec}/neurons uses profile "
                             f"{int(c.neurons['profile'].max())}, core has {len(c.profiles)}",
                             where=f"{sec}/neurons")
        if len(c.synapses):
            if int(c.synapses["neuron"].max()) >= n:
                raise ImageError(f"{where}: {sec}/synapses targets neuron "
                                 f"{int(c.synapses['neuron'].max())}, core has {n}",
                                 where=f"{sec}/synapses")
            if int(c.synapses["acc_class"].max()) >= len(c.acc_exps):
                raise ImageError(f"{where}: {sec}/synapses uses accumulator class "
                                 f"{int(c.synapses['acc_class'].max())}, core has "
                                 f"{len(c.acc_exps)}", where=f"{sec}/synapses")
        if not _runs_ok(c.axons, len(c.synapses)):
            raise ImageError(f"{where}: {sec}/axons points past the synapse table",
                             where=f"{sec}/axons")
        if not _runs_ok(c.route_ptr, len(c.routes)):
            raise ImageError(f"{where}: {sec}/route_ptr points past the route table",
                             where=f"{sec}/route_ptr")
        _check_routes(c.routes, keys, n_axons, f"{sec}/routes", where, n_out)
    _check_populations(image, where)


def check_fits(image: "Image", target: "Target") -> None:
    """Raise :class:`ImageError` if the image was made for another target or exceeds its memories."""
    if image.target != target.name:
        raise ImageError(f"image is for target {image.target!r}, not {target.name!r}",
                         where="manifest")
    topo, lim = target.topology, target.core
    limits = {"neurons": lim.neurons, "synapses": lim.synapses, "axons": lim.input_axons,
              "routes": lim.route_entries, "profiles": lim.profiles, "acc_exps": lim.acc_classes}
    for i, c in enumerate(image.cores):
        if not (c.chiplet < topo.chiplets and c.x < topo.mesh_x and c.y < topo.mesh_y
                and c.slot < topo.cores_per_router):
            raise ImageError(f"core/{i} at {c.address} is outside target {target.name}'s "
                             f"{topo.chiplets} chiplets of {topo.mesh_x}x{topo.mesh_y}x"
                             f"{topo.cores_per_router}", where=f"core/{i}")
        for table, limit in limits.items():
            have = len(getattr(c, table))
            if have > limit:
                raise ImageError(f"core/{i}/{table} has {have} entries, target {target.name} "
                                 f"allows {limit}", where=f"core/{i}/{table}")
        _check_extensions(c, target, i)
        if len(c.synapses) and int(c.synapses["delay"].max()) > lim.max_delay:
            raise ImageError(f"core/{i}/synapses uses delay {int(c.synapses['delay'].max())}, "
                             f"target {target.name} allows {lim.max_delay}",
                             where=f"core/{i}/synapses")


def _check_extensions(core, target: "Target", i: int) -> None:
    """Refractory periods and adaptive thresholds only where the target's cores have them."""
    lim = target.core
    for what, values, limit in (("profiles refractory", core.profiles["refractory"],
                                 lim.max_refractory),
                                ("state ref", core.state["ref"], lim.max_refractory)):
        if len(values) and int(values.max()) > limit:
            raise ImageError(f"core/{i}/{what} must be at most {limit} on target {target.name} "
                             f"(max_refractory), not {int(values.max())}",
                             where=f"core/{i}/{what.split()[0]}")
    if not lim.adaptive_threshold:
        for what, values in (("profiles theta_inc", core.profiles["theta_inc"]),
                             ("state theta", core.state["theta"])):
            if len(values) and np.any(values != 0):
                raise ImageError(f"core/{i}/{what} must be 0 on target {target.name}, which has "
                                 f"no adaptive threshold, not {int(values[values != 0][0])}",
                                 where=f"core/{i}/{what.split()[0]}")
