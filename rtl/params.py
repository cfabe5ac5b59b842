"""RTL parameters derived from a :class:`~spikeforge.arch.target.Target`, and the table layouts.

Every width and depth of the Amaranth fabric comes from here, and everything here comes from the
Target, so the RTL never hard-codes a hardware number.  Two things live in this module:

* :class:`MeshParams` — topology, memory depths, field widths and the timing constants the
  datapath implements.  The RTL microarchitecture has fixed per-operation latencies (a six-cycle
  neuron update sharing one multiplier, a two-cycle read-modify-write per synapse, a two-cycle
  axon lookup, one-cycle links), so a target whose ``[timing]`` says otherwise is refused with a
  :class:`~spikeforge.errors.TargetError` rather than silently simulated with other cycle counts.
* :class:`TableSpec` — how each image table (``spikeforge.arch.image`` dtypes) is stored in a
  core memory: the memory port of ``docs/microarchitecture.md`` section 11 moves entries in the
  image's byte layout, and the core keeps only the bits its datapath needs.  :func:`check_rtl_image`
  refuses, with an :class:`~spikeforge.errors.ImageError`, an image whose values would not survive
  that narrowing, before any simulation starts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikeforge.arch.aer import packet_format
from spikeforge.arch.image import (AXON_DTYPE, NEURON_DTYPE, PROFILE_DTYPE, ROUTE_DTYPE,
                                   ROUTE_PTR_DTYPE, STATE_DTYPE, SYNAPSE_DTYPE, Image)
from spikeforge.arch.target import Target, load_target
from spikeforge.arch.validate import check_fits
from spikeforge.errors import ImageError, TargetError

__all__ = ["NEURON_CYCLES", "SYNAPSE_CYCLES", "PACKET_CYCLES", "FieldSpec", "TableSpec",
           "MeshParams", "mesh_params", "check_rtl_image", "CORE_TABLE_IDS", "FABRIC_TABLE_IDS",
           "FABRIC_CORE"]

#: Cycles of the RTL update engine per neuron (read, profile read, three shared multiplies, write).
NEURON_CYCLES = 6
#: Cycles of the RTL synapse engine per synapse entry (read synapse, read-modify-write accumulator).
SYNAPSE_CYCLES = 2
#: Cycles of the RTL synapse engine to accept a packet (pop + axon-table read).
PACKET_CYCLES = 2

#: Core table ids on the memory port (docs/microarchitecture.md section 11).
CORE_TABLE_IDS = {"acc_exps": 0, "profiles": 1, "neurons": 2, "state": 3, "axons": 4,
                  "synapses": 5, "route_ptr": 6, "routes": 7, "config": 8}
#: Fabric-level table ids (``mem_core == FABRIC_CORE``).
FABRIC_TABLE_IDS = {"host_queue": 0, "host_queue_len": 1, "out_log": 2, "out_log_len": 3,
                    "cycle_log": 4, "counters": 5}
FABRIC_CORE = 255
#: Counter indices of the fabric ``counters`` table.
COUNTERS = ("steps", "spikes", "synops", "packets", "hops", "overflow")

STATE_LIMIT = 1 << 23


def _bits(n: int) -> int:
    """Bits to hold the values ``0 .. n`` (at least 1)."""
    return max(1, int(n).bit_length())


@dataclass(frozen=True)
class FieldSpec:
    """One field of a table entry: where it sits in the image bytes and how many bits are stored."""

    name: str
    offset: int      #: byte offset in the NumPy dtype
    nbytes: int      #: field size in the dtype
    signed: bool
    bits: int        #: bits kept in the core memory (sign/zero-extended back on read)


@dataclass(frozen=True)
class TableSpec:
    """A table of a core (or of the fabric) as stored in one Amaranth memory."""

    name: str
    depth: int
    fields: tuple[FieldSpec, ...]

    @property
    def width(self) -> int:
        return sum(f.bits for f in self.fields)

    def field_offset(self, name: str) -> int:
        """Bit offset of a field in the stored word (fields packed LSB first, in spec order)."""
        off = 0
        for f in self.fields:
            if f.name == name:
                return off
            off += f.bits
        raise KeyError(name)

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)


def _spec(name: str, dtype: np.dtype, depth: int, bits: dict[str, int]) -> TableSpec:
    fields = []
    for fname, nb in bits.items():
        ftype, offset = dtype.fields[fname][:2]
        fields.append(FieldSpec(fname, offset, ftype.itemsize, ftype.kind == "i", nb))
    return TableSpec(name, depth, tuple(fields))


@dataclass(frozen=True)
class MeshParams:
    """Everything the RTL generator needs from a target."""

    target: str
    mesh_x: int
    mesh_y: int
    cores_per_router: int
    neurons: int
    synapses: int
    axons: int
    routes: int
    profiles: int
    acc_classes: int
    max_delay: int
    acc_bits: int
    fifo_depth: int
    barrier_cycles: int
    x_bits: int
    y_bits: int
    slot_bits: int
    axon_bits: int
    host_queue_depth: int = 256
    out_log_depth: int = 1024
    cycle_log_depth: int = 256

    @property
    def n_cores(self) -> int:
        return self.mesh_x * self.mesh_y * self.cores_per_router

    @property
    def ring_slots(self) -> int:
        """Dendritic ring-buffer depth ``D = max_delay + 2``."""
        return self.max_delay + 2

    @property
    def ports(self) -> int:
        """Router ports: N, E, S, W, then one local port per core slot."""
        return 4 + self.cores_per_router

    @property
    def packet_width(self) -> int:
        return self.axon_bits + self.slot_bits + self.y_bits + self.x_bits + 1

    def core_index(self, x: int, y: int, slot: int) -> int:
        return (y * self.mesh_x + x) * self.cores_per_router + slot

    # ------------------------------------------------------------------ table layouts
    def core_tables(self) -> dict[str, TableSpec]:
        """Stored layout of every core table, in memory-port table-id order."""
        nb = _bits(self.neurons)
        return {
            "acc_exps": TableSpec("acc_exps", self.acc_classes,
                                  (FieldSpec("exp", 0, 1, True, 5),)),
            "profiles": _spec("profiles", PROFILE_DTYPE, self.profiles, {
                "du": 12, "dv": 12, "vth": 17, "reset_mode": 1, "refractory": 8,
                "theta_decay": 12, "theta_inc": 32}),
            "neurons": _spec("neurons", NEURON_DTYPE, self.neurons, {
                "profile": _bits(self.profiles - 1), "bias_exp": 5, "bias_mant": 16}),
            "state": _spec("state", STATE_DTYPE, self.neurons,
                           {"u": 32, "v": 32, "theta": 32, "ref": 8}),
            "axons": _spec("axons", AXON_DTYPE, self.axons,
                           {"start": _bits(self.synapses), "count": _bits(self.synapses)}),
            "synapses": _spec("synapses", SYNAPSE_DTYPE, self.synapses, {
                "neuron": _bits(self.neurons - 1), "weight": 9,
                "delay": _bits(self.max_delay), "acc_class": _bits(self.acc_classes - 1)}),
            "route_ptr": _spec("route_ptr", ROUTE_PTR_DTYPE, self.neurons,
                               {"start": _bits(self.routes), "count": _bits(self.routes)}),
            # packet fields first, LSB first: the stored word's low bits *are* the NoC packet
            "routes": _spec("routes", ROUTE_DTYPE, self.routes, {
                "axon": self.axon_bits, "slot": self.slot_bits, "y": self.y_bits,
                "x": self.x_bits, "host": 1, "chiplet": 1}),
            "config": TableSpec("config", 1, (FieldSpec("n_neurons", 0, 2, False, nb),)),
        }

    def host_queue_spec(self) -> TableSpec:
        return _spec("host_queue", ROUTE_DTYPE, self.host_queue_depth, {
            "axon": self.axon_bits, "slot": self.slot_bits, "y": self.y_bits,
            "x": self.x_bits, "host": 1, "chiplet": 1})


def mesh_params(target: Target | str, **fabric) -> MeshParams:
    """The RTL parameters of a target; :class:`TargetError` if the RTL cannot implement it."""
    t = load_target(target)
    tm, topo = t.timing, t.topology
    need = {"neuron_cycles": NEURON_CYCLES, "synapse_cycles": SYNAPSE_CYCLES,
            "packet_cycles": PACKET_CYCLES, "link_latency": 1}
    for key, value in need.items():
        if getattr(tm, key) != value:
            raise TargetError(f"target {t.name}: timing.{key} must be {value} for the spikeforge "
                              f"RTL, not {getattr(tm, key)}", where=f"timing.{key}")
    if tm.barrier_cycles < 1:
        raise TargetError(f"target {t.name}: timing.barrier_cycles must be >= 1 for the "
                          f"spikeforge RTL, not {tm.barrier_cycles}", where="timing.barrier_cycles")
    if topo.chiplets != 1:
        raise TargetError(f"target {t.name}: the RTL fabric must have 1 chiplet, not "
                          f"{topo.chiplets}", where="topology")
    if topo.cores > 254:
        raise TargetError(f"target {t.name}: the RTL memory port addresses at most 254 cores, "
                          f"target has {topo.cores}", where="topology")
    if t.core.neurons > 65535 or t.core.synapses > 65536:
        raise TargetError(f"target {t.name}: the RTL memory port indexes at most 65536 entries "
                          f"per table, target has {t.core.synapses} synapses", where="core")
    pf = packet_format(t)
    return MeshParams(
        target=t.name, mesh_x=topo.mesh_x, mesh_y=topo.mesh_y,
        cores_per_router=topo.cores_per_router, neurons=t.core.neurons,
        synapses=t.core.synapses, axons=t.core.input_axons, routes=t.core.route_entries,
        profiles=t.core.profiles, acc_classes=t.core.acc_classes, max_delay=t.core.max_delay,
        acc_bits=t.core.accumulator_bits, fifo_depth=tm.fifo_depth,
        barrier_cycles=tm.barrier_cycles, x_bits=pf.x_bits, y_bits=pf.y_bits,
        slot_bits=pf.slot_bits, axon_bits=pf.axon_bits, **fabric)


def _check_range(values: np.ndarray, lo: int, hi: int, what: str) -> None:
    if len(values):
        bad = (values.astype(np.int64) < lo) | (values.astype(np.int64) > hi)
        if bad.any():
            v = int(values[np.flatnonzero(bad)[0]])
            raise ImageError(f"{what} must be in {lo}..{hi} for the RTL datapath, not {v}",
                             where=what.split(" ")[0])


def check_rtl_image(image: Image, target: Target | str, params: MeshParams | None = None) -> None:
    """Refuse an image the RTL cannot hold exactly: other target, too big, or values too wide.

    Runs :func:`~spikeforge.arch.validate.check_fits` first (target name, table sizes, delays),
    then checks that every value fits the bits the core memories keep (:meth:`MeshParams.core_tables`).
    """
    t = load_target(target)
    check_fits(image, t)
    p = params or mesh_params(t)
    for i, c in enumerate(image.cores):
        sec = f"core/{i}"
        _check_range(c.acc_exps, -16, 15, f"{sec}/acc_exps")
        for key in ("du", "dv", "theta_decay"):
            _check_range(c.profiles[key], 0, 4095, f"{sec}/profiles {key}")
        _check_range(c.profiles["vth"], 0, (1 << 17) - 1, f"{sec}/profiles vth")
        _check_range(c.profiles["reset_mode"], 0, 1, f"{sec}/profiles reset_mode")
        _check_range(c.neurons["bias_exp"], -16, 15, f"{sec}/neurons bias_exp")
        _check_range(c.synapses["weight"], -256, 255, f"{sec}/synapses weight")
        if c.n_neurons > p.neurons:
            raise ImageError(f"{sec} has {c.n_neurons} neurons, target {t.name} allows "
                             f"{p.neurons}", where=sec)
    for name, routes in [("host/routes", image.host_routes)] + [
            (f"core/{i}/routes", c.routes) for i, c in enumerate(image.cores)]:
        host = routes[routes["host"] != 0]
        _check_range(host["axon"], 0, (1 << 16) - 1, f"{name} output channel")
        _check_range(routes["axon"], 0, (1 << p.axon_bits) - 1, f"{name} axon")
