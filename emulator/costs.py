"""Latency and energy of a run, from event counters and the Target's tables.

Energy (picojoules) is the event-count model of the Target's ``[energy]`` table plus static
power over the run time::

    synops * synop_pj + active * neuron_active_pj + inactive * neuron_inactive_pj
    + spikes * spike_pj + hops_ew * hop_ew_pj + hops_ns * hop_ns_pj
    + chiplet_hops * chiplet_hop_pj + static_mw * latency_us * 1000

* a neuron update is **active** when the neuron's synaptic input in that step is non-zero or it
  spikes, otherwise **inactive** (Loihi's two neuron-update energies);
* ``spikes`` counts neuron spikes (not packets);
* hops are router-to-router link traversals on the routed path (the same counts for every
  algorithm of :mod:`spikefab.arch.mesh`): E/W and N/S on-chip hops, and
  inter-chiplet hops counted only as ``chiplet_hops``; injection and ejection links are free.

Latency: in cycle mode ``latency_us = sum(cycles_per_step) / clock_mhz`` (section 10 of
docs/microarchitecture.md).  The functional engine has no clock, so it reports an **analytic
estimate** per step: ``max over cores of max(n * neuron_cycles + route entries sent,
packets * packet_cycles + synops * synapse_cycles)`` plus the zero-load latency of the image's
longest route and the barrier.  It ignores contention and the serial dependence between the
update engine's emissions and the synapse engines, so it can be below or above the cycle count.
"""

from __future__ import annotations

import numpy as np

from spikefab.arch.target import Target

__all__ = ["energy_breakdown", "latency_us", "barrier_cycles"]


def barrier_cycles(target: Target, chiplets_used: int) -> int:
    """Section 9: chiplet barrier, plus the wafer barrier when more than one chiplet is used."""
    t = target.timing
    return int(t.barrier_cycles + (t.wafer_barrier_cycles if chiplets_used > 1 else 0))


def latency_us(cycles_per_step: np.ndarray, target: Target) -> float:
    return float(np.sum(cycles_per_step)) / target.timing.clock_mhz


def energy_breakdown(counters: dict, latency: float, target: Target) -> dict[str, float]:
    """Per-category energy in pJ (keys: synops, neurons_active, ... static)."""
    e = target.energy
    return {
        "synops": counters["synops"] * e.synop_pj,
        "neurons_active": counters["neuron_updates_active"] * e.neuron_active_pj,
        "neurons_inactive": counters["neuron_updates_inactive"] * e.neuron_inactive_pj,
        "spikes": counters["spikes"] * e.spike_pj,
        "hops_ew": counters["hops_ew"] * e.hop_ew_pj,
        "hops_ns": counters["hops_ns"] * e.hop_ns_pj,
        "chiplet_hops": counters["chiplet_hops"] * e.chiplet_hop_pj,
        "static": e.static_mw * latency * 1e3,
        # on-chip learning: plastic synapse updates at epoch ends (Target [learning].update_pj)
        **({"learning": counters["learning_updates"] * target.learning.update_pj}
           if "learning_updates" in counters else {}),
    }
