"""spikefab.emulator: run an Image functionally (time-step exact) or cycle by cycle.

Public API::

    simulate(image, inputs, steps, mode="functional" | "cycle", probes=(), target=None) -> Result
    noc_traffic(mesh=(8, 8), pattern="uniform", rate=0.1, cycles=10000, seed=0) -> TrafficResult

Both engines are bit-exact with :func:`spikefab.arch.reference.run_reference`; the cycle engine
implements docs/microarchitecture.md.  The emulator reads Images only (never the compiler).
"""

from spikefab.emulator.engine import MODES, simulate
from spikefab.emulator.flat import FlatImage, flatten
from spikefab.emulator.noc import TrafficResult, noc_traffic, zero_load_latency

__all__ = ["simulate", "MODES", "FlatImage", "flatten", "noc_traffic", "TrafficResult",
           "zero_load_latency"]
