"""Named rules: pair-based STDP and reward-modulated STDP, written in the rule language.

Both produce the same rule strings as Lava 0.10's ``STDPLoihi`` and ``RSTDPLoihi``
(``lava/proc/learning_rules/``), so a network built with them learns identically under Lava.
"""

from __future__ import annotations

import math

from spikefab.arch.learning.profile import LearningRule, TraceConfig

__all__ = ["float_to_literal", "STDP", "RewardModulatedSTDP"]


def float_to_literal(value: float) -> str:
    """A float as a rule literal ``(m) * 2 ^ e`` (Lava's ``float_to_literal``, same rounding)."""
    if value == 0:
        return "0"
    sign = 1 if value > 0 else -1
    mag = abs(value)
    mant = max(int(mag), 1)
    rem = mag / mant
    if rem == 1:
        return f"({sign * mant})"
    return f"({sign * mant}) * 2 ^ {int(round(math.log2(rem)))}"


def STDP(A_plus: float, A_minus: float, tau_plus: int, tau_minus: int,
         learning_rate: float = 1.0, *, x1_impulse: float = 16, y1_impulse: float = 16,
         t_epoch: int = 1, sign_mode: str = "mixed", rng_seed: int | None = None,
         generator: str = "hardware") -> LearningRule:
    """Pair-based STDP (Gerstner et al. 1996) as Lava's ``STDPLoihi``.

    ``dw = lr * A_minus * x0 * y1 + lr * A_plus * y0 * x1``: a pre spike depresses by the post
    trace y1 (``A_minus`` is negative for depression), a post spike potentiates by the pre trace x1.
    """
    lr, ap, am = (float_to_literal(v) for v in (learning_rate, A_plus, A_minus))
    dw = f"{lr} * {am} * x0 * y1 + {lr} * {ap} * y0 * x1"
    return LearningRule(dw=dw, x1=TraceConfig(x1_impulse, int(tau_plus)),
                        y1=TraceConfig(y1_impulse, int(tau_minus)), t_epoch=t_epoch,
                        sign_mode=sign_mode, rng_seed=rng_seed, name="stdp", generator=generator)


def RewardModulatedSTDP(A_plus: float, A_minus: float, tau_plus: int, tau_minus: int,
                        tau_eligibility: float, learning_rate: float = 1.0, *,
                        x1_impulse: float = 16, y1_impulse: float = 16, t_epoch: int = 1,
                        sign_mode: str = "mixed",
                        rng_seed: int | None = None) -> LearningRule:
    """Reward-modulated STDP (Frémaux & Gerstner 2016) as Lava's ``RSTDPLoihi``.

    The STDP term accumulates in the synaptic tag ``t`` (the eligibility trace, decaying by
    ``tau_eligibility``); the weight follows the tag gated by the post population's reward trace
    y2: ``dw = u0 * t * y2``.  The third factor is delivered as a graded reward value (0..127) to
    the post population; it replaces y2 for the step (Lava's three-factor trace input).
    """
    lr, ap, am = (float_to_literal(v) for v in (learning_rate, A_plus, A_minus))
    el = float_to_literal(tau_eligibility)
    dt = f"{lr} * {am} * x0 * y1 + {lr} * {ap} * y0 * x1 - u0 * t * {el}"
    return LearningRule(dw="u0 * t * y2", dt=dt, x1=TraceConfig(x1_impulse, int(tau_plus)),
                        y1=TraceConfig(y1_impulse, int(tau_minus)), t_epoch=t_epoch,
                        sign_mode=sign_mode, rng_seed=rng_seed, name="rstdp")
