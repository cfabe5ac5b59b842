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

from amaranth.hdl import C, Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from spikefab.rtl.accumulators import AccumulatorRing
from spikefab.rtl.lif import LifUnit
from spikefab.rtl.params import CORE_TABLE_IDS, MeshParams, TableSpec
from spikefab.rtl.router import packet_fields

__all__ = ["NeuronCore", "MEM_DATA_BITS", "core_members", "to_stored", "from_stored",
           "fields_of"]

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
    """The ports every core kind has (the serial core adds ``mem_rvalid`` / ``mem_ready``)."""
    w = params.packet_width
    return {
        "go": In(1), "slot": In(range(params.ring_slots)), "done": Out(1),
        "clear": In(1), "clearing": Out(1), "host_access": In(1),
        "inj_valid": Out(1), "inj_data": Out(unsigned(w)), "inj_ready": In(1),
        "ej_valid": In(1), "ej_data": In(unsigned(w)), "ej_ready": Out(1),
        "mem_sel": In(1), "mem_table": In(4), "mem_index": In(16),
        "mem_wdata": In(MEM_DATA_BITS), "mem_we": In(1), "mem_re": In(1),
        "mem_rdata": Out(MEM_DATA_BITS),
        "ev_spike": Out(1), "ev_synop": Out(1),
    }


class NeuronCore(wiring.Component):
    """A core of the mesh.

    Ports: step control (``go`` one cycle before cycle 0 of a step, ``slot`` = ``t mod D``),
    ``done`` (update engine done, synapse engine idle, ejection FIFO empty), injection link to
    the router (``inj_*``), ejection link from the router (``ej_*``), the memory port already
    decoded for this core (``mem_sel``), ``host_access`` (memories belong to the port while the
    fabric is idle), ``clear`` (zero the accumulators; ``clearing`` while it sweeps) and one-cycle
    event strobes for the fabric counters.
    """

    def __init__(self, params: MeshParams) -> None:
        self.params = params
        super().__init__(core_members(params))

    def elaborate(self, platform):  # noqa: C901 - one FSM per engine, kept together on purpose
        m = Module()
        p = self.params
        specs = p.core_tables()
        D, CL, AB = p.ring_slots, p.acc_classes, p.acc_bits
        host = self.host_access
        wr = {name: self.mem_sel & self.mem_we & (self.mem_table == tid)
              for name, tid in CORE_TABLE_IDS.items()}

        # ------------------------------------------------------------ table memories
        mems, rps, wps, rd = {}, {}, {}, {}
        for name in ("profiles", "neurons", "state", "axons", "synapses", "route_ptr", "routes"):
            spec = specs[name]
            mem = mems[name] = Memory(shape=unsigned(spec.width), depth=spec.depth, init=[])
            m.submodules[f"mem_{name}"] = mem
            rps[name] = mem.read_port()
            wps[name] = mem.write_port()
            rd[name] = fields_of(spec, rps[name].data)
        # host writes (engine writes are added below for state)
        for name, wp in wps.items():
            m.d.comb += [wp.addr.eq(self.mem_index), wp.data.eq(to_stored(specs[name], self.mem_wdata)),
                         wp.en.eq(wr[name])]

        acc_exps = [Signal(signed(5), name=f"acc_exp{c}") for c in range(CL)]
        n_neurons = Signal(range(p.neurons + 1))
        with m.If(wr["acc_exps"]):
            with m.Switch(self.mem_index):
                for c in range(CL):
                    with m.Case(c):
                        m.d.sync += acc_exps[c].eq(self.mem_wdata[:5])
        with m.If(wr["config"]):
            m.d.sync += n_neurons.eq(self.mem_wdata[:16])

        ring = m.submodules.acc = AccumulatorRing(p)
        m.d.comb += [ring.slot.eq(self.slot), ring.clear.eq(self.clear),
                     self.clearing.eq(ring.clearing)]

        # ------------------------------------------------------------ host reads
        rsel = Signal(4)
        reg_rdata = Signal(MEM_DATA_BITS)
        with m.If(self.mem_re & self.mem_sel):
            m.d.sync += rsel.eq(self.mem_table)
            with m.Switch(self.mem_table):
                with m.Case(CORE_TABLE_IDS["acc_exps"]):
                    with m.Switch(self.mem_index):
                        for c in range(CL):
                            with m.Case(c):
                                m.d.sync += reg_rdata.eq(Cat(acc_exps[c], acc_exps[c][4].replicate(3)))
                        with m.Default():
                            m.d.sync += reg_rdata.eq(0)
                with m.Case(CORE_TABLE_IDS["config"]):
                    m.d.sync += reg_rdata.eq(n_neurons)
        with m.Switch(rsel):
            for name in rps:
                with m.Case(CORE_TABLE_IDS[name]):
                    tmp = Signal(MEM_DATA_BITS, name=f"rdata_{name}")
                    from_stored(m, specs[name], rps[name].data, tmp)
                    m.d.comb += self.mem_rdata.eq(tmp)
            with m.Default():
                m.d.comb += self.mem_rdata.eq(reg_rdata)

        # ------------------------------------------------------------ update engine
        UIDLE, C0, C1, C2, C3, C4, C5, EMIT = range(8)
        us = Signal(range(8))
        i = Signal(range(p.neurons + 1))
        a_r = Signal(signed(32))
        ra = Signal(range(p.routes + 1))      # route address presented
        remaining = Signal(range(p.routes + 1))
        rcount = Signal(range(p.routes + 1))
        lif = m.submodules.lif = LifUnit(refractory=p.refractory, adaptive=p.adaptive)

        last_neuron = (i + 1) >= n_neurons
        with m.If(self.go):
            m.d.sync += [i.eq(0), us.eq(Mux(n_neurons == 0, UIDLE, C0))]
        with m.Switch(us):
            with m.Case(C0, C1, C2, C3, C4):
                m.d.sync += us.eq(us + 1)
            with m.Case(C5):
                with m.If(lif.spike & (rcount != 0)):
                    m.d.sync += [us.eq(EMIT), remaining.eq(rcount)]
                with m.Elif(last_neuron):
                    m.d.sync += us.eq(UIDLE)
                with m.Else():
                    m.d.sync += [us.eq(C0), i.eq(i + 1)]
            with m.Case(EMIT):
                with m.If(self.inj_ready):
                    m.d.sync += [remaining.eq(remaining - 1), ra.eq(ra + 1)]
                    with m.If(remaining == 1):
                        with m.If(last_neuron):
                            m.d.sync += us.eq(UIDLE)
                        with m.Else():
                            m.d.sync += [us.eq(C0), i.eq(i + 1)]
        m.d.comb += [self.inj_valid.eq((us == EMIT) & self.inj_ready),
                     self.inj_data.eq(rps["routes"].data[:p.packet_width]),
                     self.ev_spike.eq((us == C5) & lif.spike)]

        # addresses of the engine's reads (the port owns them while the fabric is idle)
        route_addr = Signal(range(p.routes + 1))
        with m.If(us == C1):
            m.d.comb += route_addr.eq(rd["route_ptr"]["start"])
            m.d.sync += [ra.eq(rd["route_ptr"]["start"]), rcount.eq(rd["route_ptr"]["count"])]
        with m.Elif((us == EMIT) & self.inj_ready):
            m.d.comb += route_addr.eq(ra + 1)
        with m.Else():
            m.d.comb += route_addr.eq(ra)
        for name in ("neurons", "state", "route_ptr"):
            m.d.comb += rps[name].addr.eq(Mux(host, self.mem_index, i))
        m.d.comb += [rps["routes"].addr.eq(Mux(host, self.mem_index, route_addr)),
                     rps["profiles"].addr.eq(Mux(host, self.mem_index, rd["neurons"]["profile"]))]

        # C1: synaptic input a = sum_c shift(acc[slot][c][i], acc_exps[c]) (int32 wrap), clear
        cur_word = ring.current
        m.d.comb += [ring.neuron.eq(i), ring.clear_current.eq(us == C1)]
        a_sum = C(0, signed(32))
        for c in range(CL):
            acc = cur_word[c * AB:(c + 1) * AB].as_signed()
            e = acc_exps[c]
            term = Signal(signed(32), name=f"a_term{c}")
            with m.If(e >= 0):
                m.d.comb += term.eq((acc << e[:4])[:32].as_signed())
            with m.Else():
                m.d.comb += term.eq(acc >> (-e)[:5])
            a_sum = (a_sum + term)[:32].as_signed()
        with m.If(us == C1):
            m.d.sync += a_r.eq(a_sum)

        # C2: start the LIF unit; C5: write the state back
        st, nr, pf = rd["state"], rd["neurons"], rd["profiles"]
        m.d.comb += [
            lif.start.eq(us == C2),
            lif.u.eq(st["u"]), lif.v.eq(st["v"]), lif.theta.eq(st["theta"]), lif.ref.eq(st["ref"]),
            lif.a.eq(a_r), lif.bias_mant.eq(nr["bias_mant"]), lif.bias_exp.eq(nr["bias_exp"]),
            lif.du.eq(pf["du"]), lif.dv.eq(pf["dv"]), lif.vth.eq(pf["vth"]),
            lif.reset_mode.eq(pf["reset_mode"]), lif.refractory.eq(pf["refractory"]),
            lif.theta_decay.eq(pf["theta_decay"]), lif.theta_inc.eq(pf["theta_inc"]),
        ]
        with m.If(us == C5):
            m.d.comb += [wps["state"].addr.eq(i), wps["state"].en.eq(1),
                         wps["state"].data.eq(Cat(lif.u_new, lif.v_new, lif.theta_new,
                                                  lif.ref_new))]

        # ------------------------------------------------------------ synapse engine
        ej = m.submodules.ejection = SyncFIFO(width=p.packet_width, depth=p.fifo_depth)
        m.d.comb += [ej.w_en.eq(self.ej_valid), ej.w_data.eq(self.ej_data),
                     self.ej_ready.eq(ej.w_rdy)]
        SIDLE, PKT, SYN_A, SYN_B = range(4)
        ss = Signal(range(4))
        sp = Signal(range(p.synapses + 1))
        scount = Signal(range(p.synapses + 1))
        bank_r = Signal(range(D))
        neuron_r = Signal(range(p.neurons))
        weight_r = Signal(signed(9))
        class_r = Signal(range(max(CL, 2)))
        syn_addr = Signal(range(p.synapses + 1))
        axon = packet_fields(p, ej.r_data)[0]
        m.d.comb += rps["axons"].addr.eq(Mux(host, self.mem_index, axon))
        m.d.comb += syn_addr.eq(sp)
        sy = rd["synapses"]
        with m.Switch(ss):
            with m.Case(SIDLE):
                with m.If(ej.r_rdy):
                    m.d.comb += ej.r_en.eq(1)
                    m.d.sync += ss.eq(PKT)
            with m.Case(PKT):
                m.d.comb += syn_addr.eq(rd["axons"]["start"])
                m.d.sync += [sp.eq(rd["axons"]["start"]), scount.eq(rd["axons"]["count"]),
                             ss.eq(Mux(rd["axons"]["count"] == 0, SIDLE, SYN_A))]
            with m.Case(SYN_A):
                bsum = self.slot + 1 + sy["delay"]
                m.d.sync += [bank_r.eq(Mux(bsum >= D, bsum - D, bsum)), neuron_r.eq(sy["neuron"]),
                             weight_r.eq(sy["weight"]), class_r.eq(sy["acc_class"]), ss.eq(SYN_B)]
            with m.Case(SYN_B):
                m.d.comb += syn_addr.eq(sp + 1)
                m.d.sync += [sp.eq(sp + 1), scount.eq(scount - 1),
                             ss.eq(Mux(scount == 1, SIDLE, SYN_A))]
        m.d.comb += [rps["synapses"].addr.eq(Mux(host, self.mem_index, syn_addr)),
                     self.ev_synop.eq(ss == SYN_B)]

        m.d.comb += [ring.syn_neuron.eq(sy["neuron"]), ring.add.eq(ss == SYN_B),
                     ring.add_bank.eq(bank_r), ring.add_neuron.eq(neuron_r),
                     ring.add_class.eq(class_r), ring.weight.eq(weight_r)]

        m.d.comb += self.done.eq((us == UIDLE) & (ss == SIDLE) & ~ej.r_rdy)
        return m
