"""Differential cocotb benches: the Mesh Verilog on Icarus and Verilator vs the golden models.

Driver and monitor are the cocotb module :mod:`spikefab.rtl.sim.cocotb_mesh` (it loads each
image through the memory port, queues host packets, runs steps and reads logs and state back);
the scoreboard is here: spikes and final states must equal
:func:`spikefab.arch.reference.run_reference` and the cycles of every step must equal the
emulator's cycle engine.  One simulator build serves all images of a session.
"""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.arch.reference import run_reference
from spikefab.arch.result import Result
from spikefab.errors import ImageError
from spikefab.rtl.sim.program import jobs_from

from .netgen import random_image
from .slot_floor import run_slot_floor

pytestmark = pytest.mark.rtl
STEPS = 12


def first_difference(image, rtl: Result, ref: Result, emu: Result | None) -> str | None:
    """The first step / core / neuron where the RTL disagrees, as a sentence (None if none)."""
    for name in ref.spikes:
        diff = np.argwhere(rtl.spikes[name] != ref.spikes[name])
        if len(diff):
            step, ch = (int(v) for v in diff[0])
            src = [(ci, j) for ci, c in enumerate(image.cores) for j in range(c.n_neurons)
                   for r in c.routes[int(c.route_ptr[j]["start"]):
                                     int(c.route_ptr[j]["start"]) + int(c.route_ptr[j]["count"])]
                   if r["host"] and int(r["axon"]) == ch]
            return (f"output {name!r} channel {ch} differs first at step {step} (core/neuron "
                    f"{src[0] if src else '?'}): rtl {rtl.spikes[name][step, ch]}, "
                    f"reference {ref.spikes[name][step, ch]}")
    for ci, (a, b) in enumerate(zip(rtl.final_state, ref.final_state)):
        for field in a.dtype.names:
            bad = np.flatnonzero(a[field] != b[field])
            if len(bad):
                j = int(bad[0])
                return (f"final state {field} of core {ci} neuron {j} differs: rtl "
                        f"{a[field][j]}, reference {b[field][j]}")
    if emu is not None:
        bad = np.flatnonzero(rtl.cycles_per_step != emu.cycles_per_step)
        if len(bad):
            s = int(bad[0])
            return (f"cycles of step {s} differ: rtl {rtl.cycles_per_step[s]}, cycle engine "
                    f"{emu.cycles_per_step[s]}")
    return None


def _differential(sim, seeds, target: str = "ice40-up5k", exps=(-2, 2)) -> int:
    """Run random networks on ``sim``; returns how many of them a slot-sum floor would get
    wrong (right-shifting classes that mix delays: :mod:`tests.rtl.slot_floor`)."""
    try:
        from spikefab.emulator import simulate
    except ImportError:       # the emulator wing is optional for the RTL's own checks
        simulate = None
    jobs, cases = [], []
    floor_sensitive = 0
    for seed in seeds:
        image, inputs = random_image(seed, target=target, steps=STEPS, exps=exps)
        jobs.append(jobs_from(image, inputs, STEPS))
        ref = run_reference(image, inputs, STEPS)
        emu = simulate(image, inputs, STEPS, mode="cycle") if simulate else None
        cases.append((seed, image, ref, emu))
        floor_sensitive += not run_slot_floor(image, inputs, STEPS).same_behaviour(ref)
    results = sim.run(jobs)
    assert len(results) == len(jobs)
    spikes = 0
    for rtl, (seed, image, ref, emu) in zip(results, cases):
        problem = first_difference(image, rtl, ref, emu)
        assert problem is None, f"seed {seed}: {problem}"
        assert rtl.counters["synops"] == ref.counters["synops"]
        assert len(rtl.cycles_per_step) == STEPS and (rtl.cycles_per_step > 0).all()
        spikes += ref.counters["spikes"]
    assert spikes > len(seeds)        # the networks are not silent
    return floor_sensitive


@pytest.mark.slow
def test_icarus_differential_50_random_networks(icarus_sim) -> None:
    assert _differential(icarus_sim, range(1000, 1050)) > 0


def test_icarus_delays_with_negative_exponents_are_lava_exact(icarus_sim) -> None:
    """20 networks whose right-shifting classes (exponents -5..-1) mix delays: u, v and spikes
    equal the reference (Lava's DelayDense: a floor per (source step, delay) bucket, #15);
    several of them differ under a floor of the slot's sum, so the test can tell."""
    assert _differential(icarus_sim, range(4000, 4020), exps=(-5, -1)) >= 4


@pytest.mark.slow
def test_icarus_differential_parallel_core_four_cores(icarus_sim_parallel) -> None:
    """The parallel core (ecp5-85k: 2 x 2 mesh, refractory and adaptive threshold) too,
    right-shifting classes with delays 0-3 included."""
    assert _differential(icarus_sim_parallel, range(3000, 3020), target="ecp5-85k") > 0


@pytest.mark.slow
def test_verilator_differential_random_networks(verilator_sim) -> None:
    """Exponents -2..2 with mixed delays: some networks need the per-bucket floor."""
    assert _differential(verilator_sim, range(2000, 2012)) > 0


def _compiled_network(seed: int):
    """A builder network (input -> a <-> b, delays 0-1, recurrence) compiled for ice40-up5k."""
    sf = pytest.importorskip("spikefab.compiler")
    rng = np.random.default_rng(seed)
    net = sf.Network()
    net.input("x", 8)
    net.population("a", 40, sf.LoihiLIF(du=int(rng.integers(0, 4096)),
                                         dv=int(rng.integers(0, 4096)),
                                         vth=int(rng.integers(50, 400))))
    net.population("b", 30, sf.LoihiLIF(du=1024, dv=256, vth=200))
    net.connect("x", "a", weights=rng.integers(-100, 256, (40, 8)))
    net.connect("a", "b", weights=rng.integers(-200, 256, (30, 40)) * (rng.random((30, 40)) < 0.3),
                delay=int(rng.integers(0, 2)))
    net.connect("b", "a", weights=rng.integers(-100, 100, (40, 30)) * (rng.random((40, 30)) < 0.2))
    net.output("y", "b")
    return sf.compile(net, "ice40-up5k", progress=False)


@pytest.mark.slow
def test_icarus_compiled_networks(icarus_sim) -> None:
    """Networks from spikefab.compile (one core, self-routed traffic, full FIFOs)."""
    try:
        from spikefab.emulator import simulate
    except ImportError:
        simulate = None
    jobs, cases = [], []
    for seed in range(3):
        image = _compiled_network(seed)
        inputs = {"x": (np.random.default_rng(seed).random((STEPS, 8)) < 0.5).astype(np.uint8)}
        jobs.append(jobs_from(image, inputs, STEPS))
        emu = simulate(image, inputs, STEPS, mode="cycle") if simulate else None
        cases.append((seed, image, run_reference(image, inputs, STEPS), emu))
    for rtl, (seed, image, ref, emu) in zip(icarus_sim.run(jobs), cases):
        problem = first_difference(image, rtl, ref, emu)
        assert problem is None, f"compiled network {seed}: {problem}"
        assert ref.counters["spikes"] > 0


def test_simulator_refuses_unfit_image_before_running(icarus_sim) -> None:
    image, inputs = random_image(5, steps=4)
    image.cores[0].neurons["bias_exp"][0] = 40
    with pytest.raises(ImageError, match=r"bias_exp must be in \[-16, 15\]"):
        icarus_sim.run([jobs_from(image, inputs, 4)])
