"""The 2D-mesh fabric (docs/microarchitecture.md sections 2-5) and its synthetic-traffic mode."""

from spikefab.emulator.noc.fabric import Fabric, new_fabric, zero_load_latency
from spikefab.emulator.noc.traffic import TrafficResult, noc_traffic

__all__ = ["Fabric", "new_fabric", "zero_load_latency", "TrafficResult", "noc_traffic"]
