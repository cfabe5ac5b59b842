"""A learning rule with its trace parameters, and the fixed-point profile the image holds for it.

:class:`LearningRule` is what a user writes (rule strings, trace impulses and time constants, the
epoch length); :meth:`LearningRule.profile` turns it into a :class:`LearningProfile`: the parsed
product series plus the trace parameters in the engine's number formats.  Widths are Loihi's as
Lava 0.10's learning engine models them (``lava/magma/core/learning/constants.py``): 7-bit
traces with an 8-bit impulse fraction, 8-bit time constants, 6-bit epoch, a 16-bit signed
synaptic-change accumulator (15 magnitude bits), 8-bit magnitudes for weight, delay and tag.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from spikefab.arch.learning.rule import TARGETS, TRACES, ProductSeries, parse_rule
from spikefab.arch.neuron import SIGN_EXCITATORY, SIGN_INHIBITORY, SIGN_MIXED
from spikefab.arch.errors import ModelError

__all__ = [
    "W_TRACE", "W_TRACE_FRAC", "W_ACC_U", "W_SYN_U", "W_S_MANT", "MAX_T_EPOCH",
    "TraceConfig", "LearningRule", "LearningProfile", "decay_factor",
]

W_TRACE = 7            #: trace magnitude bits (0..127)
W_TRACE_FRAC = 8       #: impulse fraction bits
W_ACC_U = 15           #: synaptic-change accumulator magnitude bits
W_SYN_U = 8            #: weight / delay / tag magnitude bits
W_S_MANT = 4           #: scaling-mantissa width counted in the product's shift
MAX_T_EPOCH = 63       #: 6-bit epoch (Loihi: "epoch <= 63")
MAX_TAU = 255          #: 8-bit time constant
SIGN_MODES = {"mixed": SIGN_MIXED, "excitatory": SIGN_EXCITATORY, "inhibitory": SIGN_INHIBITORY}


def decay_factor(tau: int) -> float:
    """``exp(-1 / tau)`` as the IEEE binary64 the image stores (0.0 for ``tau = 0``: no decay step).

    The compiler computes it once; backends only multiply by it, so no backend evaluates ``exp``.
    It is computed with NumPy's ``exp`` on an array exactly as Lava's learning engine does.
    """
    if tau == 0:
        return 0.0
    return float(np.exp(-1 / np.array([tau], dtype=np.int64))[0])


@dataclass(frozen=True)
class TraceConfig:
    """One trace: the impulse added per spike (may be fractional) and the decay time constant.

    ``tau = 0`` is Lava's "inactive decay": the trace is cleared every step and holds only the
    impulse of a spike in the epoch's last step.
    """

    impulse: float = 0.0
    tau: int = 0

    @property
    def impulse_int(self) -> int:
        return int(math.floor(self.impulse))

    @property
    def impulse_frac(self) -> int:
        """Fraction in 1/256 units (Lava rounds half to even, ``np.round``)."""
        return int(np.round((self.impulse - math.floor(self.impulse)) * 2 ** W_TRACE_FRAC))

    def check(self, name: str, where: str) -> None:
        if not 0 <= self.impulse < 2 ** W_TRACE:
            raise ModelError(f"{where}: {name} impulse must be in [0, 128), not {self.impulse!r}",
                             where=where)
        if int(self.tau) != self.tau or not 0 <= self.tau <= MAX_TAU:
            raise ModelError(f"{where}: {name} tau must be an integer 0..{MAX_TAU}, not "
                             f"{self.tau!r}", where=where)


@dataclass(frozen=True)
class LearningRule:
    """A plastic projection's rule, in Loihi's / Lava's terms.

    ``dw``, ``dd``, ``dt``: rule strings (see :mod:`spikefab.arch.learning.rule`); ``x1``, ``x2``
    (pre-synaptic) and ``y1``, ``y2``, ``y3`` (post-synaptic) traces; ``t_epoch`` steps per
    learning epoch; ``sign_mode`` the weights' sign range (``mixed``, ``excitatory``,
    ``inhibitory``); ``rng_seed`` seeds the stochastic rounding (``None``: the compile seed).
    """

    dw: str | None = None
    dd: str | None = None
    dt: str | None = None
    x1: TraceConfig = field(default_factory=TraceConfig)
    x2: TraceConfig = field(default_factory=TraceConfig)
    y1: TraceConfig = field(default_factory=TraceConfig)
    y2: TraceConfig = field(default_factory=TraceConfig)
    y3: TraceConfig = field(default_factory=TraceConfig)
    t_epoch: int = 1
    sign_mode: str = "mixed"
    rng_seed: int | None = None
    name: str = "rule"
    #: random generator of the image: "hardware" (xorshift64) or "lava" (compatibility mode)
    generator: str = "hardware"
    #: y2 is a reward trace: reward spikes (``Network.reward``) add its impulse, post spikes don't
    reward: bool = False

    def traces(self) -> tuple[TraceConfig, ...]:
        return (self.x1, self.x2, self.y1, self.y2, self.y3)

    def profile(self, *, where: str = "learning rule") -> "LearningProfile":
        """Parse and check the rule; any problem is a :class:`~spikefab.errors.ModelError`."""
        rules = {k: getattr(self, k) for k in TARGETS if getattr(self, k) is not None}
        if not rules:
            raise ModelError(f"{where}: a learning rule needs at least one of dw, dd, dt",
                             where=where)
        series = {k: parse_rule(k, s, where=where) for k, s in rules.items()}
        dec = {s.decimate_exponent for s in series.values()} - {None}
        if len(dec) > 1:
            raise ModelError(f"{where}: one decimate exponent uK per rule, found "
                             f"{sorted(dec)}", where=where)
        for name, tr in zip(TRACES, self.traces()):
            tr.check(name, where)
        if int(self.t_epoch) != self.t_epoch or not 1 <= self.t_epoch <= MAX_T_EPOCH:
            raise ModelError(f"{where}: t_epoch must be 1..{MAX_T_EPOCH}, not {self.t_epoch!r}",
                             where=where)
        seed = self.rng_seed
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                                 or not 0 <= seed < (1 << 32)):
            raise ModelError(f"{where}: rng_seed must be None or an integer 0..2^32-1 (the "
                             f"image's 32-bit seed), not {seed!r}", where=where)
        if self.generator not in ("hardware", "lava"):
            raise ModelError(f"{where}: generator must be 'hardware' or 'lava', not "
                             f"{self.generator!r}", where=where)
        if self.sign_mode not in SIGN_MODES:
            raise ModelError(f"{where}: sign_mode must be one of {sorted(SIGN_MODES)}, not "
                             f"{self.sign_mode!r}", where=where)
        return LearningProfile(
            series=tuple(series.values()),
            decimate_exponent=dec.pop() if dec else None,
            impulse_int=tuple(t.impulse_int for t in self.traces()),
            impulse_frac=tuple(t.impulse_frac for t in self.traces()),
            tau=tuple(int(t.tau) for t in self.traces()),
            decay=tuple(decay_factor(int(t.tau)) for t in self.traces()),
            t_epoch=int(self.t_epoch),
            sign_mode=SIGN_MODES[self.sign_mode],
            reward=bool(self.reward),
        )


@dataclass(frozen=True)
class LearningProfile:
    """What the image holds per learning profile; trace order is x1, x2, y1, y2, y3."""

    series: tuple[ProductSeries, ...]
    decimate_exponent: int | None
    impulse_int: tuple[int, ...]
    impulse_frac: tuple[int, ...]
    tau: tuple[int, ...]
    decay: tuple[float, ...]
    t_epoch: int
    sign_mode: int
    reward: bool = False             #: y2 fed by reward synapses instead of post spikes

    def rule(self, target: str) -> ProductSeries | None:
        return next((s for s in self.series if s.target == target), None)
