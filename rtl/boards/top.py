"""The SoC on a board: clock, USB-UART pins and two status LEDs."""

from __future__ import annotations

from amaranth.hdl import Elaboratable, Module

from spikeforge.arch.target import load_target
from spikeforge.rtl.uart import divisor_for

__all__ = ["BoardTop"]


class BoardTop(Elaboratable):
    """Top level for one board: :class:`~spikeforge.rtl.soc.SoC` wired to the board's pins.

    The SoC runs on the board oscillator (amaranth-boards' default ``sync`` domain with its
    power-on reset).  LED 0 shows that the fabric is running steps (``busy``), LED 1 lights on a
    host-link error (a frame with a bad CRC or a UART framing error) until the next good frame.

    Parameters
    ----------
    spec:
        The board (:class:`~spikeforge.rtl.boards.spec.BoardSpec`).
    image:
        Optional image to initialise the memories with.
    baud:
        UART rate; the divisor is ``spec.clock_hz / baud``.
    """

    def __init__(self, spec, image=None, baud: int | None = None) -> None:
        self.spec = spec
        self.image = image
        self.baud = baud or spec.baud
        self.divisor = divisor_for(spec.clock_hz, self.baud)
        self.target = load_target(spec.target)

    def elaborate(self, platform) -> Module:
        from spikeforge.rtl.soc import SoC

        m = Module()
        m.submodules.soc = soc = SoC(self.target, divisor=self.divisor)
        if platform is not None:
            uart = platform.request("uart", 0)
            led_busy = platform.request("led", 0)
            led_err = platform.request("led", 1)
            m.d.comb += [
                soc.rx.eq(uart.rx.i),
                uart.tx.o.eq(soc.tx),
                led_busy.o.eq(soc.busy),
                led_err.o.eq(soc.link_error),
            ]
        return m
