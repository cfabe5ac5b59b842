"""Run a :class:`~spikefab.rtl.mesh.Mesh` under Amaranth's own Python simulator.

Slow (tens of thousands of cycles per second) but needs no HDL simulator: the unit tests of the
fabric use it, and it is the reference for the cocotb driver (same :func:`run_program`).
"""

from __future__ import annotations

from typing import Sequence

from amaranth.sim import Simulator

from spikefab.arch.host import RunRecord
from spikefab.arch.result import Result
from spikefab.arch.target import load_target
from spikefab.rtl.mesh import Mesh
from spikefab.rtl.params import check_rtl_image, mesh_params
from spikefab.rtl.sim.program import Job, build_result, run_program

__all__ = ["AmaranthPort", "run_pysim"]


class AmaranthPort:
    """The :class:`~spikefab.rtl.sim.program.Port` operations on an Amaranth testbench context."""

    def __init__(self, ctx, dut: Mesh) -> None:
        self.ctx, self.dut = ctx, dut

    async def write(self, core: int, table: int, index: int, data: int) -> None:
        c, d = self.ctx, self.dut
        c.set(d.mem_core, core)
        c.set(d.mem_table, table)
        c.set(d.mem_index, index)
        c.set(d.mem_wdata, data)
        c.set(d.mem_we, 1)
        await c.tick()
        c.set(d.mem_we, 0)
        while not c.get(d.mem_ready):       # serial cores apply a write over several cycles
            await c.tick()

    async def read(self, core: int, table: int, index: int) -> int:
        c, d = self.ctx, self.dut
        c.set(d.mem_core, core)
        c.set(d.mem_table, table)
        c.set(d.mem_index, index)
        c.set(d.mem_re, 1)
        await c.tick()
        c.set(d.mem_re, 0)
        for _ in range(16):                 # one cycle, or one per RAM word of a serial core
            if c.get(d.mem_rvalid):
                return int(c.get(d.mem_rdata))
            await c.tick()
        raise AssertionError(f"mem_rvalid must follow mem_re within 16 cycles (core {core} "
                             f"table {table} index {index})")

    async def _wait_idle(self) -> None:
        c, d = self.ctx, self.dut
        await c.tick()
        while c.get(d.busy):
            await c.tick()

    async def clear(self) -> None:
        self.ctx.set(self.dut.clear, 1)
        await self.ctx.tick()
        self.ctx.set(self.dut.clear, 0)
        await self._wait_idle()

    async def run(self, steps: int) -> None:
        self.ctx.set(self.dut.run_steps, steps)
        self.ctx.set(self.dut.start, 1)
        await self.ctx.tick()
        self.ctx.set(self.dut.start, 0)
        while self.ctx.get(self.dut.busy):
            await self.ctx.tick()


def run_pysim(jobs: Sequence[Job], target: str, vcd: str | None = None) -> list[Result]:
    """Run jobs one after the other on one simulated Mesh of ``target``."""
    t = load_target(target)
    params = mesh_params(t)
    for job in jobs:
        check_rtl_image(job.image, t, params)
    dut = Mesh(params)
    raws: list[RunRecord] = []

    async def bench(ctx):
        port = AmaranthPort(ctx, dut)
        for job in jobs:
            raws.append(await run_program(port, params, job))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    if vcd:
        with sim.write_vcd(vcd):
            sim.run()
    else:
        sim.run()
    return [build_result(job.image, job.steps, raw, "rtl-pysim", t.timing.clock_mhz)
            for job, raw in zip(jobs, raws)]
