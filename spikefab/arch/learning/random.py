"""The learning engine's random numbers: when they are drawn, and the two generators.

Stochastic rounding needs three kinds of random number (Lava 0.10's ``TraceRandom`` and
``ConnVarRandom``): a uniform ``r in [0, 1)`` for rounding a decayed trace, a 7-bit integer for
rounding an impulse (compared with its 8-bit fraction, as Lava does), and a uniform for rounding
a synaptic variable.  Uniforms always have 53 bits (``k * 2^-53``), so every comparison with a
fraction is exact in any backend.  Five streams per learning profile and core: x-decay, x-impulse,
y-decay, y-impulse, synapse rounding.

Schedule (the contract; Lava's order): every time step advances the four trace streams twice
(after recording the pre spikes, and again after the post spikes; a post neuron's second spike
in an epoch is rounded with the y-impulse value between the two advances); every epoch advances
the synapse stream once, then evaluates the epoch with the current values of all five.

Generators:

* ``"hardware"`` (default): xorshift64 per stream (Marsaglia 2003, shifts 13, 7, 17); state
  words live in the image, seeded from the compile seed.  A uniform is ``state >> 11`` scaled by
  ``2^-53``, a 7-bit integer is ``state >> 57``.
* ``"lava"``: the compatibility mode.  Lava draws from NumPy's PCG64 (``default_rng``) seeded with
  the rule's ``rng_seed`` (+0, +1 for x, +2, +3 for y) and the fixed seed 2 for synapse rounding;
  this is a software artefact that no hardware has, reproduced so that Lava is an oracle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["GENERATORS", "STREAMS", "xorshift64", "seed_states", "LearningRandom"]

GENERATORS = ("hardware", "lava")
STREAMS = ("x_decay", "x_impulse", "y_decay", "y_impulse", "round")
_MASK64 = (1 << 64) - 1
_INV53 = 2.0 ** -53


def xorshift64(s: int) -> int:
    """One step of the hardware generator (never yields 0 from a non-zero state)."""
    s ^= (s << 13) & _MASK64
    s ^= s >> 7
    s ^= (s << 17) & _MASK64
    return s


def seed_states(seed: int, core: int, profile: int) -> list[int]:
    """Initial xorshift64 states of the five streams of one (core, profile): SplitMix64 of the seed."""
    out = []
    z = (seed * 0x9E3779B97F4A7C15 + (core << 20) + (profile << 4)) & _MASK64
    for _ in STREAMS:
        z = (z + 0x9E3779B97F4A7C15) & _MASK64
        x = z
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
        x ^= x >> 31
        out.append(x or 1)
    return out


@dataclass
class LearningRandom:
    """The current values of the five streams of one (core, learning profile) and their state.

    ``values`` holds the current draw per stream (uniforms as floats ``k * 2^-53``, impulses as
    ints 0..127); :meth:`advance_traces` and :meth:`advance_round` draw the next ones.
    """

    generator: str
    states: list[int]                     #: hardware: xorshift64 words
    _np: list[np.random.Generator] | None = None
    values: list[float | int] | None = None

    @classmethod
    def hardware(cls, states: list[int]) -> "LearningRandom":
        r = cls("hardware", list(states))
        r.values = [r._draw(i) for i in range(len(STREAMS))]
        return r

    @classmethod
    def lava(cls, rng_seed: int) -> "LearningRandom":
        seeds = [rng_seed, rng_seed + 1, rng_seed + 2, rng_seed + 3, 2]
        r = cls("lava", [], [np.random.default_rng(seed=s) for s in seeds])
        r.values = [r._draw(i) for i in range(len(STREAMS))]
        return r

    def _draw(self, i: int) -> float | int:
        impulse = STREAMS[i].endswith("impulse")
        if self.generator == "lava":
            g = self._np[i]
            return int(g.integers(0, 2 ** 7, size=1, dtype=int)[0]) if impulse \
                else float(g.random(1)[0])
        s = self.states[i]
        return (s >> 57) if impulse else (s >> 11) * _INV53

    def _advance(self, i: int) -> None:
        if self.generator == "hardware":
            self.states[i] = xorshift64(self.states[i])
        self.values[i] = self._draw(i)

    def advance_traces(self) -> None:
        for i in range(4):
            self._advance(i)

    def advance_round(self) -> None:
        self._advance(4)

    @property
    def x_decay(self) -> float:
        return self.values[0]

    @property
    def x_impulse(self) -> int:
        return self.values[1]

    @property
    def y_decay(self) -> float:
        return self.values[2]

    @property
    def y_impulse(self) -> int:
        return self.values[3]

    @property
    def round(self) -> float:
        return self.values[4]
