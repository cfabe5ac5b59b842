"""The route emitter both core kinds share: one packet per route entry while the link has credit.

After a neuron spikes, its update engine sends ``count`` route entries starting at ``first``,
one per cycle in which the injection link is ready (docs/microarchitecture.md section 6).  The
core keeps its own ``EMIT`` state (it decides what the engine does next) and drives ``enable``
while in it; this component holds the route address and the entries left, presents the address
whose word the route memory must deliver next cycle, and says when the last entry goes out.

Timing: the route memory has registered reads, so ``addr`` is the entry *after* the one on the
memory's output when a packet leaves this cycle (``inj_ready``), else the same one.  The core
must have presented ``first`` to the memory in the cycle before ``enable`` rises.
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["RouteEmitter"]


class RouteEmitter(wiring.Component):
    """Route address and countdown of a spiking neuron's emission.

    Ports: ``start`` (load ``first`` and ``count``; the core's ``EMIT`` begins next cycle),
    ``enable`` (the core is in ``EMIT``), ``inj_ready`` (the link takes a packet this cycle),
    ``inj_valid`` (a packet leaves), ``last`` (it is the neuron's last one), ``pending``
    (entries are left: a neuron loaded with ``count == 0`` has nothing to send), ``addr`` (the
    route entry to present to the route memory this cycle).
    """

    def __init__(self, routes: int) -> None:
        self.routes = routes
        super().__init__({
            "start": In(1), "first": In(range(routes + 1)), "count": In(range(routes + 1)),
            "enable": In(1), "inj_ready": In(1),
            "inj_valid": Out(1), "last": Out(1), "pending": Out(1), "addr": Out(range(routes + 1)),
        })

    def elaborate(self, platform):
        m = Module()
        ra = Signal(range(self.routes + 1))            # route entry on the memory's output
        remaining = Signal(range(self.routes + 1))
        sent = self.enable & self.inj_ready
        with m.If(self.start):
            m.d.sync += [ra.eq(self.first), remaining.eq(self.count)]
        with m.Elif(sent):
            m.d.sync += [ra.eq(ra + 1), remaining.eq(remaining - 1)]
        m.d.comb += [self.inj_valid.eq(sent), self.last.eq(sent & (remaining == 1)),
                     self.pending.eq(remaining != 0), self.addr.eq(Mux(sent, ra + 1, ra))]
        return m
