"""Network.connect_sparse: same synapses as the dense connect, checked inputs."""

import numpy as np
import pytest

from spikefab.compiler import LoihiLIF, Network
from spikefab.errors import ModelError


def _net():
    net = Network()
    net.input("x", 5)
    net.population("p", 4, LoihiLIF(vth=10))
    return net


def test_sparse_equals_dense_for_the_same_matrix():
    rng = np.random.default_rng(0)
    w = rng.integers(-300, 300, (4, 5)) * (rng.random((4, 5)) < 0.6)
    dense, sparse = _net(), _net()
    dense.connect("x", "p", w, weight_exp=2, num_weight_bits=6, delay=3)
    post, pre = np.nonzero(w)
    sparse.connect_sparse("x", "p", pre, post, w[post, pre], weight_exp=2, num_weight_bits=6,
                          delay=3)
    a, b = dense.projections[0], sparse.projections[0]
    order_a, order_b = np.lexsort((a.pre, a.post)), np.lexsort((b.pre, b.post))
    for field in ("pre", "post", "weight", "delay"):
        assert np.array_equal(getattr(a, field)[order_a], getattr(b, field)[order_b]), field
    assert a.weight_exp == b.weight_exp == 2
    assert b.name == "x->p"


def test_zero_effective_weights_dropped_and_per_synapse_delays_kept():
    net = _net()
    net.connect_sparse("x", "p", [0, 1, 2], [0, 0, 3], [1, 40, -40], delay=[1, 2, 3])
    proj = net.projections[0]
    assert proj.weight.tolist() == [40, -40]          # 1 truncates to 0 in mixed-sign mode
    assert proj.delay.tolist() == [2, 3]
    net.validate()


@pytest.mark.parametrize("kwargs, message", [
    (dict(pre=[0, 5], post=[0, 0], weights=[1, 1]), r"pre indices must be in \[0, 5\).*not 5"),
    (dict(pre=[0, 1], post=[-1, 0], weights=[1, 1]), r"post indices .* not -1"),
    (dict(pre=[0, 1], post=[0], weights=[1, 1]), "one entry per synapse, not 2, 1, 2"),
    (dict(pre=[0], post=[0], weights=[0.5]), "weights must be integers"),
    (dict(pre=[[0]], post=[0], weights=[1]), "pre must be 1-D"),
    (dict(pre=[0, 1], post=[0, 1], weights=[1, 1], delay=[1, 2, 3]), "delay must be a scalar"),
])
def test_bad_sparse_inputs_are_model_errors(kwargs, message):
    with pytest.raises(ModelError, match=message):
        _net().connect_sparse("x", "p", **kwargs)


def test_sparse_target_must_be_a_population():
    with pytest.raises(ModelError, match="target must be a population"):
        _net().connect_sparse("p", "x", [0], [0], [1])
