"""The AER spike packet: destination (chiplet, x, y, core slot, or host) plus axon.

Field widths derive from the :class:`~spikefab.arch.target.Target`, so a packet is as narrow as
the chip allows.  Packets are packed into one unsigned integer, most significant field first::

    | host (1) | chiplet | x | y | slot | axon |

The axon field is wide enough for both the input-axon table and the output channels a host
packet carries.  Routers only look at (host, chiplet, x, y); the destination core looks at
(slot, axon).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikefab.arch.target import Target

__all__ = ["PacketFormat", "packet_format"]


def _bits(n: int) -> int:
    """Bits needed to number ``n`` distinct values (at least 1)."""
    return max(1, int(n - 1).bit_length())


@dataclass(frozen=True)
class PacketFormat:
    """Widths of every AER field for one target."""

    chiplet_bits: int
    x_bits: int
    y_bits: int
    slot_bits: int
    axon_bits: int

    @property
    def width(self) -> int:
        return 1 + self.chiplet_bits + self.x_bits + self.y_bits + self.slot_bits + self.axon_bits

    def _layout(self) -> list[tuple[str, int]]:
        return [("host", 1), ("chiplet", self.chiplet_bits), ("x", self.x_bits),
                ("y", self.y_bits), ("slot", self.slot_bits), ("axon", self.axon_bits)]

    def pack(self, *, host: int = 0, chiplet: int = 0, x: int = 0, y: int = 0, slot: int = 0,
             axon: int = 0) -> int:
        """Pack one packet; raises ``ValueError`` if a field does not fit its width."""
        word = 0
        values = {"host": host, "chiplet": chiplet, "x": x, "y": y, "slot": slot, "axon": axon}
        for name, bits in self._layout():
            value = int(values[name])
            if not 0 <= value < (1 << bits):
                raise ValueError(f"AER field {name} must fit {bits} bits, not {value}")
            word = (word << bits) | value
        return word

    def unpack(self, word: int) -> dict[str, int]:
        out = {}
        for name, bits in reversed(self._layout()):
            out[name] = int(word) & ((1 << bits) - 1)
            word = int(word) >> bits
        return out

    def pack_routes(self, routes: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`pack` of a ROUTE_DTYPE table into uint64 words."""
        word = np.zeros(len(routes), dtype=np.uint64)
        for name, bits in self._layout():
            word = (word << np.uint64(bits)) | routes[name].astype(np.uint64)
        return word


def packet_format(target: Target) -> PacketFormat:
    """The packet format of a target (axon field sized for the larger of axons and channels)."""
    t = target.topology
    return PacketFormat(chiplet_bits=_bits(t.chiplets), x_bits=_bits(t.mesh_x),
                        y_bits=_bits(t.mesh_y), slot_bits=_bits(t.cores_per_router),
                        axon_bits=max(_bits(target.core.input_axons), 16))
