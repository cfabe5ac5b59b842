"""The Mesh under Amaranth's simulator: memory port, differential runs, refusals."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from amaranth.sim import Simulator

from spikefab.arch.image import CORE_TABLES, STATE_DTYPE
from spikefab.arch.reference import run_reference
from spikefab.errors import ImageError, TargetError
from spikefab.rtl.mesh import Mesh
from spikefab.rtl.params import CORE_TABLE_IDS, check_rtl_image, mesh_params
from spikefab.rtl.sim.program import entry_int, image_writes, jobs_from
from spikefab.rtl.sim.pysim import AmaranthPort, run_pysim

from .netgen import random_image
from .slot_floor import run_slot_floor

pytestmark = pytest.mark.rtl
TARGET = "ice40-up5k"


def test_memory_port_reads_back_the_image_bytes() -> None:
    """Every table entry written in the image's byte layout reads back identical."""
    image, _ = random_image(11)
    params = mesh_params(TARGET)
    dut = Mesh(params)
    mismatches = []

    async def bench(ctx):
        port = AmaranthPort(ctx, dut)
        for core, table, index, data in image_writes(image, params):
            await port.write(core, table, index, data)
        for c in image.cores:
            core = params.core_index(c.x, c.y, c.slot)
            for name in CORE_TABLES:
                arr = getattr(c, name)
                for k in range(len(arr)):
                    got = await port.read(core, CORE_TABLE_IDS[name], k)
                    if got != entry_int(arr[k]):
                        mismatches.append((core, name, k, got, entry_int(arr[k])))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert not mismatches, mismatches[:3]


def test_random_networks_match_reference_and_cycle_engine() -> None:
    emulator = pytest.importorskip("spikefab.emulator")
    jobs, refs, emus = [], [], []
    # seed 4001: a right-shifting class mixing delays whose result a slot-sum floor changes
    for seed, exps in ((100, (-2, 2)), (101, (-2, 2)), (102, (-2, 2)), (4001, (-5, -1))):
        image, inputs = random_image(seed, steps=10, exps=exps)
        jobs.append(jobs_from(image, inputs, 10))
        refs.append(run_reference(image, inputs, 10))
        emus.append(emulator.simulate(image, inputs, 10, mode="cycle"))
    assert not run_slot_floor(image, inputs, 10).same_behaviour(refs[-1])
    for res, ref, emu in zip(run_pysim(jobs, TARGET), refs, emus):
        assert res.same_behaviour(ref)
        assert np.array_equal(res.cycles_per_step, emu.cycles_per_step)
        assert res.counters["synops"] == ref.counters["synops"]
        assert res.counters["spikes"] == ref.counters["spikes"]


def test_clear_makes_runs_repeatable() -> None:
    """Running the same job twice on one fabric gives the same Result (clear resets all)."""
    image, inputs = random_image(7, steps=8)
    job = jobs_from(image, inputs, 8)
    a, b = run_pysim([job, job], TARGET)
    assert a.same_behaviour(b)
    assert np.array_equal(a.cycles_per_step, b.cycles_per_step)


def test_refuses_image_for_another_target() -> None:
    image, _ = random_image(3)
    image.target = "ecp5-85k"
    with pytest.raises(ImageError, match="image is for target 'ecp5-85k', not 'ice40-up5k'"):
        check_rtl_image(image, TARGET)


def test_refuses_image_that_does_not_fit() -> None:
    image, _ = random_image(3)
    core = image.cores[0]
    limit = mesh_params(TARGET).synapses
    core.synapses = np.zeros(limit + 1, core.synapses.dtype)
    with pytest.raises(ImageError, match=f"allows {limit}"):
        check_rtl_image(image, TARGET)


def test_refuses_values_the_datapath_cannot_hold() -> None:
    image, _ = random_image(4)
    image.cores[0].profiles["vth"][0] = 1 << 17
    with pytest.raises(ImageError, match=r"vth must be in \[0, 131071\]"):
        check_rtl_image(image, TARGET)


def test_delay_buckets_are_floored_like_lava() -> None:
    """A right-shifting class whose synapses mix delays 0 and 1 (#15): Lava floors each
    (source step, delay) bucket, so two odd weights arriving in one slot from two steps give
    floor(1/2) + floor(1/2) = 0, not floor(2/2) = 1; the RTL's ring rounds a word down before
    each new bucket and matches the reference, which a slot-sum floor would not."""
    emulator = pytest.importorskip("spikefab.emulator")
    image, inputs = random_image(4, steps=10)
    for core in image.cores:
        core.acc_exps[:] = -1
        core.synapses["acc_class"] = 0
        core.synapses["weight"] = 1 + 2 * (np.arange(len(core.synapses)) % 3)
        core.synapses["delay"] = np.arange(len(core.synapses)) % 2
    check_rtl_image(image, TARGET)
    ref = run_reference(image, inputs, 10)
    assert not run_slot_floor(image, inputs, 10).same_behaviour(ref)
    emu = emulator.simulate(image, inputs, 10, mode="cycle")
    (res,) = run_pysim([jobs_from(image, inputs, 10)], TARGET)
    assert res.same_behaviour(ref)
    assert np.array_equal(res.cycles_per_step, emu.cycles_per_step)


def test_refuses_target_with_other_timing(tmp_path) -> None:
    from spikefab.arch.target import load_target
    t = load_target(TARGET)
    bad = dataclasses.replace(t, timing=dataclasses.replace(t.timing, neuron_cycles=2))
    with pytest.raises(TargetError, match=r"6/2/2 \(parallel\), 22/2/3 \(serial\) — not 2/2/3"):
        mesh_params(bad)


def test_state_readback_layout() -> None:
    """Final state words decode to STATE_DTYPE exactly (negative values included)."""
    image, _ = random_image(9)
    image.cores[0].state["u"][:] = -123456
    res = run_pysim([jobs_from(image, None, 0)], TARGET)[0]
    assert res.final_state[0].dtype == STATE_DTYPE
    assert np.all(res.final_state[0]["u"] == -123456)


def test_fabric_tables_through_the_memory_port() -> None:
    """host_queue reads back in ROUTE_DTYPE bytes; a step drains it; counters/logs behave."""
    from spikefab.rtl.params import COUNTERS, FABRIC_CORE, FABRIC_TABLE_IDS
    from spikefab.rtl.sim.program import host_packets

    image, _ = random_image(21)
    params = mesh_params(TARGET)
    dut = Mesh(params)
    pkts = host_packets(image, np.ones(len(image.host_route_ptr), np.uint8))
    seen = {}

    async def bench(ctx):
        port = AmaranthPort(ctx, dut)
        fab, ids = FABRIC_CORE, FABRIC_TABLE_IDS
        await port.clear()
        for core, table, index, data in image_writes(image, params):
            await port.write(core, table, index, data)
        for k, entry in enumerate(pkts):
            await port.write(fab, ids["host_queue"], k, entry_int(entry))
        await port.write(fab, ids["host_queue_len"], 0, len(pkts))
        seen["queue"] = [await port.read(fab, ids["host_queue"], k) for k in range(len(pkts))]
        await port.run(2)
        seen["queue_len"] = await port.read(fab, ids["host_queue_len"], 0)
        seen["counters"] = [await port.read(fab, ids["counters"], k) for k in range(len(COUNTERS))]
        seen["cycles"] = [await port.read(fab, ids["cycle_log"], k) for k in range(2)]
        await port.write(fab, ids["counters"], 0, 0)
        seen["cleared"] = [await port.read(fab, ids["counters"], k) for k in range(len(COUNTERS))]

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert seen["queue"] == [entry_int(e) for e in pkts]
    assert seen["queue_len"] == 0                       # cleared after the step
    steps, spikes, synops, packets, hops, overflow = seen["counters"]
    assert steps == 2 and packets >= len(pkts) and overflow == 0
    assert all(c > params.barrier_cycles for c in seen["cycles"])
    assert seen["cleared"] == [0] * len(COUNTERS)


def test_step_done_pulses_and_overflow_flag() -> None:
    """step_done pulses once per step (INFO's steps still to run); a full out_log raises overflow."""
    from spikefab.rtl.params import FABRIC_CORE, FABRIC_TABLE_IDS

    image, _ = random_image(22)                  # biased neurons: 6 output spikes in 5 steps
    ref = run_reference(image, None, 5)
    assert sum(int(v.sum()) for v in ref.spikes.values()) > 2
    params = mesh_params(TARGET, out_log_depth=2)
    dut = Mesh(params)
    seen = {"pulses": 0, "overflow": 0}

    async def watch(ctx):
        async for _clk, _rst, done, over in ctx.tick().sample(dut.step_done, dut.overflow):
            seen["pulses"] += int(done)
            seen["overflow"] |= int(over)

    async def bench(ctx):
        port = AmaranthPort(ctx, dut)
        await port.clear()
        for core, table, index, data in image_writes(image, params):
            await port.write(core, table, index, data)
        await port.run(5)
        seen["logged"] = await port.read(FABRIC_CORE, FABRIC_TABLE_IDS["out_log_len"], 0)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_process(watch)
    sim.add_testbench(bench)
    sim.run_until(10e-3)                         # clear sweep + upload + 5 steps fit easily
    assert seen["pulses"] == 5
    assert seen["logged"] == 2 and seen["overflow"] == 1
