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


def _user_line(path: Path, exc: BaseException) -> str:
    """``FILE:LINE`` of the innermost frame of the user's own script in ``exc``'s traceback."""
    import traceback
    target = str(path.resolve())
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if str(Path(frame.filename).resolve()) == target:
            line = frame.lineno
    return f"{path}:{line}" if line else str(path)


def read_model(path: str | Path) -> Any:
    """The model a command was given: a builder script's ``HwNetwork`` (``.py``) or the graph of
    a NIR / ``.sfir`` file (one place, so that every command accepts both, docs/cli.md)."""
    path = Path(path)
    if path.suffix == ".py":
        return load_builder_script(path)
    from spikefab.compiler import load_model
    return load_model(path)


def load_builder_script(path: Path) -> Any:
    """Run a builder script and return its ``net`` (or ``build()``).

    Errors in the user's script are :class:`ModelError` naming the script's own file and line.
    """
    from spikefab.errors import SpikefabError
    if not path.is_file():
        raise ModelError(f"model file {str(path)!r} does not exist", where=str(path))
    try:
        ns = runpy.run_path(str(path))
        net = ns["build"]() if callable(ns.get("build")) else ns.get("net")
    except SyntaxError as exc:
        raise ModelError(f"{exc.filename or path}:{exc.lineno}: syntax error in the builder "
                         f"script: {exc.msg}", where=str(path)) from None
    except OSError as exc:
        raise ModelError(f"model file {str(path)!r} cannot be read: {exc.strerror}") from None
    except SystemExit as exc:      # sys.exit() in the script: exit 0 wrote no image before
        raise ModelError(f"{path}: the builder script called sys.exit({exc.code!r}) before "
                         f"defining 'net' or 'build()'; a builder script must not exit",
                         where=str(path)) from None
    except SpikefabError as exc:
        raise type(exc)(f"{_user_line(path, exc)}: {exc}", where=str(path)) from None
    except Exception as exc:  # noqa: BLE001 - the user's code may raise anything
        raise ModelError(f"{_user_line(path, exc)}: the builder script raised "
                         f"{type(exc).__name__}: {exc}", where=str(path)) from None
    from spikefab.compiler.hwnet import HwNetwork
    if not isinstance(net, HwNetwork):
        raise ModelError(f"{path}: a builder script must define 'net' (a spikefab.Network) or "
                         f"'build()' returning one, not {type(net).__name__}")
    if not net.outputs:     # the API allows it (probes read populations); a compiled file can't
        raise ModelError(f"{path}: the network has no output (inputs: "
                         f"{sorted(net.inputs) or 'none'}): nothing the compiled image computes "
                         f"could be read back; add one with net.output(name, population)",
                         where=str(path))
    return net


def _read_rates(path: str) -> dict[str, Any]:
    """The ``--rates`` file: a JSON object name -> a rate or a list of rates (finite, >= 0)."""
    import math
    try:
        rates = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"--rates {path!r} must be a readable JSON object: {exc}") from None
    if not isinstance(rates, dict):
        raise ModelError(f"--rates {path!r} must hold a JSON object, not "
                         f"{type(rates).__name__}")
    for name, value in rates.items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or v < 0:
                raise ModelError(f"--rates {path!r}: rate of {name!r} must be a non-negative "
                                 f"number or a list of them, not {v!r}", where=path)
    return rates


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
    from spikefab.commands._args import check_output_file
    from spikefab.compiler.ir.graph import Graph
    from spikefab.compiler.passes.emit import jsonable
    path = Path(args.model)
    if not args.output and not args.emit and not args.report and not args.print_after:
        raise ModelError("compile needs -o IMAGE (or --emit / --report / --print-after), none "
                         "given")
    check_output_file(args.output, ".sfi")
    check_output_file(args.report, ".json", "--report")
    rates = _read_rates(args.rates) if args.rates else None
    model = read_model(path)
    if args.emit == "ir":
        from spikefab.compiler.passes.printing import format_ir
        # a builder network prints as hardware-level nodes (HwNeurons/HwSynapses)
        print(format_ir(model), end="")
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
