"""Board tops: the spikefab SoC on real FPGA boards (through amaranth-boards).

Each :class:`BoardSpec` names the amaranth-boards platform, the spikefab target whose mesh the
board carries, its clock and default UART rate, and its programmer.  :class:`BoardTop` wires the
board's clock, USB-UART pins and LEDs to :class:`~spikefab.rtl.soc.SoC`.
"""

from __future__ import annotations

from spikefab.rtl.boards.spec import BOARDS, BoardSpec, get_board
from spikefab.rtl.boards.top import BoardTop

__all__ = ["BOARDS", "BoardSpec", "BoardTop", "get_board"]
