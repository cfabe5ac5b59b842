"""Amaranth-simulator tests of the HostInterface against spikefab.arch.protocol (the scoreboard)."""

from __future__ import annotations

import random
import struct

import numpy as np
import pytest
from soc_fabric_model import FabricModel
from soc_hi_bench import Step, run_bench

from spikefab.arch.image import CORE_TABLES, ROUTE_DTYPE
from spikefab.arch.protocol import (FABRIC_CORE, Clear, FabricTable, Info, InfoFlag, InfoReply,
                                      Inject, Op, ReadMem, Request, Reset, Response, Run, SetCrc,
                                      Status, WriteMem, crc16, entry_size)
from spikefab.rtl.params import mesh_params

P = mesh_params("ecp5-85k")       # four cores: the core-address checks see several


def _responses(result) -> list[Response]:
    return [Response.decode(f) for f in result.frames]


def _entries(table: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dtype = CORE_TABLES[table]
    raw = rng.integers(0, 256, size=n * dtype.itemsize, dtype=np.uint8)
    return np.frombuffer(raw.tobytes(), dtype=dtype)


def test_info_bytes_and_fields() -> None:
    res, _fab, _ = run_bench([Step(Info().request(3).encode())])
    (resp,) = _responses(res)
    assert P.learning is not None                  # ecp5-85k's cores carry the learning engine
    expect = InfoReply(flags=InfoFlag.LEARNING, n_cores=P.n_cores,
                       host_queue_depth=P.host_queue_depth, out_log_depth=P.out_log_depth,
                       cycle_log_depth=P.cycle_log_depth)
    assert (resp.op, resp.seq, resp.status) == (Op.INFO, 3, Status.OK)
    assert InfoReply.decode(resp.payload) == expect
    # byte-exact framing: what the host library would send for the same response
    assert res.wire == Response(Op.INFO, 3, Status.OK, expect.encode()).encode()


def test_info_learning_flag_follows_the_cores() -> None:
    """A static build of the same target (the ULX3S bitstream) clears INFO's LEARNING bit."""
    res, _fab, _ = run_bench([Step(Info().request(4).encode())],
                             params=mesh_params("ecp5-85k", learning=None))
    (resp,) = _responses(res)
    info = InfoReply.decode(resp.payload)
    assert resp.status == Status.OK and info.n_cores == P.n_cores
    assert not info.learning and info.flags == 0


def test_bad_frames_get_nak() -> None:
    good = bytearray(Info().request(9).encode())
    good[2] ^= 0x40                                   # corrupt a byte: CRC fails
    short = b"\x02\x05\x00"                           # 1-byte body
    res, _, _ = run_bench([Step(bytes(good)), Step(short), Step(b"\x00", reply=False),
                           Step(Info().request(10).encode())])
    assert res.wire.startswith(bytes.fromhex("02FF02010352FC00") * 2)
    resp = _responses(res)
    assert [r.is_nak for r in resp] == [True, True, False]
    assert resp[2].seq == 10


def test_writes_wait_for_a_slow_fabric() -> None:
    """Serial cores apply an entry over several cycles: the port holds it until mem_ready."""
    n = min(249 // 16, P.core_tables()["profiles"].depth)
    ent = _entries("profiles", n, seed=5)
    fab = FabricModel(write_cycles=7)
    res, fab, _ = run_bench([
        Step(WriteMem(0, CORE_TABLES_ID["profiles"], 0, 16, ent.tobytes()).request(1).encode()),
        Step(ReadMem(0, CORE_TABLES_ID["profiles"], 0, n, 16).request(2).encode()),
    ], fabric=fab)
    w, r = _responses(res)
    assert (w.status, r.status) == (Status.OK, Status.OK)
    assert r.payload == ent.tobytes()
    assert len(fab.writes) == n and not fab.hold_violations


@pytest.mark.parametrize("table", ["profiles", "neurons", "state", "synapses", "routes", "acc_exps"])
def test_write_then_read_core_table(table: str) -> None:
    esize = CORE_TABLES[table].itemsize
    depth = P.core_tables()[table].depth
    n = min(depth, 249 // esize)
    ent = _entries(table, n, seed=len(table))
    core = 1
    idx = depth - n                              # last entries: checks the range limit is inclusive
    res, fab, _ = run_bench([
        Step(WriteMem(core, CORE_TABLES_ID[table], idx, esize, ent.tobytes()).request(1).encode()),
        Step(ReadMem(core, CORE_TABLES_ID[table], idx, n, esize).request(2).encode()),
    ], stall=0.3, seed=3)
    w, r = _responses(res)
    assert (w.status, w.seq, w.payload) == (Status.OK, 1, b"")
    assert (r.status, r.seq) == (Status.OK, 2)
    assert r.payload == ent.tobytes()
    # the memory port saw each entry LSB-first, at consecutive indices
    for k in range(n):
        got = fab.read(core, CORE_TABLES_ID[table], idx + k)
        assert got == int.from_bytes(ent[k:k + 1].tobytes(), "little")


CORE_TABLES_ID = {name: i for i, name in enumerate(CORE_TABLES)}


def test_long_frames_exercise_cobs_255_blocks() -> None:
    """A 252-byte payload of non-zero bytes: COBS code 255 in both directions."""
    rng = random.Random(5)
    for _ in range(100):
        values = [rng.randrange(1 << 24, 1 << 32) for _ in range(63)]
        values = [v | 0x01010101 for v in values]
        data = b"".join(struct.pack("<I", v) for v in values)
        body = bytes([Op.READ_MEM | 0x80, 7, 0, 252]) + data
        if 0 not in struct.pack("<H", crc16(body)):
            break
    fab = FabricModel()
    for i, v in enumerate(values):
        fab.write(FABRIC_CORE, FabricTable.OUT_LOG, i, v)
    res, _, _ = run_bench([Step(ReadMem(FABRIC_CORE, FabricTable.OUT_LOG, 0, 63, 4)
                                .request(7).encode())], fab)
    (resp,) = _responses(res)
    assert resp.payload == data
    assert res.wire == Response(Op.READ_MEM, 7, Status.OK, data).encode()
    assert 0xFF in res.wire                       # a full 254-byte block was sent


def test_argument_errors() -> None:
    es = entry_size(0, 5)
    steps = [
        Step(Request(0x42, 1).encode()),                                     # unknown op
        Step(Request(Op.INFO, 2, b"\x01").encode()),                          # INFO with payload
        Step(WriteMem(0, 5, 0, es + 1, bytes(es + 1)).request(3).encode()),   # wrong esize
        Step(WriteMem(P.n_cores, 5, 0, es, bytes(es)).request(4).encode()),   # no such core
        Step(WriteMem(0, 5, P.synapses - 1, es, bytes(2 * es)).request(5).encode()),  # past end
        Step(WriteMem(0, 9, 0, 2, bytes(2)).request(6).encode()),            # no such table
        Step(Request(Op.WRITE_MEM, 7, bytes([0, 5, 0, 0, 2, es]) + bytes(es)).encode()),  # short
        Step(Request(Op.RUN, 8, b"\x00\x00").encode()),                       # zero steps
        Step(Request(Op.RUN, 9, b"\x01").encode()),                           # short RUN
        Step(ReadMem(0, 1, 0, 16, 16).request(10).encode()),                  # 256 bytes
        Step(Request(Op.INJECT, 11, struct.pack("<HB", 250, 7) + bytes(84)).encode()),  # > depth
    ]
    res, fab, _ = run_bench(steps)
    got = [(r.seq, r.status) for r in _responses(res)]
    assert got == [(1, Status.BAD_OP), (2, Status.BAD_LEN), (3, Status.BAD_ARG),
                   (4, Status.BAD_ARG), (5, Status.BAD_ARG), (6, Status.BAD_ARG),
                   (7, Status.BAD_LEN), (8, Status.BAD_ARG), (9, Status.BAD_LEN),
                   (10, Status.BAD_ARG), (11, Status.BAD_ARG)]
    assert fab.writes == [] and fab.starts == []


def test_inject_writes_queue_and_length() -> None:
    routes = np.zeros(3, dtype=ROUTE_DTYPE)
    routes["x"] = [1, 0, 1]
    routes["axon"] = [5, 700, 1023]
    res, fab, _ = run_bench([Step(Inject(2, routes.tobytes()).request(1).encode())])
    assert _responses(res)[0].status == Status.OK
    for k in range(3):
        assert fab.read(FABRIC_CORE, FabricTable.HOST_QUEUE, 2 + k) == int.from_bytes(
            routes[k:k + 1].tobytes(), "little")
    assert fab.read(FABRIC_CORE, FabricTable.HOST_QUEUE_LEN, 0) == 5


def test_run_busy_repeat_and_crc_register() -> None:
    steps = [
        Step(SetCrc(0xDEADBEEF).request(1).encode()),
        Step(Run(3).request(2).encode()),
        Step(Run(3).request(2).encode()),                                    # repeat: no restart
        Step(Info().request(3).encode()),
        Step(WriteMem(0, 2, 0, 4, bytes(4)).request(4).encode()),            # BUSY
        Step(Info().request(5).encode(), idle=1500),
        Step(Clear().request(6).encode()),
        Step(Run(2).request(7).encode()),                                    # new seq: starts
        Step(Reset().request(8).encode()),                                   # aborts
        Step(Info().request(9).encode()),
    ]
    fab = FabricModel(cycles_per_step=400)
    res, fab, _ = run_bench(steps, fab)
    r = _responses(res)
    assert [x.status for x in r] == [Status.OK, Status.OK, Status.OK, Status.OK, Status.BUSY,
                                     Status.OK, Status.OK, Status.OK, Status.OK, Status.OK]
    busy_info = InfoReply.decode(r[3].payload)
    assert busy_info.busy and busy_info.image_crc == 0xDEADBEEF
    assert 1 <= busy_info.steps_pending <= 3
    idle_info = InfoReply.decode(r[5].payload)
    assert not idle_info.busy and idle_info.steps_pending == 0
    assert fab.starts == [3, 2]
    assert fab.resets == 1 and fab.clears == 2      # CLEAR, and RESET does what CLEAR does
    final = InfoReply.decode(r[9].payload)
    assert final.image_crc == 0 and not final.busy


def test_frames_sent_back_to_back_are_all_answered_in_order() -> None:
    """Full duplex: a window of requests arrives while earlier ones are executed and answered;
    the RX FIFO holds the bytes, so none is lost and the answers come in request order."""
    esize = CORE_TABLES["synapses"].itemsize
    n = 249 // esize
    writes = [(k, _entries("synapses", n, seed=10 + k)) for k in range(4)]
    frames = [WriteMem(0, CORE_TABLES_ID["synapses"], k * n, esize, ent.tobytes())
              .request(20 + k).encode() for k, ent in writes]
    frames.append(ReadMem(0, CORE_TABLES_ID["synapses"], n, n, esize).request(24).encode())
    fab = FabricModel(write_cycles=3)
    # one byte per 40 cycles (a UART at divisor 4) while the answers go out at one per 40 too
    res, fab, _ = run_bench([Step(b"".join(frames), line=40), Step(idle=30_000, reply=False)],
                            fabric=fab, stall=0.975, seed=4)
    assert res.dropped == 0
    resp = _responses(res)
    assert [(r.seq, r.status) for r in resp] == [(20 + k, Status.OK) for k in range(5)]
    assert resp[4].payload == writes[1][1].tobytes()
    assert len(fab.writes) == 4 * n and not fab.hold_violations
