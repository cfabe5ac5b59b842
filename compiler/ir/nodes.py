"""Typed graph nodes: every NIR primitive, as frozen dataclasses.

Each node holds its parameters as NumPy arrays (float parameters keep the dtype they were read
with, so that NIR -> IR -> NIR and text round-trips are exact) or small integer tuples.  A node
knows three things about itself: its parameters (:meth:`Node.params`, the single source for
printing, NIR export and comparison), the shape it produces from an input shape
(:meth:`Node.output_shape`), and whether it emits spikes.  Time discretization is *not* a node
property: the float simulator and the Lower pass take ``dt`` and ``integrator`` explicitly
(``docs/ir.md`` lists the rule for every node).

Continuous-time semantics (NIR's, reference notes compiler-anchors section 1.1)::

    Affine     y = W x + b                      Linear   y = W x
    Scale      y = s * x                        Delay    y(t) = x(t - d)     (d in seconds)
    Conv1d/2d  PyTorch convolution (stride, padding, dilation, groups, bias)
    SumPool2d  window sums                      AvgPool2d  window means     Flatten  reshape
    Threshold  z = [x > theta]
    I          dv/dt = r I                      IF   as I, z = [v > v_th], v <- v_reset
    LI         tau dv/dt = (v_leak - v) + r I   LIF  as LI, z = [v > v_th], v <- v_reset
    CubaLI     tau_syn dI/dt = -I + w_in S ; tau_mem dv/dt = (v_leak - v) + r I
    CubaLIF    as CubaLI, z = [v > v_th], v <- v_reset
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from spikefab.errors import ModelError

__all__ = [
    "Node", "NODE_TYPES", "register",
    "Input", "Output", "Affine", "Linear", "Scale", "Conv1d", "Conv2d", "SumPool2d", "AvgPool2d",
    "Flatten", "Delay", "Threshold", "I", "IF", "LI", "LIF", "CubaLI", "CubaLIF",
    "LINEAR_TYPES", "NEURON_TYPES", "SPIKING_TYPES",
]

Shape = tuple[int, ...]

#: Registered node classes by type name (dispatch for text, NIR and dict serialization).
NODE_TYPES: dict[str, type["Node"]] = {}


def register(cls: type["Node"]) -> type["Node"]:
    NODE_TYPES[cls.__name__] = cls
    return cls


@dataclass(frozen=True, eq=False)
class Node:
    """Base of every graph node.  Subclasses are frozen dataclasses whose fields are parameters."""

    spiking: ClassVar[bool] = False

    @property
    def type_name(self) -> str:
        return type(self).__name__

    def params(self) -> dict[str, object]:
        """Parameters by field name, in declaration order (arrays, int tuples, strings)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def output_shape(self, shape: Shape) -> Shape:
        """Shape produced from input ``shape``; raises :class:`ModelError` on mismatch."""
        return shape

    def same_params(self, other: "Node") -> bool:
        """True when ``other`` has the same type and bit-identical parameter values."""
        if type(self) is not type(other):
            return False
        a, b = self.params(), other.params()
        for k in a:
            x, y = a[k], b[k]
            if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
                x, y = np.asarray(x), np.asarray(y)
                if x.shape != y.shape or not np.array_equal(x, y):
                    return False
            elif x != y:
                return False
        return True


def _arr(x, dtype=None) -> np.ndarray:
    a = np.array(x, dtype=dtype)
    if a.dtype.kind not in "fiub":
        raise ModelError(f"parameter must be numeric, not {a.dtype}")
    if a.dtype.kind == "b":
        a = a.astype(np.float64)
    a.setflags(write=False)
    return a


def _ints(x, n: int, name: str) -> tuple[int, ...]:
    a = np.atleast_1d(np.asarray(x)).astype(np.int64).ravel()
    if a.size == 1:
        a = np.repeat(a, n)
    if a.size != n:
        raise ModelError(f"{name} must have {n} values, not {a.size}")
    return tuple(int(v) for v in a)


#: Most elements a node may have (an Input of more host channels than any target's axon tables).
MAX_ELEMENTS = 1 << 26


def _at_least(node_name: str, name: str, values: tuple[int, ...], lo: int) -> None:
    if any(v < lo for v in values):
        raise ModelError(f"{node_name} {name} must be >= {lo}, not {values}")


def _shape(node_name: str, shape) -> tuple[int, ...]:
    """A node shape: positive integers, at most :data:`MAX_ELEMENTS` elements in all."""
    s = tuple(int(v) for v in np.atleast_1d(np.asarray(shape, dtype=object)))
    if any(v < 1 for v in s):
        raise ModelError(f"{node_name} shape must have positive sizes, not {s}")
    total = int(np.prod(s, dtype=object))
    if total > MAX_ELEMENTS:
        raise ModelError(f"{node_name} shape {s} has {total:,} elements, at most {MAX_ELEMENTS:,} "
                         f"are supported (more host channels than any target holds)")
    return s


def _mismatch(node: Node, expected: str, shape: Shape) -> ModelError:
    return ModelError(f"{node.type_name} input shape must be {expected}, not {tuple(shape)}")


@register
@dataclass(frozen=True, eq=False)
class Input(Node):
    """A host input channel group of ``shape`` (spikes, one value per element and step)."""

    shape: tuple[int, ...]

    def __post_init__(self):
        object.__setattr__(self, "shape", _shape("Input", self.shape))


@register
@dataclass(frozen=True, eq=False)
class Output(Node):
    """A network output of ``shape``; reports what its single predecessor emits."""

    shape: tuple[int, ...]

    def __post_init__(self):
        object.__setattr__(self, "shape", _shape("Output", self.shape))

    def output_shape(self, shape: Shape) -> Shape:
        if int(np.prod(shape)) != int(np.prod(self.shape)):
            raise _mismatch(self, str(self.shape), shape)
        return self.shape


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


@dataclass(frozen=True, eq=False)
class _Neuron(Node):
    """Shared neuron logic: every parameter array has the node's shape.

    Optional NIR parameters left as ``None`` take NIR's defaults here, for every neuron type
    that has them: ``v_reset = 0`` (shaped like ``v_threshold``), ``w_in = 1`` (like ``tau_mem``).
    """

    _DEFAULTS: ClassVar[dict[str, tuple[str, Any]]] = {
        "v_reset": ("v_threshold", np.zeros_like), "w_in": ("tau_mem", np.ones_like)}

    def __post_init__(self):
        for name, (like, fill) in self._DEFAULTS.items():
            if getattr(self, name, 0) is None:
                object.__setattr__(self, name, fill(np.asarray(getattr(self, like))))
        shapes = set()
        for f in fields(self):
            a = _arr(getattr(self, f.name))
            object.__setattr__(self, f.name, a)
            shapes.add(a.shape)
        if len(shapes) != 1:
            raise ModelError(f"{self.type_name} parameters must share one shape, not "
                             f"{sorted(shapes)}")

    @property
    def shape(self) -> Shape:
        return getattr(self, fields(self)[0].name).shape

    def output_shape(self, shape: Shape) -> Shape:
        if self.shape and tuple(shape) != self.shape:
            raise _mismatch(self, str(self.shape), shape)
        return tuple(shape)


@register
@dataclass(frozen=True, eq=False)
class Threshold(_Neuron):
    """``z = [x > threshold]`` (Heaviside, memoryless)."""

    threshold: np.ndarray
    spiking: ClassVar[bool] = True


@register
@dataclass(frozen=True, eq=False)
class I(_Neuron):  # noqa: E742  (NIR's name)
    """Integrator ``dv/dt = r I``; graded output v."""

    r: np.ndarray


@register
@dataclass(frozen=True, eq=False)
class IF(_Neuron):
    """Integrate and fire: as :class:`I`, then ``z = [v > v_threshold]``, ``v <- v_reset``."""

    r: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray = None  # type: ignore[assignment]
    spiking: ClassVar[bool] = True



@register
@dataclass(frozen=True, eq=False)
class LI(_Neuron):
    """Leaky integrator ``tau dv/dt = (v_leak - v) + r I``; graded output v."""

    tau: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray


@register
@dataclass(frozen=True, eq=False)
class LIF(_Neuron):
    """Leaky integrate and fire: as :class:`LI`, ``z = [v > v_threshold]``, ``v <- v_reset``."""

    tau: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray = None  # type: ignore[assignment]
    spiking: ClassVar[bool] = True



@register
@dataclass(frozen=True, eq=False)
class CubaLI(_Neuron):
    """Current-based leaky integrator (synaptic current I, membrane v); graded output v."""

    tau_syn: np.ndarray
    tau_mem: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray
    w_in: np.ndarray = None  # type: ignore[assignment]



@register
@dataclass(frozen=True, eq=False)
class CubaLIF(_Neuron):
    """Current-based LIF: as :class:`CubaLI`, ``z = [v > v_threshold]``, ``v <- v_reset``."""

    tau_syn: np.ndarray
    tau_mem: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray = None  # type: ignore[assignment]
    w_in: np.ndarray = None  # type: ignore[assignment]
    spiking: ClassVar[bool] = True



#: Nodes that are linear maps of their input (folded into synapse projections by Lower).
LINEAR_TYPES = (Affine, Linear, Scale, Conv1d, Conv2d, SumPool2d, AvgPool2d, Flatten, Delay)
#: Nodes with state or a threshold (become neuron populations).
NEURON_TYPES = (Threshold, I, IF, LI, LIF, CubaLI, CubaLIF)
SPIKING_TYPES = (Threshold, IF, LIF, CubaLIF)
