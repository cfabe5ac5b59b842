"""Allocate the flat state of a mesh fabric for the kernels in :mod:`.kernels`.

The fabric is the whole global mesh of the target (all chiplets), with one ejection FIFO per end
point (image core or traffic sink).  Every FIFO starts empty with its sender holding
``fifo_depth`` credits; round-robin pointers start at 0 (as after reset).
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

import numpy as np

from spikefab.arch import mesh
from spikefab.emulator.noc import kernels as K

__all__ = ["Fabric", "FabricArrays", "new_fabric", "zero_load_latency", "PORT_NAMES"]

PORT_NAMES = mesh.PORT_NAMES

#: The fabric's arrays as the kernels take them (one argument; fields in :mod:`.kernels`).
FabricArrays = namedtuple("FabricArrays", "geo fbuf fhead fcnt credit rr busy lhops rcnt alist "
                                          "aflag core_of chipmask q0 q1 st reqm want wait "
                                          "frouter rxy down okind port9 nxa nxc blk upr upb frxy")


@dataclass
class Fabric:
    """Flat fabric state; :meth:`args` is the argument tuple the kernels take after the cycle."""

    geo: np.ndarray
    fbuf: np.ndarray
    fhead: np.ndarray
    fcnt: np.ndarray
    credit: np.ndarray
    rr: np.ndarray
    busy: np.ndarray
    lhops: np.ndarray
    rcnt: np.ndarray
    alist: np.ndarray
    aflag: np.ndarray
    core_of: np.ndarray
    chipmask: np.ndarray
    q0: np.ndarray
    q1: np.ndarray
    st: np.ndarray
    reqm: np.ndarray
    want: np.ndarray
    wait: np.ndarray
    frouter: np.ndarray
    rxy: np.ndarray
    down: np.ndarray
    okind: np.ndarray
    port9: np.ndarray
    nxa: np.ndarray
    nxc: np.ndarray
    blk: np.ndarray
    upr: np.ndarray
    upb: np.ndarray
    frxy: np.ndarray

    def args(self) -> FabricArrays:
        # the geometry as a tuple of ints: the kernels keep it in registers (an array would be
        # re-read after every store into another array, which Numba cannot prove distinct)
        return FabricArrays(tuple(int(x) for x in self.geo), self.fbuf, self.fhead, self.fcnt,
                            self.credit, self.rr,
                            self.busy, self.lhops, self.rcnt, self.alist, self.aflag, self.core_of,
                            self.chipmask, self.q0, self.q1, self.st, self.reqm, self.want,
                            self.wait, self.frouter, self.rxy, self.down, self.okind,
                            self.port9, self.nxa, self.nxc, self.blk, self.upr, self.upb,
                            self.frxy)

    @property
    def ports(self) -> int:
        return int(self.geo[K.G_P])

    def port_name(self, port: int) -> str:
        return PORT_NAMES[port] if port < 4 else f"L{port - 4}"

    def link_table(self) -> list[tuple[int, int, str, int]]:
        """(gx, gy, output port name, packets) for every output that carried a packet."""
        gxn, P = int(self.geo[K.G_GX]), self.ports
        out = []
        for ob in np.flatnonzero(self.lhops):
            r, o = divmod(int(ob), P)
            out.append((r % gxn, r // gxn, self.port_name(o), int(self.lhops[ob])))
        return out


def new_fabric(global_x: int, global_y: int, mesh_x: int, mesh_y: int, cores_per_router: int,
               fifo_depth: int, link_latency: int, chiplet_link_latency: int,
               chiplet_link_cycles: int, end_points: np.ndarray, routing: str = "xy",
               next_lists: bool = True) -> Fabric:
    """Fresh fabric; ``end_points[i]`` = (router id, slot) of end point (ejection FIFO) ``i``;
    ``routing`` names the algorithm (:data:`spikefab.arch.mesh.ROUTINGS`).

    ``next_lists``: with an on-chip latency of 1, on-chip arrivals and credits go to the
    next-cycle lists instead of the event queue (see :mod:`.kernels`); the MPI engine turns
    this off, since it ships the queue rows that belong to other ranks."""
    R = global_x * global_y
    P = 4 + cores_per_router
    ends = np.asarray(end_points, np.int64).reshape(-1, 2)
    nf = R * P + len(ends)
    geo = np.array([global_x, global_y, mesh_x, mesh_y, P, cores_per_router, fifo_depth,
                    link_latency, chiplet_link_latency, chiplet_link_cycles, R, nf,
                    mesh.routing_code(routing), int(next_lists and link_latency == 1)], np.int64)
    core_of = np.full(R * cores_per_router, -1, np.int64)
    for i, (r, slot) in enumerate(ends):
        core_of[r * cores_per_router + slot] = i
    n_cross = 2 * ((global_x // mesh_x - 1) * global_y + (global_y // mesh_y - 1) * global_x)
    cap0 = 1 << int(link_latency * (2 * nf + 4) + 8).bit_length()
    cap1 = 1 << int(chiplet_link_latency * (2 * max(n_cross, 0) + 4) + 8).bit_length()
    # bit o: output o crosses a chiplet edge; bit 8 + p: input p is fed across one
    gx = np.arange(R) % global_x
    gy = np.arange(R) // global_x
    edge_n = ((gy + 1) % mesh_y == 0) & (gy + 1 < global_y)
    edge_e = ((gx + 1) % mesh_x == 0) & (gx + 1 < global_x)
    edge_s = (gy % mesh_y == 0) & (gy > 0)
    edge_w = (gx % mesh_x == 0) & (gx > 0)
    chipmask = np.zeros(R, np.int64)
    for bit, edge in ((0, edge_n), (1, edge_e), (2, edge_s), (3, edge_w)):
        chipmask |= edge.astype(np.int64) << bit
        chipmask |= edge.astype(np.int64) << (8 + bit)
    frouter, rxy, down, okind, port9 = _tables(global_x, global_y, P, ends, core_of,
                                              mesh.routing_code(routing))
    # the router output feeding each FIFO (for the blocked-output masks); ``down`` of an
    # output at the mesh edge or of a slot without a core names no FIFO that it feeds
    real = np.zeros((R, P), bool)
    real[:, mesh.PORT_N] = gy + 1 < global_y
    real[:, mesh.PORT_E] = gx + 1 < global_x
    real[:, mesh.PORT_S] = gy > 0
    real[:, mesh.PORT_W] = gx > 0
    real[:, mesh.PORT_LOCAL:] = core_of.reshape(R, -1) >= 0
    fed = np.flatnonzero(real.reshape(-1))
    upr = np.full(nf, R, np.int64)             # R: a spare mask for FIFOs fed by no router
    upb = np.zeros(nf, np.int64)
    upr[down[fed]] = fed // P
    upb[down[fed]] = np.int64(1) << (fed % P)
    frxy = np.full((nf, 4), -1, np.int64)
    frxy[:R * P, 0] = frouter[:R * P]
    frxy[:R * P, 1:3] = rxy[frouter[:R * P]]
    frxy[:R * P, 3] = np.arange(R * P) % P
    return Fabric(
        geo=geo, fbuf=np.zeros((nf * fifo_depth, 2), np.int64), fhead=np.zeros(nf, np.int64),
        fcnt=np.zeros(nf, np.int64), credit=np.full(nf, fifo_depth, np.int64),
        rr=np.zeros(R * P, np.int64), busy=np.zeros(R * P, np.int64),
        lhops=np.zeros(R * P, np.int64), rcnt=np.zeros(R, np.int64),
        alist=np.zeros(R, np.int64), aflag=np.zeros(R, np.uint8), core_of=core_of,
        chipmask=chipmask,
        q0=np.zeros((4, cap0), np.int64), q1=np.zeros((4, cap1), np.int64),
        st=np.zeros(K.N_ST, np.int64), reqm=np.zeros(R * P, np.int64),
        want=np.zeros(R, np.int64), wait=np.full(nf, -1, np.int64), frouter=frouter, rxy=rxy,
        down=down, okind=okind, port9=port9, nxa=np.zeros((nf + 2, 4), np.int64),
        nxc=np.zeros(nf + 2, np.int64), blk=np.zeros(R + 1, np.int64), upr=upr, upb=upb,
        frxy=frxy)


def _tables(global_x: int, global_y: int, P: int, ends: np.ndarray, core_of: np.ndarray,
            code: int):
    """The geometry tables of the kernels (``frouter rxy down okind port9``, see
    :mod:`.kernels`): what the hot path would otherwise compute per packet with divisions."""
    R = global_x * global_y
    cpr = P - 4
    frouter = np.concatenate([np.repeat(np.arange(R, dtype=np.int64), P),
                              np.full(len(ends), -1, np.int64)])
    r = np.arange(R, dtype=np.int64)
    gx, gy = r % global_x, r // global_x
    rxy = np.ascontiguousarray(np.stack([gx, gy], 1))
    down = np.full((R, P), -1, np.int64)
    down[:, mesh.PORT_N] = (r + global_x) * P + mesh.PORT_S
    down[:, mesh.PORT_E] = (r + 1) * P + mesh.PORT_W
    down[:, mesh.PORT_S] = (r - global_x) * P + mesh.PORT_N
    down[:, mesh.PORT_W] = np.where(gx == 0, -1, (r - 1) * P + mesh.PORT_E)
    for slot in range(cpr):
        down[:, mesh.PORT_LOCAL + slot] = R * P + core_of[r * cpr + slot]
    okind = np.full((R, P), K.S_NOHOP, np.int64)
    okind[:, [mesh.PORT_E, mesh.PORT_W]] = K.S_HEW
    okind[gx == 0, mesh.PORT_W] = K.S_NOHOP         # the host port
    okind[:, [mesh.PORT_N, mesh.PORT_S]] = K.S_HNS
    port9 = np.array([mesh.next_port(code, 1, 1, tx, ty, -1) for tx in range(3)
                      for ty in range(3)], np.int64)
    return frouter, rxy, down.reshape(-1), okind.reshape(-1), port9


def zero_load_latency(hops: int, chiplet_hops: int, link_latency: int,
                      chiplet_link_latency: int) -> int:
    """docs/microarchitecture.md section 10: ``(H - Hc + 2) * L + Hc * Lc``."""
    return (hops - chiplet_hops + 2) * link_latency + chiplet_hops * chiplet_link_latency
