"""``spikefab inspect MODEL [--ir] [--target T --dt S]``: what a model holds, as a table or as
text IR; with ``--target`` also what fixed point does to each layer (the quantization report of
:mod:`spikefab.compiler.quantreport`: float and integer parameters, errors, float-vs-fixed spike
agreement on a seeded sample input)."""

from __future__ import annotations

import argparse

import numpy as np


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspect", help="show a model's nodes, shapes, sizes and parameter ranges")
    p.add_argument("model", help="a .nir or .sfir file")
    p.add_argument("--ir", action="store_true", help="print the text IR (.sfir) instead")
    p.add_argument("--target", "-t", help="also compile for this target and show the "
                                          "quantization report per layer")
    p.add_argument("--dt", type=float, default=None, help="time step in seconds (with --target)")
    p.add_argument("--integrator", default="euler", help="discretization (with --target)")
    p.add_argument("--reset", choices=["zero", "subtract"], default="zero")
    p.add_argument("--steps", type=int, default=100,
                   help="steps of seeded random input for the spike agreement (default 100)")
    p.set_defaults(func=run)


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _param_summary(node) -> str:
    from spikefab.compiler.ir import HwNeurons, HwSynapses

    parts = []
    hardware = isinstance(node, (HwNeurons, HwSynapses))
    for key, value in node.params().items():
        if hardware and key in ("pre", "post", "size", "n_pre", "n_post"):
            continue
        if hardware and isinstance(value, (int, str)):
            parts.append(f"{key}={value}")
        elif isinstance(value, np.ndarray):
            if value.size == 0:
                continue
            lo, hi = float(value.min()), float(value.max())
            parts.append(f"{key}={_fmt(lo)}" if lo == hi else f"{key}=[{_fmt(lo)}, {_fmt(hi)}]")
        elif key in ("stride", "padding", "kernel_size", "dilation") and value is not None:
            parts.append(f"{key}={value}")
        elif key == "groups" and value != 1:
            parts.append(f"groups={value}")
    return " ".join(parts)


def format_table(graph, title: str) -> str:
    """The inspect table of ``graph``."""
    from spikefab.compiler.ir import HwNeurons, HwSynapses
    from spikefab.compiler.ir import nodes as ir
    from spikefab.compiler.ir.hardware import is_hardware_graph
    from spikefab.compiler.passes.lower import linear_operator

    shapes = graph.verify()
    rows = [("node", "type", "shape", "neurons", "synapses", "parameters")]
    n_neurons = n_syn = 0
    for name, node in graph.nodes.items():
        neurons = synapses = ""
        if isinstance(node, (*ir.NEURON_TYPES, HwNeurons)):
            k = int(np.prod(shapes[name]))
            n_neurons += k
            neurons = f"{k:,}"
        elif isinstance(node, HwSynapses):
            k = int(node.weight.size)
            n_syn += k
            synapses = f"{k:,}"
        elif isinstance(node, (ir.Linear, ir.Scale, ir._Conv, ir._Pool)):
            pred = graph.predecessors(name)[0]
            m, _ = linear_operator(node, shapes[pred], shapes[name])
            k = int(m.count_nonzero())
            n_syn += k
            synapses = f"{k:,}"
        shape = "x".join(str(s) for s in shapes[name])
        rows.append((name, node.type_name, shape, neurons, synapses, _param_summary(node)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    hardware = is_hardware_graph(graph)
    lines = [f"{title}: {len(graph)} nodes, {len(graph.edges)} edges, {n_neurons:,} neurons, "
             f"{n_syn:,} synapses ({'fixed point' if hardware else 'before lowering'})"]
    for k, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
        if k == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * len(r[-1]))
    rec = graph.recurrent_edges()
    lines.append("recurrent edges: " + (", ".join(f"{s} -> {d}" for s, d in rec) if rec else "none"))
    if "dt" in graph.metadata:
        lines.append(f"dt: {graph.metadata['dt']} s (from the model)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from spikefab.commands.compile import read_model
    from spikefab.compiler.ir.graph import Graph
    from spikefab.compiler.ir.hardware import graph_from_hwnet
    from spikefab.compiler.ir.text import print_graph

    model = read_model(args.model)
    # a builder script gives its fixed-point network: shown as hardware-level nodes
    graph = model if isinstance(model, Graph) else graph_from_hwnet(model)
    if args.ir:
        print(print_graph(graph), end="")
    else:
        print(format_table(graph, str(args.model)))
    if args.target:
        from spikefab.compiler.driver import compile_result
        from spikefab.compiler.quantreport import format_layer_report, graph_layer_report
        from spikefab.errors import InputError
        if not isinstance(graph, Graph) or not graph.nodes or not any(
                n.type_name in ("LIF", "IF", "LI", "I", "CubaLIF", "CubaLI", "Threshold")
                for n in graph.nodes.values()):
            raise InputError(f"--target needs a float model (.nir or float .sfir) to report its "
                             f"quantization; {args.model} is already fixed point")
        if args.steps < 1:
            raise InputError(f"--steps must be at least 1, not {args.steps}")
        res = compile_result(graph, args.target, dt=args.dt, integrator=args.integrator,
                             reset=args.reset, placer="sequential")
        rows = graph_layer_report(graph, res.net, dt=args.dt, integrator=args.integrator,
                                  reset=args.reset, steps=args.steps)
        print(f"\ntarget {res.partition.target.name}: {res.partition.n_cores} cores")
        print(format_layer_report(rows, args.steps, 0.2))
    return 0
