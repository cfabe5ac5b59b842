"""The compile driver: the passes of :mod:`spikefab.compiler.pipeline`, timed and verified.

:func:`compile` is the public entry point (``spikefab.compile``).  Every pass runs under a
:class:`~spikefab.compiler.passes.manager.PassManager` that times it, runs its verifier on its
result (a broken invariant is a bug in the compiler, reported as such, never a silently wrong
image), prints its IR when asked (``print_after``), and shows a tqdm progress bar when the
compile takes more than a second.  The optional report collects per-pass timings, per-core
resource use against the target's limits, the front end's quantization report, and the
placement cost (hops, chiplet crossings, largest link load) of the chosen placer and of
``sequential``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection, Mapping, TextIO

import numpy as np

from spikefab.arch.image import Image
from spikefab.arch.target import Target, load_target
from spikefab.compiler.hwnet import HwNetwork
from spikefab.compiler.passes.emit import jsonable
from spikefab.compiler.passes.manager import CompileState, PassManager
from spikefab.compiler.passes.partition import Partition
from spikefab.compiler.passes.place import PLACERS, Placement, Sites, Traffic, sequential_cost, \
    traffic
from spikefab.compiler.passes.route import Routing, route
from spikefab.compiler.pipeline import PASS_NAMES, back_end, front_end
from spikefab.errors import ModelError

__all__ = ["compile", "compile_result", "compile_network", "build_report", "PassManager",
           "CompileResult"]


@dataclass
class CompileResult:
    """Everything the back end produced (the image plus what the report is made of)."""

    image: Image
    net: HwNetwork
    partition: Partition
    placement: Placement
    routing: Routing
    timings: list[dict[str, Any]]
    traffic: Traffic | None = None

    @classmethod
    def of(cls, state: CompileState, pm: PassManager) -> "CompileResult":
        return cls(state.image, state.net, state.partition, state.placement, state.routing,
                   pm.timings, state.traffic)


def _check_options(placer: str, print_after: Collection[str]) -> None:
    if placer not in PLACERS:
        raise ModelError(f"placer must be one of {', '.join(PLACERS)}, not {placer!r}")
    unknown = [p for p in print_after if p != "all" and p not in PASS_NAMES]
    if unknown:
        raise ModelError(f"print_after names no pass: {', '.join(map(repr, unknown))}; the "
                         f"passes are {', '.join(PASS_NAMES)} (or 'all')")


def compile_network(net: HwNetwork, target: Target, *, placer: str = "anneal", seed: int = 0,
                    rates: Mapping[str, Any] | None = None, options: dict[str, Any] | None = None,
                    progress: bool | None = None, print_after: Collection[str] = (),
                    out: TextIO | None = None) -> CompileResult:
    """Back end only: partition, place, route and emit ``net`` for ``target``."""
    _check_options(placer, print_after)
    state = CompileState(model=net, net=net, target=target)
    with PassManager(progress=progress, total=4, print_after=print_after, out=out) as pm:
        back_end(pm, state, placer=placer, seed=seed, rates=rates, options=options)
    return CompileResult.of(state, pm)


def build_report(res: CompileResult) -> dict[str, Any]:
    """The compile report: timings, resources per core, quantization, placement costs."""
    part, target = res.partition, res.partition.target
    use = part.core_usage()
    limits = {k: getattr(target.core, k) for k in use}
    tr = res.traffic if res.traffic is not None else traffic(part)
    seq = sequential_cost(part, tr)
    seq_route = route(part, seq, tr)
    sites = Sites.of(target)
    return jsonable({
        "target": target.name,
        "passes": res.timings,
        "total_seconds": sum(t["seconds"] + t["verify_seconds"] for t in res.timings),
        "network": {"neurons": part.syn.n_neurons, "synapses": int(len(part.syn.src)),
                    "inputs": part.syn.n_channels, "populations": len(part.syn.pop_names)},
        "resources": {
            "cores_used": part.n_cores, "cores_available": target.topology.cores,
            "chiplets_used": int(len(np.unique(sites.chiplet[res.placement.site]))),
            "limits": limits,
            "max": {k: int(v.max()) if len(v) else 0 for k, v in use.items()},
            "per_core": {k: v.tolist() for k, v in use.items()},
        },
        "quantization": res.net.meta.get("quantization"),
        "placement": {
            "chosen": {**res.placement.summary(), **res.routing.summary()},
            "sequential": {**seq.summary(), **seq_route.summary()},
        },
    })


def compile(model_or_path: Any, target: str | Path | Target = "darwin3", dt: float | None = None,
            integrator: str = "euler", reset: str = "zero", placer: str = "anneal",
            seed: int = 0, rates: Mapping[str, Any] | None = None,
            report: dict | str | Path | None = None, progress: bool | None = None) -> Image:
    """Compile a model for a target and return its :class:`~spikefab.arch.image.Image`.

    Parameters
    ----------
    model_or_path:
        A path (``.nir``, ``.sfir``), a front-end graph, or an
        :class:`~spikefab.compiler.hwnet.HwNetwork` / builder ``Network`` (taken as is: no
        lowering or quantization).
    target:
        Target name, profile path or :class:`~spikefab.arch.target.Target`.
    dt, integrator, reset:
        Discretization options of the front end (ignored for an ``HwNetwork``).
    placer, seed:
        ``"anneal"`` (optimizing, seeded) or ``"sequential"``.
    rates:
        Measured spike rates per input/population name (scalar or one per neuron) weighting the
        placement's traffic; uniform if omitted.
    report:
        A dict to fill with the compile report, or a path to write it to as JSON.
    """
    res = compile_result(model_or_path, target, dt=dt, integrator=integrator, reset=reset,
                         placer=placer, seed=seed, rates=rates, progress=progress)
    if report is not None:
        rep = build_report(res)
        if isinstance(report, dict):
            report.update(rep)
        else:
            Path(report).write_text(json.dumps(rep, indent=1))
    return res.image


def compile_result(model_or_path: Any, target: str | Path | Target = "darwin3", *,
                   dt: float | None = None, integrator: str = "euler", reset: str = "zero",
                   placer: str = "anneal", seed: int = 0, rates: Mapping[str, Any] | None = None,
                   progress: bool | None = None, print_after: Collection[str] = (),
                   out: TextIO | None = None) -> CompileResult:
    """:func:`compile`, returning every intermediate result (for reports and ``--emit``).

    ``print_after`` names passes (or ``"all"``) whose output is printed to ``out`` (standard
    output by default) as text IR or a summary.
    """
    tgt = load_target(target)
    _check_options(placer, print_after)
    state = CompileState(model=model_or_path, target=tgt)
    with PassManager(progress=progress, total=8, print_after=print_after, out=out) as pm:
        front_end(pm, state, dt=dt, integrator=integrator, reset=reset)
        options: dict[str, Any] = {}
        if state.graph is not None:              # front-end options shaped this network
            options = {"integrator": integrator, "reset": reset}
            if dt is not None:
                options["dt"] = float(dt)
        back_end(pm, state, placer=placer, seed=seed, rates=rates, options=options)
    return CompileResult.of(state, pm)
