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

from amaranth.hdl import C, Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import Out

from spikefab.rtl.accumulators import AccumulatorRing
from spikefab.rtl.lif import LifUnit
from spikefab.rtl.neuron_core import MEM_DATA_BITS, core_members
from spikefab.rtl.params import (CORE_KINDS, CORE_TABLE_IDS, MeshParams, serial_route_fields,
                                   serial_synapse_fields)
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


class SerialCore(wiring.Component):
    """A core of a ``serial`` target (see the module docstring for the schedule).

    Ports are those of :class:`~spikefab.rtl.neuron_core.NeuronCore` plus ``mem_rvalid``
    (a read's data is ready) and ``mem_ready`` (the last write is applied).
    """

    def __init__(self, params: MeshParams) -> None:
        self.params = params
        super().__init__(core_members(params) | {"mem_rvalid": Out(1), "mem_ready": Out(1)})

    def elaborate(self, platform):  # noqa: C901 - one schedule per engine, kept together
        m = Module()
        p = self.params
        lay = p.serial_tables()
        D, CL, AB = p.ring_slots, p.acc_classes, p.acc_bits
        host = self.host_access
        syn_fields = _with_bytes(serial_synapse_fields(p), _SYNAPSE_BYTES)
        route_fields = _with_bytes(serial_route_fields(p), _ROUTE_BYTES)

        # ------------------------------------------------------------ memories
        nram = m.submodules.neuron_ram = SinglePortRAM(p.neuron_ram_depth)
        sram = m.submodules.synapse_ram = SinglePortRAM(p.synapse_ram_depth)
        pmem = m.submodules.profile_ram = Memory(shape=16, depth=p.profiles * 8, init=[])
        prp, pwp = pmem.read_port(), pmem.write_port()
        rdata = {"neuron": nram.rdata, "synapse": sram.rdata, "profile": prp.data}
        ring = m.submodules.acc = AccumulatorRing(p)
        m.d.comb += [ring.slot.eq(self.slot), ring.clear.eq(self.clear),
                     self.clearing.eq(ring.clearing)]
        acc_exps = [Signal(signed(5), name=f"acc_exp{c}") for c in range(CL)]
        n_neurons = Signal(range(p.neurons + 1))

        # ------------------------------------------------------------ host port
        # ``hc`` walks the entry's chunks: a write stores chunk hc in cycle hc; a read presents
        # chunk hc and gathers chunk hc - 1 (its data) into the image bytes of ``gather``
        HIDLE, HWRITE, HREAD = range(3)
        hs = Signal(range(3))
        hc = Signal(range(9))
        rvalid = Signal()
        # operand registers of the update engine, in the image's byte layout (STATE_DTYPE,
        # NEURON_DTYPE, PROFILE_DTYPE); while the fabric is idle ``prof`` (one 16-byte entry)
        # doubles as the buffer a host read gathers its words into
        state = Signal(104)
        neuron = Signal(32)
        prof = Signal(MEM_DATA_BITS)
        gather = prof
        m.d.comb += [self.mem_ready.eq(hs == HIDLE), self.mem_rvalid.eq(rvalid),
                     self.mem_rdata.eq(gather)]
        m.d.sync += rvalid.eq(0)
        h_addr = Signal(16)
        h_ram = {ram: Signal(name=f"h_{ram}") for ram in rdata}      # the chunk's RAM
        h_src = Signal(3)                                            # image half-word (copy)
        h_kind = Signal(2)                                           # 0 copy, 1 synapse, 2 route
        n_chunks = Signal(range(9))
        kinds = {"copy": 0, "synapse": 1, "route": 2}
        table = self.mem_table
        for name, t in lay.items():
            with m.If(table == CORE_TABLE_IDS[name]):
                m.d.comb += n_chunks.eq(len(t.chunks))
                with m.Switch(hc):
                    for c, ch in enumerate(t.chunks):
                        with m.Case(c):
                            m.d.comb += [h_addr.eq(t.base + self.mem_index * t.stride + ch.offset),
                                         h_src.eq(max(ch.src, 0)), h_kind.eq(kinds[ch.kind]),
                                         h_ram[t.ram].eq(1)]
        # the word written: an image half-word, or a packed synapse / route word
        h_wdata = Signal(16)
        with m.Switch(h_kind):
            with m.Case(kinds["synapse"]):
                m.d.comb += h_wdata.eq(_pack(syn_fields, self.mem_wdata))
            with m.Case(kinds["route"]):
                m.d.comb += h_wdata.eq(_pack(route_fields, self.mem_wdata))
            with m.Default():
                m.d.comb += h_wdata.eq(self.mem_wdata.word_select(h_src, 16))
        h_write = hs == HWRITE
        # the chunk read in the previous cycle (same table and index) arrives now
        prev_src = Signal(3)
        prev_kind = Signal(2)
        prev_ram = {ram: Signal(name=f"prev_{ram}") for ram in rdata}
        prev_host = Signal()
        m.d.sync += [prev_src.eq(h_src), prev_kind.eq(h_kind), prev_host.eq(host)]
        m.d.sync += [prev_ram[r].eq(h_ram[r]) for r in rdata]
        # one 16-bit word feeds ``prof``: the profile RAM while the engine runs, else the RAM the
        # host read last (so each of the register's half-words has one source and an enable)
        word = Signal(16)
        m.d.comb += word.eq(Mux(prev_host & prev_ram["neuron"], nram.rdata,
                                Mux(prev_host & prev_ram["synapse"], sram.rdata, prp.data)))
        gathering = (hs == HREAD) & (hc != 0)
        prof_en = Signal(8)
        with m.If(gathering & (prev_kind == kinds["copy"])):
            m.d.comb += prof_en.eq(C(1, 8) << prev_src)
        for h in range(8):
            with m.If(prof_en[h]):
                m.d.sync += prof[16 * h:16 * (h + 1)].eq(word)
        for kind, fields in (("synapse", syn_fields), ("route", route_fields)):
            with m.If(gathering & (prev_kind == kinds[kind])):
                off = 0
                for (name, bits), by in fields:
                    m.d.sync += gather[by * 8:by * 8 + bits].eq(word[off:off + bits])
                    off += bits

        with m.Switch(hs):
            with m.Case(HIDLE):
                with m.If(self.mem_sel & self.mem_we):
                    with m.If(table == CORE_TABLE_IDS["config"]):
                        m.d.sync += n_neurons.eq(self.mem_wdata[:16])
                    with m.Elif(table == CORE_TABLE_IDS["acc_exps"]):
                        with m.Switch(self.mem_index):
                            for c in range(CL):
                                with m.Case(c):
                                    m.d.sync += acc_exps[c].eq(self.mem_wdata[:5])
                    with m.Else():
                        m.d.sync += [hs.eq(HWRITE), hc.eq(0)]
                with m.If(self.mem_sel & self.mem_re):
                    m.d.sync += [hs.eq(HREAD), hc.eq(0), gather.eq(0)]
                    with m.If(table == CORE_TABLE_IDS["config"]):
                        m.d.sync += gather.eq(n_neurons)
                    with m.Elif(table == CORE_TABLE_IDS["acc_exps"]):
                        with m.Switch(self.mem_index):
                            for c in range(CL):
                                with m.Case(c):
                                    m.d.sync += gather.eq(Cat(acc_exps[c],
                                                              acc_exps[c][4].replicate(3)))
            with m.Case(HWRITE):
                m.d.sync += hc.eq(hc + 1)
                with m.If(hc + 1 >= n_chunks):
                    m.d.sync += hs.eq(HIDLE)
            with m.Case(HREAD):
                m.d.sync += hc.eq(hc + 1)
                with m.If(hc == n_chunks):
                    m.d.sync += [hs.eq(HIDLE), rvalid.eq(1)]

        # ------------------------------------------------------------ update engine
        UIDLE, RUN, EMIT = range(3)
        us = Signal(range(3))
        k = Signal(range(NEURON_CYCLES))
        i = Signal(range(p.neurons + 1))
        a_r = Signal(signed(32))
        spike_r = Signal()
        ra = Signal(range(p.routes + 1))
        remaining = Signal(range(p.routes + 1))
        running = us == RUN
        at = {kk: running & (k == kk) for kk in range(NEURON_CYCLES)}

        rp_start = Signal(range(p.routes + 1))
        rp_count = Signal(range(p.routes + 1))
        # k -> record half-word read, and where its data goes one cycle later
        reads = {0: 7, 1: 8, 2: 0, 3: 1, 4: 2, 5: 3, 6: 4, 7: 5, 8: 6, 9: 9, 10: 10}
        captures = {1: neuron[0:16], 2: neuron[16:32], 3: state[0:16], 4: state[16:32],
                    5: state[32:48], 6: state[48:64], 7: state[64:80], 8: state[80:96],
                    9: state[96:104], 10: rp_start, 11: rp_count}
        for kk, dst in captures.items():
            with m.If(at[kk]):
                m.d.sync += dst.eq(nram.rdata[:len(dst)])
        LIF_START = 10
        LIF_DONE = LIF_START + 3
        writes = {LIF_DONE + 1 + h: h for h in range(7)}          # k14..k20: state half-words
        route_read = NEURON_CYCLES - 1

        lif = m.submodules.lif = LifUnit(latch_operands=False, refractory=p.refractory,
                                         adaptive=p.adaptive)
        last_neuron = (i + 1) >= n_neurons
        with m.If(self.go):
            m.d.sync += [i.eq(0), k.eq(0), us.eq(Mux(n_neurons == 0, UIDLE, RUN))]
        with m.Switch(us):
            with m.Case(RUN):
                m.d.sync += k.eq(k + 1)
                with m.If(k == NEURON_CYCLES - 1):
                    m.d.sync += k.eq(0)
                    with m.If(spike_r & (rp_count != 0)):
                        m.d.sync += [us.eq(EMIT), remaining.eq(rp_count), ra.eq(rp_start)]
                    with m.Elif(last_neuron):
                        m.d.sync += us.eq(UIDLE)
                    with m.Else():
                        m.d.sync += i.eq(i + 1)
            with m.Case(EMIT):
                with m.If(self.inj_ready):
                    m.d.sync += [remaining.eq(remaining - 1), ra.eq(ra + 1)]
                    with m.If(remaining == 1):
                        with m.If(last_neuron):
                            m.d.sync += us.eq(UIDLE)
                        with m.Else():
                            m.d.sync += [us.eq(RUN), i.eq(i + 1)]
        # the packet of a route word: its fields with the axon zero-extended
        packed, off = {}, 0
        for (name, bits), _ in route_fields:
            packed[name] = nram.rdata[off:off + bits]
            off += bits
        m.d.comb += [self.inj_valid.eq((us == EMIT) & self.inj_ready),
                     self.inj_data.eq(Cat(packed["axon"], C(0, p.axon_bits - len(packed["axon"])),
                                          packed["slot"], packed["y"], packed["x"],
                                          packed["host"]))]

        # neuron RAM address / write of the update engine
        e_addr = Signal(16)
        e_we = Signal(2)
        with m.If(us == EMIT):
            m.d.comb += e_addr.eq(lay["routes"].base + Mux(self.inj_ready, ra + 1, ra))
        with m.Elif(running):
            with m.Switch(k):
                for kk, off in reads.items():
                    with m.Case(kk):
                        m.d.comb += e_addr.eq(Cat(C(off, 4), i))     # i * SERIAL_RECORD
                for kk, h in writes.items():
                    with m.Case(kk):
                        m.d.comb += [e_addr.eq(Cat(C(h, 4), i)), e_we.eq(0b11)]
                with m.Case(route_read):
                    m.d.comb += e_addr.eq(lay["routes"].base + rp_start)
        write_half = Signal(range(8))
        m.d.comb += write_half.eq(k - (LIF_DONE + 1))
        e_wdata = Cat(state, C(0, 8)).word_select(write_half, 16)

        # profile RAM: half-word c of the neuron's profile read in k1+c, captured in k2+c
        prof_bits = (p.profiles - 1).bit_length() or 1
        prof_idx = Mux(k == 1, nram.rdata[:prof_bits], neuron[:prof_bits])
        e_paddr = Signal(16)
        m.d.comb += e_paddr.eq(Cat((k - 1)[:3], prof_idx))
        for c in range(8):
            with m.If(at[2 + c]):
                m.d.comb += prof_en[c].eq(1)

        m.d.comb += [
            nram.addr.eq(Mux(host, h_addr, e_addr)),
            nram.we.eq(Mux(host, Mux(h_write & h_ram["neuron"], 0b11, 0), e_we)),
            nram.wdata.eq(Mux(host, h_wdata, e_wdata)),
            prp.addr.eq(Mux(host, h_addr, e_paddr)),
            pwp.addr.eq(h_addr), pwp.data.eq(h_wdata), pwp.en.eq(h_write & h_ram["profile"]),
        ]

        # k1: synaptic input a = sum_c shift(acc[slot][c][i], acc_exps[c]) (int32 wrap), clear.
        # The shift is a multiplication by a power of two (a DSP block, not a barrel shifter):
        # acc << e = acc * 2**e, and acc >> -e = (acc * 2**(16 - (-e))) >> 16 exactly.
        cur_word = ring.current
        a_sum = C(0, signed(32))
        for c in range(CL):
            acc = cur_word[c * AB:(c + 1) * AB].as_signed()
            e = acc_exps[c]
            amount = Signal(4, name=f"shift{c}")
            m.d.comb += amount.eq(Mux(e >= 0, e[:4], (e + 16)[:4]))
            power = Signal(unsigned(16), name=f"power{c}")
            m.d.comb += power.eq(C(1, 16) << amount)
            prod = Signal(signed(AB + 17), name=f"scaled{c}")
            m.d.comb += prod.eq(acc * power)
            term = Mux(e >= 0, prod[:32].as_signed(), prod[16:].as_signed())
            a_sum = (a_sum + term)[:32].as_signed()
        with m.If(at[1]):
            m.d.sync += a_r.eq(a_sum)
        m.d.comb += [ring.neuron.eq(i), ring.clear_current.eq(at[1])]

        # k10: start the LIF unit on the registers; k13: results back into the state register
        m.d.comb += [
            lif.start.eq(at[LIF_START]),
            lif.u.eq(state[0:32].as_signed()), lif.v.eq(state[32:64].as_signed()),
            lif.theta.eq(state[64:96].as_signed()), lif.ref.eq(state[96:104]),
            lif.a.eq(a_r), lif.bias_exp.eq(neuron[8:13].as_signed()),
            lif.bias_mant.eq(neuron[16:32].as_signed()),
            lif.du.eq(prof[0:12]), lif.dv.eq(prof[16:28]), lif.vth.eq(prof[32:49]),
            lif.reset_mode.eq(prof[64]), lif.refractory.eq(prof[72:80]),
            lif.theta_decay.eq(prof[80:92]), lif.theta_inc.eq(prof[96:128].as_signed()),
            self.ev_spike.eq(at[LIF_DONE] & lif.spike),
        ]
        with m.If(at[LIF_DONE]):
            m.d.sync += [state.eq(Cat(lif.u_new, lif.v_new, lif.theta_new, lif.ref_new)),
                         spike_r.eq(lif.spike)]

        # ------------------------------------------------------------ synapse engine
        ej = m.submodules.ejection = SyncFIFO(width=p.packet_width, depth=p.fifo_depth)
        m.d.comb += [ej.w_en.eq(self.ej_valid), ej.w_data.eq(self.ej_data),
                     self.ej_ready.eq(ej.w_rdy)]
        SIDLE, AX1, AX2, SA, SB = range(5)
        ss = Signal(range(5))
        sp = Signal(range(p.synapses + 1))
        scount = Signal(range(p.synapses + 1))
        axon_r = Signal(p.axon_bits)
        bank_r = Signal(range(D))
        neuron_r = Signal(range(p.neurons))
        class_r = Signal(range(max(CL, 2)))
        ax, sy = lay["axons"], lay["synapses"]
        s_addr = Signal(16)
        syn, off = {}, 0
        for (name, bits), _ in syn_fields:
            syn[name] = sram.rdata[off:off + bits]
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
                m.d.sync += [sp.eq(sram.rdata), ss.eq(AX2)]
            with m.Case(AX2):
                count = sram.rdata
                m.d.comb += s_addr.eq(sy.base + sp * sy.stride)
                m.d.sync += [scount.eq(count), ss.eq(Mux(count == 0, SIDLE, SA))]
            with m.Case(SA):
                bsum = self.slot + 1 + syn["delay"]
                m.d.comb += s_addr.eq(sy.base + sp * sy.stride + sy.chunks[1].offset)
                m.d.sync += [bank_r.eq(Mux(bsum >= D, bsum - D, bsum)),
                             neuron_r.eq(syn["neuron"]), class_r.eq(syn["acc_class"]),
                             ss.eq(SB)]
            with m.Case(SB):
                m.d.comb += s_addr.eq(sy.base + (sp + 1) * sy.stride)
                m.d.sync += [sp.eq(sp + 1), scount.eq(scount - 1),
                             ss.eq(Mux(scount == 1, SIDLE, SA))]
        weight = sram.rdata[:9].as_signed()
        m.d.comb += [sram.addr.eq(Mux(host, h_addr, s_addr)),
                     sram.we.eq(Mux(host & h_write & h_ram["synapse"], 0b11, 0)),
                     sram.wdata.eq(h_wdata),
                     self.ev_synop.eq(ss == SB)]

        m.d.comb += [ring.syn_neuron.eq(syn["neuron"]), ring.add.eq(ss == SB),
                     ring.add_bank.eq(bank_r), ring.add_neuron.eq(neuron_r),
                     ring.add_class.eq(class_r), ring.weight.eq(weight)]

        m.d.comb += self.done.eq((us == UIDLE) & (ss == SIDLE) & ~ej.r_rdy)
        return m
