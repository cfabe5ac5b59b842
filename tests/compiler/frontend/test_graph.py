"""Graph IR: construction, shape inference, recurrence and the verifier's errors."""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.compiler.ir import IF, LIF, Affine, Conv2d, Flatten, Graph, Input, Linear, Output, \
    SumPool2d
from spikefab.errors import ModelError


def small_graph(w=None) -> Graph:
    g = Graph()
    g.add_node("x", Input(shape=(3,)))
    g.add_node("fc", Affine(weight=np.ones((4, 3)) if w is None else w, bias=np.zeros(4)))
    g.add_node("lif", LIF(tau=np.full(4, 0.01), r=np.ones(4), v_leak=np.zeros(4),
                          v_threshold=np.ones(4)))
    g.add_node("y", Output(shape=(4,)))
    for e in [("x", "fc"), ("fc", "lif"), ("lif", "y")]:
        g.add_edge(*e)
    return g


def test_shapes_of_conv_pool_flatten_chain():
    g = Graph()
    g.add_node("x", Input(shape=(2, 9, 9)))
    g.add_node("c", Conv2d(weight=np.ones((4, 2, 3, 3)), stride=2, padding=1))
    g.add_node("p", SumPool2d(kernel_size=2, stride=2))
    g.add_node("f", Flatten(start_dim=0))
    g.add_node("n", IF(r=np.ones(16), v_threshold=np.ones(16)))
    g.add_node("y", Output(shape=(16,)))
    for e in [("x", "c"), ("c", "p"), ("p", "f"), ("f", "n"), ("n", "y")]:
        g.add_edge(*e)
    shapes = g.verify()
    assert shapes["c"] == (4, 5, 5) and shapes["p"] == (4, 2, 2) and shapes["f"] == (16,)
    assert g.n_neurons() == 16


def test_recurrent_edge_is_found_and_allowed():
    g = small_graph()
    g.add_node("rec", Linear(weight=np.eye(4)))
    g.add_edge("lif", "rec")
    g.add_edge("rec", "lif")
    g.verify()
    assert g.recurrent_edges() == [("rec", "lif")]


def test_shape_mismatch_names_node_and_edge():
    with pytest.raises(ModelError, match=r"node 'fc', edge x -> fc: Affine input shape must be "
                                         r"\(2,\), not \(3,\)"):
        small_graph(w=np.ones((4, 2))).verify()


def test_nan_weights_are_rejected():
    w = np.ones((4, 3))
    w[1, 2] = np.nan
    with pytest.raises(ModelError, match=r"node 'fc': parameter weight must be finite, not "
                                         r"NaN/inf \(1 of 12 values\)"):
        small_graph(w=w).verify()


def test_dangling_node_and_missing_edge_end():
    g = small_graph()
    g.add_node("extra", Linear(weight=np.ones((2, 4))))
    g.add_edge("lif", "extra")
    with pytest.raises(ModelError, match="node 'extra' \\(Linear\\) is dangling"):
        g.verify()
    with pytest.raises(ModelError, match="edge lif -> nowhere: node 'nowhere' does not exist"):
        g.add_edge("lif", "nowhere")


def test_negative_time_constant_and_duplicate_name():
    g = small_graph()
    with pytest.raises(ModelError, match="defined twice"):
        g.add_node("fc", Linear(weight=np.ones((1, 1))))
    bad = Graph()
    bad.add_node("x", Input(shape=(1,)))
    bad.add_node("n", LIF(tau=np.array([-1.0]), r=np.ones(1), v_leak=np.zeros(1),
                          v_threshold=np.ones(1)))
    bad.add_node("y", Output(shape=(1,)))
    bad.add_edge("x", "n")
    bad.add_edge("n", "y")
    with pytest.raises(ModelError, match="tau must be > 0 seconds, not -1"):
        bad.verify()


def test_neuron_parameters_must_share_a_shape():
    with pytest.raises(ModelError, match="LIF parameters must share one shape"):
        LIF(tau=np.ones(3), r=np.ones(2), v_leak=np.zeros(3), v_threshold=np.ones(3))


def test_affine_reads_a_multidimensional_input_flattened():
    from spikefab.compiler.floatsim import simulate
    from spikefab.compiler.passes import lower
    from spikefab.compiler.passes.lower import simulate_lowered
    g = Graph()
    g.add_node("x", Input(shape=(2, 3, 2)))
    g.add_node("f", Flatten(start_dim=1))                  # batch-counting exporter: (2, 6)
    g.add_node("fc", Affine(weight=np.arange(24.0).reshape(2, 12) / 50, bias=np.zeros(2)))
    g.add_node("n", IF(r=np.ones(2), v_threshold=np.ones(2)))
    g.add_node("y", Output(shape=(2,)))
    for e in [("x", "f"), ("f", "fc"), ("fc", "n"), ("n", "y")]:
        g.add_edge(*e)
    assert g.verify()["f"] == (2, 6)
    x = np.ones((3, 12))
    r = simulate(g, {"x": x}, dt=1e-3, latency="hardware", record=True)
    # step 1 integrates all 12 inputs of each row: 66/50 and 210/50, both above threshold 1
    assert r["y"][1].tolist() == [1.0, 1.0] and r["y"][0].tolist() == [0.0, 0.0]
    out, _ = simulate_lowered(lower(g, 1e-3), {"x": x})
    assert np.array_equal(out["y"], r["y"])
    with pytest.raises(ModelError, match=r"Affine input shape must be \(12,\), not \(2, 5\)"):
        Affine(weight=np.ones((2, 12))).output_shape((2, 5))
