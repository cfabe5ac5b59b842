"""Pass 2, Quantize: a lowered float graph becomes a fixed-point :class:`HwNetwork`.

Loihi's neuron (``spikefab.arch.neuron``) computes, in integers::

    u <- trunc(u (4095 - du) / 4096) + (a << 6)       a = sum(w_mant) shifted by weight_exp
    v <- trunc(v (4096 - dv) / 4096) + u + (bias_mant << bias_exp) ;  spike if v > vth << 6

so a float population with retentions ``alpha``/``beta`` maps to ``du = 4095 - round(4096 alpha)``
and ``dv = round(4096 (1 - beta))`` (with Euler, ``du = round(4096 dt/tau_syn) - 1``: Lava's +1).
Voltages are scaled by a per-neuron factor ``s`` (integer v = ``s`` x float v).  With one shared
17-bit threshold per population, ``s_i = 64 vth / v_th_i``; ``vth`` is chosen as large as every
bound allows (threshold <= 131071, weight mantissa at weight_exp <= 7, bias mantissa 13 bits at
bias_exp <= 7, and no 24-bit current overflow when every input spikes at once), because a larger
scale shrinks the truncation errors of the decays and of the shifted weight sum.  Each
projection then gets the smallest ``weight_exp`` that fits its largest scaled weight into the
mantissa range: the mantissa of the largest weight lands in the top bit, the most precise choice
for that scale (Lava's ``optimize_weight_bits`` does the same for a *given* scale; choosing the
scale jointly with the threshold is what beats it).  Mantissas follow Lava's Dense truncation
(mixed-sign projections drop one low bit), so a builder network with the same numbers is
identical.

Approximations, all reported: decays are rounded to 1/4096; a constant input into a current
with memory (``bias_u`` with ``alpha > 0``, e.g. an Affine bias before a CubaLIF) becomes its
steady-state voltage bias ``bias_u / (1 - alpha)``, exact after the current settles.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from spikefab.arch.neuron import effective_weights
from spikefab.compiler.hwnet import HwNetwork, LoihiLIF, Population, Projection
from spikefab.compiler.passes.decays import check_quantized
from spikefab.compiler.ir.graph import Graph
from spikefab.compiler.passes.lower import FloatPopulation, FloatProjection, LoweredView
from spikefab.errors import ModelError

__all__ = ["quantize", "quantize_unchecked", "VTH_MAX", "WEIGHT_EXP_RANGE",
           "ReadoutSaturationWarning"]

VTH_MAX = 131071                 #: 17-bit threshold mantissa
WEIGHT_EXP_RANGE = (-8, 7)
BIAS_MANT_MAX = 4095
BIAS_EXP_MAX = 7
U_MAX = (1 << 23) - 1            #: 24-bit current / voltage
READOUT_HORIZON = 1024           #: steps of full drive an integrator readout's scale leaves room for
READOUT_WARN_STEPS = 512         #: warn when an integrator readout saturates sooner than this
THRESHOLD_BIAS = -32             #: half a weight step below ties, for memoryless Threshold nodes
_ADVICE_SILENT = ("scale the layer's weights up or its threshold down before export, or use a "
                  "larger dt")


def _decays(pop: FloatPopulation) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-neuron 12-bit ``du``/``dv`` and the retentions they give (``alpha_q``, ``beta_q``).

    Neurons with different time constants get different decays; Partition groups them into
    core profiles (one per distinct parameter set).
    """
    du = np.clip(4095 - np.rint(pop.alpha * 4096), 0, 4095).astype(np.int64)
    dv = np.clip(np.rint((1.0 - pop.beta) * 4096), 0, 4095).astype(np.int64)
    alpha_q, beta_q = (4095 - du) / 4096, (4096 - dv) / 4096
    check_quantized(pop.name, "current retention (tau_syn)", pop.alpha, alpha_q)
    check_quantized(pop.name, "voltage retention (tau_mem)", pop.beta, beta_q)
    return du, dv, alpha_q, beta_q


def _one_or_list(a: np.ndarray) -> float | list[float]:
    """A report value: one number when every neuron shares it, else one per neuron."""
    a = np.asarray(a, np.float64)
    return float(a[0]) if a.size and np.all(a == a[0]) else [float(x) for x in a]


def _grid(w_scaled: np.ndarray, weight_bits: int) -> tuple[int, int, int]:
    """Lava's mantissa grid for a projection's sign mode: (step, lowest, highest)."""
    mixed = bool(w_scaled.size) and w_scaled.min() < 0 < w_scaled.max()
    step = 1 << (8 - weight_bits + int(mixed))
    if mixed:
        lo, hi = -256, 256 - step
    elif w_scaled.size and w_scaled.max() <= 0:
        lo, hi = -(256 - step), 0
    else:
        lo, hi = 0, 256 - step
    return step, lo, hi


def _quantize_projection(fp: FloatProjection, s_post: np.ndarray, weight_bits: int):
    """Mantissas and weight_exp for one projection; returns (Projection, report row)."""
    ws = fp.weight * s_post[fp.post] / 64.0          # weights in units of (a) per spike
    step, lo, hi = _grid(ws, weight_bits)
    peak = float(np.max(np.abs(ws))) if ws.size else 0.0
    limit = max(abs(lo), hi)

    def fits(e: int) -> bool:
        m = np.rint(ws / 2.0 ** e / step) * step
        return bool(m.size == 0 or (m.min() >= lo and m.max() <= hi))

    e = 0
    if peak > 0.0:
        e = int(min(max(math.ceil(math.log2(peak / limit)), WEIGHT_EXP_RANGE[0]),
                    WEIGHT_EXP_RANGE[1]))
        while e > WEIGHT_EXP_RANGE[0] and fits(e - 1):
            e -= 1
        while e < WEIGHT_EXP_RANGE[1] and not fits(e):
            e += 1
    raw = np.rint(ws / 2.0 ** e / step) * step
    mant = np.clip(raw, lo, hi).astype(np.int64)
    saturated = int(np.count_nonzero(raw != mant))
    if mant.size and not np.array_equal(effective_weights(mant, weight_bits), mant):
        # the sign mode of the rounded weights decides Lava's truncation; keep on its grid
        mant = effective_weights(mant, weight_bits)
    w_back = mant * 2.0 ** e * 64.0 / s_post[fp.post]
    err = np.abs(w_back - fp.weight)
    keep = mant != 0
    nz = mant[keep]
    row = {
        "projection": fp.name, "source": fp.source, "target": fp.target,
        "synapses": int(keep.sum()), "float_synapses": int(fp.weight.size),
        "zeroed": int(fp.weight.size - keep.sum()), "saturated": saturated,
        "weight_exp": e,
        "bits_used": (int(np.abs(nz).max()) // step).bit_length() + int(step > 1 or lo < 0)
        if nz.size else 0,
        "max_abs_error": float(err.max()) if err.size else 0.0,
        "mean_abs_error": float(err.mean()) if err.size else 0.0,
        "max_abs_weight": float(np.abs(fp.weight).max()) if fp.weight.size else 0.0,
        "delay": int(fp.delay),
    }
    row["rel_max_error"] = row["max_abs_error"] / row["max_abs_weight"] if row["max_abs_weight"] \
        else 0.0
    # baseline: the NIR paper's Loihi rule (fixed scale 256 per threshold unit, weight_exp 0,
    # truncation, then what Lava's Dense really applies), in the same float units
    base = effective_weights(np.clip(np.trunc(fp.weight * 256.0), -256, 255).astype(np.int64),
                             weight_bits) / 256.0
    row["paper_rule_max_abs_error"] = float(np.abs(base - fp.weight).max()) if err.size else 0.0
    if fp.weight.size and not keep.any():
        raise ModelError(f"projection {fp.name!r} goes silent: all {fp.weight.size} weights round "
                         f"to 0 at weight_exp {e} (largest |w| {row['max_abs_weight']:.3g}); "
                         f"{_ADVICE_SILENT}")
    if fp.delay > 63:
        raise ModelError(f"projection {fp.name!r}: delay must be at most 63 steps, not "
                         f"{fp.delay}; use a larger dt")
    proj = Projection(fp.name, fp.source, fp.target, pre=fp.pre[keep], post=fp.post[keep],
                      weight=nz, delay=fp.delay, weight_exp=e)
    return proj, row


def _scale_bounds(pop: FloatPopulation, incoming: list[FloatProjection], alpha: np.ndarray,
                  weight_bits: int) -> np.ndarray:
    """Largest admissible scale per neuron from weights, current range and bias."""
    n = pop.size
    peak = np.zeros(n)
    pos = np.zeros(n)
    neg = np.zeros(n)
    for fp in incoming:
        a = np.abs(fp.weight)
        np.maximum.at(peak, fp.post, a)
        pos += np.bincount(fp.post, np.maximum(fp.weight, 0), minlength=n)
        neg += np.bincount(fp.post, np.maximum(-fp.weight, 0), minlength=n)
    wmax = 256 - (1 << (8 - weight_bits))
    bound = np.full(n, np.inf)
    with np.errstate(divide="ignore"):
        bound = np.minimum(bound, np.where(peak > 0, 64.0 * wmax * 2.0 ** WEIGHT_EXP_RANGE[1] /
                                           peak, np.inf))
        keep = np.maximum(1.0 - alpha, 1.0 / 4096)
        drive = (np.maximum(pos, neg) + np.abs(pop.bias_u)) / keep
        bound = np.minimum(bound, np.where(drive > 0, U_MAX / drive, np.inf))
        bias = np.abs(pop.bias_v) + np.abs(pop.bias_u) / keep
        bound = np.minimum(bound, np.where(bias > 0, BIAS_MANT_MAX * 2.0 ** BIAS_EXP_MAX / bias,
                                           np.inf))
        # voltage headroom: a neuron just below threshold plus one step's largest drive must not
        # saturate (that would lose the overshoot that reset-by-subtraction keeps)
        step = np.maximum(pos, neg) / keep + bias
        if pop.spiking:
            v_peak = pop.vth + step
        else:
            # a leaky readout settles at step / (1 - beta); an integrator (beta = 1) keeps
            # adding: leave room for READOUT_HORIZON steps of full drive
            v_peak = np.where(pop.beta < 1, step / np.maximum(1.0 - pop.beta, 1e-300),
                              step * READOUT_HORIZON)
        if pop.kind == "Threshold":
            # a memoryless comparison: keep |v| < 2**17 so that the 1/4096 the chip retains
            # stays below half a weight step (see _threshold_bias)
            v_peak = np.maximum(v_peak, (pop.vth + neg / keep) * 64.0)
        bound = np.minimum(bound, np.where(v_peak > 0, U_MAX / v_peak, np.inf))
        # resting voltage below the reset (a PyNN v_rest under v_reset, a NIR v_leak under the
        # reset): a leaky neuron settles at bias / (1 - beta), which must not saturate either
        leaky = (pop.beta < 1) & pop.spiking & (pop.kind != "Threshold")
        rest = np.where(leaky, -np.minimum(pop.bias_v + pop.bias_u / keep, 0)
                        / np.maximum(1.0 - pop.beta, 1e-300), 0.0)
        bound = np.minimum(bound, np.where(rest > 0, U_MAX / rest, np.inf))
    return bound


def quantize(net: Graph, *, weight_bits: int = 8) -> HwNetwork:
    """Quantize the lowered graph ``net`` to Loihi fixed point; the report is in ``meta["quantization"]``.

    Raises :class:`ModelError` when a population's decays differ between neurons, a reset value
    is not 0, a threshold is not positive, or a layer goes silent (all weights round to 0, or no
    neuron can reach its threshold even with every input spiking).
    """
    hw = quantize_unchecked(net, weight_bits=weight_bits)
    hw.validate()
    return hw


def quantize_unchecked(net: Graph, *, weight_bits: int = 8) -> HwNetwork:
    """:func:`quantize` without validating the result (the pass manager runs the verifier)."""
    net = LoweredView.of(net)
    if not 1 <= weight_bits <= 8:
        raise ModelError(f"weight_bits must be in [1, 8], not {weight_bits}")
    hw = HwNetwork(inputs=dict(net.inputs), outputs=dict(net.outputs), meta=dict(net.meta))
    by_target: dict[str, list[FloatProjection]] = {}
    for fp in net.projections:
        by_target.setdefault(fp.target, []).append(fp)
    pop_rows, proj_rows = [], []
    for name, pop in net.populations.items():
        population, projections, rows, pop_row = _quantize_population(
            pop, by_target.get(name, []), weight_bits, net.meta.get("scale_cap", {}).get(name))
        hw.populations[name] = population
        hw.projections.extend(projections)
        proj_rows.extend(rows)
        pop_rows.append(pop_row)
    hw.meta["quantization"] = {"weight_bits": weight_bits, "populations": pop_rows,
                               "projections": proj_rows}
    return hw


def _threshold_and_scale(pop: FloatPopulation, bound: np.ndarray) -> tuple[int, np.ndarray]:
    """The shared 17-bit threshold and the per-neuron voltage scale of a population."""
    name = pop.name
    if not pop.spiking:
        s_one = float(min(np.min(bound), 64.0 * VTH_MAX / 2.0))
        return VTH_MAX, np.full(pop.size, s_one if np.isfinite(s_one) else 64.0 * 1024)
    if np.any(pop.vth <= 0):
        raise ModelError(f"population {name!r}: threshold must be > 0 for Loihi's "
                         f"v > vth test, not {float(pop.vth.min()):g}")
    if np.any(pop.v_reset != 0) and pop.reset == "zero":
        raise ModelError(f"population {name!r}: v_reset must be 0 (the chip resets to "
                         f"0), not {float(pop.v_reset[pop.v_reset != 0][0]):g}; shift "
                         f"v_leak, v_threshold and v_reset by -v_reset before export")
    cap = min(VTH_MAX, float(np.min(bound * pop.vth / 64.0)))
    if pop.kind == "Threshold":
        # a power of two: weights that are dyadic fractions of the threshold (0.5 + 0.5
        # = 1.0) stay exact, so a float tie stays a tie (and does not fire)
        cap = 2.0 ** math.floor(math.log2(max(min(cap, 2047), 1)))
    vth = int(max(1, math.floor(cap)))
    return vth, 64.0 * vth / pop.vth


def _bias(pop: FloatPopulation, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                        np.ndarray]:
    """Bias mantissa and exponent per neuron, the float bias and its quantization error.

    A current bias with memory becomes its steady-state voltage bias.
    """
    alpha = pop.alpha
    b_float = pop.bias_v + np.where(alpha < 1, pop.bias_u / np.maximum(1.0 - alpha, 1e-300),
                                    pop.bias_u)
    b = b_float * s
    if pop.kind == "Threshold":
        b = b + THRESHOLD_BIAS
    bexp = np.zeros(pop.size, np.int64)
    big = np.abs(b) > BIAS_MANT_MAX
    bexp[big] = np.minimum(np.ceil(np.log2(np.abs(b[big]) / BIAS_MANT_MAX)), BIAS_EXP_MAX)
    bmant = np.clip(np.rint(b / 2.0 ** bexp), -BIAS_MANT_MAX - 1, BIAS_MANT_MAX).astype(np.int64)
    bias_err = np.abs((bmant * 2.0 ** bexp - (THRESHOLD_BIAS if pop.kind == "Threshold"
                                              else 0)) / s - b_float)
    return bmant, bexp, b_float, bias_err


def _check_reachable(pop: FloatPopulation, incoming: list[FloatProjection], b_float, drive,
                     q_bias, alpha_q, beta_q, vth: int) -> bool:
    """``silent_in_float`` of a spiking population; :class:`ModelError` when only the
    quantized population can never reach its threshold."""
    fdrive = np.zeros(pop.size)
    for fp in incoming:
        fdrive += np.bincount(fp.post, np.maximum(fp.weight, 0), minlength=pop.size)
    f_step = fdrive / np.maximum(1.0 - pop.alpha, 1e-12) + np.maximum(b_float, 0)
    if not np.any(_reach(f_step, pop.beta) > pop.vth):
        return True
    q_step = drive / np.maximum(1.0 - alpha_q, 1.0 / 4096) + np.maximum(q_bias, 0)
    v_max = _reach(q_step, beta_q)
    if not np.any(v_max > vth * 64):
        raise ModelError(
            f"population {pop.name!r} goes silent after quantization: its largest "
            f"reachable voltage {float(v_max.max()):.0f} never exceeds the threshold "
            f"{vth * 64} (vth {vth} << 6); {_ADVICE_SILENT}")
    return False


def _quantize_population(pop: FloatPopulation, incoming: list[FloatProjection],
                         weight_bits: int, scale_cap: float | None = None):
    """One population and its incoming projections: ``(Population, projections, projection
    report rows, population report row)``.  ``scale_cap`` (``meta["scale_cap"][name]``) caps
    the voltage scale: a front end that needs one weight to land on a given mantissa (PyNN's
    STDP ``w_max`` on the learning engine's top weight) sets it."""
    name = pop.name
    du, dv, alpha_q, beta_q = _decays(pop)
    alpha, beta = pop.alpha, pop.beta
    bound = _scale_bounds(pop, incoming, alpha, weight_bits)
    if scale_cap is not None:
        bound = np.minimum(bound, float(scale_cap))
    vth, s = _threshold_and_scale(pop, bound)
    bmant, bexp, b_float, bias_err = _bias(pop, s)
    neuron = LoihiLIF(du=du, dv=dv, vth=vth, bias_mant=bmant if np.any(bmant) else 0,
                      bias_exp=bexp if np.any(bexp) else 0, reset=pop.reset)
    projections, rows = [], []
    drive = np.zeros(pop.size)
    neg_drive = np.zeros(pop.size)
    for fp in incoming:
        proj, row = _quantize_projection(fp, s, weight_bits)
        projections.append(proj)
        rows.append(row)
        drive += np.bincount(proj.post, np.maximum(proj.weight, 0) * 2.0 ** proj.weight_exp * 64,
                             minlength=pop.size)
        neg_drive += np.bincount(proj.post, np.maximum(-proj.weight, 0) * 2.0 ** proj.weight_exp
                                 * 64, minlength=pop.size)
    saturation_steps = None
    if not pop.spiking and np.any(dv == 0):
        saturation_steps = _integrator_saturation(name, dv, drive, neg_drive,
                                                  bmant * 2.0 ** bexp, alpha_q)
    silent_in_float = False
    if pop.spiking:
        silent_in_float = _check_reachable(pop, incoming, b_float, drive, bmant * 2.0 ** bexp,
                                           alpha_q, beta_q, vth)
    pop_row = {
        "population": name, "kind": pop.kind, "size": pop.size, "spiking": pop.spiking,
        "du": _int_or_list(du), "dv": _int_or_list(dv), "vth": vth,
        "profiles": int(len(np.unique(np.stack([du, dv]), axis=1).T)) if pop.size else 0,
        "alpha": _one_or_list(alpha), "alpha_q": _one_or_list(alpha_q),
        "beta": _one_or_list(beta), "beta_q": _one_or_list(beta_q),
        "decay_abs_error": float(max(np.max(np.abs(alpha - alpha_q), initial=0.0),
                                     np.max(np.abs(beta - beta_q), initial=0.0))),
        "scale_min": float(np.min(s)), "scale_max": float(np.max(s)),
        # integer v = v_scale * float v (one number when uniform, else one per neuron)
        "v_scale": float(s[0]) if np.all(s == s[0]) else [float(x) for x in s],
        "bias_max_abs_error": float(bias_err.max()) if bias_err.size else 0.0,
        "bias_u_steady_state": bool(np.any((alpha > 0) & (pop.bias_u != 0))),
        "silent_in_float": bool(silent_in_float),
        "saturation_steps": saturation_steps,
    }
    return Population(name, pop.size, neuron), projections, rows, pop_row


def _reach(step: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Largest voltage a neuron can reach with per-step drive ``step`` and retention ``beta``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(step > 0, np.where(beta < 1, step / (1.0 - beta), np.inf), 0.0)


class ReadoutSaturationWarning(UserWarning):
    """An integrator readout (no leak) reaches the 24-bit voltage limit within a few steps."""


def _integrator_saturation(name: str, dv: np.ndarray, pos: np.ndarray, neg: np.ndarray,
                           bias: np.ndarray, alpha_q: np.ndarray) -> int:
    """Steps of full drive after which a leak-free readout's 24-bit voltage saturates.

    The scale leaves room for :data:`READOUT_HORIZON` steps, so this is a guard: should another
    bound ever force a larger scale, the readout would saturate earlier, and the user is told
    (the trace clips there, the float simulation does not).
    """
    keep = np.maximum(1.0 - alpha_q, 1.0 / 4096)
    step = np.maximum(pos + np.maximum(bias, 0), neg + np.maximum(-bias, 0)) / keep
    step = step[dv == 0]
    if not step.size or step.max() <= 0:
        return 0
    steps = int(U_MAX // step.max())
    if steps < READOUT_WARN_STEPS:
        warnings.warn(f"population {name!r}: integrator readout (no leak) saturates at the 24-bit "
                      f"voltage limit after {steps} steps of full drive (the trace clips there, "
                      f"the float model does not); use a leaky readout (LI) or smaller weights",
                      ReadoutSaturationWarning, stacklevel=4)
    return steps


def _int_or_list(a: np.ndarray) -> int | list[int]:
    a = np.asarray(a, np.int64)
    return int(a[0]) if a.size and np.all(a == a[0]) else [int(x) for x in a]
