"""Lowering: a PyNN network (PyNN units) becomes the chip's discrete float network.

The compiler's lowered graph (:mod:`spikefab.compiler.ir.lowered`, read through
:class:`~spikefab.compiler.passes.lower.LoweredView`) is the hardware structure with float
numbers; quantizing it (:func:`~spikefab.compiler.passes.quantize`) gives the
fixed-point network every target runs.  So a PyNN network only has to be written in that form::

    u <- alpha u + sum_proj W s(t - 1 - delay)          (synaptic current, in mV per step)
    v <- beta v + u + bias_v ;  spike if v > vth ;  v <- 0, frozen for R steps

with voltages measured from ``v_reset`` (the chip resets to 0).  For ``IF_curr_exp``
(``tau_m dV/dt = v_rest - V + R (I_syn + i_offset)``, ``R = tau_m / cm``, ``I_syn`` jumping by the
weight in nA and decaying with ``tau_syn``), integrated exactly over a step of ``dt``:

* ``beta = exp(-dt/tau_m)``, ``alpha = exp(-dt/tau_syn)``, ``vth = v_thresh - v_reset``,
  ``bias_v = (1 - beta) (v_rest - v_reset + R i_offset)``, ``R = round(tau_refrac/dt)``;
* a weight ``w`` (nA) becomes ``w (tau_syn/cm) (1 - alpha)`` mV per step: the current then
  delivers exactly the charge of the continuous synapse, ``w tau_syn``, into the membrane.

``IF_curr_delta`` has no current (``alpha = 0``) and its weight is the voltage jump in mV.
A delay ``d`` becomes ``round(d/dt)`` steps (0..63): with the chip's one-step pipeline a spike in
step ``k`` then moves the target in step ``k + round(d/dt) + 1``, as Brian2 schedules it.

Approximation, reported in :attr:`Lowered.notes`: the chip has one current per neuron.  When a
population receives both excitatory and inhibitory projections and ``tau_syn_E != tau_syn_I``,
both use ``tau_syn_E`` and each synapse keeps its own charge ``w tau_syn`` (the inhibitory PSCs
become shorter and taller; the mean input is unchanged).  ``docs/pynn.md`` shows what this does
to the Vogels-Abbott benchmark's statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from pyNN import common

from spikefab.arch.fields import field as image_field
from spikefab.compiler.passes.lower import FloatPopulation, FloatProjection, LoweredView
from spikefab.errors import ModelError

__all__ = ["Lowered", "PlasticPart", "lower_network", "lowered_graph", "input_spikes", "pop_name",
           "pynn_names", "SOURCES"]

_CELLS = ("IF_curr_exp", "IF_curr_delta")
SOURCES = ("SpikeSourceArray", "SpikeSourcePoisson")

#: Longest synaptic delay any image can hold, in steps (the synapse table's delay field;
#: a target may allow fewer: core.max_delay, checked when compiling).
MAX_DELAY_STEPS = image_field("synapses", "delay").hi


def pop_name(index: int) -> str:
    """Hardware name of the ``index``-th PyNN population (labels may hold any character)."""
    return f"p{index}"


def pynn_names(message: str, state) -> str:
    """``message`` with hardware names (``'p3'``, ``'p0->p3#2'``) replaced by the script's
    population labels, for errors raised by the compiler."""
    import re
    pops = state.populations

    def label(i: str) -> str:
        return repr(pops[int(i)].label) if int(i) < len(pops) else f"'p{i}'"

    def swap(m: "re.Match") -> str:
        if m.group(2) is None:
            return label(m.group(1))
        return f"{label(m.group(1))} -> {label(m.group(2))} ({m.group(0)[1:-1]})"

    return re.sub(r"'p(\d+)(?:->p(\d+)#\d+)?'", swap, message)


def _finite(values: np.ndarray, what: str, where: str) -> None:
    if not np.all(np.isfinite(values)):
        bad = np.asarray(values, float)[~np.isfinite(values)][0]
        raise ModelError(f"{where}: {what} must be a finite number, not {bad}", where=where)


@dataclass
class Lowered:
    """The float network plus what turning results back into PyNN's terms needs."""

    net: LoweredView
    refractory: dict[str, int] = field(default_factory=dict)
    v0: dict[str, np.ndarray] = field(default_factory=dict)        # mV above v_reset
    v_reset: dict[str, np.ndarray] = field(default_factory=dict)   # mV, per neuron
    sources: dict[str, Any] = field(default_factory=dict)          # input name -> population
    notes: list[str] = field(default_factory=list)
    #: plastic float projections (by name): what the STDP lowering needs after quantization
    plastic: dict[str, "PlasticPart"] = field(default_factory=dict)


@dataclass
class PlasticPart:
    """The synapses of one PyNN STDP projection that went into one float projection."""

    projection: Any              #: the PyNN Projection
    index: np.ndarray            #: its connections, in the float projection's synapse order
    weight: np.ndarray           #: initial weights (nA)
    gain: np.ndarray             #: mV per step per nA, per synapse (the target's)
    delay_ms: float


def lowered_graph(low: Lowered):
    """The lowered graph to quantize: every population reported by an Output named
    ``<population>.out`` (a graph names each node once;
    :func:`~spikefab.pynn.engine.compile_lowered` names the image's outputs after the
    populations again)."""
    outputs = {f"{pop}.out": pop for pop in low.net.outputs.values()}
    return replace(low.net, outputs=outputs).to_graph()


def _kind(population) -> str:
    return type(population.celltype).__name__


def _members(obj) -> tuple[np.ndarray, np.ndarray]:
    """(population index, index in that population) of every cell of a population/view/assembly."""
    if isinstance(obj, common.Assembly):
        parts = [_members(p) for p in obj.populations]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    if isinstance(obj, common.PopulationView):
        base = obj.grandparent
        idx = np.asarray(obj.index_in_grandparent(np.arange(obj.size)), np.int64)
        return np.full(obj.size, base._index, np.int64), idx
    return np.full(obj.size, obj._index, np.int64), np.arange(obj.size, dtype=np.int64)


def _param(population, name: str) -> np.ndarray:
    value = population._parameters[name]
    arr = value.evaluate(simplify=False) if hasattr(value, "evaluate") else value
    return np.broadcast_to(np.asarray(arr, float), (population.size,)).copy()


def _uniform(values: np.ndarray, what: str, population) -> float:
    if np.ptp(values) > 1e-9 * max(1.0, float(np.max(np.abs(values)))):
        raise ModelError(f"population {population.label!r}: {what} must be the same for all "
                         f"its neurons (one neuron profile per population on the chip), not "
                         f"{values.min():g}..{values.max():g}; split the population")
    return float(values[0])


def _receptors(state) -> dict[int, set[str]]:
    seen: dict[int, set[str]] = {}
    for proj in state.projections:
        for idx in np.unique(_members(proj.post)[0]):
            seen.setdefault(int(idx), set()).add(proj.receptor_type)
    return seen


def lower_network(state) -> Lowered:
    """Lower the network held by the simulator ``state`` (see the module docstring)."""
    dt = state.dt
    low = Lowered(LoweredView())
    net = low.net
    receptors = _receptors(state)
    tau_used: dict[int, float] = {}
    alpha_of: dict[int, float] = {}
    for pop in state.populations:
        name, kind = pop_name(pop._index), _kind(pop)
        if kind in SOURCES:
            _check_source(pop)
            net.inputs[name] = pop.size
            low.sources[name] = pop
            continue
        if kind not in _CELLS:
            raise ModelError(f"population {pop.label!r}: cell type must be one of "
                             f"{', '.join(_CELLS + SOURCES)}, not {kind}")
        p = {k: _param(pop, k) for k in pop.celltype.default_parameters}
        where = pop.label
        for k, values in p.items():
            _finite(values, k, f"population {where!r}")
        if np.any(p["tau_m"] <= 0) or np.any(p["cm"] <= 0):
            raise ModelError(f"population {where!r}: tau_m and cm must be > 0")
        for k in ("tau_syn_E", "tau_syn_I"):
            if k in p and np.any(p[k] <= 0):
                raise ModelError(f"population {where!r}: {k} must be > 0 ms, not "
                                 f"{p[k].min():g}",
                                 where=where)
        if np.any(p["tau_refrac"] < 0):
            raise ModelError(f"population {where!r}: tau_refrac must be >= 0 ms, not "
                             f"{p['tau_refrac'].min():g}", where=where)
        _uniform(p["tau_m"], "tau_m", pop)
        beta = np.exp(-dt / p["tau_m"])
        if kind == "IF_curr_exp":
            rec = receptors.get(pop._index, {"excitatory"})
            tau = p["tau_syn_E"] if "excitatory" in rec else p["tau_syn_I"]
            if {"excitatory", "inhibitory"} <= rec and not np.allclose(p["tau_syn_E"],
                                                                       p["tau_syn_I"]):
                low.notes.append(
                    f"population {where!r}: one synaptic current with tau_syn_E "
                    f"{p['tau_syn_E'].mean():g} ms; inhibitory synapses (tau_syn_I "
                    f"{p['tau_syn_I'].mean():g} ms) keep their charge w*tau_syn_I")
            tau_used[pop._index] = _uniform(tau, "tau_syn", pop)
            alpha = np.full(pop.size, np.exp(-dt / tau_used[pop._index]))
        else:
            alpha = np.zeros(pop.size)
        alpha_of[pop._index] = float(alpha[0])
        vth = p["v_thresh"] - p["v_reset"]
        if np.any(vth <= 0):
            raise ModelError(f"population {where!r}: v_thresh must be above v_reset, not "
                             f"{p['v_thresh'].min():g} <= {p['v_reset'].max():g} mV")
        r_m = p["tau_m"] / p["cm"]
        refractory = int(round(_uniform(p["tau_refrac"], "tau_refrac", pop) / dt))
        if refractory > 255:
            raise ModelError(f"population {where!r}: tau_refrac must be at most 255 steps "
                             f"({255 * dt:g} ms at dt {dt:g} ms), not {refractory} steps")
        net.populations[name] = FloatPopulation.build(
            name=name, size=pop.size, kind=kind, alpha=alpha, beta=beta, vth=vth,
            bias_u=np.zeros(pop.size),
            bias_v=(1.0 - beta) * (p["v_rest"] - p["v_reset"] + r_m * p["i_offset"]),
            v_reset=np.zeros(pop.size), reset="zero")
        net.outputs[name] = name
        low.refractory[name] = refractory
        low.v_reset[name] = p["v_reset"]
        _finite(_initial(pop, "v"), "initial v", f"population {where!r}")
        low.v0[name] = _initial(pop, "v") - p["v_reset"]
        for var in ("isyn_exc", "isyn_inh"):
            if var in pop._initial and np.any(_initial(pop, var) != 0):
                raise ModelError(f"population {where!r}: initial {var} must be 0 (the chip "
                                 f"starts with no synaptic current)")
    for proj in state.projections:
        _lower_projection(state, low, proj, tau_used, alpha_of)
    return low


def _check_source(pop) -> None:
    """Spike times and Poisson parameters a run can use: finite times, rates >= 0."""
    where = f"population {pop.label!r}"
    if type(pop.celltype).__name__ == "SpikeSourceArray":
        for seq in _spike_times(pop):
            _finite(seq, "spike_times", where)
        return
    rate = _param(pop, "rate")
    _finite(rate, "rate", where)
    if np.any(rate < 0):
        raise ModelError(f"{where}: rate must be >= 0 Hz, not {rate.min():g}", where=where)
    for k in ("start", "duration"):
        values = _param(pop, k)
        if np.any(np.isnan(values)):
            raise ModelError(f"{where}: {k} must be a number of ms, not nan", where=where)


def _spike_times(pop) -> list[np.ndarray]:
    """Each source neuron's spike times (ms)."""
    times = pop._parameters["spike_times"]
    times = times.evaluate(simplify=False) if hasattr(times, "evaluate") else times
    return [np.asarray(getattr(seq, "value", seq), float)
            for seq in np.broadcast_to(np.asarray(times, object), (pop.size,))]


def _initial(pop, var: str) -> np.ndarray:
    return pop.initial_value_array(var)


def _lower_projection(state, low: Lowered, proj, tau_used, alpha_of) -> None:
    dt = state.dt
    pre_pop, pre_idx = _members(proj.pre)
    post_pop, post_idx = _members(proj.post)
    k_pre, k_post = proj._pre, proj._post
    src_pop, src = pre_pop[k_pre], pre_idx[k_pre]
    dst_pop, dst = post_pop[k_post], post_idx[k_post]
    _finite(proj._delay, "delay", f"projection {proj.label!r}")
    _finite(proj._weight, "weight", f"projection {proj.label!r}")
    steps = np.rint(proj._delay / dt).astype(np.int64)
    if steps.size and (steps.min() < 0 or steps.max() > MAX_DELAY_STEPS):
        raise ModelError(f"projection {proj.label!r}: delays must be in [0, "
                         f"{MAX_DELAY_STEPS * dt:g}] ms ({MAX_DELAY_STEPS} steps of {dt:g} ms, "
                         f"the synapse memory's delay field), not up to "
                         f"{proj._delay.max():g} ms")
    weight = np.asarray(proj._weight, float)
    w_max = None
    if getattr(proj, "plastic", False):
        from spikefab.pynn.plasticity import uniform_parameters
        params = uniform_parameters(proj.stdp_columns(), f"projection {proj.label!r}")
        w_max = params["w_max"]
        if not 0 <= params["w_min"] < w_max:
            raise ModelError(f"projection {proj.label!r}: STDP needs 0 <= w_min < w_max, not "
                             f"w_min {params['w_min']:g}, w_max {w_max:g} nA",
                             where=proj.label)
        if np.any(weight < 0) or proj.receptor_type != "excitatory":
            raise ModelError(f"projection {proj.label!r}: STDP synapses must be excitatory "
                             f"with weights >= 0 (the learning engine's excitatory sign mode), "
                             f"not receptor {proj.receptor_type!r} with weights down to "
                             f"{weight.min():g}")
    tau_field = "tau_syn_E" if proj.receptor_type == "excitatory" else "tau_syn_I"
    # a zero static weight moves nothing (PyNN's default weight is 0): leave it out, exactly
    live = np.ones(weight.shape, bool) if w_max is not None else weight != 0
    for target in np.unique(dst_pop):
        target_pop = state.populations[int(target)]
        if _kind(target_pop) not in _CELLS:
            raise ModelError(f"projection {proj.label!r}: target must be a cell population, "
                             f"not spike source {target_pop.label!r}")
        gain = np.ones(target_pop.size)
        if _kind(target_pop) == "IF_curr_exp":
            tau = _param(target_pop, tau_field)
            gain = tau / _param(target_pop, "cm") * (1.0 - alpha_of[int(target)])
        sel_t = (dst_pop == target) & live
        for source in np.unique(src_pop[sel_t]):
            sel = sel_t & (src_pop == source)
            for d in np.unique(steps[sel]):
                m = sel & (steps == d)
                name = f"{pop_name(int(source))}->{pop_name(int(target))}" \
                       f"#{len(low.net.projections)}"
                w = weight[m] if w_max is None else np.full(int(m.sum()), w_max)
                low.net.projections.append(FloatProjection(
                    name=name, source=pop_name(int(source)), target=pop_name(int(target)),
                    pre=src[m], post=dst[m], weight=w * gain[dst[m]], delay=int(d)))
                if w_max is not None:       # quantized for w_max; see spikefab.pynn.plasticity
                    low.plastic[name] = PlasticPart(proj, np.flatnonzero(m), weight[m],
                                                    gain[dst[m]], float(d) * dt)


def input_spikes(low: Lowered, steps: int, dt: float, seed: int) -> dict[str, np.ndarray]:
    """Host input ``(steps, n)`` uint8 per spike source, for a run of ``steps`` steps.

    ``SpikeSourceArray`` times are rounded to the nearest step (two spikes in one step become
    one).  ``SpikeSourcePoisson`` draws one uniform number per neuron and step from a generator
    seeded by ``(seed, population index)``, so the first ``k`` steps do not depend on the run's
    length.
    """
    out = {}
    for name, pop in low.sources.items():
        x = np.zeros((steps, pop.size), np.uint8)
        if type(pop.celltype).__name__ == "SpikeSourceArray":
            for i, t in enumerate(_spike_times(pop)):
                t = t[(t > -dt) & (t < (steps + 1) * dt)]
                k = np.rint(t / dt).astype(np.int64)
                k = k[(k >= 0) & (k < steps)]
                x[k, i] = 1
        else:
            rate, start, dur = (_param(pop, k) for k in ("rate", "start", "duration"))
            rng = np.random.default_rng([seed, pop._index])
            draw = rng.random((steps, pop.size))
            t = np.arange(steps)[:, None] * dt
            on = (t >= start) & (t < start + dur)
            x[:] = on & (draw < rate * dt / 1000.0)
        out[name] = x
    return out
