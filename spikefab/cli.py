"""The ``spikefab`` command line.

Each subcommand lives in its own module under :mod:`spikefab.commands` with a
``register(subparsers)`` function; :data:`COMMANDS` lists them in the order ``--help`` shows.
A :class:`~spikefab.errors.SpikefabError` becomes one line ``error: ...`` on stderr and exit
status 2 — never a traceback.  Building the parser imports no optional extra (Amaranth, cocotb,
YoWASP): a command that needs one says so when it runs (:mod:`spikefab.extras`).
"""

from __future__ import annotations

import argparse
import sys
from importlib import import_module

from spikefab import __version__
from spikefab.errors import SpikefabError

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
    # interop (issue 21): PyNN float-vs-chip comparison, SANA-FE export
    "compare",
    "export",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spikefab",
        description="Compile spiking neural networks to neuromorphic hardware, emulate, simulate "
                    "the RTL and deploy to FPGA boards.")
    parser.add_argument("--version", action="version", version=f"spikefab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        import_module(f"spikefab.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    refused = _several_ranks(args)
    if refused is not None:
        return refused
    try:
        return int(args.func(args) or 0)
    except SpikefabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (``spikefab run ... | head``): stop quietly, like SIGPIPE would
        import os
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except ImportError as exc:
        # a module of an optional extra (Amaranth, cocotb, ...) that the command's own
        # require() did not cover: still one line naming the extra (spikefab.extras)
        from spikefab.extras import missing_extra_error
        err = missing_extra_error(exc, f"spikefab {args.command}")
        if err is None:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except MemoryError as exc:
        # an allocation the up-front checks could not foresee (a model that fits the target but
        # not this machine, or a process memory limit): one line, as for a ResourceError
        print(f"error: spikefab {args.command} ran out of memory ({exc or 'MemoryError'}); "
              f"give it more memory or a smaller model", file=sys.stderr)
        return 2


def _several_ranks(args: argparse.Namespace) -> int | None:
    """Under ``mpirun -n N`` (N > 1) only the emulator's ``run`` is distributed; any other
    command (or ``run --device``) would run N times over, N hosts driving one board or writing
    one output file at once: exit 2 with one line (printed by rank 0)."""
    from spikefab.emulator.distributed.comm import launched_ranks
    rank, size = launched_ranks()
    if size <= 1 or (args.command == "run" and getattr(args, "device", None) is None):
        return None
    what = "spikefab run --device" if args.command == "run" else f"spikefab {args.command}"
    if rank == 0:
        print(f"error: {what} is one host process, not an MPI job of {size} ranks: run it "
              f"without mpirun (only 'spikefab run' on the emulator runs over ranks)",
              file=sys.stderr)
    else:      # the launcher ends the job at the first failed rank: let rank 0 print first
        import time
        time.sleep(1.0)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
