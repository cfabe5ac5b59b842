"""The base of every graph node: :class:`Node`, the type registry and parameter helpers.

A node knows three things about itself: its parameters (:meth:`Node.params`, the single source
for printing, NIR export and comparison), the shape it produces from an input shape
(:meth:`Node.output_shape`), and whether it emits spikes.  Neuron nodes also own their time
discretization (``discretize`` in :mod:`~spikefab.compiler.ir.neurons`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np

from spikefab.errors import ModelError

__all__ = ["Node", "NODE_TYPES", "register", "Shape"]

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
        raise ModelError(f"parameters must be numbers or numeric arrays, not "
                         f"{str(x)[:40]!r} ({a.dtype})")
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

