"""Cycle model of one router (docs/microarchitecture.md sections 3-5) for the router benches.

Shared by the Amaranth-simulator test and the cocotb bench (imported there as a top-level
module), so it imports nothing from cocotb or amaranth.
"""

from __future__ import annotations

from collections import deque

PORT_N, PORT_E, PORT_S, PORT_W = 0, 1, 2, 3


def existing_ports(mesh_x: int, mesh_y: int, cores_per_router: int, gx: int, gy: int) -> list[int]:
    ports = []
    if gy < mesh_y - 1:
        ports.append(PORT_N)
    if gx < mesh_x - 1:
        ports.append(PORT_E)
    if gy > 0:
        ports.append(PORT_S)
    if gx > 0 or (gx, gy) == (0, 0):
        ports.append(PORT_W)
    return ports + [4 + k for k in range(cores_per_router)]


def pack(p, host, x, y, slot, axon) -> int:
    word = axon
    off = p.axon_bits
    for value, bits in ((slot, p.slot_bits), (y, p.y_bits), (x, p.x_bits), (host, 1)):
        word |= value << off
        off += bits
    return word


def xy_port(gx, gy, host, x, y, slot) -> int:
    dx, dy = (0, 0) if host else (x, y)
    if dx > gx:
        return PORT_E
    if dx < gx:
        return PORT_W
    if dy > gy:
        return PORT_N
    if dy < gy:
        return PORT_S
    return PORT_W if host else 4 + slot


class RouterModel:
    """The contract, literally: visible FIFO heads, per-output round robin, credits."""

    def __init__(self, p, gx, gy) -> None:
        self.p, self.gx, self.gy = p, gx, gy
        self.fifos = {i: deque() for i in existing_ports(p.mesh_x, p.mesh_y, p.cores_per_router,
                                                          gx, gy)}
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
