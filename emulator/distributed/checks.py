"""The whole-image checks of a distributed run: one image, one verdict, whatever the rank count.

No rank holds the image ``load_image`` would check: each reads and checks its own cores
(:func:`~.local.build_local`).  What needs the whole image runs here, on every rank, from what
every rank has anyway — the manifest and the section index — in the order and with the messages
of ``load_image`` and ``check_fits``, so a hostile image is refused under ``mpirun`` with the same
typed error as in one process, and no rank starts on an image another rank would refuse:

* :func:`check_whole` (before any payload is read): the section list (every table of every core
  present, none left over, whole entries), the manifest's inputs, outputs and populations against
  the table sizes, core addresses unique and inside the target, every table within the core's
  memories;
* :func:`check_fanout` (after the ranks have their parts): the bound on one step's synaptic
  operations, summed over the ranks — exported routes are counted by the rank that owns their
  axons.

An in-memory :class:`~spikefab.arch.image.Image` is checked whole (``check_fits``) on every rank.
"""

from __future__ import annotations

import numpy as np

from spikefab.arch.image import CORE_TABLES, HOST_TABLES, LEARN_TABLES
from spikefab.arch.target import Target
from spikefab.arch.validate import (_ADDRESS_MAX, _channels, _manifest_int, check_fits,
                                     check_manifest_sizes)
from spikefab.emulator.distributed.comm import RankComm
from spikefab.errors import ImageError, InputError

__all__ = ["check_whole", "check_fanout"]


def check_whole(src, target: Target) -> None:
    """The whole-image checks that need only the manifest and the section sizes (docstring)."""
    if src.index is None:
        _refuse_plastic([c.plastic for c in src.image.cores])
        check_fits(src.image, target)
        return
    idx = src.index
    where = str(idx.path)
    _sections(idx, where)
    m = idx.manifest
    for key in ("inputs", "outputs", "populations"):
        if not isinstance(m.get(key, {}), dict):
            raise ImageError(f"{where}: manifest {key!r} must be an object", where="manifest")
    seen: dict[tuple, int] = {}
    for i, a in enumerate(idx.addresses):
        if not all(0 <= int(v) <= hi for v, hi in zip(a, _ADDRESS_MAX)):
            raise ImageError(f"{where}: core {i} address {a} must be (chiplet, x, y, slot)"
                             f" within {_ADDRESS_MAX}", where=f"core/{i}")
        if a in seen:
            raise ImageError(f"{where}: cores {seen[a]} and {i} share address {a}",
                             where=f"core/{i}")
        seen[a] = i
    _channels(m, "outputs", where)
    n_in = _channels(m, "inputs", where)
    host_ptr = idx.sections["host/route_ptr"][1] // HOST_TABLES["route_ptr"].itemsize
    if host_ptr < n_in:
        raise ImageError(f"{where}: host route table has {host_ptr} channels, inputs need "
                         f"{n_in}", where="host/route_ptr")
    n = len(idx.addresses)
    size = {t: np.array([idx.size(i, t) for i in range(n)], np.int64) for t in CORE_TABLES}
    _populations(m, size["neurons"], where)
    entries = host_ptr + idx.sections["host/routes"][1] // HOST_TABLES["routes"].itemsize + int(
        sum(int(size[t].sum()) for t in ("neurons", "routes", "axons", "synapses")))
    check_manifest_sizes(m, entries, where)
    _fits(idx, target, size)


def _sections(idx, where: str) -> None:
    """Every table of every core present with whole entries, nothing else (as ``load_image``)."""
    names = set(idx.sections)
    expected = [("host/route_ptr", HOST_TABLES["route_ptr"]),
                ("host/routes", HOST_TABLES["routes"])]
    plastic = []
    for i in range(len(idx.addresses)):
        expected += [(f"core/{i}/{t}", dt) for t, dt in CORE_TABLES.items()]
        learn = [(f"core/{i}/{t}", dt) for t, dt in LEARN_TABLES.items()
                 if f"core/{i}/{t}" in names]
        expected += learn
        plastic.append(bool(learn))
    for name, dt in expected:
        if name not in names:
            raise ImageError(f"{where}: missing section {name!r}", where=name)
        nbytes = idx.sections[name][1]
        if nbytes % dt.itemsize:
            raise ImageError(f"{where}: section {name!r} has {nbytes} bytes, not a multiple "
                             f"of its {dt.itemsize}-byte entries", where=name)
    extra = sorted(names - {name for name, _ in expected} - {"manifest"})
    if extra:
        raise ImageError(f"{where}: unexpected section {extra[0]!r}", where=extra[0])
    _refuse_plastic(plastic)


def _refuse_plastic(plastic) -> None:
    """The distributed engines run the static kernels; a plastic image runs in one process."""
    if any(plastic):
        i = int(np.flatnonzero(plastic)[0])
        raise InputError(f"core {i} learns on chip (plastic image): the distributed emulator "
                         f"runs static images; run this image in one process", where=f"core/{i}")


def _populations(m: dict, neurons: np.ndarray, where: str) -> None:
    """Every population slice inside its core and its population (``_check_populations``)."""
    for name, pop in m.get("populations", {}).items():
        what = f"population {name!r}"
        size = _manifest_int(pop, "size", what, where)
        slices = pop.get("slices")
        if not isinstance(slices, list):
            raise ImageError(f"{where}: manifest {what} needs a 'slices' list, not {slices!r}",
                             where="manifest")
        for s in slices:
            core, offset, count, start = (_manifest_int(s, k, f"{what} slice", where)
                                          for k in ("core", "offset", "count", "start"))
            if (core >= len(neurons) or offset + count > int(neurons[core])
                    or start + count > size):
                raise ImageError(f"{where}: {what} has a slice outside its core or population "
                                 f"(core {core} of {len(neurons)}, neurons {offset}..."
                                 f"{offset + count}, population indices {start}...{start + count}"
                                 f" of {size})", where="manifest")


def _fits(idx, target: Target, size: dict[str, np.ndarray]) -> None:
    """``check_fits`` on what the sizes say: the target, core addresses and table limits."""
    if idx.target != target.name:
        raise ImageError(f"image is for target {idx.target!r}, not {target.name!r}",
                         where="manifest")
    topo, lim = target.topology, target.core
    limits = {"neurons": lim.neurons, "synapses": lim.synapses, "axons": lim.input_axons,
              "routes": lim.route_entries, "profiles": lim.profiles, "acc_exps": lim.acc_classes}
    for i, (ch, x, y, slot) in enumerate(idx.addresses):
        if not (ch < topo.chiplets and x < topo.mesh_x and y < topo.mesh_y
                and slot < topo.cores_per_router):
            raise ImageError(f"core/{i} at {(ch, x, y, slot)} is outside target {target.name}'s "
                             f"{topo.chiplets} chiplets of {topo.mesh_x}x{topo.mesh_y}x"
                             f"{topo.cores_per_router}", where=f"core/{i}")
        for table, limit in limits.items():
            have = int(size[table][i])
            if have > limit:
                raise ImageError(f"core/{i}/{table} has {have} entries, target {target.name} "
                                 f"allows {limit}", where=f"core/{i}/{table}")


def check_fanout(rc: RankComm, loc, target: Target) -> int:
    """Refuse an image whose fully-spiking step exceeds the target's synaptic operations.

    Each rank counts its routes to its own cores (the synapse count its flat route rows carry);
    the axons its exports reach are counted by the rank that owns them, after one exchange.
    Returns the image's total (:func:`spikefab.arch.validate.fanout`).  A collective: every rank
    calls it.
    """
    saved = (rc.bytes_sent, rc.t_wait, rc.t_exchange)   # setup traffic: not the run's
    got, _ = rc.alltoallv(loc.exp_axon, loc.exp_rank, "the setup")
    rc.bytes_sent, rc.t_wait, rc.t_exchange = saved
    mine = int(loc.flat.routes[:, 9].sum()) + int(loc.flat.ax_count[got].sum())
    work = int(rc.allreduce(np.array([mine], np.int64), "sum", "the setup")[0])
    cores = len(loc.part.core_owner)
    budget = cores * target.core.synapses
    if work > budget:
        raise ImageError(f"one step in which every source spikes would perform {work} synaptic "
                         f"operations; target {target.name} bounds a step to {budget} (each of "
                         f"the image's {cores} cores reading its {target.core.synapses} "
                         f"synapse words once): route entries reuse axon runs too often",
                         where="routes")
    return work
