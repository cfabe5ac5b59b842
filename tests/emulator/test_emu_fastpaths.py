"""The functional engine's fast paths equal the reference model bit for bit.

Dense projections are delivered as blocks (emulator/fanout.py): the spiking rows, or the column
sum minus the silent rows when most rows spike; the neuron update runs vectorized with the
refractory / adaptive-threshold neurons redone on a slow path.  These networks are built so that
each path really runs (the random images of test_emu_differential rarely form dense runs).
"""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.arch.reference import run_reference
from spikefab.arch.target import load_target
from spikefab.compiler.builder import Network
from spikefab.compiler.driver import compile_result
from spikefab.compiler.hwnet import LoihiLIF
from spikefab.emulator import flatten, simulate
from spikefab.errors import InputError

PROBES = ["b.v", "b.u", "b.theta", "b.s", "a.s"]


def dense_net(n_a: int, n_b: int, rate: float, seed: int) -> Network:
    """x -> a (bias-driven at about ``rate``) -> b through two dense projections (two classes,
    a negative exponent, a delay), b with refractory periods and an adaptive threshold."""
    rng = np.random.default_rng(seed)
    net = Network()
    x = net.input("x", 16)
    vth = 100
    bias = (rng.uniform(0.5, 1.5, n_a) * rate * (vth << 6)).astype(np.int64)
    a = net.population("a", n_a, LoihiLIF(du=4095, dv=0, vth=vth, bias_mant=bias >> 4,
                                          bias_exp=4))
    b = net.population("b", n_b, LoihiLIF(du=1024, dv=256, vth=60, reset="subtract",
                                          refractory=2, theta_inc=30, theta_decay=400))
    w = rng.integers(-8, 9, (n_b, n_a))
    net.connect(a, b, weights=w, weight_exp=-1)
    net.connect(a, b, weights=np.abs(w) // 2, weight_exp=2, delay=1)
    net.connect(x, a, weights=rng.integers(0, 10, (n_a, 16)))
    net.output("spk_a", a)
    net.output("spk_b", b)
    return net


@pytest.mark.parametrize("rate", [0.05, 0.9])        # mostly silent rows / mostly spiking rows
@pytest.mark.parametrize("target", ["darwin3", "loihi1"])
def test_dense_blocks_equal_the_reference(rate, target):
    image = compile_result(dense_net(120, 90, rate, seed=3), target, progress=False).image
    flat = flatten(image, load_target(target))
    assert flat.fo.dense_synapses > 0, "no dense block formed: the test would not test them"
    steps = 25
    rng = np.random.default_rng(1)
    inputs = {"x": (rng.random((steps, 16)) < 0.2).astype(np.uint8)}
    ref = run_reference(image, inputs, steps, probes=PROBES)
    fun = simulate(image, inputs, steps, "functional", PROBES)
    assert fun.same_behaviour(ref)
    for p in PROBES:
        np.testing.assert_array_equal(fun.traces[p], ref.traces[p], err_msg=p)
    for key in ("synops", "spikes"):
        assert fun.counters[key] == ref.counters[key], key
    # the cycle engine updates neurons with the scalar kernel: the same active count
    cyc = simulate(image, inputs, steps, "cycle")
    assert fun.counters["neuron_updates_active"] == cyc.counters["neuron_updates_active"]
    fired = fun.spikes["spk_a"].mean()
    assert (fired > 0.5) if rate > 0.5 else (fired < 0.5)     # the intended path ran


def _bytes(res) -> bytes:
    parts = [res.spikes[k].tobytes() for k in sorted(res.spikes)]
    parts += [res.traces[k].tobytes() for k in sorted(res.traces)]
    parts += [s.tobytes() for s in res.final_state]
    parts += [repr(sorted((k, v) for k, v in res.counters.items()
                          if not isinstance(v, np.ndarray))).encode(),
              np.asarray(res.counters["estimated_cycles_per_step"]).tobytes()]
    return b"".join(parts)


def test_thread_count_gives_the_same_bytes(monkeypatch):
    """Invariant 4: 1, 2, 4 (and an odd 7) parts on 1 or 2 threads give identical results."""
    import numba
    net = dense_net(150, 120, 0.6, seed=5)
    rng = np.random.default_rng(2)
    pre = rng.integers(0, 150, 900)
    post = rng.integers(0, 120, 900)
    net.connect_sparse("a", "b", pre, post, rng.integers(-20, 20, 900), delay=2)
    image = compile_result(net, "darwin3", progress=False).image
    steps = 30
    inputs = {"x": (rng.random((steps, 16)) < 0.3).astype(np.uint8)}
    ref = run_reference(image, inputs, steps, probes=PROBES)
    seen = set()
    threads_before = numba.get_num_threads()
    try:
        for parts, threads in ((1, 1), (2, 1), (2, 2), (4, 2), (7, 2)):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            monkeypatch.setenv("SPIKEFAB_THREADS", str(parts))
            res = simulate(image, inputs, steps, "functional", PROBES)
            assert res.same_behaviour(ref), (parts, threads)
            seen.add(_bytes(res))
    finally:
        numba.set_num_threads(threads_before)
    assert len(seen) == 1
    monkeypatch.setenv("SPIKEFAB_THREADS", "two")
    with pytest.raises(InputError, match="SPIKEFAB_THREADS"):
        simulate(image, inputs, steps)


def staged_net(n_a: int, n_b: int, seed: int) -> Network:
    """x -> a -> b where Lava DelayDense staging matters: a dense projection whose delay (0..2)
    depends on the source neuron (each source's row stays one dense run) and a sparse one with
    random delays, both with a negative exponent, so sums of several source steps meet in one
    (slot, class) and flooring each (source step, delay) bucket differs from flooring the
    slot's sum.  About half of ``a`` spikes each step: both block paths run."""
    rng = np.random.default_rng(seed)
    net = Network()
    x = net.input("x", 16)
    vth = 100
    bias = (rng.uniform(0.2, 0.8, n_a) * (vth << 6)).astype(np.int64)
    a = net.population("a", n_a, LoihiLIF(du=4095, dv=0, vth=vth, bias_mant=bias >> 4,
                                          bias_exp=4))
    b = net.population("b", n_b, LoihiLIF(du=2048, dv=512, vth=40, reset="subtract"))
    delays = np.broadcast_to(np.arange(n_a) % 3, (n_b, n_a))
    net.connect(a, b, weights=rng.integers(-127, 128, (n_b, n_a)), weight_exp=-3, delay=delays)
    m = 4 * n_a
    net.connect_sparse("a", "b", rng.integers(0, n_a, m), rng.integers(0, n_b, m),
                       rng.integers(-127, 128, m), weight_exp=-2, delay=rng.integers(0, 4, m))
    net.connect(x, a, weights=rng.integers(0, 10, (n_a, 16)))
    net.output("spk_a", a)
    net.output("spk_b", b)
    return net


def test_staged_deliveries_equal_the_reference(monkeypatch):
    """Issue #15 on the fast paths: staged spikes (scatter and dense blocks, int32
    accumulators) and host input, on 1, 2 and 5 parts, equal the reference bit for bit."""
    import numba
    image = compile_result(staged_net(100, 70, seed=7), "darwin3", progress=False).image
    flat = flatten(image, load_target("darwin3"))
    assert flat.slots > 2 and flat.nexp.min() < 0, "staging would be off"
    assert flat.fo.dense_synapses > 0 and flat.acc_bound < 2**31 - 1
    steps = 30
    rng = np.random.default_rng(4)
    inputs = {"x": (rng.random((steps, 16)) < 0.3).astype(np.uint8)}
    probes = ["b.u", "b.v", "b.s", "a.s"]
    ref = run_reference(image, inputs, steps, probes=probes)
    threads_before = numba.get_num_threads()
    seen = set()
    try:
        for parts in (1, 2, 5):
            numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
            monkeypatch.setenv("SPIKEFAB_THREADS", str(parts))
            res = simulate(image, inputs, steps, "functional", probes)
            assert res.same_behaviour(ref), parts
            for p in probes:
                np.testing.assert_array_equal(res.traces[p], ref.traces[p], err_msg=f"{p} {parts}")
            seen.add(_bytes(res))
    finally:
        numba.set_num_threads(threads_before)
    assert len(seen) == 1
    assert 0.1 < ref.spikes["spk_a"].mean() < 0.9


def test_wafer_style_image_same_bytes_on_any_thread_count(monkeypatch):
    """Invariant 4 on the wafer benchmark's image (benchmarks/scale_out.wafer_image) at small
    size: chiplets, delays 0-3, refractory neurons in the fused loop, bias-driven spiking, host
    input; 1 to 4 parts on 1 or 2 threads, with and without the per-thread profile,
    give the reference's behaviour and identical bytes."""
    import sys
    from pathlib import Path

    import numba

    from spikefab.emulator import engine
    from spikefab.emulator import kernels as K
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from scale_out import wafer_image
    image = wafer_image(2, 2, neurons=64, axons=32, syn=6, seed=3)
    steps = 10
    rng = np.random.default_rng(5)
    inputs = {"in": (rng.random((steps, 64)) < 0.3).astype(np.uint8)}
    probes = ["last.v", "last.u", "last.s"]
    ref = run_reference(image, inputs, steps, probes=probes)
    assert ref.counters["spikes"] > 50, "too few spikes to test delivery"
    seen = set()
    threads_before = numba.get_num_threads()
    try:
        for parts, threads, prof in ((1, 1, False), (2, 2, True), (3, 2, False), (4, 1, True)):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            monkeypatch.setenv("SPIKEFAB_THREADS", str(parts))
            monkeypatch.setattr(engine, "profile_threads", prof)
            res = simulate(image, inputs, steps, "functional", probes)
            assert res.same_behaviour(ref), (parts, threads)
            for key in ("synops", "spikes"):
                assert res.counters[key] == ref.counters[key], (parts, key)
            seen.add(_bytes(res))
            if prof:
                p = engine.last_profile
                assert p.shape[:2] == (steps, min(parts, numba.get_num_threads()))
                assert (p[1:, :, K.P_NEURONS].sum(axis=1) == 4 * 64).all()
                assert p[1:, :, K.P_EVENTS].sum() > 0
    finally:
        numba.set_num_threads(threads_before)
    assert len(seen) == 1
