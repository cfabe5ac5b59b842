"""Request and response frames: header ``type, seq, status, len``, payload, CRC (little-endian).

A response's ``type`` is the request's opcode with :data:`RESPONSE_BIT` set; a device answers a
frame it cannot decode with a NAK (``type`` :data:`NAK_TYPE`).  ``docs/host-protocol.md``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from spikefab.arch.protocol.framing import FrameError, cobs_decode, cobs_encode, crc16
from spikefab.arch.protocol.framing import FrameSplitter as _Splitter

__all__ = ["MAX_PAYLOAD", "HEADER_SIZE", "CRC_SIZE", "RESPONSE_BIT", "NAK_TYPE", "Status",
           "FrameSplitter", "Request", "Response"]

#: Largest payload of one frame (the ``len`` byte).
MAX_PAYLOAD = 255
#: ``type, seq, status, len``.
HEADER_SIZE = 4
CRC_SIZE = 2
#: A response's ``type`` is the request's opcode with this bit set.
RESPONSE_BIT = 0x80
#: ``type`` of the device's answer to a frame it could not decode (bad CRC, too short).
NAK_TYPE = 0xFF


class Status(IntEnum):
    """The ``status`` byte of a response (0 in requests)."""

    OK = 0         #: executed (ACK)
    BAD_CRC = 1    #: NAK: the frame's CRC failed or it was shorter than header + CRC
    BAD_OP = 2     #: unknown opcode
    BAD_ARG = 3    #: core / table / index / esize / count out of range
    BUSY = 4       #: a run is in progress; only INFO and RESET are served (retry later)
    BAD_LEN = 5    #: payload length does not match the command's arguments


class FrameSplitter(_Splitter):
    """:class:`~spikefab.arch.protocol.framing.FrameSplitter` for this protocol's largest frame."""

    MAX_FRAME = HEADER_SIZE + MAX_PAYLOAD + CRC_SIZE + 3

    def __init__(self) -> None:
        super().__init__(self.MAX_FRAME)


def _body(type_: int, seq: int, status: int, payload: bytes) -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload must be at most {MAX_PAYLOAD} bytes, not {len(payload)}")
    head = struct.pack("<BBBB", type_ & 0xFF, seq & 0xFF, status & 0xFF, len(payload))
    body = head + bytes(payload)
    return body + struct.pack("<H", crc16(body))


def _unbody(frame: bytes) -> tuple[int, int, int, bytes]:
    body = cobs_decode(frame)
    if len(body) < HEADER_SIZE + CRC_SIZE:
        raise FrameError(f"frame must have at least {HEADER_SIZE + CRC_SIZE} bytes, "
                         f"not {len(body)}")
    (crc,) = struct.unpack("<H", body[-2:])
    if crc != crc16(body[:-2]):
        raise FrameError("frame CRC mismatch")
    type_, seq, status, length = body[:HEADER_SIZE]
    payload = body[HEADER_SIZE:-2]
    if length != len(payload):
        raise FrameError(f"frame length field says {length} payload bytes, frame has "
                         f"{len(payload)}")
    return type_, seq, status, payload


@dataclass(frozen=True)
class Request:
    """A host -> device frame: ``op`` (the type byte), ``seq``, ``payload``; status is 0."""

    op: int
    seq: int
    payload: bytes = b""

    def encode(self) -> bytes:
        """COBS-framed bytes including the trailing ``0x00`` delimiter."""
        return cobs_encode(_body(self.op, self.seq, 0, self.payload)) + b"\0"

    @classmethod
    def decode(cls, frame: bytes) -> "Request":
        """From one frame as :class:`FrameSplitter` yields it (no delimiter)."""
        type_, seq, _status, payload = _unbody(frame)
        if type_ & RESPONSE_BIT:
            raise FrameError(f"request type must be < 0x80, not {type_:#04x}")
        return cls(type_, seq, payload)


@dataclass(frozen=True)
class Response:
    """A device -> host frame: ``type = op | 0x80`` (NAK: ``NAK_TYPE``), seq, status, payload."""

    op: int
    seq: int
    status: int = Status.OK
    payload: bytes = b""

    @property
    def is_nak(self) -> bool:
        return self.op == NAK_TYPE

    def encode(self) -> bytes:
        type_ = NAK_TYPE if self.op == NAK_TYPE else (self.op | RESPONSE_BIT)
        return cobs_encode(_body(type_, self.seq, self.status, self.payload)) + b"\0"

    @classmethod
    def decode(cls, frame: bytes) -> "Response":
        type_, seq, status, payload = _unbody(frame)
        if not type_ & RESPONSE_BIT:
            raise FrameError(f"response type must have bit 7 set, not {type_:#04x}")
        op = NAK_TYPE if type_ == NAK_TYPE else type_ & ~RESPONSE_BIT
        return cls(op, seq, status, payload)

    @classmethod
    def nak(cls) -> "Response":
        """What a device sends for a frame it could not decode."""
        return cls(NAK_TYPE, 0, Status.BAD_CRC)
