"""The reference learning engine: traces, the epoch boundary, rule evaluation, rounding, clipping.

Plain integers (and one IEEE binary64 multiply per trace decay), readable on purpose: every
backend equals this bit for bit.  The arithmetic is Lava 0.10's fixed-point learning engine
(``LearningConnectionModelBitApproximate`` and ``LearningRuleApplierBitApprox``), stated per
synapse so that it applies to a sparse synapse list as well as to a dense matrix.

A :class:`PlasticGroup` is the plastic synapses of one learning profile in one core: synapse ``s``
connects pre-synaptic slot ``pre[s]`` (an input axon) to post-synaptic slot ``post[s]`` (a
neuron) and holds weight ``w``, delay tag ``d`` and tag ``t``.  Pre slots hold traces x1, x2 and
the within-epoch spike time ``tx``; post slots hold y1, y2, y3 and ``ty``.

Time step ``T`` (1-based, the step whose neuron update just ran), ``k = T mod t_epoch`` (or
``t_epoch`` when 0):

1. :func:`record_pre`: a pre slot spiking sets ``tx = k``; if it had already spiked this epoch,
   x1 and x2 get their impulse now, the fraction rounded up (``x + int + (frac > 0)``, clipped to
   0..127).  Then the trace streams advance.
2. :func:`record_post`: the same for post slots (``ty``, y1..y3), the fraction rounded against the
   y-impulse random value (``r < frac``); :func:`record_reward` (profiles whose y2 is a reward
   trace): each reward synapse hit adds y2's impulse to its post slot's y2 (rounded up), and post
   spikes never add to y2.  Then the trace streams advance again.
3. :func:`learn` when ``T mod t_epoch == 0``: the synapse stream advances; each trace's history
   over the epoch is rebuilt step by step (``h[0]`` = current value; ``h[i] = sround(h[i-1] *
   exp(-1/tau), r_decay)`` or 0 when ``tau = 0``, plus the impulse (``sround`` against
   ``r_impulse``, clipped) at the slot's spike time); traces become ``h[t_epoch]``; every rule
   target is evaluated (below) and its synaptic variable updated; ``tx``, ``ty`` are cleared.

Rule evaluation for one synapse (each product, in int32 with wrap-around as Lava computes it)::

    acc  = var << 7                                   16-bit signed accumulator, var is w, d or t
    for each product:  m = dep * prod(clip(f_i)) * s_mantissa
                       m = (m >> max(0, sum(width_i) + 4 - 15)) << s_exp     (s_exp in 0..15)
                       acc = clip(acc + clip(m, -2^15-1, 2^15-1), -2^15-1, 2^15-1)
    acc  = sign-mode floor (w: >= 0 excitatory, <= 0 inhibitory; d: >= 0)
    var' = (acc >> 7) + (r_round < (acc & 127) / 128), then clipped to the variable's range

where ``dep`` is x0 (the pre slot spiked this epoch), y0 or u (1 when ``(T // t_epoch) mod 2^K``
is 0), and a trace factor is read at the dependency's time: with x0 the value at ``tx``, with y0
at ``ty``, with u at the end of the epoch.  Ranges: w mixed -256..255, excitatory 0..255,
inhibitory -255..0; d 0..255; t -257..255 (Lava's bounds, kept).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spikefab.arch.learning.profile import LearningProfile, W_ACC_U, W_S_MANT, W_TRACE
from spikefab.arch.learning.random import LearningRandom
from spikefab.arch.learning.rule import FACTOR_WIDTH, ProductSeries
from spikefab.arch.neuron import SIGN_EXCITATORY, SIGN_INHIBITORY

__all__ = ["PlasticGroup", "record_pre", "record_post", "record_reward", "learn", "is_epoch_end",
           "within_epoch", "evaluate_series", "VAR_RANGE", "weight_range"]

_ACC_MAX = 2 ** W_ACC_U - 1
_ACC_MIN = -(2 ** W_ACC_U) - 1
_SHIFT = 7                          # 16-bit accumulator vs 9-bit signed variable
#: Final range of delay and tag (Lava ``_saturate_synaptic_variable``).
VAR_RANGE = {"d": (0, 255), "t": (-257, 255)}


def weight_range(sign_mode: int) -> tuple[int, int]:
    if sign_mode == SIGN_EXCITATORY:
        return 0, 255
    if sign_mode == SIGN_INHIBITORY:
        return -255, 0
    return -256, 255


def _i32(x: np.ndarray) -> np.ndarray:
    """Two's-complement wrap into int32 (what Lava's in-place int32 products do)."""
    return ((np.asarray(x, np.int64) + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


@dataclass
class PlasticGroup:
    """State of the plastic synapses of one learning profile in one core (all int64 arrays)."""

    pre: np.ndarray
    post: np.ndarray
    w: np.ndarray
    d: np.ndarray
    t: np.ndarray
    x: np.ndarray                   #: (2, n_pre) traces x1, x2
    y: np.ndarray                   #: (3, n_post) traces y1, y2, y3
    tx: np.ndarray = field(default=None)  # type: ignore[assignment]
    ty: np.ndarray = field(default=None)  # type: ignore[assignment]
    #: reward synapses (profiles with a reward trace): their pre (axon) and post (neuron) slots
    reward_pre: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    reward_post: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __post_init__(self) -> None:
        for name in ("pre", "post", "w", "d", "t", "x", "y"):
            setattr(self, name, np.array(getattr(self, name), dtype=np.int64))
        if self.tx is None:
            self.tx = np.zeros(self.x.shape[1], np.int64)
        if self.ty is None:
            self.ty = np.zeros(self.y.shape[1], np.int64)

    @classmethod
    def empty(cls, pre, post, w, n_pre: int, n_post: int) -> "PlasticGroup":
        n = len(np.asarray(pre))
        return cls(pre, post, w, np.zeros(n), np.zeros(n), np.zeros((2, n_pre)),
                   np.zeros((3, n_post)))


def within_epoch(time_step: int, t_epoch: int) -> int:
    k = time_step % t_epoch
    return t_epoch if k == 0 else k


def is_epoch_end(time_step: int, t_epoch: int) -> bool:
    return time_step % t_epoch == 0


def _impulse(tr: np.ndarray, imp_int, imp_frac, r: int) -> np.ndarray:
    out = tr + np.asarray(imp_int, np.int64) + (r < np.asarray(imp_frac, np.int64))
    return np.clip(out, 0, 2 ** W_TRACE - 1)


def record_pre(g: PlasticGroup, prof: LearningProfile, spikes: np.ndarray, time_step: int) -> None:
    """Step 1: pre spikes of step ``time_step`` (bool per pre slot)."""
    spikes = np.asarray(spikes, bool)
    multi = (g.tx > 0) & spikes
    for i in range(2):
        g.x[i, multi] = _impulse(g.x[i, multi], prof.impulse_int[i], prof.impulse_frac[i], 0)
    g.tx[spikes] = within_epoch(time_step, prof.t_epoch)


def record_post(g: PlasticGroup, prof: LearningProfile, spikes: np.ndarray, time_step: int,
                rnd: LearningRandom) -> None:
    """Step 2: post spikes of step ``time_step``; ``rnd`` already advanced once this step."""
    spikes = np.asarray(spikes, bool)
    multi = (g.ty > 0) & spikes
    for i in range(3):
        if i == 1 and prof.reward:
            continue                  # a reward trace takes no impulse from post spikes
        g.y[i, multi] = _impulse(g.y[i, multi], prof.impulse_int[2 + i],
                                 prof.impulse_frac[2 + i], rnd.y_impulse)
    g.ty[spikes] = within_epoch(time_step, prof.t_epoch)


def record_reward(g: PlasticGroup, prof: LearningProfile, axon_spikes: np.ndarray) -> None:
    """Step 2b (reward profiles): each reward synapse hit in this step adds y2's impulse to its
    post neuron's y2 at once (fraction rounded up, clipped to 0..127), in synapse order."""
    if not prof.reward:
        return
    hit = np.asarray(axon_spikes, bool)[g.reward_pre]
    for j in g.reward_post[hit]:
        g.y[1, j] = _impulse(g.y[1, j], prof.impulse_int[3], prof.impulse_frac[3], 0)


def decay_trace(tr: np.ndarray, factor: float, r: float) -> np.ndarray:
    """``floor(tr * f) + (r < frac(tr * f))`` with ``tr * f`` the binary64 product."""
    p = np.asarray(tr, np.float64) * np.float64(factor)
    fl = np.floor(p)
    return fl.astype(np.int64) + (r < (p - fl))


def _history(tr: np.ndarray, times: np.ndarray, prof: LearningProfile, base: int,
             r_decay: float, r_imp: int, skip: int = -1) -> np.ndarray:
    """(t_epoch + 1, n_traces, n_slots) trace values over the epoch (Lava's naive algorithm)."""
    n_tr = tr.shape[0]
    h = np.zeros((prof.t_epoch + 1,) + tr.shape, np.int64)
    h[0] = tr
    for k in range(1, prof.t_epoch + 1):
        for i in range(n_tr):
            if prof.tau[base + i] != 0:
                h[k, i] = decay_trace(h[k - 1, i], prof.decay[base + i], r_decay)
            if i == skip:
                continue              # the reward trace: no impulse at the post spike
            ids = times == k
            h[k, i, ids] = _impulse(h[k, i, ids], prof.impulse_int[base + i],
                                    prof.impulse_frac[base + i], r_imp)
    return h


def _factor_value(f, dep: str, g: PlasticGroup, xh, yh, x0, y0) -> np.ndarray:
    """Value of one factor for every synapse, before saturation."""
    v = f.var
    if v == "x0":
        val = x0[g.pre].astype(np.int64)
    elif v == "y0":
        val = y0[g.post].astype(np.int64)
    elif v[0] in "xy" and v in ("x1", "x2", "y1", "y2", "y3"):
        hist, slots = (xh, g.pre) if v[0] == "x" else (yh, g.post)
        i = int(v[1]) - 1
        if dep == "x0":
            at = g.tx[g.pre]
        elif dep == "y0":
            at = g.ty[g.post]
        else:
            at = np.full(len(g.pre), hist.shape[0] - 1)
        val = hist[at, i, slots]
    else:
        val = getattr(g, v)
    val = val + f.const
    return np.sign(val) if f.is_sgn else val


def evaluate_series(series: ProductSeries, acc: np.ndarray, g: PlasticGroup, xh, yh, x0, y0,
                    u: int) -> np.ndarray:
    """Accumulate every product of ``series`` onto ``acc`` (the variable << 7)."""
    acc = np.asarray(acc, np.int64)
    n = len(g.pre)
    for p in series.products:
        if p.dependency == "x0":
            m = x0[g.pre].astype(np.int64)
        elif p.dependency == "y0":
            m = y0[g.post].astype(np.int64)
        else:
            m = np.full(n, u, np.int64)
        width = 0
        for f in p.factors:
            b = FACTOR_WIDTH[f.var]
            width += b
            val = np.clip(_factor_value(f, p.dependency, g, xh, yh, x0, y0), -(2 ** b),
                          2 ** b - 1)
            m = _i32(m * val)
        m = _i32(m * p.s_mantissa)
        m = m >> max(0, width + W_S_MANT - W_ACC_U)
        m = _i32(m << p.s_exp)
        m = np.clip(m, _ACC_MIN, _ACC_MAX)
        acc = np.clip(acc + m, _ACC_MIN, _ACC_MAX)
    return acc


def learn(g: PlasticGroup, prof: LearningProfile, time_step: int, rnd: LearningRandom) -> None:
    """Step 3, the epoch boundary (call only when :func:`is_epoch_end`)."""
    rnd.advance_round()
    x0 = g.tx > 0
    y0 = g.ty > 0
    xh = _history(g.x, g.tx, prof, 0, rnd.x_decay, rnd.x_impulse)
    yh = _history(g.y, g.ty, prof, 2, rnd.y_decay, rnd.y_impulse, 1 if prof.reward else -1)
    g.x, g.y = xh[-1].copy(), yh[-1].copy()
    u = 0
    if prof.decimate_exponent is not None:
        u = int((time_step // prof.t_epoch) % (2 ** prof.decimate_exponent) == 0)
    new = {}
    for series in prof.series:
        var = {"dw": "w", "dd": "d", "dt": "t"}[series.target]
        acc = evaluate_series(series, getattr(g, var) << _SHIFT, g, xh, yh, x0, y0, u)
        if var == "w":
            if prof.sign_mode == SIGN_EXCITATORY:
                acc = np.maximum(acc, 0)
            elif prof.sign_mode == SIGN_INHIBITORY:
                acc = np.minimum(acc, 0)
            lo, hi = weight_range(prof.sign_mode)
        else:
            if var == "d":
                acc = np.maximum(acc, 0)
            lo, hi = VAR_RANGE[var]
        frac = (acc & ((1 << _SHIFT) - 1)) / float(1 << _SHIFT)
        new[var] = np.clip((acc >> _SHIFT) + (rnd.round < frac), lo, hi)
    for var, val in new.items():
        setattr(g, var, val.astype(np.int64))
    g.tx[:] = 0
    g.ty[:] = 0
