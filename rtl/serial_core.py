"""A neuromorphic core for small FPGAs: its tables in 16-bit single-port RAMs (iCE40 SPRAMs).

The ``parallel`` :class:`~spikefab.rtl.neuron_core.NeuronCore` reads a neuron's whole state
(104 bits), profile (94 bits) and pointers in one cycle from wide block RAMs; on an iCE40 UP5K
those widths alone would need more block RAMs than the chip has, and its wide memory-port
converters more logic.  :class:`SerialCore` implements the same cycle contract
(docs/microarchitecture.md sections 6-7) with the ``serial`` latencies of
:data:`~spikefab.rtl.params.CORE_KINDS` by keeping

* each neuron's record (state, parameters, route pointer) and the route table in a *neuron RAM*,
* the axon table and the synapses in a *synapse RAM* — both 16-bit, one access per cycle: one
  or two 256-kbit SPRAMs each on the UP5K (:class:`~spikefab.rtl.spram.SinglePortRAM`);
* the profiles (eight half-words each) in one block RAM, read in parallel with the neuron RAM;
* the dendritic accumulators in ``D`` block-RAM banks, as in the parallel core.

Words are stored as the image's own half-words wherever the datapath allows
(:meth:`~spikefab.rtl.params.MeshParams.serial_tables`), so the memory port moves them
without format conversion; only a synapse's first word and a route entry are packed.

Update engine, cycle ``k`` of neuron ``i`` (22 cycles; a RAM read gives its data one cycle later):

======  ========================================================================================
k0-1    read the neuron entry (profile | bias exponent, bias mantissa); k0 also reads the
        accumulator ``[slot][i]``, k1 sums its classes (each shifted by its weight exponent)
        and clears it; the profile's eight half-words are read from k1 (profile RAM)
k2-8    read the state (``u``, ``v``, ``theta``: two half-words each, ``ref``)
k9-10   read the route pointer (start, count)
k10     start the shared-multiplier :class:`~spikefab.rtl.lif.LifUnit` on the registers
k13     LIF results: new state into the registers, spike decided
k14-20  write the state back (seven half-words)
k21     read the first route entry; a spiking neuron emits from k22 = ``neuron_cycles``
======  ========================================================================================

Synapse engine: pop (read the axon's start), read its count, then two cycles per synapse —
read the packed word (neuron | delay | class; the accumulator read starts), read the weight and
write the accumulator: ``packet_cycles = 3``, ``synapse_cycles = 2``.

Memory port: the core owns its RAMs while the fabric is idle (``host_access``).  An entry spans
up to eight RAM words, so a write is applied over the following cycles (``mem_ready`` low; the
host holds ``mem_table``/``mem_index``/``mem_wdata`` until it is high again) and a read gathers
the words into the entry's image bytes (``mem_rvalid`` when done).
"""

from dataclasses import dataclass

from amaranth.hdl import C, Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import Out

from spikefab.rtl.accumulators import AccumulatorRing
from spikefab.rtl.lif import LifUnit
from spikefab.rtl.neuron_core import (MEM_DATA_BITS, CoreRegisters, accumulator_ring, core_members,
                                        ejection_fifo)
from spikefab.rtl.params import (CORE_KINDS, CORE_TABLE_IDS, MeshParams, serial_route_fields,
                                   serial_synapse_fields)
from spikefab.rtl.route_emitter import RouteEmitter
from spikefab.rtl.router import packet_fields
from spikefab.rtl.spram import SinglePortRAM

__all__ = ["SerialCore"]

NEURON_CYCLES = CORE_KINDS["serial"].neuron_cycles
#: Image byte offset of each field a packed word holds (SYNAPSE_DTYPE / ROUTE_DTYPE).
_SYNAPSE_BYTES = {"neuron": 0, "delay": 4, "acc_class": 5}
_ROUTE_BYTES = {"host": 0, "slot": 1, "x": 4, "y": 6, "axon": 8}


def _pack(fields, wdata) -> Cat:
    """A packed word from an entry's image bytes (fields LSB first, each truncated)."""
    return Cat(*(wdata[by * 8:by * 8 + bits] for (name, bits), by in fields))


def _with_bytes(fields, table) -> list:
    return [((name, bits), table[name]) for name, bits in fields]


def _syn_fields(p: MeshParams) -> list:
    """The packed synapse word's fields with their image byte offsets."""
    return _with_bytes(serial_synapse_fields(p), _SYNAPSE_BYTES)


def _route_fields(p: MeshParams) -> list:
    """The packed route word's fields with their image byte offsets."""
    return _with_bytes(serial_route_fields(p), _ROUTE_BYTES)


@dataclass
class _Rams:
    """The serial core's memories: neuron and synapse SPRAMs, the profile block RAM's ports."""

    nram: SinglePortRAM
    sram: SinglePortRAM
    prp: object
    pwp: object


@dataclass
class _HostPort:
    """The memory port's walk over an entry's chunks (see :meth:`SerialCore._host_chunks`)."""

    hs: Signal          #: HIDLE, HWRITE, HREAD
    hc: Signal          #: the chunk presented this cycle
    addr: Signal        #: its RAM address
    ram: dict           #: RAM name -> the chunk lives in it
    src: Signal         #: image half-word of a copy chunk
    kind: Signal        #: _KINDS
    n_chunks: Signal
    wdata: Signal       #: the word a write stores
    prof_en: Signal     #: half-words of ``prof`` loaded this cycle (host read or profile read)


@dataclass
class _Operands:
    """Operand registers of the update engine, in the image's byte layout (STATE_DTYPE,
    NEURON_DTYPE, PROFILE_DTYPE); while the fabric is idle ``prof`` (one 16-byte entry) doubles
    as the buffer a host read gathers its words into."""

    state: Signal
    neuron: Signal
    prof: Signal


@dataclass
class _Update:
    """The update engine's position: state, cycle ``k`` of neuron ``i``, one strobe per k."""

    us: Signal
    k: Signal
    i: Signal
    at: dict            #: k -> running and at cycle k
    rp_start: Signal    #: the neuron's route pointer (read in k9-10)
    rp_count: Signal


_KINDS = {"copy": 0, "synapse": 1, "route": 2}
#: k -> neuron-record half-word read in cycle k (its data is captured in k + 1)
_RECORD_READS = {0: 7, 1: 8, 2: 0, 3: 1, 4: 2, 5: 3, 6: 4, 7: 5, 8: 6, 9: 9, 10: 10}


class SerialCore(wiring.Component):
    """A core of a ``serial`` target (see the module docstring for the schedule).

    Ports are those of :class:`~spikefab.rtl.neuron_core.NeuronCore` plus ``mem_rvalid``
    (a read's data is ready) and ``mem_ready`` (the last write is applied).

    ``elaborate`` builds the parts in order: memories, the host port (:meth:`_host_chunks`,
    :meth:`_host_gather`, :meth:`_host_fsm`), the update engine (:meth:`_update_engine` with
    :meth:`_record_port`, :meth:`_profile_reads`, :meth:`_synaptic_input`, :meth:`_lif`), the
    synapse engine (:meth:`_synapse_engine`) and the RAM port multiplexers (:meth:`_ram_ports`).
    """

    HIDLE, HWRITE, HREAD = range(3)          #: host-port states
    UIDLE, RUN, EMIT = range(3)              #: update-engine states
    SIDLE, AX1, AX2, SA, SB = range(5)       #: synapse-engine states
    LIF_START = 10                           #: k that starts the LIF unit
    LIF_DONE = LIF_START + 3                 #: k of its results

    def __init__(self, params: MeshParams) -> None:
        self.params = params
        super().__init__(core_members(params) | {"mem_rvalid": Out(1), "mem_ready": Out(1)})

    def elaborate(self, platform):
        m = Module()
        p = self.params
        rams = self._memories(m)
        regs = CoreRegisters.create(p)
        ring = accumulator_ring(m, self, p, regs)
        ops = _Operands(Signal(104, name="state"), Signal(32, name="neuron"),
                        Signal(MEM_DATA_BITS, name="prof"))
        hp = self._host_chunks(m)
        self._host_gather(m, rams, hp, ops.prof)
        self._host_fsm(m, hp, regs, ops.prof)
        us, e_addr, e_we, e_wdata, e_paddr = self._update_engine(m, rams, hp, ops, regs, ring)
        ss, s_addr, ej = self._synapse_engine(m, rams, ring)
        self._ram_ports(m, rams, hp, e_addr, e_we, e_wdata, e_paddr, s_addr)
        m.d.comb += self.done.eq((us == self.UIDLE) & (ss == self.SIDLE) & ~ej.r_rdy)
        return m

    def _memories(self, m: Module) -> _Rams:
        p = self.params
        nram = m.submodules.neuron_ram = SinglePortRAM(p.neuron_ram_depth)
        sram = m.submodules.synapse_ram = SinglePortRAM(p.synapse_ram_depth)
        pmem = m.submodules.profile_ram = Memory(shape=16, depth=p.profiles * 8, init=[])
        return _Rams(nram, sram, pmem.read_port(), pmem.write_port())

    # ---------------------------------------------------------------- host port
    def _host_chunks(self, m: Module) -> _HostPort:
        """Decode the chunk ``hc`` of the addressed entry: RAM, address, source, written word.

        ``hc`` walks the entry's chunks: a write stores chunk ``hc`` in cycle ``hc``; a read
        presents chunk ``hc`` and gathers chunk ``hc - 1`` (its data) into the image bytes.
        """
        p = self.params
        hp = _HostPort(hs=Signal(range(3), name="hs"), hc=Signal(range(9), name="hc"),
                       addr=Signal(16, name="h_addr"),
                       ram={ram: Signal(name=f"h_{ram}") for ram in ("neuron", "synapse",
                                                                     "profile")},
                       src=Signal(3, name="h_src"), kind=Signal(2, name="h_kind"),
                       n_chunks=Signal(range(9), name="n_chunks"),
                       wdata=Signal(16, name="h_wdata"), prof_en=Signal(8, name="prof_en"))
        for name, t in p.serial_tables().items():
            with m.If(self.mem_table == CORE_TABLE_IDS[name]):
                m.d.comb += hp.n_chunks.eq(len(t.chunks))
                with m.Switch(hp.hc):
                    for c, ch in enumerate(t.chunks):
                        with m.Case(c):
                            m.d.comb += [hp.addr.eq(t.base + self.mem_index * t.stride
                                                    + ch.offset),
                                         hp.src.eq(max(ch.src, 0)), hp.kind.eq(_KINDS[ch.kind]),
                                         hp.ram[t.ram].eq(1)]
        # the word written: an image half-word, or a packed synapse / route word
        with m.Switch(hp.kind):
            with m.Case(_KINDS["synapse"]):
                m.d.comb += hp.wdata.eq(_pack(_syn_fields(p), self.mem_wdata))
            with m.Case(_KINDS["route"]):
                m.d.comb += hp.wdata.eq(_pack(_route_fields(p), self.mem_wdata))
            with m.Default():
                m.d.comb += hp.wdata.eq(self.mem_wdata.word_select(hp.src, 16))
        return hp

    def _host_gather(self, m: Module, rams: _Rams, hp: _HostPort, gather: Signal) -> None:
        """A read's chunk data (arriving one cycle after the chunk) into ``gather``'s bytes."""
        # the chunk read in the previous cycle (same table and index) arrives now
        prev_src = Signal(3)
        prev_kind = Signal(2)
        prev_ram = {ram: Signal(name=f"prev_{ram}") for ram in hp.ram}
        prev_host = Signal()
        m.d.sync += [prev_src.eq(hp.src), prev_kind.eq(hp.kind), prev_host.eq(self.host_access)]
        m.d.sync += [prev_ram[r].eq(hp.ram[r]) for r in hp.ram]
        # one 16-bit word feeds ``prof``: the profile RAM while the engine runs, else the RAM the
        # host read last (so each of the register's half-words has one source and an enable)
        word = Signal(16)
        m.d.comb += word.eq(Mux(prev_host & prev_ram["neuron"], rams.nram.rdata,
                                Mux(prev_host & prev_ram["synapse"], rams.sram.rdata,
                                    rams.prp.data)))
        gathering = (hp.hs == self.HREAD) & (hp.hc != 0)
        with m.If(gathering & (prev_kind == _KINDS["copy"])):
            m.d.comb += hp.prof_en.eq(C(1, 8) << prev_src)
        for h in range(8):
            with m.If(hp.prof_en[h]):
                m.d.sync += gather[16 * h:16 * (h + 1)].eq(word)
        for kind, fields in (("synapse", _syn_fields(self.params)),
                             ("route", _route_fields(self.params))):
            with m.If(gathering & (prev_kind == _KINDS[kind])):
                off = 0
                for (name, bits), by in fields:
                    m.d.sync += gather[by * 8:by * 8 + bits].eq(word[off:off + bits])
                    off += bits

    def _host_fsm(self, m: Module, hp: _HostPort, regs: CoreRegisters, gather: Signal) -> None:
        """Registers are written / read at once; a table entry walks its chunks."""
        rvalid = Signal()
        m.d.comb += [self.mem_ready.eq(hp.hs == self.HIDLE), self.mem_rvalid.eq(rvalid),
                     self.mem_rdata.eq(gather)]
        m.d.sync += rvalid.eq(0)
        table = self.mem_table
        is_reg = (table == CORE_TABLE_IDS["config"]) | (table == CORE_TABLE_IDS["acc_exps"])
        with m.Switch(hp.hs):
            with m.Case(self.HIDLE):
                write = self.mem_sel & self.mem_we
                regs.write(m, table, self.mem_index, self.mem_wdata, write)
                with m.If(write & ~is_reg):
                    m.d.sync += [hp.hs.eq(self.HWRITE), hp.hc.eq(0)]
                with m.If(self.mem_sel & self.mem_re):
                    m.d.sync += [hp.hs.eq(self.HREAD), hp.hc.eq(0), gather.eq(0)]
                    regs.read(m, table, self.mem_index, gather)
            with m.Case(self.HWRITE):
                m.d.sync += hp.hc.eq(hp.hc + 1)
                with m.If(hp.hc + 1 >= hp.n_chunks):
                    m.d.sync += hp.hs.eq(self.HIDLE)
            with m.Case(self.HREAD):
                m.d.sync += hp.hc.eq(hp.hc + 1)
                with m.If(hp.hc == hp.n_chunks):
                    m.d.sync += [hp.hs.eq(self.HIDLE), rvalid.eq(1)]

    # ---------------------------------------------------------------- update engine
    def _update_engine(self, m: Module, rams: _Rams, hp: _HostPort, ops: _Operands,
                       regs: CoreRegisters, ring: AccumulatorRing):
        """RUN: cycles k0-k21 of neuron ``i``; EMIT: its route entries.  Returns the state and
        the engine's neuron-RAM address / write strobes / write word and profile-RAM address."""
        p = self.params
        UIDLE, RUN, EMIT = self.UIDLE, self.RUN, self.EMIT
        us = Signal(range(3), name="us")
        k = Signal(range(NEURON_CYCLES), name="k")
        u = _Update(us, k, Signal(range(p.neurons + 1), name="i"),
                    {kk: (us == RUN) & (k == kk) for kk in range(NEURON_CYCLES)},
                    Signal(range(p.routes + 1), name="rp_start"),
                    Signal(range(p.routes + 1), name="rp_count"))
        i, last_k = u.i, NEURON_CYCLES - 1
        emitter = m.submodules.emitter = RouteEmitter(p.routes)
        # k21 reads the first route entry and loads the emitter
        m.d.comb += [emitter.start.eq(u.at[last_k]), emitter.first.eq(u.rp_start),
                     emitter.count.eq(u.rp_count), emitter.enable.eq(us == EMIT),
                     emitter.inj_ready.eq(self.inj_ready)]
        spike_r = self._lif(m, u, ops, self._synaptic_input(m, u, regs, ring))
        last_neuron = (i + 1) >= regs.n_neurons
        with m.If(self.go):
            m.d.sync += [i.eq(0), k.eq(0), us.eq(Mux(regs.n_neurons == 0, UIDLE, RUN))]
        with m.Switch(us):
            with m.Case(RUN):
                m.d.sync += k.eq(k + 1)
                with m.If(k == last_k):
                    m.d.sync += k.eq(0)
                    with m.If(spike_r & (u.rp_count != 0)):
                        m.d.sync += us.eq(EMIT)
                    with m.Elif(last_neuron):
                        m.d.sync += us.eq(UIDLE)
                    with m.Else():
                        m.d.sync += i.eq(i + 1)
            with m.Case(EMIT):
                with m.If(emitter.last):
                    m.d.sync += [us.eq(Mux(last_neuron, UIDLE, RUN)),
                                 i.eq(Mux(last_neuron, i, i + 1))]
        # the packet of a route word: its fields with the axon zero-extended
        packed, off = {}, 0
        for (name, bits), _ in _route_fields(p):
            packed[name] = rams.nram.rdata[off:off + bits]
            off += bits
        m.d.comb += [self.inj_valid.eq(emitter.inj_valid),
                     self.inj_data.eq(Cat(packed["axon"], C(0, p.axon_bits - len(packed["axon"])),
                                          packed["slot"], packed["y"], packed["x"],
                                          packed["host"]))]
        e_addr, e_we, e_wdata = self._record_port(m, rams, u, ops, emitter)
        return us, e_addr, e_we, e_wdata, self._profile_reads(m, rams, hp, u, ops)

    def _record_port(self, m: Module, rams: _Rams, u: _Update, ops: _Operands,
                     emitter: RouteEmitter):
        """The engine's neuron-RAM accesses: record reads (k0-10) captured one cycle later,
        state writes (k14-20), the first route entry (k21), route entries while emitting."""
        routes_base = self.params.serial_tables()["routes"].base
        state, neuron = ops.state, ops.neuron
        captures = {1: neuron[0:16], 2: neuron[16:32], 3: state[0:16], 4: state[16:32],
                    5: state[32:48], 6: state[48:64], 7: state[64:80], 8: state[80:96],
                    9: state[96:104], 10: u.rp_start, 11: u.rp_count}
        for kk, dst in captures.items():
            with m.If(u.at[kk]):
                m.d.sync += dst.eq(rams.nram.rdata[:len(dst)])
        writes = {self.LIF_DONE + 1 + h: h for h in range(7)}      # k14..k20: state half-words
        e_addr = Signal(16, name="e_addr")
        e_we = Signal(2, name="e_we")
        with m.If(u.us == self.EMIT):
            m.d.comb += e_addr.eq(routes_base + emitter.addr)
        with m.Elif(u.us == self.RUN):
            with m.Switch(u.k):
                for kk, off in _RECORD_READS.items():
                    with m.Case(kk):
                        m.d.comb += e_addr.eq(Cat(C(off, 4), u.i))     # i * SERIAL_RECORD
                for kk, h in writes.items():
                    with m.Case(kk):
                        m.d.comb += [e_addr.eq(Cat(C(h, 4), u.i)), e_we.eq(0b11)]
                with m.Case(NEURON_CYCLES - 1):
                    m.d.comb += e_addr.eq(routes_base + u.rp_start)
        write_half = Signal(range(8))
        m.d.comb += write_half.eq(u.k - (self.LIF_DONE + 1))
        return e_addr, e_we, Cat(state, C(0, 8)).word_select(write_half, 16)

    def _profile_reads(self, m: Module, rams: _Rams, hp: _HostPort, u: _Update,
                       ops: _Operands) -> Signal:
        """Half-word c of the neuron's profile read in k1+c, captured in k2+c; the address."""
        p = self.params
        prof_bits = (p.profiles - 1).bit_length() or 1
        prof_idx = Mux(u.k == 1, rams.nram.rdata[:prof_bits], ops.neuron[:prof_bits])
        e_paddr = Signal(16, name="e_paddr")
        m.d.comb += e_paddr.eq(Cat((u.k - 1)[:3], prof_idx))
        for c in range(8):
            with m.If(u.at[2 + c]):
                m.d.comb += hp.prof_en[c].eq(1)
        return e_paddr

    def _synaptic_input(self, m: Module, u: _Update, regs: CoreRegisters,
                        ring: AccumulatorRing) -> Signal:
        """k1: a = sum_c shift(acc[slot][c][i], acc_exps[c]) (int32 wrap), and clear.

        The shift is a multiplication by a power of two (a DSP block, not a barrel shifter):
        acc << e = acc * 2**e, and acc >> -e = (acc * 2**(16 - (-e))) >> 16 exactly.
        """
        p = self.params
        AB = p.acc_bits
        a_r = Signal(signed(32), name="a_r")
        a_sum = C(0, signed(32))
        for c in range(p.acc_classes):
            acc = ring.current[c * AB:(c + 1) * AB].as_signed()
            e = regs.acc_exps[c]
            amount = Signal(4, name=f"shift{c}")
            m.d.comb += amount.eq(Mux(e >= 0, e[:4], (e + 16)[:4]))
            power = Signal(unsigned(16), name=f"power{c}")
            m.d.comb += power.eq(C(1, 16) << amount)
            prod = Signal(signed(AB + 17), name=f"scaled{c}")
            m.d.comb += prod.eq(acc * power)
            term = Mux(e >= 0, prod[:32].as_signed(), prod[16:].as_signed())
            a_sum = (a_sum + term)[:32].as_signed()
        with m.If(u.at[1]):
            m.d.sync += a_r.eq(a_sum)
        m.d.comb += [ring.neuron.eq(u.i), ring.clear_current.eq(u.at[1])]
        return a_r

    def _lif(self, m: Module, u: _Update, ops: _Operands, a) -> Signal:
        """k10: start the LIF unit on the registers; k13: results into the state register.
        Returns the registered spike."""
        p = self.params
        lif = m.submodules.lif = LifUnit(latch_operands=False, refractory=p.refractory,
                                         adaptive=p.adaptive)
        state, neuron, prof = ops.state, ops.neuron, ops.prof
        spike_r = Signal(name="spike_r")
        m.d.comb += [
            lif.start.eq(u.at[self.LIF_START]),
            lif.u.eq(state[0:32].as_signed()), lif.v.eq(state[32:64].as_signed()),
            lif.theta.eq(state[64:96].as_signed()), lif.ref.eq(state[96:104]),
            lif.a.eq(a), lif.bias_exp.eq(neuron[8:13].as_signed()),
            lif.bias_mant.eq(neuron[16:32].as_signed()),
            lif.du.eq(prof[0:12]), lif.dv.eq(prof[16:28]), lif.vth.eq(prof[32:49]),
            lif.reset_mode.eq(prof[64]), lif.refractory.eq(prof[72:80]),
            lif.theta_decay.eq(prof[80:92]), lif.theta_inc.eq(prof[96:128].as_signed()),
            self.ev_spike.eq(u.at[self.LIF_DONE] & lif.spike),
        ]
        with m.If(u.at[self.LIF_DONE]):
            m.d.sync += [state.eq(Cat(lif.u_new, lif.v_new, lif.theta_new, lif.ref_new)),
                         spike_r.eq(lif.spike)]
        return spike_r

    # ---------------------------------------------------------------- synapse engine
    def _synapse_engine(self, m: Module, rams: _Rams, ring: AccumulatorRing):
        """Pop, axon start (AX1), count (AX2), then per synapse: packed word (SA), weight and
        accumulator add (SB).  Returns the state, the synapse-RAM address and the FIFO."""
        p = self.params
        D, CL = p.ring_slots, p.acc_classes
        lay = p.serial_tables()
        SIDLE, AX1, AX2, SA, SB = self.SIDLE, self.AX1, self.AX2, self.SA, self.SB
        ej = ejection_fifo(m, self, p)
        ss = Signal(range(5), name="ss")
        sp = Signal(range(p.synapses + 1))
        scount = Signal(range(p.synapses + 1))
        axon_r = Signal(p.axon_bits)
        bank_r = Signal(range(D))
        delay_r = Signal(range(p.max_delay + 1))
        neuron_r = Signal(range(p.neurons))
        class_r = Signal(range(max(CL, 2)))
        ax, sy = lay["axons"], lay["synapses"]
        s_addr = Signal(16, name="s_addr")
        syn, off = {}, 0
        for (name, bits), _ in _syn_fields(p):
            syn[name] = rams.sram.rdata[off:off + bits]
            off += bits
        axon = packet_fields(p, ej.r_data)[0]
        with m.Switch(ss):
            with m.Case(SIDLE):
                m.d.comb += s_addr.eq(ax.base + axon * ax.stride)
                with m.If(ej.r_rdy):
                    m.d.comb += ej.r_en.eq(1)
                    m.d.sync += [ss.eq(AX1), axon_r.eq(axon)]
            with m.Case(AX1):
                m.d.comb += s_addr.eq(ax.base + axon_r * ax.stride + ax.chunks[1].offset)
                m.d.sync += [sp.eq(rams.sram.rdata), ss.eq(AX2)]
            with m.Case(AX2):
                count = rams.sram.rdata
                m.d.comb += s_addr.eq(sy.base + sp * sy.stride)
                m.d.sync += [scount.eq(count), ss.eq(Mux(count == 0, SIDLE, SA))]
            with m.Case(SA):
                bsum = self.slot + 1 + syn["delay"]
                m.d.comb += s_addr.eq(sy.base + sp * sy.stride + sy.chunks[1].offset)
                m.d.sync += [bank_r.eq(Mux(bsum >= D, bsum - D, bsum)),
                             neuron_r.eq(syn["neuron"]), class_r.eq(syn["acc_class"]),
                             delay_r.eq(syn["delay"]), ss.eq(SB)]
            with m.Case(SB):
                m.d.comb += s_addr.eq(sy.base + (sp + 1) * sy.stride)
                m.d.sync += [sp.eq(sp + 1), scount.eq(scount - 1),
                             ss.eq(Mux(scount == 1, SIDLE, SA))]
        m.d.comb += [self.ev_synop.eq(ss == SB),
                     ring.syn_neuron.eq(syn["neuron"]), ring.add.eq(ss == SB),
                     ring.add_bank.eq(bank_r), ring.add_delay.eq(delay_r),
                     ring.add_neuron.eq(neuron_r), ring.add_class.eq(class_r),
                     ring.weight.eq(rams.sram.rdata[:9].as_signed())]
        return ss, s_addr, ej

    def _ram_ports(self, m: Module, rams: _Rams, hp: _HostPort, e_addr, e_we, e_wdata, e_paddr,
                   s_addr) -> None:
        """Each RAM port belongs to the host while the fabric is idle, else to its engine."""
        host = self.host_access
        writing = hp.hs == self.HWRITE
        m.d.comb += [
            rams.nram.addr.eq(Mux(host, hp.addr, e_addr)),
            rams.nram.we.eq(Mux(host, Mux(writing & hp.ram["neuron"], 0b11, 0), e_we)),
            rams.nram.wdata.eq(Mux(host, hp.wdata, e_wdata)),
            rams.prp.addr.eq(Mux(host, hp.addr, e_paddr)),
            rams.pwp.addr.eq(hp.addr), rams.pwp.data.eq(hp.wdata),
            rams.pwp.en.eq(writing & hp.ram["profile"]),
            rams.sram.addr.eq(Mux(host, hp.addr, s_addr)),
            rams.sram.we.eq(Mux(host & writing & hp.ram["synapse"], 0b11, 0)),
            rams.sram.wdata.eq(hp.wdata),
        ]
