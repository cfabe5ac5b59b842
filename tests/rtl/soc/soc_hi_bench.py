"""Amaranth-simulator bench for the HostInterface: byte-stream driver, frame monitor, fabric model."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from amaranth.sim import Simulator

from spikefab.arch.protocol import FrameSplitter
from spikefab.rtl.host_interface import HostInterface
from spikefab.rtl.params import mesh_params

from soc_fabric_model import FabricModel


@dataclass
class Step:
    """One bench action: send ``frame`` bytes, or wait ``idle`` cycles, then (maybe) expect a reply.

    With ``line`` > 0 the bytes come as from a UART receiver: one every ``line`` cycles whether
    or not the interface is ready (a byte offered while it is not ready is counted as dropped).
    """

    frame: bytes = b""
    idle: int = 0
    reply: bool = True
    line: int = 0


@dataclass
class BenchResult:
    frames: list[bytes] = field(default_factory=list)     # raw COBS frames (no delimiter)
    wire: bytes = b""                                      # every byte the device sent
    info_busy: list[int] = field(default_factory=list)
    dropped: int = 0                                       # bytes offered while not ready


def run_bench(steps: list[Step], fabric: FabricModel | None = None, *, target: str = "ecp5-85k",
              seed: int = 0, stall: float = 0.0, max_cycles: int = 200_000, params=None):
    """Drive ``steps`` into a HostInterface (of ``params``, default the ``target``'s) and
    return (BenchResult, FabricModel, dut)."""
    fabric = fabric or FabricModel()
    dut = HostInterface(params if params is not None else mesh_params(target))
    sim = Simulator(dut)
    sim.add_clock(1e-7)
    sim.add_process(fabric.process(dut))
    result = BenchResult()
    rng = random.Random(seed)
    splitter = FrameSplitter()
    wire = bytearray()

    async def monitor(ctx):
        async for _clk, _rst, valid, ready, payload in ctx.tick().sample(
                dut.tx_data.valid, dut.tx_data.ready, dut.tx_data.payload):
            if valid and ready:
                wire.append(payload)
                result.frames += splitter.feed(bytes([payload]))
            ctx.set(dut.tx_data.ready, int(rng.random() >= stall))

    async def driver(ctx):
        cycles = 0
        for step in steps:
            if step.idle:
                await ctx.tick().repeat(step.idle)
            want = len(result.frames) + (1 if step.reply else 0)
            for byte in step.frame if step.line else b"":
                ctx.set(dut.rx_data.payload, byte)
                ctx.set(dut.rx_data.valid, 1)
                _, _, ready = await ctx.tick().sample(dut.rx_data.ready)
                result.dropped += not ready
                ctx.set(dut.rx_data.valid, 0)
                await ctx.tick().repeat(step.line - 1)
            for byte in b"" if step.line else step.frame:
                ctx.set(dut.rx_data.payload, byte)
                ctx.set(dut.rx_data.valid, 1)
                await ctx.tick().until(dut.rx_data.ready)
                ctx.set(dut.rx_data.valid, 0)
                if stall and rng.random() < stall:
                    await ctx.tick().repeat(rng.randint(1, 3))
            while len(result.frames) < want:
                await ctx.tick()
                cycles += 1
                assert cycles < max_cycles, "no response from the HostInterface"
        await ctx.tick().repeat(4)

    sim.add_testbench(driver)
    sim.add_process(monitor)
    sim.run()
    result.wire = bytes(wire)
    return result, fabric, dut
