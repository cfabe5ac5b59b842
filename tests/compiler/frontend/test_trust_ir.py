"""Hostile models refused with a ModelError before any lowering (#15)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from spikefab.compiler import load_model
from spikefab.compiler.ir import nodes as N
from spikefab.compiler.ir.hardware import HwSynapses
from spikefab.compiler.passes import lower_to_hardware
from spikefab.errors import ModelError


@pytest.mark.parametrize("make", [
    lambda: N.Conv2d(weight=np.ones((1, 1, 2, 2)), stride=0),
    lambda: N.Conv2d(weight=np.ones((1, 1, 2, 2)), dilation=0),
    lambda: N.Conv2d(weight=np.ones((1, 1, 2, 2)), padding=-1),
    lambda: N.SumPool2d(kernel_size=2, stride=0),
    lambda: N.AvgPool2d(kernel_size=0),
], ids=["conv-stride", "conv-dilation", "conv-padding", "pool-stride", "pool-kernel"])
def test_zero_strides_and_kernels(make):
    with pytest.raises(ModelError, match=">= "):
        make()


def test_flatten_of_dimensions_that_do_not_exist():
    with pytest.raises(ModelError, match="must name dimensions of its 2-D input"):
        N.Flatten(start_dim=3, end_dim=5).output_shape((2, 3))
    assert N.Flatten(start_dim=-2, end_dim=-1).output_shape((2, 3)) == (6,)


def test_huge_input_refused_at_construction():
    with pytest.raises(ModelError, match="1,000,000,000,000 elements"):
        N.Input(shape=(10 ** 12,))
    with pytest.raises(ModelError, match="positive sizes"):
        N.Input(shape=(0,))


def test_float_weights_in_hw_synapses_are_not_truncated():
    with pytest.raises(ModelError, match="HwSynapses weight must be integers.*1.7"):
        HwSynapses(n_pre=2, n_post=2, pre=[0], post=[1], weight=[1.7], delay=[0])
    ok = HwSynapses(n_pre=2, n_post=2, pre=[0], post=[1], weight=[3.0], delay=[0])
    assert ok.weight.tolist() == [3]


def test_absurd_dt_is_refused():
    from spikefab.compiler.ir.graph import Graph
    graph = Graph(metadata={"dt": 1e300})
    graph.add_node("x", N.Input(shape=(2,)))
    graph.add_node("w", N.Linear(weight=np.eye(2)))
    graph.add_node("l", N.LIF(tau=np.full(2, 0.01), r=np.ones(2), v_leak=np.zeros(2),
                              v_threshold=np.ones(2)))
    graph.add_node("y", N.Output(shape=(2,)))
    for a, b in (("x", "w"), ("w", "l"), ("l", "y")):
        graph.add_edge(a, b)
    with pytest.raises(ModelError, match=r"dt must be in \[1e-12, 1000\] seconds"):
        lower_to_hardware(graph)


def test_nir_with_corrupted_node_type(tmp_path):
    path = tmp_path / "bad.nir"
    with h5py.File(path, "w") as f:
        node = f.create_group("node")
        node.create_dataset("type", data=np.void(b"\xff\xfeNIRGraph"))
    with pytest.raises(ModelError, match=str(path)):
        load_model(path)
