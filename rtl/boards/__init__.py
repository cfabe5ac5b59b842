"""Board tops: the spikeforge SoC on real FPGA boards (through amaranth-boards).

Each :class:`BoardSpec` names the amaranth-boards platform, the spikeforge target whose mesh the
board carries, its clock and default UART rate, and its programmer.  :class:`BoardTop` wires the
board's clock, USB-UART pins and LEDs to :class:`~spikeforge.rtl.soc.SoC`.
"""

from __future__ import annotations

from spikeforge.rtl.boards.spec import BOARDS, BoardSpec, get_board
from spikeforge.rtl.boards.top import BoardTop

__all__ = ["BOARDS", "BoardSpec", "BoardTop", "get_board"]
