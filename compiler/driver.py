"""The compile driver: front end, then partition -> place -> route -> emit, timed and verified.

:func:`compile` is the public entry point (``spikefab.compile``).  Each pass runs under a
:class:`PassManager` that times it, runs the pass's verifier on its result (a broken invariant is
a bug in the compiler, reported as such, never a silently wrong image), and shows a tqdm progress
bar when the compile takes more than a second.  The optional report collects per-pass timings,
per-core resource use against the target's limits, the front end's quantization report, and the
placement cost (hops, chiplet crossings, largest link load) of the chosen placer and of
``sequential``.
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from spikefab.arch.image import Image
from spikefab.arch.target import Target, load_target
from spikefab.arch.validate import check_fits, check_image
from spikefab.compiler.hwnet import HwNetwork
from spikefab.compiler.passes.emit import emit, jsonable
from spikefab.compiler.passes.exponents import merge_weight_exponents
from spikefab.compiler.passes.partition import Partition, partition
from spikefab.compiler.passes.place import (PLACERS, Placement, Sites, Traffic, place,
                                              sequential_cost, traffic)
from spikefab.compiler.passes.route import Routing, route
from spikefab.errors import ModelError, ResourceError

__all__ = ["compile", "compile_result", "compile_network", "build_report", "PassManager",
           "CompileResult"]


@dataclass
class PassManager:
    """Runs named passes in order, timing each and verifying its output."""

    progress: bool | None = None
    total: int = 0
    timings: list[dict[str, Any]] = field(default_factory=list)
    _bar: Any = None

    def __enter__(self) -> "PassManager":
        from tqdm import tqdm
        self._bar = tqdm(total=self.total, desc="compile", unit="pass", delay=1.0,
                         disable=(None if self.progress is None else not self.progress),
                         leave=False)
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.close()

    def run(self, name: str, fn: Callable[..., Any], *args: Any,
            verify: Callable[[Any], None] | None = None, **kwargs: Any) -> Any:
        if self._bar is not None:
            self._bar.set_postfix_str(name)
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        t1 = time.perf_counter()
        if verify is not None:
            verify(out)
        self.timings.append({"pass": name, "seconds": t1 - t0,
                             "verify_seconds": time.perf_counter() - t1})
        if self._bar is not None:
            self._bar.update(1)
        return out


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


def _verify_partition(part: Partition) -> None:
    b = part.bounds
    if b[0] != 0 or b[-1] != part.syn.n_neurons or np.any(np.diff(b) <= 0) and part.n_cores:
        raise AssertionError("partition: core ranges must tile the neurons")
    use = part.core_usage()
    for key, values in use.items():
        if len(values) and values.max() > getattr(part.target.core, key):
            raise AssertionError(f"partition: a core uses {values.max()} {key}")


def _verify_placement(part: Partition, pl: Placement) -> None:
    if len(pl.site) != part.n_cores or len(np.unique(pl.site)) != len(pl.site) or (
            len(pl.site) and (pl.site.min() < 0 or pl.site.max() >= part.target.topology.cores)):
        raise AssertionError("placement: every core needs its own site of the target")


def _verify_routing(part: Partition, routing: Routing) -> None:
    if len(routing.axon) != len(part.pair_core) or (
            len(routing.axon) and routing.axon.max() >= part.target.core.input_axons) or \
            not np.all(np.isfinite(routing.loads)) or (routing.loads < 0).any():
        raise AssertionError("route: axon ids must fit the axon tables and loads be finite")


def _front_end(model: Any, dt: float | None, integrator: str, reset: str) -> HwNetwork:
    if isinstance(model, HwNetwork):
        return model
    from spikefab.compiler.frontends import load_model
    from spikefab.compiler.passes import lower_to_hardware
    graph = load_model(model) if isinstance(model, (str, Path)) else model
    return lower_to_hardware(graph, dt=dt, integrator=integrator, reset=reset)


def _merge_exponents(net: HwNetwork, target: Target, exc: ResourceError) -> HwNetwork:
    """The network with merged weight-exponent classes, if that can help; else re-raise ``exc``.

    Only tried after partitioning failed and when the network uses more distinct exponents than
    a core has accumulator classes (e.g. two layers on the one-class, one-core ice40-up5k).
    """
    classes = target.core.acc_classes
    exps = sorted({p.weight_exp for p in net.projections})
    if len(exps) <= classes:
        raise exc
    merged, mapping = merge_weight_exponents(net, classes)
    try:
        partition(merged, target)
    except ResourceError:
        raise exc from None
    lost = max(new - old for old, new in mapping.items())
    warnings.warn(f"target {target.name}: weight exponents {exps} merged into "
                  f"{sorted(set(mapping.values()))} to fit {classes} accumulator class(es) per "
                  f"core; the projections whose exponent grew lose up to {lost} low mantissa "
                  f"bit(s)", stacklevel=4)
    return merged


def compile_network(net: HwNetwork, target: Target, *, placer: str = "anneal", seed: int = 0,
                    rates: Mapping[str, Any] | None = None, options: dict[str, Any] | None = None,
                    progress: bool | None = None, pm: PassManager | None = None) -> CompileResult:
    """Back end only: partition, place, route and emit ``net`` for ``target``."""
    if placer not in PLACERS:
        raise ModelError(f"placer must be one of {', '.join(PLACERS)}, not {placer!r}")
    own = pm is None
    pm = pm or PassManager(progress=progress, total=4)
    if own:
        pm.__enter__()
    try:
        try:
            part = pm.run("partition", partition, net, target, verify=_verify_partition)
        except ResourceError as exc:
            merged = _merge_exponents(net, target, exc)
            part = pm.run("partition", partition, merged, target, verify=_verify_partition)
            net = merged
        tr = traffic(part, rates)
        pl = pm.run("place", place, part, placer, seed=seed, tr=tr,
                    verify=lambda p: _verify_placement(part, p))
        routing = pm.run("route", route, part, pl, tr,
                         verify=lambda r: _verify_routing(part, r))
        opts = {"placer": placer, "seed": int(seed), **(options or {})}

        def verify_image(img: Image) -> None:
            check_image(img)
            check_fits(img, target)

        image = pm.run("emit", emit, net, part, pl, routing, options=opts, verify=verify_image)
    finally:
        if own:
            pm.__exit__(None, None, None)
    return CompileResult(image, net, part, pl, routing, pm.timings, tr)


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
                   progress: bool | None = None) -> CompileResult:
    """:func:`compile`, returning every intermediate result (for reports and ``--emit``)."""
    tgt = load_target(target)
    with PassManager(progress=progress, total=5) as pm:
        net = pm.run("lower", _front_end, model_or_path, dt, integrator, reset,
                     verify=lambda n: n.validate())
        options: dict[str, Any] = {}
        if not isinstance(model_or_path, HwNetwork):   # front-end options shaped this network
            options = {"integrator": integrator, "reset": reset}
            if dt is not None:
                options["dt"] = float(dt)
        return compile_network(net, tgt, placer=placer, seed=seed, rates=rates,
                               options=options, pm=pm)
