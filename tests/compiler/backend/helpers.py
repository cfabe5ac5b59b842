"""Shared helpers of the back-end tests: tiny targets and random builder networks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spikefab.arch.reference import run_reference
from spikefab.arch.target import Target, load_target
from spikefab.compiler import LoihiLIF, Network
from spikefab.compiler.hwsim import simulate

_TEMPLATE = """
name = "{name}"
description = "test target with tiny cores"

[topology]
chiplets_x = {cx}
chiplets_y = {cy}
mesh_x = {mx}
mesh_y = {my}
cores_per_router = {cpr}

[core]
neurons = {neurons}
synapses = {synapses}
input_axons = {axons}
route_entries = {routes}
profiles = {profiles}
acc_classes = {classes}
max_delay = {max_delay}
accumulator_bits = {acc_bits}

[timing]
clock_mhz = 100.0
neuron_cycles = 2
synapse_cycles = 1
packet_cycles = 1
fifo_depth = 4
link_latency = 1
chiplet_link_latency = 8
chiplet_link_cycles = 2
barrier_cycles = 32
wafer_barrier_cycles = 64

[energy]
synop_pj = 5.0
neuron_active_pj = 10.0
neuron_inactive_pj = 5.0
spike_pj = 1.0
hop_ew_pj = 1.0
hop_ns_pj = 1.0
chiplet_hop_pj = 8.0
static_mw = 1.0

[sources]
topology = "test"
core = "test"
timing = "test"
energy = "test"
"""

TINY = dict(name="tiny", cx=2, cy=2, mx=2, my=2, cpr=2, neurons=8, synapses=96, axons=24,
            routes=40, profiles=2, classes=3, max_delay=7, acc_bits=24)


def make_target(tmp_path: Path, **overrides) -> Target:
    """Write a test profile (TINY with ``overrides``) and load it."""
    values = {**TINY, **overrides}
    path = Path(tmp_path) / f"{values['name']}.toml"
    path.write_text(_TEMPLATE.format(**values))
    return load_target(path)


def random_network(seed: int, *, n_pops: int = 4, size=(6, 20), n_in: int = 10,
                   density: float = 0.25, max_delay: int = 5, exps=(-3, -1, 0, 1, 2)) -> Network:
    """Random recurrent builder network: mixed signs, delays, exponents, biases, two resets."""
    rng = np.random.default_rng(seed)
    net = Network()
    net.input("x", n_in)
    names = []
    for i in range(n_pops):
        n = int(rng.integers(size[0], size[1] + 1))
        neuron = LoihiLIF(du=int(rng.integers(0, 4096)), dv=int(rng.integers(0, 4096)),
                          vth=int(rng.integers(20, 200)),
                          bias_mant=rng.integers(-10, 40, n), bias_exp=int(rng.integers(0, 3)),
                          reset=("zero", "subtract")[i % 2])
        names.append(net.population(f"p{i}", n, neuron))
    sources = ["x", *names]
    for j, tgt in enumerate(names):
        # two or three incoming projections, including recurrence
        for src in rng.choice(sources[:j + 2], size=min(len(sources[:j + 2]), 2), replace=False):
            n_post, n_pre = net.size_of(tgt), net.size_of(str(src))
            w = rng.integers(-200, 255, (n_post, n_pre)) * (rng.random((n_post, n_pre)) < density)
            net.connect(str(src), tgt, w, weight_exp=int(rng.choice(exps)),
                        delay=rng.integers(0, max_delay + 1, (n_post, n_pre)))
    net.output("y", names[-1])
    net.output("z", names[0])
    return net


def assert_same(image, net, steps: int = 30, seed: int = 0) -> int:
    """Reference run of ``image`` equals the dense simulation of ``net``; returns spike count."""
    rng = np.random.default_rng(seed)
    ins = {name: (rng.random((steps, n)) < 0.4).astype(np.uint8) for name, n in net.inputs.items()}
    probes = [f"{p}.{v}" for p in net.populations for v in ("u", "v")]
    ref = run_reference(image, ins, steps, probes=probes)
    sim = simulate(net, ins, steps)
    for out in net.outputs:
        np.testing.assert_array_equal(ref.spikes[out], sim.outputs[out], err_msg=out)
    for p in net.populations:
        for v in ("u", "v"):
            np.testing.assert_array_equal(ref.traces[f"{p}.{v}"][-1], sim.final[p][v],
                                          err_msg=f"{p}.{v}")
    return int(sum(s.sum() for s in sim.spikes.values()))
