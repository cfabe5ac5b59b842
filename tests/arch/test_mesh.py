"""The mesh reference (spikefab.arch.mesh): paths written out by hand, properties every routing
algorithm must have (minimal, deadlock free), and the Numba-compiled copies equal to the plain
functions."""

from __future__ import annotations

import itertools
from importlib import resources

import numpy as np
import pytest
from numba import njit

from spikefab.arch import mesh
from spikefab.arch.errors import TargetError
from spikefab.arch.mesh import PORT_E, PORT_N, PORT_S, PORT_W
from spikefab.arch.target import load_target

ALGOS = tuple(mesh.ROUTINGS)


def _ports(name: str, src, dst) -> list[int]:
    return [p for _, _, p in mesh.path(mesh.routing_code(name), *src, *dst)]


@pytest.mark.parametrize("name,src,dst,want", [
    ("xy", (0, 0), (2, 1), [PORT_E, PORT_E, PORT_N]),
    ("xy", (2, 2), (0, 0), [PORT_W, PORT_W, PORT_S, PORT_S]),
    ("yx", (0, 0), (2, 1), [PORT_N, PORT_E, PORT_E]),
    ("yx", (2, 2), (1, 0), [PORT_S, PORT_S, PORT_W]),
    ("west-first", (0, 0), (2, 1), [PORT_N, PORT_E, PORT_E]),      # no west hop: y, then east
    ("west-first", (2, 0), (0, 1), [PORT_W, PORT_W, PORT_N]),      # west first
    ("west-first", (0, 2), (1, 0), [PORT_S, PORT_S, PORT_E]),
    ("xy", (1, 1), (1, 1), []),
])
def test_paths_by_hand(name, src, dst, want) -> None:
    assert _ports(name, src, dst) == want


def test_the_algorithms_differ() -> None:
    routes = {name: _ports(name, (0, 2), (3, 0)) for name in ALGOS}
    assert routes["xy"] == [PORT_E] * 3 + [PORT_S] * 2
    assert routes["yx"] == routes["west-first"] == [PORT_S] * 2 + [PORT_E] * 3
    assert _ports("yx", (3, 0), (0, 2)) != _ports("west-first", (3, 0), (0, 2))


@pytest.mark.parametrize("name", ALGOS)
def test_every_path_is_minimal_and_arrives(name) -> None:
    code = mesh.routing_code(name)
    for sx, sy, tx, ty in itertools.product(range(4), range(3), range(4), range(3)):
        hops = mesh.path(code, sx, sy, tx, ty)
        assert len(hops) == abs(tx - sx) + abs(ty - sy)
        x, y = sx, sy
        for hx, hy, port in hops:
            assert (hx, hy) == (x, y) and 0 <= hx < 4 and 0 <= hy < 3
            x, y = mesh.step(x, y, port)
        assert (x, y) == (tx, ty)
        assert mesh.next_port(code, tx, ty, tx, ty, 99) == 99


@pytest.mark.parametrize("name", ALGOS)
def test_hop_counts_follow_the_path(name) -> None:
    """On-chip E/W, on-chip N/S and chiplet-crossing hops counted along the walked path."""
    code, mx, my = mesh.routing_code(name), 3, 2
    for sx, sy, tx, ty in itertools.product(range(6), range(4), range(6), range(4)):
        ew = ns = chip = 0
        for x, y, port in mesh.path(code, sx, sy, tx, ty):
            nx, ny = mesh.step(x, y, port)
            if (x // mx, y // my) != (nx // mx, ny // my):
                chip += 1
            elif port in (PORT_E, PORT_W):
                ew += 1
            else:
                ns += 1
        assert mesh.hop_counts(sx, sy, tx, ty, mx, my) == (ew, ns, chip)


@pytest.mark.parametrize("name", ALGOS)
def test_deadlock_free_channel_dependencies_are_acyclic(name) -> None:
    """Dally & Seitz: a routing function is deadlock free if the graph of link -> next link
    over all its paths has no cycle."""
    code, gx, gy = mesh.routing_code(name), 4, 4
    deps: dict[tuple, set] = {}
    for sx, sy, tx, ty in itertools.product(range(gx), range(gy), range(gx), range(gy)):
        hops = mesh.path(code, sx, sy, tx, ty)
        for a, b in zip(hops, hops[1:]):
            deps.setdefault(a, set()).add(b)
    state: dict[tuple, int] = {}

    def acyclic(node) -> bool:
        state[node] = 1
        for nxt in deps.get(node, ()):
            if state.get(nxt) == 1 or (nxt not in state and not acyclic(nxt)):
                return False
        state[node] = 2
        return True

    assert all(acyclic(n) for n in list(deps) if n not in state)


def test_global_xy_on_ints_and_arrays() -> None:
    # 2 x 2 chiplets of 3 x 2 routers: chiplet 3 is the top right one
    assert mesh.global_xy(3, 2, 1, 2, 3, 2) == (5, 3)
    assert mesh.global_xy(0, 1, 0, 2, 3, 2) == (1, 0)
    gx, gy = mesh.global_xy(np.array([0, 1, 2]), np.array([0, 1, 2]), np.array([1, 0, 1]), 2, 3, 2)
    assert gx.tolist() == [0, 4, 2] and gy.tolist() == [1, 0, 3]
    assert mesh.router_id(5, 3, 6) == 23


@pytest.mark.parametrize("name", ALGOS)
def test_compiled_functions_equal_the_plain_ones(name) -> None:
    fast = mesh.compile_with(njit, cache=True)
    code = mesh.routing_code(name)
    rng = np.random.default_rng(3)
    sx, sy, tx, ty = (rng.integers(0, 5, 200) for _ in range(4))
    w = rng.integers(1, 4, 200)
    plain = np.zeros((5, 5, 4), np.int64)
    mesh.add_link_loads(plain, code, sx, sy, tx, ty, w)
    compiled = np.zeros_like(plain)
    fast.add_link_loads(compiled, code, sx, sy, tx, ty, w)
    assert np.array_equal(plain, compiled) and plain.sum() == int(
        (w * (abs(tx - sx) + abs(ty - sy))).sum())
    for k in range(50):
        args = (code, int(sx[k]), int(sy[k]), int(tx[k]), int(ty[k]), -1)
        assert fast.next_port(*args) == mesh.next_port(*args)
    assert fast.hop_counts(0, 0, 4, 3, 2, 2) == mesh.hop_counts(0, 0, 4, 3, 2, 2)


def test_priority_round_trips_and_bad_names_are_refused() -> None:
    for name, order in mesh.ROUTINGS.items():
        assert mesh.priority(mesh.routing_code(name)) == order
        assert sorted(order) == [PORT_N, PORT_E, PORT_S, PORT_W]
    with pytest.raises(TargetError, match="routing must be one of xy, yx, west-first, not 'zz'"):
        mesh.routing_code("zz")


def test_target_routing_option(tmp_path) -> None:
    base = load_target("ecp5-85k")
    assert base.topology.routing == "xy"
    assert "spikefab default" in base.source_of("topology", "routing")
    text = tmp_path / "t.toml"
    src = (resources.files("spikefab.arch.profiles") / "ecp5-85k.toml").read_text()
    text.write_text(src.replace("[topology]\n", '[topology]\nrouting = "west-first"\n'))
    assert load_target(str(text)).topology.routing == "west-first"
    text.write_text(src.replace("[topology]\n", '[topology]\nrouting = "adaptive"\n'))
    with pytest.raises(TargetError, match="'topology.routing' must be one of xy, yx, west-first, "
                                          "not 'adaptive'"):
        load_target(str(text))
    text.write_text(src.replace("[topology]\n", "[topology]\nrouting = 3\n"))
    with pytest.raises(TargetError, match="'topology.routing' must be one of"):
        load_target(str(text))
