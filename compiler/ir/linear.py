"""Synapse-like linear nodes: dense weights and per-element scales."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikefab.compiler.ir.base import Node, Shape, _arr, _mismatch, register
from spikefab.errors import ModelError

__all__ = ["Linear", "Affine", "Scale"]


@register
@dataclass(frozen=True, eq=False)
class Linear(Node):
    """``y = W x``; ``weight`` has shape (out, in); an input of another shape but ``in``
    elements is read flattened (C order)."""

    weight: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "weight", _arr(self.weight))
        if self.weight.ndim != 2:
            raise ModelError(f"{self.type_name} weight must be 2-D (out, in), not {self.weight.shape}")

    def output_shape(self, shape: Shape) -> Shape:
        # A multi-dimensional input of the right size is flattened: exporters that count the
        # batch axis in Flatten's start_dim (a common NIR quirk) leave e.g. (C, H*W) before an
        # Affine that clearly means all C*H*W inputs.
        if int(np.prod(shape)) != self.weight.shape[1]:
            raise _mismatch(self, f"({self.weight.shape[1]},)", shape)
        return (self.weight.shape[0],)


@register
@dataclass(frozen=True, eq=False)
class Affine(Linear):
    """``y = W x + b``; ``weight`` (out, in), ``bias`` (out,)."""

    bias: np.ndarray = None  # type: ignore[assignment]

    def __post_init__(self):
        super().__post_init__()
        bias = np.zeros(self.weight.shape[0], self.weight.dtype) if self.bias is None else self.bias
        object.__setattr__(self, "bias", _arr(bias))
        if self.bias.shape != (self.weight.shape[0],):
            raise ModelError(f"Affine bias must have shape ({self.weight.shape[0]},), not "
                             f"{self.bias.shape}")


@register
@dataclass(frozen=True, eq=False)
class Scale(Node):
    """``y = s * x`` elementwise."""

    scale: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "scale", _arr(self.scale))

    def output_shape(self, shape: Shape) -> Shape:
        try:
            np.broadcast_shapes(self.scale.shape, tuple(shape))
        except ValueError:
            raise _mismatch(self, f"broadcastable with {self.scale.shape}", shape) from None
        return tuple(shape)

