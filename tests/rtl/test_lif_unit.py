"""Amaranth-simulator test of the LIF datapath against ``spikefab.arch.neuron.lif_step``."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.sim import Simulator

from spikefab.arch.neuron import lif_step
from spikefab.rtl.lif import LifUnit

pytestmark = pytest.mark.rtl

FIELDS = ("u", "v", "theta", "ref", "a", "bias_mant", "bias_exp", "du", "dv", "vth",
          "reset_mode", "refractory", "theta_decay", "theta_inc")


def _vectors(n: int, seed: int) -> dict[str, np.ndarray]:
    """Random operands with many edge cases: wrap of the current, saturation, negatives."""
    rng = np.random.default_rng(seed)
    lim = 1 << 23
    edge_u = np.array([lim, lim - 1, -lim, -lim + 1, 0, 1, -1, (1 << 31) - 1, -(1 << 31)])
    vec = {
        "u": np.where(rng.random(n) < 0.2, rng.choice(edge_u, n), rng.integers(-lim, lim + 1, n)),
        "v": np.where(rng.random(n) < 0.2, rng.choice([lim - 1, -lim + 1, 0], n),
                      rng.integers(-lim + 1, lim, n)),
        "theta": rng.integers(0, lim, n) * (rng.random(n) < 0.5),
        "ref": rng.integers(0, 4, n) * (rng.random(n) < 0.3),
        "a": np.where(rng.random(n) < 0.2, rng.integers(-(1 << 20), 1 << 20, n),
                      rng.integers(-3000, 3000, n)),
        "bias_mant": rng.integers(-4096, 4096, n),
        "bias_exp": rng.integers(-8, 8, n),
        "du": rng.choice([0, 1, 4095, 2048], n) * (rng.random(n) < 0.3) + rng.integers(0, 4096, n) * (rng.random(n) >= 0.3),
        "dv": rng.choice([0, 4095], n) * (rng.random(n) < 0.3) + rng.integers(0, 4096, n) * (rng.random(n) >= 0.3),
        "vth": rng.integers(0, 1 << 17, n),
        "reset_mode": rng.integers(0, 2, n),
        "refractory": rng.integers(0, 5, n),
        "theta_decay": rng.integers(0, 4096, n),
        "theta_inc": rng.integers(0, 1 << 20, n) * (rng.random(n) < 0.5),
    }
    vec["du"] = np.minimum(vec["du"], 4095)
    vec["dv"] = np.minimum(vec["dv"], 4095)
    return {k: v.astype(np.int64) for k, v in vec.items()}


def _run_unit(vec: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    dut = LifUnit()
    n = len(vec["u"])
    out = {k: np.zeros(n, np.int64) for k in ("u", "v", "theta", "ref", "s")}

    async def bench(ctx):
        for i in range(n):
            for name in FIELDS:
                ctx.set(getattr(dut, name), int(vec[name][i]))
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            await ctx.tick().repeat(2)
            assert ctx.get(dut.done) == 1
            out["u"][i] = ctx.get(dut.u_new)
            out["v"][i] = ctx.get(dut.v_new)
            out["theta"][i] = ctx.get(dut.theta_new)
            out["ref"][i] = ctx.get(dut.ref_new)
            out["s"][i] = ctx.get(dut.spike)
            await ctx.tick()
            assert ctx.get(dut.done) == 0

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return out


def _expected(vec: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    u, v, s, ref, theta = lif_step(
        vec["u"], vec["v"], vec["a"], du=vec["du"], dv=vec["dv"], vth=vec["vth"],
        bias_mant=vec["bias_mant"], bias_exp=vec["bias_exp"], reset_mode=vec["reset_mode"],
        refractory=vec["refractory"], ref=vec["ref"], theta=vec["theta"],
        theta_inc=vec["theta_inc"], theta_decay=vec["theta_decay"])
    i32 = lambda x: np.asarray(x, np.int64).astype(np.int32).astype(np.int64)  # noqa: E731
    return {"u": i32(u), "v": i32(v), "theta": i32(theta), "ref": ref, "s": s.astype(np.int64)}


@pytest.mark.parametrize("seed", [0, 1])
def test_lif_unit_matches_reference(seed: int) -> None:
    vec = _vectors(300, seed)
    got, want = _run_unit(vec), _expected(vec)
    for key in want:
        bad = np.flatnonzero(got[key] != want[key])
        assert not len(bad), (f"{key} differs at vector {bad[0]}: rtl {got[key][bad[0]]}, "
                              f"reference {want[key][bad[0]]}, operands "
                              f"{ {k: int(v[bad[0]]) for k, v in vec.items()} }")
    assert want["s"].sum() > 10  # the vectors do exercise spikes


def test_lif_unit_current_wrap_edges() -> None:
    """Lava's single-correction wrap: u = 2**23 is kept, 2**23 + 1 wraps negative."""
    lim = 1 << 23
    vec = _vectors(6, 5)
    vec["u"] = np.array([lim, lim + 64, -lim, -lim - 64, (1 << 31) - 1, -(1 << 31)])
    vec["a"] = np.array([0, 1, -1, 0, 1 << 20, -(1 << 20)])
    vec["du"] = np.full(6, 4095)
    got, want = _run_unit(vec), _expected(vec)
    assert np.array_equal(got["u"], want["u"])
    assert np.array_equal(got["v"], want["v"])
