"""Lava's published bit-accurate behaviour reproduced through both emulator engines.

Golden vectors of Lava's ``PyLifModelBitAcc`` tests and the Dense -> LIF example of the reference
notes (``hardware-anchors.md`` section 1, also pinned for the golden model in
``tests/arch/test_neuron_lava.py``).
"""

from __future__ import annotations

import numpy as np
import pytest

from emu_images import dense_image
from spikefab.emulator import simulate

MODES = ["functional", "cycle"]
LAVA_SPIKES = np.array([
    [0, 0, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1],
    [0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
])


@pytest.mark.parametrize("mode", MODES)
def test_dense_lif_example(mode):
    """Dense(weights=[[100,-50],[60,60]]) -> LIF(du=1024, dv=512, vth=100), 20 steps."""
    spk = np.zeros((20, 2), np.uint8)
    spk[::2, 0] = 1
    spk[::3, 1] = 1
    image = dense_image([[100, -50], [60, 60]], du=1024, dv=512, vth=100)
    res = simulate(image, {"in": spk}, 20, mode, probes=["lif.u"])
    np.testing.assert_array_equal(res.spikes["out"].T, LAVA_SPIKES)
    np.testing.assert_array_equal(res.final_state[0]["u"], [9050, 15361])
    np.testing.assert_array_equal(res.final_state[0]["v"], [0, 0])


@pytest.mark.parametrize("mode", MODES)
def test_no_decay_bias_spikes_at_5_and_10(mode):
    image = dense_image(np.zeros((1, 1), int), du=0, dv=0, vth=8, bias_mant=2, bias_exp=6)
    res = simulate(image, None, 10, mode, probes=["lif.v"])
    expected = np.zeros(10, np.uint8)
    expected[4:10:5] = 1
    np.testing.assert_array_equal(res.spikes["out"][:, 0], expected)
    np.testing.assert_array_equal(res.traces["lif.v"][:, 0],
                                  [128, 256, 384, 512, 0, 128, 256, 384, 512, 0])


@pytest.mark.parametrize("mode", MODES)
def test_impulse_du_and_dv(mode):
    spikes = np.zeros((9, 1), np.uint8)
    spikes[0] = 1
    du = simulate(dense_image([[128]], du=2047, dv=0, vth=256), {"in": spikes}, 9, mode,
                  probes=["lif.u"])
    np.testing.assert_array_equal(du.traces["lif.u"][:, 0],
                                  [0, 8192, 4096, 2048, 1024, 512, 256, 128, 64])
    dv = simulate(dense_image([[128]], du=0, dv=2048, vth=256), {"in": spikes}, 9, mode,
                  probes=["lif.v"])
    np.testing.assert_array_equal(dv.traces["lif.v"][:, 0],
                                  [0, 8192, 12286, 14331, 15351, 15859, 16111, 16235, 16295])


@pytest.mark.parametrize("mode", MODES)
def test_scaling_of_bias(mode):
    image = dense_image(np.zeros((1, 1), int), du=0, dv=0, vth=2 ** 17 - 1, bias_mant=4095,
                        bias_exp=5)
    assert simulate(image, None, 1, mode).final_state[0]["v"][0] == 131040


@pytest.mark.parametrize("mode", MODES)
def test_delay_dense_floors_each_source_step(mode):
    """Lava 0.10 DelayDense (fixed_pt), weights [[3, 3]], delays [[1, 0]], weight_exp -1.

    Input 0 spikes in step 0 (delay 1), input 1 in step 1 (delay 0): both reach the neuron in
    step 2 as floor(3/2) + floor(3/2) = 2, so u = 2 << 6 = 128 (flooring the slot's sum would
    give 192).  Golden values from ``lava_oracle.py`` on this network.
    """
    from lava_nets import network_image
    from spikefab.arch.target import load_target
    net = {"steps": 4, "inputs": {"in0": [[1, 0], [0, 1], [0, 0], [0, 0]]},
           "populations": {"p0": {"n": 1, "du": 4095, "dv": 0, "vth": 100000,
                                  "bias_mant": [0], "bias_exp": [0]}},
           "projections": [{"src": "in0", "dst": "p0", "weights": [[3, 3]], "weight_exp": -1,
                            "delays": [[1, 0]]}]}
    image = network_image(net, load_target("loihi1"), np.random.default_rng(0))
    res = simulate(image, {"in0": np.array(net["inputs"]["in0"], np.uint8)}, 4, mode,
                   probes=["p0.u", "p0.v"])
    np.testing.assert_array_equal(res.traces["p0.u"][:, 0], [0, 0, 128, 0])
    np.testing.assert_array_equal(res.traces["p0.v"][:, 0], [0, 0, 128, 128])
