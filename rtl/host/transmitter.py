"""COBS encoder that sends a response body from the frame buffer to the UART.

COBS needs look-ahead (a block's code byte says how far the next zero is), so the response is first
built in the frame buffer and then encoded in two passes per block: scan from the block start to
the next zero byte, the end, or 254 bytes; send the code byte; send the block's bytes.  The output
is byte-for-byte what :func:`spikefab.arch.protocol.cobs_encode` produces, followed by the
``0x00`` delimiter.  Scanning costs two clock cycles per byte, far below the ~10 * divisor cycles a
byte takes on the UART.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from spikefab.rtl.host.receiver import BUF_ADDR_BITS

__all__ = ["FrameTransmitter"]


class FrameTransmitter(wiring.Component):
    """Send ``buffer[0 .. length)`` as one COBS frame plus delimiter.

    Attributes
    ----------
    start : In(1)
        Pulse to begin; ``length`` is sampled then.
    length : In(BUF_ADDR_BITS)
        Body bytes (header + payload + CRC).
    busy : Out(1)
        High from ``start`` until the delimiter has been handed to the UART.
    buf_addr : Out(BUF_ADDR_BITS)
        Frame-buffer read address (synchronous read: data one cycle later).
    buf_data : In(8)
        Frame-buffer read data.
    o : Out(stream.Signature(8))
        Encoded bytes to the UART transmitter.
    """

    start: In(1)
    length: In(BUF_ADDR_BITS)
    busy: Out(1)
    buf_addr: Out(BUF_ADDR_BITS)
    buf_data: In(8)
    o: Out(stream.Signature(8))

    def elaborate(self, platform) -> Module:
        m = Module()
        n = Signal(BUF_ADDR_BITS)   # body length
        p = Signal(BUF_ADDR_BITS)   # block start
        q = Signal(BUF_ADDR_BITS)   # scan position (block end)
        r = Signal(BUF_ADDR_BITS)   # send position
        full = Signal()             # block ended after 254 bytes (no zero consumed)
        zero = Signal()             # block ended at a zero byte

        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [n.eq(self.length), p.eq(0), q.eq(0)]
                    m.next = "SCAN"
            with m.State("SCAN"):
                m.d.comb += [self.busy.eq(1), self.buf_addr.eq(q)]
                m.d.sync += [full.eq(0), zero.eq(0)]
                with m.If(q - p == 254):
                    m.d.sync += full.eq(1)
                    m.next = "CODE"
                with m.Elif(q == n):
                    m.next = "CODE"
                with m.Else():
                    m.next = "CHECK"
            with m.State("CHECK"):
                m.d.comb += self.busy.eq(1)
                with m.If(self.buf_data == 0):
                    m.d.sync += zero.eq(1)
                    m.next = "CODE"
                with m.Else():
                    m.d.sync += q.eq(q + 1)
                    m.next = "SCAN"
            with m.State("CODE"):
                m.d.comb += [self.busy.eq(1), self.o.valid.eq(1), self.o.payload.eq(q - p + 1)]
                with m.If(self.o.ready):
                    m.d.sync += r.eq(p)
                    m.next = "FETCH"
            with m.State("FETCH"):
                m.d.comb += [self.busy.eq(1), self.buf_addr.eq(r)]
                with m.If(r == q):
                    m.next = "NEXT"
                with m.Else():
                    m.next = "SEND"
            with m.State("SEND"):
                m.d.comb += [self.busy.eq(1), self.buf_addr.eq(r),
                             self.o.valid.eq(1), self.o.payload.eq(self.buf_data)]
                with m.If(self.o.ready):
                    m.d.sync += r.eq(r + 1)
                    m.next = "FETCH"
            with m.State("NEXT"):
                m.d.comb += self.busy.eq(1)
                with m.If(full):
                    m.d.sync += p.eq(q)
                    m.next = "SCAN"
                with m.Elif(zero):
                    m.d.sync += [p.eq(q + 1), q.eq(q + 1)]
                    m.next = "SCAN"
                with m.Else():
                    m.next = "DELIM"
            with m.State("DELIM"):
                m.d.comb += [self.busy.eq(1), self.o.valid.eq(1), self.o.payload.eq(0)]
                with m.If(self.o.ready):
                    m.next = "IDLE"
        return m
