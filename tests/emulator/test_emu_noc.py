"""NoC traffic mode: zero-load latency equals section 10's formula; saturation near the XY bound."""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.arch.target import load_target
from spikefab.emulator import noc_traffic, zero_load_latency
from spikefab.errors import InputError


def test_zero_load_latency_is_the_formula_for_every_packet():
    t = load_target("darwin3").timing
    res = noc_traffic(mesh=(8, 8), pattern="uniform", rate=0.002, cycles=6000, seed=3)
    assert res.delivered == res.measured > 50
    expected = [zero_load_latency(int(h), 0, t.link_latency, t.chiplet_link_latency)
                for h in res.hops]
    np.testing.assert_array_equal(res.latencies, expected)


def test_zero_load_latency_across_chiplets():
    # 2x2 chiplets of 3x3 routers; a few packets meet a busy chiplet link even at this load, so:
    # never below T0, and T0 exactly for nearly all
    t = load_target("darwin3").timing
    res = noc_traffic(mesh=(3, 3), chiplets=(2, 2), rate=0.001, cycles=20000, seed=1)
    assert res.delivered == res.measured > 200
    t0 = np.array([zero_load_latency(int(a), int(b), t.link_latency, t.chiplet_link_latency)
                   for a, b in zip(res.hops, res.chiplet_hops)])
    assert set(res.chiplet_hops.tolist()) == {0, 1, 2}
    assert (res.latencies >= t0).all()
    assert np.mean(res.latencies == t0) > 0.98


def test_uniform_traffic_saturates_below_the_xy_bound():
    bound = 4 / 8                                   # 4b/k packets/node/cycle, k = 8
    low = noc_traffic(rate=0.1, cycles=3000, seed=2)
    high = noc_traffic(rate=0.6, cycles=3000, seed=2)
    assert low.accepted == pytest.approx(0.1, rel=0.1)
    assert 0.25 < high.accepted < bound
    assert high.avg_latency > 5 * low.avg_latency


@pytest.mark.parametrize("pattern", ["transpose", "hotspot"])
def test_other_patterns(pattern):
    res = noc_traffic(mesh=(4, 4), pattern=pattern, rate=0.05, cycles=2000, seed=0)
    assert res.delivered == res.measured > 0
    assert res.avg_latency >= 2


def test_bad_arguments():
    with pytest.raises(InputError, match="pattern must be one of"):
        noc_traffic(pattern="tornado")
    with pytest.raises(InputError, match="rate must be in"):
        noc_traffic(rate=1.5)
    with pytest.raises(InputError, match="square mesh"):
        noc_traffic(mesh=(4, 2), pattern="transpose")
