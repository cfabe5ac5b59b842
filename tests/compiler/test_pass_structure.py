"""The compiler's front half as named passes: who imports whom, and who owns discretization."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from spikefab.compiler.floatsim import simulate
from spikefab.compiler.ir import CubaLIF, Graph, Input, LIF, Linear, Output
from spikefab.compiler.ir import nodes as ir
from spikefab.compiler.passes.lower import LoweredView, lower
from spikefab.compiler.pipeline import BACK_PASSES, FRONT_PASSES
from spikefab.errors import ModelError

COMPILER = Path(__file__).resolve().parents[2] / "compiler"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


@pytest.mark.parametrize("module, forbidden", [
    ("passes/quantize.py", "spikefab.compiler.frontends"),
    ("passes/lower.py", "spikefab.compiler.floatsim"),
    ("passes/decays.py", "spikefab.compiler.floatsim"),
])
def test_passes_do_not_import_the_front_end_or_the_simulator(module, forbidden):
    assert not any(m == forbidden or m.startswith(forbidden + ".")
                   for m in _imports(COMPILER / module))


def test_the_sequence_is_the_one_design_md_names():
    design = (COMPILER.parent / "docs" / "architecture.md").read_text()
    assert " → ".join((*FRONT_PASSES, *BACK_PASSES)) in design
    assert FRONT_PASSES[1:] + BACK_PASSES[:3] == ("discretize", "lower", "quantize",
                                                    "partition", "place", "route")


def test_every_neuron_type_owns_its_discretization():
    for cls in ir.NEURON_TYPES:
        assert "_coefficients" in vars(cls), cls.__name__


def test_lower_and_the_float_simulator_read_the_same_rule():
    node = CubaLIF(tau_syn=np.array([2e-3, 4e-3]), tau_mem=np.array([1e-2, 2e-2]),
                   r=np.array([1.0, 2.0]), v_leak=np.array([0.0, 0.1]),
                   v_threshold=np.array([1.0, 1.0]))
    d = node.discretize(1e-3, "exact", "n")
    assert np.allclose(d.alpha, np.exp(-1e-3 / node.tau_syn))
    assert np.allclose(d.beta, np.exp(-1e-3 / node.tau_mem))
    g = Graph()
    g.add_node("x", Input(shape=(2,)))
    g.add_node("w", Linear(weight=np.eye(2)))
    g.add_node("n", node)
    g.add_node("y", Output(shape=(2,)))
    for a, b in [("x", "w"), ("w", "n"), ("n", "y")]:
        g.add_edge(a, b)
    pop = LoweredView.of(lower(g, 1e-3, integrator="exact")).populations["n"]
    assert np.array_equal(pop.alpha, d.alpha) and np.array_equal(pop.beta, d.beta)
    assert np.array_equal(pop.bias_v, d.bias_v)
    # and both refuse a time constant shorter than the step, naming the node
    bad = LIF(tau=np.array([1e-4]), r=np.ones(1), v_leak=np.zeros(1), v_threshold=np.ones(1))
    g2 = Graph()
    g2.add_node("x", Input(shape=(1,)))
    g2.add_node("bad", bad)
    g2.add_node("y", Output(shape=(1,)))
    g2.add_edge("x", "bad")
    g2.add_edge("bad", "y")
    with pytest.raises(ModelError, match="node 'bad'"):
        lower(g2, 1e-3)
    with pytest.raises(ModelError, match="node 'bad'"):
        simulate(g2, {"x": np.zeros((3, 1))}, 1e-3)
