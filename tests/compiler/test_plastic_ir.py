"""Plastic projections in the text IR: print, parse, compile to the same image."""

from __future__ import annotations

import numpy as np
import pytest

import spikefab as sf
from spikefab.compiler.ir.hardware import HwPlasticSynapses, graph_from_hwnet, hwnet_from_graph
from spikefab.compiler.ir.text import parse_graph, print_graph
from spikefab.errors import ModelError


def plastic_net() -> sf.Network:
    net = sf.Network()
    net.input("x", 3)
    net.population("p", 2, sf.LoihiLIF(du=1024, dv=512, vth=60))
    rule = sf.LearningRule(dw="2^-2 * x0 * (y1 - 3) + y0 * x1 * sgn(w)", dt="u1 * t",
                           x1=sf.TraceConfig(12.5, 9), y1=sf.TraceConfig(20, 5), t_epoch=3,
                           rng_seed=7, name="mine")
    net.connect("x", "p", np.array([[10, 20, 30], [40, 50, 60]]), learning=rule)
    net.connect("p", "p", np.array([[0, -50], [-50, 0]]))
    net.output("y", "p")
    return net


def test_text_round_trip_and_same_image():
    net = plastic_net()
    text = print_graph(graph_from_hwnet(net))
    assert 'HwPlasticSynapses(' in text and 'dw="2^-2 * x0 * (y1 - 3) + y0 * x1 * sgn(w)"' in text
    assert text.count("HwSynapses(") == 1                       # the static projection
    again = hwnet_from_graph(parse_graph(text))
    assert print_graph(graph_from_hwnet(again)) == text
    assert sf.compile(again, "loihi1").to_bytes() == sf.compile(net, "loihi1").to_bytes()


def test_bad_rule_in_text_is_a_model_error():
    text = print_graph(graph_from_hwnet(plastic_net())).replace('dt="u1 * t"', 'dt="t * w"')
    with pytest.raises(ModelError, match="needs a dependency"):
        parse_graph(text)


def test_node_checks_trace_lengths():
    with pytest.raises(ModelError, match="trace_impulse and trace_tau must have 5 entries"):
        HwPlasticSynapses(n_pre=1, n_post=1, pre=[0], post=[0], weight=[2], delay=[0], dw="x0",
                          trace_tau=[1, 2])
