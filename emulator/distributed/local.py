"""One rank's share of an image: its cores flattened for the kernels, and where its packets go.

A rank reads only its own cores' sections (:class:`~spikefab.arch.image.ImageIndex`), builds a
sub-image of them and flattens it with the single-process :func:`~spikefab.emulator.flatten`.
Before flattening, every route to a core of another rank becomes an **export**: a host-type
route whose output channel ``n_out + j`` names export ``j``, so the fan-out tables the kernels
walk contain local synapses only.  After flattening, the export rows of ``flat.routes`` get the
real destination (global router coordinates, slot, and the axon in the *receiver's* local
numbering, known from the partition), the real hop counts, and no synapse count (the receiver
counts the synaptic operations it performs), and the per-neuron route sums are recomputed.

Only the host rank (rank 0, which owns router (0, 0)) keeps host input routes; routes from the
host to other ranks' cores are exports too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spikefab.arch.image import ROUTE_DTYPE, ROUTE_PTR_DTYPE, CoreImage, Image, ImageIndex
from spikefab.arch.target import Target
from spikefab.arch.validate import check_fits, check_image
from spikefab.emulator.distributed.partition import Partition, partition
from spikefab.arch.mesh import hop_counts
from spikefab.emulator.flat import FlatImage, flatten
from spikefab.errors import ImageError

__all__ = ["ImageSource", "Local", "build_local", "source_of"]


class ImageSource:
    """What the distributed engine reads: a file index (partial reads) or an in-memory Image."""

    def __init__(self, index: ImageIndex | None = None, image: Image | None = None) -> None:
        self.index, self.image = index, image
        if index is not None:
            self.target, self.manifest, self.addresses = index.target, index.manifest, \
                index.addresses
        else:
            self.target, self.manifest = image.target, dict(image.manifest)
            self.addresses = [c.address for c in image.cores]

    def sizes(self, table: str) -> np.ndarray:
        if self.index is not None:
            return np.array([self.index.size(i, table) for i in range(len(self.addresses))],
                            np.int64)
        return np.array([len(getattr(c, table)) for c in self.image.cores], np.int64)

    def read_cores(self, cores) -> dict[int, CoreImage]:
        if self.index is not None:
            return self.index.read_cores(cores)
        return {int(i): self.image.cores[int(i)] for i in cores}

    def read_host(self) -> tuple[np.ndarray, np.ndarray]:
        if self.index is not None:
            return self.index.read_host()
        return self.image.host_route_ptr, self.image.host_routes


def source_of(image_or_path) -> ImageSource:
    if isinstance(image_or_path, Image):
        return ImageSource(image=image_or_path)
    from spikefab.arch.image import index_image
    return ImageSource(index=index_image(image_or_path))


@dataclass
class Local:
    """One rank's flat arrays plus its export table (module docstring)."""

    rank: int
    part: Partition
    cores: np.ndarray           #: global indices of the local cores (local order)
    flat: FlatImage
    n_out: int                  #: host output channels (export ids start here)
    exp_rank: np.ndarray        #: (exports,) destination rank of export j
    exp_axon: np.ndarray        #: (exports,) destination axon, receiver's local numbering
    axon_core: np.ndarray       #: (local axons,) local core of every local axon
    n_in: int                   #: host input channels (of the whole image)
    chiplets_used: int          #: distinct chiplets holding a core, whole image
    image: Image                #: the sub-image (local cores only) with the full manifest
    min_delay: int              #: smallest synaptic delay of the local synapses (large if none)


def _address_key(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, np.int64).reshape(-1, 4)
    return (((a[:, 0] << 16 | a[:, 1]) << 16 | a[:, 2]) << 16) | a[:, 3]


def build_local(src: ImageSource, target: Target, rank: int, ranks: int) -> Local:
    """Read and flatten the cores ``rank`` owns (see module docstring)."""
    addresses = np.asarray(src.addresses, np.int64).reshape(-1, 4)
    part = partition(addresses, src.sizes("neurons"), src.sizes("synapses"), src.sizes("axons"),
                     target, ranks)
    mine = part.local_cores(rank)
    read = src.read_cores(mine)
    keys = _address_key(addresses)
    order = np.argsort(keys)
    sorted_keys = keys[order]
    n_axons = src.sizes("axons")
    n_out = max((int(s["channel_base"]) + int(s["size"])
                 for s in src.manifest.get("outputs", {}).values()), default=0)
    exports: list[np.ndarray] = []              # per table: destination global core of exports
    next_id = [n_out]

    def localize(routes: np.ndarray, where: str) -> np.ndarray:
        """Turn routes to other ranks' cores into export routes (host = 1, axon = export id)."""
        routes = routes.copy()
        to_core = routes["host"] == 0
        if np.any(routes["axon"][~to_core] >= n_out):
            raise ImageError(f"{where}: an output route uses channel "
                             f"{int(routes['axon'][~to_core].max())}, the image has {n_out} "
                             f"output channels", where=where)
        k = _address_key(np.stack([routes["chiplet"], routes["x"], routes["y"], routes["slot"]],
                                  1))
        pos = np.minimum(np.searchsorted(sorted_keys, k), max(len(keys) - 1, 0))
        ok = (sorted_keys[pos] == k) if len(keys) else np.zeros(len(k), bool)
        if np.any(to_core & ~ok):
            raise ImageError(f"{where}: a route points to no core of the image", where=where)
        dcore = np.where(to_core, order[pos] if len(keys) else -1, -1)
        remote = to_core & (part.core_owner[np.maximum(dcore, 0)] != rank)
        j = np.flatnonzero(remote)
        bad = routes["axon"][j].astype(np.int64) >= n_axons[dcore[j]]
        if bad.any():
            b = j[np.flatnonzero(bad)[0]]
            raise ImageError(f"{where}: route {int(b)} targets axon {int(routes['axon'][b])} of "
                             f"core {int(dcore[b])}, which has {int(n_axons[dcore[b]])} axons",
                             where=where)
        exports.append(np.stack([dcore[j], routes["axon"][j].astype(np.int64)], 1))
        routes["host"][j] = 1
        routes["axon"][j] = next_id[0] + np.arange(len(j))
        next_id[0] += len(j)
        return routes

    cores = []
    for i in mine:
        c = read[int(i)]
        t = c.tables()
        t["routes"] = localize(c.routes, f"core/{int(i)}/routes")
        cores.append(CoreImage(chiplet=c.chiplet, x=c.x, y=c.y, slot=c.slot, **t))
    host_ptr, host_routes = src.read_host()
    n_in = len(host_ptr)
    if rank == 0:
        host_routes = localize(host_routes, "host/routes")
    else:
        host_ptr = np.zeros(n_in, ROUTE_PTR_DTYPE)
        host_routes = np.zeros(0, ROUTE_DTYPE)
    manifest: dict[str, Any] = {k: v for k, v in src.manifest.items()
                                if k in ("inputs", "outputs", "options")}
    sub = Image(target=src.target, cores=cores, host_route_ptr=host_ptr,
                host_routes=host_routes, manifest=manifest)
    _check_part(sub, src, mine, target)
    flat = flatten(sub, target)
    ex = np.concatenate(exports) if exports else np.zeros((0, 2), np.int64)
    exp_core = ex[:, 0]
    exp_rank = part.core_owner[exp_core] if len(ex) else np.zeros(0, np.int64)
    exp_axon = part.axon_base[exp_core] + ex[:, 1] if len(ex) else np.zeros(0, np.int64)
    _fix_exports(flat, sub, target, part, n_out, exp_core, exp_axon)
    ax_counts = np.array([len(c.axons) for c in cores], np.int64)
    syn_delays = [int(c.synapses["delay"].min()) for c in cores if len(c.synapses)]
    return Local(rank=rank, part=part, cores=mine, flat=flat, n_out=n_out, exp_rank=exp_rank,
                 exp_axon=exp_axon, axon_core=np.repeat(np.arange(len(cores)), ax_counts),
                 n_in=n_in, chiplets_used=len({int(a[0]) for a in addresses}), image=sub,
                 min_delay=min(syn_delays, default=1 << 20))


def _fix_exports(flat: FlatImage, sub: Image, target: Target, part: Partition, n_out: int,
                 exp_core: np.ndarray, exp_axon: np.ndarray) -> None:
    """Give export rows their real destination, hops and no synapses; redo the route sums."""
    r = flat.routes
    ex = np.flatnonzero((r[:, 0] == 1) & (r[:, 1] >= n_out))
    if len(ex):
        j = r[ex, 1] - n_out
        topo = target.topology
        # source router of every route: neuron routes core by core, then host routes (0, 0)
        counts = [len(c.routes) for c in sub.cores]
        src = np.concatenate([np.repeat(flat.core_router, counts),
                              np.zeros(len(sub.host_routes), np.int64)]).astype(np.int64)
        sx, sy = src[ex] % topo.global_x, src[ex] // topo.global_x
        dx, dy = part.core_gxy[exp_core[j], 0], part.core_gxy[exp_core[j], 1]
        hew, hns, hch = hop_counts(sx, sy, dx, dy, topo.mesh_x, topo.mesh_y)
        r[ex, 0] = 0
        r[ex, 1] = exp_axon[j]
        r[ex, 2] = -2                              # remote core (the functional kernel uses
        r[ex, 3], r[ex, 4] = dx, dy                # route_dst, which keeps the export id)
        r[ex, 5] = part.core_slot[exp_core[j]]
        r[ex, 6], r[ex, 7], r[ex, 8] = hew, hns, hch
        r[ex, 9] = 0
    n = flat.n
    rs = np.zeros((n, 5), np.int64)
    owner = np.repeat(np.arange(n), flat.nr_count)
    total = int(flat.nr_count.sum())
    if total:
        ends = np.cumsum(flat.nr_count)
        idx = np.repeat(flat.nr_start - (ends - flat.nr_count), flat.nr_count) + np.arange(total)
        for col, src_col in enumerate((6, 7, 8, 9, 0)):
            np.add.at(rs[:, col], owner, r[idx, src_col])
    flat.route_sums = rs


def _check_part(sub: Image, src: ImageSource, mine: np.ndarray, target: Target) -> None:
    """The checks ``load_image`` and every backend make, on this rank's part of the image.

    The sub-image is checked (and fitted to ``target``) as a whole image whose outputs are the
    channels its host-type routes use, one output per run of consecutive channels: real outputs
    (``localize`` has checked them against the image's outputs) and export channels.  So its
    routes, pointers and tables are checked as usual, and the manifest checks meant for a whole
    image (outputs fed by enough table entries) do not refuse a small part; those, and the
    fan-out bound, are checked for the whole image from its index and over all ranks
    (:mod:`.checks`).  Population slices are checked for the cores this rank owns (each core is
    checked by its owner).
    """
    where = str(src.index.path) if src.index is not None else "<image>"
    used = np.unique(np.concatenate([r["axon"][r["host"] != 0].astype(np.int64) for r in
                                     [sub.host_routes] + [c.routes for c in sub.cores]]))
    # one output per run of consecutive channels (the exports are one run): as many channels as
    # routes use, and a manifest of a few entries instead of one per export
    cut = np.flatnonzero(np.diff(used) != 1) + 1
    runs = [(int(r[0]), len(r)) for r in np.split(used, cut) if len(r)]
    probe = Image(target=sub.target, cores=sub.cores, host_route_ptr=sub.host_route_ptr,
                  host_routes=sub.host_routes,
                  manifest={"inputs": sub.manifest.get("inputs", {}),
                            "outputs": {f"ch{b}": {"size": n, "channel_base": b}
                                        for b, n in runs}})
    check_image(probe, where=where)
    check_fits(probe, target, fanout_budget=False)      # the budget is the whole image's
    local = {int(g): k for k, g in enumerate(mine)}
    pops = src.manifest.get("populations", {})
    if not isinstance(pops, dict):
        raise ImageError(f"{where}: manifest 'populations' must be an object", where="manifest")
    for name, spec in pops.items():
        for sl in (spec.get("slices", []) if isinstance(spec, dict) else [None]):
            try:
                core, off, cnt = int(sl["core"]), int(sl["offset"]), int(sl["count"])
            except (TypeError, KeyError, ValueError):
                raise ImageError(f"{where}: population {name!r} has a malformed slice",
                                 where="manifest") from None
            if not 0 <= core < len(src.addresses) or (
                    core in local and off + cnt > sub.cores[local[core]].n_neurons):
                raise ImageError(f"{where}: population {name!r} has a slice outside its core "
                                 f"(core {core} of {len(src.addresses)}, neurons {off}..."
                                 f"{off + cnt})", where="manifest")
