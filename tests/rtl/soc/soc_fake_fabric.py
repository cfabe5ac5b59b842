"""A tiny memory-backed fabric with the section-11 ports, for FPGA-flow tests only.

The shipped Mesh does not fit the iCE40 UP5K yet (docs/fpga.md), so the test of the iCEBreaker
build puts this stand-in behind the real UART, HostInterface and board top: one 256 x 32-bit
memory addressed by the low index bits, and a step counter for ``busy``.  Not a feature.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out


class FakeFabric(wiring.Component):
    mem_core: In(8)
    mem_table: In(4)
    mem_index: In(16)
    mem_wdata: In(128)
    mem_we: In(1)
    mem_re: In(1)
    mem_rdata: Out(128)
    mem_rvalid: Out(1)
    run_steps: In(16)
    start: In(1)
    busy: Out(1)
    clear: In(1)

    def __init__(self, params=None) -> None:
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.submodules.mem = mem = Memory(shape=32, depth=256, init=[])
        wp = mem.write_port()
        rp = mem.read_port()
        m.d.comb += [wp.addr.eq(self.mem_index[:8]), wp.data.eq(self.mem_wdata[:32]),
                     wp.en.eq(self.mem_we), rp.addr.eq(self.mem_index[:8]),
                     self.mem_rdata.eq(rp.data)]
        m.d.sync += self.mem_rvalid.eq(self.mem_re)
        left = Signal(24)
        with m.If(self.start):
            m.d.sync += left.eq(self.run_steps * 16)
        with m.Elif((left != 0) & ~self.clear):
            m.d.sync += left.eq(left - 1)
        m.d.comb += self.busy.eq(left != 0)
        return m
