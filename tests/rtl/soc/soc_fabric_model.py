"""A Python model of the fabric's control port (docs/microarchitecture.md section 11), for tests.

It stands in for the RTL ``Mesh`` behind the ``HostInterface`` in Amaranth-simulator benches:
every table is a dict of entries (ints in the image byte layout, LSB-first), reads answer one
cycle after ``mem_re``, and ``start`` makes ``busy`` high for ``cycles_per_step`` cycles per step
with a ``step_done`` pulse at the end of each step.  With ``write_cycles > 0`` it behaves like a
fabric of serial cores: ``mem_ready`` stays low that many cycles after each write, and any change
of the held ``mem_*`` inputs meanwhile is recorded in ``hold_violations``.  It is test-only, not
a feature.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FabricModel:
    cycles_per_step: int = 7
    tables: dict[tuple[int, int], dict[int, int]] = field(default_factory=dict)
    writes: list[tuple[int, int, int, int]] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    clears: int = 0
    resets: int = 0
    write_cycles: int = 0
    hold_violations: list = field(default_factory=list)

    def read(self, core: int, table: int, index: int) -> int:
        return self.tables.get((core, table), {}).get(index, 0)

    def write(self, core: int, table: int, index: int, value: int) -> None:
        self.tables.setdefault((core, table), {})[index] = value
        self.writes.append((core, table, index, value))

    def process(self, dut):
        """An Amaranth ``add_process`` coroutine that plays the fabric for ``dut``."""
        async def run(ctx):
            busy_left = 0
            steps_left = 0
            hold_left, held = 0, None
            async for (_clk, _rst, we, re, core, table, index, wdata, start, steps, clear,
                       reset) in ctx.tick().sample(
                    dut.mem_we, dut.mem_re, dut.mem_core, dut.mem_table, dut.mem_index,
                    dut.mem_wdata, dut.start, dut.run_steps, dut.clear, dut.fabric_reset):
                ctx.set(dut.mem_rvalid, 0)
                ctx.set(dut.step_done, 0)
                if hold_left:
                    if (core, table, index, wdata) != held or we:
                        self.hold_violations.append((core, table, index))
                    hold_left -= 1
                if we:
                    self.write(core, table, index, wdata)
                    hold_left, held = self.write_cycles, (core, table, index, wdata)
                ctx.set(dut.mem_ready, int(hold_left == 0))
                if re:
                    ctx.set(dut.mem_rdata, self.read(core, table, index))
                    ctx.set(dut.mem_rvalid, 1)
                if clear:
                    self.clears += 1
                if reset:
                    self.resets += 1
                    steps_left = busy_left = 0
                if start:
                    self.starts.append(steps)
                    steps_left, busy_left = steps, self.cycles_per_step
                elif steps_left:
                    busy_left -= 1
                    if busy_left == 0:
                        ctx.set(dut.step_done, 1)
                        steps_left -= 1
                        busy_left = self.cycles_per_step
                ctx.set(dut.busy, int(steps_left > 0))
        return run
