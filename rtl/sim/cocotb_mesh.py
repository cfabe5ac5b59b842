"""cocotb test module: drives the exported Mesh Verilog through its control interface.

Loaded by the cocotb runner (never imported by spikefab itself).  It reads a pickled list of
:class:`~spikefab.rtl.sim.program.Job` from ``$SPIKEFAB_RTL_JOBS``, runs each one with
:func:`~spikefab.rtl.sim.program.run_program` on the simulated fabric (load the image through
the memory port, queue host packets, run steps, read logs and state back) and pickles the
:class:`~spikefab.arch.host.RunRecord` list to ``$SPIKEFAB_RTL_OUT``.

Driver discipline: inputs change and outputs are sampled on the **falling** clock edge, half a
period away from the rising edge where the fabric acts, which is race-free on Icarus and on
Verilator alike.  Waiting for a run uses an edge trigger on ``busy`` (no Python per cycle).
"""

import os
import pickle
import time

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge
from cocotb.utils import get_sim_time

from spikefab.rtl.params import mesh_params
from spikefab.rtl.sim.program import run_program

CLOCK_NS = 10


class CocotbPort:
    """The :class:`~spikefab.rtl.sim.program.Port` operations on a cocotb DUT handle."""

    def __init__(self, dut) -> None:
        self.dut = dut
        self.cycles_run = 0      # clock cycles spent stepping (start .. busy low)
        self.run_wall = 0.0      # wall-clock seconds spent stepping

    async def _cycle(self) -> None:
        await FallingEdge(self.dut.clk)

    async def write(self, core: int, table: int, index: int, data: int) -> None:
        d = self.dut
        d.mem_core.value = core
        d.mem_table.value = table
        d.mem_index.value = index
        d.mem_wdata.value = data
        d.mem_we.value = 1
        await self._cycle()
        d.mem_we.value = 0
        while not int(d.mem_ready.value):   # serial cores apply a write over several cycles
            await self._cycle()

    async def read(self, core: int, table: int, index: int) -> int:
        d = self.dut
        d.mem_core.value = core
        d.mem_table.value = table
        d.mem_index.value = index
        d.mem_re.value = 1
        await self._cycle()
        d.mem_re.value = 0
        for _ in range(16):                 # one cycle, or one per RAM word of a serial core
            if int(d.mem_rvalid.value):
                break
            await self._cycle()
        else:
            raise AssertionError(f"mem_rvalid must follow mem_re within 16 cycles (core "
                                 f"{core} table {table} index {index})")
        value = d.mem_rdata.value
        if not value.is_resolvable:
            raise AssertionError(f"mem_rdata of core {core} table {table} index {index} is "
                                 f"unresolved: {value}")
        return int(value)

    async def _wait_idle(self) -> None:
        d = self.dut
        while int(d.busy.value):
            await FallingEdge(d.busy)
            await self._cycle()

    async def clear(self) -> None:
        self.dut.clear.value = 1
        await self._cycle()
        self.dut.clear.value = 0
        await self._wait_idle()

    async def run(self, steps: int) -> None:
        d = self.dut
        d.run_steps.value = steps
        d.start.value = 1
        t0, w0 = get_sim_time(unit="ns"), time.perf_counter()
        await self._cycle()
        d.start.value = 0
        await self._wait_idle()
        self.cycles_run += int((get_sim_time(unit="ns") - t0) // CLOCK_NS)
        self.run_wall += time.perf_counter() - w0


@cocotb.test()
async def run_jobs(dut) -> None:
    """Run every job of ``$SPIKEFAB_RTL_JOBS`` and store the raw results."""
    with open(os.environ["SPIKEFAB_RTL_JOBS"], "rb") as f:
        spec = pickle.load(f)
    params = spec.get("params") or mesh_params(spec["target"])
    cocotb.start_soon(Clock(dut.clk, CLOCK_NS, unit="ns").start())
    for sig in (dut.mem_we, dut.mem_re, dut.start, dut.clear, dut.run_steps, dut.mem_core,
                dut.mem_table, dut.mem_index, dut.mem_wdata):
        sig.value = 0
    dut.rst.value = 1
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    port = CocotbPort(dut)
    raws = []
    wall = time.perf_counter()
    for job in spec["jobs"]:
        raws.append(await run_program(port, params, job))
    wall = time.perf_counter() - wall
    with open(os.environ["SPIKEFAB_RTL_OUT"], "wb") as f:
        pickle.dump({"raws": raws, "run_cycles": port.cycles_run, "run_wall_s": port.run_wall,
                     "total_cycles": int(get_sim_time(unit="ns") // CLOCK_NS), "wall_s": wall}, f)
