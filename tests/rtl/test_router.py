"""Amaranth-simulator tests of the Router against a cycle model of docs/microarchitecture.md 3-5.

Random packets are offered on every input (only when the input FIFO has room: the sender's
credit) while every output's downstream credit toggles at random; the model and the RTL must
grant the same packet on the same output in every cycle (routing, round robin, credits), and
every packet must leave exactly once (no drop, no duplicate).
"""

from __future__ import annotations

import dataclasses
import numpy as np
import pytest
from amaranth.sim import Simulator

from spikefab.rtl.params import mesh_params
from spikefab.rtl.router import PORT_E, PORT_N, PORT_W, Router, existing_ports

from .router_model import RouterModel, pack, route_port

pytestmark = pytest.mark.rtl


def _params(mesh_x: int = 3, mesh_y: int = 3, cores_per_router: int = 2, routing: str = "xy"):
    p = mesh_params("ice40-up5k")
    return dataclasses.replace(p, mesh_x=mesh_x, mesh_y=mesh_y, cores_per_router=cores_per_router,
                               x_bits=2, y_bits=2, slot_bits=1, routing=routing)


@pytest.mark.parametrize("where,seed,routing", [
    ((1, 1), 0, "xy"), ((0, 0), 1, "xy"), ((2, 1), 2, "xy"), ((1, 1), 3, "xy"),
    ((1, 1), 4, "yx"), ((2, 0), 5, "yx"), ((1, 1), 6, "west-first"), ((2, 2), 7, "west-first")])
def test_router_matches_cycle_model(where, seed, routing) -> None:
    p = _params(routing=routing)
    gx, gy = where
    rng = np.random.default_rng(seed)
    dut = Router(p, gx, gy)
    model = RouterModel(p, gx, gy)
    ins = existing_ports(p, gx, gy)
    cycles = 400
    sent, received = [], []

    async def bench(ctx):
        for c in range(cycles):
            writes = {}
            for i in range(p.ports):
                ctx.set(dut.i[i].valid, 0)
            for i in ins:
                assert ctx.get(dut.i[i].ready) == model.ready(i)
                if model.ready(i) and rng.random() < 0.6 and c < cycles - 60:
                    host = int(rng.random() < 0.15)
                    x, y = int(rng.integers(0, p.mesh_x)), int(rng.integers(0, p.mesh_y))
                    slot, axon = int(rng.integers(0, p.cores_per_router)), len(sent)
                    word = pack(p, host, x, y, slot, axon)
                    ctx.set(dut.i[i].valid, 1)
                    ctx.set(dut.i[i].payload, word)
                    writes[i] = (word, route_port(p, gx, gy, host, x, y, slot))
                    sent.append((word, writes[i][1]))
            out_ready = [int(rng.random() < 0.7) for _ in range(p.ports)]
            for o in range(p.ports):
                ctx.set(dut.o[o].ready, out_ready[o])
            want = model.cycle(writes, out_ready)
            for o in range(p.ports):
                valid = ctx.get(dut.o[o].valid)
                assert valid == (o in want), f"cycle {c} output {o}: valid {valid}, model {want}"
                if valid:
                    assert ctx.get(dut.o[o].payload) == want[o]
                    received.append((want[o], o))
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert len(sent) > 100
    # no drop, no duplicate, every packet left by its routed port
    assert sorted(received) == sorted(sent)


@pytest.mark.parametrize("routing,to_ne,to_nw", [("xy", PORT_E, PORT_W), ("yx", PORT_N, PORT_N),
                                                 ("west-first", PORT_N, PORT_W)])
def test_generated_decision_follows_the_target_routing(routing, to_ne, to_nw) -> None:
    """Router (1, 1): a packet for (2, 2) and one for (0, 2) leave by the algorithm's port."""
    p = _params(routing=routing)
    dut = Router(p, 1, 1)
    got = []

    async def bench(ctx):
        for o in range(p.ports):
            ctx.set(dut.o[o].ready, 1)
        for x in (2, 0):
            ctx.set(dut.i[4].valid, 1)
            ctx.set(dut.i[4].payload, pack(p, 0, x, 2, 0, 5))
            await ctx.tick()
            ctx.set(dut.i[4].valid, 0)
            got.append([o for o in range(p.ports) if ctx.get(dut.o[o].valid)])
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert got == [[to_ne], [to_nw]]


def test_round_robin_is_fair_under_contention() -> None:
    """Two inputs always requesting one output alternate grants; the pointer persists."""
    p = _params()
    dut = Router(p, 1, 1)
    to_east = pack(p, 0, 2, 1, 0, 7)
    winners = []

    async def bench(ctx):
        for o in range(p.ports):
            ctx.set(dut.o[o].ready, 1)
        for _ in range(40):
            for i in (PORT_W, 4):
                ctx.set(dut.i[i].valid, ctx.get(dut.i[i].ready))
                ctx.set(dut.i[i].payload, to_east | (i << 4))
            if ctx.get(dut.o[PORT_E].valid):
                winners.append((ctx.get(dut.o[PORT_E].payload) >> 4) & 0xF)
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert len(winners) > 30
    assert all(a != b for a, b in zip(winners, winners[1:]))


def test_no_grant_without_credit() -> None:
    """An output whose downstream FIFO is full grants nothing and the packet waits."""
    p = _params()
    dut = Router(p, 1, 1)
    word = pack(p, 0, 1, 2, 0, 3)      # routes north

    async def bench(ctx):
        ctx.set(dut.i[4].valid, 1)
        ctx.set(dut.i[4].payload, word)
        await ctx.tick()
        ctx.set(dut.i[4].valid, 0)
        for _ in range(10):
            assert ctx.get(dut.o[PORT_N].valid) == 0
            await ctx.tick()
        ctx.set(dut.o[PORT_N].ready, 1)
        assert ctx.get(dut.o[PORT_N].valid) == 1
        assert ctx.get(dut.o[PORT_N].payload) == word
        await ctx.tick()
        assert ctx.get(dut.empty) == 1

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
