"""Running a lowered PyNN network: in float, or compiled and run on an emulator or a device.

``mode="float"`` steps the lowered network
(:class:`~spikefab.compiler.passes.lower.LoweredView`) in double precision with the chip's
discrete dynamics and timing (including refractory periods and initial voltages, which the
compiler's float simulator has no notion of): the software-only reference of
a PyCARL-style comparison.  The other modes quantize the same network
(:func:`~spikefab.compiler.passes.quantize`), compile it with the public API, write the initial
voltages into the image's state memory, and call :func:`spikefab.run` (``functional``/``cycle``
emulator, or a device URI).  Either way the outcome is spikes per population and, where asked
for, ``v`` in mV.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from spikefab.arch.neuron import STATE_MAX
from spikefab.errors import InputError
from spikefab.pynn.lowering import Lowered, input_spikes, lower_network, lowered_graph, pop_name

__all__ = ["Outcome", "simulate", "compile_lowered", "run_float"]


@dataclass
class Outcome:
    """One run: spikes and traces keyed by PyNN population index, plus the backend's result."""

    version: int
    steps: int
    spikes: dict[int, np.ndarray]
    traces: dict[tuple[int, str], np.ndarray] = field(default_factory=dict)
    result: Any = None                       # spikefab Result (not in float mode)
    notes: list[str] = field(default_factory=list)


@dataclass
class Compiled:
    """The quantized network and its image (cached per network version)."""

    version: int
    lowered: Lowered
    hw: Any
    image: Any
    v_scale: dict[str, np.ndarray]


def _v_recorded(state) -> set[int]:
    out = set()
    for rec in state.recorders:
        if any(var.name == "v" for var in rec.recorded) and hasattr(rec.population, "_index"):
            out.add(rec.population._index)
    return out


def _lowered(state) -> Lowered:
    cached = state.last_build
    if cached is not None and cached[0] == state.version:
        return cached[1]
    low = lower_network(state)
    state.last_build = (state.version, low)
    return low


def simulate(state, steps: int) -> Outcome:
    """Run the state's network from time 0 for ``steps`` steps in the state's mode."""
    low = _lowered(state)
    inputs = input_spikes(low, steps, state.dt, state.seed)
    want_v = _v_recorded(state)
    if state.mode == "float" and state.device is None:
        spikes, v = run_float(low, inputs, steps, {pop_name(i) for i in want_v})
        traces = {(i, "v"): v[pop_name(i)] + low.v_reset[pop_name(i)] for i in want_v}
        return Outcome(state.version, steps, _by_index(state, spikes), traces, None, low.notes)
    comp = compile_lowered(state, low)
    if state.device is not None and want_v:
        raise InputError("recording 'v' needs the emulator: a device reports spikes only; "
                         "record spikes, or leave device out of setup()")
    import spikefab
    probes = [f"{pop_name(i)}.v" for i in sorted(want_v)]
    mode = "functional" if state.device is not None else state.mode
    result = spikefab.run(comp.image, inputs, steps, mode=mode, probes=probes,
                          device=state.device)
    spikes = {name: result.spikes[name] for name in low.net.outputs}
    traces = {}
    for i in want_v:
        name = pop_name(i)
        traces[(i, "v")] = result.traces[f"{name}.v"] / comp.v_scale[name] + low.v_reset[name]
    return Outcome(state.version, steps, _by_index(state, spikes), traces, result, low.notes)


def _by_index(state, spikes: dict[str, np.ndarray]) -> dict[int, np.ndarray]:
    return {pop._index: np.asarray(spikes[pop_name(pop._index)], np.uint8)
            for pop in state.populations if pop_name(pop._index) in spikes}


def compile_lowered(state, low: Lowered) -> Compiled:
    """Quantize, compile and initialise the image (cached while the network is unchanged)."""
    cached = getattr(state, "compiled", None)
    if cached is not None and cached.version == state.version:
        return cached
    import spikefab
    from spikefab.compiler.hwnet import Population
    from spikefab.compiler.passes import quantize

    hw = quantize(lowered_graph(low))
    hw.outputs = {pop: pop for pop in hw.outputs.values()}       # the image reports populations
    for name, pop in hw.populations.items():
        hw.populations[name] = Population(name, pop.size,
                                          replace(pop.neuron, refractory=low.refractory[name]))
    rows = {r["population"]: r for r in hw.meta["quantization"]["populations"]}
    v_scale = {name: np.broadcast_to(np.asarray(rows[name]["v_scale"], float),
                                     (hw.populations[name].size,))
               for name in hw.populations}
    image = spikefab.compile(hw, target=state.target, placer=state.placer, seed=state.seed)
    for name, spec in image.populations.items():
        v0 = np.clip(np.rint(low.v0[name] * v_scale[name]), -STATE_MAX, STATE_MAX)
        for s in spec["slices"]:
            core = image.cores[int(s["core"])]
            lo, n, start = int(s["offset"]), int(s["count"]), int(s["start"])
            core.state["v"][lo:lo + n] = v0[start:start + n]
    state.compiled = Compiled(state.version, low, hw, image, v_scale)
    return state.compiled


def run_float(low: Lowered, inputs: dict[str, np.ndarray], steps: int,
              record_v: set[str] = frozenset()) -> tuple[dict[str, np.ndarray],
                                                         dict[str, np.ndarray]]:
    """Step the float network; spikes ``(steps, n)`` per population, ``v`` for ``record_v``.

    Same order and timing as the chip (``spikefab.arch.neuron``): current first, then voltage,
    a spike of step ``t`` reaches its targets in step ``t + 1 + delay``; a refractory neuron's
    voltage is frozen while its current keeps integrating.
    """
    net = low.net
    max_d = max([p.delay for p in net.projections], default=0)
    depth = max_d + 2
    hist = {n: np.zeros((depth, net.size_of(n))) for n in [*net.inputs, *net.populations]}
    mats = [(p, sp.csr_matrix((p.weight, (p.post, p.pre)),
                              shape=(net.size_of(p.target), net.size_of(p.source))))
            for p in net.projections]
    pops = list(net.populations.values())
    u = {p.name: np.zeros(p.size) for p in pops}
    v = {p.name: np.asarray(low.v0[p.name], float).copy() for p in pops}
    ref = {p.name: np.zeros(p.size, np.int64) for p in pops}
    spikes = {p.name: np.zeros((steps, p.size), np.uint8) for p in pops}
    traces = {n: np.zeros((steps, net.populations[n].size)) for n in record_v}
    for t in range(steps):
        acc = {p.name: np.zeros(p.size) for p in pops}
        for proj, m in mats:
            src = hist[proj.source][(t - 1 - proj.delay) % depth]
            if src.any():
                acc[proj.target] += m @ src
        for p in pops:
            n = p.name
            u[n] = p.alpha * u[n] + acc[n] + p.bias_u
            frozen = ref[n] > 0
            v[n] = np.where(frozen, v[n], p.beta * v[n] + u[n] + p.bias_v)
            z = ~frozen & (v[n] > p.vth)
            v[n][z] = 0.0
            ref[n] = np.where(frozen, ref[n] - 1, np.where(z, low.refractory[n], 0))
            hist[n][t % depth] = z
            spikes[n][t] = z
            if n in traces:
                traces[n][t] = v[n]
        for n in net.inputs:
            hist[n][t % depth] = inputs[n][t]
    return spikes, traces
