"""Spike statistics for comparing runs: firing rate and the coefficient of variation of ISIs.

Both are population summaries that do not need the same random numbers on both sides, which is
what comparing a chip with another simulator of a chaotic network requires (individual spike
times diverge within tens of milliseconds; rates and irregularity do not).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SpikeStats", "spike_stats"]


@dataclass(frozen=True)
class SpikeStats:
    """Summary of one population's spikes over ``duration_ms``.

    ``rate_hz`` is the mean rate over all neurons; ``cv_isi`` the mean over neurons with at least
    ``min_spikes`` spikes of std(ISI)/mean(ISI) (NaN when no neuron has that many);
    ``active`` counts those neurons.
    """

    neurons: int
    spikes: int
    duration_ms: float
    rate_hz: float
    cv_isi: float
    active: int


def spike_stats(times_ms: np.ndarray, index: np.ndarray, neurons: int, duration_ms: float,
                min_spikes: int = 3) -> SpikeStats:
    """Statistics of spikes given as parallel arrays of times (ms) and neuron indices."""
    times = np.asarray(times_ms, float)
    index = np.asarray(index, np.int64)
    order = np.lexsort((times, index))
    times, index = times[order], index[order]
    cvs = []
    bounds = np.searchsorted(index, np.arange(neurons + 1))
    for i in range(neurons):
        t = times[bounds[i]:bounds[i + 1]]
        if len(t) >= min_spikes:
            isi = np.diff(t)
            if isi.mean() > 0:
                cvs.append(isi.std() / isi.mean())
    rate = len(times) / neurons / (duration_ms / 1000.0) if neurons and duration_ms > 0 else 0.0
    return SpikeStats(neurons=int(neurons), spikes=int(len(times)),
                      duration_ms=float(duration_ms), rate_hz=float(rate),
                      cv_isi=float(np.mean(cvs)) if cvs else float("nan"), active=len(cvs))
