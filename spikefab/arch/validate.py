"""Structural checks of an :class:`~spikefab.arch.image.Image`.

Backends index memories with the values they read (synapse -> neuron, route -> core), so an image
whose pointers leave their tables must be refused up front with an
:class:`~spikefab.errors.ImageError` naming the core and table — never an ``IndexError`` deep
inside a kernel.  Capacity against a target is checked by :func:`check_fits`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from spikefab.arch.errors import ImageError, ResourceError
from spikefab.arch.fields import FIELDS
from spikefab.arch.host import output_width
from spikefab.arch.learning.tables import (check_learning_fits, check_learning_manifest,
                                           check_learning_tables)

if TYPE_CHECKING:
    from spikefab.arch.image import Image
    from spikefab.arch.target import Target

__all__ = ["check_image", "check_fits", "check_semantics", "check_manifest_sizes", "run_bytes",
           "check_run_memory", "learning_run_bytes", "run_budget"]


def _runs_ok(ptr: np.ndarray, length: int) -> bool:
    end = ptr["start"].astype(np.int64) + ptr["count"].astype(np.int64)
    return bool(np.all(end <= length))


def _address_keys(chiplet, x, y, slot) -> np.ndarray:
    """One int64 key per (chiplet, x, y, slot) address (16 bits per field)."""
    return (((np.asarray(chiplet, np.int64) << 16 | np.asarray(x, np.int64)) << 16
             | np.asarray(y, np.int64)) << 16) | np.asarray(slot, np.int64)


class _CoreIndex:
    """Core address -> core index, for every route entry of an image.

    A dense table over the box the cores' addresses span (a wafer: 64 chiplets x 24 x 24
    routers, a few 10**4 entries) when it is small, else a binary search over sorted address keys;
    the table makes the route checks of a 10**8-entry image take seconds, not minutes.  With
    duplicate addresses the lowest core index answers (as the stable sort did).
    """

    _DENSE_MAX = 1 << 22

    def __init__(self, cores: list) -> None:
        addr = np.array([c.address for c in cores], np.int64).reshape(-1, 4)
        self.n = len(addr)
        self.dims = (addr.max(axis=0) + 1) if self.n else np.ones(4, np.int64)
        self.table = None
        if int(np.prod(self.dims)) <= self._DENSE_MAX:
            self.table = np.full(int(np.prod(self.dims)), self.n, np.int64)
            np.minimum.at(self.table, self._flat(*addr.T), np.arange(self.n))
        else:
            keys = _address_keys(*addr.T)
            self.order = np.argsort(keys, kind="stable")
            self.keys = keys[self.order]

    def _flat(self, chiplet, x, y, slot) -> np.ndarray:
        d = self.dims
        return ((np.asarray(chiplet, np.int64) * d[1] + np.asarray(x, np.int64)) * d[2]
                + np.asarray(y, np.int64)) * d[3] + np.asarray(slot, np.int64)

    def find(self, routes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(core index, found)`` of every entry's (chiplet, x, y, slot); index 0 if absent."""
        fields = [routes[k] for k in ("chiplet", "x", "y", "slot")]
        if not self.n:
            return np.zeros(len(routes), np.int64), np.zeros(len(routes), bool)
        if self.table is not None:
            inside = np.ones(len(routes), bool)
            for f, d in zip(fields, self.dims):
                inside &= f < d
            ci = self.table[np.where(inside, self._flat(*fields), 0)]
            found = inside & (ci < self.n)
            return np.where(found, ci, 0), found
        k = _address_keys(*fields)
        pos = np.minimum(np.searchsorted(self.keys, k), self.n - 1)
        found = self.keys[pos] == k
        return np.where(found, self.order[pos], 0), found


def _check_routes(routes: np.ndarray, index: _CoreIndex, n_axons: np.ndarray, what: str,
                  where: str, n_out_channels: int) -> None:
    """Every route goes to an existing core's existing axon, or to an existing output channel.

    ``index`` finds the cores by address and ``n_axons`` are their axon counts (core order).
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
    pos, found = index.find(r)
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
        check_learning_tables(c, i, where)            # on-chip learning tables (plastic cores)
    index = _CoreIndex(image.cores)               # built once: every route looks its core up
    n_axons = np.array([len(c.axons) for c in image.cores], np.int64)
    n_out = _channels(m, "outputs", where)
    n_in = _channels(m, "inputs", where)
    if len(image.host_route_ptr) < n_in:
        raise ImageError(f"{where}: host route table has {len(image.host_route_ptr)} channels, "
                         f"inputs need {n_in}", where="host/route_ptr")
    if not _runs_ok(image.host_route_ptr, len(image.host_routes)):
        raise ImageError(f"{where}: host route pointers leave the host route table",
                         where="host/route_ptr")
    _check_routes(image.host_routes, index, n_axons, "host/routes", where, n_out)
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
        _check_routes(c.routes, index, n_axons, f"{sec}/routes", where, n_out)
    _check_populations(image, where)
    check_learning_manifest(image, where)          # manifest "learning" (plastic read-back)
    check_semantics(image, where=where)


def check_fits(image: "Image", target: "Target", *, fanout_budget: bool = True) -> None:
    """Raise :class:`ImageError` if the image was made for another target or exceeds its memories.

    ``fanout_budget=False`` leaves out the whole-image bound on a step's synaptic operations: an
    MPI rank checks its part of an image with this, and the bound over all parts together
    (:mod:`spikefab.emulator.distributed.checks`).
    """
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
        check_learning_fits(c, target, i)             # learning memories vs the target
        if len(c.synapses) and int(c.synapses["delay"].max()) > lim.max_delay:
            raise ImageError(f"core/{i}/synapses uses delay {int(c.synapses['delay'].max())}, "
                             f"target {target.name} allows {lim.max_delay}",
                             where=f"core/{i}/synapses")
    check_image(image)      # pointers and semantics (also for images that never were a file)
    if not fanout_budget:
        return
    budget = len(image.cores) * lim.synapses
    work = fanout(image)
    if work > budget:
        raise ImageError(f"one step in which every source spikes would perform {work} synaptic "
                         f"operations; target {target.name} bounds a step to {budget} (each of "
                         f"the image's {len(image.cores)} cores reading its {lim.synapses} "
                         f"synapse words once): route entries reuse axon runs too often",
                         where="routes")


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


# ---------------------------------------------------------------------------- semantic checks
def _check_fields(image: "Image", where: str) -> None:
    """Every value fits the register that holds it (:data:`spikefab.arch.fields.FIELDS`).

    Each table is checked over all cores in a few large chunks (joined per chunk), so
    wafer-sized images stay cheap in time and hold at most one chunk's copy at a time.
    """
    tables: dict[str, list] = {}
    for f in FIELDS:
        tables.setdefault(f.table, []).append(f)
    for table, fields in tables.items():
        kind = "host" if table == "host_routes" else "core"
        arrays = [image.host_routes] if kind == "host" else \
            [getattr(c, table) for c in image.cores]
        for lo, hi in _chunks([len(a) for a in arrays]):
            if sum(len(a) for a in arrays[lo:hi]):   # bytes, not np.concatenate: structured
                allv = np.frombuffer(b"".join(a.tobytes() for a in arrays[lo:hi]),  # dtypes are
                                     arrays[lo].dtype)                                # slow
                for f in fields:
                    _check_field(f, allv, arrays, lo, hi, kind, where)


#: Entries joined at once by :func:`_check_fields` (bounds its copy of a wafer's tables).
_FIELD_CHUNK = 1 << 20


def _check_field(f, allv: np.ndarray, arrays: list, lo: int, hi: int, kind: str,
                 where: str) -> None:
    """Raise for the first value of field ``f`` in ``allv`` (= ``arrays[lo:hi]`` joined)
    outside its register's range."""
    values = allv if allv.dtype.names is None else allv[f.name]
    bad = (values < f.lo) | (values > f.hi)
    if not bad.any():
        return
    j = int(np.flatnonzero(bad)[0])
    owner = lo + int(np.repeat(np.arange(hi - lo), [len(a) for a in arrays[lo:hi]])[j])
    sec = "host" if kind == "host" else f"core/{owner}"
    table = "routes" if f.table == "host_routes" else f.table
    signed = "signed" if f.signed else "unsigned"
    raise ImageError(f"{where}: {sec}/{table} {f.name} must be in [{f.lo}, {f.hi}] "
                     f"({f.bits}-bit {signed} register: {f.why}), not {int(values[j])}",
                     where=f"{sec}/{table}")


def _runs_disjoint(ptr: np.ndarray) -> int:
    """Index of a run that overlaps another non-empty run of ``ptr``, or -1."""
    nz = np.flatnonzero(ptr["count"] != 0)
    if len(nz) < 2:
        return -1
    start = ptr["start"][nz].astype(np.int64)
    order = np.argsort(start, kind="stable")
    end = start[order] + ptr["count"][nz][order].astype(np.int64)
    bad = np.flatnonzero(start[order][1:] < end[:-1])
    return int(nz[order][bad[0] + 1]) if len(bad) else -1


def _overlap(where: str, sec: str, ptr: np.ndarray, j: int) -> None:
    raise ImageError(f"{where}: {sec} entry {j} overlaps the run of another entry "
                     f"(start {int(ptr['start'][j])}, count {int(ptr['count'][j])}); "
                     f"runs must be disjoint", where=sec)


def check_manifest_sizes(m: dict, entries: int, where: str) -> None:
    """Manifest channel ranges, output span and population sizes backed by the tables.

    ``entries`` is the number of table entries of the whole image; shared by the whole-image
    check and the MPI ranks' section-index check (which count entries without loading tables).
    """
    _ranges(m, "inputs", where)
    _ranges(m, "outputs", where)
    out_size = sum(int(s["size"]) for s in m.get("outputs", {}).values())
    if out_size > entries:
        raise ImageError(f"{where}: manifest outputs span {out_size} channels, more than the "
                         f"{entries} entries of all the image's tables could feed",
                         where="manifest")
    for name, pop in m.get("populations", {}).items():
        covered = sum(int(s["count"]) for s in pop["slices"])
        if covered != int(pop["size"]):
            raise ImageError(f"{where}: manifest population {name!r} has size {int(pop['size'])}"
                             f", its slices hold {covered} neurons", where="manifest")


def _ranges(m: dict, key: str, where: str) -> None:
    """Channels of different inputs (outputs) must not overlap: one would overwrite the other."""
    spans = sorted((int(s["channel_base"]), int(s["channel_base"]) + int(s["size"]), name)
                   for name, s in m.get(key, {}).items() if int(s["size"]))
    for (b0, e0, n0), (b1, _e1, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            raise ImageError(f"{where}: manifest {key[:-1]}s {n0!r} (channels {b0}..{e0 - 1}) and "
                             f"{n1!r} (from channel {b1}) overlap; each needs its own channels",
                             where="manifest")


def check_semantics(image: "Image", *, where: str = "<image>") -> None:
    """Refuse an image whose contents no hardware could hold, even though every pointer is valid.

    * every value within its register's range (the field table);
    * every manifest size backed by a table: a population needs a neuron per index, the outputs
      no more channels than the image has table entries — so no manifest number can make a
      backend allocate memory the image's own tables do not account for;
    * inputs (outputs) on disjoint channels;
    * the non-empty runs of the axon table and of every route table are disjoint (a synapse or
      route entry belongs to one axon or source, as in the hardware's memories), so one spike
      expands into at most ``routes x largest axon run`` synaptic operations; that expansion is
      counted in the memory a run needs (:func:`fanout`, :func:`check_run_memory`).

    Run by :func:`check_image` (on load, on save and by every backend through
    :func:`check_fits`).
    """
    _check_fields(image, where)
    m = image.manifest
    entries = len(image.host_route_ptr) + len(image.host_routes) + sum(
        c.n_neurons + len(c.routes) + len(c.axons) + len(c.synapses) for c in image.cores)
    check_manifest_sizes(m, entries, where)
    j = _runs_disjoint(image.host_route_ptr)
    if j >= 0:
        _overlap(where, "host/route_ptr", image.host_route_ptr, j)
    for table, target in (("axons", "synapses"), ("route_ptr", "routes")):
        _check_core_runs(image, table, target, where)


def _check_core_runs(image: "Image", table: str, target: str, where: str) -> None:
    """The non-empty runs of every core's ``table`` (into its ``target`` table) are disjoint.

    One sort over a chunk of cores, each core's runs shifted past the previous cores' tables.
    When every run stays inside its own core's table, runs of different cores cannot overlap
    and sort core after core, so chunks of cores find the same first overlap as one sort over
    the whole image while holding only a chunk's copy (a wafer has ~10**8 axons); otherwise
    one sort over all cores.
    """
    ptrs = [getattr(c, table) for c in image.cores]
    sizes = [len(p) for p in ptrs]
    if not sum(sizes):
        return
    lens = [len(getattr(c, target)) for c in image.cores]
    inside = all(_runs_ok(p, n) for p, n in zip(ptrs, lens))
    for lo, hi in (_chunks(sizes) if inside else [(0, len(ptrs))]):
        n = sum(sizes[lo:hi])
        if not n:
            continue
        base = np.cumsum([0] + lens[lo:hi - 1])
        allp = np.frombuffer(b"".join(p.tobytes() for p in ptrs[lo:hi]), ptrs[lo].dtype)
        shifted = np.zeros(n, [("start", "<i8"), ("count", "<i8")])
        shifted["start"] = allp["start"] + np.repeat(base, sizes[lo:hi])
        shifted["count"] = allp["count"]
        j = _runs_disjoint(shifted)
        if j >= 0:
            ci = lo + int(np.searchsorted(np.cumsum(sizes[lo:hi]), j, side="right"))
            k = j - int(sum(sizes[lo:ci]))
            _overlap(where, f"core/{ci}/{table}", ptrs[ci], k)


def _chunks(sizes: list[int], limit: int | None = None):
    """``(lo, hi)`` ranges of consecutive tables with at most ``limit`` entries together (a
    larger table alone), covering every table in order."""
    limit = _FIELD_CHUNK if limit is None else limit
    lo = 0
    while lo < len(sizes):
        hi, n = lo + 1, sizes[lo]
        while hi < len(sizes) and n + sizes[hi] <= limit:
            n += sizes[hi]
            hi += 1
        yield lo, hi
        lo = hi


#: Bytes of host memory a run may use unless SPIKEFAB_MAX_RUN_BYTES says otherwise.
DEFAULT_RUN_BYTES = 8 << 30


def fanout(image: "Image") -> int:
    """Synaptic operations of a step in which every neuron and input channel spikes.

    The emulator flattens each source's routes into one run of synapse updates, so this is also
    the length of its flattened fan-out table.
    """
    if not image.cores:
        return 0
    index = _CoreIndex(image.cores)
    base = np.cumsum([0] + [len(c.axons) for c in image.cores])
    # every axon's run length in the narrowest type that holds them (a wafer has ~10**8 axons)
    widest = max([int(c.axons["count"].max()) for c in image.cores if len(c.axons)] or [0])
    dtype = np.uint16 if widest < 1 << 16 else np.uint32
    counts = np.concatenate([c.axons["count"].astype(dtype) for c in image.cores] +
                            [np.zeros(1, dtype)])
    total = 0
    for routes in [image.host_routes] + [c.routes for c in image.cores]:
        r = routes[routes["host"] == 0]
        if not len(r):
            continue
        ci, _ = index.find(r)                           # check_image: every route's core exists
        total += int(counts[base[ci] + r["axon"].astype(np.int64)].sum(dtype=np.int64))
    return total


def run_bytes(image: "Image", steps: int, n_probed: int = 0, weight_every: int = 0) -> int:
    """Host memory a run of ``steps`` steps needs, computed before anything is allocated.

    Input and output spike arrays (one byte per channel and step), probe traces (eight bytes per
    probed neuron and step), the dendritic ring (eight bytes per slot, class and neuron, twice
    for the staging buffer of delayed inputs), the flattened tables (<= 64 bytes per entry) and
    the flattened fan-out (16 bytes per synaptic operation of :func:`fanout`), and a plastic
    image's random values and weight snapshots (:func:`learning_run_bytes`).
    """
    n_in = len(image.host_route_ptr)
    n_out = output_width(image)
    neurons = sum(c.n_neurons for c in image.cores)
    classes = max([len(c.acc_exps) for c in image.cores] + [1])
    slots = 2 + max((int(c.synapses["delay"].max()) for c in image.cores if len(c.synapses)),
                    default=0)
    entries = sum(len(c.synapses) + len(c.routes) + len(c.axons) + c.n_neurons
                  for c in image.cores) + len(image.host_routes) + n_in
    return (int(steps) * (n_in + n_out + 8 * int(n_probed)) + 16 * slots * classes * neurons
            + 64 * entries + 16 * fanout(image) + learning_run_bytes(image, steps, weight_every))


def learning_run_bytes(image: "Image", steps: int, weight_every: int = 0) -> int:
    """What a plastic image adds: six random values per learning profile and step (drawn up
    front, 8 bytes each) and, with ``weight_every = N``, a snapshot every N steps (4 bytes per
    plastic synapse, then 8 per entry of each projection's dense matrix)."""
    groups = sum(len(c.learn_profiles) for c in image.cores)
    if not groups:
        return 0
    need = 48 * int(steps) * groups
    every = int(weight_every) if isinstance(weight_every, (int, np.integer)) else 0
    if every > 0:
        projs = image.manifest.get("learning", {}).get("projections", {})
        per = sum(4 * len(p.get("synapses", [])) + 8 * int(np.prod(p.get("shape", [0])))
                  for p in projs.values())
        need += (int(steps) // every) * per
    return need


def run_budget() -> int:
    """Bytes a run may allocate: ``SPIKEFAB_MAX_RUN_BYTES`` when set, else 8 GiB, capped by the
    machine's physical memory (shared by :func:`check_run_memory` and front ends such as
    ``spikefab.pynn`` that allocate their own per-step arrays)."""
    import os
    env = os.environ.get("SPIKEFAB_MAX_RUN_BYTES")
    available = int(env) if env and env.isdigit() else DEFAULT_RUN_BYTES
    try:
        available = min(available, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        pass
    return available


def check_run_memory(image: "Image", steps: int, n_probed: int = 0, *,
                     available: int | None = None, weight_every: int = 0) -> int:
    """Raise :class:`ResourceError` (need vs available) if a run would exceed the memory budget.

    The budget is ``SPIKEFAB_MAX_RUN_BYTES`` (bytes) when set, else 8 GiB capped by the
    machine's physical memory.  Returns the bytes needed.
    """
    from spikefab.arch.result import MAX_STEPS
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) \
            or not 0 <= steps <= MAX_STEPS:
        return 0                     # not a step count: the input check names it
    need = run_bytes(image, steps, n_probed, weight_every)
    if available is None:
        available = run_budget()
    if need > available:
        raise ResourceError(f"a run of {steps} steps needs {need / 2**20:.0f} MiB of memory "
                            f"(spike arrays, traces, ring, tables and learning streams), "
                            f"{available / 2**20:.0f} "
                            f"MiB are available", where="run")
    return need
