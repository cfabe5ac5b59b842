"""Amaranth-simulator unit tests of the 8N1 UART: bit timing, loopback, errors."""

from __future__ import annotations

import pytest
from amaranth.hdl import Module
from amaranth.sim import Simulator

from spikefab.rtl.uart import UART, UARTRx, UARTTx, divisor_for

DIV = 6


def _bits(byte: int, stop: int = 1) -> list[int]:
    return [0] + [(byte >> i) & 1 for i in range(8)] + [stop]


def test_divisor_for_icebreaker_rates() -> None:
    assert divisor_for(12e6, 1_000_000) == 12
    assert divisor_for(12e6, 115200) == 104
    with pytest.raises(ValueError, match="divisor must be >= 4"):
        divisor_for(12e6, 6_000_000)
    with pytest.raises(ValueError, match="error must be <= 2 %"):
        divisor_for(12e6, 1_600_000)


def test_tx_waveform() -> None:
    """Every bit of a frame lasts exactly `divisor` cycles, LSB first, idle high."""
    dut = UARTTx(DIV)
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    seen: list[int] = []

    async def tb(ctx):
        assert ctx.get(dut.tx) == 1
        ctx.set(dut.i.payload, 0xA5)
        ctx.set(dut.i.valid, 1)
        await ctx.tick()
        ctx.set(dut.i.valid, 0)
        for _ in range(10 * DIV + 4):
            seen.append(ctx.get(dut.tx))
            await ctx.tick()

    sim.add_testbench(tb)
    sim.run()
    frame = [seen[k * DIV] for k in range(10)]
    assert frame == _bits(0xA5)
    assert all(seen[k * DIV + j] == frame[k] for k in range(10) for j in range(DIV))
    assert seen[10 * DIV:] == [1] * 4


@pytest.mark.parametrize("div, jitter", [(DIV, 0), (32, 1), (32, -1)])
def test_rx_samples_bytes(div: int, jitter: int) -> None:
    """The receiver decodes bytes sent ~3 % fast or slow and flags a bad stop bit."""
    dut = UARTRx(div)
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    got: list[int] = []
    errors: list[str] = []
    data = [0x00, 0xFF, 0x55, 0x81]

    async def drive(ctx):
        ctx.set(dut.rx, 1)
        await ctx.tick().repeat(3)
        for byte in data:
            for b in _bits(byte):
                ctx.set(dut.rx, b)
                await ctx.tick().repeat(div + jitter)
        for b in _bits(0x3C, stop=0):
            ctx.set(dut.rx, b)
            await ctx.tick().repeat(div)
        ctx.set(dut.rx, 1)
        await ctx.tick().repeat(3 * div)

    async def sink(ctx):
        ctx.set(dut.o.ready, 1)
        async for _clk, _rst, valid, payload, ferr in ctx.tick().sample(
                dut.o.valid, dut.o.payload, dut.frame_error):
            if valid:
                got.append(payload)
            if ferr:
                errors.append("frame")

    sim.add_process(sink)
    sim.add_testbench(drive)
    sim.run()
    assert got == data
    assert errors == ["frame"]


def test_rx_overflow_keeps_first_byte() -> None:
    dut = UARTRx(DIV)
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    flags: list[int] = []

    async def tb(ctx):
        ctx.set(dut.o.ready, 0)
        for byte in (0x12, 0x34):
            for b in _bits(byte):
                ctx.set(dut.rx, b)
                for _ in range(DIV):
                    await ctx.tick()
                    flags.append(ctx.get(dut.overflow))
        ctx.set(dut.rx, 1)
        await ctx.tick().repeat(DIV)
        assert ctx.get(dut.o.valid) == 1
        assert ctx.get(dut.o.payload) == 0x12

    sim.add_testbench(tb)
    sim.run()
    assert sum(flags) == 1


def test_loopback_stream() -> None:
    """TX wired to RX: a burst of bytes (back-to-back frames) comes back unchanged."""
    m = Module()
    m.submodules.uart = uart = UART(DIV)
    m.d.comb += uart.rx.eq(uart.tx)
    sim = Simulator(m)
    sim.add_clock(1e-6)
    data = list(range(0, 256, 17)) + [0]
    got: list[int] = []

    async def src(ctx):
        for byte in data:
            ctx.set(uart.tx_data.payload, byte)
            ctx.set(uart.tx_data.valid, 1)
            await ctx.tick().until(uart.tx_data.ready)
        ctx.set(uart.tx_data.valid, 0)

    async def snk(ctx):
        ctx.set(uart.rx_data.ready, 1)
        while len(got) < len(data):
            await ctx.tick()
            if ctx.get(uart.rx_data.valid):
                got.append(ctx.get(uart.rx_data.payload))
        assert ctx.get(uart.rx_error) == 0

    sim.add_testbench(src)
    sim.add_testbench(snk)
    sim.run()
    assert got == data
