"""cocotb bench of one Router: random driver, output monitor, cycle-model scoreboard.

Loaded by the cocotb runner from ``test_cocotb_router.py``; parameters come as JSON in
``$SPIKEFAB_ROUTER_BENCH``.  Inputs change on the falling clock edge; outputs (combinational
grants) are sampled in the ReadOnly phase of the same half period and compared with
:class:`router_model.RouterModel` cycle by cycle; at the end every packet sent must have left
exactly once by its routed port.
"""

import json
import os
import random
from types import SimpleNamespace

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly
from router_model import RouterModel, pack, route_port


@cocotb.test()
async def router_scoreboard(dut) -> None:
    cfg = json.loads(os.environ["SPIKEFAB_ROUTER_BENCH"])
    p = SimpleNamespace(**cfg["params"])
    gx, gy = cfg["gx"], cfg["gy"]
    rng = random.Random(cfg["seed"])
    model = RouterModel(p, gx, gy)
    ins = sorted(model.fifos)
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    for i in range(p.ports):
        getattr(dut, f"i__{i}__valid").value = 0
        getattr(dut, f"i__{i}__payload").value = 0
        getattr(dut, f"o__{i}__ready").value = 0
    dut.clear.value = 0
    dut.rst.value = 1
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    sent, received = [], []
    for c in range(cfg["cycles"]):
        writes = {}
        for i in ins:
            ready = int(getattr(dut, f"i__{i}__ready").value)
            assert ready == model.ready(i), \
                f"cycle {c}: i[{i}].ready {ready}, model {model.ready(i)}"
            offer = ready and rng.random() < 0.6 and c < cfg["cycles"] - 60
            getattr(dut, f"i__{i}__valid").value = int(offer)
            if offer:
                host = int(rng.random() < 0.15)
                x, y = rng.randrange(p.mesh_x), rng.randrange(p.mesh_y)
                slot, axon = rng.randrange(p.cores_per_router), len(sent)
                word = pack(p, host, x, y, slot, axon)
                getattr(dut, f"i__{i}__payload").value = word
                writes[i] = (word, route_port(p, gx, gy, host, x, y, slot))
                sent.append(writes[i])
        out_ready = [int(rng.random() < 0.7) for _ in range(p.ports)]
        for o in range(p.ports):
            getattr(dut, f"o__{o}__ready").value = out_ready[o]
        want = model.cycle(writes, out_ready)
        await ReadOnly()
        for o in range(p.ports):
            valid = int(getattr(dut, f"o__{o}__valid").value)
            assert valid == (o in want), f"cycle {c} output {o}: valid {valid}, model {want}"
            if valid:
                data = int(getattr(dut, f"o__{o}__payload").value)
                assert data == want[o], f"cycle {c} output {o}: data {data:#x}, model {want[o]:#x}"
                received.append((data, o))
        await FallingEdge(dut.clk)
    assert len(sent) > 100
    assert sorted(received) == sorted(sent), "packets dropped or duplicated"
