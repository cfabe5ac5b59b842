"""Random plastic images on the ecp5-85k mesh and what every engine must agree on.

Shared by the Amaranth-simulator tests and the cocotb differentials
(``test_learning_mesh.py``): a random plastic network (random rules from the grammar with
dw/dd/dt, trace impulses and taus, epochs 1-5, sign modes, half with a plastic recurrent
projection; ``tests/arch/learning/plastic_nets.py``) compiled with the hardware generator, its
functional and cycle runs, and the reference learning tables: the contract's
:class:`CoreLearner` driven with the axon hits and neuron spikes the RTL reported.  A third of
the seeds (``seed % 3 == 1``) are reward images (:func:`reward_net`): the input projection's
rule has a reward trace and a reward input feeds it at random steps.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from pathlib import Path

import numpy as np

import spikefab as sf
from spikefab.arch.host import RunRecord, host_packets
from spikefab.arch.learning.tables import CoreLearner
from spikefab.emulator import simulate
from spikefab.rtl.sim.program import Job, jobs_from

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "arch" / "learning"))
from plastic_nets import build, random_net, rule_of  # noqa: E402

TARGET = "ecp5-85k"


def reward_net(seed: int) -> tuple[sf.Network, dict]:
    """Random plastic net ``seed`` whose input projection learns with a reward trace: half the
    time ``RewardModulatedSTDP`` with random parameters, else its random grammar rule with y2 a
    reward trace; a reward input (one channel, or one per post neuron) spikes at random steps.
    Returns the network and its inputs."""
    net = random_net(seed)
    rng = np.random.default_rng(seed + 5000)
    spec = net["proj"]["in"]
    if rng.random() < 0.5:
        rule = sf.RewardModulatedSTDP(
            1, -1, int(rng.integers(2, 20)), int(rng.integers(2, 20)),
            tau_eligibility=2.0 ** -int(rng.integers(1, 4)),
            reward_impulse=float(rng.uniform(4, 60)), reward_tau=int(rng.integers(0, 10)),
            t_epoch=spec["t_epoch"],
            sign_mode={1: "mixed", 2: "excitatory", 3: "inhibitory"}[spec["sign_mode"]])
    else:
        rule = dataclasses.replace(rule_of(spec), generator="hardware", reward=True)
    b = build(net, "hardware")
    b.projections[[p.name for p in b.projections].index("in")].learning = rule
    n_r = 1 if rng.random() < 0.5 else net["n"]
    b.input("r", n_r)
    b.reward("r", "in")
    r = rng.random((net["steps"], n_r)) < rng.uniform(0.1, 0.4)
    return b, {"x": np.array(net["input"], np.uint8), "r": r.astype(np.uint8)}


@functools.lru_cache(maxsize=None)
def plastic_case(seed: int):
    """(image, inputs, steps, functional Result, cycle Result) of random plastic net ``seed``
    (a reward image when ``seed % 3 == 1``)."""
    net = random_net(seed)
    if seed % 3 == 1:
        b, x = reward_net(seed)
    else:
        b, x = build(net, "hardware"), {"x": np.array(net["input"], np.uint8)}
    image = sf.compile(b, TARGET)
    fun = simulate(image, x, net["steps"])
    cyc = simulate(image, x, net["steps"], mode="cycle")
    return image, x, net["steps"], fun, cyc


def job(image, x, steps) -> Job:
    return jobs_from(image, x, steps)


def reference_tables(image, job: Job, raw: RunRecord) -> dict[int, dict]:
    """Per plastic core: the reference's learning tables and weights after the run, driven
    with the axon hits (host packets and the routes of spiking neurons) and the neuron spikes
    (decoded from the output channels every neuron of these nets reports)."""
    out = {}
    for i, core in enumerate(image.cores):
        if not core.plastic:
            continue
        assert len(image.cores) == 1, "the reference drive assumes one core"
        ch_of = np.full(core.n_neurons, -1)
        for n in range(core.n_neurons):
            p = core.route_ptr[n]
            r = core.routes[int(p["start"]):int(p["start"]) + int(p["count"])]
            host = r[r["host"] == 1]
            assert len(host) == 1
            ch_of[n] = int(host["axon"][0])
        weights = core.synapses["weight"].astype(np.int64).copy()
        ref = CoreLearner(core, weights, "hardware")
        for t in range(job.steps):
            spikes = raw.out[t][ch_of].astype(bool)
            hits = np.zeros(len(core.axons), bool)
            hits[host_packets(image, job.channels[t])["axon"].astype(np.int64)] = True
            for n in np.flatnonzero(spikes):
                p = core.route_ptr[n]
                r = core.routes[int(p["start"]):int(p["start"]) + int(p["count"])]
                hits[r[r["host"] == 0]["axon"].astype(np.int64)] = True
            ref.step(hits, spikes, t + 1)
        out[i] = {**ref.tables(), "weights": weights}
    return out


def check_case(image, steps, fun, cyc, rtl, raw: RunRecord, job: Job) -> int:
    """functional = cycle = RTL (spikes, states, weights, cycles) and RTL tables = reference;
    returns how many plastic weights differ from the compiled ones (learning happened)."""
    for name in fun.spikes:
        np.testing.assert_array_equal(rtl.spikes[name], fun.spikes[name], err_msg=name)
        np.testing.assert_array_equal(cyc.spikes[name], fun.spikes[name], err_msg=name)
    for a, b in zip(rtl.final_state, fun.final_state):
        np.testing.assert_array_equal(a, b)
    assert rtl.weights.keys() == fun.weights.keys() and fun.weights
    for name in fun.weights:
        np.testing.assert_array_equal(rtl.weights[name], fun.weights[name], err_msg=name)
        np.testing.assert_array_equal(cyc.weights[name], fun.weights[name], err_msg=name)
    np.testing.assert_array_equal(rtl.cycles_per_step, cyc.cycles_per_step)
    ref = reference_tables(image, job, raw)
    assert ref.keys() == raw.learned.cores.keys()
    changed = 0
    for i, want in ref.items():
        got = raw.learned.cores[i]
        np.testing.assert_array_equal(got["weights"], want["weights"])
        np.testing.assert_array_equal(got["engine_weights"], want["weights"])
        for name in ("tag_d", "tag_t"):
            np.testing.assert_array_equal(got["learn_synapses"][name],
                                          want["learn_synapses"][name], err_msg=name)
        for table in ("learn_x", "learn_y", "learn_rng"):
            assert np.array_equal(got[table], want[table]), table
        changed += int(np.count_nonzero(want["weights"] != image.cores[i].synapses["weight"]))
    return changed
