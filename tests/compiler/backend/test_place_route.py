"""Placement cost, the optimizing placer, dimension-order link loads."""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.arch.target import load_target
from spikefab.compiler import LoihiLIF, Network, compile
from spikefab.compiler.passes.kernels import link_loads
from spikefab.compiler.passes.partition import partition
from spikefab.compiler.passes.place import (Sites, crossing_weight, hilbert_order, place,
                                              sequential_cost, traffic)
from spikefab.compiler.passes.route import route
from spikefab.errors import ModelError

from .helpers import make_target, random_network


def recurrent_2000(seed: int = 0, p: float = 0.2) -> Network:
    rng = np.random.default_rng(seed)
    net = Network()
    net.input("x", 100)
    net.population("r", 2000, LoihiLIF(vth=100, du=500, dv=500))
    net.connect("x", "r", rng.integers(0, 100, (2000, 100)) * (rng.random((2000, 100)) < 0.1))
    net.connect("r", "r", rng.integers(-100, 100, (2000, 2000)) * (rng.random((2000, 2000)) < p),
                weight_exp=-1)
    net.output("y", "r")
    return net


@pytest.fixture(scope="module")
def rec_partition():
    return partition(recurrent_2000(), load_target("darwin3"))


def test_anneal_beats_sequential_on_2000_neuron_recurrent_net(rec_partition):
    part = rec_partition
    assert part.n_cores > 4
    seq = place(part, "sequential")
    opt = place(part, "anneal", seed=0)
    assert opt.hops < seq.hops
    assert opt.cost < seq.cost
    assert len(np.unique(opt.site)) == part.n_cores


def test_anneal_is_deterministic_per_seed(rec_partition):
    a = place(rec_partition, "anneal", seed=3)
    b = place(rec_partition, "anneal", seed=3)
    np.testing.assert_array_equal(a.site, b.site)


def test_rates_weight_the_traffic(rec_partition):
    uniform = traffic(rec_partition)
    weighted = traffic(rec_partition, {"r": 0.5, "x": 0.0})
    assert weighted.weight.sum() < uniform.weight.sum()
    host = rec_partition.n_cores
    assert weighted.weight[weighted.src == host].sum() == 0
    with pytest.raises(ModelError, match="rates: 'nope' must name an input or population"):
        traffic(rec_partition, {"nope": 1.0})


def test_unknown_placer():
    with pytest.raises(ModelError, match="placer must be one of anneal, sequential, not 'best'"):
        compile(random_network(0), "darwin3", placer="best")


def test_sequential_cost_counts_hops_and_crossings(tmp_path):
    target = make_target(tmp_path)
    part = partition(random_network(4), target)
    tr = traffic(part)
    seq = sequential_cost(part, tr)
    sites = Sites.of(target)
    gx = np.append(sites.gx[seq.site], 0)
    gy = np.append(sites.gy[seq.site], 0)
    hops = np.sum(tr.weight * (np.abs(gx[tr.src] - gx[tr.dst]) + np.abs(gy[tr.src] - gy[tr.dst])))
    cross = np.sum(tr.weight * (np.abs(gx[tr.src] // 2 - gx[tr.dst] // 2)
                                + np.abs(gy[tr.src] // 2 - gy[tr.dst] // 2)))
    assert seq.hops == hops and seq.crossings == cross > 0
    assert seq.cost == pytest.approx(hops + (crossing_weight(target) - 1) * cross)
    assert crossing_weight(target) == 8.0


def test_link_loads_follow_xy_paths():
    # one packet from (0, 0) to (2, 1): E, E at y=0, then N at x=2
    loads = link_loads(np.array([0]), np.array([0]), np.array([2]), np.array([1]),
                       np.array([3.0]), 4, 3)
    assert loads[0, 0, 1] == 3 and loads[0, 1, 1] == 3 and loads[0, 2, 0] == 3
    assert loads.sum() == 9


def test_route_load_total_equals_weighted_hops(tmp_path):
    target = make_target(tmp_path)
    part = partition(random_network(2), target)
    tr = traffic(part)
    pl = place(part, "anneal", seed=1, tr=tr)
    routing = route(part, pl, tr)
    assert routing.loads.sum() == pytest.approx(pl.hops)
    assert routing.host_in == tr.weight[tr.src == part.n_cores].sum() > 0
    # destination axons are ranks within each core
    for k in range(part.n_cores):
        ax = routing.axon[part.pair_core == k]
        np.testing.assert_array_equal(ax, np.arange(len(ax)))


def test_hilbert_order_visits_every_site_once(tmp_path):
    target = make_target(tmp_path, cx=2, cy=1, mx=3, my=3, cpr=2)
    order = hilbert_order(target)
    assert sorted(order.tolist()) == list(range(target.topology.cores))
    sites = Sites.of(target)
    # within a chiplet consecutive routers are mesh neighbours
    r = order[::2]
    same_chip = sites.chiplet[r[1:]] == sites.chiplet[r[:-1]]
    step = np.abs(np.diff(sites.x[r])) + np.abs(np.diff(sites.y[r]))
    assert np.all(step[same_chip] <= 2)
