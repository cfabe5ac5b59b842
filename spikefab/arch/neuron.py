"""The reference neuron arithmetic: one time step of Loihi's CUBA LIF, in plain integers.

This module is the *definition* every backend (emulator engines, RTL, FPGA) must equal bit for
bit.  It is kept short and readable on purpose; speed lives in the emulator's Numba kernels.

Base model — Intel Lava's bit-accurate Loihi models (``PyLifModelBitAcc`` and
``PyDenseModelBitAcc``, reference notes ``hardware-anchors.md`` section 1), for one step::

    u  <- trunc0(u * (4096 - (du + 1)) / 4096) + (a << 6)     wrapped once into 24 bits
    v  <- sat24(trunc0(v * (4096 - dv) / 4096) + u + bias)    bias = bias_mant << bias_exp
    s  <- v > (vth << 6)                                       strict
    v  <- 0 where s                                            u is not reset

where ``a`` is the synaptic input of the step: for each Dense projection the sum of the weights of
the spiking inputs, shifted by the projection's ``weight_exp`` (arithmetic, floor, on the *sum*),
summed over projections.  ``trunc0`` truncates toward zero.  Quirks kept on purpose: ``du = 0``
still decays by 1/4096; the wrap applies a single +-2**24 correction and keeps ``u == 2**23``;
``a << 6`` and the sum with the decayed current are computed in int32 as Lava does.

Extensions, all off by default so that the default is Lava exactly:

* ``reset_mode = RESET_SUBTRACT``: ``v <- v - vth_eff`` instead of 0 on a spike.
* ``refractory = R > 0``: after a spike the voltage is frozen (not decayed, no input, no spike)
  for R steps; the current keeps integrating (brian2-loihi / Lava ``LIFRefractory`` semantics).
* adaptive threshold: ``theta <- trunc0(theta * (4096 - theta_decay) / 4096)`` each step, then
  ``vth_eff = (vth << 6) + theta``; on a spike ``theta += theta_inc`` (saturating at 2**23 - 1).
* synaptic delays 0..63 (see :mod:`spikefab.arch.reference` for the dendritic ring buffer).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "RESET_ZERO",
    "RESET_SUBTRACT",
    "STATE_MAX",
    "SIGN_MIXED",
    "SIGN_EXCITATORY",
    "SIGN_INHIBITORY",
    "decay",
    "wrap_current",
    "scale_bias",
    "shift_input",
    "lif_step",
    "determine_sign_mode",
    "effective_weights",
]

RESET_ZERO = 0
RESET_SUBTRACT = 1
STATE_MAX = (1 << 23) - 1          #: voltage saturates at +-STATE_MAX
DECAY_UNITY = 4096
SIGN_MIXED, SIGN_EXCITATORY, SIGN_INHIBITORY = 1, 2, 3   # Lava's SignMode values


def _wrap32(x: np.ndarray) -> np.ndarray:
    """Two's-complement wrap of int64 values into int32 (what numpy int32 arithmetic does)."""
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def decay(x: np.ndarray, d: np.ndarray | int) -> np.ndarray:
    """``trunc0(x * (4096 - d) / 4096)``: Loihi's decay, truncating toward zero."""
    p = np.asarray(x, dtype=np.int64) * (DECAY_UNITY - np.asarray(d, dtype=np.int64))
    return np.sign(p) * (np.abs(p) >> 12)


def wrap_current(uc: np.ndarray) -> np.ndarray:
    """Lava's single-correction 24-bit wrap of the current (``u == 2**23`` is kept)."""
    uc = np.asarray(uc, dtype=np.int64)
    return np.where(uc > (1 << 23), uc - (1 << 24), np.where(uc <= -(1 << 23), uc + (1 << 24), uc))


def scale_bias(bias_mant: np.ndarray, bias_exp: np.ndarray) -> np.ndarray:
    """``bias_mant << bias_exp`` (right shift for a negative exponent), as Lava's ``scale_bias``."""
    m = np.asarray(bias_mant, dtype=np.int64)
    e = np.asarray(bias_exp, dtype=np.int64)
    return np.where(e >= 0, m << np.maximum(e, 0), m >> np.maximum(-e, 0))


def shift_input(acc: np.ndarray, weight_exp: int) -> np.ndarray:
    """Dense output of one projection: the weight sum shifted by ``weight_exp`` (floor on the sum)."""
    acc = np.asarray(acc, dtype=np.int64)
    return acc << weight_exp if weight_exp > 0 else acc >> (-weight_exp)


def lif_step(u: np.ndarray, v: np.ndarray, a: np.ndarray, *, du, dv, vth, bias_mant, bias_exp,
             reset_mode=RESET_ZERO, refractory=0, ref=None, theta=None, theta_inc=0,
             theta_decay=0):
    """One time step of a group of neurons; returns ``(u, v, spikes, ref, theta)`` as new arrays.

    Parameters are scalars or per-neuron arrays.  ``a`` is the step's synaptic input (Lava's
    ``a_in``).  ``ref`` (remaining refractory steps) and ``theta`` (threshold adaptation) default
    to zeros.  Inputs are not modified.
    """
    n = np.shape(u)[0]
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    a = np.asarray(a, dtype=np.int64)
    ref = np.zeros(n, np.int64) if ref is None else np.asarray(ref, dtype=np.int64)
    theta = np.zeros(n, np.int64) if theta is None else np.asarray(theta, dtype=np.int64)
    du = np.asarray(du, dtype=np.int64)

    # current (Lava: int32(decayed) + (a << 6) in int32, then one wrap correction)
    uc = _wrap32(_wrap32(decay(u, du + 1)) + _wrap32(a << 6))
    u_new = wrap_current(uc)

    # threshold adaptation state decays every step
    theta_new = decay(theta, theta_decay)
    vth_eff = (np.asarray(vth, dtype=np.int64) << 6) + theta_new

    # voltage (frozen while refractory)
    bias = scale_bias(bias_mant, bias_exp)
    v_upd = np.clip(decay(v, dv) + u_new + bias, -STATE_MAX, STATE_MAX)
    refractory_now = ref > 0
    v_new = np.where(refractory_now, v, v_upd)
    spikes = (~refractory_now) & (v_new > vth_eff)
    reset_value = np.where(np.asarray(reset_mode) == RESET_SUBTRACT, v_new - vth_eff, 0)
    v_new = np.where(spikes, reset_value, v_new)

    ref_new = np.where(refractory_now, ref - 1, np.where(spikes, refractory, 0))
    theta_new = np.where(spikes, np.minimum(theta_new + theta_inc, STATE_MAX), theta_new)
    return u_new, v_new, spikes, np.asarray(ref_new, np.int64), theta_new


def determine_sign_mode(weights: np.ndarray) -> int:
    """Lava's ``determine_sign_mode``: excitatory if all >= 0, inhibitory if all <= 0, else mixed."""
    w = np.asarray(weights)
    if w.size == 0 or w.min() >= 0:
        return SIGN_EXCITATORY
    if w.max() <= 0:
        return SIGN_INHIBITORY
    return SIGN_MIXED


def effective_weights(weights: np.ndarray, num_weight_bits: int = 8,
                      sign_mode: int | None = None) -> np.ndarray:
    """The weights a Dense projection really applies: Lava's ``clip_weights`` + ``truncate_weights``.

    Mixed sign: clip to [-256, 255]; excitatory [0, 255]; inhibitory [-255, 0].  Then drop
    ``8 - num_weight_bits (+1 if mixed)`` low bits (on the magnitude for inhibitory weights).
    """
    w = np.asarray(weights, dtype=np.int64)
    mode = determine_sign_mode(w) if sign_mode is None else sign_mode
    mixed = mode == SIGN_MIXED
    if mixed:
        w = np.clip(w, -256, 255)
    elif mode == SIGN_EXCITATORY:
        w = np.clip(w, 0, 255)
    else:
        w = -np.clip(-w, 0, 255)
    shift = 8 - num_weight_bits + (1 if mixed else 0)
    if shift > 0:
        if mode == SIGN_INHIBITORY:
            w = -(((-w) >> shift) << shift)
        else:
            w = (w >> shift) << shift
    return w
