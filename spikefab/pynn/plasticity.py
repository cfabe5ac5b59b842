"""PyNN's ``STDPMechanism`` lowered onto the chip's learning engine (``spikefab.arch.learning``).

PyNN's pair rule with additive weight dependence (Song, Miller & Abbott 2000, as PyNN's Brian2
and NEST backends implement it) changes a weight, for every pair of a pre spike at ``t_pre``
and a post spike at ``t_post``, by::

    dw = +A_plus  * w_max * exp(-(t_post - t_pre) / tau_plus)     pre before post
    dw = -A_minus * w_max * exp(-(t_pre - t_post) / tau_minus)    post before pre

clipped to ``[w_min, w_max]``; the multiplicative dependence replaces ``w_max`` by
``w_max - w`` (potentiation) and ``w - w_min`` (depression) and needs no clip.  On the chip a
weight is an integer mantissa ``m`` worth ``unit`` nA (:func:`weight_unit`); the lowering picks
the target population's voltage scale so that ``w_max`` is the mantissa 255, the top of the
excitatory sign mode's range, so the engine's own clip is PyNN's ``w_max`` clip.  The rule is
then the pair-based STDP rule of the rule language::

    dw = -La * x0 * y1 + Lp * y0 * x1                                   (additive)
    dw = -La * x0 * y1 * (w - m_min) - Lp * y0 * x1 * (w - 255)         (multiplicative)

with 7-bit traces x1 (impulse ``Ix``, time constant ``tau_plus / dt`` steps) and y1 (``Iy``,
``tau_minus / dt``).  :func:`stdp_rule` chooses, per amplitude, the trace impulse and the
literal ``m * 2^k`` (``m`` 1..7, ``k`` -7..8) whose product is nearest PyNN's amplitude, and
states every rounding in a :class:`StdpReport`.

What the lowering cannot express is refused with a ModelError: other timing or weight
dependences, a voltage dependence, parameters that differ between the synapses of one
projection, a time constant above 255 steps, ``w_min > 0`` with the additive dependence (the
engine clips at 0 only), a delay whose STDP timing would move by more than one step (below).

Timing: the learning engine records a pre spike in the step the presynaptic neuron fires and a
post spike in the step the postsynaptic neuron fires; the synaptic delay does not enter.  PyNN's
``dendritic_delay_fraction`` ``f`` makes the synapse see ``t_post - t_pre + (2f - 1) * delay``;
the difference, ``|2f - 1| * delay``, must be at most one time step (the engine's time
resolution) and is reported.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from spikefab.arch.learning import LearningRule, TraceConfig
from spikefab.errors import ModelError

__all__ = ["STDP_PARAMETERS", "StdpSpec", "StdpReport", "stdp_rule", "spec_of", "W_TOP",
           "uniform_parameters"]

#: Parameters an ``STDPMechanism`` with a ``SpikePairRule`` passes per connection.
STDP_PARAMETERS = ("tau_plus", "tau_minus", "A_plus", "A_minus", "w_min", "w_max",
                   "dendritic_delay_fraction")
#: The mantissa ``w_max`` becomes: the top of the excitatory sign mode's weight range.
W_TOP = 255
_TRACE_MAX = 127
_WEIGHT_DEPS = {"AdditiveWeightDependence": "additive",
                "MultiplicativeWeightDependence": "multiplicative"}
#: products with a ``w`` factor are shifted right by 7 + 9 + 4 - 15 bits (x1 and w widths)
_W_PRODUCT_SHIFT = 5


@dataclass(frozen=True)
class StdpSpec:
    """One plastic projection's STDP parameters in PyNN units (uniform over its synapses)."""

    dependence: str          #: "additive" or "multiplicative"
    tau_plus: float
    tau_minus: float
    A_plus: float
    A_minus: float
    w_min: float
    w_max: float
    dendritic_delay_fraction: float


@dataclass(frozen=True)
class StdpReport:
    """How the PyNN rule was quantized (all errors relative unless named otherwise).

    Deterministic (they bias the expected change): ``amplitude_error_*`` (chip literal x
    impulse vs PyNN's amplitude), ``tau_error_*`` (time constant rounded to whole steps),
    ``timing_shift_ms`` (``|2f - 1| * delay``); ``pair_bound`` bounds their sum, the relative
    error of the expected weight change of one pair.  Random (unbiased, from stochastic
    rounding): ``trace_noise_*`` is the relative standard deviation of one trace read
    (``0.5 sqrt(tau / 2)`` trace units accumulated by the per-step rounding of the decay, over
    the impulse), and every weight update is rounded to a whole mantissa step ``unit_nA``
    (standard deviation at most half a step).  ``w_max_error``: relative distance of the clip
    (mantissa 255) from PyNN's ``w_max``.
    """

    projection: str
    dependence: str
    rule: str
    x1_impulse: int
    y1_impulse: int
    tau_plus_steps: int
    tau_minus_steps: int
    amplitude_error_plus: float
    amplitude_error_minus: float
    tau_error_plus: float
    tau_error_minus: float
    trace_noise_plus: float
    trace_noise_minus: float
    timing_shift_ms: float
    unit_nA: float
    w_max_error: float
    pair_bound: float

    def as_dict(self) -> dict:
        return asdict(self)

    def note(self) -> str:
        return (f"projection {self.projection!r}: STDP ({self.dependence}) on the learning "
                f"engine as dw = {self.rule}; tau+ {self.tau_plus_steps} steps, tau- "
                f"{self.tau_minus_steps} steps; amplitude error +{self.amplitude_error_plus:.2%}"
                f" / -{self.amplitude_error_minus:.2%}, one weight step {self.unit_nA:.4g} nA; "
                f"expected weight change of a pair within {self.pair_bound:.2%}; rounding noise "
                f"{max(self.trace_noise_plus, self.trace_noise_minus):.1%} (trace) and half a "
                f"weight step per update (standard deviations)")


def spec_of(synapse_type, params: dict[str, float], where: str) -> StdpSpec:
    """The :class:`StdpSpec` of an ``STDPMechanism`` whose connection parameters are ``params``."""
    td = type(synapse_type.timing_dependence).__name__
    wd = type(synapse_type.weight_dependence).__name__
    if td != "SpikePairRule":
        raise ModelError(f"{where}: timing dependence must be SpikePairRule (the learning "
                         f"engine's pair rule), not {td}", where=where)
    if wd not in _WEIGHT_DEPS:
        raise ModelError(f"{where}: weight dependence must be one of {', '.join(_WEIGHT_DEPS)} "
                         f"(the rules the learning engine can express), not {wd}", where=where)
    if getattr(synapse_type, "voltage_dependence", None) is not None:
        raise ModelError(f"{where}: STDP must have no voltage dependence (the learning engine "
                         f"reads traces, not the membrane voltage)", where=where)
    return StdpSpec(_WEIGHT_DEPS[wd], **{k: float(params[k]) for k in STDP_PARAMETERS})


def _steps(tau_ms: float, dt: float, name: str, where: str) -> tuple[int, float]:
    if not tau_ms > 0:
        raise ModelError(f"{where}: {name} must be > 0 ms, not {tau_ms:g}", where=where)
    steps = int(round(tau_ms / dt))
    if not 1 <= steps <= 255:
        raise ModelError(f"{where}: {name} must be 1..255 time steps (the learning engine's "
                         f"8-bit time constant), not {tau_ms:g} ms = {tau_ms / dt:g} steps of "
                         f"{dt:g} ms; use a larger timestep", where=where)
    return steps, abs(steps * dt - tau_ms) / tau_ms


def _amplitude(target: float, scale: float, name: str, where: str) -> tuple[int, int, int, float]:
    """(impulse, mantissa, exponent, relative error) with ``m 2^k I scale`` nearest ``target``.

    Ties go to the larger impulse (finer trace resolution)."""
    best = None
    for imp in range(_TRACE_MAX, 0, -1):
        for k in range(-7, 9):
            m = int(round(target / (2.0 ** k * imp * scale)))
            if not 1 <= m <= 7:
                continue
            err = abs(m * 2.0 ** k * imp * scale - target) / target
            key = (round(err, 12), -imp)
            if best is None or key < best[0]:
                best = (key, imp, m, k, err)
    if best is None:
        lo, hi = 2.0 ** -7 * scale, 7 * 2.0 ** 8 * _TRACE_MAX * scale
        raise ModelError(f"{where}: {name} gives {target:.4g} weight steps per pair; the "
                         f"learning engine can express {lo:.4g}..{hi:.4g}", where=where)
    return best[1], best[2], best[3], best[4]


def _literal(m: int, k: int) -> str:
    return f"({m}) * 2 ^ {k}" if k else f"({m})"


def stdp_rule(spec: StdpSpec, dt: float, delay_ms: float, unit_nA: float, w_max_units: float,
              seed: int, where: str, label: str = "") -> tuple[LearningRule, StdpReport]:
    """The chip's learning rule for ``spec`` and how it was quantized.

    ``unit_nA`` is one weight mantissa step in nA and ``w_max_units`` the exact ``w_max /
    unit_nA`` (255 up to the threshold's rounding)."""
    for name in ("A_plus", "A_minus"):
        if not getattr(spec, name) > 0:
            raise ModelError(f"{where}: {name} must be > 0 (the sign of each half is fixed: "
                             f"potentiation before, depression after), not "
                             f"{getattr(spec, name):g}", where=where)
    if not 0 <= spec.w_min < spec.w_max:
        raise ModelError(f"{where}: weights must satisfy 0 <= w_min < w_max (excitatory "
                         f"plastic synapses), not w_min {spec.w_min:g}, w_max {spec.w_max:g}",
                         where=where)
    if spec.dependence == "additive" and spec.w_min != 0:
        raise ModelError(f"{where}: the additive weight dependence needs w_min = 0 (the "
                         f"learning engine clips weights at 0 and w_max only), not "
                         f"{spec.w_min:g}", where=where)
    shift = abs(2 * spec.dendritic_delay_fraction - 1) * delay_ms
    if shift > dt * (1 + 1e-9):
        raise ModelError(f"{where}: dendritic_delay_fraction {spec.dendritic_delay_fraction:g} "
                         f"with a {delay_ms:g} ms delay moves STDP timing by {shift:g} ms; the "
                         f"learning engine sees both spikes when they fire, so at most one step "
                         f"({dt:g} ms) is available: use 0.5, or a delay of one step", where=where)
    tp, etp = _steps(spec.tau_plus, dt, "tau_plus", where)
    tm, etm = _steps(spec.tau_minus, dt, "tau_minus", where)
    if spec.dependence == "additive":
        # one pair at dt = 0 changes w by A * w_max = A * 255 mantissa steps = m 2^k I
        scale = 1.0
        tp_target, tm_target = spec.A_plus * W_TOP, spec.A_minus * W_TOP
    else:
        # per unit of (255 - w): m 2^k I / 2^5 = A
        scale = 2.0 ** -_W_PRODUCT_SHIFT
        tp_target, tm_target = spec.A_plus, spec.A_minus
    ix, mp, kp, eap = _amplitude(tp_target, scale, "A_plus", where)
    iy, mm, km, eam = _amplitude(tm_target, scale, "A_minus", where)
    lp, lm = _literal(mp, kp), _literal(-mm, km)
    if spec.dependence == "additive":
        dw = f"{lm} * x0 * y1 + {lp} * y0 * x1"
    else:
        m_min = int(round(spec.w_min / unit_nA))
        dw = f"{lm} * x0 * y1 * (w - {m_min}) + {_literal(-mp, kp)} * y0 * x1 * (w - {W_TOP})"
    rule = LearningRule(dw=dw, x1=TraceConfig(ix, tp), y1=TraceConfig(iy, tm), t_epoch=1,
                        sign_mode="excitatory", rng_seed=seed, name="pynn-stdp")
    rule.profile(where=where)
    timing = math.expm1(shift / min(spec.tau_plus, spec.tau_minus))
    tau_term = max(etp, etm)        # exp(-n/tau') vs exp(-n/tau) over the pairs that matter
    pair_bound = max(eap, eam) + timing + tau_term
    noise_p, noise_m = 0.5 * math.sqrt(tp / 2) / ix, 0.5 * math.sqrt(tm / 2) / iy
    rep = StdpReport(
        projection=label or where, dependence=spec.dependence, rule=dw, x1_impulse=ix,
        y1_impulse=iy,
        tau_plus_steps=tp, tau_minus_steps=tm, amplitude_error_plus=eap,
        amplitude_error_minus=eam, tau_error_plus=etp, tau_error_minus=etm,
        trace_noise_plus=noise_p, trace_noise_minus=noise_m, timing_shift_ms=shift,
        unit_nA=unit_nA, w_max_error=float(abs(w_max_units - W_TOP) / W_TOP),
        pair_bound=pair_bound)
    return rule, rep


def uniform_parameters(columns: dict[str, np.ndarray], where: str) -> dict[str, float]:
    """One value per STDP parameter (the chip has one learning profile per projection)."""
    out = {}
    for name, col in columns.items():
        col = np.asarray(col, float)
        if not np.all(np.isfinite(col)):
            raise ModelError(f"{where}: {name} must be a finite number, not "
                             f"{col[~np.isfinite(col)][0]}", where=where)
        if col.size and np.ptp(col) > 1e-12 * max(1.0, float(np.max(np.abs(col)))):
            raise ModelError(f"{where}: {name} must be the same for all synapses of a plastic "
                             f"projection (one learning profile each), not {col.min():g}.."
                             f"{col.max():g}; split the projection", where=where)
        out[name] = float(col[0]) if col.size else 0.0
    return out
