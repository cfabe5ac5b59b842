"""spikefab.emulator.distributed: the emulator over the ranks of an MPI job (docs/scale-out.md).

Public API::

    simulate_mpi(image_or_path, inputs, steps, mode="functional" | "cycle", probes=(),
                 comm=None, link_timeout_s=60.0) -> Result on rank 0, None elsewhere
    launched_by_mpi() -> bool      # is this process a rank of an MPI job?

Ranks own chiplets (or contiguous router blocks on one-chiplet targets), run their cores with
the single-process kernels and exchange the packets that leave their region: the functional
engine once per ``min delay + 1`` steps, the cycle engine once per lookahead (the latency of the
links cut by the partition).  Results equal the single-process run for any number of ranks.
"""

from spikefab.emulator.distributed.comm import DEFAULT_LINK_TIMEOUT_S, launched_by_mpi
from spikefab.emulator.distributed.partition import Partition, partition
from spikefab.emulator.distributed.simulate import simulate_mpi

__all__ = ["simulate_mpi", "launched_by_mpi", "partition", "Partition", "DEFAULT_LINK_TIMEOUT_S"]
