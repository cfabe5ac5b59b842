"""The RTL learning engine inside the parallel cores: functional = cycle = RTL on plastic images.

Random plastic images (``learning_mesh.plastic_case``) run on the ecp5-85k mesh, whose cores
carry the learning engine: spikes, final states, learned weights and the cycles of every step
(the learning phase included) must equal the functional and cycle engines', and the tags,
traces and generator states the host reads back (``spikefab.arch.learning.hostio
.read_learned``) must equal the contract's ``CoreLearner`` driven with the same spikes.  A
third of the images are reward images (R-STDP or a random rule with a reward trace, reward
spikes at random steps: the cores' reward marks feed the engine's ``reward`` strobe).  One
image and one reward image run in the Amaranth simulator (fast tier); 30 run on Icarus and the
same 30 on Verilator,
on one ecp5-85k core (a 1 x 1 mesh: these images use core (0, 0) only; a quarter of the build
and several times faster), and two on Icarus on the whole 2 x 2 mesh; each simulator is built
once per session (slow tier).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from amaranth.sim import Simulator

import spikefab as sf
from spikefab.arch.learning.layout import engine_layout, reward_marks
from spikefab.arch.memory_map import CoreTable
from spikefab.emulator import simulate
from spikefab.errors import ImageError, ResourceError
from spikefab.rtl.mesh import Mesh
from spikefab.rtl.params import check_rtl_image, mesh_params
from spikefab.rtl.sim.program import build_result, run_program
from spikefab.rtl.sim.pysim import AmaranthPort

sys.path.insert(0, str(Path(__file__).resolve().parent))
from learning_mesh import TARGET, check_case, job, plastic_case  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "arch" / "learning"))
from test_learning_reward import rstdp_net  # noqa: E402

pytestmark = pytest.mark.rtl

SEEDS = range(700, 730)


def test_learning_mesh_pysim():
    """A plastic image (two plastic projections, one recurrent, epochs of 3 steps) in the
    Amaranth simulator (the cocotb runs below load 30 images one after the other, each load
    restarting the engines' epochs)."""
    cases = [plastic_case(seed) for seed in (3,)] + [_static_case()]
    params = mesh_params(TARGET)
    jobs = [job(image, x, steps) for image, x, steps, _, _ in cases]
    dut = Mesh(params)
    raws = []

    async def bench(ctx):
        for jb in jobs:
            raws.append(await run_program(AmaranthPort(ctx, dut), params, jb))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    for (image, x, steps, fun, cyc), raw, jb in zip(cases[:1], raws, jobs):
        rtl = build_result(image, steps, raw, "rtl-pysim", 25.0)
        assert check_case(image, steps, fun, cyc, rtl, raw, jb) > 0
        # the learning phase is charged: a step where epochs end takes at least their phases
        lay = engine_layout(image.cores[0])
        for t, c in enumerate(rtl.cycles_per_step, start=1):
            ending = [lay.epoch_cycles(p) for p in range(lay.n_profiles)
                      if t % lay.t_epoch[p] == 0]
            assert c > sum(ending)
    # a static image after it: the engines loaded before take no learning phase
    image, x, steps, fun, cyc = cases[1]
    rtl = build_result(image, steps, raws[1], "rtl-pysim", 25.0)
    assert rtl.same_behaviour(fun) and raws[1].learned is None
    np.testing.assert_array_equal(rtl.cycles_per_step, cyc.cycles_per_step)


def _static_case():
    b = sf.Network()
    b.input("x", 4)
    b.population("p", 3, sf.LoihiLIF(du=4095, dv=512, vth=40))
    b.connect("x", "p", np.full((3, 4), 60))
    b.output("y", "p")
    image = sf.compile(b, TARGET)
    x = {"x": (np.arange(24).reshape(6, 4) % 3 == 0).astype(np.uint8)}
    return (image, x, 6, simulate(image, x, 6), simulate(image, x, 6, mode="cycle"))


def _differential(sim, n_changed_min: int, seeds=SEEDS) -> None:
    cases = [plastic_case(seed) for seed in seeds]
    jobs = [job(image, x, steps) for image, x, steps, _, _ in cases]
    results = sim.run(jobs)
    changed = [check_case(image, steps, fun, cyc, rtl, raw, jb)
               for (image, x, steps, fun, cyc), rtl, raw, jb
               in zip(cases, results, sim.last_raws, jobs)]
    # learning must have changed weights in most images (else the comparison proves little)
    assert sum(c > 0 for c in changed) >= n_changed_min, changed


@pytest.mark.slow
def test_learning_mesh_icarus(icarus_sim_parallel_core):
    """30 images on one ecp5-85k core (1 x 1 mesh: they use core (0, 0) only)."""
    _differential(icarus_sim_parallel_core, 20)


@pytest.mark.slow
def test_learning_mesh_icarus_full_mesh(icarus_sim_parallel):
    """Two of them on the whole 2 x 2 mesh (three idle engines; the build the static
    parallel-core differential uses)."""
    _differential(icarus_sim_parallel, 1, seeds=(SEEDS[0], SEEDS[3]))


@pytest.mark.slow
def test_learning_mesh_verilator(verilator_sim_parallel_core):
    """The same images on one ecp5-85k core (1 x 1 mesh: they use core (0, 0) only)."""
    _differential(verilator_sim_parallel_core, 20)


def _pysim(jobs, reads=()):
    """Run jobs on one ecp5-85k core (a 1 x 1 mesh: the images use core (0, 0) only), then read
    ``reads`` ``(table, index)`` of core 0 (appended to the returned records)."""
    import dataclasses
    params = dataclasses.replace(mesh_params(TARGET), mesh_x=1, mesh_y=1)
    dut = Mesh(params)
    raws = []

    async def bench(ctx):
        port = AmaranthPort(ctx, dut)
        for jb in jobs:
            raws.append(await run_program(port, params, jb))
        raws.append([await port.read(0, table, index) for table, index in reads])

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return raws


def test_reward_learning_mesh_pysim():
    """A reward image (R-STDP profile with a reward input, next to a plastic recurrent profile
    without one) in the Amaranth simulator: the cores' reward marks must feed the engine's
    ``reward`` strobe -- y2 traces read back, weights and per-step cycles (3 per reward record)
    equal the contract's and the cycle engine's."""
    image, x, steps, fun, cyc = plastic_case(4)
    marks = reward_marks(image.cores[0])
    assert np.count_nonzero(marks != 255) and x["r"].any()
    jb = job(image, x, steps)
    raw, back = _pysim([jb], [(CoreTable.LEARN_REWARD, k) for k in range(len(marks))])
    rtl = build_result(image, steps, raw, "rtl-pysim", 25.0)
    assert check_case(image, steps, fun, cyc, rtl, raw, jb) > 0
    np.testing.assert_array_equal(back, marks)          # the marks table reads back
    # a reward record costs its cycles: the same image without reward spikes takes fewer
    quiet = {"x": x["x"], "r": np.zeros_like(x["r"])}
    assert (simulate(image, quiet, steps, mode="cycle").cycles_per_step.sum()
            < cyc.cycles_per_step.sum())


def test_reward_synapses_over_the_engine_are_refused_with_need_and_have():
    """The core records at most the engine's synapse capacity of reward synapses a step."""
    import dataclasses
    b = sf.Network()
    b.input("x", 1)
    b.input("r", 1)
    b.input("r2", 3)
    b.population("p", 3, sf.LoihiLIF(du=4095, dv=512, vth=40))
    b.connect("x", "p", np.full((3, 1), 50), learning=sf.RewardModulatedSTDP(1, -1, 4, 4, 0.5))
    b.reward("r", "x->p")
    b.reward("r2", "x->p")                         # 6 reward synapses, 3 plastic ones
    image = sf.compile(b, TARGET)
    p = mesh_params(TARGET)
    small = dataclasses.replace(p.learning, synapses=4)
    with pytest.raises(ImageError, match=r"needs 6 learning-engine reward synapses, .* holds 4") \
            as err:
        check_rtl_image(image, TARGET, dataclasses.replace(p, learning=small))
    assert err.value.where.endswith("learn_profiles")
    check_rtl_image(image, TARGET)                 # the ecp5-85k engine holds them


def test_reward_rules_are_refused_where_there_is_no_engine():
    """R-STDP needs the engine like every plastic rule: a static fabric and the iCE40 refuse it
    with need and have."""
    image = sf.compile(rstdp_net(1), TARGET)
    with pytest.raises(ImageError, match="needs a learning engine; this ecp5-85k fabric has none"):
        check_rtl_image(image, TARGET, mesh_params(TARGET, learning=None))
    with pytest.raises(ResourceError, match=r"5,611 logic cells.*108 of the 5,280 free"):
        sf.compile(rstdp_net(1), "ice40-up5k")


def test_engine_capacity_is_refused_with_need_and_have():
    image, *_ = plastic_case(1)
    p = mesh_params(TARGET)
    small = type(p.learning)(axons=p.learning.axons, neurons=p.learning.neurons, profiles=1,
                             synapses=1, products=1, entries=p.learning.entries)
    import dataclasses
    with pytest.raises(ImageError, match=r"needs \d+ learning-engine plastic synapses, .* holds 1"):
        check_rtl_image(image, TARGET, dataclasses.replace(p, learning=small))


def test_ice40_refuses_plastic_projections_with_need_and_have():
    from plastic_nets import build, random_net
    with pytest.raises(ResourceError, match=r"5,611 logic cells.*108 of the 5,280 free"):
        sf.compile(build(random_net(1), "hardware"), "ice40-up5k")


def test_static_mesh_has_no_learning_engine():
    """Targets without an engine (and learning=None) elaborate without one."""
    assert mesh_params("ice40-up5k").learning is None
    assert mesh_params(TARGET, learning=None).learning is None
    # the memory port's table id reaches LEARN_REWARD (16) only where the engines are
    assert mesh_params("ice40-up5k").table_bits == mesh_params(TARGET, learning=None).table_bits == 4
    assert mesh_params(TARGET).table_bits == 5
    from spikefab.rtl.neuron_core import NeuronCore
    assert "learn_start" not in NeuronCore(mesh_params(TARGET, learning=None)).signature.members
    assert "learn_start" in NeuronCore(mesh_params(TARGET)).signature.members
