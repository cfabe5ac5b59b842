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

One module per concept: :mod:`.framing` (COBS, CRC, frame splitting), :mod:`.frames`
(request / response frames and statuses), :mod:`.commands` (the command set); the table and
counter ids are the memory map's (:mod:`spikefab.arch.memory_map`).  This package re-exports all
of them as one protocol face.
"""

from spikefab.arch.memory_map import (FABRIC_CORE, MAX_ENTRY_BYTES, CoreTable, Counter,
                                     FabricTable, entry_size)
from spikefab.arch.protocol.commands import (INJECT_ARGS, MEM_ARGS, PROTOCOL_VERSION, Clear,
                                             Command, Info, InfoFlag, InfoReply, Inject, Op,
                                             ReadMem, Reset, Run, SetCrc, WriteMem,
                                             decode_command, max_entries)
from spikefab.arch.protocol.framing import FrameError, cobs_decode, cobs_encode, crc16
from spikefab.arch.protocol.frames import (CRC_SIZE, HEADER_SIZE, MAX_PAYLOAD, NAK_TYPE,
                                           RESPONSE_BIT, FrameSplitter, Request, Response, Status)

__all__ = [
    "PROTOCOL_VERSION", "MAX_PAYLOAD", "HEADER_SIZE", "RESPONSE_BIT", "NAK_TYPE", "FABRIC_CORE",
    "MAX_ENTRY_BYTES", "CRC_SIZE", "MEM_ARGS", "INJECT_ARGS",
    "Op", "Status", "CoreTable", "FabricTable", "Counter", "InfoFlag",
    "FrameError", "crc16", "cobs_encode", "cobs_decode", "FrameSplitter",
    "Request", "Response",
    "Command", "Info", "WriteMem", "ReadMem", "Inject", "Run", "Clear", "Reset", "SetCrc",
    "InfoReply", "decode_command", "entry_size", "max_entries",
]
