"""The Verilator virtual board: a real pseudo-terminal, pyserial, the real SoC (UART + host
interface + Mesh).  The executable is built once and cached under build/virtual_board/."""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path

import pytest
import serial

from spikefab.arch.protocol import (FABRIC_CORE, Clear, Counter, FabricTable, FrameSplitter,
                                      Info, InfoReply, ReadMem, Request, Reset, Response, Run,
                                      Status, WriteMem)
from spikefab.errors import ToolError
from spikefab.rtl.params import mesh_params
from spikefab.rtl.virtual_board import VirtualBoard

pytestmark = [pytest.mark.rtl, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]


class Host:
    """A minimal stop-and-wait host over pyserial (the runtime has the real one)."""

    def __init__(self, port: str) -> None:
        self.ser = serial.Serial(port, 1_000_000, timeout=5)
        self.split = FrameSplitter()

    def ask(self, req: Request) -> Response:
        self.ser.write(req.encode())
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for frame in self.split.feed(self.ser.read(1) + self.ser.read(self.ser.in_waiting)):
                return Response.decode(frame)
        raise AssertionError(f"no answer to {req}")


@pytest.fixture(scope="module")
def board():
    b = VirtualBoard("ice40-up5k", build_dir=ROOT / "build" / "virtual_board")
    b.start()
    yield b
    b.stop()
    assert not b.running


def test_pty_speaks_the_protocol_to_the_mesh(board) -> None:
    assert os.path.exists(board.pty)
    host = Host(board.pty)
    params = mesh_params("ice40-up5k")
    info = InfoReply.decode(host.ask(Info().request(1)).payload)
    assert (info.version, info.n_cores, info.out_log_depth) == (1, params.n_cores,
                                                                 params.out_log_depth)
    assert host.ask(Reset().request(2)).status == Status.OK
    # neuron counts (config table) round-trip through the fabric's memories
    assert host.ask(WriteMem(0, 8, 0, 2, struct.pack("<H", 3)).request(3)).status == Status.OK
    no_core = WriteMem(params.n_cores, 8, 0, 2, struct.pack("<H", 1)).request(4)
    assert host.ask(no_core).status == Status.BAD_ARG
    back = host.ask(ReadMem(0, 8, 0, 1, 2).request(5))
    assert struct.unpack("<H", back.payload) == (3,)
    assert host.ask(Clear().request(6)).status == Status.OK
    seq = 100                    # CLEAR sweeps the accumulators (one neuron per cycle): wait
    while InfoReply.decode(host.ask(Info().request(seq)).payload).busy:
        seq += 1
    assert host.ask(Run(3).request(7)).status == Status.OK
    seq = 8
    while InfoReply.decode(host.ask(Info().request(seq)).payload).busy:
        seq += 1
    counters = host.ask(ReadMem(FABRIC_CORE, FabricTable.COUNTERS, 0, 6, 4).request(seq + 1))
    steps = struct.unpack("<6I", counters.payload)[Counter.STEPS]
    assert steps == 3
    cycles = host.ask(ReadMem(FABRIC_CORE, FabricTable.CYCLE_LOG, 0, 3, 4).request(seq + 2))
    per_step = struct.unpack("<3I", cycles.payload)
    assert all(c >= params.barrier_cycles for c in per_step)
    bad = bytearray(Info().request(99).encode())
    bad[2] ^= 0xFF
    assert host.ask(Info().request(100)).seq == 100                       # still in sync
    host.ser.write(bytes(bad))
    nak = Response.decode(host.split.feed(host.ser.read(8))[0])
    assert nak.is_nak
    host.ser.close()


def test_start_is_idempotent_and_stop_ends_the_process(board) -> None:
    assert board.start() == board.pty
    other = VirtualBoard("ice40-up5k", build_dir=ROOT / "build" / "virtual_board")
    assert other.build() == board.build()          # cached executable, no rebuild
    other.stop()                                     # stopping a board never started is fine


def test_missing_verilator_is_a_tool_error(tmp_path: Path, monkeypatch) -> None:
    import spikefab.rtl.virtual_board.board as vb

    monkeypatch.setattr(vb.shutil, "which", lambda *a, **k: None)
    with pytest.raises(ToolError, match="Verilator must be installed"):
        VirtualBoard("ice40-up5k", build_dir=tmp_path).build()
