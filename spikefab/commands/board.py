"""``spikefab board [--image IMG] [--target T] --pty``: the virtual board on a pseudo-terminal.

Starts the Verilator-built SoC (the same RTL the bitstream is built from, see
:mod:`spikefab.rtl.virtual_board`) with its UART bridged to a pty, prints a line with the pty
path (``/dev/pts/N``) and runs until interrupted.  ``spikefab deploy IMAGE --port /dev/pts/N``
then behaves exactly as with a real iCEBreaker.  With ``--image`` the image is uploaded first,
so a ``deploy`` of the same image finds it on the board (image CRC register) and skips the upload.
Needs the ``rtl`` extra (Amaranth and Verilator); ``deploy`` itself needs only pyserial.
"""

from __future__ import annotations

import argparse
import sys
import time

from spikefab.errors import ToolError
from spikefab.extras import require


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("board", help="run the virtual board (RTL SoC in Verilator) on a pty")
    p.add_argument("--pty", action="store_true", required=True,
                   help="bridge the board's UART to a pseudo-terminal (the only mode)")
    p.add_argument("--image", help="upload this image (.sfi) once the board is up")
    p.add_argument("--target", help="target of the board (default: the image's, else ice40-up5k)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    require("spikefab board", ("amaranth", "verilator"))
    from spikefab.arch.image import load_image
    from spikefab.arch.target import load_target
    from spikefab.rtl.virtual_board import VirtualBoard

    image = load_image(args.image) if args.image else None
    target = load_target(args.target or (image.target if image else "ice40-up5k"))
    print(f"building / starting the virtual board for {target.name} ...", file=sys.stderr)
    board = VirtualBoard(target)
    try:
        pty = board.start()
        print(f"virtual board {target.name} on {pty}", flush=True)
        if image is not None:
            from spikefab.runtime import open_device
            with open_device(f"serial://{pty}", progress=False) as dev:
                dev.load(image)
                print(f"loaded {args.image} (image CRC {image.crc32():#010x}): "
                      f"{dev.upload.summary()}", flush=True)
        print("running; Ctrl-C stops the board", flush=True)
        while board.running:
            time.sleep(0.2)
        raise ToolError(f"the virtual board on {pty} must keep running until interrupted, "
                        f"not exit by itself")
    except KeyboardInterrupt:
        print("virtual board stopped", flush=True)
        return 0
    finally:
        board.stop()
