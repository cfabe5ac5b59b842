"""Cycle model of one router (docs/microarchitecture.md sections 3-5) for the router benches.

Shared by the Amaranth-simulator test and the cocotb bench (imported there as a top-level
module), so it imports nothing from cocotb or amaranth.  The routing decision is the contract's
reference, :func:`spikefab.arch.mesh.next_port` (tested on its own in ``tests/arch/test_mesh.py``).
"""

from __future__ import annotations

from collections import deque

from spikefab.arch import mesh


def pack(p, host, x, y, slot, axon) -> int:
    word = axon
    off = p.axon_bits
    for value, bits in ((slot, p.slot_bits), (y, p.y_bits), (x, p.x_bits), (host, 1)):
        word |= value << off
        off += bits
    return word


def route_port(p, gx, gy, host, x, y, slot) -> int:
    """The port the contract's routing (``p.routing``, XY if absent) sends a packet out by."""
    tx, ty = (0, 0) if host else (x, y)
    return mesh.next_port(mesh.routing_code(getattr(p, "routing", "xy")), gx, gy, tx, ty,
                          mesh.PORT_W if host else mesh.PORT_LOCAL + slot)


class RouterModel:
    """The contract, literally: visible FIFO heads, per-output round robin, credits."""

    def __init__(self, p, gx, gy) -> None:
        self.p, self.gx, self.gy = p, gx, gy
        ports = mesh.existing_ports(p.mesh_x, p.mesh_y, p.cores_per_router, gx, gy)
        self.fifos = {i: deque() for i in ports}
        self.rr = [0] * p.ports

    def ready(self, i) -> bool:
        return len(self.fifos[i]) < self.p.fifo_depth

    def cycle(self, writes: dict, out_ready: list) -> dict:
        n = self.p.ports
        heads = {i: f[0] for i, f in self.fifos.items() if f}
        grants = {}
        for o in range(n):
            if not out_ready[o]:
                continue
            for j in range(n):
                i = (self.rr[o] + j) % n
                if i in heads and heads[i][1] == o:
                    grants[o] = heads[i][0]
                    self.fifos[i].popleft()
                    self.rr[o] = (i + 1) % n
                    break
        for i, (word, route) in writes.items():
            self.fifos[i].append((word, route))
        return grants
