"""Synthetic networks for scaling: random layered nets built straight as hardware projections.

The compiler's scaling benchmark (``benchmarks/compiler_scale.py``) and its memory tests
(``tests/compiler/backend/test_wafer_memory.py``) need the same shape at very different sizes:
10 M neurons and 100 M synapses could not pass through a dense builder matrix, so the
projections are written as index arrays, synapses in target order.
"""

from __future__ import annotations

import numpy as np

from .hwnet import HwNetwork, LoihiLIF, Population, Projection


def layered_network(layers: int, width: int, fan_in: int, n_in: int,
                    seed: int = 0) -> HwNetwork:
    """Random layered network: every neuron gets ``fan_in`` random sources in the layer below.

    Layer ``i`` is ``l{i}`` (LIF du=400, dv=300, vth=200), fed from the input ``x`` or the
    previous layer with weights in [-128, 128), delays in [0, 4) and weight exponent
    ``i % 3 - 1``; the last layer is output ``y``.  Random sources make nearly every synapse
    its own axon and route entry: the most memory a layered net of this size can need.
    """
    rng = np.random.default_rng(seed)
    net = HwNetwork(inputs={"x": n_in})
    prev, prev_n = "x", n_in
    for i in range(layers):
        name = f"l{i}"
        net.populations[name] = Population(name, width, LoihiLIF(du=400, dv=300, vth=200))
        m = width * fan_in
        post = np.repeat(np.arange(width, dtype=np.int64), fan_in)
        pre = rng.integers(0, prev_n, m)
        weight = rng.integers(-128, 128, m)
        delay = rng.integers(0, 4, m)
        net.projections.append(Projection(f"{prev}->{name}", prev, name, pre=pre, post=post,
                                          weight=weight, delay=delay, weight_exp=int(i % 3) - 1))
        del post, pre, weight, delay    # at wafer scale each of these is ~0.8 GB
        prev, prev_n = name, width
    net.outputs["y"] = prev
    return net
