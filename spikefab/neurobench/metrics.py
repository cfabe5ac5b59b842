"""NeuroBench workload metrics read from the chip's counters, per sample (mean over the dataset).

Each class is a NeuroBench ``WorkloadMetric``: the harness calls it once per batch and averages
the returned per-sample value over the dataset.  They need no hooks; they read the
:class:`~spikefab.arch.Result` objects that :class:`~spikefab.neurobench.SpikefabModel` keeps.

* ``SynapticOperations`` -- synaptic operations counted by the synapse engines (``synops``);
* ``NeuronUpdates`` -- neuron updates (``neuron_updates_active`` + ``_inactive``);
* ``ActivationSparsity`` -- 1 - spikes / (neurons x steps), over all populations;
* ``Packets`` -- NoC packets (``packets``);
* ``ModelledEnergy`` (pJ) and ``ModelledLatency`` (us) -- the target's energy and timing model;
  modelled, not measured: :func:`metric_sources` gives the profile's source for every figure.
"""

from __future__ import annotations

import numpy as np
from neurobench.metrics.abstract import WorkloadMetric

from spikefab.errors import InputError

__all__ = ["SynapticOperations", "NeuronUpdates", "ActivationSparsity", "Packets",
           "ModelledEnergy", "ModelledLatency", "metric_sources"]


def _results(model) -> list:
    results = getattr(model, "results", None)
    if not results:
        raise InputError("spikefab metrics need a SpikefabModel that has run a batch")
    return results


class _Counter(WorkloadMetric):
    counter = ""

    def __init__(self) -> None:
        super().__init__(requires_hooks=False)

    def __call__(self, model, preds, data) -> float:
        return float(np.mean([r.counters[self.counter] for r in _results(model)]))


class SynapticOperations(_Counter):
    """Synaptic operations per sample, counted by the hardware model."""

    counter = "synops"


class NeuronUpdates(WorkloadMetric):
    """Neuron updates per sample (active and inactive: the chip updates every neuron each step)."""

    def __init__(self) -> None:
        super().__init__(requires_hooks=False)

    def __call__(self, model, preds, data) -> float:
        return float(np.mean([r.counters["neuron_updates_active"] +
                              r.counters["neuron_updates_inactive"] for r in _results(model)]))


class Packets(_Counter):
    """NoC packets per sample."""

    counter = "packets"


class ActivationSparsity(WorkloadMetric):
    """1 - (neuron spikes) / (neurons x steps), per sample."""

    def __init__(self) -> None:
        super().__init__(requires_hooks=False)

    def __call__(self, model, preds, data) -> float:
        n = sum(int(c.n_neurons) for c in model.image.cores)
        return float(np.mean([1.0 - r.counters["spikes"] / (n * model.steps)
                              for r in _results(model)]))


class ModelledEnergy(WorkloadMetric):
    """Energy per sample in pJ, from the target's energy model (modelled, not measured)."""

    def __init__(self) -> None:
        super().__init__(requires_hooks=False)

    def __call__(self, model, preds, data) -> float:
        return float(np.mean([r.energy_pj for r in _results(model)]))


class ModelledLatency(WorkloadMetric):
    """Latency per sample in microseconds, from the target's timing model (modelled)."""

    def __init__(self) -> None:
        super().__init__(requires_hooks=False)

    def __call__(self, model, preds, data) -> float:
        return float(np.mean([r.latency_us for r in _results(model)]))


def metric_sources(target_name: str) -> dict[str, str]:
    """The target profile's sources for the energy and timing figures behind the modelled metrics."""
    from spikefab.arch.target import load_target
    target = load_target(target_name)
    return {k: v for k, v in target.sources.items() if k.startswith(("energy", "timing"))}
