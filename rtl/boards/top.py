"""The SoC on a board: clock, USB-UART pins and two status LEDs."""

from __future__ import annotations

from amaranth.hdl import Elaboratable, Module
from amaranth.lib import io

from spikefab.errors import TargetError
from spikefab.rtl.boards.fabric import board_fabric
from spikefab.rtl.uart import divisor_for

__all__ = ["BoardTop"]


class BoardTop(Elaboratable):
    """Top level for one board: :class:`~spikefab.rtl.soc.SoC` wired to the board's pins.

    The SoC runs on the board oscillator (amaranth-boards' default ``sync`` domain with its
    power-on reset).  LED 0 shows that the fabric is running steps (``busy``), LED 1 lights on a
    host-link error (a frame with a bad CRC or a UART framing error) until the next good frame.

    Parameters
    ----------
    spec:
        The board (:class:`~spikefab.rtl.boards.spec.BoardSpec`).
    baud:
        UART rate; the divisor is ``spec.clock_hz / baud``.
    target:
        Target or :class:`~spikefab.rtl.params.MeshParams` of the fabric (default the board's),
        resolved by :func:`~spikefab.rtl.boards.fabric.board_fabric` (static where the learning
        engines would not meet the board clock).
    fabric:
        Optional callable ``params -> Component`` for another fabric (default the Mesh).
    """

    def __init__(self, spec, baud: int | None = None, target=None, fabric=None) -> None:
        self.spec = spec
        self.fabric = fabric
        self.baud = baud or spec.baud
        try:
            self.divisor = divisor_for(spec.clock_hz, self.baud)
        except ValueError as exc:
            raise TargetError(f"board {spec.name}: --baud {self.baud}: {exc}") from None
        # the board's bitstream: static where its learning engines would not meet timing
        self.target = board_fabric(spec, target).params

    def elaborate(self, platform) -> Module:
        from spikefab.rtl.soc import SoC

        m = Module()
        fabric = self.fabric(self.target) if self.fabric is not None else None
        m.submodules.soc = soc = SoC(self.target, divisor=self.divisor, fabric=fabric)
        if platform is not None:
            uart = platform.request("uart", 0, dir={"rx": "-", "tx": "-"})
            m.submodules.rx_buf = rx_buf = io.Buffer("i", uart.rx)
            m.submodules.tx_buf = tx_buf = io.Buffer("o", uart.tx)
            m.submodules.led_busy = led_busy = io.Buffer("o", platform.request("led", 0, dir="-"))
            m.submodules.led_err = led_err = io.Buffer("o", platform.request("led", 1, dir="-"))
            m.d.comb += [
                soc.rx.eq(rx_buf.i),
                tx_buf.o.eq(soc.tx),
                led_busy.o.eq(soc.busy),
                led_err.o.eq(soc.link_error),
            ]
        return m
