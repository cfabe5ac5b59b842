"""Mesh geometry and routing: the one definition every backend compiles or generates.

The chip is a 2D mesh of routers, ``chiplets_x * mesh_x`` by ``chiplets_y * mesh_y`` in global
coordinates (``docs/microarchitecture.md`` section 3).  Router ``(gx, gy)`` has ports N (+y),
E (+x), S (-y), W (-x) and one local port ``4 + slot`` per core slot; the W port of router (0, 0)
is the host port.  A packet's route is decided hop by hop from its destination alone:

* :func:`next_port` — the decision, as a priority order of the four directions: the first
  direction that brings the packet closer is taken; when none does the packet has arrived.
  The routing algorithms (:data:`ROUTINGS`) are orders: ``xy`` (E, W, N, S: all of x, then y),
  ``yx`` and ``west-first`` (all west hops first, then y, then east).  Every one is minimal and
  deadlock free on the mesh, so hop counts and chiplet crossings (:func:`hop_counts`) are the
  same for all of them; only the links a packet uses, and so the cycle timing, differ.
* :func:`path` and :func:`add_link_loads` walk :func:`next_port`; :func:`existing_ports` says
  which ports a router has.

The functions the hot loops need are plain Python over ints and NumPy arrays, written so that
Numba compiles them unchanged: :func:`compile_with` hands them to ``numba.njit`` with their calls
to each other resolved (this module imports no Numba).  The RTL router generates its
combinational decision from the same :func:`priority` order and :func:`closer` tests.
"""

from __future__ import annotations

import types
from typing import Any, Callable

from spikefab.arch.errors import TargetError

__all__ = ["PORT_N", "PORT_E", "PORT_S", "PORT_W", "PORT_LOCAL", "PORT_NAMES", "ROUTINGS",
           "routing_code", "priority", "global_xy", "router_id", "hop_counts", "closer",
           "next_port", "step", "path", "add_link_loads", "existing_ports", "compile_with"]

PORT_N, PORT_E, PORT_S, PORT_W = 0, 1, 2, 3
PORT_LOCAL = 4                      #: local port of core slot ``s`` is ``PORT_LOCAL + s``
PORT_NAMES = ("N", "E", "S", "W")

#: routing algorithm -> priority order of the directions (target TOML ``topology.routing``)
ROUTINGS: dict[str, tuple[int, int, int, int]] = {
    "xy": (PORT_E, PORT_W, PORT_N, PORT_S),
    "yx": (PORT_N, PORT_S, PORT_E, PORT_W),
    "west-first": (PORT_W, PORT_N, PORT_S, PORT_E),
}


def routing_code(name: str) -> int:
    """The algorithm as one int for the kernels: direction ``k`` of the order in bits 2k..2k+1."""
    if name not in ROUTINGS:
        raise TargetError(f"routing must be one of {', '.join(ROUTINGS)}, not {name!r}",
                          where="topology.routing")
    return sum(port << (2 * k) for k, port in enumerate(ROUTINGS[name]))


def priority(code: int) -> tuple[int, int, int, int]:
    """The direction order a :func:`routing_code` packs (for generators such as the RTL)."""
    return tuple((code >> (2 * k)) & 3 for k in range(4))  # type: ignore[return-value]


def global_xy(chiplet, x, y, chiplets_x: int, mesh_x: int, mesh_y: int):
    """Global router coordinates of router ``(x, y)`` of ``chiplet`` (ints or integer arrays);
    chiplets are numbered row-major over a ``chiplets_x``-wide grid."""
    return (chiplet % chiplets_x) * mesh_x + x, (chiplet // chiplets_x) * mesh_y + y


def router_id(gx, gy, global_x: int):
    """Row-major id of global router ``(gx, gy)``; the kernels index routers by it."""
    return gy * global_x + gx


def hop_counts(sx, sy, tx, ty, mesh_x: int, mesh_y: int):
    """``(on-chip E/W hops, on-chip N/S hops, inter-chiplet hops)`` from router ``(sx, sy)`` to
    ``(tx, ty)`` (ints or NumPy integer arrays).  Every algorithm in :data:`ROUTINGS` is minimal,
    so these are the same for all of them."""
    cx = abs(tx // mesh_x - sx // mesh_x)
    cy = abs(ty // mesh_y - sy // mesh_y)
    return abs(tx - sx) - cx, abs(ty - sy) - cy, cx + cy


def closer(port, gx, gy, tx, ty):
    """Whether leaving router ``(gx, gy)`` by direction ``port`` brings a packet closer to router
    ``(tx, ty)``.  Over ints for the kernels, over Amaranth values for the RTL router."""
    if port == PORT_E:
        return tx > gx
    if port == PORT_W:
        return tx < gx
    if port == PORT_N:
        return ty > gy
    return ty < gy


def next_port(code, gx, gy, tx, ty, local):
    """Output port of router ``(gx, gy)`` for a packet to router ``(tx, ty)``: the first
    direction of the order ``code`` that brings it closer, else ``local`` (it has arrived)."""
    for k in range(4):
        port = (code >> (2 * k)) & 3
        if closer(port, gx, gy, tx, ty):
            return port
    return local


def step(gx, gy, port):
    """The router that output ``port`` (N, E, S or W) of router ``(gx, gy)`` leads to."""
    if port == PORT_N:
        return gx, gy + 1
    if port == PORT_E:
        return gx + 1, gy
    if port == PORT_S:
        return gx, gy - 1
    return gx - 1, gy


def path(code: int, sx: int, sy: int, tx: int, ty: int) -> list[tuple[int, int, int]]:
    """Every hop ``(gx, gy, output port)`` from router ``(sx, sy)`` to ``(tx, ty)``."""
    hops = []
    x, y = sx, sy
    while True:
        port = next_port(code, x, y, tx, ty, -1)
        if port < 0:
            return hops
        hops.append((x, y, port))
        x, y = step(x, y, port)


def add_link_loads(loads, code, sx, sy, tx, ty, w):
    """Add ``w[k]`` to ``loads[gy, gx, port]`` for every hop of route ``k`` from
    ``(sx[k], sy[k])`` to ``(tx[k], ty[k])``; ``loads`` is ``(global_y, global_x, 4)``."""
    for k in range(len(w)):
        x, y = sx[k], sy[k]
        while True:
            port = next_port(code, x, y, tx[k], ty[k], -1)
            if port < 0:
                break
            loads[y, x, port] += w[k]
            x, y = step(x, y, port)


def existing_ports(mesh_x: int, mesh_y: int, cores_per_router: int, gx: int, gy: int) -> list[int]:
    """Ports router ``(gx, gy)`` of a ``mesh_x`` by ``mesh_y`` mesh has: links that stay in the
    mesh, the host port (W of (0, 0)) and the local ports."""
    ports = []
    if gy < mesh_y - 1:
        ports.append(PORT_N)
    if gx < mesh_x - 1:
        ports.append(PORT_E)
    if gy > 0:
        ports.append(PORT_S)
    if gx > 0 or (gx, gy) == (0, 0):
        ports.append(PORT_W)
    return ports + [PORT_LOCAL + k for k in range(cores_per_router)]


#: the functions hot loops call, callees first
_HOT = ("global_xy", "hop_counts", "closer", "next_port", "step", "add_link_loads")


def compile_with(jit: Callable[..., Any], **options: Any) -> types.SimpleNamespace:
    """The hot functions compiled by ``jit(**options)`` (``numba.njit``), calling each other's
    compiled versions.  Bind the ones a kernel calls to module globals (Numba resolves globals,
    not attributes): ``_next_port = mesh.compile_with(njit, cache=True).next_port``."""
    space = dict(globals())
    out = {}
    for name in _HOT:
        fn = space[name]
        copy = types.FunctionType(fn.__code__, space, name, fn.__defaults__)
        copy.__qualname__, copy.__module__ = fn.__qualname__, fn.__module__
        copy.__doc__ = fn.__doc__
        out[name] = space[name] = jit(**options)(copy)
    return types.SimpleNamespace(**out)
