"""Compiler passes: front end (lower, quantize) and back end (partition, place, route, emit).

The pass objects that the pass manager (:mod:`.manager`) runs in order -- ``load``,
``discretize``, ``lower``, ``quantize``, ``partition``, ``place``, ``route``, ``emit`` -- are in
:mod:`spikefab.compiler.pipeline`; the functions here are their jobs.  ``lower_to_hardware``
(the front half in one call) is re-exported from there on first use, so that no pass module
imports the front end.
"""

from typing import Any

from spikefab.compiler.passes.emit import emit
from spikefab.compiler.passes.lower import LoweredView, lower
from spikefab.compiler.passes.manager import CompileState, PassManager
from spikefab.compiler.passes.partition import Partition, partition
from spikefab.compiler.passes.place import PLACERS, Placement, place
from spikefab.compiler.passes.quantize import quantize
from spikefab.compiler.passes.route import Routing, route

__all__ = [
    "lower", "LoweredView", "quantize", "lower_to_hardware",
    "partition", "Partition", "place", "Placement", "PLACERS", "route", "Routing", "emit",
    "PassManager", "CompileState",
]


def __getattr__(name: str) -> Any:
    if name == "lower_to_hardware":
        from spikefab.compiler.pipeline import lower_to_hardware
        return lower_to_hardware
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
