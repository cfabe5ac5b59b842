"""NIR import/export: every paper graph, nested graphs, lenient reading, bad files."""

from __future__ import annotations

import h5py
import nir
import numpy as np
import pytest

from spikefab.compiler import load_model
from spikefab.compiler.frontends import NirCompatWarning, from_nir, to_nir, write_nir
from spikefab.compiler.ir import Graph
from spikefab.errors import ModelError

from .test_text import assert_same_graph


def test_fixture_loads_verifies_and_survives_nir_round_trip(nir_file, tmp_path):
    g = load_model(nir_file)
    assert g.verify()
    assert g.metadata["source"] == nir_file.name
    out = tmp_path / "again.nir"
    write_nir(g, out)
    g2 = load_model(out)
    assert_same_graph(g, g2)
    # and the exported file is the same to nir itself
    a, b = nir.read(nir_file), nir.read(out)
    assert set(a.nodes) == set(b.nodes)
    assert sorted(a.edges) == sorted(b.edges)


def test_fixture_sizes():
    from .conftest import PAPER
    cnn = load_model(PAPER / "cnn_sinabs.nir")
    assert cnn.n_neurons() == 16 * 16 * 16 * 2 + 8 * 8 * 8 + 256 + 10
    braille = load_model(PAPER / "braille_noDelay_bias_zero.nir")
    assert braille.recurrent_edges() == [("lif1.w_rec", "lif1.lif")]
    assert braille.n_neurons() == 38 + 7


def test_nested_graph_is_flattened_with_dotted_names(tmp_path):
    lif = nir.LIF(tau=np.full(3, 0.01), r=np.ones(3), v_leak=np.zeros(3), v_threshold=np.ones(3))
    inner = nir.NIRGraph(
        nodes={"input": nir.Input(input_type=np.array([3])), "lif": lif,
               "w_rec": nir.Linear(weight=np.eye(3)), "output": nir.Output(output_type=np.array([3]))},
        edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")])
    outer = nir.NIRGraph(
        nodes={"x": nir.Input(input_type=np.array([2])), "fc": nir.Linear(weight=np.ones((3, 2))),
               "rnn": inner, "y": nir.Output(output_type=np.array([3]))},
        edges=[("x", "fc"), ("fc", "rnn"), ("rnn", "y")])
    g = from_nir(outer)
    assert set(g.nodes) == {"x", "fc", "rnn.lif", "rnn.w_rec", "y"}
    assert set(g.edges) == {("x", "fc"), ("fc", "rnn.lif"), ("rnn.lif", "rnn.w_rec"),
                            ("rnn.w_rec", "rnn.lif"), ("rnn.lif", "y")}
    assert g.recurrent_edges() == [("rnn.w_rec", "rnn.lif")]
    assert isinstance(load_model(outer), Graph)
    path = tmp_path / "nested.nir"
    nir.write(path, outer)
    assert_same_graph(g, load_model(path))
    # export is flat with the same names and parameters
    back = from_nir(to_nir(g))
    assert_same_graph(g, back)


def test_old_file_is_read_leniently_with_a_warning(tmp_path):
    g = nir.NIRGraph(nodes={"input": nir.Input(input_type=np.array([3])),
                            "a": nir.Linear(weight=np.ones((4, 3))),
                            "n": nir.IF(r=np.ones(4), v_threshold=np.ones(4)),
                            "output": nir.Output(output_type=np.array([2, 2]))},
                     edges=[("input", "a"), ("a", "n"), ("n", "output")], type_check=False)
    path = tmp_path / "old.nir"
    nir.write(path, g)
    with pytest.raises(ValueError):
        nir.read(path)                    # nir itself refuses it strictly
    with pytest.warns(NirCompatWarning, match="read it leniently"):
        graph = load_model(path)
    assert graph.shapes()["output"] == (2, 2)


def test_missing_file(tmp_path):
    with pytest.raises(ModelError, match=r"model file '.*none\.nir' does not exist"):
        load_model(tmp_path / "none.nir")


def test_not_hdf5(tmp_path):
    path = tmp_path / "text.nir"
    path.write_text("hello")
    with pytest.raises(ModelError, match="must be an HDF5 NIR file, but it is not HDF5"):
        load_model(path)


def test_unknown_node_type(tmp_path):
    from .conftest import PAPER
    path = tmp_path / "unknown.nir"
    path.write_bytes((PAPER / "lif_norse.nir").read_bytes())
    with h5py.File(path, "r+") as f:
        del f["node/nodes/1/type"]
        f["node/nodes/1/type"] = b"Spiky"
    with pytest.raises(ModelError, match=r"node '1' has unknown NIR node type 'Spiky'; supported: "):
        load_model(path)


def test_nan_weight_and_shape_mismatch_in_nir(tmp_path):
    def graph(w):
        return nir.NIRGraph(nodes={"input": nir.Input(input_type=np.array([2])),
                                   "a": nir.Linear(weight=w),
                                   "n": nir.IF(r=np.ones(3), v_threshold=np.ones(3)),
                                   "output": nir.Output(output_type=np.array([3]))},
                            edges=[("input", "a"), ("a", "n"), ("n", "output")], type_check=False)
    w = np.ones((3, 2))
    w[0, 0] = np.nan
    nir.write(tmp_path / "nan.nir", graph(w))
    with pytest.raises(ModelError, match="node 'a': parameter weight must be finite"):
        load_model(tmp_path / "nan.nir")
    nir.write(tmp_path / "shape.nir", graph(np.ones((3, 5))))
    with pytest.warns(NirCompatWarning):
        with pytest.raises(ModelError, match=r"node 'a', edge input -> a: Linear input shape must "
                                             r"be \(5,\), not \(2,\)"):
            load_model(tmp_path / "shape.nir")


def test_wrong_model_objects():
    with pytest.raises(ModelError, match="must end in .nir or .sfir"):
        load_model(__file__)
    with pytest.raises(ModelError, match="model must be a .nir/.sfir path"):
        load_model(42)


def test_hwnetwork_passes_through_unchanged():
    import spikefab as sf
    net = sf.Network()
    x = net.input("x", 2)
    p = net.population("p", 2, sf.LoihiLIF(vth=5))
    net.connect(x, p, weights=np.array([[3, 0], [0, 4]]))
    net.output("y", p)
    assert load_model(net) is net


def _one_node_graphs():
    from spikefab.compiler.ir import nodes as ir
    rng = np.random.default_rng(1)
    f = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    pos = lambda *s: rng.uniform(1e-3, 1e-2, s)  # noqa: E731
    return [
        ((3,), ir.Affine(weight=f(2, 3), bias=f(2))), ((3,), ir.Linear(weight=f(2, 3))),
        ((3,), ir.Scale(scale=f(3))),
        ((2, 8), ir.Conv1d(weight=f(4, 1, 3), bias=f(4), stride=2, padding=1, groups=2,
                           input_shape=8)),
        ((2, 5, 5), ir.Conv2d(weight=f(2, 2, 3, 3), bias=f(2), input_shape=(5, 5),
                              dilation=(1, 2), padding=(1, 0))),
        ((2, 4, 4), ir.SumPool2d(kernel_size=(2, 2), stride=(2, 1), padding=(0, 1))),
        ((2, 4, 4), ir.AvgPool2d(kernel_size=2, stride=2)), ((2, 3), ir.Flatten(start_dim=0)),
        ((3,), ir.Delay(delay=pos(3))), ((3,), ir.Threshold(threshold=f(3))),
        ((3,), ir.I(r=f(3))), ((3,), ir.IF(r=f(3), v_threshold=f(3), v_reset=f(3))),
        ((3,), ir.LI(tau=pos(3), r=f(3), v_leak=f(3))),
        ((3,), ir.LIF(tau=pos(3), r=f(3), v_leak=f(3), v_threshold=f(3), v_reset=f(3))),
        ((3,), ir.CubaLI(tau_syn=pos(3), tau_mem=pos(3), r=f(3), v_leak=f(3), w_in=f(3))),
        ((3,), ir.CubaLIF(tau_syn=pos(3), tau_mem=pos(3), r=f(3), v_leak=f(3),
                          v_threshold=f(3), v_reset=f(3), w_in=f(3))),
    ]


@pytest.mark.parametrize("shape, node", _one_node_graphs(),
                         ids=[n.type_name for _, n in _one_node_graphs()])
def test_every_node_type_survives_nir_file_round_trip(shape, node, tmp_path):
    from spikefab.compiler.ir import Input, Output
    g = Graph(metadata={"dt": 1e-4})
    g.add_node("x", Input(shape=shape))
    g.add_node("n", node)
    g.add_node("y", Output(shape=node.output_shape(shape)))
    g.add_edge("x", "n")
    g.add_edge("n", "y")
    write_nir(g, tmp_path / "one.nir")
    back = from_nir(nir.read(tmp_path / "one.nir", type_check=False))
    assert back.metadata["dt"] == 1e-4
    assert back["n"].same_params(node)
