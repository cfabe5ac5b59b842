"""The functional engine's learning engine equals the golden model bit for bit.

30 random plastic networks (rules from the grammar, trace parameters, epochs, recurrence; see
``tests/arch/learning/plastic_nets.py``), each with both random generators: spikes, final neuron
state, learned weights after every epoch and the update count must equal
:func:`spikefab.arch.reference.run_reference`, which the Lava oracle pins to Lava 0.10.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import spikefab as sf
from spikefab.arch.reference import run_reference
from spikefab.emulator import simulate
from spikefab.errors import InputError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "arch" / "learning"))
from plastic_nets import build, random_net, small_stdp_net  # noqa: E402


@pytest.mark.parametrize("generator", ["lava", "hardware"])
@pytest.mark.parametrize("seed", range(200, 230))
def test_functional_equals_reference(seed, generator):
    net = random_net(seed)
    image = sf.compile(build(net, generator), "loihi1")
    x = {"x": np.array(net["input"], np.uint8)}
    ref = run_reference(image, x, net["steps"], weight_every=net["chunk"])
    emu = simulate(image, x, net["steps"], weight_every=net["chunk"])
    assert ref.same_behaviour(emu)
    for k in ref.weights:
        np.testing.assert_array_equal(emu.weight_snapshots[k], ref.weight_snapshots[k])
    assert emu.counters["learning_updates"] == ref.counters["learning_updates"]


def test_learning_is_charged_energy_and_cycles():
    image = sf.compile(small_stdp_net(), "loihi1")
    spikes = (np.random.default_rng(3).random((40, 4)) < 0.4).astype(np.uint8)
    res = simulate(image, {"x": spikes}, 40)
    assert res.counters["learning_updates"] == 20 * 12            # 12 synapses, 20 epochs
    assert res.energy_breakdown["learning"] == 20 * 12 * 120.0     # loihi1: 120 pJ per update
    est = res.counters["estimated_cycles_per_step"]
    assert est[1] > est[0]                                          # epoch ends cost cycles


@pytest.mark.parametrize("seed", range(300, 310))
def test_cycle_equals_functional_and_charges_learning(seed):
    """Cycle engine: same spikes, states and weights; epoch ends cost the learning phase."""
    net = random_net(seed)
    image = sf.compile(build(net, "hardware"), "loihi1")
    x = {"x": np.array(net["input"], np.uint8)}
    fun = simulate(image, x, net["steps"], weight_every=net["chunk"])
    cyc = simulate(image, x, net["steps"], mode="cycle", weight_every=net["chunk"])
    assert fun.same_behaviour(cyc)
    for k in fun.weights:
        np.testing.assert_array_equal(cyc.weight_snapshots[k], fun.weight_snapshots[k])
    target = sf.load_target("loihi1")
    assert len(image.cores) == 1
    n_syn = sum(np.asarray(net["proj"][k]["weights"]).size for k in net["proj"])
    epoch_end = (np.arange(1, net["steps"] + 1) % net["chunk"]) == 0
    # docs/microarchitecture.md section 14: every plastic synapse costs update_cycles
    floor = n_syn * target.learning.update_cycles + target.timing.barrier_cycles
    assert cyc.cycles_per_step[epoch_end].min() >= floor
    assert cyc.counters["learning_updates"] == fun.counters["learning_updates"] \
        == n_syn * int(epoch_end.sum())


def test_hardware_draws_of_the_kernel_equal_the_contract_generator():
    """The emulator draws the hardware streams in a kernel (``draw_hardware``); every value,
    the second-spike impulse between a step's two advances included, and the final states must
    be the contract's :class:`LearningRandom` ones (few networks spike twice in an epoch, so
    the engine tests alone would miss a wrong mid-step value)."""
    from spikefab.arch.learning.random import LearningRandom
    from spikefab.emulator.learning.kernels import draw_hardware
    rng = np.random.default_rng(5)
    te = np.array([1, 3, 8], np.int64)
    rnds = [LearningRandom.hardware([int(s) for s in rng.integers(1, 2 ** 63, 5)])
            for _ in te]
    states = np.array([r.states for r in rnds], np.uint64)
    steps = 40
    r_mid, r_end = np.zeros((steps, len(te))), np.zeros((steps, len(te), 5))
    draw_hardware(states, te, 0, r_mid, r_end)
    for t in range(steps):
        for g, r in enumerate(rnds):
            r.advance_traces()
            assert r_mid[t, g] == r.y_impulse
            r.advance_traces()
            if (t + 1) % te[g] == 0:
                r.advance_round()
                assert list(r_end[t, g]) == r.values
    assert [[int(s) for s in row] for row in states] == [r.states for r in rnds]
    assert len(set(r_mid[:, 0])) > 10          # the values do vary
