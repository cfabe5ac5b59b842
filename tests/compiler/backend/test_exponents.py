"""Weight-exponent classes merged when a one-core target has too few accumulators per neuron."""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.compiler import LoihiLIF, Network
from spikefab.compiler.driver import compile_result
from spikefab.compiler.passes.exponents import merge_weight_exponents

from .helpers import assert_same


def two_layers(seed: int = 0) -> Network:
    """input -> a -> b with weight exponents 0 and 2 (different accumulator classes)."""
    rng = np.random.default_rng(seed)
    net = Network()
    net.input("x", 12)
    net.population("a", 20, LoihiLIF(du=300, dv=200, vth=60))
    net.population("b", 10, LoihiLIF(du=100, dv=400, vth=90))
    net.connect("x", "a", weights=rng.integers(-200, 256, (20, 12)))
    net.connect("a", "b", weights=rng.integers(-255, 256, (10, 20)) * (rng.random((10, 20)) < 0.5),
                weight_exp=2)
    net.output("y", "b")
    return net


def test_merge_raises_small_exponents_and_truncates_toward_zero() -> None:
    net = two_layers()
    net.projections[0].weight = np.array([-7, -4, -3, 3, 4, 7] + [0] * (len(net.projections[0].weight) - 6))
    merged, mapping = merge_weight_exponents(net, 1)
    assert mapping == {2: 2, 0: 2}
    assert [p.weight_exp for p in merged.projections] == [2, 2]
    assert list(merged.projections[0].weight[:6]) == [-1, -1, 0, 0, 1, 1]
    assert np.array_equal(merged.projections[1].weight, net.projections[1].weight)
    assert net.projections[0].weight_exp == 0                 # the input network is unchanged
    same, ident = merge_weight_exponents(net, 2)
    assert ident == {0: 0, 2: 2} and same.projections[0].weight is net.projections[0].weight


def test_one_class_target_merges_with_a_warning_and_stays_exact() -> None:
    net = two_layers(1)
    with pytest.warns(UserWarning, match=r"weight exponents \[0, 2\] merged into \[2\] .* lose "
                                         r"up to 2 low mantissa bit"):
        res = compile_result(net, "ice40-up5k", progress=False)
    (core,) = res.image.cores
    assert list(core.acc_exps) == [2]
    # the image is exactly the merged network (bit for bit on the golden model)
    assert assert_same(res.image, res.net, steps=25, seed=1) > 0


def test_targets_with_enough_classes_do_not_merge(recwarn) -> None:
    res = compile_result(two_layers(2), "darwin3", progress=False)
    assert sorted({p.weight_exp for p in res.net.projections}) == [0, 2]
    assert not [w for w in recwarn if "merged" in str(w.message)]
