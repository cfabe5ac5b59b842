"""The virtual board: the RTL SoC, compiled with Verilator, behind a pseudo-terminal.

A host program (``spikefab board --pty``, ``spikefab deploy --port``, pyserial, ``screen``)
opens the pty exactly as it would open a USB-UART, and talks the host protocol to the same
Verilog that goes onto the FPGA: UART, :class:`~spikefab.rtl.host_interface.HostInterface` and
fabric.  Only the baud rate differs (a pty has none; the SoC's UART runs at ``divisor`` clock
cycles per bit, 4 by default, to keep the simulation fast).

    >>> from spikefab.rtl.virtual_board import VirtualBoard
    >>> with VirtualBoard("ice40-up5k") as board:          # doctest: +SKIP
    ...     port = board.pty                                  # e.g. "/dev/pts/7"
    ...     serial.Serial(port, timeout=1).write(frame)

The executable (C++ harness ``harness.cpp`` + Verilated SoC) is built once per target and source
version and cached under ``build/virtual_board/`` (about a minute to build).
"""

from spikefab.rtl.virtual_board.board import VIRTUAL_DIVISOR, VirtualBoard, build_virtual_board

__all__ = ["VirtualBoard", "build_virtual_board", "VIRTUAL_DIVISOR"]
