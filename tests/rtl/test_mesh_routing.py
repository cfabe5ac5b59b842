"""The routing target option on the whole RTL fabric: the ecp5-85k mesh (2 x 2 routers, parallel
cores) under each algorithm of :data:`spikefab.arch.mesh.ROUTINGS` must equal the golden reference
and the cycle engine cycle for cycle (invariants 1 and 2) — the router's generated decision and
the emulator's compiled one are the same :func:`spikefab.arch.mesh.next_port`."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from spikefab.arch.reference import run_reference
from spikefab.arch.target import load_target
from spikefab.rtl.params import mesh_params
from spikefab.rtl.sim.program import jobs_from
from spikefab.rtl.sim.pysim import run_pysim

from .netgen import random_image

pytestmark = pytest.mark.rtl
STEPS = 6


@pytest.mark.parametrize("routing", ["yx", "west-first"])
def test_mesh_with_other_routing_matches_reference_and_cycle_engine(routing) -> None:
    emulator = pytest.importorskip("spikefab.emulator")
    base = load_target("ecp5-85k")
    target = dataclasses.replace(base, topology=dataclasses.replace(base.topology,
                                                                    routing=routing))
    assert mesh_params(target).routing == routing
    jobs, refs, emus = [], [], []
    for seed in (7, 11):
        image, inputs = random_image(seed, target, steps=STEPS)
        jobs.append(jobs_from(image, inputs, STEPS))
        refs.append(run_reference(image, inputs, STEPS))
        emus.append(emulator.simulate(image, inputs, STEPS, mode="cycle", target=target))
    for res, ref, emu in zip(run_pysim(jobs, target), refs, emus):
        assert res.same_behaviour(ref)
        assert np.array_equal(res.cycles_per_step, emu.cycles_per_step)
        assert res.counters["spikes"] == ref.counters["spikes"]
