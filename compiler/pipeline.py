"""The compiler as named passes: ``load → discretize → lower → quantize → partition → place →
route → emit`` (DESIGN.md section 1), each an object with a ``name`` and one job.

:func:`front_end` is the one place that dispatches on the kind of model: a fixed-point
:class:`HwNetwork` (builder) is taken as is; a hardware graph (text IR of HwNeurons/HwSynapses)
is unpacked into one, exactly; every other graph is discretized, lowered and quantized.  The
:class:`~spikefab.compiler.passes.manager.PassManager` runs the verifier of each pass on its
output, except on an output it has already verified.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from spikefab.arch.target import Target
from spikefab.arch.validate import check_fits
from spikefab.compiler.hwnet import HwNetwork
from spikefab.compiler.ir.graph import Graph
from spikefab.compiler.passes.manager import CompileState, PassManager
from spikefab.errors import ModelError, ResourceError

__all__ = ["Load", "LoadNetwork", "Discretize", "Lower", "Quantize", "Unpack", "Partition", "Place", "Route",
           "Emit", "front_end", "back_end", "lower_to_hardware", "FRONT_PASSES", "BACK_PASSES",
           "PASS_NAMES"]

FRONT_PASSES = ("load", "discretize", "lower", "quantize")
BACK_PASSES = ("partition", "place", "route", "emit")
#: Every pass name ``--print-after`` accepts (``unpack`` replaces discretize/lower/quantize
#: for a hardware graph).
PASS_NAMES = (*FRONT_PASSES, "unpack", *BACK_PASSES)


# ------------------------------------------------------------------------------- front half
#: Time steps a model may state (seconds): a picosecond to a quarter hour; 1e300 is a typo.
MIN_DT, MAX_DT = 1e-12, 1e3


@dataclass
class Load:
    """Read the model (path, ``nir.NIRGraph``, Graph) into the graph IR."""

    name: str = "load"
    produces: str = "graph"

    def run(self, state: CompileState) -> Graph:
        from spikefab.compiler.frontends import read_model
        return read_model(state.model)

    def verify(self, value: Graph, state: CompileState) -> None:
        from spikefab.compiler.frontends import verify_model
        verify_model(value, state.model)


@dataclass
class LoadNetwork:
    """Take a fixed-point :class:`HwNetwork` (builder) as the hardware IR, never re-quantized."""

    name: str = "load"
    produces: str = "net"

    def run(self, state: CompileState) -> HwNetwork:
        return state.model

    def verify(self, value: HwNetwork, state: CompileState) -> None:
        value.validate()


@dataclass
class Discretize:
    """Fix the time step and the rules (integrator, reset) the float graph is discretized with.

    Returns a copy of the graph with ``dt``/``integrator``/``reset`` in its metadata (the same
    nodes and edges, so it is not verified again); each neuron node's ``discretize`` applies
    them in Lower.
    """

    dt: float | None = None
    integrator: str = "euler"
    reset: str = "zero"
    name: str = "discretize"
    produces: str = "graph"

    def run(self, state: CompileState) -> Graph:
        graph = state.graph
        dt = self.dt if self.dt is not None else graph.metadata.get("dt")
        if dt is None:
            raise ModelError("dt must be given: the model states no time step (NIR graphs are "
                             "continuous-time); pass dt=... seconds, e.g. dt=1e-3 (spikefab "
                             "compile --dt 0.001)")
        try:
            dt = float(dt)
        except (TypeError, ValueError):
            raise ModelError(f"dt must be a number of seconds, not {dt!r}") from None
        if not (math.isfinite(dt) and MIN_DT <= dt <= MAX_DT):
            raise ModelError(f"dt must be in [{MIN_DT:g}, {MAX_DT:g}] seconds, not {dt!r}")
        if self.integrator not in ("euler", "exact"):
            raise ModelError(f"integrator must be 'euler' or 'exact', not {self.integrator!r}")
        if self.reset not in ("zero", "subtract"):
            raise ModelError(f"reset must be 'zero' or 'subtract', not {self.reset!r}")
        out = graph.copy()
        out.metadata.update(dt=dt, integrator=self.integrator, reset=self.reset)
        return out

    def verify(self, value: Graph, state: CompileState) -> None:
        value.verify()


@dataclass
class Lower:
    """Cut the graph at neurons and fold linear chains into sparse float projections."""

    name: str = "lower"
    produces: str = "lowered"

    def run(self, state: CompileState) -> Any:
        from spikefab.compiler.passes.lower import lower_shaped
        g = state.graph
        return lower_shaped(g, g.shapes(), g.metadata["dt"], integrator=g.metadata["integrator"],
                            reset=g.metadata["reset"])

    def verify(self, value: Any, state: CompileState) -> None:
        from spikefab.compiler.passes.lower import verify_lowered
        verify_lowered(value)


@dataclass
class Quantize:
    """Turn the float network into Loihi fixed point (the hardware IR)."""

    weight_bits: int = 8
    name: str = "quantize"
    produces: str = "net"

    def run(self, state: CompileState) -> HwNetwork:
        from spikefab.compiler.passes.quantize import quantize_unchecked
        hw = quantize_unchecked(state.lowered, weight_bits=self.weight_bits)
        if state.graph is not None and "source" in state.graph.metadata:
            hw.meta["source"] = str(state.graph.metadata["source"])
        return hw

    def verify(self, value: HwNetwork, state: CompileState) -> None:
        value.validate()


@dataclass
class Unpack:
    """A hardware graph (HwNeurons/HwSynapses) as the :class:`HwNetwork` it states, exactly."""

    name: str = "unpack"
    produces: str = "net"

    def run(self, state: CompileState) -> HwNetwork:
        from spikefab.compiler.ir.hardware import hwnet_from_graph
        return hwnet_from_graph(state.graph, verify=False)

    def verify(self, value: HwNetwork, state: CompileState) -> None:
        value.validate()


def front_end(pm: PassManager, state: CompileState, *, dt: float | None = None,
              integrator: str = "euler", reset: str = "zero", weight_bits: int = 8) -> HwNetwork:
    """Run the front half on ``state.model``; the one place that dispatches on its kind."""
    from spikefab.compiler.ir.hardware import is_hardware_graph
    if not 1 <= weight_bits <= 8:
        raise ModelError(f"weight_bits must be in [1, 8], not {weight_bits}")
    if isinstance(state.model, HwNetwork):            # a builder network: nothing to lower
        return pm.run(LoadNetwork(), state)
    pm.run(Load(), state)
    if is_hardware_graph(state.graph):                # a fixed-point network in text form
        pm.run(Unpack(), state)
    else:
        pm.run_all([Discretize(dt, integrator, reset), Lower(), Quantize(weight_bits)], state)
    return state.net


def lower_to_hardware(graph: Any, *, dt: float | None = None, integrator: str = "euler",
                      reset: str = "zero", weight_bits: int = 8,
                      report: dict | None = None) -> HwNetwork:
    """Lower and quantize a float model into the fixed-point :class:`HwNetwork`.

    Parameters
    ----------
    graph:
        A :class:`~spikefab.compiler.ir.Graph`, anything :func:`load_model` accepts, or an
        :class:`HwNetwork` (returned unchanged: builder networks are never re-quantized).
    dt:
        Time step in seconds; taken from the graph's ``dt`` metadata when not given.
    integrator, reset, weight_bits:
        Discretization rule (``"euler"``/``"exact"``), reset (``"zero"``/``"subtract"``) and
        weight mantissa width (Lava's ``num_weight_bits``).
    report:
        When a dict, receives ``lower_s``/``quantize_s`` timings and the quantization report.

    Raises
    ------
    ModelError
        No dt anywhere, a graph without hardware form, or a layer that goes silent.
    """
    pm = PassManager(progress=False)
    state = CompileState(model=graph)
    hw = front_end(pm, state, dt=dt, integrator=integrator, reset=reset,
                   weight_bits=weight_bits)
    if report is not None and state.lowered is not None:
        secs = {t["pass"]: t["seconds"] for t in pm.timings}
        report.update({"lower_s": secs["lower"], "quantize_s": secs["quantize"],
                       "quantization": hw.meta["quantization"]})
    return hw


# -------------------------------------------------------------------------------- back half
@dataclass
class Partition:
    """Cut the populations into core-sized slices (merging weight exponents if that helps)."""

    name: str = "partition"
    produces: str = "partition"

    def run(self, state: CompileState) -> Any:
        from spikefab.compiler.passes.partition import partition
        try:
            return partition(state.net, state.target)
        except ResourceError as exc:
            state.net = _merge_exponents(state.net, state.target, exc)
            return partition(state.net, state.target)

    def verify(self, part: Any, state: CompileState) -> None:
        b = part.bounds
        if b[0] != 0 or b[-1] != part.syn.n_neurons or np.any(np.diff(b) <= 0) and part.n_cores:
            raise AssertionError("partition: core ranges must tile the neurons")
        for key, values in part.core_usage().items():
            if len(values) and values.max() > getattr(part.target.core, key):
                raise AssertionError(f"partition: a core uses {values.max()} {key}")


def _merge_exponents(net: HwNetwork, target: Target, exc: ResourceError) -> HwNetwork:
    """The network with merged weight-exponent classes, if that can help; else re-raise ``exc``.

    Only tried after partitioning failed and when the network uses more distinct exponents than
    a core has accumulator classes (e.g. two layers on the one-class, one-core ice40-up5k).
    """
    from spikefab.compiler.passes.exponents import merge_weight_exponents
    from spikefab.compiler.passes.partition import partition
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
                  f"bit(s)", stacklevel=7)
    return merged


@dataclass
class Place:
    """Give every core a site of the target, weighting traffic by the given spike rates."""

    placer: str = "anneal"
    seed: int = 0
    rates: Mapping[str, Any] | None = None
    name: str = "place"
    produces: str = "placement"

    def run(self, state: CompileState) -> Any:
        from spikefab.compiler.passes.place import place, traffic
        state.traffic = traffic(state.partition, self.rates)
        return place(state.partition, self.placer, seed=self.seed, tr=state.traffic)

    def verify(self, pl: Any, state: CompileState) -> None:
        part = state.partition
        if len(pl.site) != part.n_cores or len(np.unique(pl.site)) != len(pl.site) or (
                len(pl.site) and (pl.site.min() < 0
                                  or pl.site.max() >= part.target.topology.cores)):
            raise AssertionError("placement: every core needs its own site of the target")


@dataclass
class Route:
    """Assign destination axons and estimate the link loads of the placed cores."""

    name: str = "route"
    produces: str = "routing"

    def run(self, state: CompileState) -> Any:
        from spikefab.compiler.passes.route import route
        return route(state.partition, state.placement, state.traffic)

    def verify(self, routing: Any, state: CompileState) -> None:
        part = state.partition
        axon = routing.axon
        if len(axon) != len(part.pair_core) or (
                len(axon) and axon.max() >= part.target.core.input_axons) or \
                not np.all(np.isfinite(routing.loads)) or (routing.loads < 0).any():
            raise AssertionError("route: axon ids must fit the axon tables and loads be finite")


@dataclass
class Emit:
    """Write the per-core memory contents and the manifest: the Image."""

    options: dict[str, Any] = field(default_factory=dict)
    name: str = "emit"
    produces: str = "image"

    def run(self, state: CompileState) -> Any:
        from spikefab.compiler.passes.emit import emit
        return emit(state.net, state.partition, state.placement, state.routing,
                    options=self.options)

    def verify(self, image: Any, state: CompileState) -> None:
        check_fits(image, state.target)     # runs check_image too: once is enough at wafer scale


def back_end(pm: PassManager, state: CompileState, *, placer: str = "anneal", seed: int = 0,
             rates: Mapping[str, Any] | None = None,
             options: dict[str, Any] | None = None) -> None:
    """Run partition, place, route and emit on ``state.net`` for ``state.target``."""
    opts = {"placer": placer, "seed": int(seed), **(options or {})}
    pm.run_all([Partition(), Place(placer, seed, rates), Route(), Emit(opts)], state)
