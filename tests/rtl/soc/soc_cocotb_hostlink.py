"""cocotb bench of UART + HostInterface: UART driver and monitor, fabric model, scoreboard.

The toplevel (``hostlink``, built by ``test_cocotb_hostlink.py``) exposes the UART pins and the
section-11 fabric port; this module plays the host on the pins and the fabric on the port.
"""

import os
import random
import struct

import cocotb
from cocotb.clock import Clock
from cocotb.queue import Queue
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge

from spikefab.arch.protocol import (FABRIC_CORE, FabricTable, FrameSplitter, Info, InfoFlag,
                                      InfoReply, Inject, Op, ReadMem, Response, Status, WriteMem,
                                      entry_size)
from spikefab.rtl.params import mesh_params

DIVISOR = int(os.environ.get("HOSTLINK_DIVISOR", "4"))
PARAMS = mesh_params(os.environ.get("HOSTLINK_TARGET", "ice40-up5k"))
DEPTHS = [spec.depth for spec in PARAMS.core_tables().values()]
N_CORES = PARAMS.n_cores


def _int(signal) -> int:
    """A signal's value, with X/Z (Icarus before the first combinational evaluation) as 0."""
    try:
        return int(signal.value)
    except ValueError:
        return 0


class UartDriver:
    """Shifts bytes onto ``rx`` as 8N1 frames, with random idle gaps between bytes."""

    def __init__(self, clk, pin, divisor, rng):
        self.clk, self.pin, self.div, self.rng = clk, pin, divisor, rng
        self.pin.value = 1

    async def send(self, data: bytes) -> None:
        for byte in data:
            for bit in [0] + [(byte >> i) & 1 for i in range(8)] + [1]:
                self.pin.value = bit
                await ClockCycles(self.clk, self.div)
            if self.rng.random() < 0.2:
                await ClockCycles(self.clk, self.rng.randint(1, 3 * self.div))


class UartMonitor:
    """Samples ``tx`` mid-bit and queues complete COBS frames."""

    def __init__(self, clk, pin, divisor):
        self.clk, self.pin, self.div = clk, pin, divisor
        self.frames: Queue = Queue()
        self.wire = bytearray()
        self._split = FrameSplitter()

    async def run(self) -> None:
        while True:
            await FallingEdge(self.pin)
            await ClockCycles(self.clk, self.div // 2)
            if _int(self.pin) != 0:
                continue                      # a glitch, not a start bit
            byte = 0
            for i in range(8):
                await ClockCycles(self.clk, self.div)
                byte |= _int(self.pin) << i
            await ClockCycles(self.clk, self.div)
            assert _int(self.pin) == 1, "stop bit must be 1"
            self.wire.append(byte)
            for f in self._split.feed(bytes([byte])):
                self.frames.put_nowait(f)


class FabricModel:
    """The fabric's memory port: tables as dicts, reads answered one cycle after ``mem_re``.

    It wakes only on strobes (not every clock), which keeps the bench fast on Icarus.
    """

    def __init__(self, dut):
        self.dut = dut
        self.tables: dict = {}
        dut.mem_rvalid.value = 0
        dut.busy.value = 0

    def _addr(self):
        d = self.dut
        return (_int(d.mem_core), _int(d.mem_table)), _int(d.mem_index)

    async def writes(self) -> None:
        while True:
            await RisingEdge(self.dut.mem_we)
            await ReadOnly()
            key, index = self._addr()
            self.tables.setdefault(key, {})[index] = _int(self.dut.mem_wdata)

    async def reads(self) -> None:
        dut = self.dut
        while True:
            await RisingEdge(dut.mem_re)
            await ReadOnly()
            key, index = self._addr()
            await RisingEdge(dut.clk)
            dut.mem_rdata.value = self.tables.get(key, {}).get(index, 0)
            dut.mem_rvalid.value = 1
            await RisingEdge(dut.clk)
            dut.mem_rvalid.value = 0


class Scoreboard:
    """Expected responses from the protocol's own definition (spikefab.arch.protocol)."""

    def __init__(self):
        self.tables: dict = {}
        self.checked = 0

    def expect(self, cmd, seq: int) -> Response:
        if isinstance(cmd, Info):
            return Response(Op.INFO, seq, Status.OK, InfoReply(
                flags=InfoFlag.LEARNING if PARAMS.learning is not None else 0,
                n_cores=N_CORES, host_queue_depth=PARAMS.host_queue_depth,
                out_log_depth=PARAMS.out_log_depth,
                cycle_log_depth=PARAMS.cycle_log_depth).encode())
        if isinstance(cmd, WriteMem):
            t = self.tables.setdefault((cmd.core, cmd.table), {})
            for k in range(cmd.count):
                t[cmd.index + k] = cmd.data[k * cmd.esize:(k + 1) * cmd.esize]
            return Response(cmd.op, seq)
        if isinstance(cmd, Inject):
            t = self.tables.setdefault((FABRIC_CORE, FabricTable.HOST_QUEUE), {})
            for k in range(cmd.count):
                t[cmd.index + k] = cmd.entries[12 * k:12 * k + 12]
            self.tables[FABRIC_CORE, FabricTable.HOST_QUEUE_LEN] = {
                0: struct.pack("<H", cmd.index + cmd.count)}
            return Response(cmd.op, seq)
        if isinstance(cmd, ReadMem):
            t = self.tables.get((cmd.core, cmd.table), {})
            data = b"".join(t.get(cmd.index + k, bytes(cmd.esize)) for k in range(cmd.count))
            return Response(cmd.op, seq, Status.OK, data)
        raise AssertionError(cmd)

    def check(self, frame: bytes, expected: Response) -> None:
        got = Response.decode(frame)
        assert got == expected, f"response {got} != expected {expected}"
        self.checked += 1


def random_command(rng: random.Random, written: list):
    kind = rng.choice(["info", "write", "write", "read", "inject"])
    if kind == "info":
        return Info()
    if kind == "inject":
        n = rng.randint(1, 4)
        return Inject(rng.randint(0, 8), bytes(rng.randrange(256) for _ in range(12 * n)))
    if kind == "read" and written:
        core, table, index, count, esize = rng.choice(written)
        return ReadMem(core, table, index, count, esize)
    core = rng.randrange(N_CORES)
    table = rng.choice([1, 2, 3, 5, 7])
    esize = entry_size(core, table)
    depth = DEPTHS[table]
    count = rng.randint(1, min(8, 249 // esize, depth))
    index = rng.randint(0, min(16, depth - count))
    data = bytes(rng.choice([0, rng.randrange(256)]) for _ in range(count * esize))
    written.append((core, table, index, count, esize))
    return WriteMem(core, table, index, esize, data)


@cocotb.test(timeout_time=20, timeout_unit="ms")
async def protocol_session(dut):
    """Random commands over the UART; every response checked byte for byte; one NAK."""
    rng = random.Random(int(os.environ.get("HOSTLINK_SEED", "1")))
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    drv = UartDriver(dut.clk, dut.rx, DIVISOR, rng)
    mon = UartMonitor(dut.clk, dut.tx, DIVISOR)
    fab = FabricModel(dut)
    board = Scoreboard()
    dut.rst.value = 1
    await ClockCycles(dut.clk, 4)
    dut.rst.value = 0
    cocotb.start_soon(mon.run())
    cocotb.start_soon(fab.writes())
    cocotb.start_soon(fab.reads())

    bad = bytearray(Info().request(1).encode())
    bad[1] ^= 0x10
    await drv.send(bytes(bad))
    frame = await mon.frames.get()
    assert Response.decode(frame).is_nak

    written: list = []
    for seq in range(2, 18):
        cmd = random_command(rng, written)
        dut._log.info("request %d: %s", seq, type(cmd).__name__)
        await drv.send(cmd.request(seq).encode())
        board.check(await mon.frames.get(), board.expect(cmd, seq))
    assert board.checked == 16

    # full duplex: a window of requests sent back to back while the device answers; every one
    # is answered, in order (the receiver queues bytes in its FIFO instead of dropping them)
    window = [(seq, random_command(rng, written)) for seq in range(18, 30)]

    async def send_window() -> None:
        for seq, cmd in window:
            await drv.send(cmd.request(seq).encode())

    sender = cocotb.start_soon(send_window())
    for seq, cmd in window:
        board.check(await mon.frames.get(), board.expect(cmd, seq))
    await sender
    assert board.checked == 28
    # the memory port saw every written entry in the image byte layout (LSB first)
    for (core, table), entries in board.tables.items():
        for index, raw in entries.items():
            assert fab.tables[core, table][index] == int.from_bytes(raw, "little")
