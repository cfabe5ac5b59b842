"""One neuromorphic core: memories in the image layout, update engine, synapse engine.

Implements ``docs/microarchitecture.md`` sections 6 and 7 cycle for cycle:

* **update engine** — neuron ``i`` takes ``NEURON_CYCLES = 6`` cycles: ``C0`` presents the
  neuron/state/route-pointer/accumulator addresses, ``C1`` sums the accumulator classes (each
  shifted by its weight exponent) and clears the slot entry, ``C2`` starts the
  :class:`~spikefab.rtl.lif.LifUnit` (profile now read), ``C5`` writes the state back.  A
  spiking neuron then sends one route entry per cycle while the injection link has credit.
* **synapse engine** — pops a packet from the ejection FIFO when idle, reads the axon table in
  ``PACKET_CYCLES = 2`` cycles, then spends ``SYNAPSE_CYCLES = 2`` cycles per synapse entry: read
  the entry, read-modify-write the accumulator ``[(t + 1 + delay) mod D, class, neuron]``.

Accumulators live in ``D = max_delay + 2`` banks (one memory per ring slot), each with one read
and one write port: the update engine only touches bank ``t mod D`` and the synapse engine never
does, so both engines run concurrently without port conflicts.

Every table (profiles, neurons, state, axons, synapses, route_ptr, routes) is one
``lib.memory.Memory`` holding only the bits the datapath needs (:meth:`MeshParams.core_tables`);
the memory port converts to and from the image's byte layout.  ``acc_exps`` and the neuron count
(``config``) are registers.
"""

from dataclasses import dataclass

from amaranth.hdl import C, Cat, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from spikefab.arch.image import LEARN_STATIC
from spikefab.arch.memory_map import CoreTable
from spikefab.rtl.accumulators import AccumulatorRing
from spikefab.rtl.learning.core_learning import CoreLearning
from spikefab.rtl.lif import LifUnit
from spikefab.rtl.params import CORE_TABLE_IDS, MeshParams, TableSpec
from spikefab.rtl.route_emitter import RouteEmitter
from spikefab.rtl.router import packet_fields

__all__ = ["NeuronCore", "MEM_DATA_BITS", "core_members", "to_stored", "from_stored",
           "fields_of", "CoreRegisters", "accumulator_ring", "ejection_fifo"]

MEM_DATA_BITS = 128


def to_stored(spec: TableSpec, wdata):
    """Image byte layout (a 128-bit Value) -> the stored word of a table."""
    return Cat(*(wdata[f.offset * 8:f.offset * 8 + f.bits] for f in spec.fields))


def from_stored(m: Module, spec: TableSpec, word, out) -> None:
    """Stored word -> image byte layout in ``out`` (fields sign/zero-extended to their bytes)."""
    m.d.comb += out.eq(0)      # bytes no field covers read as zero (not X in Verilog)
    off = 0
    for f in spec.fields:
        val = word[off:off + f.bits]
        val = val.as_signed() if f.signed else val.as_unsigned()
        m.d.comb += out[f.offset * 8:(f.offset + f.nbytes) * 8].eq(val)
        off += f.bits


def fields_of(spec: TableSpec, word) -> dict:
    """Field name -> slice of a stored word (signed fields as signed Values)."""
    out, off = {}, 0
    for f in spec.fields:
        v = word[off:off + f.bits]
        out[f.name] = v.as_signed() if f.signed else v
        off += f.bits
    return out


def core_members(params: MeshParams) -> dict:
    """The ports every core kind has (the serial core adds ``mem_rvalid`` / ``mem_ready``; a
    core with a learning engine adds ``learn_start`` / ``learn_done``, its phase)."""
    w = params.packet_width
    learn = {"learn_start": In(1), "learn_done": Out(1)} if params.learning else {}
    return {**learn,
        "go": In(1), "slot": In(range(params.ring_slots)), "done": Out(1),
        "clear": In(1), "clearing": Out(1), "host_access": In(1),
        "inj_valid": Out(1), "inj_data": Out(unsigned(w)), "inj_ready": In(1),
        "ej_valid": In(1), "ej_data": In(unsigned(w)), "ej_ready": Out(1),
        "mem_sel": In(1), "mem_table": In(params.table_bits), "mem_index": In(16),
        "mem_wdata": In(MEM_DATA_BITS), "mem_we": In(1), "mem_re": In(1),
        "mem_rdata": Out(MEM_DATA_BITS),
        "ev_spike": Out(1), "ev_synop": Out(1),
    }


@dataclass
class CoreRegisters:
    """The registers every core kind keeps outside its memories: ``acc_exps`` and the neuron
    count (the ``config`` table)."""

    acc_exps: list
    n_neurons: Signal

    @classmethod
    def create(cls, params: MeshParams) -> "CoreRegisters":
        return cls([Signal(signed(5), name=f"acc_exp{c}") for c in range(params.acc_classes)],
                   Signal(range(params.neurons + 1), name="n_neurons"))

    def write(self, m: Module, table, index, wdata, strobe) -> None:
        """Host writes: ``strobe`` while the port writes ``table``/``index``."""
        with m.If(strobe & (table == CORE_TABLE_IDS["config"])):
            m.d.sync += self.n_neurons.eq(wdata[:16])
        with m.If(strobe & (table == CORE_TABLE_IDS["acc_exps"])):
            with m.Switch(index):
                for c, exp in enumerate(self.acc_exps):
                    with m.Case(c):
                        m.d.sync += exp.eq(wdata[:5])

    def read(self, m: Module, table, index, out) -> None:
        """Host reads into ``out`` (sync): a register in the image's byte layout, else 0."""
        with m.Switch(table):
            with m.Case(CORE_TABLE_IDS["acc_exps"]):
                with m.Switch(index):
                    for c, exp in enumerate(self.acc_exps):
                        with m.Case(c):
                            m.d.sync += out.eq(Cat(exp, exp[4].replicate(3)))
                    with m.Default():
                        m.d.sync += out.eq(0)
            with m.Case(CORE_TABLE_IDS["config"]):
                m.d.sync += out.eq(self.n_neurons)


def accumulator_ring(m: Module, core, params: MeshParams,
                     regs: CoreRegisters) -> AccumulatorRing:
    """The core's :class:`AccumulatorRing`, wired to its step slot, clear ports and weight
    exponents (it floors each delay bucket by them)."""
    ring = m.submodules.acc = AccumulatorRing(params)
    m.d.comb += [ring.slot.eq(core.slot), ring.clear.eq(core.clear),
                 core.clearing.eq(ring.clearing)]
    m.d.comb += [ring.acc_exps[c].eq(exp) for c, exp in enumerate(regs.acc_exps)]
    return ring


def ejection_fifo(m: Module, core, params: MeshParams) -> SyncFIFO:
    """The core's ejection FIFO (packets from the router), wired to its ``ej_*`` ports."""
    ej = m.submodules.ejection = SyncFIFO(width=params.packet_width, depth=params.fifo_depth)
    m.d.comb += [ej.w_en.eq(core.ej_valid), ej.w_data.eq(core.ej_data),
                 core.ej_ready.eq(ej.w_rdy)]
    return ej


@dataclass
class _Tables:
    """The parallel core's table memories: specs, read / write ports and read-data fields."""

    specs: dict
    rps: dict
    wps: dict
    rd: dict
    #: the reward-synapse marks (``LEARN_REWARD``, with a learning engine): read port, profile bits
    marks: object = None
    mark_pb: int = 0


class NeuronCore(wiring.Component):
    """A core of the mesh.

    Ports: step control (``go`` one cycle before cycle 0 of a step, ``slot`` = ``t mod D``),
    ``done`` (update engine done, synapse engine idle, ejection FIFO empty), injection link to
    the router (``inj_*``), ejection link from the router (``ej_*``), the memory port already
    decoded for this core (``mem_sel``), ``host_access`` (memories belong to the port while the
    fabric is idle), ``clear`` (zero the accumulators; ``clearing`` while it sweeps) and one-cycle
    event strobes for the fabric counters.

    ``elaborate`` builds the parts in order: tables, registers, host reads, update engine
    (:meth:`_update_engine`, with its synaptic input :meth:`_synaptic_input` and LIF wiring
    :meth:`_lif`), synapse engine (:meth:`_synapse_engine`).
    """

    #: update-engine states (C0-C5: cycles of one neuron, EMIT: sending its route entries)
    UIDLE, C0, C1, C2, C3, C4, C5, EMIT = range(8)
    #: synapse-engine states
    SIDLE, PKT, SYN_A, SYN_B = range(4)

    def __init__(self, params: MeshParams) -> None:
        self.params = params
        super().__init__(core_members(params))

    def elaborate(self, platform):
        m = Module()
        p = self.params
        tables = self._tables(m)
        regs = CoreRegisters.create(p)
        regs.write(m, self.mem_table, self.mem_index, self.mem_wdata, self.mem_sel & self.mem_we)
        learn = self._learning(m, tables) if p.learning else None
        self._host_reads(m, tables, regs, learn)
        ring = accumulator_ring(m, self, p, regs)
        us = self._update_engine(m, tables, regs, ring, learn)
        ss, ej = self._synapse_engine(m, tables, ring, learn)
        m.d.comb += self.done.eq((us == self.UIDLE) & (ss == self.SIDLE) & ~ej.r_rdy)
        return m

    def _learning(self, m: Module, t: _Tables) -> CoreLearning:
        """The learning engine (``params.learning``): its memory port (core tables
        ``LEARN_SYNAPSES`` .. ``LEARN_CONFIG``), its phase, and the learned weights written back
        into the synapse memory (the engine's write of a plastic synapse; the synapse memory
        was read at the engine's entry while it replayed)."""
        lc = m.submodules.learning = CoreLearning(self.params.learning)
        eng = lc.engine
        first = int(CoreTable.LEARN_SYNAPSES)
        mine = self.mem_sel & (self.mem_table >= first) & (self.mem_table <= CoreTable.LEARN_CONFIG)
        m.d.comb += [eng.mem_we.eq(mine & self.mem_we), eng.mem_re.eq(mine & self.mem_re),
                     eng.mem_table.eq(self.mem_table - first), eng.mem_index.eq(self.mem_index),
                     eng.mem_wdata.eq(self.mem_wdata), lc.go.eq(self.go), lc.clear.eq(self.clear),
                     lc.start.eq(self.learn_start), self.learn_done.eq(lc.done),
                     lc.spike.eq(self.ev_spike)]
        self._reward_marks(m, t)
        spec, wp = t.specs["synapses"], t.wps["synapses"]
        old = fields_of(spec, t.rps["synapses"].data)
        parts = [eng.wb_weight[:f.bits] if f.name == "weight" else old[f.name][:f.bits]
                 for f in spec.fields]
        with m.If(eng.wb_en):
            m.d.comb += [wp.addr.eq(eng.wb_entry), wp.data.eq(Cat(*parts)), wp.en.eq(1)]
        return lc

    def _reward_marks(self, m: Module, t: _Tables) -> None:
        """The ``LEARN_REWARD`` table: per synapse entry a reward flag and its profile (the u8
        ``LEARN_REWARD + p`` written, anything else no mark; reads give it back or 255)."""
        pb = max(1, (self.params.learning.profiles - 1).bit_length())
        mem = m.submodules.mem_learn_reward = Memory(shape=pb + 1,
                                                     depth=self.params.synapses, init=[])
        wp = mem.write_port()
        byte = self.mem_wdata[:8]
        m.d.comb += [wp.addr.eq(self.mem_index),
                     wp.data.eq(Cat(byte[:pb], byte[7] & (byte != LEARN_STATIC))),
                     wp.en.eq(self.mem_sel & self.mem_we
                              & (self.mem_table == CoreTable.LEARN_REWARD))]
        t.marks, t.mark_pb = mem.read_port(), pb

    def _tables(self, m: Module) -> _Tables:
        """One memory per table; the memory port writes every table in the image layout."""
        specs = self.params.core_tables()
        t = _Tables(specs, {}, {}, {})
        for name in ("profiles", "neurons", "state", "axons", "synapses", "route_ptr", "routes"):
            spec = specs[name]
            mem = m.submodules[f"mem_{name}"] = Memory(shape=unsigned(spec.width),
                                                       depth=spec.depth, init=[])
            t.rps[name] = mem.read_port()
            t.wps[name] = mem.write_port()
            t.rd[name] = fields_of(spec, t.rps[name].data)
        # host writes (the update engine adds its state write in _lif)
        for name, wp in t.wps.items():
            m.d.comb += [wp.addr.eq(self.mem_index),
                         wp.data.eq(to_stored(specs[name], self.mem_wdata)),
                         wp.en.eq(self.mem_sel & self.mem_we
                                  & (self.mem_table == CORE_TABLE_IDS[name]))]
        return t

    def _host_reads(self, m: Module, t: _Tables, regs: CoreRegisters,
                    learn: CoreLearning | None = None) -> None:
        """``mem_rdata``: the table read last cycle in the image layout, a register, or a
        learning-engine word."""
        rsel = Signal(self.params.table_bits)
        reg_rdata = Signal(MEM_DATA_BITS)
        with m.If(self.mem_re & self.mem_sel):
            m.d.sync += rsel.eq(self.mem_table)
            regs.read(m, self.mem_table, self.mem_index, reg_rdata)
        with m.Switch(rsel):
            for name in t.rps:
                with m.Case(CORE_TABLE_IDS[name]):
                    tmp = Signal(MEM_DATA_BITS, name=f"rdata_{name}")
                    from_stored(m, t.specs[name], t.rps[name].data, tmp)
                    m.d.comb += self.mem_rdata.eq(tmp)
            if learn is not None:
                with m.Case(*range(int(CoreTable.LEARN_SYNAPSES), int(CoreTable.LEARN_CONFIG) + 1)):
                    m.d.comb += self.mem_rdata.eq(learn.engine.mem_rdata)
                with m.Case(CoreTable.LEARN_REWARD):
                    mark, pb = t.marks.data, t.mark_pb
                    m.d.comb += self.mem_rdata.eq(Mux(mark[pb], Cat(mark[:pb], C(0, 7 - pb), 1),
                                                      LEARN_STATIC))
            with m.Default():
                m.d.comb += self.mem_rdata.eq(reg_rdata)

    def _update_engine(self, m: Module, t: _Tables, regs: CoreRegisters,
                       ring: AccumulatorRing, learn: CoreLearning | None = None) -> Signal:
        """C0-C5 per neuron, then EMIT while it sends its route entries; returns the state."""
        p, host = self.params, self.host_access
        UIDLE, C0, C1, C2, C3, C4, C5, EMIT = (self.UIDLE, self.C0, self.C1, self.C2, self.C3,
                                               self.C4, self.C5, self.EMIT)
        us = Signal(range(8))
        i = Signal(range(p.neurons + 1))
        emitter = m.submodules.emitter = RouteEmitter(p.routes)
        ptr = t.rd["route_ptr"]
        # C1 loads the neuron's routes; the route memory then holds their first entry until EMIT
        m.d.comb += [emitter.start.eq(us == C1), emitter.first.eq(ptr["start"]),
                     emitter.count.eq(ptr["count"]), emitter.enable.eq(us == EMIT),
                     emitter.inj_ready.eq(self.inj_ready)]
        spike = self._lif(m, t, us == C2, us == C5, i, self._synaptic_input(m, regs, ring, i,
                                                                             us == C1))
        last_neuron = (i + 1) >= regs.n_neurons
        with m.If(self.go):
            m.d.sync += [i.eq(0), us.eq(Mux(regs.n_neurons == 0, UIDLE, C0))]
        with m.Switch(us):
            with m.Case(C0, C1, C2, C3, C4):
                m.d.sync += us.eq(us + 1)
            with m.Case(C5):
                with m.If(spike & emitter.pending):
                    m.d.sync += us.eq(EMIT)
                with m.Elif(last_neuron):
                    m.d.sync += us.eq(UIDLE)
                with m.Else():
                    m.d.sync += [us.eq(C0), i.eq(i + 1)]
            with m.Case(EMIT):
                with m.If(emitter.last):
                    m.d.sync += [us.eq(Mux(last_neuron, UIDLE, C0)),
                                 i.eq(Mux(last_neuron, i, i + 1))]
        m.d.comb += [self.inj_valid.eq(emitter.inj_valid),
                     self.inj_data.eq(t.rps["routes"].data[:p.packet_width]),
                     self.ev_spike.eq((us == C5) & spike)]
        if learn is not None:                 # the spiking neuron, for the spike recorder
            m.d.comb += learn.spike_neuron.eq(i)
        # addresses of the engine's reads (the port owns them while the fabric is idle)
        for name in ("neurons", "state", "route_ptr"):
            m.d.comb += t.rps[name].addr.eq(Mux(host, self.mem_index, i))
        route_addr = Mux(us == C1, ptr["start"], emitter.addr)
        m.d.comb += [t.rps["routes"].addr.eq(Mux(host, self.mem_index, route_addr)),
                     t.rps["profiles"].addr.eq(Mux(host, self.mem_index,
                                                   t.rd["neurons"]["profile"]))]
        return us

    def _synaptic_input(self, m: Module, regs: CoreRegisters, ring: AccumulatorRing, i,
                        read) -> Signal:
        """C1 (``read``): a = sum_c shift(acc[slot][c][i], acc_exps[c]) (int32 wrap), clear."""
        p = self.params
        CL, AB = p.acc_classes, p.acc_bits
        a_r = Signal(signed(32))
        cur_word = ring.current
        m.d.comb += [ring.neuron.eq(i), ring.clear_current.eq(read)]
        a_sum = C(0, signed(32))
        for c in range(CL):
            acc = cur_word[c * AB:(c + 1) * AB].as_signed()
            e = regs.acc_exps[c]
            term = Signal(signed(32), name=f"a_term{c}")
            with m.If(e >= 0):
                m.d.comb += term.eq((acc << e[:4])[:32].as_signed())
            with m.Else():
                m.d.comb += term.eq(acc >> (-e)[:5])
            a_sum = (a_sum + term)[:32].as_signed()
        with m.If(read):
            m.d.sync += a_r.eq(a_sum)
        return a_r

    def _lif(self, m: Module, t: _Tables, start, write, i, a) -> Value:
        """``start`` (C2): the LIF unit on the neuron's state; ``write`` (C5): state back."""
        p = self.params
        lif = m.submodules.lif = LifUnit(refractory=p.refractory, adaptive=p.adaptive)
        st, nr, pf = t.rd["state"], t.rd["neurons"], t.rd["profiles"]
        m.d.comb += [
            lif.start.eq(start),
            lif.u.eq(st["u"]), lif.v.eq(st["v"]), lif.theta.eq(st["theta"]), lif.ref.eq(st["ref"]),
            lif.a.eq(a), lif.bias_mant.eq(nr["bias_mant"]), lif.bias_exp.eq(nr["bias_exp"]),
            lif.du.eq(pf["du"]), lif.dv.eq(pf["dv"]), lif.vth.eq(pf["vth"]),
            lif.reset_mode.eq(pf["reset_mode"]), lif.refractory.eq(pf["refractory"]),
            lif.theta_decay.eq(pf["theta_decay"]), lif.theta_inc.eq(pf["theta_inc"]),
        ]
        wp = t.wps["state"]
        with m.If(write):
            m.d.comb += [wp.addr.eq(i), wp.en.eq(1),
                         wp.data.eq(Cat(lif.u_new, lif.v_new, lif.theta_new, lif.ref_new))]
        return lif.spike

    def _synapse_engine(self, m: Module, t: _Tables, ring: AccumulatorRing,
                        learn: CoreLearning | None = None):
        """Pop a packet, read its axon (PKT), then two cycles per synapse (SYN_A, SYN_B)."""
        p, host = self.params, self.host_access
        D, CL = p.ring_slots, p.acc_classes
        ej = ejection_fifo(m, self, p)
        SIDLE, PKT, SYN_A, SYN_B = self.SIDLE, self.PKT, self.SYN_A, self.SYN_B
        ss = Signal(range(4))
        sp = Signal(range(p.synapses + 1))
        scount = Signal(range(p.synapses + 1))
        bank_r = Signal(range(D))
        delay_r = Signal(range(p.max_delay + 1))
        neuron_r = Signal(range(p.neurons))
        weight_r = Signal(signed(9))
        class_r = Signal(range(max(CL, 2)))
        syn_addr = Signal(range(p.synapses + 1))
        axon = packet_fields(p, ej.r_data)[0]
        ax, sy = t.rd["axons"], t.rd["synapses"]
        m.d.comb += [t.rps["axons"].addr.eq(Mux(host, self.mem_index, axon)), syn_addr.eq(sp)]
        with m.Switch(ss):
            with m.Case(SIDLE):
                with m.If(ej.r_rdy):
                    m.d.comb += ej.r_en.eq(1)
                    m.d.sync += ss.eq(PKT)
            with m.Case(PKT):
                m.d.comb += syn_addr.eq(ax["start"])
                m.d.sync += [sp.eq(ax["start"]), scount.eq(ax["count"]),
                             ss.eq(Mux(ax["count"] == 0, SIDLE, SYN_A))]
            with m.Case(SYN_A):
                bsum = self.slot + 1 + sy["delay"]
                m.d.sync += [bank_r.eq(Mux(bsum >= D, bsum - D, bsum)), neuron_r.eq(sy["neuron"]),
                             weight_r.eq(sy["weight"]), class_r.eq(sy["acc_class"]),
                             delay_r.eq(sy["delay"]), ss.eq(SYN_B)]
            with m.Case(SYN_B):
                m.d.comb += syn_addr.eq(sp + 1)
                m.d.sync += [sp.eq(sp + 1), scount.eq(scount - 1),
                             ss.eq(Mux(scount == 1, SIDLE, SYN_A))]
        if learn is not None:          # every popped packet is an axon hit of the step
            m.d.comb += [learn.hit.eq(ej.r_en), learn.hit_axon.eq(axon)]
            syn_addr = Mux(learn.active, learn.engine.wb_entry, syn_addr)
            # and every reward synapse it walks a reward record (the marks read with the entry)
            mark = t.marks.data
            m.d.comb += [t.marks.addr.eq(Mux(host, self.mem_index, syn_addr)),
                         learn.rew.eq((ss == SYN_A) & mark[t.mark_pb]),
                         learn.rew_neuron.eq(sy["neuron"]), learn.rew_profile.eq(mark[:t.mark_pb])]
        m.d.comb += [t.rps["synapses"].addr.eq(Mux(host, self.mem_index, syn_addr)),
                     self.ev_synop.eq(ss == SYN_B),
                     ring.syn_neuron.eq(sy["neuron"]), ring.add.eq(ss == SYN_B),
                     ring.add_bank.eq(bank_r), ring.add_delay.eq(delay_r),
                     ring.add_neuron.eq(neuron_r), ring.add_class.eq(class_r),
                     ring.weight.eq(weight_r)]
        return ss, ej
