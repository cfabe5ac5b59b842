"""cocotb bench of the learning engine: strobes from JSON, every memory word checked per step.

One build runs every image of ``$SPIKEFAB_LEARN_BENCH`` (reset, load through the port, run).

Loaded by the cocotb runner from ``test_learning_engine.py``; the stimulus and the expected
engine-native words (computed from the reference ``CoreLearner``) come as a JSON file named by
``$SPIKEFAB_LEARN_BENCH``; the engine starts empty and is loaded through its memory port.
Inputs change on the falling clock edge.
"""

import json
import os
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge

_STROBES = ("step_begin", "pre", "post", "reward", "step_end", "mem_re", "mem_we")


async def _strobe_run(dut, image: dict, n: int) -> None:
    for table, index, word in image["writes"]:          # load the image's learning state
        dut.mem_table.value = table
        dut.mem_index.value = index
        dut.mem_wdata.value = word
        dut.mem_we.value = 1
        await FallingEdge(dut.clk)
    dut.mem_we.value = 0
    for step, (ops, want) in enumerate(zip(image["steps"], image["expected"]), start=1):
        for op in ops:
            while not int(dut.ready.value):
                await FallingEdge(dut.clk)
            if op[0] in ("pre", "post"):
                dut.index.value = op[1]
            elif op[0] == "reward":
                dut.profile.value = op[1]
                dut.index.value = op[2]
            getattr(dut, op[0]).value = 1
            await FallingEdge(dut.clk)
            getattr(dut, op[0]).value = 0
            if op[0] == "step_end" and want["cycles"] > 1:
                # busy for exactly cycles - 1 more cycles (skipped in one wait, not polled)
                if want["cycles"] > 2:
                    await ClockCycles(dut.clk, want["cycles"] - 2, rising=False)
                assert not int(dut.ready.value), \
                    f"image {n} step {step}: ready before {want['cycles']} cycles"
                await FallingEdge(dut.clk)
                assert int(dut.ready.value), \
                    f"image {n} step {step}: not ready after {want['cycles']} cycles"
            elif op[0] == "step_end":
                assert int(dut.ready.value), f"image {n} step {step}: busy after step_end"
        for table, index, word in want["words"]:
            dut.mem_table.value = table
            dut.mem_index.value = index
            dut.mem_re.value = 1
            await FallingEdge(dut.clk)
            dut.mem_re.value = 0
            assert int(dut.mem_rvalid.value) == 1
            got = int(dut.mem_rdata.value)
            assert got == word, \
                f"image {n} step {step}: table {table}[{index}] = {got:#x}, want {word:#x}"


@cocotb.test()
async def learning_engine_scoreboard(dut) -> None:
    cfg = json.loads(Path(os.environ["SPIKEFAB_LEARN_BENCH"]).read_text())
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    for name in _STROBES + ("clear", "index", "profile", "mem_table", "mem_index", "mem_wdata"):
        getattr(dut, name).value = 0
    for n, image in enumerate(cfg["images"]):
        dut.rst.value = 1
        await FallingEdge(dut.clk)
        await FallingEdge(dut.clk)
        dut.rst.value = 0
        await _strobe_run(dut, image, n)
