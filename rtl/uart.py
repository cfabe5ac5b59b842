"""An 8N1 UART (receiver and transmitter) with valid/ready byte streams.

amaranth-stdio and amaranth-soc are empty placeholders on PyPI, so spikefab carries its own
UART.  It is the smallest thing that does the job on an iCE40: one start bit, eight data bits
LSB first, one stop bit, no parity, a fixed baud divisor ``clk_hz / baud`` chosen at elaboration
(12 MHz / 1 Mbaud = 12, 12 MHz / 115200 = 104).

* :class:`UARTTx` takes bytes from a stream sink ``i`` and shifts them out on ``tx``.
* :class:`UARTRx` samples ``rx`` (through a two-flop synchronizer, since the pin is asynchronous)
  in the middle of every bit and offers each byte on a stream source ``o``.  A byte that arrives
  while the previous one still waits for ``ready`` is dropped and ``overflow`` pulses; a missing
  stop bit drops the byte and pulses ``frame_error``.  The host protocol's CRC catches both.
* :class:`UART` is the pair, with pins ``rx``/``tx`` and streams ``rx_data``/``tx_data``.
"""


from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import cdc, stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["UARTRx", "UARTTx", "UART", "divisor_for"]

#: The smallest divisor the receiver can sample reliably (mid-bit sampling needs a few clocks).
MIN_DIVISOR = 4


def divisor_for(clk_hz: float, baud: int) -> int:
    """Clock cycles per bit for a baud rate, rounded to the nearest integer.

    Parameters
    ----------
    clk_hz:
        System clock frequency in Hz.
    baud:
        Line rate in bits per second.

    Raises
    ------
    ValueError
        If the divisor would be below :data:`MIN_DIVISOR` or the rounding error exceeds 2 %
        (an 8N1 receiver tolerates about 4 % total between both ends).
    """
    div = round(clk_hz / baud)
    if div < MIN_DIVISOR:
        raise ValueError(f"baud divisor must be >= {MIN_DIVISOR}, not {div} "
                         f"({clk_hz:.0f} Hz / {baud} baud)")
    err = abs(clk_hz / div - baud) / baud
    if err > 0.02:
        raise ValueError(f"baud rate error must be <= 2 %, not {100 * err:.2f} % "
                         f"({clk_hz:.0f} Hz / {div} = {clk_hz / div:.0f} baud, wanted {baud})")
    return div


def _check_divisor(divisor: int) -> int:
    if not isinstance(divisor, int) or divisor < MIN_DIVISOR:
        raise ValueError(f"UART divisor must be an integer >= {MIN_DIVISOR}, not {divisor!r}")
    return divisor


class UARTTx(wiring.Component):
    """8N1 transmitter.

    Parameters
    ----------
    divisor:
        Clock cycles per bit.

    Attributes
    ----------
    i : In(stream.Signature(8))
        Bytes to send; ``ready`` is high while the transmitter is idle.
    tx : Out(1)
        Serial line, idle high (registered, so it never glitches).
    """

    i: In(stream.Signature(8))
    tx: Out(1, init=1)

    def __init__(self, divisor: int) -> None:
        self.divisor = _check_divisor(divisor)
        super().__init__()

    def elaborate(self, platform) -> Module:
        m = Module()
        shreg = Signal(9)                     # data bits then the stop bit
        bits = Signal(range(11))              # bit periods left in the frame (0 = idle)
        timer = Signal(range(self.divisor))

        m.d.comb += self.i.ready.eq(bits == 0)
        with m.If(bits == 0):
            with m.If(self.i.valid):
                m.d.sync += [
                    self.tx.eq(0),                          # start bit
                    shreg.eq(Cat(self.i.payload, Const(1, 1))),
                    bits.eq(10),
                    timer.eq(self.divisor - 1),
                ]
        with m.Elif(timer == 0):
            m.d.sync += [
                self.tx.eq(shreg[0]),
                shreg.eq(Cat(shreg[1:], Const(1, 1))),
                bits.eq(bits - 1),
                timer.eq(self.divisor - 1),
            ]
        with m.Else():
            m.d.sync += timer.eq(timer - 1)
        return m


class UARTRx(wiring.Component):
    """8N1 receiver.

    Parameters
    ----------
    divisor:
        Clock cycles per bit (at least :data:`MIN_DIVISOR`).

    Attributes
    ----------
    rx : In(1)
        Serial line (asynchronous; synchronized inside).
    o : Out(stream.Signature(8))
        Received bytes; ``valid`` stays high until ``ready``.
    overflow : Out(1)
        One-cycle pulse: a byte was dropped because ``o`` was still full.
    frame_error : Out(1)
        One-cycle pulse: a byte was dropped because its stop bit was 0.
    """

    rx: In(1, init=1)
    o: Out(stream.Signature(8))
    overflow: Out(1)
    frame_error: Out(1)

    def __init__(self, divisor: int) -> None:
        self.divisor = _check_divisor(divisor)
        super().__init__()

    def elaborate(self, platform) -> Module:
        m = Module()
        rx = Signal(init=1)
        m.submodules.sync_rx = cdc.FFSynchronizer(self.rx, rx, init=1)

        busy = Signal()
        bit = Signal(range(10))               # 0 start, 1..8 data, 9 stop
        timer = Signal(range(self.divisor))
        shreg = Signal(8)

        m.d.sync += [self.overflow.eq(0), self.frame_error.eq(0)]
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += self.o.valid.eq(0)

        with m.If(~busy):
            with m.If(~rx):                   # falling edge of the start bit
                m.d.sync += [busy.eq(1), bit.eq(0), timer.eq(self.divisor // 2 - 1)]
        with m.Elif(timer != 0):
            m.d.sync += timer.eq(timer - 1)
        with m.Else():
            m.d.sync += [timer.eq(self.divisor - 1), bit.eq(bit + 1)]
            with m.If(bit == 0):
                with m.If(rx):                # glitch, not a start bit
                    m.d.sync += busy.eq(0)
            with m.Elif(bit != 9):
                m.d.sync += shreg.eq(Cat(shreg[1:], rx))
            with m.Else():
                m.d.sync += busy.eq(0)
                with m.If(~rx):
                    m.d.sync += self.frame_error.eq(1)
                with m.Elif(self.o.valid & ~self.o.ready):
                    m.d.sync += self.overflow.eq(1)
                with m.Else():
                    m.d.sync += [self.o.payload.eq(shreg), self.o.valid.eq(1)]
        return m


class UART(wiring.Component):
    """An 8N1 receiver and transmitter sharing one divisor.

    Attributes
    ----------
    rx : In(1)
        Serial input pin.
    tx : Out(1)
        Serial output pin.
    rx_data : Out(stream.Signature(8))
        Received bytes.
    tx_data : In(stream.Signature(8))
        Bytes to send.
    rx_error : Out(1)
        One-cycle pulse on a receive overflow or framing error.
    """

    rx: In(1, init=1)
    tx: Out(1, init=1)
    rx_data: Out(stream.Signature(8))
    tx_data: In(stream.Signature(8))
    rx_error: Out(1)

    def __init__(self, divisor: int) -> None:
        self.divisor = _check_divisor(divisor)
        super().__init__()

    def elaborate(self, platform) -> Module:
        m = Module()
        m.submodules.rx = urx = UARTRx(self.divisor)
        m.submodules.tx = utx = UARTTx(self.divisor)
        m.d.comb += [
            urx.rx.eq(self.rx),
            self.tx.eq(utx.tx),
            self.rx_error.eq(urx.overflow | urx.frame_error),
        ]
        wiring.connect(m, wiring.flipped(self.rx_data), urx.o)
        wiring.connect(m, wiring.flipped(self.tx_data), utx.i)
        return m
