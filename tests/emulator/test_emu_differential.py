"""Invariant 1 on random images: functional == cycle == the golden reference, bit for bit.

Eight chunks of 30 random images (240 in all) over five targets: a multi-chiplet test profile
with shallow FIFOs and slow chiplet links, Loihi (4 cores per router), DarwinWafer (64 chiplets),
Darwin3 and the iCE40 board.  Spikes, final u/v/theta/ref, traces and the event counters must be
identical; the cycle engine's measured hops must equal the functional engine's XY hop counts.
"""

from __future__ import annotations

import numpy as np
import pytest

from emu_images import random_image, random_inputs
from spikefab.arch.reference import run_reference
from spikefab.arch.target import load_target
from spikefab.emulator import simulate

TARGETS = ["tinywafer", "loihi1", "darwinwafer", "darwin3", "ice40-up5k"]
PER_CHUNK = 30
STEPS = 12
PROBES = ["all.v", "all.u", "all.theta", "all.s"]


@pytest.mark.parametrize("chunk", range(8))
def test_random_images_agree(chunk, tiny_wafer):
    for k in range(PER_CHUNK):
        seed = chunk * PER_CHUNK + k
        rng = np.random.default_rng(seed)
        name = TARGETS[seed % len(TARGETS)]
        spec = str(tiny_wafer) if name == "tinywafer" else name
        target = load_target(spec)
        image = random_image(rng, target, activity=float(rng.choice([0.3, 1.0, 3.0])))
        inputs = random_inputs(rng, image, STEPS, p=float(rng.choice([0.1, 0.5])))
        ref = run_reference(image, inputs, STEPS, probes=PROBES)
        fun = simulate(image, inputs, STEPS, "functional", PROBES, target=spec)
        cyc = simulate(image, inputs, STEPS, "cycle", PROBES, target=spec)
        where = f"seed {seed} on {name}"
        assert fun.same_behaviour(ref), where
        assert cyc.same_behaviour(ref), where
        for p in PROBES:
            np.testing.assert_array_equal(fun.traces[p], ref.traces[p], err_msg=where)
            np.testing.assert_array_equal(cyc.traces[p], ref.traces[p], err_msg=where)
        assert fun.counters["synops"] == cyc.counters["synops"] == ref.counters["synops"], where
        assert fun.counters["spikes"] == cyc.counters["spikes"] == ref.counters["spikes"], where
        for key in ("packets", "hops_ew", "hops_ns", "chiplet_hops", "host_packets_out",
                    "neuron_updates_active"):
            assert fun.counters[key] == cyc.counters[key], (where, key)
        assert cyc.cycles_per_step.shape == (STEPS,)
        assert (cyc.cycles_per_step >= target.timing.barrier_cycles).all(), where
