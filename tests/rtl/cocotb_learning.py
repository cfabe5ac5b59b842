"""cocotb bench of the learning engine: strobes from JSON, every memory word checked per step.

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
from cocotb.triggers import FallingEdge

_STROBES = ("step_begin", "pre", "post", "reward", "step_end", "mem_re", "mem_we")


@cocotb.test()
async def learning_engine_scoreboard(dut) -> None:
    cfg = json.loads(Path(os.environ["SPIKEFAB_LEARN_BENCH"]).read_text())
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    for name in _STROBES + ("index", "profile", "mem_table", "mem_index", "mem_wdata"):
        getattr(dut, name).value = 0
    dut.rst.value = 1
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    for table, index, word in cfg["writes"]:              # load the image's learning state
        dut.mem_table.value = table
        dut.mem_index.value = index
        dut.mem_wdata.value = word
        dut.mem_we.value = 1
        await FallingEdge(dut.clk)
    dut.mem_we.value = 0
    for step, (ops, want) in enumerate(zip(cfg["steps"], cfg["expected"]), start=1):
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
            if op[0] == "step_end":
                cycles = 1
                while not int(dut.ready.value):
                    await FallingEdge(dut.clk)
                    cycles += 1
                assert cycles == want["cycles"], f"step {step}: {cycles} cycles, want {want['cycles']}"
        for table, key in enumerate(("syn", "x", "y", "rng")):
            for i, word in enumerate(want[key]):
                dut.mem_table.value = table
                dut.mem_index.value = i
                dut.mem_re.value = 1
                await FallingEdge(dut.clk)
                dut.mem_re.value = 0
                assert int(dut.mem_rvalid.value) == 1
                got = int(dut.mem_rdata.value)
                assert got == word, f"step {step}: {key}[{i}] = {got:#x}, want {word:#x}"
