"""`spikefab compile --print-after PASS`: the pass manager prints each pass's IR on request, runs
the verifier between passes, and does not verify an unchanged graph twice."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from spikefab.arch.image import load_image
from spikefab.cli import main
from spikefab.compiler.driver import compile_result
from spikefab.compiler.ir import IF, LIF, Affine, Graph, Input, Output
from spikefab.compiler.ir.graph import Graph as GraphClass
from spikefab.compiler.ir.text import parse_graph, print_graph, write_sfir
from spikefab.compiler.passes.manager import CompileState, PassManager

ROOT = Path(__file__).resolve().parents[2]
HEADER = re.compile(r"^; --- IR after (\w+) ---$", re.M)


def _float_model(path: Path) -> Path:
    """Input(3) -> Affine -> LIF(4) -> Affine -> IF(2) -> Output, as a text-IR file."""
    rng = np.random.default_rng(1)
    g = Graph({"dt": 1e-3})
    g.add_node("x", Input(shape=(3,)))
    g.add_node("w1", Affine(weight=rng.uniform(0.2, 1.0, (4, 3)), bias=np.zeros(4)))
    g.add_node("h", LIF(tau=np.full(4, 0.02), r=np.ones(4), v_leak=np.zeros(4),
                        v_threshold=np.full(4, 0.5)))
    g.add_node("w2", Affine(weight=rng.uniform(0.2, 1.0, (2, 4)), bias=np.zeros(2)))
    g.add_node("o", IF(r=np.ones(2), v_threshold=np.ones(2)))
    g.add_node("y", Output(shape=(2,)))
    for a, b in [("x", "w1"), ("w1", "h"), ("h", "w2"), ("w2", "o"), ("o", "y")]:
        g.add_edge(a, b)
    write_sfir(g, path)
    return path


def _sections(text: str) -> dict[str, str]:
    parts = HEADER.split(text)
    return dict(zip(parts[1::2], (p.lstrip("\n") for p in parts[2::2])))


def test_print_after_all_shows_every_pass_of_a_float_model_in_order(tmp_path, capsys):
    model = _float_model(tmp_path / "net.sfir")
    assert main(["compile", str(model), "--target", "loihi1", "--print-after", "all",
                 "-o", str(tmp_path / "net.sfi")]) == 0
    out = capsys.readouterr().out
    assert HEADER.findall(out) == ["load", "discretize", "lower", "quantize", "partition",
                                   "place", "route", "emit"]
    sec = _sections(out)
    # discretize fixes the step and the rules in the graph's metadata; load shows none of them
    assert 'meta integrator = "euler"' in sec["discretize"]
    assert "integrator" not in sec["load"]
    # lower prints the lowered graph: float populations and projections, as re-parseable text
    assert 'node h = FloatNeurons(size=4, kind="LIF"' in sec["lower"]
    assert 'edge "x->h" -> h' in sec["lower"]
    assert print_graph(parse_graph(sec["lower"])) == sec["lower"]
    assert "HwNeurons" in sec["quantize"] and "LIF(" not in sec["quantize"]
    assert sec["partition"].startswith("target loihi1: 1 core(s)")


def test_printed_hardware_ir_compiles_to_the_same_image(tmp_path, capsys):
    model = _float_model(tmp_path / "net.sfir")
    assert main(["compile", str(model), "--target", "loihi1", "--print-after", "quantize",
                 "--placer", "sequential", "-o", str(tmp_path / "a.sfi")]) == 0
    out = capsys.readouterr().out
    assert HEADER.findall(out) == ["quantize"]
    hw_text = _sections(out)["quantize"]
    assert print_graph(parse_graph(hw_text)) == hw_text
    (tmp_path / "hw.sfir").write_text(hw_text)
    assert main(["compile", str(tmp_path / "hw.sfir"), "--target", "loihi1", "--print-after",
                 "all", "--placer", "sequential", "-o", str(tmp_path / "b.sfi")]) == 0
    # a hardware graph is unpacked, never discretized, lowered or quantized again
    assert HEADER.findall(capsys.readouterr().out) == ["load", "unpack", "partition", "place",
                                                       "route", "emit"]
    a, b = load_image(tmp_path / "a.sfi"), load_image(tmp_path / "b.sfi")
    assert len(a.cores) == len(b.cores) > 0
    for ca, cb in zip(a.cores, b.cores):
        for key, table in ca.tables().items():
            assert np.array_equal(table, cb.tables()[key]), key


def test_builder_network_skips_the_front_passes(capsys):
    assert main(["compile", str(ROOT / "examples" / "hello_builder.py"), "--target", "loihi1",
                 "--print-after", "load", "--print-after", "route"]) == 0
    out = capsys.readouterr().out
    assert HEADER.findall(out) == ["load", "route"]
    assert "HwNeurons" in _sections(out)["load"]
    assert '"max_link_load"' in _sections(out)["route"]


def test_unknown_pass_is_an_error_that_lists_the_passes(tmp_path, capsys):
    model = _float_model(tmp_path / "net.sfir")
    assert main(["compile", str(model), "--print-after", "optimize"]) == 2
    err = capsys.readouterr().err
    assert "'optimize'" in err and "discretize" in err and "partition" in err


def test_an_unchanged_graph_is_verified_once(tmp_path, monkeypatch):
    model = _float_model(tmp_path / "net.sfir")
    calls = []
    original = GraphClass.verify

    def counting(self):
        calls.append(self)
        return original(self)

    monkeypatch.setattr(GraphClass, "verify", counting)
    res = compile_result(str(model), "loihi1", placer="sequential", progress=False)
    # load verifies the model and lower verifies its new graph; discretize's copy of the model
    # is not re-verified: each graph once
    assert len(calls) == len({id(g) for g in calls}) == 2
    assert "FloatNeurons" in {n.type_name for n in calls[1].nodes.values()}
    assert [t["pass"] for t in res.timings] == ["load", "discretize", "lower", "quantize",
                                                "partition", "place", "route", "emit"]
    # a hardware graph: load verifies it, unpack does not verify it again
    from spikefab.compiler.ir.hardware import graph_from_hwnet
    write_sfir(graph_from_hwnet(res.net), tmp_path / "hw.sfir")
    calls.clear()
    again = compile_result(str(tmp_path / "hw.sfir"), "loihi1", placer="sequential",
                           progress=False)
    assert len(calls) == 1
    assert [t["pass"] for t in again.timings] == ["load", "unpack", "partition", "place",
                                                  "route", "emit"]


class _Broken:
    """A pass whose output breaks its own invariant."""

    name, produces = "broken", "net"

    def run(self, state):
        return "not a network"

    def verify(self, value, state):
        raise AssertionError("broken: the output must be a network")


class _After:
    name, produces = "after", "image"

    def run(self, state):
        raise RuntimeError("a pass after a failed verifier must not run")

    def verify(self, value, state):
        pass


def test_the_verifier_runs_between_passes():
    with pytest.raises(AssertionError, match="broken: the output"):
        PassManager(progress=False).run_all([_Broken(), _After()], CompileState())
