"""Recording: spikes and ``v`` from the last run, handed to PyNN's ``Recorder`` for Neo blocks.

The engine records every cell population's spikes (they are the outputs of the compiled image)
and the voltage ``v`` of populations that asked for it (emulator probes, converted back to mV);
this class only selects the requested cells and samples.  Samples follow PyNN's convention: the
initial value first, then one per sampling interval, each taken at the end of a time step.
"""

from __future__ import annotations

import numpy as np
from pyNN import recording

from spikefab.errors import InputError
from spikefab.pynn import simulator

__all__ = ["Recorder"]


class Recorder(recording.Recorder):
    """Reads the simulator state's last outcome for one population."""

    _simulator = simulator

    def _record(self, variable, new_ids, sampling_interval=None):
        dt = self._simulator.state.dt
        interval = sampling_interval or dt
        ratio = interval / dt
        if abs(ratio - round(ratio)) > 1e-9 or round(ratio) < 1:
            raise InputError(f"sampling_interval must be a whole number of time steps "
                             f"({dt} ms), not {interval}")
        self.sampling_interval = interval

    def _indices(self, ids) -> np.ndarray:
        return np.asarray(self.population.id_to_index(np.asarray(list(ids), dtype=int)), int)

    def _start_step(self) -> int:
        """First step of the data still to report: ``get_data(clear=True)`` moves PyNN's
        recording start to the current time (every run re-simulates from 0)."""
        start = float(np.asarray(getattr(self._recording_start_time, "magnitude",
                                         self._recording_start_time)))
        return int(round(start / self._simulator.state.dt))

    def _get_spiketimes(self, requested_ids, clear=False):
        spikes = self._simulator.state.spikes_of(self.population)
        step, index = np.nonzero(spikes)
        wanted = np.zeros(self.population.size, bool)
        wanted[self._indices(requested_ids)] = True
        keep = wanted[index] & (step >= self._start_step())
        ids = np.asarray(self.population.all_cells, int)[index[keep]]
        return ids, step[keep].astype(float) * self._simulator.state.dt

    def _get_all_signals(self, variable, ids, clear=False):
        state = self._simulator.state
        idx = self._indices(ids)
        trace = state.trace_of(self.population, variable.name)
        if trace is None:
            trace = np.zeros((state.steps, self.population.size))
        first = self.population.initial_value_array(variable.name)
        values = np.vstack([first[None, :], trace])[self._start_step():, idx]
        every = int(round(self.sampling_interval / state.dt))
        return values[::every], None

    def _local_count(self, variable, filter_ids=None):
        counts = self._simulator.state.spikes_of(self.population)[self._start_step():].sum(axis=0)
        ids = self.filter_recorded(variable, filter_ids)
        idx = self._indices(ids)
        return {int(i): int(counts[j]) for i, j in zip(ids, idx)}

    def get(self, variables, gather=False, filter_ids=None, clear=False, annotations=None,
            locations=None):
        """PyNN's ``get``; with no run since ``setup()`` there is no segment at all, and PyNN
        ended in an ``IndexError``: an ``InputError`` saying so instead."""
        if not list(self.cache) and not self._simulator.state.running:
            where = f"population {self.population.label!r}"
            raise InputError(f"{where}: get_data() has no recorded data yet: run() the "
                             f"network first (0 ms simulated since setup())", where=where)
        return super().get(variables, gather, filter_ids, clear, annotations, locations)

    def _clear_simulator(self):
        pass

    def _reset(self):
        pass
