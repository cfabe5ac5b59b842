"""Typed graph nodes: every NIR primitive, as frozen dataclasses.

Each node holds its parameters as NumPy arrays (float parameters keep the dtype they were read
with, so that NIR -> IR -> NIR and text round-trips are exact) or small integer tuples.  A node
knows three things about itself: its parameters (:meth:`Node.params`, the single source for
printing, NIR export and comparison), the shape it produces from an input shape
(:meth:`Node.output_shape`), and whether it emits spikes.  Neuron nodes own their time
discretization (``discretize(dt, integrator)``, used by both the float simulator and Lower;
``docs/ir.md`` lists the rule for every node), Delay nodes their whole steps (``steps(dt)``).

The classes live in one module per family -- :mod:`.base`, :mod:`.structural` (Input, Output,
Flatten, Delay), :mod:`.linear` (Linear, Affine, Scale), :mod:`.conv` (convolutions, pooling),
:mod:`.neurons` -- and this module is their face.

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

from spikefab.compiler.ir.base import NODE_TYPES, Node, Shape, register
from spikefab.compiler.ir.conv import AvgPool2d, Conv1d, Conv2d, SumPool2d, _Conv, _Pool
from spikefab.compiler.ir.linear import Affine, Linear, Scale
from spikefab.compiler.ir.neurons import (CubaLI, CubaLIF, Discrete, I, IF, LI, LIF, Threshold,
                                           _Neuron)
from spikefab.compiler.ir.structural import Delay, Flatten, Input, Output

__all__ = [
    "Node", "NODE_TYPES", "register", "Shape", "Discrete",
    "Input", "Output", "Affine", "Linear", "Scale", "Conv1d", "Conv2d", "SumPool2d", "AvgPool2d",
    "Flatten", "Delay", "Threshold", "I", "IF", "LI", "LIF", "CubaLI", "CubaLIF",
    "LINEAR_TYPES", "NEURON_TYPES", "SPIKING_TYPES",
]

#: Nodes that are linear maps of their input (folded into synapse projections by Lower).
LINEAR_TYPES = (Affine, Linear, Scale, Conv1d, Conv2d, SumPool2d, AvgPool2d, Flatten, Delay)
#: Nodes with state or a threshold (become neuron populations).
NEURON_TYPES = (Threshold, I, IF, LI, LIF, CubaLI, CubaLIF)
SPIKING_TYPES = (Threshold, IF, LIF, CubaLIF)
