"""Named rules written in the rule language: pair-based STDP and reward-modulated STDP.

``STDP`` produces the same rule string as Lava 0.10's ``STDPLoihi``
(``lava/proc/learning_rules/stdp_learning_rule.py``), so a network built with it learns
identically under Lava.  ``RewardModulatedSTDP`` uses the rule strings of Lava's ``RSTDPLoihi``
with the third factor delivered by reward spikes (``Network.reward``) into the y2 trace.
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
                        reward_impulse: float = 32, reward_tau: int = 4, x1_impulse: float = 16,
                        y1_impulse: float = 16, t_epoch: int = 1, sign_mode: str = "mixed",
                        rng_seed: int | None = None, generator: str = "hardware") -> LearningRule:
    """Reward-modulated STDP (Frémaux & Gerstner 2016), the rules of Lava's ``RSTDPLoihi``.

    The STDP term accumulates in the synaptic tag ``t`` (the eligibility trace, which decays by
    ``tau_eligibility`` per epoch): ``dt = lr·A−·x0·y1 + lr·A+·y0·x1 − u0·t·tau_eligibility``;
    the weight follows the tag gated by the reward trace: ``dw = u0·t·y2``.  y2 is the third
    factor: each reward spike to a post neuron (``Network.reward(source, projection)``) adds
    ``reward_impulse`` to its y2, which decays with ``reward_tau``; post spikes leave it alone.
    """
    lr, ap, am = (float_to_literal(v) for v in (learning_rate, A_plus, A_minus))
    el = float_to_literal(tau_eligibility)
    dt = f"{lr} * {am} * x0 * y1 + {lr} * {ap} * y0 * x1 - u0 * t * {el}"
    return LearningRule(dw="u0 * t * y2", dt=dt, x1=TraceConfig(x1_impulse, int(tau_plus)),
                        y1=TraceConfig(y1_impulse, int(tau_minus)),
                        y2=TraceConfig(reward_impulse, int(reward_tau)), t_epoch=t_epoch,
                        sign_mode=sign_mode, rng_seed=rng_seed, name="rstdp",
                        generator=generator, reward=True)
