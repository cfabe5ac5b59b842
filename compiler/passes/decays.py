"""Quantized decays against the float ones: Quantize's check of the 12-bit decays it chose.

The float retentions themselves (and why a retention outside [0, 1] is an error) belong to the
neuron nodes' discretization, :mod:`spikefab.compiler.ir.discrete`; :func:`retention` is
re-exported here for callers that imported it from this module.
"""

from __future__ import annotations

import numpy as np

from spikefab.compiler.ir.discrete import retention
from spikefab.errors import ModelError

__all__ = ["retention", "check_quantized", "DECAY_STEP"]

#: One step of the chip's 12-bit decays, as a retention difference.
DECAY_STEP = 1.0 / 4096


def check_quantized(pop: str, what: str, exact: np.ndarray, quantized: np.ndarray) -> None:
    """A 12-bit decay may differ from the float one by rounding (half a step) and Loihi's
    current-decay offset (one step), never more."""
    err = np.abs(np.asarray(quantized, np.float64) - np.asarray(exact, np.float64))
    if err.size and float(err.max()) > 1.5 * DECAY_STEP + 1e-12:
        i = int(np.argmax(err))
        raise ModelError(
            f"population {pop!r}: the {what} {float(np.ravel(exact)[i]):.6g} has no 12-bit "
            f"form (closest {float(np.ravel(quantized)[i]):.6g}); retentions must be in "
            f"[0, 1]", where=pop)
