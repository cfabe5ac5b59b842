"""Neuron nodes (state or a threshold; they become populations) and their discretization.

Each neuron class owns its discrete-time form at a step ``dt`` (:meth:`_Neuron.discretize`): the
retentions ``alpha`` (current) and ``beta`` (voltage), the input gain, the constant voltage
input, the threshold and the reset value, in the form the chip computes::

    u <- alpha u + gain S ;  v <- beta v + u + bias_v ;  z = [v > vth]

The float simulator and the Lower pass both read it, so the two cannot disagree on a rule.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from spikefab.compiler.ir.base import Node, Shape, _arr, _mismatch, register
from spikefab.compiler.ir.discrete import retention
from spikefab.errors import ModelError

__all__ = ["Discrete", "Threshold", "I", "IF", "LI", "LIF", "CubaLI", "CubaLIF"]


@dataclass(frozen=True)
class Discrete:
    """A neuron node at one time step: float64 arrays (node-shaped or scalar); see module doc."""

    alpha: np.ndarray
    beta: np.ndarray
    gain: np.ndarray
    bias_v: np.ndarray
    vth: np.ndarray
    v_reset: np.ndarray


def _f64(a) -> np.ndarray:
    return np.asarray(a, np.float64)


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

    def discretize(self, dt: float, integrator: str = "euler", name: str = "") -> Discrete:
        """This node's discrete form at step ``dt``; :class:`ModelError` for a time constant
        that gives no leak (``name`` says where)."""
        alpha, beta, gain, bias_v = self._coefficients(dt, integrator, name or self.type_name)
        vth = _f64(getattr(self, "v_threshold", getattr(self, "threshold", np.inf)))
        return Discrete(_f64(alpha), _f64(beta), _f64(gain), _f64(bias_v), vth,
                        _f64(getattr(self, "v_reset", 0.0)))

    def _coefficients(self, dt: float, integrator: str, name: str) -> tuple:
        """``(alpha, beta, gain, bias_v)`` of this neuron type."""
        raise ModelError(f"{self.type_name} states no discretization")  # pragma: no cover


@register
@dataclass(frozen=True, eq=False)
class Threshold(_Neuron):
    """``z = [x > threshold]`` (Heaviside, memoryless)."""

    threshold: np.ndarray
    spiking: ClassVar[bool] = True

    def _coefficients(self, dt: float, integrator: str, name: str) -> tuple:
        return 0.0, 0.0, 1.0, 0.0


@register
@dataclass(frozen=True, eq=False)
class I(_Neuron):  # noqa: E742  (NIR's name)
    """Integrator ``dv/dt = r I``; graded output v."""

    r: np.ndarray

    def _coefficients(self, dt: float, integrator: str, name: str) -> tuple:
        return 0.0, 1.0, _f64(self.r), 0.0


@register
@dataclass(frozen=True, eq=False)
class IF(_Neuron):
    """Integrate and fire: as :class:`I`, then ``z = [v > v_threshold]``, ``v <- v_reset``."""

    r: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray = None  # type: ignore[assignment]
    spiking: ClassVar[bool] = True

    def _coefficients(self, dt: float, integrator: str, name: str) -> tuple:
        return 0.0, 1.0, _f64(self.r), 0.0


@register
@dataclass(frozen=True, eq=False)
class LI(_Neuron):
    """Leaky integrator ``tau dv/dt = (v_leak - v) + r I``; graded output v."""

    tau: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray

    def _coefficients(self, dt: float, integrator: str, name: str) -> tuple:
        return _leaky(self, dt, integrator, name)


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

    def _coefficients(self, dt: float, integrator: str, name: str) -> tuple:
        return _leaky(self, dt, integrator, name)


@register
@dataclass(frozen=True, eq=False)
class CubaLI(_Neuron):
    """Current-based leaky integrator (synaptic current I, membrane v); graded output v."""

    tau_syn: np.ndarray
    tau_mem: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray
    w_in: np.ndarray = None  # type: ignore[assignment]

    def _coefficients(self, dt: float, integrator: str, name: str) -> tuple:
        return _cuba(self, dt, integrator, name)


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

    def _coefficients(self, dt: float, integrator: str, name: str) -> tuple:
        return _cuba(self, dt, integrator, name)


def _leaky(node: Any, dt: float, integrator: str, name: str) -> tuple:
    """LI/LIF: ``v <- beta v + (1 - beta)(v_leak + r S)``."""
    beta = retention(name, "tau", node.tau, dt, integrator)
    return 0.0, beta, (1 - beta) * _f64(node.r), (1 - beta) * _f64(node.v_leak)


def _cuba(node: Any, dt: float, integrator: str, name: str) -> tuple:
    """CubaLI/CubaLIF: the current's input gain folded with the voltage's (see module doc)."""
    beta = retention(name, "tau_mem", node.tau_mem, dt, integrator)
    alpha = retention(name, "tau_syn", node.tau_syn, dt, integrator)
    gain = (1 - beta) * _f64(node.r) * (1 - alpha) * _f64(node.w_in)
    return alpha, beta, gain, (1 - beta) * _f64(node.v_leak)
