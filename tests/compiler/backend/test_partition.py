"""Partition: cores respect every per-core limit; impossible networks say why, with numbers."""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.arch.target import load_target
from spikefab.compiler import LoihiLIF, Network, compile
from spikefab.compiler.hwnet import HwNetwork, Population, Projection
from spikefab.compiler.passes.partition import gather_synapses, partition
from spikefab.errors import ResourceError

from .helpers import assert_same, make_target, random_network

LIMIT_KEYS = ("neurons", "synapses", "input_axons", "route_entries", "profiles", "acc_classes")


def _within_limits(part, target):
    use = part.core_usage()
    for key in LIMIT_KEYS:
        assert use[key].max() <= getattr(target.core, key), key
    return use


def test_too_big_for_one_core_is_split():
    rng = np.random.default_rng(0)
    net = Network()
    net.input("x", 64)
    net.population("big", 5000, LoihiLIF(vth=60, du=300, dv=300))
    net.connect("x", "big", rng.integers(0, 120, (5000, 64)) * (rng.random((5000, 64)) < 0.3))
    net.output("y", "big")
    target = load_target("darwin3")
    part = partition(net, target)
    use = _within_limits(part, target)
    assert part.n_cores == 2 and use["neurons"].sum() == 5000
    image = compile(net, target)
    slices = image.populations["big"]["slices"]
    counts = [s["count"] for s in slices]
    assert sum(counts) == 5000 and [s["start"] for s in slices] == [0, counts[0]]
    assert counts == use["neurons"].tolist()
    assert {s["core"] for s in slices} == {0, 1}
    assert_same(image, net, steps=12)


@pytest.mark.parametrize("limit, value", [("synapses", 40), ("axons", 12), ("routes", 16),
                                          ("classes", 2), ("profiles", 1), ("neurons", 5)])
def test_each_limit_binds_and_results_stay_exact(tmp_path, limit, value):
    roomy = dict(cx=4, cy=4, neurons=16, synapses=1000, axons=1000, routes=1000, profiles=8,
                 classes=8)
    target = make_target(tmp_path, **{**roomy, limit: value})
    exps = (0, 1, -1) if limit == "classes" else (-3, -1, 0, 1, 2)
    net = random_network(2, n_pops=3, size=(6, 12), density=0.3, exps=exps)
    if limit == "classes":   # at most two classes reach any one neuron
        for p in net.projections:
            p.weight_exp = 0 if p.source == "x" else p.weight_exp
    loose = partition(net, make_target(tmp_path, name="loose", **roomy))
    part = partition(net, target)
    _within_limits(part, target)
    assert part.n_cores > loose.n_cores
    assert_same(compile(net, target), net, steps=20)


def test_small_populations_share_a_core():
    net = random_network(4, n_pops=4, size=(5, 8), exps=(0,))
    part = partition(net, load_target("darwin3"))
    assert part.n_cores == 1
    assert part.core_usage()["profiles"][0] == 4


def test_error_one_neuron_fan_in(tmp_path):
    target = make_target(tmp_path, synapses=10)
    net = Network()
    net.input("x", 30)
    net.population("lif2", 2)
    net.connect("x", "lif2", np.ones((2, 30), np.int64))
    with pytest.raises(ResourceError, match=r"population 'lif2': one neuron has fan-in 30 "
                                            r"synapse entries, target tiny allows 10 per core"):
        compile(net, target)


def test_error_one_neuron_accumulator_classes(tmp_path):
    target = make_target(tmp_path, classes=2)
    net = Network()
    net.input("x", 3)
    net.population("p", 1)
    for k in range(3):
        net.connect("x", "p", np.ones((1, 3), np.int64), weight_exp=-1 - k)
    with pytest.raises(ResourceError, match=r"population 'p': one neuron has inputs in 3 "
                                            r"weight-exponent classes .* allows 2 per core"):
        compile(net, target)


def test_error_whole_target_too_small():
    net = HwNetwork(populations={"huge": Population("huge", 2_400_000, LoihiLIF())})
    with pytest.raises(ResourceError, match=r"network needs 586 cores .* target darwin3 has 576 "
                                            r"cores"):
        compile(net, "darwin3")


def test_error_delay_too_long(tmp_path):
    net = Network()
    net.input("x", 1)
    net.population("p", 1)
    net.connect("x", "p", np.array([[5]]), delay=9)
    with pytest.raises(ResourceError, match=r"delay 9 must be at most 7"):
        compile(net, make_target(tmp_path))


def test_error_accumulator_bound(tmp_path):
    n = 600
    net = HwNetwork(inputs={"x": n}, populations={"p": Population("p", 1, LoihiLIF())},
                    projections=[Projection("x->p", "x", "p", pre=np.arange(n),
                                            post=np.zeros(n), weight=np.full(n, 255), delay=0,
                                            weight_exp=7)])
    target = make_target(tmp_path, synapses=1024, axons=1024)
    with pytest.raises(ResourceError, match=r"summed input of 19584000 .* 24-bit accumulators "
                                            r"hold at most 8388607"):
        compile(net, target)


def test_error_route_fan_out(tmp_path):
    target = make_target(tmp_path, neurons=1, routes=3)
    net = Network()
    net.input("x", 1)
    net.population("src", 1)
    net.population("dst", 4)
    net.connect("x", "src", np.array([[1]]))
    net.connect("src", "dst", np.ones((4, 1), np.int64))
    with pytest.raises(ResourceError, match=r"population 'src': one neuron sends to 4 "
                                            r"destinations .* allows 3 route entries"):
        compile(net, target)


def test_gather_synapses_sorted_by_target():
    net = random_network(0)
    syn = gather_synapses(net)
    assert np.all(np.diff(syn.post) >= 0)
    assert syn.indptr[-1] == net.n_synapses
    assert len(syn.src) == net.n_synapses


def test_route_splits_reuse_unchanged_cores(tmp_path):
    """After route-limit splits, the incrementally updated axon pairs equal a fresh computation."""
    from spikefab.compiler.passes.partition import _axon_pairs
    target = make_target(tmp_path, cx=4, cy=4, neurons=16, synapses=1000, axons=1000, routes=12)
    net = random_network(6, n_pops=4, size=(10, 16), density=0.3, exps=(0,))
    part = partition(net, target)
    _within_limits(part, target)
    fresh = _axon_pairs(part.syn, part.bounds)
    for got, want in zip((part.order, part.pair_core, part.pair_src, part.pair_start,
                          part.pair_count), fresh):
        np.testing.assert_array_equal(got, want)
    assert_same(compile(net, target), net, steps=15)
