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

import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from spikefab.arch.neuron import STATE_MAX
from spikefab.errors import InputError, ModelError, SpikefabError
from spikefab.pynn.lowering import (SOURCES, Lowered, input_spikes, lower_network, lowered_graph,
                                    pop_name, pynn_names)

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
    #: plastic float projection -> nA per weight mantissa step, per synapse
    units: dict[str, np.ndarray] = field(default_factory=dict)


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


def check_run_size(state, tstop: float) -> int:
    """The step count of a run to ``tstop`` ms, refused (``InputError``/``ResourceError``)
    before anything is allocated when it is not a finite time, exceeds the step limit, or its
    per-step arrays (host input, Poisson draws, spikes, recorded ``v``) exceed the run memory
    budget (``SPIKEFAB_MAX_RUN_BYTES``)."""
    from spikefab.arch.result import MAX_STEPS
    from spikefab.arch.validate import run_budget
    from spikefab.errors import ResourceError
    steps = tstop / state.dt
    if not np.isfinite(steps) or not 0 <= round(steps) <= MAX_STEPS:
        raise InputError(f"run: the end time must be a finite time in [0, "
                         f"{MAX_STEPS * state.dt:g}] ms ({MAX_STEPS} steps of {state.dt:g} ms), "
                         f"not {tstop!r} ms")
    steps = int(round(steps))
    sources = sum(p.size for p in state.populations if type(p.celltype).__name__ in SOURCES)
    cells = sum(p.size for p in state.populations) - sources
    recorded = sum(p.size for p in state.populations if p._index in _v_recorded(state))
    need = steps * (9 * sources + cells + 16 * recorded)
    if need > run_budget():
        raise ResourceError(f"run: {steps} steps of {sources + cells} PyNN cells need "
                            f"{need / 2**20:.0f} MiB for inputs, spikes and recorded v; "
                            f"{run_budget() / 2**20:.0f} MiB are available "
                            f"(SPIKEFAB_MAX_RUN_BYTES); run shorter or record less", where="run")
    return steps


def simulate(state, steps: int) -> Outcome:
    """Run the state's network from time 0 for ``steps`` steps in the state's mode."""
    low = _lowered(state)
    inputs = input_spikes(low, steps, state.dt, state.seed)
    want_v = _v_recorded(state)
    if not low.net.populations:                 # spike sources only: nothing to compile
        return Outcome(state.version, steps, _by_index(state, inputs), {}, None, low.notes)
    if state.mode == "float" and state.device is None:
        if low.plastic:
            raise InputError("setup(mode='float') runs no learning engine: STDP projections "
                             "need mode 'functional' or 'cycle' (or a device)")
        spikes, v = run_float(low, inputs, steps, {pop_name(i) for i in want_v})
        traces = {(i, "v"): v[pop_name(i)] + low.v_reset[pop_name(i)] for i in want_v}
        return Outcome(state.version, steps, _by_index(state, {**inputs, **spikes}), traces, None,
                       low.notes)
    comp = compile_lowered(state, low)
    if state.device is not None and want_v:
        raise InputError("recording 'v' needs the emulator: a device reports spikes only; "
                         "record spikes, or leave device out of setup()")
    import spikefab
    probes = [f"{pop_name(i)}.v" for i in sorted(want_v)]
    mode = "functional" if state.device is not None else state.mode
    result = _on_every_rank(spikefab.run(comp.image, inputs, steps, mode=mode, probes=probes,
                                         device=state.device))
    spikes = {name: result.spikes[name] for name in low.net.outputs}
    _learned_weights(low, comp, result.weights)
    traces = {}
    for i in want_v:
        name = pop_name(i)
        traces[(i, "v")] = result.traces[f"{name}.v"] / comp.v_scale[name] + low.v_reset[name]
        _warn_floor(state, i, result.traces[f"{name}.v"], comp.v_scale[name], low.v_reset[name])
    return Outcome(state.version, steps, _by_index(state, {**inputs, **spikes}), traces, result,
                   low.notes)


class VoltageFloorWarning(UserWarning):
    """A recorded ``v`` sat at the chip's 24-bit floor: strong inhibition drove it lower than
    the state holds at this population's voltage scale, and the chip clamps there (as Loihi's
    bit-accurate model does) while the float model goes on down."""


def _warn_floor(state, index: int, raw: np.ndarray, scale: np.ndarray, v_reset) -> None:
    """Warn when the recorded chip voltage touched ``-(2^23 - 1)``.

    The quantizer leaves the threshold plus one step's largest drive below the reset, not
    room for sustained inhibition: giving every inhibited network that room would cost
    voltage resolution and change images that never reach the floor, so a run that does
    reach it is told instead (spikes after it may come earlier than in ``mode='float'``).
    """
    hit = np.nonzero(raw <= -STATE_MAX)
    if not len(hit[0]):
        return
    pop = state.populations[index]
    step, cell = int(hit[0][0]), int(hit[1][0])
    floor = float(-STATE_MAX / np.broadcast_to(scale, raw.shape[1:])[cell]
                  + np.broadcast_to(v_reset, raw.shape[1:])[cell])
    warnings.warn(f"population {pop.label!r}: v of cell {cell} reached the chip's 24-bit floor "
                  f"({floor:.4g} mV at this population's voltage scale) at "
                  f"{(step + 1) * state.dt:g} ms: the chip clamps there (as Loihi does), the "
                  f"float model goes lower, so later spikes may come earlier than in "
                  f"mode='float'; weaker inhibition or a higher v_thresh - v_reset gives room",
                  VoltageFloorWarning, stacklevel=2)


def _on_every_rank(result):
    """Under ``mpirun`` the emulator runs over the ranks and only rank 0 gets the Result; the
    PyNN script runs on every rank (each holds every cell: ``num_processes()`` stays 1, PyNN
    writes files on rank 0), so rank 0's Result is broadcast to all."""
    from spikefab.emulator.distributed.comm import launched_ranks
    if launched_ranks()[1] <= 1:
        return result
    from mpi4py import MPI
    return MPI.COMM_WORLD.bcast(result, root=0)


def _by_index(state, spikes: dict[str, np.ndarray]) -> dict[int, np.ndarray]:
    """Spikes per PyNN population index: cell populations' outputs and the spike sources'
    host input (what a recorded ``SpikeSourceArray``/``SpikeSourcePoisson`` emitted)."""
    return {pop._index: np.asarray(spikes[pop_name(pop._index)], np.uint8)
            for pop in state.populations if pop_name(pop._index) in spikes}


def compile_lowered(state, low: Lowered) -> Compiled:
    """Quantize, compile and initialise the image (cached while the network is unchanged)."""
    cached = getattr(state, "compiled", None)
    if cached is not None and cached.version == state.version:
        return cached
    try:
        hw, units, reports = quantize_plastic(state, low)
        image = _compile(state, low, hw)
    except SpikefabError as exc:          # name the script's populations, not p0, p1, ...
        raise type(exc)(pynn_names(str(exc), state), where=exc.where) from None
    rows = {r["population"]: r for r in hw.meta["quantization"]["populations"]}
    v_scale = {name: np.broadcast_to(np.asarray(rows[name]["v_scale"], float),
                                     (hw.populations[name].size,))
               for name in hw.populations}
    for name, spec in image.populations.items():
        v0 = np.rint(low.v0[name] * v_scale[name])
        if np.abs(v0).max(initial=0) > STATE_MAX:
            _refuse_initial_v(state, low, name, v_scale[name])
        for s in spec["slices"]:
            core = image.cores[int(s["core"])]
            lo, n, start = int(s["offset"]), int(s["count"]), int(s["start"])
            core.state["v"][lo:lo + n] = v0[start:start + n]
    state.compiled = Compiled(state.version, low, hw, image, v_scale, units)
    for proj in {id(p.projection): p.projection for p in low.plastic.values()}.values():
        proj.stdp_reports = [r for n, r in reports.items() if low.plastic[n].projection is proj]
    return state.compiled


def _compile(state, low: Lowered, hw):
    """The image of the quantized network, each population with its refractory period."""
    import spikefab
    from spikefab.compiler.hwnet import Population
    hw.outputs = {pop: pop for pop in hw.outputs.values()}       # the image reports populations
    for name, pop in hw.populations.items():
        hw.populations[name] = Population(name, pop.size,
                                          replace(pop.neuron, refractory=low.refractory[name]))
    return spikefab.compile(hw, target=state.target, placer=state.placer, seed=state.seed)


def _refuse_initial_v(state, low: Lowered, name: str, scale: np.ndarray) -> None:
    """An initial ``v`` beyond the 24-bit state at the population's voltage scale would be
    clipped, silently changing the run (a ``v`` above threshold would not spike), so it is a
    ``ModelError`` naming the range the state holds."""
    pop = state.populations[int(name[1:])]
    lo = float(np.max(-STATE_MAX / scale + low.v_reset[name]))
    hi = float(np.min(STATE_MAX / scale + low.v_reset[name]))
    v = low.v0[name] + low.v_reset[name]
    raise ModelError(f"population {pop.label!r}: initial v must lie in [{lo:.4g}, {hi:.4g}] mV "
                     f"(the chip's 24-bit voltage state at this population's scale, "
                     f"v_thresh - v_reset at the top of the 17-bit threshold), not "
                     f"{v.min():g}..{v.max():g} mV", where=pop.label)


def _learned_weights(low: Lowered, comp: Compiled, weights: dict[str, np.ndarray]) -> None:
    """Hand the learned weights (nA) to each STDP projection, one per PyNN connection."""
    for proj in {id(p.projection): p.projection for p in low.plastic.values()}.values():
        proj.learned = np.asarray(proj._weight, float).copy()
    for name, part in low.plastic.items():
        fp = next(p for p in low.net.projections if p.name == name)
        mant = np.asarray(weights[name])[fp.post, fp.pre]
        part.projection.learned[part.index] = mant * comp.units[name]


def quantize_plastic(state, low: Lowered):
    """``quantize`` the network with STDP ``w_max`` landing on the top weight mantissa.

    A first pass finds each plastic target's voltage scale and the weight exponent of ``w_max``;
    the scale is then capped so that ``w_max`` is mantissa 255 (one exponent lower, so the scale
    shrinks by at most 2) and the network is quantized again.  The plastic projections are then
    replaced by learning projections holding every connection (a zero weight may grow) with
    their initial weights as mantissas.  Returns ``(hw, units, reports)``."""
    from spikefab.compiler.hwnet import Projection
    from spikefab.compiler.passes import quantize
    from spikefab.pynn.plasticity import W_TOP, spec_of, stdp_rule, uniform_parameters

    hw = quantize(lowered_graph(low))
    if not low.plastic:
        return hw, {}, {}
    fps = {p.name: p for p in low.net.projections}
    caps: dict[str, float] = {}
    for name, part in low.plastic.items():
        fp, where = fps[name], f"projection {part.projection.label!r}"
        s = _uniform_scale(hw, fp.target, where)
        if np.ptp(part.gain) > 1e-12 * np.max(part.gain):
            raise ModelError(f"{where}: the target's tau_syn_E and cm must be the same for "
                             f"all its neurons (one weight unit per plastic projection)",
                             where=where)
        e = _weight_exp(hw, name)
        q = fp.weight[0] * s / 64.0 / 2.0 ** e
        cap = s if abs(q - W_TOP) < 1e-9 else 64.0 * W_TOP * 2.0 ** (e - 1) / fp.weight[0]
        if fp.target in caps and abs(caps[fp.target] - cap) > 1e-9 * cap:
            raise ModelError(f"{where}: every STDP projection into population "
                             f"{fp.target!r} must have the same w_max (one voltage scale puts "
                             f"w_max on the top weight mantissa)", where=where)
        caps[fp.target] = cap
    net = replace(low.net, meta={**low.net.meta, "scale_cap": caps})
    hw = quantize(lowered_graph(replace(low, net=net)))
    units, reports = {}, {}
    for name, part in low.plastic.items():
        fp, proj = fps[name], part.projection
        where = f"projection {proj.label!r}"
        s, e = _uniform_scale(hw, fp.target, where), _weight_exp(hw, name)
        w_units = fp.weight[0] * s / 64.0 / 2.0 ** e
        if int(round(w_units)) != W_TOP:
            raise ModelError(f"{where}: w_max lands on weight mantissa {w_units:.1f}, needed "
                             f"{W_TOP}: the target's threshold is too coarse for it (scale "
                             f"{s:.4g}); raise w_max or lower v_thresh - v_reset", where=where)
        unit = 64.0 * 2.0 ** e / (s * part.gain)
        params = uniform_parameters(proj.stdp_columns(), where)
        if np.any(part.weight > params["w_max"]) or np.any(part.weight < params["w_min"]):
            raise ModelError(f"{where}: initial weights must lie in [w_min, w_max] = "
                             f"[{params['w_min']:g}, {params['w_max']:g}] nA, not "
                             f"{part.weight.min():g}..{part.weight.max():g}", where=where)
        rule, rep = stdp_rule(spec_of(proj.synapse_type, params, where), state.dt,
                              part.delay_ms, float(unit[0]), w_units, state.seed, where,
                              label=proj.label)
        mant = np.clip(np.rint(part.weight / unit), 0, W_TOP).astype(np.int64)
        hw.projections = [Projection(name, fp.source, fp.target, pre=fp.pre, post=fp.post,
                                     weight=mant, delay=fp.delay, weight_exp=e, learning=rule)
                          if p.name == name else p for p in hw.projections]
        units[name], reports[name] = unit, rep
        low.notes.append(rep.note())
    return hw, units, reports


def _uniform_scale(hw, target: str, where: str) -> float:
    row = next(r for r in hw.meta["quantization"]["populations"] if r["population"] == target)
    if isinstance(row["v_scale"], list):
        raise ModelError(f"{where}: the target population's v_thresh - v_reset must be the "
                         f"same for all its neurons (one weight unit per plastic projection)",
                         where=where)
    return float(row["v_scale"])


def _weight_exp(hw, name: str) -> int:
    return int(next(r for r in hw.meta["quantization"]["projections"]
                    if r["projection"] == name)["weight_exp"])


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
