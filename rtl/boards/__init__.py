"""Board tops: the spikefab SoC on real FPGA boards (through amaranth-boards).

Each :class:`BoardSpec` names the amaranth-boards platform, the spikefab target whose mesh the
board carries, its clock and default UART rate, and its programmer.  :class:`BoardTop` wires the
board's clock, USB-UART pins and LEDs to :class:`~spikefab.rtl.soc.SoC`, with the fabric
:func:`spikefab.rtl.boards.fabric.board_fabric` chooses (static where the target's learning
engines would not meet the board clock).

:class:`BoardTop` (Amaranth) is imported on first use, so the board list is readable without the
``rtl`` extra (the command line's ``--board`` choices).
"""

from __future__ import annotations

from typing import Any

from spikefab.rtl.boards.spec import BOARDS, BoardSpec, get_board

__all__ = ["BOARDS", "BoardSpec", "BoardTop", "get_board"]


def __getattr__(name: str) -> Any:
    if name == "BoardTop":
        from spikefab.rtl.boards.top import BoardTop
        return BoardTop
    raise AttributeError(f"module 'spikefab.rtl.boards' has no attribute {name!r}")
