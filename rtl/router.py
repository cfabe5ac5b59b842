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
from amaranth.lib import wiring
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

    Per port ``i`` (``0..ports-1``): input ``in_valid_i``/``in_data_i`` with ``in_ready_i``
    (= the input FIFO has room: the sender's credit), output ``out_valid_i``/``out_data_i`` with
    ``out_ready_i`` (the downstream credit).  ``empty`` is high when every input FIFO is empty.
    """

    def __init__(self, params: MeshParams, gx: int, gy: int) -> None:
        self.params, self.gx, self.gy = params, gx, gy
        self.existing = existing_ports(params, gx, gy)
        w = params.packet_width
        members = {"clear": In(1), "empty": Out(1)}
        for i in range(params.ports):
            members[f"in_valid_{i}"] = In(1)
            members[f"in_data_{i}"] = In(unsigned(w))
            members[f"in_ready_{i}"] = Out(1)
            members[f"out_valid_{i}"] = Out(1)
            members[f"out_data_{i}"] = Out(unsigned(w))
            members[f"out_ready_{i}"] = In(1)
        super().__init__(members)

    def port(self, kind: str, i: int):
        return getattr(self, f"{kind}_{i}")

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
            m.d.comb += [f.w_en.eq(self.port("in_valid", i)),
                         f.w_data.eq(self.port("in_data", i)),
                         self.port("in_ready", i).eq(f.w_rdy)]
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
            with m.If(self.port("out_ready", o)):
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
                    m.d.comb += [self.port("out_valid", o).eq(1),
                                 self.port("out_data", o).eq(fifos[i].r_data)]
        for i in self.existing:
            m.d.comb += fifos[i].r_en.eq(_any(grants[i]))
        return m


def _any(values):
    out = values[0]
    for v in values[1:]:
        out = out | v
    return out
