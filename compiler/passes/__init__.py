"""Compiler passes: front end (lower, quantize) and back end (partition, place, route, emit)."""

from spikeforge.compiler.passes.emit import emit
from spikeforge.compiler.passes.lower import FloatNetwork, lower
from spikeforge.compiler.passes.partition import Partition, partition
from spikeforge.compiler.passes.place import PLACERS, Placement, place
from spikeforge.compiler.passes.quantize import lower_to_hardware, quantize
from spikeforge.compiler.passes.route import Routing, route

__all__ = [
    "lower", "FloatNetwork", "quantize", "lower_to_hardware",
    "partition", "Partition", "place", "Placement", "PLACERS", "route", "Routing", "emit",
]
