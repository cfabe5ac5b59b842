"""Structural nodes: host inputs, outputs, reshapes and delays (no weights, no state)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikefab.compiler.ir.base import Node, Shape, _arr, _mismatch, _shape, register
from spikefab.errors import ModelError

__all__ = ["Input", "Output", "Flatten", "Delay"]


@register
@dataclass(frozen=True, eq=False)
class Input(Node):
    """A host input channel group of ``shape`` (spikes, one value per element and step)."""

    shape: tuple[int, ...]

    def __post_init__(self):
        object.__setattr__(self, "shape", _shape(type(self).__name__, self.shape))


@register
@dataclass(frozen=True, eq=False)
class Output(Node):
    """A network output of ``shape``; reports what its single predecessor emits."""

    shape: tuple[int, ...]

    def __post_init__(self):
        object.__setattr__(self, "shape", _shape(type(self).__name__, self.shape))

    def output_shape(self, shape: Shape) -> Shape:
        if int(np.prod(shape)) != int(np.prod(self.shape)):
            raise _mismatch(self, str(self.shape), shape)
        return self.shape



@register
@dataclass(frozen=True, eq=False)
class Flatten(Node):
    """Reshape dimensions ``start_dim..end_dim`` (of the unbatched shape) into one."""

    start_dim: int = 0
    end_dim: int = -1

    def __post_init__(self):
        object.__setattr__(self, "start_dim", int(np.asarray(self.start_dim)))
        object.__setattr__(self, "end_dim", int(np.asarray(self.end_dim)))

    def output_shape(self, shape: Shape) -> Shape:
        n = len(shape)
        if not (-n <= self.start_dim < n and -n <= self.end_dim < n):
            raise ModelError(f"Flatten start_dim {self.start_dim} and end_dim {self.end_dim} must "
                             f"name dimensions of its {n}-D input {tuple(shape)}")
        s = self.start_dim % n
        e = self.end_dim % n
        if not 0 <= s <= e < n:
            raise _mismatch(self, f"at least {max(self.start_dim, self.end_dim) + 1}-D", shape)
        return tuple(shape[:s]) + (int(np.prod(shape[s:e + 1])),) + tuple(shape[e + 1:])


@register
@dataclass(frozen=True, eq=False)
class Delay(Node):
    """``y(t) = x(t - delay)``, ``delay`` in seconds per element (rounded to whole steps)."""

    delay: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "delay", _arr(self.delay))
        if self.delay.size and self.delay.min() < 0:
            raise ModelError(f"Delay delay must be >= 0 seconds, not {self.delay.min()}")

    def output_shape(self, shape: Shape) -> Shape:
        if self.delay.ndim and self.delay.shape != tuple(shape):
            raise _mismatch(self, str(self.delay.shape), shape)
        return tuple(shape)

    def steps(self, dt: float) -> np.ndarray:
        """Whole steps of delay at ``dt`` (rounded to the nearest step): its discretization."""
        steps = np.rint(np.asarray(self.delay, np.float64) / dt)
        if steps.size and steps.max() > np.iinfo(np.int32).max:
            raise ModelError(f"Delay delay must be at most {np.iinfo(np.int32).max} steps of dt "
                             f"{dt:g} s, not {float(steps.max()):g} steps "
                             f"({float(np.max(self.delay)):g} s)")
        return steps.astype(np.int64)

