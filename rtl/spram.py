"""A 16-bit single-port RAM: the iCE40 UP5K's SPRAM on that FPGA, a behavioural model elsewhere.

The serial core (:mod:`spikefab.rtl.serial_core`) keeps its neuron and synapse tables in RAMs
with one address per cycle, 16-bit words and byte write enables — exactly what an
``SB_SPRAM256KA`` (16,384 x 16 bit) offers; a RAM of up to 32,768 words is two of them, the top
address bit choosing one.  Yosys does not infer SPRAMs from a generic memory, so on an iCE40
UltraPlus platform this component instantiates the primitives; everywhere else (Verilog for
simulation, other FPGAs) it is an Amaranth memory with the same behaviour:

* a read presented in cycle ``c`` (``we == 0``) gives its data in cycle ``c + 1``;
* a write cycle (``we != 0``) leaves ``rdata`` unchanged (the SPRAM's output holds on writes);
* ``we`` bit 0 writes the low byte, bit 1 the high byte.
"""

from amaranth.hdl import C, Cat, ClockSignal, Instance, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from spikefab.rtl.params import SERIAL_RAM_DEPTH

__all__ = ["SinglePortRAM"]


def _is_ice40_up(platform) -> bool:
    return platform is not None and str(getattr(platform, "device", "")).startswith("iCE40UP")


SPRAM_WORDS = 16384


class SinglePortRAM(wiring.Component):
    """``depth`` x 16-bit single-port RAM (one SPRAM per 16,384 words on an iCE40 UP)."""

    def __init__(self, depth: int) -> None:
        if not 0 < depth <= SERIAL_RAM_DEPTH:
            raise ValueError(f"SinglePortRAM depth must be 1..{SERIAL_RAM_DEPTH}, not {depth}")
        self.depth = depth
        super().__init__({"addr": In(range(max(depth, 2))), "wdata": In(16), "we": In(2),
                          "rdata": Out(16)})

    def elaborate(self, platform):
        m = Module()
        if _is_ice40_up(platform):
            banks = (self.depth + SPRAM_WORDS - 1) // SPRAM_WORDS
            addr = Cat(self.addr, C(0, 15))
            bank_r = Signal(range(max(banks, 2)))       # bank of the last read, for the output
            outs = []
            for b in range(banks):
                out = Signal(16, name=f"dataout{b}")
                sel = (addr[14] == b) if banks > 1 else C(1, 1)
                m.submodules[f"spram{b}"] = Instance(
                    "SB_SPRAM256KA",
                    i_ADDRESS=addr[:14], i_DATAIN=self.wdata,
                    i_MASKWREN=Cat(self.we[0], self.we[0], self.we[1], self.we[1]),
                    i_WREN=self.we.any(), i_CHIPSELECT=sel, i_CLOCK=ClockSignal("sync"),
                    i_STANDBY=C(0, 1), i_SLEEP=C(0, 1), i_POWEROFF=C(1, 1), o_DATAOUT=out)
                outs.append(out)
            if banks > 1:
                with m.If(~self.we.any()):
                    m.d.sync += bank_r.eq(addr[14])
                m.d.comb += self.rdata.eq(Mux(bank_r, outs[1], outs[0]))
            else:
                m.d.comb += self.rdata.eq(outs[0])
            return m
        mem = m.submodules.mem = Memory(shape=16, depth=self.depth, init=[])
        rp = mem.read_port()
        wp = mem.write_port(granularity=8)
        m.d.comb += [rp.addr.eq(self.addr), rp.en.eq(~self.we.any()), self.rdata.eq(rp.data),
                     wp.addr.eq(self.addr), wp.data.eq(self.wdata), wp.en.eq(self.we)]
        return m

