"""The hardware contract: what the chip is, computes, stores and sends.

``target`` (profiles), ``neuron`` (reference integer arithmetic), ``image`` (memory contents and
file format), ``aer`` (packet format), ``mesh`` (coordinates and routing), ``memory_map`` (table
and counter ids), ``protocol`` (host link), ``host`` (the host side of a run), ``reference``
(golden model of a whole image), ``result`` (what every backend returns), ``errors``.  Depends
on NumPy only; every other wing depends on this one (``docs/architecture.md`` has the map).
"""

from spikefab.arch import image as _image
from spikefab.arch.aer import PacketFormat, packet_format
from spikefab.arch.image import (AXON_DTYPE, NEURON_DTYPE, PROFILE_DTYPE, ROUTE_DTYPE,
                                   ROUTE_PTR_DTYPE, STATE_DTYPE, SYNAPSE_DTYPE, CoreImage, Image,
                                   load_image)
from spikefab.arch.neuron import RESET_SUBTRACT, RESET_ZERO, effective_weights, lif_step
from spikefab.arch.reference import ReferenceChip, run_reference
from spikefab.arch.result import Result, normalize_inputs, parse_probe
from spikefab.arch.target import Target, load_target, target_names
from spikefab.arch.validate import check_fits, check_image

_image.image_check = check_image      # load_image checks what it reads (see arch.image)

__all__ = [
    "Target", "load_target", "target_names",
    "Image", "CoreImage", "load_image", "check_image", "check_fits",
    "PROFILE_DTYPE", "NEURON_DTYPE", "STATE_DTYPE", "AXON_DTYPE", "SYNAPSE_DTYPE",
    "ROUTE_PTR_DTYPE", "ROUTE_DTYPE",
    "lif_step", "effective_weights", "RESET_ZERO", "RESET_SUBTRACT",
    "PacketFormat", "packet_format",
    "ReferenceChip", "run_reference",
    "Result", "normalize_inputs", "parse_probe",
]
