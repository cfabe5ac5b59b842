"""The host link protocol: frames a host and a board exchange over a byte stream (UART).

Specified byte by byte in ``docs/host-protocol.md``; this module is the executable form of that
page, shared by the host runtime (:mod:`spikefab.runtime`), the RTL ``HostInterface`` tests and
test doubles of a board.  It is designed so that the *device* side is a small FSM:

* **Framing** -- COBS (consistent overhead byte stuffing) with a ``0x00`` delimiter after every
  frame, so a receiver re-synchronises at the next zero byte after any noise.
* **Body** -- a fixed 4-byte header ``type, seq, status, len``, then ``len`` (<= 255) payload
  bytes, then CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of header + payload, little-endian.
  All multi-byte fields are little-endian; no field has variable-length nesting.
* **Stop and wait** -- the host sends one request and waits for the response with the same
  ``seq`` and ``type | 0x80``; on a timeout, a NAK or a bad frame it sends the *same* request
  (same ``seq``) again.  Every command is idempotent except ``RUN``, and the device acknowledges a
  repeated ``RUN`` (same ``seq`` as the last one it started) without starting it again, so a
  retry can never duplicate an effect.
* **Memory commands** address table entries exactly like the fabric's memory port
  (``docs/microarchitecture.md`` section 11): ``core`` (255 = fabric tables), ``table``, ``index``,
  and entries in the image's byte layout (the NumPy dtypes of :mod:`spikefab.arch.image`).

Only the standard library and :mod:`spikefab.arch.image` are used (``arch`` imports numpy only).
"""

from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar

from spikefab.arch.image import CORE_TABLES, ROUTE_DTYPE

__all__ = [
    "PROTOCOL_VERSION", "MAX_PAYLOAD", "HEADER_SIZE", "RESPONSE_BIT", "NAK_TYPE", "FABRIC_CORE",
    "MAX_ENTRY_BYTES", "CRC_SIZE", "MEM_ARGS", "INJECT_ARGS",
    "Op", "Status", "CoreTable", "FabricTable", "Counter", "InfoFlag",
    "FrameError", "crc16", "cobs_encode", "cobs_decode", "FrameSplitter",
    "Request", "Response",
    "Command", "Info", "WriteMem", "ReadMem", "Inject", "Run", "Clear", "Reset", "SetCrc",
    "InfoReply", "decode_command", "entry_size", "max_entries",
]

PROTOCOL_VERSION = 1
#: Largest payload of one frame (the ``len`` byte).
MAX_PAYLOAD = 255
#: ``type, seq, status, len``.
HEADER_SIZE = 4
CRC_SIZE = 2
#: A response's ``type`` is the request's opcode with this bit set.
RESPONSE_BIT = 0x80
#: ``type`` of the device's answer to a frame it could not decode (bad CRC, too short).
NAK_TYPE = 0xFF
#: ``core`` value that addresses the fabric-level tables.
FABRIC_CORE = 255
#: Widest table entry the memory port carries (128-bit ``mem_wdata``).
MAX_ENTRY_BYTES = 16
#: Bytes of a WRITE_MEM / READ_MEM argument block (core, table, index u16, count, esize).
MEM_ARGS = struct.Struct("<BBHBB")
INJECT_ARGS = struct.Struct("<HB")


class Op(IntEnum):
    """Request opcodes (the ``type`` byte of a host frame)."""

    INFO = 0x01        #: read protocol version, flags, image CRC register, log depths
    WRITE_MEM = 0x02   #: write ``count`` entries of one table
    READ_MEM = 0x03    #: read ``count`` entries of one table
    INJECT = 0x04      #: write host_queue entries and set host_queue_len
    RUN = 0x05         #: start ``steps`` time steps; answered at once, poll INFO for busy
    CLEAR = 0x06       #: pulse the fabric's ``clear``
    RESET = 0x07       #: reset the fabric and the protocol state; image CRC register := 0
    SET_CRC = 0x08     #: write the image CRC register


class Status(IntEnum):
    """The ``status`` byte of a response (0 in requests)."""

    OK = 0         #: executed (ACK)
    BAD_CRC = 1    #: NAK: the frame's CRC failed or it was shorter than header + CRC
    BAD_OP = 2     #: unknown opcode
    BAD_ARG = 3    #: core / table / index / esize / count out of range
    BUSY = 4       #: a run is in progress; only INFO and RESET are served (retry later)
    BAD_LEN = 5    #: payload length does not match the command's arguments


class CoreTable(IntEnum):
    """Table ids of a core (``core`` < 255): ``CORE_TABLES`` order, then config."""

    ACC_EXPS = 0
    PROFILES = 1
    NEURONS = 2
    STATE = 3
    AXONS = 4
    SYNAPSES = 5
    ROUTE_PTR = 6
    ROUTES = 7
    CONFIG = 8     #: entry 0: number of neurons of the core, u16


class FabricTable(IntEnum):
    """Table ids of the fabric (``core`` = 255), microarchitecture section 11."""

    HOST_QUEUE = 0
    HOST_QUEUE_LEN = 1
    OUT_LOG = 2
    OUT_LOG_LEN = 3
    CYCLE_LOG = 4
    COUNTERS = 5


class Counter(IntEnum):
    """Entries of the fabric ``counters`` table (u32 each)."""

    STEPS = 0
    SPIKES = 1
    SYNOPS = 2
    PACKETS = 3
    HOPS = 4
    OVERFLOW = 5


class InfoFlag(IntEnum):
    """Bits of :attr:`InfoReply.flags`."""

    BUSY = 0x01       #: a RUN is in progress
    OVERFLOW = 0x02   #: out_log saturated since the last clear


_CORE_SIZES = [CORE_TABLES[name].itemsize for name in CORE_TABLES] + [2]
_FABRIC_SIZES = {FabricTable.HOST_QUEUE: ROUTE_DTYPE.itemsize, FabricTable.HOST_QUEUE_LEN: 2,
                 FabricTable.OUT_LOG: 4, FabricTable.OUT_LOG_LEN: 4, FabricTable.CYCLE_LOG: 4,
                 FabricTable.COUNTERS: 4}


def entry_size(core: int, table: int) -> int:
    """Bytes per entry of a table (the image dtype's itemsize); ``ValueError`` if unknown."""
    if core == FABRIC_CORE:
        if table not in _FABRIC_SIZES:
            raise ValueError(f"fabric table must be 0..{len(_FABRIC_SIZES) - 1}, not {table}")
        return _FABRIC_SIZES[FabricTable(table)]
    if not 0 <= table < len(_CORE_SIZES):
        raise ValueError(f"core table must be 0..{len(_CORE_SIZES) - 1}, not {table}")
    return _CORE_SIZES[table]


def max_entries(esize: int, *, write: bool) -> int:
    """Most entries of ``esize`` bytes one WRITE_MEM (``write``) or READ_MEM frame carries."""
    room = MAX_PAYLOAD - (MEM_ARGS.size if write else 0)
    return min(room // esize, 255)


# ----------------------------------------------------------------------------- bytes
class FrameError(ValueError):
    """A received frame is malformed (bad COBS, bad CRC, bad length): the link corrupted it."""


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor."""
    return binascii.crc_hqx(data, 0xFFFF)


def cobs_encode(data: bytes) -> bytes:
    """COBS-encode ``data`` (the result contains no zero byte; the delimiter is not added)."""
    out = bytearray()
    block = bytearray()
    for b in data:
        if b == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
        else:
            block.append(b)
            if len(block) == 254:
                out.append(255)
                out += block
                block.clear()
    out.append(len(block) + 1)
    out += block
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    """Invert :func:`cobs_encode`; :class:`FrameError` on a zero byte or a code past the end."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        code = data[i]
        if code == 0:
            raise FrameError("COBS data must not contain a zero byte")
        end = i + code
        if end > n:
            raise FrameError(f"COBS block of {code - 1} bytes runs {end - n} past the frame end")
        block = data[i + 1:end]
        if 0 in block:
            raise FrameError("COBS data must not contain a zero byte")
        out += block
        i = end
        if code != 255 and i < n:
            out.append(0)
    return bytes(out)


class FrameSplitter:
    """Split a byte stream into COBS frames at ``0x00`` delimiters (incremental).

    Bytes before the first delimiter seen after start-up may be the tail of a frame the receiver
    joined late; they come out as a (malformed) frame and fail to decode, which is harmless.
    Frames longer than the largest legal frame are dropped while they accumulate.
    """

    MAX_FRAME = HEADER_SIZE + MAX_PAYLOAD + CRC_SIZE + 3

    def __init__(self) -> None:
        self._buf = bytearray()
        self._overlong = False

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the complete frames (without delimiter) they finished."""
        frames = []
        parts = bytes(data).split(b"\0")
        for k, part in enumerate(parts):
            if not self._overlong:
                self._buf += part
                if len(self._buf) > self.MAX_FRAME:
                    self._buf.clear()
                    self._overlong = True
            if k < len(parts) - 1:          # a delimiter followed this part
                if self._buf:
                    frames.append(bytes(self._buf))
                self._buf.clear()
                self._overlong = False
        return frames


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


# ----------------------------------------------------------------------------- commands
@dataclass(frozen=True)
class Command:
    """Base of the typed commands; ``payload()`` / ``from_payload()`` are their argument bytes."""

    op: ClassVar[Op]

    def payload(self) -> bytes:
        return b""

    @classmethod
    def from_payload(cls, payload: bytes) -> "Command":
        if payload:
            raise FrameError(f"{cls.op.name} takes no payload, got {len(payload)} bytes")
        return cls()

    def request(self, seq: int) -> Request:
        return Request(int(self.op), seq & 0xFF, self.payload())


@dataclass(frozen=True)
class Info(Command):
    """Read the device's :class:`InfoReply`. Always served, even while busy."""

    op: ClassVar[Op] = Op.INFO


@dataclass(frozen=True)
class WriteMem(Command):
    """Write ``count = len(data) // esize`` entries from ``index`` on in ``table`` of ``core``."""

    op: ClassVar[Op] = Op.WRITE_MEM
    core: int
    table: int
    index: int
    esize: int
    data: bytes

    def payload(self) -> bytes:
        count, rest = divmod(len(self.data), self.esize)
        if rest or count > 255:
            raise ValueError(f"WRITE_MEM data must be whole entries of {self.esize} bytes, at most "
                             f"255, not {len(self.data)} bytes")
        return MEM_ARGS.pack(self.core, self.table, self.index, count, self.esize) + self.data

    @classmethod
    def from_payload(cls, payload: bytes) -> "WriteMem":
        if len(payload) < MEM_ARGS.size:
            raise FrameError(f"WRITE_MEM needs {MEM_ARGS.size} argument bytes, got {len(payload)}")
        core, table, index, count, esize = MEM_ARGS.unpack_from(payload)
        data = payload[MEM_ARGS.size:]
        if len(data) != count * esize:
            raise FrameError(f"WRITE_MEM of {count} x {esize} bytes carries {len(data)} bytes")
        return cls(core, table, index, esize, bytes(data))

    @property
    def count(self) -> int:
        return len(self.data) // self.esize


@dataclass(frozen=True)
class ReadMem(Command):
    """Read ``count`` entries from ``index`` on; the response payload is ``count * esize`` bytes."""

    op: ClassVar[Op] = Op.READ_MEM
    core: int
    table: int
    index: int
    count: int
    esize: int

    def payload(self) -> bytes:
        return MEM_ARGS.pack(self.core, self.table, self.index, self.count, self.esize)

    @classmethod
    def from_payload(cls, payload: bytes) -> "ReadMem":
        if len(payload) != MEM_ARGS.size:
            raise FrameError(f"READ_MEM takes {MEM_ARGS.size} argument bytes, got {len(payload)}")
        return cls(*MEM_ARGS.unpack(payload))


@dataclass(frozen=True)
class Inject(Command):
    """Write host_queue entries from ``index`` on; host_queue_len := index + count."""

    op: ClassVar[Op] = Op.INJECT
    index: int
    entries: bytes

    def payload(self) -> bytes:
        count, rest = divmod(len(self.entries), ROUTE_DTYPE.itemsize)
        if rest or INJECT_ARGS.size + len(self.entries) > MAX_PAYLOAD:
            raise ValueError(f"INJECT entries must be whole {ROUTE_DTYPE.itemsize}-byte routes "
                             f"fitting one frame, not {len(self.entries)} bytes")
        return INJECT_ARGS.pack(self.index, count) + self.entries

    @classmethod
    def from_payload(cls, payload: bytes) -> "Inject":
        if len(payload) < INJECT_ARGS.size:
            raise FrameError(f"INJECT needs {INJECT_ARGS.size} argument bytes, got {len(payload)}")
        index, count = INJECT_ARGS.unpack_from(payload)
        entries = payload[INJECT_ARGS.size:]
        if len(entries) != count * ROUTE_DTYPE.itemsize:
            raise FrameError(f"INJECT of {count} routes carries {len(entries)} bytes")
        return cls(index, bytes(entries))

    @property
    def count(self) -> int:
        return len(self.entries) // ROUTE_DTYPE.itemsize


@dataclass(frozen=True)
class Run(Command):
    """Start ``steps`` (1..65535) time steps back to back; acknowledged before they finish."""

    op: ClassVar[Op] = Op.RUN
    steps: int

    def payload(self) -> bytes:
        return struct.pack("<H", self.steps)

    @classmethod
    def from_payload(cls, payload: bytes) -> "Run":
        if len(payload) != 2:
            raise FrameError(f"RUN takes 2 argument bytes, got {len(payload)}")
        return cls(struct.unpack("<H", payload)[0])


@dataclass(frozen=True)
class Clear(Command):
    """Pulse the fabric's ``clear``: accumulators, logs, counters, round-robin pointers to 0."""

    op: ClassVar[Op] = Op.CLEAR


@dataclass(frozen=True)
class Reset(Command):
    """Reset the fabric (aborting a run) and the protocol state; image CRC register := 0."""

    op: ClassVar[Op] = Op.RESET


@dataclass(frozen=True)
class SetCrc(Command):
    """Write the image CRC register (the CRC32 of the image the host just uploaded)."""

    op: ClassVar[Op] = Op.SET_CRC
    crc: int

    def payload(self) -> bytes:
        return struct.pack("<I", self.crc & 0xFFFFFFFF)

    @classmethod
    def from_payload(cls, payload: bytes) -> "SetCrc":
        if len(payload) != 4:
            raise FrameError(f"SET_CRC takes 4 argument bytes, got {len(payload)}")
        return cls(struct.unpack("<I", payload)[0])


_COMMANDS: dict[int, type[Command]] = {
    c.op: c for c in (Info, WriteMem, ReadMem, Inject, Run, Clear, Reset, SetCrc)}


def decode_command(request: Request) -> Command:
    """The typed command of a request; ``KeyError`` for an unknown op, FrameError for bad args."""
    return _COMMANDS[request.op].from_payload(request.payload)


@dataclass(frozen=True)
class InfoReply:
    """Payload of the response to INFO (16 bytes)."""

    version: int = PROTOCOL_VERSION
    flags: int = 0
    n_cores: int = 0
    image_crc: int = 0
    host_queue_depth: int = 0
    out_log_depth: int = 0
    cycle_log_depth: int = 0
    steps_pending: int = 0

    FORMAT: ClassVar[struct.Struct] = struct.Struct("<BBBxIHHHH")

    @property
    def busy(self) -> bool:
        return bool(self.flags & InfoFlag.BUSY)

    @property
    def overflow(self) -> bool:
        return bool(self.flags & InfoFlag.OVERFLOW)

    def encode(self) -> bytes:
        return self.FORMAT.pack(self.version, self.flags, self.n_cores, self.image_crc,
                                self.host_queue_depth, self.out_log_depth, self.cycle_log_depth,
                                self.steps_pending)

    @classmethod
    def decode(cls, payload: bytes) -> "InfoReply":
        if len(payload) != cls.FORMAT.size:
            raise FrameError(f"INFO reply must have {cls.FORMAT.size} bytes, not {len(payload)}")
        return cls(*cls.FORMAT.unpack(payload))
