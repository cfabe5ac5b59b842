"""The backend's simulator state: the network PyNN describes, and where and how it runs.

PyNN's ``common`` classes talk to a backend through a module-level ``state`` object (time, time
step, recorders) and an ``ID`` class; this module provides both, as ``pyNN.mock.simulator`` does.
Unlike NEST or Brian2 there is no simulator kernel to hand objects to: the chip runs a compiled
image, which is built from the whole network when :func:`run` is first called.  So ``state``
keeps the network (cell populations and projections, in creation order) and the outcome of the
last run, and every ``run_until`` simulates from time 0 to the new end time.  That is exact
(every engine is deterministic and a Poisson source's random stream does not depend on the run
length) and keeps the chip image immutable while it runs, as the hardware requires; changing
the network between two ``run`` calls without ``reset`` is therefore refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pyNN import common

from spikefab.errors import InputError

name = "spikefab"

#: Engines ``setup(mode=...)`` accepts: the float reference and the chip's two emulator engines.
MODES = ("float", "functional", "cycle")


class ID(int, common.IDMixin):
    """A cell id (an int that knows its population), as every PyNN backend has."""

    def __init__(self, n: int) -> None:
        int.__init__(n)
        common.IDMixin.__init__(self)


class State(common.control.BaseState):
    """Time, configuration, the network and the last run's outcome."""

    def __init__(self) -> None:
        common.control.BaseState.__init__(self)
        self.mpi_rank = 0
        self.num_processes = 1
        self.dt = 0.1
        self.min_delay: Any = "auto"
        self.max_delay: Any = "auto"
        self.target = "loihi1"
        self.mode = "functional"
        self.device: str | None = None
        self.placer = "sequential"
        self.seed = 0
        self.clear()

    # ------------------------------------------------------------------ network registry
    def clear(self) -> None:
        """Forget the network (``setup`` and ``end``)."""
        self.recorders = set()
        self.populations: list[Any] = []
        self.projections: list[Any] = []
        self.id_counter = 0
        self.segment_counter = -1
        self.version = 0
        self.outcome: Any = None
        self.last_build: Any = None
        self.compiled: Any = None
        self.reset()

    def changed(self) -> None:
        """Called whenever the network or a parameter changes."""
        self.version += 1

    def reset(self) -> None:
        """Time back to 0; a new segment of recorded data begins."""
        self.running = False
        self.t = 0.0
        self.t_start = 0.0
        self.segment_counter += 1
        self.outcome = None

    # ------------------------------------------------------------------ time
    def run(self, simtime: float) -> None:
        self.run_until(self.t + simtime)

    def run_until(self, tstop: float) -> None:
        from spikefab.pynn.engine import check_run_size, simulate
        steps = check_run_size(self, tstop)
        if self.outcome is not None and self.outcome.version != self.version and steps > 0:
            raise InputError(
                "the network must not change between run() calls: the chip runs one fixed "
                "image, so parameters, initial values and connections may change only before "
                "the first run() or after reset()")
        self.outcome = simulate(self, steps)
        self.t = steps * self.dt
        self.running = True

    @property
    def steps(self) -> int:
        return int(round(self.t / self.dt))

    def spikes_of(self, population: Any) -> np.ndarray:
        """``(steps, size)`` spikes of ``population`` in the current segment."""
        if self.outcome is None:
            return np.zeros((0, population.size), np.uint8)
        return self.outcome.spikes[population._index]

    def trace_of(self, population: Any, variable: str) -> np.ndarray | None:
        """``(steps, size)`` recorded ``variable`` (PyNN units) of ``population``, or None."""
        if self.outcome is None:
            return None
        return self.outcome.traces.get((population._index, variable))


state = State()
