"""``mpirun -n N spikefab run IMAGE ...``: the run command as one rank of an MPI job.

Every rank reads only its own cores from the image (docs/scale-out.md); rank 0 gathers the
result, prints the summary and writes ``-o``.  An error is printed once, by rank 0.  When the
run cannot finish because a rank died or hangs, the survivors leave at once (``os._exit``)
instead of waiting in MPI's shutdown for a peer that will never answer; a run that finished
finalises MPI and leaves without the interpreter's slow teardown.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable

from spikefab.commands._runio import load_inputs
from spikefab.errors import LinkError, SpikefabError


def main_mpi(args: argparse.Namespace, report: Callable) -> int:
    from spikefab.emulator.distributed import DEFAULT_LINK_TIMEOUT_S, simulate_mpi
    from spikefab.emulator.distributed.comm import RankComm, install_sigterm_handler
    install_sigterm_handler()
    rank = RankComm().rank
    timeout = DEFAULT_LINK_TIMEOUT_S if args.link_timeout is None else args.link_timeout
    try:
        inputs = load_inputs(args.input)
        result = simulate_mpi(args.image, inputs, args.steps, mode=args.mode, probes=args.probe,
                              link_timeout_s=timeout)
        if rank == 0:
            report(args, result)
        _finish(0)
    except SpikefabError as exc:
        if rank == 0:
            print(f"error: {exc}", file=sys.stderr)
        if isinstance(exc, LinkError):
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(2)
        return 2


def _finish(code: int) -> None:
    """End a rank that completed: finalise MPI, then leave without the interpreter's teardown.

    Tearing down a process that held a wafer's share (NumPy arrays, the compiled kernels) took
    1.5-2 s per job in benchmarks/scale_out.py's "exit" phase; the outputs are written and the
    streams flushed by then, so nothing is lost by skipping it.
    """
    from mpi4py import MPI
    sys.stdout.flush()
    sys.stderr.flush()
    MPI.Finalize()
    os._exit(code)
