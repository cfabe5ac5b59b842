"""The command set: opcodes, typed commands with their argument bytes, the INFO reply.

Every command is idempotent except ``RUN``, which the device recognises when repeated with the
same ``seq``.  Memory commands address entries through :mod:`spikefab.arch.memory_map`.
``docs/host-protocol.md``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar

from spikefab.arch.image import ROUTE_DTYPE
from spikefab.arch.protocol.framing import FrameError
from spikefab.arch.protocol.frames import MAX_PAYLOAD, Request

__all__ = ["PROTOCOL_VERSION", "MEM_ARGS", "INJECT_ARGS", "Op", "InfoFlag", "max_entries",
           "Command", "Info", "WriteMem", "ReadMem", "Inject", "Run", "Clear", "Reset", "SetCrc",
           "InfoReply", "decode_command"]

PROTOCOL_VERSION = 1
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


class InfoFlag(IntEnum):
    """Bits of :attr:`InfoReply.flags`."""

    BUSY = 0x01       #: a RUN is in progress
    OVERFLOW = 0x02   #: out_log saturated since the last clear
    #: the cores carry the learning engine (core tables 9..15); clear on a static bitstream,
    #: which refuses plastic images -- the host checks this before uploading one
    LEARNING = 0x04


def max_entries(esize: int, *, write: bool) -> int:
    """Most entries of ``esize`` bytes one WRITE_MEM (``write``) or READ_MEM frame carries."""
    room = MAX_PAYLOAD - (MEM_ARGS.size if write else 0)
    return min(room // esize, 255)


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

    @property
    def learning(self) -> bool:
        """Whether the board's cores have the learning engine (not a static bitstream)."""
        return bool(self.flags & InfoFlag.LEARNING)

    def encode(self) -> bytes:
        return self.FORMAT.pack(self.version, self.flags, self.n_cores, self.image_crc,
                                self.host_queue_depth, self.out_log_depth, self.cycle_log_depth,
                                self.steps_pending)

    @classmethod
    def decode(cls, payload: bytes) -> "InfoReply":
        if len(payload) != cls.FORMAT.size:
            raise FrameError(f"INFO reply must have {cls.FORMAT.size} bytes, not {len(payload)}")
        return cls(*cls.FORMAT.unpack(payload))
