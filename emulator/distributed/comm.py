"""The MPI face of the distributed emulator: collectives that cannot hang, errors agreed once.

Every collective the engines use is started non-blocking and polled against a deadline (the
*link timeout*), so a rank that died or hangs turns into a :class:`~spikefab.errors.LinkError`
on the survivors instead of a job that never ends.  Launchers that stop the whole job when one
rank dies (Open MPI's ``mpirun``, SLURM's ``srun --kill-on-bad-exit``) send the survivors
SIGTERM first; :func:`install_sigterm_handler` turns that into the same typed error, so rank 0
still reports it.

``mpi4py`` is imported only here, and only when a run is distributed: a plain ``spikefab run``
never initialises MPI.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from spikefab import errors as E
from spikefab.errors import InputError, LinkError, SpikefabError, ToolError

__all__ = ["RankComm", "launched_by_mpi", "launched_ranks", "install_sigterm_handler",
           "DEFAULT_LINK_TIMEOUT_S"]

#: seconds a rank waits for the others in one collective before it declares them lost
DEFAULT_LINK_TIMEOUT_S = 60.0

#: environment variables MPI launchers set for every rank (Open MPI, PMIx/PRRTE, MPICH/Hydra,
#: MVAPICH, SLURM's srun with PMI)
_LAUNCHER_VARS = ("OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK",
                  "MV2_COMM_WORLD_SIZE", "MPI_LOCALNRANKS")


def launched_by_mpi() -> bool:
    """True when this process is one rank of an MPI job (started by mpirun / mpiexec / srun)."""
    return any(v in os.environ for v in _LAUNCHER_VARS)


def launched_ranks() -> tuple[int, int]:
    """``(rank, size)`` of this process's MPI job from the launcher's environment, without
    starting MPI; ``(0, 1)`` outside a job or when the launcher does not say."""
    def first(names: tuple[str, ...], default: int) -> int:
        for name in names:
            value = os.environ.get(name, "")
            if value.isdigit():
                return int(value)
        return default
    return (first(("OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "MV2_COMM_WORLD_RANK"), 0),
            first(("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE"), 1))


def install_sigterm_handler() -> None:
    """Make SIGTERM (the launcher stopping the job) a :class:`LinkError` in this rank."""
    def handler(signum, frame):
        raise LinkError("the MPI launcher stopped this run (SIGTERM): another rank died or the "
                        "job was cancelled", where="mpi")
    signal.signal(signal.SIGTERM, handler)


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as exc:  # pragma: no cover - make install provides it
        raise ToolError(f"a distributed run needs mpi4py, which cannot be imported ({exc}); "
                        f"run `make install` (docs/scale-out.md)") from None
    return MPI


@dataclass
class RankComm:
    """One rank's view of the job: rank, size, and the deadline-guarded collectives.

    ``bytes_sent`` counts the payload bytes this rank put into exchanges (for the benchmarks);
    ``t_wait``/``t_exchange`` the seconds spent in synchronising and payload collectives.
    """

    timeout_s: float = DEFAULT_LINK_TIMEOUT_S
    comm: Any = None
    bytes_sent: int = 0
    t_wait: float = 0.0
    t_exchange: float = 0.0
    _MPI: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        t = self.timeout_s
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < t < float("inf"):
            # nan compares false with every elapsed time: a lost rank would hang the others
            raise InputError(f"link timeout must be a positive finite number of seconds, not "
                             f"{t!r}", where="mpi")
        self._MPI = _mpi()
        if self.comm is None:
            self.comm = self._MPI.COMM_WORLD
        self.rank = int(self.comm.Get_rank())
        self.size = int(self.comm.Get_size())

    # ------------------------------------------------------------------ waiting
    def wait(self, req, what: str) -> None:
        """Complete request ``req`` or raise :class:`LinkError` after :attr:`timeout_s`."""
        if req.Test():
            return
        start = time.perf_counter()
        spins = 0
        while not req.Test():
            spins += 1
            if spins > 200:                       # past the fast path: stop burning a core
                time.sleep(2e-5 if spins < 2000 else 5e-4)
            if time.perf_counter() - start > self.timeout_s:
                raise LinkError(f"rank {self.rank}: no answer from the other ranks in {what} "
                                f"within the link timeout ({self.timeout_s:g} s): a rank died or "
                                f"hangs", where="mpi")

    # ------------------------------------------------------------------ collectives
    def barrier(self, what: str = "barrier") -> None:
        self.wait(self.comm.Ibarrier(), what)

    def allreduce(self, arr: np.ndarray, op: str, what: str) -> np.ndarray:
        """Element-wise ``op`` ("sum", "min", "max", "bor") of an int64/uint8 array over ranks."""
        MPI = self._MPI
        arr = np.ascontiguousarray(arr)
        out = np.empty_like(arr)
        mop = {"sum": MPI.SUM, "min": MPI.MIN, "max": MPI.MAX, "bor": MPI.BOR}[op]
        t = time.perf_counter()
        self.wait(self.comm.Iallreduce(arr, out, op=mop), what)
        self.t_wait += time.perf_counter() - t
        return out

    def alltoallv(self, send: np.ndarray, dest: np.ndarray, what: str,
                  value: int = 0) -> tuple[np.ndarray, int]:
        """Send the int64 rows ``send[i]`` to rank ``dest[i]``; return (received rows, min value).

        One ``alltoall`` carries, per pair of ranks, the row count, this rank's ``value`` (the
        cycle engine's earliest cycle with work, so that no separate ``allreduce`` is needed) and
        this rank's total; the payload ``alltoallv`` is skipped when no rank sends anything.
        The received rows are ordered by source rank, then by their order at the source, so the
        result never depends on message timing.
        """
        send = np.ascontiguousarray(send, np.int64)
        width = send.shape[1] if send.ndim == 2 else 1
        order = np.argsort(dest, kind="stable")
        send = np.ascontiguousarray(send[order])
        counts = np.bincount(dest, minlength=self.size).astype(np.int64) * width
        head = np.empty((self.size, 3), np.int64)
        head[:, 0], head[:, 1], head[:, 2] = counts, value, counts.sum()
        got = np.empty((self.size, 3), np.int64)
        t = time.perf_counter()
        MPI = self._MPI
        self.wait(self.comm.Ialltoall([head, 3, MPI.INT64_T], [got, 3, MPI.INT64_T]), what)
        t2 = time.perf_counter()
        self.t_wait += t2 - t
        rcounts = np.ascontiguousarray(got[:, 0])
        recv = np.empty(int(rcounts.sum()), np.int64)
        if int(got[:, 2].sum()) > 0:
            sdispl = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
            rdispl = np.concatenate([[0], np.cumsum(rcounts)[:-1]]).astype(np.int64)
            self.wait(self.comm.Ialltoallv([send.reshape(-1), (counts, sdispl), MPI.INT64_T],
                                           [recv, (rcounts, rdispl), MPI.INT64_T]), what)
            self.t_exchange += time.perf_counter() - t2
            self.bytes_sent += int(send.nbytes - 8 * counts[self.rank])
        recv = recv.reshape(-1, width) if send.ndim == 2 else recv
        return recv, int(got[:, 1].min())

    def gather(self, obj: Any, what: str) -> list | None:
        """Pickled gather to rank 0 (list on rank 0, None elsewhere), after a guarded barrier."""
        self.barrier(what)
        return self.comm.gather(obj, root=0)

    def bcast(self, obj: Any, what: str) -> Any:
        self.barrier(what)
        return self.comm.bcast(obj, root=0)

    # ------------------------------------------------------------------ errors
    def agree(self, fn: Callable[[], Any], what: str) -> Any:
        """Run ``fn`` on every rank; if it raised a typed error anywhere, raise it everywhere.

        The error of the lowest failing rank wins, so every rank (and rank 0, which reports)
        raises the same message once, instead of the healthy ranks waiting in the next
        collective for a rank that gave up.
        """
        value, failure = None, None
        try:
            value = fn()
        except SpikefabError as exc:
            failure = (type(exc).__name__, str(exc), exc.where)
        self.barrier(what)
        failures = self.comm.allgather(failure)
        for k, f in enumerate(failures):
            if f is not None:
                cls = getattr(E, f[0], SpikefabError)
                msg = f[1] if k == self.rank or f[1].startswith("rank ") else f"rank {k}: {f[1]}"
                raise cls(msg, where=f[2])
        return value
