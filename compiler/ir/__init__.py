"""The graph IR: typed nodes (every NIR primitive, Lower's FloatNeurons and FloatSynapses, the
hardware-level HwNeurons and HwSynapses), the :class:`Graph`, its verifier, its text form."""

from spikefab.compiler.ir.graph import Graph
from spikefab.compiler.ir.hardware import (HwNeurons, HwPlasticSynapses, HwRewardSynapses,
                                           HwSynapses)
from spikefab.compiler.ir.lowered import FloatNeurons, FloatSynapses
from spikefab.compiler.ir.nodes import (
    CubaLI, CubaLIF, I, IF, LI, LIF, NODE_TYPES, Affine, AvgPool2d, Conv1d, Conv2d, Delay,
    Flatten, Input, Linear, Node, Output, Scale, SumPool2d, Threshold,
)

__all__ = [
    "Graph", "Node", "NODE_TYPES",
    "Input", "Output", "Affine", "Linear", "Scale", "Conv1d", "Conv2d", "SumPool2d", "AvgPool2d",
    "Flatten", "Delay", "Threshold", "I", "IF", "LI", "LIF", "CubaLI", "CubaLIF",
    "FloatNeurons", "FloatSynapses",
    "HwNeurons", "HwSynapses", "HwPlasticSynapses", "HwRewardSynapses",
]
