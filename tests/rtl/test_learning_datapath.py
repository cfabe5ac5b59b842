"""Amaranth-simulator tests of the learning-engine datapath against the arch reference."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.sim import Simulator

from spikefab.arch.image import LEARN_STATIC, LEARN_VARS
from spikefab.arch.learning.engine import (PlasticGroup, _impulse, decay_trace, evaluate_series,
                                           weight_range, VAR_RANGE)
from spikefab.arch.learning.profile import decay_factor
from spikefab.arch.learning.rule import Factor, Product, ProductSeries
from spikefab.arch.learning.random import xorshift64
from spikefab.arch.neuron import SIGN_EXCITATORY, SIGN_INHIBITORY, SIGN_MIXED
from spikefab.arch.learning.layout import PRODUCT_CYCLES, decay_operands
from spikefab.rtl.learning.datapath import FinalRound, ProductUnit, TraceStep, xorshift64_next

pytestmark = pytest.mark.rtl

_INV53 = 2.0 ** -53


def _run(dut, bench) -> None:
    sim = Simulator(dut)
    sim.add_clock(1e-6, if_exists=True)
    sim.add_testbench(bench)
    sim.run()


def test_trace_step_equals_reference() -> None:
    """Decay (binary64 product, stochastic rounding) and impulse over random traces and taus."""
    rng = np.random.default_rng(7)
    n = 3000
    tr = rng.integers(0, 128, n)
    tau = rng.integers(0, 256, n)
    tau[:40] = 1
    tau[40:80] = 255
    rk = rng.integers(0, 1 << 53, n, dtype=np.uint64)
    add = rng.integers(0, 2, n)
    imp_int = rng.integers(0, 128, n)
    imp_frac = rng.integers(0, 257, n)
    r_imp = rng.integers(0, 128, n)
    dut = TraceStep()
    got = np.zeros(n, np.int64)

    async def bench(ctx):
        for i in range(n):
            f = decay_factor(int(tau[i]))
            sig, sh = decay_operands(f)
            for name, v in (("tr", tr[i]), ("active", tau[i] != 0), ("sig", sig),
                            ("sh54", sh == 54), ("r_decay", rk[i]), ("add", add[i]),
                            ("imp_int", imp_int[i]), ("imp_frac", imp_frac[i]),
                            ("r_imp", r_imp[i])):
                ctx.set(getattr(dut, name), int(v))
            got[i] = ctx.get(dut.out)

    _run(dut, bench)
    for i in range(n):
        f = decay_factor(int(tau[i]))
        h = decay_trace(np.array([tr[i]]), f, float(int(rk[i])) * _INV53)[0] if tau[i] else 0
        if add[i]:
            h = _impulse(np.array([h]), imp_int[i], imp_frac[i], int(r_imp[i]))[0]
        assert got[i] == h, (i, tr[i], tau[i], int(rk[i]))


def test_decay_fraction_is_exact_at_the_rounding_edge() -> None:
    """A uniform one ulp either side of the product's fraction rounds differently, as the reference."""
    dut = TraceStep()
    cases = []
    for tau in (1, 3, 17, 100, 255):
        f = decay_factor(tau)
        for tr in (1, 5, 64, 127):
            p = tr * f
            frac = p - np.floor(p)
            k = int(frac * 2 ** 53)
            cases += [(tr, tau, k + d) for d in (-1, 0, 1) if 0 <= k + d < 1 << 53]
    got = []

    async def bench(ctx):
        for tr, tau, k in cases:
            sig, sh = decay_operands(decay_factor(tau))
            for name, v in (("tr", tr), ("active", 1), ("sig", sig), ("sh54", sh == 54),
                            ("r_decay", k), ("add", 0)):
                ctx.set(getattr(dut, name), int(v))
            got.append(ctx.get(dut.out))

    _run(dut, bench)
    want = [decay_trace(np.array([tr]), decay_factor(tau), k * _INV53)[0] for tr, tau, k in cases]
    assert got == want


def test_xorshift64_next() -> None:
    from amaranth.hdl import Module, Signal

    m = Module()
    s, o = Signal(64), Signal(64)
    m.d.comb += o.eq(xorshift64_next(s))
    seeds = [1, 0x9E3779B97F4A7C15, (1 << 64) - 1, 0x0123456789ABCDEF]
    got = []

    async def bench(ctx):
        for v in seeds:
            ctx.set(s, v)
            got.append(ctx.get(o))

    _run(m, bench)
    assert got == [xorshift64(v) for v in seeds]


def _random_product(rng) -> Product:
    dep = ("x0", "y0", "u")[rng.integers(0, 3)]
    factors = []
    for _ in range(rng.integers(0, 5)):
        var = LEARN_VARS[rng.integers(0, len(LEARN_VARS))]
        const = int(rng.choice([0, 0, rng.integers(-300, 300), rng.integers(-32768, 32768)]))
        sgn = var in ("w", "d", "t") and rng.random() < 0.3
        factors.append(Factor(var, const, bool(sgn)))
    return Product(dep, int(rng.integers(-8, 8)), int(rng.integers(0, 16)), tuple(factors))


def test_product_unit_equals_evaluate_series() -> None:
    """Random products (up to 4 factors, constants, sgn) on random synapse states."""
    rng = np.random.default_rng(11)
    n = 1500
    dut = ProductUnit()
    cases = []
    for _ in range(n):
        p = _random_product(rng)
        tx, ty = int(rng.integers(0, 4)), int(rng.integers(0, 4))
        xh = rng.integers(0, 128, (4, 2, 1))
        yh = rng.integers(0, 128, (4, 3, 1))
        g = PlasticGroup([0], [0], [int(rng.integers(-256, 256))], [int(rng.integers(0, 256))],
                         [int(rng.integers(-257, 256))], xh[-1], yh[-1],
                         np.array([tx]), np.array([ty]))
        x0 = np.array([tx > 0])
        y0 = np.array([ty > 0])
        u = int(rng.integers(0, 2))
        acc = int(rng.choice([0, rng.integers(-32769, 32768), 32767, -32769]))
        want = int(evaluate_series(ProductSeries("dw", (p,)), np.array([acc]), g, xh, yh, x0, y0,
                                   u)[0])
        at = {"x0": tx, "y0": ty, "u": 3}[p.dependency]
        trace = [int(xh[at, 0, 0]), int(xh[at, 1, 0]), *(int(yh[at, i, 0]) for i in range(3))]
        dep = {"x0": tx > 0, "y0": ty > 0, "u": u}[p.dependency]
        cases.append((p, trace, int(dep), int(tx > 0), int(ty > 0), int(g.w[0]), int(g.d[0]),
                      int(g.t[0]), acc, want))
    got = []

    async def bench(ctx):
        for p, trace, dep, x0, y0, w, d, t, acc, _ in cases:
            ctx.set(dut.dep, dep)
            ctx.set(dut.s_mantissa, p.s_mantissa)
            ctx.set(dut.s_exp, p.s_exp)
            for k in range(4):
                f = p.factors[k] if k < len(p.factors) else None
                ctx.set(dut.var[k], LEARN_VARS.index(f.var) if f else LEARN_STATIC)
                ctx.set(dut.const[k], f.const if f else 0)
                ctx.set(dut.sgn[k], int(f.is_sgn) if f else 0)
            for k in range(5):
                ctx.set(dut.trace[k], trace[k])
            for name, v in (("x0", x0), ("y0", y0), ("w", w), ("d", d), ("t", t),
                            ("acc_in", acc)):
                ctx.set(getattr(dut, name), v)
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            cycle = 1                      # the start cycle was cycle 0
            while not ctx.get(dut.done):
                await ctx.tick()
                cycle += 1
            assert cycle == PRODUCT_CYCLES - 1     # done in the product's last cycle
            got.append(ctx.get(dut.acc_out))
            await ctx.tick()

    _run(dut, bench)
    assert got == [c[-1] for c in cases]


def test_final_round_equals_reference() -> None:
    rng = np.random.default_rng(5)
    n = 3000
    dut = FinalRound()
    acc = rng.integers(-32769, 32768, n)
    acc[:30] = [-32769, 32767, 0, -1, 1, 127, 128, -128, -129] * 3 + [5, 6, 7]
    var = rng.integers(0, 3, n)
    mode = rng.choice([SIGN_MIXED, SIGN_EXCITATORY, SIGN_INHIBITORY], n)
    rk = rng.integers(0, 1 << 53, n, dtype=np.uint64)
    for i in range(30, 120):                 # uniforms at and beside the fraction's value
        edge = (int(acc[i]) & 127) << 46
        rk[i] = max(0, edge + (i % 3) - 1)
    got = np.zeros(n, np.int64)

    async def bench(ctx):
        for i in range(n):
            for name, v in (("acc", acc[i]), ("var", var[i]), ("sign_mode", mode[i]),
                            ("r_round", rk[i])):
                ctx.set(getattr(dut, name), int(v))
            got[i] = ctx.get(dut.out)

    _run(dut, bench)
    for i in range(n):
        a = int(acc[i])
        r = float(int(rk[i])) * _INV53
        if var[i] == 0:
            if mode[i] == SIGN_EXCITATORY:
                a = max(a, 0)
            elif mode[i] == SIGN_INHIBITORY:
                a = min(a, 0)
            lo, hi = weight_range(int(mode[i]))
        else:
            if var[i] == 1:
                a = max(a, 0)
            lo, hi = VAR_RANGE["dt"[var[i] - 1]]
        want = min(max((a >> 7) + (r < (a & 127) / 128.0), lo), hi)
        assert got[i] == want, (i, int(acc[i]), int(var[i]), int(mode[i]))
