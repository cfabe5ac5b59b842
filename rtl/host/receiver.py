"""Streaming COBS decoder and CRC check for host-protocol request frames.

Bytes from the UART are decoded on the fly (docs/host-protocol.md section 1) and the frame body is
written, byte ``k`` at address ``k``, into the interface's frame buffer through a write port.  The
4-byte header and the first :data:`N_ARGS` payload bytes (every command's fixed arguments) are also
latched in registers, so the command engine never has to read them back.  At the ``0x00``
delimiter ``done`` pulses with ``ok`` telling whether the frame decoded: COBS well-formed, at least
6 bytes, CRC-16/CCITT-FALSE correct and ``len`` equal to the payload size.

The CRC over ``body[:-2]`` is computed as the bytes arrive, two bytes behind the input, so the last
two bytes (the little-endian CRC) can be compared with it when the delimiter comes.
"""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import crc, stream, wiring
from amaranth.lib.wiring import In, Out

from spikefab.arch.protocol import CRC_SIZE, HEADER_SIZE, MAX_PAYLOAD

__all__ = ["FrameReceiver", "N_ARGS", "MAX_BODY", "BUF_ADDR_BITS"]

#: Payload bytes latched as fixed command arguments (WRITE_MEM/READ_MEM have 6).
N_ARGS = 6
#: Largest legal body: header + 255 payload bytes + CRC.
MAX_BODY = HEADER_SIZE + MAX_PAYLOAD + CRC_SIZE
#: Address bits of the frame buffer (512 bytes: one iCE40 block RAM).
BUF_ADDR_BITS = 9


class FrameReceiver(wiring.Component):
    """COBS-decode request frames into the frame buffer and check them.

    Attributes
    ----------
    i : In(stream.Signature(8))
        Bytes from the UART; ``ready`` follows ``enable``.
    enable : In(1)
        Accept bytes (low while the engine executes and answers: bytes then wait in the
        interface's RX FIFO).
    buf_addr, buf_data, buf_we : Out
        Frame-buffer write port.
    done : Out(1)
        One-cycle pulse at the delimiter of a non-empty frame.
    ok : Out(1)
        Valid with ``done``: the frame decoded and its CRC and length are right.
    op, seq, length : Out(8)
        Header fields of the last frame (``length`` = the ``len`` byte).
    args : Out(8 * N_ARGS)
        First payload bytes, byte 0 in bits 7:0.
    """

    i: In(stream.Signature(8))
    enable: In(1)
    buf_addr: Out(BUF_ADDR_BITS)
    buf_data: Out(8)
    buf_we: Out(1)
    done: Out(1)
    ok: Out(1)
    op: Out(8)
    seq: Out(8)
    length: Out(8)
    args: Out(8 * N_ARGS)

    def elaborate(self, platform) -> Module:
        m = Module()
        m.submodules.crc = crc16 = crc.catalog.CRC16_CCITT_FALSE(data_width=8).create()

        pos = Signal(BUF_ADDR_BITS)     # body bytes decoded so far
        left = Signal(8)                # data bytes left in the current COBS block
        zero_pending = Signal()         # the current block ends with an implied 0x00
        error = Signal()                # COBS error or overlong frame
        prev1 = Signal(8)               # the last two body bytes (the CRC at the end)
        prev2 = Signal(8)

        byte = self.i.payload
        take = Signal()
        emit = Signal()
        value = Signal(8)
        m.d.comb += [self.i.ready.eq(self.enable), take.eq(self.i.valid & self.enable)]

        with m.If(left == 0):
            m.d.comb += [emit.eq(take & (byte != 0) & zero_pending), value.eq(0)]
        with m.Else():
            m.d.comb += [emit.eq(take & (byte != 0)), value.eq(byte)]

        m.d.sync += self.done.eq(0)
        with m.If(take & (byte == 0)):
            with m.If((pos != 0) | error):
                m.d.sync += [
                    self.done.eq(1),
                    self.ok.eq(~error & (left == 0) & (pos >= HEADER_SIZE + CRC_SIZE)
                               & (crc16.crc == Cat(prev2, prev1))
                               & (self.length == pos - (HEADER_SIZE + CRC_SIZE))),
                ]
            m.d.sync += [pos.eq(0), left.eq(0), zero_pending.eq(0), error.eq(0)]
            m.d.comb += crc16.start.eq(1)
        with m.Elif(take):
            with m.If(left == 0):       # a code byte
                m.d.sync += [left.eq(byte - 1), zero_pending.eq(byte != 0xFF)]
            with m.Else():
                m.d.sync += left.eq(left - 1)

        with m.If(emit):
            with m.If(pos == MAX_BODY):
                m.d.sync += error.eq(1)
            with m.Else():
                m.d.comb += [self.buf_we.eq(1), self.buf_addr.eq(pos), self.buf_data.eq(value)]
                m.d.sync += [pos.eq(pos + 1), prev2.eq(prev1), prev1.eq(value)]
                m.d.comb += [crc16.data.eq(prev2), crc16.valid.eq(pos >= 2)]
                with m.Switch(pos):
                    with m.Case(0):
                        m.d.sync += self.op.eq(value)
                    with m.Case(1):
                        m.d.sync += self.seq.eq(value)
                    with m.Case(3):
                        m.d.sync += self.length.eq(value)
                    for k in range(N_ARGS):
                        with m.Case(HEADER_SIZE + k):
                            m.d.sync += self.args[8 * k:8 * k + 8].eq(value)
        return m
