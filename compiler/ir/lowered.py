"""Lowered graph nodes: Lower's output, the hardware structure with float numbers.

Lower cuts a float graph at its neurons and folds the linear nodes between them into sparse
matrices; what it produces is still a :class:`~spikefab.compiler.ir.Graph`, of two node types:

* :class:`FloatNeurons` — one population in the discrete form the chip computes (one float per
  neuron)::

      u <- alpha * u + sum_proj W s(t - 1 - delay) + bias_u
      v <- beta * v + u + bias_v
      z <- v > vth ;  v <- v_reset (zero) or v - vth (subtract) where z

  ``kind`` names the node type it came from; ``reports = "voltage"`` marks a graded population
  (no threshold: it reports ``v`` to an Output and feeds nothing else).
* :class:`FloatSynapses` — one projection: sparse ``pre``/``post``/``weight`` and one ``delay``
  (steps beyond the base step), between an Input or FloatNeurons node and a FloatNeurons node.

``Input -> FloatSynapses -> FloatNeurons -> ... -> Output``, the shape of a hardware graph
(:mod:`.hardware`), so the text IR, the verifier and ``--print-after lower`` show it as they show
every other level; Quantize reads it through :class:`spikefab.compiler.passes.lower.LoweredView`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikefab.compiler.ir.base import Node, _arr, register
from spikefab.errors import ModelError

__all__ = ["FloatNeurons", "FloatSynapses", "REPORTS"]

#: What a population reports: spikes (a threshold) or its voltage (graded, no threshold).
REPORTS = ("spikes", "voltage")


@register
@dataclass(frozen=True, eq=False)
class FloatNeurons(Node):
    """A population in discrete form (module docstring); arrays hold one value per neuron."""

    size: int
    kind: str
    alpha: np.ndarray
    beta: np.ndarray
    vth: np.ndarray
    bias_u: np.ndarray
    bias_v: np.ndarray
    v_reset: np.ndarray
    reset: str = "zero"
    reports: str = "spikes"

    def __post_init__(self):
        object.__setattr__(self, "size", int(self.size))
        for k in ("alpha", "beta", "vth", "bias_u", "bias_v", "v_reset"):
            a = _arr(np.broadcast_to(np.asarray(getattr(self, k), np.float64), (self.size,)))
            object.__setattr__(self, k, a)
        if self.reset not in ("zero", "subtract"):
            raise ModelError(f"FloatNeurons reset must be 'zero' or 'subtract', not "
                             f"{self.reset!r}")
        if self.reports not in REPORTS:
            raise ModelError(f"FloatNeurons reports must be one of {', '.join(REPORTS)}, not "
                             f"{self.reports!r}")

    @property
    def spiking(self) -> bool:          # type: ignore[override]
        return self.reports == "spikes"

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.size,)

    def output_shape(self, shape):
        if int(np.prod(shape)) != self.size:
            raise ModelError(f"FloatNeurons input shape must be ({self.size},), not "
                             f"{tuple(shape)}")
        return (self.size,)


@register
@dataclass(frozen=True, eq=False)
class FloatSynapses(Node):
    """Sparse float synapses ``n_pre -> n_post`` with one delay."""

    n_pre: int
    n_post: int
    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    delay: int = 0

    def __post_init__(self):
        for k in ("n_pre", "n_post", "delay"):
            object.__setattr__(self, k, int(getattr(self, k)))
        for k in ("pre", "post"):
            object.__setattr__(self, k, _arr(np.atleast_1d(getattr(self, k)).astype(np.int64)))
        object.__setattr__(self, "weight",
                           _arr(np.atleast_1d(np.asarray(self.weight, np.float64))))
        if not len(self.pre) == len(self.post) == len(self.weight):
            raise ModelError(f"FloatSynapses pre, post and weight must have one length, not "
                             f"{len(self.pre)}, {len(self.post)} and {len(self.weight)}")

    def output_shape(self, shape):
        if int(np.prod(shape)) != self.n_pre:
            raise ModelError(f"FloatSynapses input shape must be ({self.n_pre},), not "
                             f"{tuple(shape)}")
        return (self.n_post,)
