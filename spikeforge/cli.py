"""The ``spikeforge`` command line.

Each subcommand lives in its own module under :mod:`spikeforge.commands` with a
``register(subparsers)`` function; :data:`COMMANDS` lists them in the order ``--help`` shows.
A :class:`~spikeforge.errors.SpikeforgeError` becomes one line ``error: ...`` on stderr and exit
status 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from importlib import import_module

from spikeforge import __version__
from spikeforge.errors import SpikeforgeError

COMMANDS = [
    "targets",
    "inspect",
    "compile",
    "run",
    "estimate",
    "report",
    "demo",
    "rtl",
    "board",
    "deploy",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spikeforge",
        description="Compile spiking neural networks to neuromorphic hardware, emulate, simulate "
                    "the RTL and deploy to FPGA boards.")
    parser.add_argument("--version", action="version", version=f"spikeforge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        import_module(f"spikeforge.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except SpikeforgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
