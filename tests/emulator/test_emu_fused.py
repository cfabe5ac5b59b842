"""The functional engine's two neuron updates both equal the reference bit for bit.

The fused int32 update (``kernels.update_lif``, one loop per profile segment) runs when its guard
holds (``engine.fused_update``: per-step input within 2**18, 24-bit start state) and the segments
are long; otherwise the per-neuron int64 loops run.  Random images have short segments, so here
each image is run with the fused update forced on (where the guard holds) and forced off.  The
fused loop runs refractory periods itself (neurons with an adaptive threshold take its slow path).
"""

from __future__ import annotations

import numpy as np
import pytest

from emu_images import dense_image, random_image, random_inputs
from spikefab.arch.reference import run_reference
from spikefab.arch.target import load_target
from spikefab.emulator import engine, flatten, simulate
from spikefab.emulator.flat import neuron_arrays

TARGETS = ["loihi1", "darwin3", "darwinwafer", "ice40-up5k"]
PROBES = ["all.v", "all.u", "all.theta", "all.s"]
STEPS = 12


def _bytes(res) -> bytes:
    parts = [res.spikes[k].tobytes() for k in sorted(res.spikes)]
    parts += [res.traces[k].tobytes() for k in sorted(res.traces)]
    parts += [s.tobytes() for s in res.final_state]
    parts += [repr(sorted((k, v) for k, v in res.counters.items()
                          if not isinstance(v, np.ndarray))).encode()]
    return b"".join(parts)


def _run(monkeypatch, fused: bool, image, inputs, target):
    taken = []
    guard = engine.fused_update

    def choose(flat, na, params):
        ok = guard(flat, na, params) if fused else False
        taken.append(ok)
        return ok

    monkeypatch.setattr(engine, "fused_update", choose)
    monkeypatch.setattr(engine, "_segments_pay", lambda flat, na: True)
    res = simulate(image, inputs, STEPS, "functional", PROBES, target=target)
    monkeypatch.undo()
    return res, taken[0]


@pytest.mark.parametrize("chunk", range(2))
def test_fused_and_int64_updates_equal_the_reference(chunk, monkeypatch):
    fused_runs = 0
    refractory_loops = 0        # images whose fused loop runs a refractory period itself
    for k in range(30):
        seed = 1000 + chunk * 30 + k
        rng = np.random.default_rng(seed)
        name = TARGETS[seed % len(TARGETS)]
        target = load_target(name)
        image = random_image(rng, target, max_neurons=40,
                             activity=float(rng.choice([0.3, 1.0, 3.0])))
        inputs = random_inputs(rng, image, STEPS, p=float(rng.choice([0.1, 0.5])))
        ref = run_reference(image, inputs, STEPS, probes=PROBES)
        flat = flatten(image, target)
        refractory_loops += bool((neuron_arrays(flat, flat.params, flat.ref0).seg_refr > 0).any())
        seen = set()
        for fused in (True, False):
            res, took = _run(monkeypatch, fused, image, inputs, name)
            fused_runs += took
            where = f"seed {seed} on {name}, fused {took}"
            assert res.same_behaviour(ref), where
            for p in PROBES:
                np.testing.assert_array_equal(res.traces[p], ref.traces[p], err_msg=where)
            for key in ("synops", "spikes"):
                assert res.counters[key] == ref.counters[key], (where, key)
            seen.add(_bytes(res))
        assert len(seen) == 1, f"seed {seed}: the two updates differ"
    assert fused_runs >= 25, "the guard refused most images: the fused path went untested"
    assert refractory_loops >= 5, "no refractory segment: the fused refractory loop went untested"


def _one_input(weight: int, n_routes: int, exp: int = 0):
    """Host channel 0 reaches axon 0 through ``n_routes`` routes; the axon adds ``weight`` to
    each of 4 neurons, in a class of exponent ``exp``."""
    image = dense_image(np.full((4, 1), weight), du=410, dv=163, vth=100, target="darwin3")
    image.cores[0].acc_exps = np.array([exp], np.int8)
    image.host_routes = np.concatenate([image.host_routes] * n_routes)
    image.host_route_ptr = np.array([(0, n_routes)], image.host_route_ptr.dtype)
    return image


def _guard(image) -> bool:
    flat = flatten(image, load_target("darwin3"))
    return engine.fused_update(flat, neuron_arrays(flat, flat.params, flat.ref0), flat.params)


def test_the_guard_counts_routes_and_falls_back():
    """Two routes into one axon deliver its synapses twice, so the accumulator bound doubles;
    past 2**18 per step the int64 update runs; both updates equal the reference there."""
    target = load_target("darwin3")
    assert flatten(_one_input(100, 2), target).acc_bound \
        == 2 * flatten(_one_input(100, 1), target).acc_bound == 200
    edge = _one_input(255, 8, exp=7)          # 8 x 255 << 7 = 261,120 <= 2**18 per step
    over = _one_input(255, 9, exp=7)          # 9 x 255 << 7 > 2**18
    assert _guard(edge) and not _guard(over)
    steps = 40
    inputs = {"in": np.ones((steps, 1), np.uint8)}
    ref_u = {}
    for key, image in (("edge", edge), ("over", over)):
        ref = run_reference(image, inputs, steps, probes=["lif.u", "lif.v", "lif.s"])
        res = simulate(image, inputs, steps, "functional", ["lif.u", "lif.v", "lif.s"])
        assert res.same_behaviour(ref)
        for p in ("lif.u", "lif.v", "lif.s"):
            np.testing.assert_array_equal(res.traces[p], ref.traces[p], err_msg=p)
        ref_u[key] = ref.traces["lif.u"]
    # positive input only: at the edge u wraps to negative (24-bit correction), past it u
    # leaves 24 bits (one correction per step no longer brings it back): what the guard excludes
    assert ref_u["edge"].min() < 0 and ref_u["over"].max() > 2**23
