"""Lower: the lowered float network equals the float simulator (hardware timing) exactly."""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.compiler import load_model
from spikefab.compiler.floatsim import simulate
from spikefab.compiler.ir import (IF, LI, LIF, AvgPool2d, Conv1d, Conv2d, CubaLIF, Delay, Flatten,
                                    Graph, Input, Linear, Output, Scale, Threshold, Affine)
from spikefab.compiler.ir.lowered import FloatNeurons, FloatSynapses
from spikefab.compiler.ir.text import parse_graph, print_graph
from spikefab.compiler.passes import LoweredView, lower
from spikefab.errors import ModelError

from .conftest import reset_of


def compare(graph: Graph, dt: float, steps: int, seed: int, reset="zero", integrator="euler",
            rate=0.3):
    net = LoweredView.of(lower(graph, dt, reset=reset, integrator=integrator))
    rng = np.random.default_rng(seed)
    ins = {n: (rng.random((steps, 2, s)) < rate).astype(float) for n, s in net.inputs.items()}
    ref = simulate(graph, ins, dt, reset=reset, integrator=integrator, latency="hardware",
                   record=True)
    out, v = net.simulate(ins, record=True)
    for name in out:
        assert np.array_equal(ref[name] != 0, out[name] != 0) if name not in \
            net.meta.get("voltage_outputs", []) else np.allclose(ref[name], out[name],
                                                                  rtol=1e-9, atol=1e-12)
    for name in v:
        if net.populations[name].kind == "Threshold":
            continue            # memoryless: its recorded v is the input, or 0 after a spike
        assert np.allclose(ref.v[name], v[name], rtol=1e-9, atol=1e-9), name
    return net, ref


def test_fixture_lowered_equals_float_simulator(nir_file):
    g = load_model(nir_file)
    net, ref = compare(g, 1e-4, 30 if "cnn" in nir_file.name else 80, seed=1,
                       reset=reset_of(nir_file))
    if "cnn" not in nir_file.name and "two_lif" not in nir_file.name:
        assert sum(o.sum() for o in ref.outputs.values()) > 0     # the test saw spikes


def test_cnn_lowering_is_exact_sparse_connectivity():
    from .conftest import PAPER
    g = load_model(PAPER / "cnn_sinabs.nir")
    net = LoweredView.of(lower(g, 1e-3))
    assert list(net.populations) == ["1", "3", "6", "10", "12"]
    first = next(p for p in net.projections if p.source == "input")
    # 16 output channels, 16x16 positions, 2x5x5 kernel minus the taps in the padding
    w = g["0"].weight
    assert first.pre.size == np.count_nonzero(
        np.asarray(__import__("spikefab.compiler.passes.lower", fromlist=["x"])
                   .linear_operator(g["0"], (2, 34, 34), (16, 16, 16))[0].toarray()))
    assert np.isclose(np.abs(first.weight).max(), np.abs(w).max())


def synthetic_graph() -> Graph:
    """Conv1d, Scale, Delay, AvgPool2d, Flatten, CubaLIF with a bias, Threshold, a two-population
    loop and an LI voltage output: every lowering rule at once."""
    rng = np.random.default_rng(7)
    g = Graph()
    g.add_node("x", Input(shape=(2, 12)))
    # no bias before the Delay: the lowered network applies constant inputs from step 0, the
    # simulator's Delay starts empty (docs/ir.md)
    g.add_node("c1", Conv1d(weight=rng.normal(0, 0.6, (3, 2, 3)), stride=2, padding=1))
    g.add_node("s", Scale(scale=rng.uniform(0.5, 1.5, (3, 6))))
    g.add_node("d", Delay(delay=rng.integers(0, 3, (3, 6)) * 1e-3))
    g.add_node("a", LIF(tau=np.full((3, 6), 5e-3), r=np.ones((3, 6)), v_leak=np.zeros((3, 6)),
                        v_threshold=np.full((3, 6), 0.05)))
    g.add_node("img", Input(shape=(1, 4, 4)))
    g.add_node("pool", AvgPool2d(kernel_size=2, stride=2))
    g.add_node("c2", Conv2d(weight=rng.normal(0, 1, (2, 1, 1, 1)), bias=np.zeros(2)))
    g.add_node("flat", Flatten(start_dim=0))
    g.add_node("flat2", Flatten(start_dim=0))
    g.add_node("fc", Affine(weight=rng.normal(0, 1, (5, 18)), bias=rng.normal(0.2, .1, 5)))
    g.add_node("fc2", Linear(weight=rng.normal(0, 1, (5, 8))))
    g.add_node("b", CubaLIF(tau_syn=np.full(5, 2e-3), tau_mem=np.full(5, 4e-3), r=np.ones(5),
                            v_leak=np.zeros(5), v_threshold=np.linspace(0.05, 0.1, 5),
                            w_in=np.ones(5)))
    g.add_node("rec_bc", Linear(weight=rng.normal(0.5, 0.2, (4, 5))))
    g.add_node("c", Threshold(threshold=np.full(4, 0.3)))
    g.add_node("rec_cb", Linear(weight=rng.normal(0.3, 0.2, (5, 4))))
    g.add_node("li_in", Linear(weight=rng.normal(0, 1, (3, 4))))
    g.add_node("li", LI(tau=np.full(3, 2e-3), r=np.ones(3), v_leak=np.full(3, 0.1)))
    g.add_node("spikes", Output(shape=(5,)))
    g.add_node("volts", Output(shape=(3,)))
    for e in [("x", "c1"), ("c1", "s"), ("s", "d"), ("d", "a"), ("a", "flat"), ("flat", "fc"),
              ("img", "pool"), ("pool", "c2"), ("c2", "flat2"), ("flat2", "fc2"), ("fc", "b"),
              ("fc2", "b"), ("b", "rec_bc"), ("rec_bc", "c"), ("c", "rec_cb"), ("rec_cb", "b"),
              ("c", "li_in"), ("li_in", "li"), ("b", "spikes"), ("li", "volts")]:
        g.add_edge(*e)
    return g


@pytest.mark.parametrize("integrator", ["euler", "exact"])
@pytest.mark.parametrize("reset", ["zero", "subtract"])
def test_synthetic_graph_lowered_equals_float_simulator(integrator, reset):
    g = synthetic_graph()
    net, ref = compare(g, 1e-3, 60, seed=2, reset=reset, integrator=integrator)
    assert {p.delay for p in net.projections if p.source == "x"} == {0, 1, 2}
    assert net.meta["voltage_outputs"] == ["volts"]
    assert ref["spikes"].sum() > 0 and np.abs(ref["volts"]).sum() > 0
    assert np.any(net.populations["b"].bias_u != 0)       # Affine bias into a current


def test_graded_neuron_cannot_feed_a_neuron():
    g = Graph()
    g.add_node("x", Input(shape=(2,)))
    g.add_node("li", LI(tau=np.ones(2), r=np.ones(2), v_leak=np.zeros(2)))
    g.add_node("w", Linear(weight=np.eye(2)))
    g.add_node("n", IF(r=np.ones(2), v_threshold=np.ones(2)))
    g.add_node("y", Output(shape=(2,)))
    for e in [("x", "li"), ("li", "w"), ("w", "n"), ("n", "y")]:
        g.add_edge(*e)
    with pytest.raises(ModelError, match="node 'li' \\(LI\\) has graded output and feeds 'n'"):
        lower(g, 1e-3)


def test_output_must_read_a_neuron():
    g = Graph()
    g.add_node("x", Input(shape=(2,)))
    g.add_node("w", Linear(weight=np.eye(2)))
    g.add_node("y", Output(shape=(2,)))
    g.add_edge("x", "w")
    g.add_edge("w", "y")
    with pytest.raises(ModelError, match="output 'y' reads x -> w, which ends in no neuron"):
        lower(g, 1e-3)


def test_lowered_network_is_a_graph_that_round_trips_as_text():
    lowered = lower(synthetic_graph(), 1e-3)
    kinds = {type(n).__name__ for n in lowered.nodes.values()}
    assert kinds == {"Input", "FloatNeurons", "FloatSynapses", "Output"}
    assert lowered.verify()
    text = print_graph(lowered)
    again = parse_graph(text)
    assert print_graph(again) == text
    for name, node in lowered.nodes.items():
        assert node.same_params(again[name]), name
    # the graded population reports its voltage and prints no infinite threshold
    graded = [n for n in lowered.nodes.values() if isinstance(n, FloatNeurons) and not n.spiking]
    assert graded and all(np.all(n.vth == 0) for n in graded)
    view = LoweredView.of(again)
    assert view.meta["voltage_outputs"] == ["volts"]
    assert LoweredView.of(view.to_graph()).outputs == view.outputs
    assert sum(isinstance(n, FloatSynapses) for n in lowered.nodes.values()) == \
        len(view.projections)


def test_lowered_view_refuses_a_graph_that_is_not_lowered():
    with pytest.raises(ModelError, match="node 'w' \\(Linear\\) is not lowered"):
        g = Graph()
        g.add_node("x", Input(shape=(2,)))
        g.add_node("w", Linear(weight=np.eye(2)))
        LoweredView.of(g)


def test_lowering_a_lowered_graph_is_an_error_that_says_so():
    with pytest.raises(ModelError, match=r"node '\w+' \(FloatNeurons\) is already lowered"):
        lower(lower(synthetic_graph(), 1e-3), 1e-3)
