"""The serial core (16-bit single-port RAMs, iCE40 SPRAM): layout, timing selection, several cores.

The 50-network Icarus/Verilator differential benches in ``test_cocotb_mesh.py`` run the shipped
``ice40-up5k`` target (one serial core); here a four-core serial variant of it runs on Amaranth's
simulator, so cross-core traffic through a serial core's ejection FIFO, stalls and the packed
route words are checked against the reference model and the cycle engine too.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from amaranth.back import verilog

from spikefab.arch.reference import run_reference
from spikefab.arch.target import load_target
from spikefab.errors import ImageError, TargetError
from spikefab.rtl.params import CORE_KINDS, check_rtl_image, mesh_params
from spikefab.rtl.serial_core import SerialCore
from spikefab.rtl.sim.program import jobs_from
from spikefab.rtl.sim.pysim import run_pysim
from spikefab.rtl.spram import SinglePortRAM

from .netgen import random_image

pytestmark = pytest.mark.rtl


def serial_four_cores():
    """ice40-up5k's serial core on a 2 x 1 mesh with two cores per router (test target)."""
    t = load_target("ice40-up5k")
    return dataclasses.replace(
        t, name="serial-2x1x2",
        topology=dataclasses.replace(t.topology, mesh_x=2, cores_per_router=2),
        core=dataclasses.replace(t.core, neurons=64, synapses=512, input_axons=128,
                                 route_entries=256))


def test_ice40_target_selects_the_serial_core() -> None:
    p = mesh_params("ice40-up5k")
    assert p.core_kind == "serial"
    assert mesh_params("ecp5-85k").core_kind == "parallel"
    kind = CORE_KINDS["serial"]
    t = load_target("ice40-up5k")
    assert (t.timing.neuron_cycles, t.timing.synapse_cycles, t.timing.packet_cycles) == \
        (kind.neuron_cycles, kind.synapse_cycles, kind.packet_cycles)
    # the shipped profile fills both RAM pairs exactly (1,024 x 16 + 16,384 and 2 x 16,384)
    assert p.neuron_ram_depth == p.synapse_ram_depth == 32768


def test_serial_layout_covers_every_word_once() -> None:
    """No two tables share a RAM word: records, routes, axons and synapses are disjoint."""
    p = mesh_params(serial_four_cores())
    used: dict[str, dict[int, str]] = {"neuron": {}, "synapse": {}, "profile": {}}
    depth = {"neuron": p.neuron_ram_depth, "synapse": p.synapse_ram_depth,
             "profile": p.profiles * 8}
    for name, t in p.serial_tables().items():
        if t.ram == "reg":
            continue
        entries = {"profiles": p.profiles, "neurons": p.neurons, "state": p.neurons,
                   "route_ptr": p.neurons, "axons": p.axons, "synapses": p.synapses,
                   "routes": p.routes}[name]
        for index in range(entries):
            for c in range(len(t.chunks)):
                addr = t.address(index, c)
                assert addr < depth[t.ram], (name, index, c)
                assert addr not in used[t.ram], (name, used[t.ram][addr])
                used[t.ram][addr] = name


def test_serial_target_that_does_not_fit_the_rams_is_refused() -> None:
    t = load_target("ice40-up5k")
    big = dataclasses.replace(t, core=dataclasses.replace(t.core, synapses=t.core.synapses + 1))
    with pytest.raises(TargetError, match=r"2 \* \(core.input_axons \+ core.synapses\) must be "
                                          r"at most 32768 .* not 32770"):
        mesh_params(big)


def test_board_platform_gets_spram_primitives() -> None:
    """On an iCE40 UltraPlus the RAMs are SB_SPRAM256KA cells (two per 32K-word RAM)."""
    class UP5K:
        device = "iCE40UP5K"

    text = verilog.convert(SerialCore(mesh_params("ice40-up5k")), platform=UP5K(),
                           emit_src=False)
    assert text.count("SB_SPRAM256KA ") == 4
    sim_text = verilog.convert(SinglePortRAM(100), emit_src=False)
    assert "SB_SPRAM256KA" not in sim_text


def test_accumulator_overflow_is_refused() -> None:
    """An image whose summed |weight| into one neuron overflows the accumulators is refused.

    (On the shipped ice40-up5k, 15,360 synapses of |weight| <= 256 cannot overflow 24 bits, so
    the check is exercised on an 18-bit variant.)
    """

    t = load_target("ice40-up5k")
    narrow = dataclasses.replace(t, core=dataclasses.replace(t.core, accumulator_bits=18))
    image, _ = random_image(7)
    core = image.cores[0]
    core.synapses = np.zeros(600, core.synapses.dtype)
    core.synapses["weight"] = np.where(np.arange(600) % 2, 255, -256)
    core.axons[:] = (0, 0)
    core.axons[0] = (0, 600)
    check_rtl_image(image, t)                         # 153,300 fits 24 bits
    with pytest.raises(ImageError, match=r"neuron 0 must receive at most 131071 in summed "
                                         r"\|weight\| per step .* not 153300"):
        check_rtl_image(image, narrow)


def test_delay_bucket_rounding_counts_in_the_accumulator_bound() -> None:
    """Rounding a right-shifting class down before each new delay bucket can take a field
    2**k - 1 further below the sum of its weights per extra delay: the bound includes it."""
    t = load_target("ice40-up5k")
    narrow = dataclasses.replace(t, core=dataclasses.replace(t.core, accumulator_bits=17))
    image, _ = random_image(7)
    core = image.cores[0]
    core.synapses = np.zeros(4, core.synapses.dtype)
    core.synapses["weight"] = -255
    core.axons[:] = (0, 0)
    core.axons[0] = (0, 4)
    core.acc_exps[:] = -16
    check_rtl_image(image, narrow)                     # one delay: no rounding between buckets
    core.synapses["delay"] = [0, 1, 0, 1]
    check_rtl_image(image, t)                          # 1,020 + 65,535 fits 24 bits
    with pytest.raises(ImageError, match=r"neuron 0 must receive at most 65535 in summed "
                                         r"\|weight\| per step \(with 65535 of rounding for 2 "
                                         r"delays of class 0, weight exponent -16\) .* not 66555"):
        check_rtl_image(image, narrow)
    core.acc_exps[:] = 0                               # no right shift: no rounding
    check_rtl_image(image, narrow)


def test_four_serial_cores_match_reference_and_cycle_engine() -> None:
    emulator = pytest.importorskip("spikefab.emulator")
    target = serial_four_cores()
    jobs, refs, emus = [], [], []
    for seed in (300, 301, 302, 303):
        image, inputs = random_image(seed, target=target, steps=8)
        jobs.append(jobs_from(image, inputs, 8))
        refs.append(run_reference(image, inputs, 8))
        emus.append(emulator.simulate(image, inputs, 8, mode="cycle", target=target))
    assert max(len(r.final_state) for r in refs) > 1          # several cores are used
    for res, ref, emu in zip(run_pysim(jobs, target), refs, emus):
        assert res.same_behaviour(ref)
        assert np.array_equal(res.cycles_per_step, emu.cycles_per_step)
        assert res.counters["synops"] == ref.counters["synops"]
