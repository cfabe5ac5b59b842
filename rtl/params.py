"""RTL parameters derived from a :class:`~spikefab.arch.target.Target`, and the table layouts.

Every width and depth of the Amaranth fabric comes from here, and everything here comes from the
Target, so the RTL never hard-codes a hardware number.  Two things live in this module:

* :class:`MeshParams` — topology, memory depths, field widths and the timing constants the
  datapath implements.  Each RTL core microarchitecture (:data:`CORE_KINDS`: ``parallel``, a
  six-cycle neuron update from wide block RAMs; ``serial``, a 22-cycle update from 16-bit SPRAMs)
  has fixed per-operation latencies and one-cycle links; a target's ``[timing]`` selects the core
  whose latencies it states, and a target matching none is refused with a
  :class:`~spikefab.errors.TargetError` rather than silently simulated with other cycle counts.
* :class:`TableSpec` — how each image table (``spikefab.arch.image`` dtypes) is stored in a
  core memory: the memory port of ``docs/microarchitecture.md`` section 11 moves entries in the
  image's byte layout, and the core keeps only the bits its datapath needs.  :func:`check_rtl_image`
  refuses, with an :class:`~spikefab.errors.ImageError`, an image whose values would not survive
  that narrowing, before any simulation starts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikefab.arch.aer import packet_format
from spikefab.arch.fields import field
from spikefab.arch.image import (AXON_DTYPE, NEURON_DTYPE, PROFILE_DTYPE, ROUTE_DTYPE,
                                   ROUTE_PTR_DTYPE, STATE_DTYPE, SYNAPSE_DTYPE, Image)
from spikefab.arch.memory_map import (  # noqa: F401 (re-exported: the RTL's memory map)
    CORE_TABLE_IDS, COUNTERS, FABRIC_CORE, FABRIC_TABLE_IDS, CoreTable, core_address)
from spikefab.arch.learning.layout import reward_synapses
from spikefab.arch.learning.words import EngineCaps
from spikefab.arch.target import Target, load_target
from spikefab.arch.validate import check_fits
from spikefab.errors import ImageError, TargetError

__all__ = ["NEURON_CYCLES", "SYNAPSE_CYCLES", "PACKET_CYCLES", "CoreKind", "CORE_KINDS",
           "SERIAL_RAM_DEPTH", "SERIAL_RECORD", "Chunk", "SerialTable", "FieldSpec", "TableSpec",
           "serial_route_fields",
           "MeshParams", "mesh_params", "check_rtl_image", "CORE_TABLE_IDS", "FABRIC_TABLE_IDS",
           "FABRIC_CORE"]

#: Cycles of the RTL update engine per neuron (read, profile read, three shared multiplies, write).
NEURON_CYCLES = 6
#: Cycles of the RTL synapse engine per synapse entry (read synapse, read-modify-write accumulator).
SYNAPSE_CYCLES = 2
#: Cycles of the RTL synapse engine to accept a packet (pop + axon-table read).
PACKET_CYCLES = 2


@dataclass(frozen=True)
class CoreKind:
    """One RTL core microarchitecture and the per-operation latencies it implements.

    A target picks its core by its ``[timing]``: the cycle contract (docs/microarchitecture.md)
    is the same for both, only these three latencies differ, and the emulator reads them from
    the same profile, so RTL and emulator agree by construction.
    """

    name: str
    neuron_cycles: int
    synapse_cycles: int
    packet_cycles: int
    description: str


#: The RTL cores: ``parallel`` (``NeuronCore``: every table in its own wide block RAM, a
#: six-cycle update) and ``serial`` (``SerialCore``: 16-bit single-port RAMs — the iCE40 UP5K's
#: SPRAMs — with the neuron's words read and written one per cycle).
CORE_KINDS = {
    "parallel": CoreKind("parallel", NEURON_CYCLES, SYNAPSE_CYCLES, PACKET_CYCLES,
                         "wide block RAMs, 6-cycle neuron update (ECP5 and larger)"),
    "serial": CoreKind("serial", 22, 2, 3,
                       "16-bit single-port RAMs (iCE40 SPRAM), 22-cycle neuron update"),
}
#: Largest 16-bit single-port RAM of the serial core: two iCE40 SB_SPRAM256KA (16,384 words each).
SERIAL_RAM_DEPTH = 32768
#: Half-words of a neuron record in the serial core's neuron RAM (16: the address is ``Cat(h, i)``).
SERIAL_RECORD = 16

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

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)


def _spec(name: str, dtype: np.dtype, depth: int, bits: dict[str, int]) -> TableSpec:
    fields = []
    for fname, nb in bits.items():
        ftype, offset = dtype.fields[fname][:2]
        fields.append(FieldSpec(fname, offset, ftype.itemsize, ftype.kind == "i", nb))
    return TableSpec(name, depth, tuple(fields))


@dataclass(frozen=True)
class Chunk:
    """One 16-bit word of a table entry in the serial core's RAMs.

    ``kind == "copy"``: the word is half-word ``src`` of the entry's image bytes, verbatim
    (bytes ``2 src`` and ``2 src + 1``); fields the datapath does not need in full (the high half
    of a ``u4`` start pointer) are simply not stored.  ``"synapse"`` packs a synapse's neuron,
    delay and class into one word and ``"route"`` a route entry's packet fields, so that the
    synapse engine reads two words per synapse and the update engine one per route entry.
    """

    offset: int             #: half-word within the entry's record
    src: int = -1           #: image half-word (``kind == "copy"``)
    kind: str = "copy"


@dataclass(frozen=True)
class SerialTable:
    """Where a table lives in the serial core: RAM, base address, record stride, chunks."""

    name: str
    ram: str            #: ``"neuron"``, ``"synapse"``, ``"profile"`` (16-bit RAMs) or ``"reg"``
    base: int
    stride: int
    chunks: tuple[Chunk, ...]

    def address(self, index: int, chunk: int) -> int:
        return self.base + index * self.stride + self.chunks[chunk].offset


def _copies(*pairs: tuple[int, int]) -> tuple[Chunk, ...]:
    return tuple(Chunk(offset, src) for offset, src in pairs)


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
    core_kind: str = "parallel"
    refractory: bool = True      #: the cores have a refractory counter (target max_refractory > 0)
    adaptive: bool = True        #: the cores have the adaptive threshold
    routing: str = "xy"          #: routing algorithm (:data:`spikefab.arch.mesh.ROUTINGS`)
    #: every core's learning engine (target ``[learning]``); None: the cores have none
    learning: EngineCaps | None = None

    @property
    def n_cores(self) -> int:
        return self.mesh_x * self.mesh_y * self.cores_per_router

    @property
    def ring_slots(self) -> int:
        """Dendritic ring-buffer depth ``D = max_delay + 2``."""
        return self.max_delay + 2

    @property
    def acc_tag_bits(self) -> int:
        """Bits of an accumulator word's bucket tag (the delay of its last add; none without
        delays): the ring floors each (source step, delay) bucket as Lava does
        (:mod:`spikefab.rtl.accumulators`)."""
        return _bits(self.max_delay) if self.max_delay else 0

    @property
    def acc_word_bits(self) -> int:
        """Bits of one accumulator word: every class's field, then the bucket tag."""
        return self.acc_classes * self.acc_bits + self.acc_tag_bits

    @property
    def ports(self) -> int:
        """Router ports: N, E, S, W, then one local port per core slot."""
        return 4 + self.cores_per_router

    @property
    def packet_width(self) -> int:
        return self.axon_bits + self.slot_bits + self.y_bits + self.x_bits + 1

    def core_index(self, x: int, y: int, slot: int) -> int:
        return core_address(x, y, slot, self.mesh_x, self.cores_per_router)

    # ------------------------------------------------------------------ table layouts
    @property
    def table_bits(self) -> int:
        """Bits of the memory port's table id: 5 where the cores carry a learning engine (core
        tables up to ``LEARN_REWARD`` = 16), else 4 (static builds keep their port)."""
        top = CoreTable.LEARN_REWARD if self.learning is not None else CoreTable.CONFIG
        return max(4, int(top).bit_length())

    def core_tables(self) -> dict[str, TableSpec]:
        """Stored layout of every core table, in memory-port table-id order."""
        nb = _bits(self.neurons)
        serial = self.core_kind == "serial"
        syn_bits = {"neuron": _bits(self.neurons - 1), "weight": field("synapses", "weight").bits,
                    "delay": _bits(self.max_delay), "acc_class": _bits(self.acc_classes - 1)}
        return {
            "acc_exps": TableSpec("acc_exps", self.acc_classes,
                                  (FieldSpec("exp", 0, 1, True, field("acc_exps", "exp").bits),)),
            # registers as wide as the field table (spikefab.arch.fields); theta_inc and
            # bias_mant keep the datapath's wider words
            "profiles": _spec("profiles", PROFILE_DTYPE, self.profiles, {
                **{k: field("profiles", k).bits for k in ("du", "dv", "vth", "reset_mode",
                                                          "refractory", "theta_decay")},
                "theta_inc": 32}),
            "neurons": _spec("neurons", NEURON_DTYPE, self.neurons, {
                "profile": _bits(self.profiles - 1), "bias_exp": field("neurons", "bias_exp").bits,
                "bias_mant": 16}),
            "state": _spec("state", STATE_DTYPE, self.neurons,
                           {"u": 32, "v": 32, "theta": 32, "ref": 8}),
            "axons": _spec("axons", AXON_DTYPE, self.axons,
                           {"start": _bits(self.synapses), "count": _bits(self.synapses)}),
            "synapses": _spec("synapses", SYNAPSE_DTYPE, self.synapses, syn_bits),
            "route_ptr": _spec("route_ptr", ROUTE_PTR_DTYPE, self.neurons,
                               {"start": _bits(self.routes), "count": _bits(self.routes)}),
            # packet fields first, LSB first: the stored word's low bits *are* the NoC packet
            # (the serial core keeps a route in one 16-bit word: a narrower axon / output
            # channel, no chiplet bit — serial_route_fields)
            "routes": _spec("routes", ROUTE_DTYPE, self.routes, {
                "axon": self.axon_bits, "slot": self.slot_bits, "y": self.y_bits,
                "x": self.x_bits, "host": 1, "chiplet": 1} if not serial else dict(
                serial_route_fields(self))),
            "config": TableSpec("config", 1, (FieldSpec("n_neurons", 0, 2, False, nb),)),
        }

    def serial_tables(self) -> dict[str, SerialTable]:
        """Layout of every core table in the serial core's RAMs (``core_kind == "serial"``).

        Neuron RAM: neuron ``i``'s record of :data:`SERIAL_RECORD` half-words at ``16 i`` —
        the state's seven image half-words (0-6), the neuron entry's two (7-8), the route
        pointer's start and count (9, 10) — then the route table, one packed word per entry.
        Synapse RAM: the axon table (start, count), then the synapses (packed neuron | delay |
        class, weight).  Profile RAM (block RAM): a profile's eight image half-words.
        ``acc_exps`` and ``config`` are registers.
        """
        rec = SERIAL_RECORD
        route_base = self.neurons * rec
        syn_base = 2 * self.axons
        return {
            "acc_exps": SerialTable("acc_exps", "reg", 0, 1, ()),
            "profiles": SerialTable("profiles", "profile", 0, 8,
                                    _copies(*[(h, h) for h in range(8)])),
            "neurons": SerialTable("neurons", "neuron", 0, rec, _copies((7, 0), (8, 1))),
            "state": SerialTable("state", "neuron", 0, rec,
                                 _copies(*[(h, h) for h in range(7)])),
            "axons": SerialTable("axons", "synapse", 0, 2, _copies((0, 0), (1, 2))),
            "synapses": SerialTable("synapses", "synapse", syn_base, 2,
                                    (Chunk(0, kind="synapse"), Chunk(1, 1))),
            "route_ptr": SerialTable("route_ptr", "neuron", 0, rec, _copies((9, 0), (10, 2))),
            "routes": SerialTable("routes", "neuron", route_base, 1, (Chunk(0, kind="route"),)),
            "config": SerialTable("config", "reg", 0, 1, ()),
        }

    @property
    def neuron_ram_depth(self) -> int:
        """Half-words the serial core's neuron RAM needs (records, then routes)."""
        return self.neurons * SERIAL_RECORD + self.routes

    @property
    def synapse_ram_depth(self) -> int:
        """Half-words the serial core's synapse RAM needs (axons, then synapses)."""
        return 2 * self.axons + 2 * self.synapses

    def host_queue_spec(self) -> TableSpec:
        return _spec("host_queue", ROUTE_DTYPE, self.host_queue_depth, {
            "axon": self.axon_bits, "slot": self.slot_bits, "y": self.y_bits,
            "x": self.x_bits, "host": 1, "chiplet": 1})


def mesh_params(target: Target | str, **fabric) -> MeshParams:
    """The RTL parameters of a target; :class:`TargetError` if the RTL cannot implement it."""
    t = load_target(target)
    tm, topo = t.timing, t.topology
    have = (tm.neuron_cycles, tm.synapse_cycles, tm.packet_cycles)
    kind = next((k for k in CORE_KINDS.values()
                 if (k.neuron_cycles, k.synapse_cycles, k.packet_cycles) == have), None)
    if kind is None:
        options = ", ".join(f"{k.neuron_cycles}/{k.synapse_cycles}/{k.packet_cycles} ({k.name})"
                            for k in CORE_KINDS.values())
        raise TargetError(f"target {t.name}: timing neuron/synapse/packet cycles must be those "
                          f"of an RTL core — {options} — not {have[0]}/{have[1]}/{have[2]}",
                          where="timing.neuron_cycles")
    if tm.link_latency != 1:
        raise TargetError(f"target {t.name}: timing.link_latency must be 1 for the spikefab "
                          f"RTL, not {tm.link_latency}", where="timing.link_latency")
    if tm.barrier_cycles < 1:
        raise TargetError(f"target {t.name}: timing.barrier_cycles must be >= 1 for the "
                          f"spikefab RTL, not {tm.barrier_cycles}", where="timing.barrier_cycles")
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
    if kind.name == "serial":          # small FPGAs: 256-entry output log (two block RAMs)
        fabric.setdefault("out_log_depth", 256)
    fabric.setdefault("learning", learning_caps(t, kind.name))   # learning=None: a static build
    params = MeshParams(
        target=t.name, mesh_x=topo.mesh_x, mesh_y=topo.mesh_y,
        cores_per_router=topo.cores_per_router, neurons=t.core.neurons,
        synapses=t.core.synapses, axons=t.core.input_axons, routes=t.core.route_entries,
        profiles=t.core.profiles, acc_classes=t.core.acc_classes, max_delay=t.core.max_delay,
        acc_bits=t.core.accumulator_bits, fifo_depth=tm.fifo_depth,
        barrier_cycles=tm.barrier_cycles, x_bits=pf.x_bits, y_bits=pf.y_bits,
        slot_bits=pf.slot_bits, axon_bits=pf.axon_bits, core_kind=kind.name,
        refractory=t.core.max_refractory > 0, adaptive=bool(t.core.adaptive_threshold),
        routing=topo.routing, **fabric)
    if kind.name == "serial":
        _check_serial(t.name, params)
    return params


def learning_caps(t: Target, kind: str) -> EngineCaps | None:
    """The learning engine a target's cores carry (None: no ``[learning]`` engine).

    Only the parallel core has one (the serial core's UP5K has no room: :data:`UP5K_ENGINE`).
    """
    lt = t.learning
    if lt.profiles == 0 or kind != "parallel":
        return None
    return EngineCaps(axons=t.core.input_axons, neurons=t.core.neurons, profiles=lt.profiles,
                      synapses=lt.plastic_synapses, products=max(1, lt.products),
                      entries=t.core.synapses)


def serial_route_fields(p: MeshParams) -> tuple[tuple[str, int], ...]:
    """Fields of the serial core's packed route word, LSB first: the packet (narrower axon)."""
    return (("axon", 16 - (p.slot_bits + p.y_bits + p.x_bits + 1)), ("slot", p.slot_bits),
            ("y", p.y_bits), ("x", p.x_bits), ("host", 1))


def serial_synapse_fields(p: MeshParams) -> tuple[tuple[str, int], ...]:
    """Fields of the serial core's packed synapse word, LSB first."""
    return (("neuron", _bits(p.neurons - 1)), ("delay", _bits(p.max_delay)),
            ("acc_class", _bits(p.acc_classes - 1)))


def _check_serial(name: str, p: MeshParams) -> None:
    """The serial core's RAMs must hold the target's tables (TargetError with the numbers)."""
    limits = [
        (f"core.neurons * {SERIAL_RECORD} + core.route_entries", p.neuron_ram_depth,
         SERIAL_RAM_DEPTH,
         "core.neurons"),
        ("2 * (core.input_axons + core.synapses)", p.synapse_ram_depth, SERIAL_RAM_DEPTH,
         "core.synapses"),
        ("core.profiles * 8", p.profiles * 8, 256, "core.profiles"),
        ("synapse neuron + delay + class bits", sum(b for _, b in serial_synapse_fields(p)), 16,
         "core.neurons"),
        ("core.synapses", p.synapses, 65535, "core.synapses"),
        ("core.route_entries", p.routes, 65535, "core.route_entries"),
    ]
    for what, need, have, where in limits:
        if need > have:
            raise TargetError(f"target {name}: {what} must be at most {have} for the serial RTL "
                              f"core's 16-bit RAMs, not {need}", where=where)


def _check_range(values: np.ndarray, lo: int, hi: int, what: str) -> None:
    if len(values):
        bad = (values.astype(np.int64) < lo) | (values.astype(np.int64) > hi)
        if bad.any():
            v = int(values[np.flatnonzero(bad)[0]])
            raise ImageError(f"{what} must be in {lo}..{hi} for the RTL datapath, not {v}",
                             where=what.split(" ")[0])


def check_rtl_image(image: Image, target: Target | str, params: MeshParams | None = None) -> None:
    """Refuse an image the RTL cannot hold exactly: other target, too big, or values too wide.

    Runs :func:`~spikefab.arch.validate.check_fits` first (target name, table sizes, delays, and
    every value within the field table's register ranges, which the core memories keep at least
    as wide: :meth:`MeshParams.core_tables`), then the RTL's own limits.
    """
    t = load_target(target)
    check_fits(image, t)
    p = params or mesh_params(t)
    for i, c in enumerate(image.cores):
        sec = f"core/{i}"
        if c.n_neurons > p.neurons:
            raise ImageError(f"{sec} has {c.n_neurons} neurons, target {t.name} allows "
                             f"{p.neurons}", where=sec)
    axon_max = (1 << p.core_tables()["routes"].field("axon").bits) - 1
    for name, routes in [("host/routes", image.host_routes)] + [
            (f"core/{i}/routes", c.routes) for i, c in enumerate(image.cores)]:
        host = routes[routes["host"] != 0]
        _check_range(host["axon"], 0, min(axon_max, (1 << 16) - 1), f"{name} output channel")
        _check_range(routes["axon"], 0, axon_max, f"{name} axon")
        _check_range(routes["chiplet"], 0, 0, f"{name} chiplet")
    for i, c in enumerate(image.cores):
        _check_learning(c, t, p, f"core/{i}")
        _check_accumulators(c, p.acc_bits, f"core/{i}")


#: The RTL learning engine alone on the iCE40 UP5K (docs/fpga.md: Yosys + nextpnr, built for
#: 256 axons, 256 neurons, 512 plastic synapses, 8 products) and what the serial core leaves.
UP5K_ENGINE = {"engine_lcs": 5611, "device_lcs": 5280, "serial_core_lcs": 5172}


def _check_learning(core, t: Target, p: MeshParams, sec: str) -> None:
    """A plastic core must fit its core's learning engine (``ImageError``: what, where, need,
    have); a core kind without an engine refuses every plastic core."""
    if not core.plastic:
        return
    where = f"{sec}/learn_profiles"
    caps = p.learning
    if caps is None:
        if p.core_kind == "serial":
            e = UP5K_ENGINE
            raise ImageError(f"{sec} has plastic synapses; the {t.name} RTL has no learning "
                             f"engine: the engine needs {e['engine_lcs']} logic cells, the "
                             f"device has {e['device_lcs'] - e['serial_core_lcs']} free of "
                             f"{e['device_lcs']} next to the serial core (docs/fpga.md)",
                             where=where)
        if learning_caps(t, p.core_kind) is not None:      # the target has one, this build not
            raise ImageError(f"{sec} has plastic synapses and needs a learning engine; this "
                             f"{t.name} fabric has none: a static build without its "
                             f"{t.learning.profiles}-profile engines (docs/fpga.md)", where=where)
        raise ImageError(f"{sec} has plastic synapses; target {t.name} has no learning engine "
                         f"(learning.profiles 0)", where=where)
    prof = core.learn_synapses["profile"].astype(np.int64)
    n_p = len(core.learn_profiles)
    need = {"profiles": (n_p, caps.profiles),
            "plastic synapses": (int(np.count_nonzero(prof < n_p)), caps.synapses),
            # the reward list records each reward synapse of a hit axon once per step
            "reward synapses": (reward_synapses(core), caps.synapses),
            "rule products": (len(core.learn_products), caps.products),
            "input axons": (len(core.axons), caps.axons),
            "neurons": (int(core.n_neurons), caps.neurons)}
    for what, (n, have) in need.items():
        if n > have:
            raise ImageError(f"{sec} needs {n} learning-engine {what}, the {t.name} RTL "
                             f"engine holds {have}", where=where)


def _check_accumulators(core, acc_bits: int, sec: str) -> None:
    """Refuse a core whose dendritic accumulators could overflow the RTL's ``acc_bits``.

    An axon receives at most one packet per step, and each of its synapses adds to one ring
    slot, so a neuron's accumulator (per class) never exceeds the sum of its synapses' ``|weight|``
    over all delays; the compiler proves the same bound (partition pass), images from elsewhere
    are checked here.  A class with weight exponent ``e < 0`` whose synapses have ``n`` delays
    also has its field rounded down to a multiple of ``2**-e`` before each new (source step,
    delay) bucket (Lava's per-bucket floor, :mod:`spikefab.rtl.accumulators`): up to
    ``(n - 1) * (2**-e - 1)`` more below the sum of its weights, added to the bound.
    """
    syn = core.synapses
    if not len(syn):
        return
    neuron = syn["neuron"].astype(np.int64)
    cls = syn["acc_class"].astype(np.int64)
    key = neuron * 256 + cls
    total = np.zeros(int(key.max()) + 1, np.int64)
    mag = np.abs(syn["weight"].astype(np.int64))
    if core.plastic:           # a learned weight may reach the synapse width's -256
        mag[core.learn_synapses["profile"].astype(np.int64) < len(core.learn_profiles)] = 256
    np.add.at(total, key, mag)
    # buckets: distinct delays per (neuron, class); rounding slack 2**k - 1 per extra bucket
    triples = np.unique(key * 256 + syn["delay"].astype(np.int64))
    buckets = np.bincount(triples // 256, minlength=len(total))
    exps = np.asarray(core.acc_exps, np.int64)
    cls_of = np.arange(len(total)) % 256
    k = np.zeros(len(total), np.int64)
    known = cls_of < len(exps)
    k[known] = np.maximum(-exps[cls_of[known]], 0)
    slack = np.maximum(buckets - 1, 0) * ((1 << k) - 1)
    need = total + slack
    limit = (1 << (acc_bits - 1)) - 1
    worst = int(need.argmax())
    if need[worst] > limit:
        why = (f" (with {int(slack[worst])} of rounding for {int(buckets[worst])} delays of "
               f"class {worst % 256}, weight exponent {-int(k[worst])})" if slack[worst] else "")
        raise ImageError(f"{sec}: neuron {worst // 256} must receive at most {limit} in "
                         f"summed |weight| per step{why} to fit the RTL's {acc_bits}-bit "
                         f"accumulators, not {int(need[worst])}", where=f"{sec}/synapses")
