"""The mesh router: 5-port (N/E/S/W/local) router with input FIFOs, round robin and credits.

Implements ``docs/microarchitecture.md`` sections 3-5 with one-cycle links:

* every existing input port has a FIFO of ``fifo_depth`` packets (``lib.fifo.SyncFIFO``; a packet
  written in cycle ``c`` is visible at its head in ``c + 1``);
* a sender's credit counter equals ``fifo_depth`` minus the downstream FIFO's registered level
  (grant and pop both act at the same clock edge with one-cycle links), so "credit > 0" is the
  downstream FIFO's ``w_rdy`` — a FIFO that pops in cycle ``c`` accepts a new packet only from
  ``c + 1``, exactly the credit-return latency of the contract;
* each output grants the first requesting input in cyclic order from its round-robin pointer,
  which then moves past the winner; pointers persist across steps and are zeroed by ``clear``.

The output a packet requests is the target's routing algorithm, generated from its direction
order in :mod:`spikefab.arch.mesh` (the decision the emulator compiles).  Ports that would leave the
mesh do not exist (no FIFO; minimal routing never selects them), except the W port of router
(0, 0), which is the host port.

Packet layout (LSB first): ``axon | slot | y | x | host`` (widths from :class:`MeshParams`).
"""

from amaranth.hdl import Module, Signal, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

from spikefab.arch import mesh
from spikefab.arch.mesh import PORT_E, PORT_LOCAL, PORT_N, PORT_S, PORT_W
from spikefab.rtl.params import MeshParams

__all__ = ["Router", "PORT_N", "PORT_E", "PORT_S", "PORT_W", "existing_ports", "packet_fields"]


def existing_ports(p: MeshParams, gx: int, gy: int) -> list[int]:
    """Ports of router ``(gx, gy)`` that have a link (host port at (0, 0) included)."""
    return mesh.existing_ports(p.mesh_x, p.mesh_y, p.cores_per_router, gx, gy)


def packet_fields(p: MeshParams, pkt):
    """``(axon, slot, y, x, host)`` slices of a packet Value."""
    a0 = p.axon_bits
    s0 = a0 + p.slot_bits
    y0 = s0 + p.y_bits
    x0 = y0 + p.x_bits
    return pkt[:a0], pkt[a0:s0], pkt[s0:y0], pkt[y0:x0], pkt[x0]


class Router(wiring.Component):
    """One router of the mesh at global coordinates ``(gx, gy)``.

    Per port ``k`` (``0..ports-1``, :mod:`spikefab.arch.mesh` numbering) an input stream
    ``i[k]`` (``ready`` = the input FIFO has room: the sender's credit) and an output stream
    ``o[k]`` (``ready`` = the downstream credit), both ``amaranth.lib.stream`` interfaces whose
    payload is a packet.  ``empty`` is high when every input FIFO is empty.
    """

    def __init__(self, params: MeshParams, gx: int, gy: int) -> None:
        self.params, self.gx, self.gy = params, gx, gy
        self.existing = existing_ports(params, gx, gy)
        port = stream.Signature(unsigned(params.packet_width))
        super().__init__({"clear": In(1), "empty": Out(1),
                          "i": In(port).array(params.ports), "o": Out(port).array(params.ports)})

    def route_of(self, m: Module, pkt) -> Signal:
        """Output port a packet leaves by (section 3), as a combinational signal: the direction
        conditions of :func:`spikefab.arch.mesh.next_port` in the algorithm's priority order."""
        p = self.params
        _, slot, y, x, host = packet_fields(p, pkt)
        out = Signal(range(p.ports))
        dx = Signal(x.shape())
        dy = Signal(y.shape())
        m.d.comb += [dx.eq(x & ~host.replicate(len(x))), dy.eq(y & ~host.replicate(len(y)))]
        for k, port in enumerate(mesh.priority(mesh.routing_code(p.routing))):
            with (m.If if k == 0 else m.Elif)(mesh.closer(port, self.gx, self.gy, dx, dy)):
                m.d.comb += out.eq(port)
        with m.Elif(host):
            m.d.comb += out.eq(PORT_W)
        with m.Else():
            m.d.comb += out.eq(PORT_LOCAL + slot)
        return out

    def elaborate(self, platform):
        m = Module()
        p = self.params
        n = p.ports
        fifos, routes = {}, {}
        for i in self.existing:
            f = fifos[i] = SyncFIFO(width=p.packet_width, depth=p.fifo_depth)
            m.submodules[f"fifo{i}"] = f
            m.d.comb += [f.w_en.eq(self.i[i].valid),
                         f.w_data.eq(self.i[i].payload),
                         self.i[i].ready.eq(f.w_rdy)]
            routes[i] = self.route_of(m, f.r_data)
        m.d.comb += self.empty.eq(~0 if not fifos else
                                  ~_any([f.r_rdy for f in fifos.values()]))

        grants = {i: [] for i in self.existing}
        for o in range(n):
            rr = Signal(range(n), name=f"rr{o}")
            req = {i: Signal(name=f"req{i}_{o}") for i in self.existing}
            for i in self.existing:
                m.d.comb += req[i].eq(fifos[i].r_rdy & (routes[i] == o))
            gnt = {i: Signal(name=f"gnt{i}_{o}") for i in self.existing}
            with m.If(self.o[o].ready):
                with m.Switch(rr):
                    for r in range(n):
                        with m.Case(r):
                            order = [(r + j) % n for j in range(n)]
                            first = True
                            for i in order:
                                if i not in req:
                                    continue
                                with (m.If if first else m.Elif)(req[i]):
                                    m.d.comb += gnt[i].eq(1)
                                    m.d.sync += rr.eq((i + 1) % n)
                                first = False
            with m.If(self.clear):
                m.d.sync += rr.eq(0)
            for i in self.existing:
                grants[i].append(gnt[i])
                with m.If(gnt[i]):
                    m.d.comb += [self.o[o].valid.eq(1),
                                 self.o[o].payload.eq(fifos[i].r_data)]
        for i in self.existing:
            m.d.comb += fifos[i].r_en.eq(_any(grants[i]))
        return m


def _any(values):
    out = values[0]
    for v in values[1:]:
        out = out | v
    return out
