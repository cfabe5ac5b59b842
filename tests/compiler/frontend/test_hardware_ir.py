"""Hardware-level nodes: an HwNetwork as a Graph, in text, back to the same HwNetwork."""

from __future__ import annotations

import numpy as np
import pytest

import spikefab as sf
from spikefab.cli import main
from spikefab.compiler import load_model
from spikefab.compiler.floatsim import simulate
from spikefab.compiler.hwsim import simulate as hwsim
from spikefab.compiler.ir.hardware import graph_from_hwnet, hwnet_from_graph
from spikefab.compiler.ir.text import parse_graph, print_graph
from spikefab.compiler.passes import lower, lower_to_hardware
from spikefab.errors import ModelError

from .conftest import PAPER


def builder_net() -> sf.Network:
    net = sf.Network()
    x = net.input("x", 3)
    p = net.population("p", 2, sf.LoihiLIF(du=100, dv=300, vth=50,
                                           bias_mant=np.array([5, -3]), bias_exp=2))
    q = net.population("q", 2, sf.LoihiLIF(du=4095, dv=0, vth=20, reset="subtract"))
    net.connect(x, p, weights=np.array([[120, -60, 30], [0, 90, 90]]), delay=1)
    net.connect(p, q, weights=np.array([[40, 0], [0, 40]]), weight_exp=1)
    net.connect(q, p, weights=np.array([[-30, 0], [0, -30]]))
    net.output("y", q)
    return net


def same_hwnet(a, b):
    assert a.inputs == b.inputs and a.outputs == b.outputs
    assert list(a.populations) == list(b.populations)
    for name in a.populations:
        assert a.populations[name].neuron.profile_key() == b.populations[name].neuron.profile_key()
        assert all(np.array_equal(x, y) for x, y in zip(a.populations[name].bias(),
                                                         b.populations[name].bias()))
    assert [p.name for p in a.projections] == [p.name for p in b.projections]
    for p, q in zip(a.projections, b.projections):
        assert (p.source, p.target, p.weight_exp) == (q.source, q.target, q.weight_exp)
        for k in ("pre", "post", "weight", "delay"):
            assert np.array_equal(getattr(p, k), getattr(q, k))


def test_builder_network_round_trips_through_text(tmp_path):
    net = builder_net()
    text = print_graph(graph_from_hwnet(net))
    path = tmp_path / "net.sfir"
    path.write_text(text)
    graph = load_model(path)
    assert print_graph(graph) == text
    back = lower_to_hardware(graph)            # a hardware graph is passed through, not lowered
    same_hwnet(net, back)
    x = (np.random.default_rng(0).random((30, 3)) < 0.5).astype(np.int64)
    assert np.array_equal(hwsim(net, {"x": x}, 30).outputs["y"],
                          hwsim(back, {"x": x}, 30).outputs["y"])


def test_quantized_fixture_round_trips_through_text():
    hw = lower_to_hardware(load_model(PAPER / "braille_noDelay_bias_zero.nir"), dt=1e-4)
    back = hwnet_from_graph(parse_graph(print_graph(graph_from_hwnet(hw))))
    same_hwnet(hw, back)
    assert back.meta["dt"] == 1e-4


def test_hardware_graph_is_not_a_float_graph():
    g = graph_from_hwnet(builder_net())
    with pytest.raises(ModelError, match="node 'p' \\(HwNeurons\\) is a fixed-point hardware node"):
        simulate(g, {"x": np.zeros((2, 3))}, dt=1e-3)
    with pytest.raises(ModelError, match="is already fixed point"):
        lower(g, 1e-3)
    from spikefab.compiler.frontends import to_nir
    with pytest.raises(ModelError, match="hardware-level node and has no NIR form"):
        to_nir(g)


def test_inspect_shows_hardware_graph(tmp_path, capsys):
    path = tmp_path / "net.sfir"
    path.write_text(print_graph(graph_from_hwnet(builder_net())))
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "4 neurons, 9 synapses (fixed point)" in out
    assert "du=100 dv=300 vth=50" in out
    assert "recurrent edges: q->p -> p" in out


def test_bad_hardware_parameters_are_model_errors():
    with pytest.raises(ModelError, match=r"node 'p': LoihiLIF.du must be an integer in "
                                         r"\[0, 4095\], not 5000"):
        parse_graph("sfir 1\nnode p = HwNeurons(size=2, du=5000)\n")


GOLDEN_LIF = '''sfir 1
meta dt = 0.0001
meta integrator = "euler"
meta reset = "zero"
meta source = "lif_norse.nir"
node input = Input(shape=(1,))
node "1" = HwNeurons(size=1, du=4095, dv=164, vth=81599, bias_mant=i64[](0), bias_exp=i64[](0), reset="zero", refractory=0, theta_inc=0, theta_decay=0)
node "input->1" = HwSynapses(n_pre=1, n_post=1, pre=i64[1](0), post=i64[1](0), weight=i64[1](255), delay=i64[1](0), weight_exp=7)
node output = Output(shape=(1,))
edge input -> "input->1"
edge "1" -> output
edge "input->1" -> "1"
'''


def test_golden_text_of_lower_and_quantize():
    """Pins the whole front end on the NIR paper's LIF (docs/ir.md section 6 explains each number:
    du 4095 = no current memory, dv = round(4096 dt/tau), vth/weight from the scale rule)."""
    hw = lower_to_hardware(load_model(PAPER / "lif_norse.nir"), dt=1e-4)
    assert print_graph(graph_from_hwnet(hw)) == GOLDEN_LIF
