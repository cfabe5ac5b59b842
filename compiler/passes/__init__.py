"""Compiler passes: front end (lower, quantize) and back end (partition, place, route, emit)."""

from spikefab.compiler.passes.emit import emit
from spikefab.compiler.passes.lower import FloatNetwork, lower
from spikefab.compiler.passes.partition import Partition, partition
from spikefab.compiler.passes.place import PLACERS, Placement, place
from spikefab.compiler.passes.quantize import lower_to_hardware, quantize
from spikefab.compiler.passes.route import Routing, route

__all__ = [
    "lower", "FloatNetwork", "quantize", "lower_to_hardware",
    "partition", "Partition", "place", "Placement", "PLACERS", "route", "Routing", "emit",
]
