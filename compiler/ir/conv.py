"""Convolution and pooling nodes (PyTorch semantics: stride, padding, dilation, groups)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from spikefab.compiler.ir.base import Node, Shape, _arr, _at_least, _ints, _mismatch, register
from spikefab.errors import ModelError

__all__ = ["Conv1d", "Conv2d", "SumPool2d", "AvgPool2d"]



@dataclass(frozen=True, eq=False)
class _Conv(Node):
    """Shared convolution logic (PyTorch conventions); ``ndim`` spatial dimensions."""

    weight: np.ndarray
    bias: np.ndarray = None  # type: ignore[assignment]
    stride: tuple[int, ...] = 1  # type: ignore[assignment]
    padding: tuple[int, ...] | str = 0  # type: ignore[assignment]
    dilation: tuple[int, ...] = 1  # type: ignore[assignment]
    groups: int = 1
    input_shape: tuple[int, ...] | None = None
    ndim: ClassVar[int] = 2

    def __post_init__(self):
        n = self.ndim
        object.__setattr__(self, "weight", _arr(self.weight))
        if self.weight.ndim != n + 2:
            raise ModelError(f"{self.type_name} weight must have {n + 2} dimensions, not "
                             f"{self.weight.shape}")
        cout = self.weight.shape[0]
        bias = np.zeros(cout, self.weight.dtype) if self.bias is None else self.bias
        object.__setattr__(self, "bias", _arr(bias))
        if self.bias.shape != (cout,):
            raise ModelError(f"{self.type_name} bias must have shape ({cout},), not {self.bias.shape}")
        object.__setattr__(self, "stride", _ints(self.stride, n, "stride"))
        object.__setattr__(self, "dilation", _ints(self.dilation, n, "dilation"))
        _at_least(self.type_name, "stride", self.stride, 1)
        _at_least(self.type_name, "dilation", self.dilation, 1)
        pad = self.padding
        if isinstance(pad, bytes):
            pad = pad.decode()
        if isinstance(pad, np.ndarray) and pad.dtype.kind in "SU":
            pad = str(pad.item() if pad.ndim == 0 else pad[0])
            pad = pad.decode() if isinstance(pad, bytes) else pad
        if isinstance(pad, str):
            if pad not in ("same", "valid"):
                raise ModelError(f"{self.type_name} padding must be 'same', 'valid' or integers, "
                                 f"not {pad!r}")
        else:
            pad = _ints(pad, n, "padding")
            _at_least(self.type_name, "padding", pad, 0)
        object.__setattr__(self, "padding", pad)
        object.__setattr__(self, "groups", int(np.asarray(self.groups)))
        if self.input_shape is not None:
            object.__setattr__(self, "input_shape", _ints(self.input_shape, n, "input_shape"))
        if self.groups < 1 or cout % self.groups:
            raise ModelError(f"{self.type_name} groups must divide {cout} output channels, not "
                             f"{self.groups}")

    def pads(self) -> tuple[tuple[int, int], ...]:
        """Numeric (low, high) padding per spatial dimension."""
        k = self.weight.shape[2:]
        if self.padding == "valid":
            return tuple((0, 0) for _ in k)
        if self.padding == "same":
            out = []
            for kk, d in zip(k, self.dilation):
                total = d * (kk - 1)
                out.append((total // 2, total - total // 2))
            return tuple(out)
        return tuple((p, p) for p in self.padding)

    def output_shape(self, shape: Shape) -> Shape:
        n = self.ndim
        cin = self.weight.shape[1] * self.groups
        if len(shape) != n + 1 or shape[0] != cin:
            raise _mismatch(self, f"({cin}, {', '.join('*' * n)})", shape)
        out = [self.weight.shape[0]]
        for size, kk, s, d, (lo, hi) in zip(shape[1:], self.weight.shape[2:], self.stride,
                                           self.dilation, self.pads()):
            o = (size + lo + hi - d * (kk - 1) - 1) // s + 1
            if o < 1:
                raise _mismatch(self, "large enough for the kernel", shape)
            out.append(o)
        return tuple(out)


@register
@dataclass(frozen=True, eq=False)
class Conv1d(_Conv):
    """1-D convolution, weight (Cout, Cin/groups, K), input (Cin, L)."""

    ndim: ClassVar[int] = 1


@register
@dataclass(frozen=True, eq=False)
class Conv2d(_Conv):
    """2-D convolution, weight (Cout, Cin/groups, KH, KW), input (Cin, H, W)."""

    ndim: ClassVar[int] = 2


@dataclass(frozen=True, eq=False)
class _Pool(Node):
    kernel_size: tuple[int, int]
    stride: tuple[int, int] = None  # type: ignore[assignment]
    padding: tuple[int, int] = (0, 0)

    def __post_init__(self):
        object.__setattr__(self, "kernel_size", _ints(self.kernel_size, 2, "kernel_size"))
        stride = self.kernel_size if self.stride is None else self.stride
        object.__setattr__(self, "stride", _ints(stride, 2, "stride"))
        object.__setattr__(self, "padding", _ints(self.padding, 2, "padding"))
        _at_least(self.type_name, "kernel_size", self.kernel_size, 1)
        _at_least(self.type_name, "stride", self.stride, 1)
        _at_least(self.type_name, "padding", self.padding, 0)

    def output_shape(self, shape: Shape) -> Shape:
        if len(shape) != 3:
            raise _mismatch(self, "(C, H, W)", shape)
        out = [shape[0]]
        for size, k, s, p in zip(shape[1:], self.kernel_size, self.stride, self.padding):
            o = (size + 2 * p - k) // s + 1
            if o < 1:
                raise _mismatch(self, "large enough for the kernel", shape)
            out.append(o)
        return tuple(out)


@register
@dataclass(frozen=True, eq=False)
class SumPool2d(_Pool):
    """Window sums over (H, W), per channel; zero padding."""


@register
@dataclass(frozen=True, eq=False)
class AvgPool2d(_Pool):
    """Window sums divided by the window size (padding counts as zeros, PyTorch default)."""

