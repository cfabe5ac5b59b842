"""Outside-in audit of text IR and NIR inputs: each case was a traceback, a silent choice or an
unbounded allocation before; now a one-line ModelError naming file, line or node."""

from __future__ import annotations

import h5py
import nir
import numpy as np
import pytest

from spikefab.cli import main
from spikefab.compiler import load_model
from spikefab.compiler.ir.text import parse_graph
from spikefab.errors import ModelError

HEAD = "sfir 1\nmeta dt = 0.0001\n"
NET = ('node input = Input(shape=(1,))\n'
       'node d = Delay(delay=f32[1]({delay}))\n'
       'node "1" = LIF(tau=f32[1](0.0025), r=f32[1](1.0), v_leak=f32[1](0.0), '
       'v_threshold=f32[1](0.1), v_reset=f32[1](0.0))\n'
       'node output = Output(shape=(1,))\n'
       'edge input -> d\nedge d -> "1"\nedge "1" -> output\n')


@pytest.mark.parametrize("name, match", [
    ('"a\x00b"', r"m.sfir:3:8: quoted string must be JSON text \(invalid control character"),
    ('"a\\qb"', r"m.sfir:3:8: quoted string must be JSON text \(invalid \\escape"),
])
def test_quoted_names_that_are_not_json_strings(name: str, match: str) -> None:
    with pytest.raises(ModelError, match=match):
        parse_graph(HEAD + f"node {name} = Input(shape=(1,))\n", source="m.sfir")


def test_a_meta_key_given_twice_is_refused_not_overwritten() -> None:
    with pytest.raises(ModelError, match="m.sfir: meta dt is defined twice"):
        parse_graph(HEAD + "meta dt = 0.001\n" + NET.format(delay=0.0), source="m.sfir")


def test_non_numeric_parameters_name_the_value() -> None:
    text = HEAD + NET.format(delay=0.0).replace("tau=f32[1](0.0025)", 'tau="fast"')
    with pytest.raises(ModelError, match=r"node '1': parameters must be numbers .* not 'fast'"):
        parse_graph(text, source="m.sfir")


def test_a_delay_of_more_steps_than_an_int_holds_names_the_node(tmp_path, capsys) -> None:
    path = tmp_path / "m.sfir"
    path.write_text(HEAD + NET.format(delay="1e30"))
    assert main(["compile", str(path), "--target", "loihi1", "-o",
                 str(tmp_path / "m.sfi")]) == 2
    err = capsys.readouterr().err
    assert "node 'd': Delay delay must be at most 2147483647 steps" in err
    assert "9223372036854775808" not in err


def test_a_nir_file_declaring_arrays_beyond_memory_is_refused_before_reading(tmp_path,
                                                                            monkeypatch) -> None:
    n = 2
    graph = nir.NIRGraph(nodes={
        "input": nir.Input(input_type=np.array([n])),
        "fc": nir.Affine(weight=np.ones((n, n)), bias=np.zeros(n)),
        "lif": nir.LIF(tau=np.full(n, 0.0025), r=np.ones(n), v_leak=np.zeros(n),
                       v_threshold=np.full(n, 0.1), v_reset=np.zeros(n)),
        "output": nir.Output(output_type=np.array([n]))},
        edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")])
    path = tmp_path / "big.nir"
    nir.write(path, graph)
    assert load_model(path) is not None
    with h5py.File(path, "r+") as f:      # unwritten: a few bytes on disk, 75 GiB once read
        del f["node/nodes/fc/weight"]
        f.create_dataset("node/nodes/fc/weight", shape=(100_000, 100_000), dtype="f8")
    assert path.stat().st_size < 1 << 20
    monkeypatch.setenv("SPIKEFAB_MAX_RUN_BYTES", str(1 << 30))
    with pytest.raises(ModelError, match=r"arrays need 76,294 MiB once read \(largest: "
                                         r"'node/nodes/fc/weight'"):
        load_model(path)


@pytest.mark.parametrize("kwargs", [
    dict(delay=10 ** 20),                                     # was OverflowError
    dict(delay="x"),                                          # was ValueError
    dict(delay=1.5),
    dict(weights=np.array([[{}, {}], [{}, {}]], dtype=object)),   # was TypeError (isfinite)
])
def test_builder_connect_refuses_what_is_no_integer(kwargs) -> None:
    import spikefab as sf
    net = sf.Network()
    net.input("x", 2)
    net.population("lif", 2, sf.LoihiLIF(du=2048, dv=256, vth=10))
    args = {"weights": np.full((2, 2), 100), **kwargs}
    with pytest.raises(ModelError, match=r"connect 'x' -> 'lif': (delay|weights) must be"):
        net.connect("x", "lif", **args)


def test_builder_connect_sparse_refuses_text_delays() -> None:
    import spikefab as sf
    net = sf.Network()
    net.input("x", 2)
    net.population("lif", 2, sf.LoihiLIF(du=2048, dv=256, vth=10))
    with pytest.raises(ModelError, match="delay must be whole steps"):
        net.connect_sparse("x", "lif", [0, 1], [1, 0], [50, 60], delay=np.array(["a", "b"]))


HW = ('sfir 1\nnode input = Input(shape=(1,))\n'
      'node p = HwNeurons(size={size}, du={du}, dv=300, vth=50, bias_mant=i64[](0), '
      'bias_exp=i64[](0), reset="zero", refractory={ref}, theta_inc=0, theta_decay=0)\n'
      'node "x->p" = HwSynapses(n_pre=1, n_post={n_post}, pre=i64[2](0, 0), post=i64[2](0, 1), '
      'weight=i64[2](100, 100), delay=i64[2](0, 0), weight_exp={wexp})\n'
      'node output = Output(shape=({size},))\n'
      'edge input -> "x->p"\nedge "x->p" -> p\nedge p -> output\n')


@pytest.mark.parametrize("field, value", [("du", "1.5"), ("ref", "2.5"), ("wexp", "0.5"),
                                          ("du", "nan"), ("ref", "1e30")])
def test_hardware_ir_fractions_are_refused_not_truncated(field: str, value: str) -> None:
    """``du=1.5`` compiled as du 1 (``int()`` truncation) before."""
    args = dict(size=2, n_post=2, du=100, ref=0, wexp=0)
    args[field] = value
    with pytest.raises(ModelError, match=r"must be an integer, not"):
        parse_graph(HW.format(**args), source="m.sfir")
    args[field] = {"du": 100, "ref": 0, "wexp": 0}[field]
    assert parse_graph(HW.format(**args), source="m.sfir") is not None


def test_more_neurons_than_the_target_holds_is_refused_before_partitioning(tmp_path,
                                                                          capsys) -> None:
    path = tmp_path / "big.sfir"
    path.write_text(HW.format(size=60_000_000, n_post=60_000_000, du=100, ref=0, wexp=0))
    assert main(["compile", str(path), "--target", "loihi1", "-o",
                 str(tmp_path / "big.sfi")]) == 2
    assert ("network needs 58594 cores or more for 60,000,000 neurons, target loihi1 has "
            "128 cores") in capsys.readouterr().err


def _plastic_text() -> str:
    import spikefab as sf
    from spikefab.compiler.ir.hardware import graph_from_hwnet
    from spikefab.compiler.ir.text import print_graph
    net = sf.Network()
    net.input("x", 2)
    net.population("p", 2, sf.LoihiLIF(du=1024, dv=512, vth=60))
    rule = sf.LearningRule(dw="x0 * y1", x1=sf.TraceConfig(12.5, 9),
                           y1=sf.TraceConfig(20, 5), t_epoch=3, rng_seed=7)
    net.connect("x", "p", np.array([[10, 20], [40, 50]]), learning=rule)
    net.output("y", "p")
    return print_graph(graph_from_hwnet(net))


@pytest.mark.parametrize("old, new, match", [
    ('dw="x0 * y1"', "dw=5", r"bad parameters: AttributeError"),     # was a lark VisitError
    ("rng_seed=7", "rng_seed=-7", r"rng_seed must be -1 \(none\) or 0..2\^32-1, not -7"),
])
def test_plastic_text_ir_bad_values(old: str, new: str, match: str) -> None:
    text = _plastic_text()
    assert old in text
    with pytest.raises(ModelError, match=match):
        parse_graph(text.replace(old, new), source="m.sfir")
