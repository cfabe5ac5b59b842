"""A direct simulator of an :class:`HwNetwork`: the meaning of the hand-off, without any mapping.

It applies :func:`spikefab.arch.neuron.lif_step` population by population, computing each
projection's input as Lava's Dense / DelayDense do (per delay ``d``, the sum of the weights of
the sources that spiked ``1 + d`` steps ago, shifted by the projection's ``weight_exp`` -- each
delay's sum floored on its own), so it knows nothing of cores,
axons, accumulator classes or routes.  A compiled image run on
:func:`spikefab.arch.reference.run_reference` must give exactly the same spikes and states:
that is how the back end is tested.  Plain NumPy, meant for small networks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from spikefab.arch.neuron import lif_step, shift_input
from spikefab.compiler.hwnet import HwNetwork
from spikefab.errors import InputError

__all__ = ["HwSimResult", "simulate"]


@dataclass
class HwSimResult:
    """Spikes per output and per population ``(steps, n)``, final state per population."""

    outputs: dict[str, np.ndarray]
    spikes: dict[str, np.ndarray]
    final: dict[str, dict[str, np.ndarray]]


def simulate(net: HwNetwork, inputs: Mapping[str, np.ndarray] | None, steps: int) -> HwSimResult:
    """Run ``net`` for ``steps`` steps on host input spikes ``inputs[name]`` of shape (steps, n)."""
    net.validate()
    hist: dict[str, np.ndarray] = {}
    for name, size in net.inputs.items():
        x = np.zeros((steps, size), np.int64)
        if inputs and name in inputs:
            given = np.asarray(inputs[name])
            if given.ndim != 2 or given.shape[1] != size or given.shape[0] > steps:
                raise InputError(f"input {name!r} must have shape (<= {steps}, {size}), not "
                                 f"{given.shape}")
            x[:len(given)] = given != 0
        hist[name] = x
    for name, pop in net.populations.items():
        hist[name] = np.zeros((steps, pop.size), np.int64)
    state = {name: {k: np.zeros(p.size, np.int64) for k in ("u", "v", "ref", "theta")}
             for name, p in net.populations.items()}
    for t in range(steps):
        a = {name: np.zeros(p.size, np.int64) for name, p in net.populations.items()}
        for p in net.projections:
            when = t - 1 - p.delay
            ok = when >= 0
            fired = np.zeros(len(p.pre), np.int64)
            fired[ok] = hist[p.source][when[ok], p.pre[ok]]
            # Lava DelayDense: one sum per delay (per source step), each shifted on its own
            for d in np.unique(p.delay):
                sel = p.delay == d
                acc = np.zeros(net.populations[p.target].size, np.int64)
                np.add.at(acc, p.post[sel], p.weight[sel] * fired[sel])
                a[p.target] += shift_input(acc, int(p.weight_exp))
        for name, pop in net.populations.items():
            n, st = pop.neuron, state[name]
            bm, be = pop.bias()
            u, v, s, ref, theta = lif_step(
                st["u"], st["v"], a[name], du=n.du, dv=n.dv, vth=n.vth, bias_mant=bm,
                bias_exp=be, reset_mode=n.reset_mode, refractory=n.refractory, ref=st["ref"],
                theta=st["theta"], theta_inc=n.theta_inc, theta_decay=n.theta_decay)
            st.update(u=u, v=v, ref=ref, theta=theta)
            hist[name][t] = s
    spikes = {name: hist[name].astype(np.uint8) for name in net.populations}
    outputs = {out: spikes[pop] for out, pop in net.outputs.items()}
    return HwSimResult(outputs=outputs, spikes=spikes, final=state)
