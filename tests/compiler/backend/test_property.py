"""Property: any random network on any small target compiles to an image equal to the network."""

from __future__ import annotations

import tempfile

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from spikefab.arch.validate import check_fits
from spikefab.compiler import compile
from spikefab.errors import ResourceError

from .helpers import assert_same, make_target, random_network


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), neurons=st.integers(3, 10), cpr=st.integers(1, 3),
       mesh=st.integers(2, 3), synapses=st.integers(60, 200), axons=st.integers(30, 80),
       placer=st.sampled_from(["anneal", "sequential"]))
def test_random_network_on_random_target(seed, neurons, cpr, mesh, synapses, axons, placer):
    with tempfile.TemporaryDirectory() as tmp:
        target = make_target(tmp, neurons=neurons, cpr=cpr, mx=mesh, my=mesh, synapses=synapses,
                             axons=axons, routes=64, classes=3)
    net = random_network(seed, n_pops=3, size=(4, 14), density=0.3, exps=(-2, -1, 0, 1))
    try:
        image = compile(net, target, placer=placer, seed=seed)
    except ResourceError as exc:       # the random target can be too small as a whole
        assume("network needs" not in str(exc))
        raise
    check_fits(image, target)
    assert_same(image, net, steps=20, seed=seed)
