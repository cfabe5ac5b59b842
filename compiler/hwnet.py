"""The hardware-level network: fixed-point populations and sparse synapse projections.

This is the hand-off point inside the compiler.  The front end (NIR, text IR) lowers and quantizes
a float :class:`~spikefab.compiler.ir.Graph` into a :class:`HwNetwork`; the Python builder
(:class:`~spikefab.compiler.builder.Network`) writes one directly; the back end (partition,
place, route, emit) turns it into an :class:`~spikefab.arch.image.Image`.  Every number in it is
exactly what the hardware stores: compiling a :class:`HwNetwork` never re-quantizes anything.
"""

from __future__ import annotations

from typing import Any

from dataclasses import dataclass, field

import numpy as np

from spikefab.arch.neuron import RESET_SUBTRACT, RESET_ZERO
from spikefab.errors import ModelError

__all__ = ["LoihiLIF", "Population", "Projection", "HwNetwork"]

_RESETS = {"zero": RESET_ZERO, "subtract": RESET_SUBTRACT}
_INT32_MAX = 2**31 - 1


@dataclass(frozen=True)
class LoihiLIF:
    """Loihi CUBA LIF parameters with Lava's meanings (reference notes, section 1.1).

    ``du``/``dv`` are 12-bit decays (0..4095; the current decays by ``(du+1)/4096``), ``vth`` the
    17-bit threshold mantissa (compared as ``vth << 6``), ``bias_mant``/``bias_exp`` the bias
    (scalar or one value per neuron).  ``du``, ``dv`` and ``vth`` may also be one value per
    neuron (a layer trained with per-neuron time constants): the neurons are then grouped by
    their distinct parameter sets into several core profiles (:meth:`profiles`).  Extensions (off by default = Lava exactly): ``reset``
    ``"zero"|"subtract"``, ``refractory`` steps, adaptive threshold ``theta_inc`` /
    ``theta_decay``.
    """

    du: int = 0
    dv: int = 0
    vth: int = 10
    bias_mant: int | np.ndarray = 0
    bias_exp: int | np.ndarray = 0
    reset: str = "zero"
    refractory: int = 0
    theta_inc: int = 0
    theta_decay: int = 0

    def __post_init__(self) -> None:
        for name, hi in (("du", 4095), ("dv", 4095), ("vth", 131071)):
            value = getattr(self, name)
            if isinstance(value, np.ndarray) and value.ndim:
                if value.dtype.kind not in "iu" or value.size and (value.min() < 0
                                                                   or value.max() > hi):
                    raise ModelError(f"LoihiLIF.{name} must be integers in [0, {hi}], not "
                                     f"{value!r}")
                if value.size and np.all(value == value.flat[0]):
                    object.__setattr__(self, name, int(value.flat[0]))   # uniform: one number
                else:
                    object.__setattr__(self, name, value.astype(np.int64))
        checks = [("refractory", self.refractory, 0, 255),
                  ("theta_inc", self.theta_inc, 0, 2**23 - 1), ("theta_decay", self.theta_decay, 0, 4095)]
        checks += [(k, getattr(self, k), 0, 4095 if k != "vth" else 131071)
                   for k in ("du", "dv", "vth") if not isinstance(getattr(self, k), np.ndarray)]
        for name, value, lo, hi in checks:
            if isinstance(value, (bool, float)) or not isinstance(value, (int, np.integer)) \
                    or not lo <= value <= hi:
                raise ModelError(f"LoihiLIF.{name} must be an integer in [{lo}, {hi}], not {value!r}")
        bm, be = np.asarray(self.bias_mant), np.asarray(self.bias_exp)
        if bm.dtype.kind not in "iu" or bm.size and (bm.min() < -4096 or bm.max() > 4095):
            raise ModelError(f"LoihiLIF.bias_mant must be integers in [-4096, 4095], not {self.bias_mant!r}")
        if be.dtype.kind not in "iu" or be.size and (be.min() < -8 or be.max() > 7):
            raise ModelError(f"LoihiLIF.bias_exp must be integers in [-8, 7], not {self.bias_exp!r}")
        if self.reset not in _RESETS:
            raise ModelError(f"LoihiLIF.reset must be 'zero' or 'subtract', not {self.reset!r}")

    @property
    def reset_mode(self) -> int:
        return _RESETS[self.reset]

    @property
    def per_neuron_profile(self) -> bool:
        """True when ``du``, ``dv`` or ``vth`` differ between neurons (several profiles)."""
        return any(isinstance(getattr(self, k), np.ndarray) for k in ("du", "dv", "vth"))

    def profile_key(self) -> tuple[int, ...]:
        """The shared-profile part (what one core profile holds); uniform parameters only."""
        if self.per_neuron_profile:
            raise ModelError("LoihiLIF.profile_key: du/dv/vth differ between neurons; use "
                             "profiles(size)")
        return (self.du, self.dv, self.vth, self.reset_mode, self.refractory, self.theta_decay,
                self.theta_inc)

    def profiles(self, size: int) -> tuple[list[tuple[int, ...]], np.ndarray]:
        """Distinct profile keys of ``size`` neurons and each neuron's index into them.

        The keys are sorted, so the result depends on the parameters only (deterministic).
        """
        if not self.per_neuron_profile:
            return [self.profile_key()], np.zeros(size, np.int64)
        cols = [np.broadcast_to(np.asarray(getattr(self, k), np.int64), (size,))
                for k in ("du", "dv", "vth")]
        rest = (self.reset_mode, self.refractory, self.theta_decay, self.theta_inc)
        keys, index = np.unique(np.stack(cols, axis=1), axis=0, return_inverse=True)
        return ([tuple(int(x) for x in k) + rest for k in keys],
                np.asarray(index, np.int64).ravel())


@dataclass
class Population:
    """``size`` neurons with one :class:`LoihiLIF` parameter set (bias may vary per neuron)."""

    name: str
    size: int
    neuron: LoihiLIF

    def bias(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-neuron (bias_mant, bias_exp) arrays of length ``size``."""
        bm = np.broadcast_to(np.asarray(self.neuron.bias_mant, np.int64), (self.size,)).copy()
        be = np.broadcast_to(np.asarray(self.neuron.bias_exp, np.int64), (self.size,)).copy()
        return bm, be


@dataclass
class Projection:
    """Sparse synapses from ``source`` (an input or a population) to population ``target``.

    ``post[k]``, ``pre[k]``, ``weight[k]``, ``delay[k]`` describe synapse ``k``: effective weights
    (Lava clip + truncate already applied, -256..255) and delays in steps.  The projection's sum
    is shifted by ``weight_exp`` (Lava Dense semantics: floor shift of the sum).
    """

    name: str
    source: str
    target: str
    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    delay: np.ndarray
    weight_exp: int = 0
    #: on-chip learning rule (:class:`spikefab.arch.learning.LearningRule`); None = static
    learning: Any = None
    #: reward synapses (weight 0) feeding the y2 reward trace of this plastic projection
    reward_for: str | None = None

    def __post_init__(self) -> None:
        # int32 per synapse field (checked before narrowing): a wafer-scale network has 10**8
        # synapses, and int64 would make the network alone twice as large as its image
        self.pre = self._int32("pre", self.pre, 0, _INT32_MAX, "source indices")
        self.post = self._int32("post", self.post, 0, _INT32_MAX, "target indices")
        if not (self.pre.shape == self.post.shape == np.shape(self.weight)):
            raise ModelError(f"projection {self.name!r}: pre, post and weight must have one entry "
                             f"per synapse, not {self.pre.shape}, {self.post.shape}, "
                             f"{np.shape(self.weight)}")
        self.weight = self._int32("weight", self.weight, -256, 255, "weights")
        self.delay = np.broadcast_to(            # the upper bound is the target's (partition:
            self._int32("delay", self.delay, 0, _INT32_MAX, "delays"),        # max_delay)
            self.pre.shape).copy()
        if not -8 <= int(self.weight_exp) <= 7:
            raise ModelError(f"projection {self.name!r}: weight_exp must be in [-8, 7], not "
                             f"{self.weight_exp}")

    @property
    def n_synapses(self) -> int:
        return int(self.pre.size)

    def _int32(self, key: str, values: Any, lo: int, hi: int, what: str) -> np.ndarray:
        """``values`` as integers (as ``np.asarray(values, np.int64)`` reads them) in
        ``[lo, hi]``, stored as int32; a value outside is a :class:`ModelError`."""
        a = np.asarray(values)
        if a.dtype != np.int32:         # int32 arrays are kept as they are (no copy)
            a = np.asarray(values, np.int64)
        if a.size and (a.min() < lo or a.max() > hi):
            raise ModelError(f"projection {self.name!r}: {what} must be in [{lo}, {hi}], not "
                             f"[{a.min()}, {a.max()}]")
        return a.astype(np.int32, copy=False)


@dataclass
class HwNetwork:
    """Inputs (host channels), populations, projections and outputs, all fixed point.

    ``outputs`` maps an output name to the population whose spikes it reports.  ``meta`` carries
    front-end facts (source file, dt, quantization report) into the image manifest.
    """

    inputs: dict[str, int] = field(default_factory=dict)
    populations: dict[str, Population] = field(default_factory=dict)
    projections: list[Projection] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def size_of(self, name: str) -> int:
        """Width of an input or population."""
        if name in self.inputs:
            return self.inputs[name]
        if name in self.populations:
            return self.populations[name].size
        raise ModelError(f"no input or population named {name!r}; have "
                         f"{', '.join([*self.inputs, *self.populations]) or 'none'}")

    def validate(self) -> None:
        """Check names, index ranges and outputs; raise :class:`ModelError` naming the culprit."""
        names = list(self.inputs) + list(self.populations)
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise ModelError(f"name {dup!r} is used twice (inputs and populations share one namespace)")
        for pop in self.populations.values():
            for k in ("du", "dv", "vth", "bias_mant", "bias_exp"):
                a = np.asarray(getattr(pop.neuron, k))
                if a.ndim and a.shape != (pop.size,):
                    raise ModelError(f"population {pop.name!r}: {k} must be one number or one "
                                     f"per neuron ({pop.size}), not shape {a.shape}")
        for p in self.projections:
            n_pre, n_post = self.size_of(p.source), self.size_of(p.target)
            if p.target not in self.populations:
                raise ModelError(f"projection {p.name!r}: target {p.target!r} must be a population")
            if p.pre.size and (p.pre.min() < 0 or p.pre.max() >= n_pre):
                raise ModelError(f"projection {p.name!r}: source index {int(p.pre.max())} out of "
                                 f"range for {p.source!r} of size {n_pre}")
            if p.post.size and (p.post.min() < 0 or p.post.max() >= n_post):
                raise ModelError(f"projection {p.name!r}: target index {int(p.post.max())} out of "
                                 f"range for {p.target!r} of size {n_post}")
        for out, pop in self.outputs.items():
            if pop not in self.populations:
                raise ModelError(f"output {out!r} must name a population, not {pop!r}")

    @property
    def n_neurons(self) -> int:
        return sum(p.size for p in self.populations.values())

    @property
    def n_synapses(self) -> int:
        return sum(p.n_synapses for p in self.projections)
