"""The cycle engine against hand-computed cycle counts of docs/microarchitecture.md.

Each expected number is derived in the comment above it from sections 4-10 and 12, with the
target's timing read from its profile, so the tests pin the contract the RTL implements too.
"""

from __future__ import annotations

import numpy as np

from emu_images import build_image, random_image, random_inputs
from spikefab.arch.target import load_target
from spikefab.emulator import simulate
from spikefab.emulator.noc.fabric import zero_load_latency


def cycles(image, inputs, steps=1, target=None):
    res = simulate(image, inputs, steps, "cycle", target=target)
    return res, [int(c) for c in res.cycles_per_step]


def test_idle_core_takes_n_neuron_cycles_plus_barrier():
    t = load_target("darwin3").timing
    image = build_image("darwin3", [{"address": (0, 3, 4, 0), "n": 7}], host=[])
    _, cps = cycles(image, None, steps=3)
    assert cps == [7 * t.neuron_cycles + t.barrier_cycles] * 3


def test_host_packet_to_core_zero_load():
    # host -> router (0,0) W input -> XY to (5, 3): H = 8 on-chip hops, then the synapse engine
    # pops at arrival T0 = (H + 2) * L and is busy packet_cycles + S * synapse_cycles
    t = load_target("darwin3").timing
    image = build_image("darwin3", [{"address": (0, 5, 3, 0), "n": 1, "axons": [4]}],
                        host=[[(0, 0)]])
    res, cps = cycles(image, {"in": np.array([[1], [0]])}, steps=2)
    t0 = zero_load_latency(8, 0, t.link_latency, t.chiplet_link_latency)
    assert t0 == 10
    q = max(1 * t.neuron_cycles, t0 + t.packet_cycles + 4 * t.synapse_cycles)
    assert cps == [q + t.barrier_cycles, t.neuron_cycles + t.barrier_cycles]
    assert res.counters["hops_ew"] == 5 and res.counters["hops_ns"] == 3


def test_output_spike_to_host():
    # neuron 0 of 3 spikes: emits its route entry at cycle neuron_cycles; the packet reaches the
    # host after (H + 2) * L with H = 10 + 7; the update engine finishes neurons 1, 2 after it
    t = load_target("darwin3").timing
    image = build_image("darwin3", [{"address": (0, 10, 7, 0), "n": 3, "spike": [0],
                                     "routes": {0: [("host", 0)]}}], host=[])
    res, cps = cycles(image, None)
    arrive = t.neuron_cycles + (17 + 2) * t.link_latency
    done = t.neuron_cycles + 1 + 2 * t.neuron_cycles
    assert cps == [max(arrive, done) + t.barrier_cycles]
    assert res.spikes["out"].tolist() == [[1]]


def test_inter_chiplet_zero_load(tiny_wafer):
    # tinywafer: chiplets of 3x2 routers, L = 2, Lc = 5.  Core at chiplet 3 (cx=1, cy=1), router
    # (1, 1) = global (4, 3): H = 7 hops of which Hc = 2 cross a chiplet edge.
    target = load_target(str(tiny_wafer))
    t = target.timing
    image = build_image("tinywafer", [{"address": (3, 1, 1, 1), "n": 1, "axons": [1]}],
                        host=[[(0, 0)]])
    res, cps = cycles(image, {"in": np.array([[1]])}, target=str(tiny_wafer))
    t0 = zero_load_latency(7, 2, t.link_latency, t.chiplet_link_latency)
    assert t0 == (7 - 2 + 2) * 2 + 2 * 5
    assert cps == [t0 + t.packet_cycles + t.synapse_cycles + t.barrier_cycles]
    assert res.counters["chiplet_hops"] == 2
    assert (res.counters["hops_ew"], res.counters["hops_ns"]) == (3, 2)


def test_inter_chiplet_link_serialises(tiny_wafer):
    # two packets from the host to global router (3, 0) (chiplet 1): the host injects them in
    # cycles 0 and 1; they are granted at routers 0, 1, 2 in cycles 2/3, 4/5, then the chiplet
    # link (busy 3 cycles) takes the first at 6 and the second at 9; arrival at router 3 at 11
    # and 14, at the core at 13 and 16; each takes packet_cycles = 2 (S = 0): Q = 18.
    target = load_target(str(tiny_wafer))
    image = build_image("tinywafer", [{"address": (1, 0, 0, 0), "n": 1, "axons": [0]}],
                        host=[[(0, 0), (0, 0)]])
    _, cps = cycles(image, {"in": np.array([[1]])}, target=str(tiny_wafer))
    assert cps == [18 + target.timing.barrier_cycles]


def test_backpressure_from_a_slow_synapse_engine(tiny_wafer):
    # six packets to one core at router (0, 0): first arrives at 2 L = 4, then the synapse engine
    # is the bottleneck (2 + 3 cycles each) and never starves (credit loop 2 L = 4 < 5): Q = 34
    target = load_target(str(tiny_wafer))
    image = build_image("tinywafer", [{"address": (0, 0, 0, 0), "n": 1, "axons": [3]}],
                        host=[[(0, 0)] * 6])
    res, cps = cycles(image, {"in": np.array([[1]])}, target=str(tiny_wafer))
    assert cps == [4 + 6 * 5 + target.timing.barrier_cycles]
    assert res.counters["max_fifo"] == target.timing.fifo_depth
    assert res.counters["synops"] == 18


def test_wafer_barrier_when_more_than_one_chiplet(tiny_wafer):
    t = load_target(str(tiny_wafer)).timing
    image = build_image("tinywafer", [{"address": (0, 0, 0, 0), "n": 2},
                                      {"address": (2, 0, 0, 0), "n": 1}], host=[])
    _, cps = cycles(image, None, target=str(tiny_wafer))
    assert cps == [2 * t.neuron_cycles + t.barrier_cycles + t.wafer_barrier_cycles]


def test_deterministic_and_latency_is_sum_over_clock(tiny_wafer):
    target = load_target(str(tiny_wafer))
    rng = np.random.default_rng(5)
    image = random_image(rng, target, max_cores=6)
    inputs = random_inputs(rng, image, 10, p=0.6)
    a = simulate(image, inputs, 10, "cycle", target=str(tiny_wafer))
    b = simulate(image, inputs, 10, "cycle", target=str(tiny_wafer))
    assert np.array_equal(a.cycles_per_step, b.cycles_per_step)
    assert a.counters["links"] == b.counters["links"]
    assert a.latency_us == sum(a.cycles_per_step) / target.timing.clock_mhz
    # conservation: every router-to-router hop appears once in the per-link table
    hops = sum(n for _, _, port, n in a.counters["links"] if port in "NESW")
    assert hops >= a.counters["hops_ew"] + a.counters["hops_ns"] + a.counters["chiplet_hops"]
