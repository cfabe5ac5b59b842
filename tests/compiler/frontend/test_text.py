"""Text IR: print -> parse -> print identity, exact parameters, syntax errors with location."""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.compiler import load_model
from spikefab.compiler.ir import NODE_TYPES
from spikefab.compiler.ir.lowered import FloatNeurons, FloatSynapses
from spikefab.compiler.ir.text import parse_graph, print_graph, read_sfir, write_sfir
from spikefab.errors import ModelError

from .test_graph import small_graph


def assert_same_graph(a, b):
    assert list(a.nodes) == list(b.nodes)
    assert a.edges == b.edges
    for name, node in a.nodes.items():
        other = b.nodes[name]
        assert node.same_params(other), name
        for k, v in node.params().items():
            if isinstance(v, np.ndarray):
                assert getattr(other, k).dtype == v.dtype


def test_fixture_round_trip(nir_file, tmp_path):
    g = load_model(nir_file)
    text = print_graph(g)
    g2 = parse_graph(text)
    assert print_graph(g2) == text
    assert_same_graph(g, g2)
    path = tmp_path / "m.sfir"
    write_sfir(g, path)
    assert_same_graph(g, load_model(path))


def test_every_node_type_round_trips():
    from spikefab.compiler import ir
    rng = np.random.default_rng(0)
    f = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    examples = [
        ir.Input(shape=(2, 3)), ir.Output(shape=(4,)), ir.Affine(weight=f(2, 3), bias=f(2)),
        ir.Linear(weight=f(2, 3)), ir.Scale(scale=f(3)),
        ir.Conv1d(weight=f(4, 1, 3), bias=f(4), stride=2, padding="same", groups=2),
        ir.Conv2d(weight=f(2, 2, 3, 3), input_shape=(5, 5), dilation=(1, 2), padding=(1, 0)),
        ir.SumPool2d(kernel_size=(2, 2), stride=(2, 1), padding=(0, 1)),
        ir.AvgPool2d(kernel_size=3, stride=1), ir.Flatten(start_dim=1, end_dim=-1),
        ir.Delay(delay=np.abs(f(3))), ir.Threshold(threshold=f(3)), ir.I(r=f(3)),
        ir.IF(r=f(3), v_threshold=f(3)), ir.LI(tau=f(3), r=f(3), v_leak=f(3)),
        ir.LIF(tau=f(3), r=f(3), v_leak=f(3), v_threshold=f(3), v_reset=f(3)),
        ir.CubaLI(tau_syn=f(3), tau_mem=f(3), r=f(3), v_leak=f(3)),
        ir.CubaLIF(tau_syn=np.array([1e-4, 2.5e-3, 1 / 3]), tau_mem=f(3), r=f(3), v_leak=f(3),
                   v_threshold=f(3), w_in=f(3)),
        ir.HwNeurons(size=3, du=4095, dv=12, vth=1000, bias_mant=np.array([1, -2, 3]),
                     bias_exp=2, reset="subtract"),
        ir.HwSynapses(n_pre=2, n_post=3, pre=[0, 1], post=[2, 0], weight=[-256, 255],
                      delay=[0, 63], weight_exp=-3),
        ir.HwPlasticSynapses(n_pre=1, n_post=1, pre=[0], post=[0], weight=[4], delay=[0],
                             dw="2^-3 * x0 * (y1 + 2)", trace_impulse=[12.5, 0, 3, 0, 0],
                             trace_tau=[8, 0, 4, 0, 0], t_epoch=2, rng_seed=3),
        ir.HwRewardSynapses(n_pre=1, n_post=2, pre=[0, 0], post=[0, 1], weight=[0, 0],
                            delay=[0, 0], reward_for="x->p"),
        FloatNeurons(size=3, kind="CubaLIF", alpha=f(3), beta=0.5, vth=f(3), bias_u=0,
                     bias_v=f(3), v_reset=0, reset="subtract", reports="voltage"),
        FloatSynapses(n_pre=2, n_post=3, pre=[0, 1], post=[2, 0], weight=f(2), delay=2),
    ]
    assert {type(e).__name__ for e in examples} == set(NODE_TYPES)
    from spikefab.compiler.ir import Graph
    g = Graph(metadata={"dt": 1e-4, "note": "all \"types\""})
    for k, node in enumerate(examples):
        g.add_node(f"n{k}" if k % 2 else f"node {k}", node)
    text = print_graph(g)
    g2 = parse_graph(text)
    assert print_graph(g2) == text
    assert g2.metadata == g.metadata
    assert_same_graph(g, g2)


@pytest.mark.parametrize("text, where, expected", [
    ("sfir 1\nnode x = Input(shape=(3,))\nedge x -> \n", "3:8",
     "expected a name or a quoted name, not end of file"),
    ("sfir 1\nnode x = Input(shape=(3,)\n", "2:25", "expected ')' or ',', not end of file"),
    ("sfir 1\nnode x = Input(shape=(3,))\nedge x => y\n", "3:8", "expected '->', not '='"),
    ("sfir 1\nnode x = Input shape=(3,))\n", "2:16", "expected '(', not 'shape'"),
    ("graph\n", "1:1", "expected 'sfir', not 'graph'"),
])
def test_syntax_errors_have_line_column_and_expected(text, where, expected):
    with pytest.raises(ModelError) as info:
        parse_graph(text, source="m.sfir")
    msg = str(info.value)
    assert msg == f"m.sfir:{where}: syntax error: {expected}"
    assert "\n" not in msg


def test_bad_array_value_has_line_column():
    with pytest.raises(ModelError, match=r"^m\.sfir:3:2: array f32\[\.\.\.\] value must be a "
                                         r"float32 number, not '1x'$"):
        parse_graph("sfir 1\nnode s = Scale(scale=f32[2](1.0,\n 1x))\n", source="m.sfir")


def test_semantic_errors_in_text():
    with pytest.raises(ModelError, match=r"node 'x': type must be one of .*, not 'Bogus'"):
        parse_graph("sfir 1\nnode x = Bogus()\n")
    with pytest.raises(ModelError, match=r"array f32\[2\] must hold 2 values, not 1"):
        parse_graph("sfir 1\nnode s = Scale(scale=f32[2](1.0))\n")
    with pytest.raises(ModelError, match="edge a -> b: node 'a' does not exist"):
        parse_graph("sfir 1\nedge a -> b\n")
    with pytest.raises(ModelError, match="sfir version must be 1, not 2"):
        parse_graph("sfir 2\n")


def test_missing_sfir_file(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        read_sfir(tmp_path / "none.sfir")


def test_printed_form_is_readable():
    text = print_graph(small_graph())
    assert "node fc = Affine(weight=f64[4,3](1.0, 1.0" in text
    assert "edge x -> fc" in text
