"""The host-link frames: COBS, CRC, header layout, command payloads (docs/host-protocol.md)."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spikefab.arch import protocol as p
from spikefab.arch.image import CORE_TABLES, ROUTE_DTYPE


def test_crc16_is_ccitt_false() -> None:
    assert p.crc16(b"123456789") == 0x29B1


@pytest.mark.parametrize("data, encoded", [
    (b"", b"\x01"),
    (b"\x00", b"\x01\x01"),
    (b"\x11\x22\x00\x33", b"\x03\x11\x22\x02\x33"),
    (b"\x11\x00\x00\x00", b"\x02\x11\x01\x01\x01"),
])
def test_cobs_known_vectors(data: bytes, encoded: bytes) -> None:
    assert p.cobs_encode(data) == encoded
    assert p.cobs_decode(encoded) == data


@given(st.binary(max_size=700))
@settings(max_examples=200, deadline=None)
def test_cobs_round_trip_has_no_zero(data: bytes) -> None:
    enc = p.cobs_encode(data)
    assert 0 not in enc
    assert p.cobs_decode(enc) == data
    assert len(enc) <= len(data) + 1 + len(data) // 254


def test_cobs_254_block_boundary() -> None:
    data = bytes(range(1, 255))          # exactly 254 non-zero bytes
    enc = p.cobs_encode(data)
    assert enc[0] == 255 and p.cobs_decode(enc) == data


def test_info_request_bytes_are_pinned() -> None:
    body = bytes([0x01, 0x03, 0x00, 0x00])
    crc = struct.pack("<H", p.crc16(body))
    assert p.Info().request(3).encode() == p.cobs_encode(body + crc) + b"\x00"
    assert p.Info().request(3).encode() == bytes.fromhex("03 01 03 01 03 24 ab 00")
    assert p.Response.nak().encode() == bytes.fromhex("02 ff 02 01 03 52 fc 00")


@given(op=st.integers(1, 0x7F), seq=st.integers(0, 255), payload=st.binary(max_size=255))
@settings(max_examples=100, deadline=None)
def test_request_round_trip(op: int, seq: int, payload: bytes) -> None:
    frame = p.Request(op, seq, payload).encode()
    assert frame.endswith(b"\x00") and frame.count(0) == 1
    assert len(frame) <= p.FrameSplitter.MAX_FRAME + 1
    assert p.Request.decode(frame[:-1]) == p.Request(op, seq, payload)


def test_response_round_trip_and_nak() -> None:
    r = p.Response(p.Op.READ_MEM, 9, p.Status.OK, b"\x00\x01\x02")
    assert p.Response.decode(r.encode()[:-1]) == r
    nak = p.Response.decode(p.Response.nak().encode()[:-1])
    assert nak.is_nak and nak.status == p.Status.BAD_CRC
    with pytest.raises(p.FrameError, match="bit 7"):
        p.Response.decode(p.Request(1, 0).encode()[:-1])


@given(st.binary(min_size=1, max_size=40), st.integers(0, 10_000))
@settings(max_examples=200, deadline=None)
def test_any_single_bit_flip_is_detected(payload: bytes, where: int) -> None:
    frame = bytearray(p.Request(p.Op.WRITE_MEM, 5, payload).encode()[:-1])
    bit = where % (8 * len(frame))
    frame[bit // 8] ^= 1 << (bit % 8)
    frames = p.FrameSplitter().feed(bytes(frame) + b"\x00")
    for f in frames:            # a flip to 0x00 splits the frame; no part may decode
        with pytest.raises(p.FrameError):
            p.Request.decode(f)


def test_payload_limit() -> None:
    with pytest.raises(ValueError, match="at most 255"):
        p.Request(1, 0, bytes(256)).encode()


def test_splitter_resynchronises_and_drops_overlong() -> None:
    s = p.FrameSplitter()
    good = p.Info().request(1).encode()
    frames = s.feed(b"\x07\x07" + b"\x00" + bytes([1]) * 400 + b"\x00" + good[:3])
    frames += s.feed(good[3:])
    assert len(frames) == 2
    with pytest.raises(p.FrameError):
        p.Request.decode(frames[0])
    assert p.Request.decode(frames[1]) == p.Request(p.Op.INFO, 1)


@pytest.mark.parametrize("cmd", [
    p.Info(), p.Clear(), p.Reset(), p.SetCrc(0xDEADBEEF), p.Run(65535),
    p.WriteMem(3, p.CoreTable.SYNAPSES, 700, 6, bytes(range(12))),
    p.ReadMem(p.FABRIC_CORE, p.FabricTable.OUT_LOG, 10, 63, 4),
    p.Inject(17, bytes(range(24))),
])
def test_commands_round_trip(cmd: p.Command) -> None:
    req = cmd.request(200)
    assert req.op == cmd.op and len(req.payload) <= p.MAX_PAYLOAD
    assert p.decode_command(p.Request.decode(req.encode()[:-1])) == cmd


def test_write_mem_layout_is_documented_bytes() -> None:
    payload = p.WriteMem(1, 2, 0x0304, 4, b"abcdefgh").payload()
    assert payload == bytes([1, 2, 0x04, 0x03, 2, 4]) + b"abcdefgh"
    with pytest.raises(p.FrameError, match="carries"):
        p.WriteMem.from_payload(payload[:-1])
    with pytest.raises(ValueError, match="whole entries"):
        p.WriteMem(1, 2, 0, 4, b"abc").payload()


def test_entry_sizes_match_image_dtypes() -> None:
    for k, dtype in enumerate(CORE_TABLES.values()):
        assert p.entry_size(0, k) == dtype.itemsize <= p.MAX_ENTRY_BYTES
    assert p.entry_size(0, p.CoreTable.CONFIG) == 2
    assert p.entry_size(p.FABRIC_CORE, p.FabricTable.HOST_QUEUE) == ROUTE_DTYPE.itemsize
    with pytest.raises(ValueError, match="fabric table"):
        p.entry_size(p.FABRIC_CORE, 9)
    # most entries per frame, as docs/host-protocol.md states
    assert p.max_entries(ROUTE_DTYPE.itemsize, write=True) == 20
    assert p.max_entries(6, write=True) == 41
    assert p.max_entries(4, write=False) == 63


def test_info_reply_is_16_bytes() -> None:
    info = p.InfoReply(flags=p.InfoFlag.BUSY, n_cores=2, image_crc=0x12345678,
                       host_queue_depth=64, out_log_depth=256, cycle_log_depth=128,
                       steps_pending=3)
    raw = info.encode()
    assert len(raw) == 16 and raw[4:8] == bytes([0x78, 0x56, 0x34, 0x12])
    back = p.InfoReply.decode(raw)
    assert back == info and back.busy and not back.overflow and not back.learning


def test_info_learning_flag_round_trips() -> None:
    """INFO's LEARNING bit (byte 1, bit 2) says the board's cores carry the learning engine."""
    assert p.InfoFlag.LEARNING == 0x04
    assert not p.InfoFlag.LEARNING & (p.InfoFlag.BUSY | p.InfoFlag.OVERFLOW)
    info = p.InfoReply(flags=p.InfoFlag.LEARNING | p.InfoFlag.OVERFLOW, n_cores=4)
    raw = info.encode()
    assert raw[1] == 0x06
    back = p.InfoReply.decode(raw)
    assert back.learning and back.overflow and not back.busy
    assert not p.InfoReply.decode(p.InfoReply(n_cores=4).encode()).learning


def test_route_entries_travel_in_image_layout() -> None:
    routes = np.zeros(2, ROUTE_DTYPE)
    routes["axon"] = [7, 70000]
    cmd = p.Inject(0, routes.tobytes())
    back = p.decode_command(p.Request.decode(cmd.request(1).encode()[:-1]))
    assert np.array_equal(np.frombuffer(back.entries, ROUTE_DTYPE), routes)
