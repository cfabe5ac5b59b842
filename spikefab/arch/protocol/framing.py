"""Host link framing: COBS with a ``0x00`` delimiter after every frame, CRC-16/CCITT-FALSE.

A receiver re-synchronises at the next zero byte after any noise (``docs/host-protocol.md``).
Standard library only.
"""

from __future__ import annotations

import binascii

__all__ = ["FrameError", "crc16", "cobs_encode", "cobs_decode", "FrameSplitter"]


class FrameError(ValueError):
    """A received frame is malformed (bad COBS, bad CRC, bad length): the link corrupted it."""


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor."""
    return binascii.crc_hqx(data, 0xFFFF)


def cobs_encode(data: bytes) -> bytes:
    """COBS-encode ``data`` (the result contains no zero byte; the delimiter is not added).

    Works on the zero-free runs between zeros (``bytes.split``), not byte by byte: the host
    encodes every frame of an upload, so this is on the upload's critical path.
    """
    out = bytearray()
    for part in bytes(data).split(b"\0"):
        while len(part) >= 254:             # a full block: code 255, no implied zero
            out.append(255)
            out += part[:254]
            part = part[254:]
        out.append(len(part) + 1)
        out += part
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
    Frames longer than ``max_frame`` bytes are dropped while they accumulate.
    """

    def __init__(self, max_frame: int) -> None:
        self.max_frame = max_frame
        self._buf = bytearray()
        self._overlong = False

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the complete frames (without delimiter) they finished."""
        frames = []
        parts = bytes(data).split(b"\0")
        for k, part in enumerate(parts):
            if not self._overlong:
                self._buf += part
                if len(self._buf) > self.max_frame:
                    self._buf.clear()
                    self._overlong = True
            if k < len(parts) - 1:          # a delimiter followed this part
                if self._buf:
                    frames.append(bytes(self._buf))
                self._buf.clear()
                self._overlong = False
        return frames
