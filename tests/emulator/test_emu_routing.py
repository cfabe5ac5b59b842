"""The routing algorithm as a target option (``topology.routing``), end to end in the emulator.

Both engines must keep invariant 1 under every algorithm of :data:`spikefab.arch.mesh.ROUTINGS`
(the functional engine is timing-free; the cycle engine routes every packet hop by hop, so its
spikes only stay right if no packet is lost or stuck), the measured hops must equal the
contract's hop counts, and the algorithm must really change the cycle engine's paths.
"""

from __future__ import annotations

import numpy as np
import pytest

from emu_images import TINY_WAFER, random_image, random_inputs
from spikefab.arch import mesh
from spikefab.arch.reference import run_reference
from spikefab.arch.target import load_target
from spikefab.emulator import noc_traffic, simulate

STEPS = 10


@pytest.fixture(scope="module")
def wafers(tmp_path_factory) -> dict[str, str]:
    """The tiny-wafer profile once per routing algorithm (same name, so the same images fit)."""
    folder = tmp_path_factory.mktemp("routing")
    out = {}
    for name in mesh.ROUTINGS:
        path = folder / f"{name}.toml"
        path.write_text(TINY_WAFER.replace("[topology]\n", f'[topology]\nrouting = "{name}"\n'))
        assert load_target(str(path)).topology.routing == name
        out[name] = str(path)
    return out


def test_both_engines_agree_with_the_reference_under_every_routing(wafers) -> None:
    for seed in range(6):
        rng = np.random.default_rng(500 + seed)
        image = random_image(rng, load_target(wafers["xy"]), activity=3.0)
        inputs = random_inputs(rng, image, STEPS, p=0.5)
        ref = run_reference(image, inputs, STEPS)
        hops = {}
        for name, spec in wafers.items():
            where = f"seed {seed}, routing {name}"
            fun = simulate(image, inputs, STEPS, "functional", target=spec)
            cyc = simulate(image, inputs, STEPS, "cycle", target=spec)
            assert fun.same_behaviour(ref), where
            assert cyc.same_behaviour(ref), where
            hops[name] = tuple(cyc.counters[k] for k in ("hops_ew", "hops_ns", "chiplet_hops"))
            assert hops[name] == tuple(fun.counters[k]
                                       for k in ("hops_ew", "hops_ns", "chiplet_hops")), where
        # every algorithm is minimal: the same hops, on other links
        assert len(set(hops.values())) == 1


def test_the_algorithm_changes_the_cycle_engines_paths(wafers) -> None:
    """Uniform random traffic below saturation on the 6 x 4 wafer: every measured packet arrives
    with the same hop counts in all under XY, YX and west-first, but over other links, so with
    other contention and other latencies."""
    runs = {name: noc_traffic((3, 2), "uniform", 0.05, 2000, seed=1, chiplets=(2, 2), target=spec,
                              drain=20000)
            for name, spec in wafers.items()}
    xy = runs["xy"]
    assert xy.delivered > 1000
    for name, res in runs.items():
        assert res.delivered == res.measured == xy.measured, name
        assert res.hops.sum() == xy.hops.sum(), name
        assert res.chiplet_hops.sum() == xy.chiplet_hops.sum(), name
    assert not np.array_equal(runs["yx"].latencies, xy.latencies)
    assert not np.array_equal(runs["west-first"].latencies, xy.latencies)
    assert not np.array_equal(runs["west-first"].latencies, runs["yx"].latencies)


@pytest.mark.parametrize("name", list(mesh.ROUTINGS))
def test_the_fabric_tables_route_as_arch_mesh(name) -> None:
    """The kernels look routing up in a table (per sign of the offset to the destination) and
    the FIFO each output feeds in another: both must give what ``arch.mesh`` says for every
    router and destination of a 5 x 4 mesh of 2-core routers."""
    from spikefab.emulator.noc import kernels as NK
    from spikefab.emulator.noc.fabric import new_fabric
    gx, gy, cpr = 5, 4, 2
    ends = np.array([(r, s) for r in range(gx * gy) for s in range(cpr)])
    fab = new_fabric(gx, gy, gx, gy, cpr, 2, 1, 1, 1, ends, routing=name)
    fa, P, code = fab.args(), 4 + cpr, mesh.routing_code(name)
    dests = [(tx, ty, s) for tx in range(gx) for ty in range(gy) for s in (-1, 0, 1)]
    pk = np.array([(tx, ty, s, 0, 0, -1) for tx, ty, s in dests], np.int64)
    for r in range(gx * gy):
        x, y = r % gx, r // gx
        for p, (tx, ty, s) in enumerate(dests):
            want = mesh.next_port(code, x, y, tx, ty, mesh.PORT_W if s < 0 else mesh.PORT_LOCAL + s)
            assert NK._route(fa, pk, p, r) == want, (name, r, tx, ty, s)
        for o in range(4):
            nx, ny = mesh.step(x, y, o)
            if 0 <= nx < gx and 0 <= ny < gy:
                opposite = (o + 2) % 4
                assert fab.down[r * P + o] == (ny * gx + nx) * P + opposite
        for s in range(cpr):
            assert fab.down[r * P + 4 + s] == gx * gy * P + r * cpr + s
    assert fab.down[3] == -1                    # W of (0, 0): the host
