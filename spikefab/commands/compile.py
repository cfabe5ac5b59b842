"""``spikefab compile MODEL --target T -o net.sfi``: compile a model into a hardware image.

MODEL is a ``.nir`` or ``.sfir`` file (front end: load, lower, quantize), or a Python builder
script (``.py``) that defines ``net`` (a :class:`spikefab.Network`) or a function ``build()``
returning one.  ``--rates`` weights the placement's traffic by measured spike rates (JSON object
name -> rate); ``--report`` writes per-pass timings, resource use per core, the quantization
report and the placement cost of the chosen placer and of ``sequential`` as JSON; ``--emit ir``
prints the model's graph IR, ``--emit placement`` the core map, both on standard output;
``--print-after PASS`` (repeatable, or ``all``) prints the IR after that pass.
"""

from __future__ import annotations

import argparse
import json
import runpy
from pathlib import Path
from typing import Any

from spikefab.errors import ModelError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compile", help="compile a model (.nir, .sfir, builder .py) to an image")
    p.add_argument("model", metavar="MODEL", help="model file: .nir, .sfir or a builder .py")
    p.add_argument("--target", "-t", default="darwin3", help="target name or profile .toml")
    p.add_argument("-o", "--output", help="image file to write (.sfi)")
    p.add_argument("--dt", type=float, default=None, help="time step in seconds (front end)")
    p.add_argument("--integrator", default="euler", help="discretization of the front end")
    p.add_argument("--reset", choices=["zero", "subtract"], default="zero")
    p.add_argument("--placer", choices=["anneal", "sequential"], default="anneal")
    p.add_argument("--seed", type=int, default=0, help="seed of the placer")
    p.add_argument("--rates", help="JSON file: spike rate per input/population name (a number or "
                                   "one per neuron) weighting the placement's traffic")
    p.add_argument("--report", help="write the compile report (JSON) here")
    p.add_argument("--emit", choices=["ir", "placement"], help="also print the IR or placement")
    p.add_argument("--print-after", action="append", default=[], metavar="PASS",
                   help="print the IR after this pass (load, discretize, lower, quantize, unpack, "
                        "partition, place, route, emit, or all); repeatable")
    p.set_defaults(func=run)


def load_builder_script(path: Path) -> Any:
    """Run a builder script and return its ``net`` (or ``build()``)."""
    try:
        ns = runpy.run_path(str(path))
    except OSError as exc:
        raise ModelError(f"model file {str(path)!r} cannot be read: {exc.strerror}") from None
    from spikefab.compiler.hwnet import HwNetwork
    net = ns["build"]() if callable(ns.get("build")) else ns.get("net")
    if not isinstance(net, HwNetwork):
        raise ModelError(f"{path}: a builder script must define 'net' (a spikefab.Network) or "
                         f"'build()' returning one, not {type(net).__name__}")
    return net


def format_placement(res) -> str:
    """One line per core: index, address, neurons, tables, population slices."""
    from spikefab.compiler.passes.place import Sites
    part = res.partition
    sites = Sites.of(part.target)
    use = part.core_usage()
    pops: dict[int, list[str]] = {}
    for name, spec in res.image.populations.items():
        for s in spec["slices"]:
            pops.setdefault(int(s["core"]), []).append(
                f"{name}[{s['start']}:{s['start'] + s['count']}]")
    lines = ["core  chiplet   x   y slot  neurons synapses axons routes  slices"]
    for k in range(part.n_cores):
        st = int(res.placement.site[k])
        lines.append(f"{k:4d} {int(sites.chiplet[st]):8d} {int(sites.x[st]):3d} "
                     f"{int(sites.y[st]):3d} {int(sites.slot[st]):4d} {int(use['neurons'][k]):8d} "
                     f"{int(use['synapses'][k]):8d} {int(use['input_axons'][k]):5d} "
                     f"{int(use['route_entries'][k]):6d}  {' '.join(pops.get(k, []))}")
    pl = res.placement
    lines.append(f"placer {pl.placer} seed {pl.seed}: spike-weighted hops {pl.hops:g}, chiplet "
                 f"crossings {pl.crossings:g}, cost {pl.cost:g}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from spikefab.compiler.driver import build_report, compile_result
    from spikefab.compiler.ir.graph import Graph
    from spikefab.compiler.passes.emit import jsonable
    path = Path(args.model)
    if not args.output and not args.emit and not args.report and not args.print_after:
        raise ModelError("compile needs -o IMAGE (or --emit / --report / --print-after), none "
                         "given")
    if path.suffix == ".py":
        model: Any = load_builder_script(path)
    else:
        try:
            from spikefab.compiler import load_model
        except ImportError:
            raise ModelError(f"{path}: reading {path.suffix or 'this'} models needs the "
                             f"compiler front end (spikefab.compiler.load_model), which is "
                             f"missing") from None
        model = load_model(path)
    if args.emit == "ir":
        from spikefab.compiler.passes.printing import format_ir
        # a builder network prints as hardware-level nodes (HwNeurons/HwSynapses)
        print(format_ir(model), end="")
    rates = None
    if args.rates:
        try:
            rates = json.loads(Path(args.rates).read_text())
        except (OSError, ValueError) as exc:
            raise ModelError(f"--rates {args.rates!r} must be a readable JSON object: {exc}") \
                from None
        if not isinstance(rates, dict):
            raise ModelError(f"--rates {args.rates!r} must hold a JSON object, not "
                             f"{type(rates).__name__}")
    res = compile_result(model, args.target, dt=args.dt, integrator=args.integrator,
                         reset=args.reset, placer=args.placer, seed=args.seed, rates=rates,
                         print_after=args.print_after)
    if args.output:
        res.image.save(args.output)
    if args.report:
        rep = build_report(res)
        if isinstance(model, Graph):             # a float model: what quantization did per layer
            from spikefab.compiler.quantreport import graph_layer_report
            rep.setdefault("quantization", {})["layers"] = jsonable(graph_layer_report(
                model, res.net, dt=args.dt, integrator=args.integrator, reset=args.reset))
        Path(args.report).write_text(json.dumps(rep, indent=1))
    if args.emit == "placement":
        print(format_placement(res))
    pl = res.placement
    total = sum(t["seconds"] for t in res.timings)
    if args.output:
        import sys
        print(f"wrote {args.output}: {len(res.image.cores)} cores, placement cost {pl.cost:g} "
              f"({pl.placer}), {total:.2f} s", file=sys.stderr)
    return 0
