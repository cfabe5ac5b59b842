"""The fabric: cores and routers of a target's mesh, the host port, the time-step barrier.

:class:`Mesh` is what the ``HostInterface`` (UART + host protocol) drives through the control
interface of ``docs/microarchitecture.md`` section 11: one memory port (tables in the image's byte
layout, core tables and fabric tables ``host_queue``/``out_log``/``cycle_log``/``counters``) and a
step control (``run_steps`` + ``start`` -> ``busy``; ``clear``).

A step (sections 8-9): ``go`` is pulsed one cycle before cycle 0; from cycle 0 the host port sends
one ``host_queue`` entry per cycle into router (0, 0)'s W input while it has credit, every core's
update engine walks its neurons, packets travel the routers; at the first cycle ``Q`` at whose
start every engine is done, every FIFO is empty and the host queue is drained, the step ends and
``cycles_per_step = Q + barrier_cycles`` is logged.  Output spikes (packets leaving router (0, 0)
by its W port) are appended to ``out_log`` with the step number.
"""

from dataclasses import dataclass

from amaranth.hdl import Cat, Module, Mux, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from spikefab.arch.target import Target
from spikefab.rtl.neuron_core import MEM_DATA_BITS, NeuronCore, from_stored, to_stored
from spikefab.rtl.params import (COUNTERS, FABRIC_CORE, FABRIC_TABLE_IDS, MeshParams,
                                   mesh_params)
from spikefab.rtl.router import PORT_E, PORT_N, PORT_S, PORT_W, Router, packet_fields
from spikefab.rtl.serial_core import SerialCore

__all__ = ["Mesh"]


class Mesh(wiring.Component):
    """Cores + routers + host port of one target, behind the section-11 control interface
    (``mem_table`` is :attr:`MeshParams.table_bits` wide)."""

    def __init__(self, target: Target | str | MeshParams, **fabric) -> None:
        self.params = target if isinstance(target, MeshParams) else mesh_params(target, **fabric)
        super().__init__({
            "mem_core": In(8), "mem_table": In(self.params.table_bits), "mem_index": In(16),
            "mem_wdata": In(MEM_DATA_BITS), "mem_we": In(1), "mem_re": In(1),
            "mem_rdata": Out(MEM_DATA_BITS), "mem_rvalid": Out(1), "mem_ready": Out(1),
            "run_steps": In(16), "start": In(1), "busy": Out(1), "clear": In(1),
            "step_done": Out(1), "overflow": Out(1)})

    def elaborate(self, platform):
        m = Module()
        routers, cores = self._units(m)
        hop_strobes = self._links(m, routers, cores)
        f = self._fabric_tables(m)
        self._step_control(m, f, routers, cores)
        self._host_receiver(m, f, routers[0, 0])
        self._counters(m, f, cores, hop_strobes)
        self._memory_port(m, f, cores)
        return m

    def _units(self, m: Module):
        """The routers by ``(x, y)`` and the cores as ``(x, y, k, core)``."""
        p = self.params
        routers = {}
        for y in range(p.mesh_y):
            for x in range(p.mesh_x):
                routers[x, y] = m.submodules[f"router_{x}_{y}"] = Router(p, x, y)
        cores = []
        for y in range(p.mesh_y):
            for x in range(p.mesh_x):
                for k in range(p.cores_per_router):
                    core = SerialCore(p) if p.core_kind == "serial" else NeuronCore(p)
                    m.submodules[f"core_{x}_{y}_{k}"] = core
                    cores.append((x, y, k, core))
        return routers, cores

    def _links(self, m: Module, routers, cores) -> list:
        """Router-to-router streams, cores on the local ports; the hop strobes (one per link
        direction) for the counter."""
        def link(src, so, dst, di):
            wiring.connect(m, src.o[so], dst.i[di])

        hop_strobes = []
        for (x, y), r in routers.items():
            if (x + 1, y) in routers:
                link(r, PORT_E, routers[x + 1, y], PORT_W)
                link(routers[x + 1, y], PORT_W, r, PORT_E)
                hop_strobes += [r.o[PORT_E].valid, routers[x + 1, y].o[PORT_W].valid]
            if (x, y + 1) in routers:
                link(r, PORT_N, routers[x, y + 1], PORT_S)
                link(routers[x, y + 1], PORT_S, r, PORT_N)
                hop_strobes += [r.o[PORT_N].valid, routers[x, y + 1].o[PORT_S].valid]
        for x, y, k, core in cores:
            r = routers[x, y]
            m.d.comb += [r.i[4 + k].valid.eq(core.inj_valid),
                         r.i[4 + k].payload.eq(core.inj_data),
                         core.inj_ready.eq(r.i[4 + k].ready),
                         core.ej_valid.eq(r.o[4 + k].valid),
                         core.ej_data.eq(r.o[4 + k].payload),
                         r.o[4 + k].ready.eq(core.ej_ready)]
        m.d.comb += routers[0, 0].o[PORT_W].ready.eq(1)   # the host accepts everything
        return hop_strobes

    def _fabric_tables(self, m: Module) -> "_Fabric":
        """The fabric tables (host queue, out log, cycle log, counters) and the step state."""
        p = self.params
        fab = self.mem_core == FABRIC_CORE
        fwr = {name: fab & self.mem_we & (self.mem_table == tid)
               for name, tid in FABRIC_TABLE_IDS.items()}
        hq_spec = p.host_queue_spec()
        hq_mem = m.submodules.host_queue = Memory(shape=unsigned(hq_spec.width),
                                                  depth=p.host_queue_depth, init=[])
        hq_rp, hq_wp = hq_mem.read_port(), hq_mem.write_port()
        m.d.comb += [hq_wp.addr.eq(self.mem_index), hq_wp.en.eq(fwr["host_queue"]),
                     hq_wp.data.eq(to_stored(hq_spec, self.mem_wdata))]
        hq_len = Signal(range(p.host_queue_depth + 1))
        ol_mem = m.submodules.out_log = Memory(shape=unsigned(32), depth=p.out_log_depth, init=[])
        ol_rp, ol_wp = ol_mem.read_port(), ol_mem.write_port()
        ol_len = Signal(range(p.out_log_depth + 1))
        cl_mem = m.submodules.cycle_log = Memory(shape=unsigned(32), depth=p.cycle_log_depth,
                                                 init=[])
        cl_rp, cl_wp = cl_mem.read_port(), cl_mem.write_port()
        counters = [Signal(32, name=f"cnt_{name}") for name in COUNTERS]
        fsm = Signal(range(4 if p.learning else 3))
        t = Signal(16)                       # steps since clear
        slot = Signal(range(p.ring_slots))
        quiescent = Signal()
        send = Signal()
        return _Fabric(fwr, hq_spec, hq_rp, hq_len, ol_rp, ol_wp, ol_len, cl_rp, cl_wp,
                       counters, fsm, t, slot, quiescent, send)

    def _step_control(self, m: Module, f: "_Fabric", routers, cores) -> None:
        """Start, run until quiescent, barrier, next step (section 9); the host sender."""
        p = self.params
        B = p.barrier_cycles
        fsm, t, slot, quiescent, send = f.fsm, f.t, f.slot, f.quiescent, f.send
        steps_left = Signal(16)
        cyc = Signal(32)                     # cycles of this step so far + barrier_cycles
        bcnt = Signal(range(max(B, 1) + 1))
        h = Signal(range(p.host_queue_depth + 1))
        go = Signal()
        clearing = Signal()
        m.d.comb += clearing.eq(_any([c.clearing for *_, c in cores]))
        m.d.comb += self.busy.eq((fsm != _IDLE) | clearing)

        for x, y, k, core in cores:
            m.d.comb += [core.go.eq(go), core.slot.eq(slot), core.clear.eq(self.clear),
                         core.host_access.eq(~self.busy)]
        for r in routers.values():
            m.d.comb += r.clear.eq(self.clear)

        # host sender: one queue entry per cycle from cycle 0, with credit
        host_router = routers[0, 0]
        m.d.comb += [send.eq((fsm == _RUN) & (h < f.hq_len) & host_router.i[PORT_W].ready),
                     host_router.i[PORT_W].valid.eq(send),
                     host_router.i[PORT_W].payload.eq(f.hq_rp.data[:p.packet_width])]
        h_next = Signal.like(h)
        m.d.comb += h_next.eq(Mux(go, 0, Mux(send, h + 1, h)))
        m.d.sync += h.eq(h_next)
        m.d.comb += f.hq_rp.addr.eq(Mux(self.busy, h_next, self.mem_index))

        overflow = f.counters[COUNTERS.index("overflow")]
        f.step_end = (fsm == _RUN) & quiescent
        if p.learning:
            # the learning phase: after quiescence, until every core's engine is done
            learn_done = _all([c.learn_done for *_, c in cores])
            for *_, core in cores:
                m.d.comb += core.learn_start.eq(f.step_end & ~learn_done)
            f.step_end = ((fsm == _LEARN) | f.step_end) & learn_done
        # for the host's INFO: a pulse at the end of every step, and the out_log overflow flag
        m.d.comb += [self.step_done.eq(f.step_end), self.overflow.eq(overflow[0])]
        m.d.comb += quiescent.eq(_all([c.done for *_, c in cores] + [r.empty for r in routers.values()])
                                 & (h >= f.hq_len))

        with m.Switch(fsm):
            with m.Case(_IDLE):
                with m.If(self.start & (self.run_steps != 0) & ~clearing):
                    m.d.comb += go.eq(1)
                    m.d.sync += [fsm.eq(_RUN), steps_left.eq(self.run_steps), cyc.eq(B)]
            with m.Case(*((_RUN, _LEARN) if p.learning else (_RUN,))):
                m.d.sync += cyc.eq(cyc + 1)
                if p.learning:
                    with m.If(quiescent & ~f.step_end):
                        m.d.sync += fsm.eq(_LEARN)
                with m.If(f.step_end if p.learning else quiescent):
                    last = steps_left == 1
                    # cycle_log is a ring of cycle_log_depth (a power of two) entries
                    m.d.comb += [f.cl_wp.addr.eq(t), f.cl_wp.data.eq(cyc), f.cl_wp.en.eq(1)]
                    m.d.sync += [t.eq(t + 1), steps_left.eq(steps_left - 1), f.hq_len.eq(0),
                                 slot.eq(Mux(slot == p.ring_slots - 1, 0, slot + 1))]
                    if B <= 1:
                        with m.If(last):
                            m.d.sync += fsm.eq(_IDLE)
                        with m.Else():
                            m.d.comb += go.eq(1)
                            m.d.sync += cyc.eq(B)
                            if p.learning:
                                m.d.sync += fsm.eq(_RUN)
                    else:
                        m.d.sync += [fsm.eq(_BARRIER), bcnt.eq(B - 2)]
            with m.Case(_BARRIER):
                with m.If(bcnt == 0):
                    with m.If(steps_left == 0):
                        m.d.sync += fsm.eq(_IDLE)
                    with m.Else():
                        m.d.comb += go.eq(1)
                        m.d.sync += [fsm.eq(_RUN), cyc.eq(B)]
                with m.Else():
                    m.d.sync += bcnt.eq(bcnt - 1)

    def _host_receiver(self, m: Module, f: "_Fabric", host_router) -> None:
        """Packets leaving router (0, 0) by W are output spikes of step ``t``: the out log."""
        p = self.params
        overflow = f.counters[COUNTERS.index("overflow")]
        axon = packet_fields(p, host_router.o[PORT_W].payload)[0]
        arrive = host_router.o[PORT_W].valid
        m.d.comb += [f.ol_wp.addr.eq(f.ol_len), f.ol_wp.data.eq(Cat(axon[:16], f.t)),
                     f.ol_wp.en.eq(arrive & (f.ol_len < p.out_log_depth))]
        with m.If(arrive):
            with m.If(f.ol_len < p.out_log_depth):
                m.d.sync += f.ol_len.eq(f.ol_len + 1)
            with m.Else():
                m.d.sync += overflow[0].eq(1)

    def _counters(self, m: Module, f: "_Fabric", cores, hop_strobes) -> None:
        """Event counters; host writes of the fabric registers; ``clear``."""
        counters, fwr = f.counters, f.fwr
        events = {
            "spikes": [c.ev_spike for *_, c in cores],
            "synops": [c.ev_synop for *_, c in cores],
            "packets": [c.inj_valid for *_, c in cores] + [f.send],
            "hops": hop_strobes,
        }
        for name, strobes in events.items():
            cnt = counters[COUNTERS.index(name)]
            if strobes:
                m.d.sync += cnt.eq(cnt + sum(s.as_unsigned() for s in strobes))
        with m.If(f.step_end):
            m.d.sync += counters[0].eq(counters[0] + 1)

        with m.If(fwr["host_queue_len"]):
            m.d.sync += f.hq_len.eq(self.mem_wdata[:16])
        with m.If(fwr["out_log_len"]):
            m.d.sync += f.ol_len.eq(self.mem_wdata[:len(f.ol_len)])
        with m.If(fwr["counters"] & (self.mem_index == 0)):
            m.d.sync += [c.eq(0) for c in counters]
        with m.If(self.clear):
            m.d.sync += [f.t.eq(0), f.slot.eq(0), f.ol_len.eq(0), f.hq_len.eq(0)]
            m.d.sync += [c.eq(0) for c in counters]

    def _memory_port(self, m: Module, f: "_Fabric", cores) -> None:
        """The host's memory port: writes to every core, reads from the addressed core or
        fabric table (one cycle later; serial cores answer when they gathered the entry)."""
        p = self.params
        for idx, (x, y, k, core) in enumerate(cores):
            m.d.comb += [core.mem_sel.eq(self.mem_core == p.core_index(x, y, k)),
                         core.mem_table.eq(self.mem_table), core.mem_index.eq(self.mem_index),
                         core.mem_wdata.eq(self.mem_wdata), core.mem_we.eq(self.mem_we),
                         core.mem_re.eq(self.mem_re)]
        m.d.comb += [f.ol_rp.addr.eq(self.mem_index), f.cl_rp.addr.eq(self.mem_index)]
        fabric_rvalid = Signal()
        if p.core_kind == "serial":
            # serial cores answer after they gathered the entry's RAM words and take several
            # cycles per write
            m.d.sync += fabric_rvalid.eq(self.mem_re & (self.mem_core == FABRIC_CORE))
            m.d.comb += [self.mem_rvalid.eq(fabric_rvalid | _any([c.mem_rvalid for *_, c in cores])),
                         self.mem_ready.eq(_all([c.mem_ready for *_, c in cores]))]
        else:
            m.d.sync += self.mem_rvalid.eq(self.mem_re)
            m.d.comb += self.mem_ready.eq(1)
        rcore = Signal(8)
        rtable = Signal(p.table_bits)
        reg_rdata = self._register_read(m, f)
        with m.If(self.mem_re):
            m.d.sync += [rcore.eq(self.mem_core), rtable.eq(self.mem_table)]
        hq_bytes = Signal(MEM_DATA_BITS)
        from_stored(m, f.hq_spec, f.hq_rp.data, hq_bytes)
        with m.Switch(rcore):
            for x, y, k, core in cores:
                with m.Case(p.core_index(x, y, k)):
                    m.d.comb += self.mem_rdata.eq(core.mem_rdata)
            with m.Case(FABRIC_CORE):
                with m.Switch(rtable):
                    with m.Case(FABRIC_TABLE_IDS["host_queue"]):
                        m.d.comb += self.mem_rdata.eq(hq_bytes)
                    with m.Case(FABRIC_TABLE_IDS["out_log"]):
                        m.d.comb += self.mem_rdata.eq(f.ol_rp.data)
                    with m.Case(FABRIC_TABLE_IDS["cycle_log"]):
                        m.d.comb += self.mem_rdata.eq(f.cl_rp.data)
                    with m.Default():
                        m.d.comb += self.mem_rdata.eq(reg_rdata)

    def _register_read(self, m: Module, f: "_Fabric") -> Signal:
        """The fabric registers (queue and log lengths, counters) a read addresses, registered."""
        reg_rdata = Signal(32)
        with m.If(self.mem_re):
            with m.Switch(self.mem_table):
                with m.Case(FABRIC_TABLE_IDS["host_queue_len"]):
                    m.d.sync += reg_rdata.eq(f.hq_len)
                with m.Case(FABRIC_TABLE_IDS["out_log_len"]):
                    m.d.sync += reg_rdata.eq(f.ol_len)
                with m.Case(FABRIC_TABLE_IDS["counters"]):
                    with m.Switch(self.mem_index):
                        for j, c in enumerate(f.counters):
                            with m.Case(j):
                                m.d.sync += reg_rdata.eq(c)
                        with m.Default():
                            m.d.sync += reg_rdata.eq(0)
        return reg_rdata


#: States of the step control (``_LEARN``: the learning phase, only with learning engines).
_IDLE, _RUN, _BARRIER, _LEARN = range(4)


@dataclass
class _Fabric:
    """The fabric's tables and step state that the parts of :meth:`Mesh.elaborate` share."""

    fwr: dict                 #: host write strobe per fabric table
    hq_spec: object           #: host queue entry layout
    hq_rp: object
    hq_len: Signal
    ol_rp: object
    ol_wp: object
    ol_len: Signal
    cl_rp: object
    cl_wp: object
    counters: list            #: one 32-bit counter per ``COUNTERS`` entry
    fsm: Signal               #: _IDLE, _RUN or _BARRIER
    t: Signal                 #: steps since clear
    slot: Signal              #: delay ring slot of this step
    quiescent: Signal         #: every engine done, every FIFO empty, the host queue drained
    send: Signal              #: the host port injects a packet this cycle
    step_end: object = None   #: the step ends this cycle (quiescent, learning phases done)


def _any(values):
    out = values[0]
    for v in values[1:]:
        out = out | v
    return out


def _all(values):
    out = values[0]
    for v in values[1:]:
        out = out & v
    return out
