"""Golden vectors of Intel Lava's own bit-accurate LIF tests and its Dense -> LIF example.

Sources (reference notes ``hardware-anchors.md``): section 1.1 lists Lava's
``tests/lava/proc/lif/test_models.py`` (class ``TestLIFProcessModelsFixed``); section 1.5 the
output of a Dense -> LIF network run with Lava 0.10.0's bit-accurate models.

Lava counts time steps from 1; arrays here are indexed from 0, so Lava's "step 5" is index 4.
Lava's LIF tests feed ``a_in`` straight into the neuron; through a whole image the same input
arrives through a synapse, one step later (Lava's Dense delay, DESIGN.md section 3 "Time").
"""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.arch.neuron import lif_step
from spikefab.arch.reference import run_reference

from .helpers import dense_image


def run_lif(steps: int, a_in: np.ndarray | None = None, **params) -> dict[str, np.ndarray]:
    """Drive one neuron with ``lif_step`` for ``steps`` steps; return per-step u, v, s."""
    u = np.zeros(1, np.int64)
    v = np.zeros(1, np.int64)
    a_in = np.zeros(steps, np.int64) if a_in is None else a_in
    out = {"u": [], "v": [], "s": []}
    for t in range(steps):
        u, v, s, _, _ = lif_step(u, v, a_in[t:t + 1], **params)
        out["u"].append(int(u[0]))
        out["v"].append(int(v[0]))
        out["s"].append(int(s[0]))
    return {k: np.array(x) for k, x in out.items()}


# ---------------------------------------------------------------- test_bitacc_pm_no_decay
NO_DECAY = dict(du=0, dv=0, vth=8, bias_mant=2, bias_exp=6)


def test_no_decay_spikes_at_steps_5_and_10():
    """du=dv=0, bias 2<<6, vth 8: Lava's ``expected[4:10:5] = 1`` (steps 5 and 10)."""
    out = run_lif(10, **NO_DECAY)
    expected = np.zeros(10, int)
    expected[4:10:5] = 1
    np.testing.assert_array_equal(out["s"], expected)
    # v climbs by the bias 128 per step and resets to 0 on the spike; u stays 0
    np.testing.assert_array_equal(out["v"], [128, 256, 384, 512, 0, 128, 256, 384, 512, 0])
    assert not out["u"].any()


def test_no_decay_through_image():
    """The bias path needs no input, so the whole-image golden model gives the same spikes."""
    image = dense_image(np.zeros((1, 1), int), **NO_DECAY)
    res = run_reference(image, None, 10, probes=["lif.v", "lif.u", "lif.s"])
    expected = np.zeros(10, np.uint8)
    expected[4:10:5] = 1
    np.testing.assert_array_equal(res.spikes["out"][:, 0], expected)
    np.testing.assert_array_equal(res.traces["lif.s"][:, 0], expected)
    np.testing.assert_array_equal(res.traces["lif.v"][:, 0], run_lif(10, **NO_DECAY)["v"])
    assert res.counters["spikes"] == 2


# ---------------------------------------------------------------- test_bitacc_pm_impulse_du
IMPULSE_DU = dict(du=2047, dv=0, vth=256, bias_mant=0, bias_exp=0)
U_EXPECTED = [8192, 4096, 2048, 1024, 512, 256, 128, 64]


def test_impulse_du():
    """a_in = 128 at the first step, du = 2047 (effective 2048 by Lava's +1): u halves."""
    a = np.zeros(8, np.int64)
    a[0] = 128
    out = run_lif(8, a, **IMPULSE_DU)
    np.testing.assert_array_equal(out["u"], U_EXPECTED)
    assert not out["s"].any()


def test_impulse_du_through_image():
    """One host spike on a weight-128 synapse: the same u trace, one step later."""
    image = dense_image([[128]], **IMPULSE_DU)
    spikes = np.zeros((9, 1), np.uint8)
    spikes[0] = 1
    res = run_reference(image, {"in": spikes}, 9, probes=["lif.u"])
    np.testing.assert_array_equal(res.traces["lif.u"][:, 0], [0] + U_EXPECTED)
    assert res.counters["synops"] == 1


# ---------------------------------------------------------------- test_bitacc_pm_impulse_dv
IMPULSE_DV = dict(du=0, dv=2048, vth=256, bias_mant=0, bias_exp=0)
V_EXPECTED = [8192, 12286, 14331, 15351, 15859, 16111, 16235, 16295]


def test_impulse_dv():
    """a_in = 128 at the first step, du = 0 (still decays by 1/4096), dv = 2048 (x0.5)."""
    a = np.zeros(8, np.int64)
    a[0] = 128
    out = run_lif(8, a, **IMPULSE_DV)
    np.testing.assert_array_equal(out["v"], V_EXPECTED)
    assert out["u"][1] == 8190  # du = 0 decays 8192 by 1/4096: Lava's ds_offset quirk
    assert not out["s"].any()


def test_impulse_dv_through_image():
    image = dense_image([[128]], **IMPULSE_DV)
    spikes = np.zeros((9, 1), np.uint8)
    spikes[0] = 1
    res = run_reference(image, {"in": spikes}, 9, probes=["lif.v"])
    np.testing.assert_array_equal(res.traces["lif.v"][:, 0], [0] + V_EXPECTED)
    assert res.final_state[0]["v"][0] == V_EXPECTED[-1]


# ---------------------------------------------------------------- test_bitacc_pm_scaling_of_bias
SCALING = dict(du=0, dv=0, vth=2 ** 17, bias_mant=4095, bias_exp=5)


def test_scaling_of_bias():
    out = run_lif(1, **SCALING)
    assert out["v"][0] == 4095 * 32 == 131040


def test_scaling_of_bias_through_image():
    image = dense_image(np.zeros((1, 1), int), **SCALING)
    res = run_reference(image, None, 1, probes=["lif.v"])
    assert res.traces["lif.v"][0, 0] == 131040
    assert res.final_state[0]["v"][0] == 131040


# ---------------------------------------------------------------- Dense -> LIF example (1.5)
LAVA_SPIKES = np.array([
    [0, 0, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1],
    [0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
])


@pytest.mark.parametrize("shuffle_seed", [None, 7])
def test_dense_lif_example(shuffle_seed):
    """Lava 0.10.0's Dense(weights=[[100,-50],[60,60]]) -> LIF(du=1024, dv=512, vth=100), T=20."""
    steps = 20
    spk = np.zeros((2, steps), np.uint8)   # (n_in, T) as in the Lava snippet
    spk[0, ::2] = 1
    spk[1, ::3] = 1
    image = dense_image([[100, -50], [60, 60]], du=1024, dv=512, vth=100, weight_exp=0,
                        num_weight_bits=8, shuffle_seed=shuffle_seed)
    res = run_reference(image, {"in": spk.T}, steps, probes=["lif.u", "lif.v"])
    np.testing.assert_array_equal(res.spikes["out"].T, LAVA_SPIKES)
    np.testing.assert_array_equal(res.final_state[0]["u"], [9050, 15361])
    np.testing.assert_array_equal(res.final_state[0]["v"], [0, 0])
    np.testing.assert_array_equal(res.traces["lif.u"][-1], [9050, 15361])
    # the mixed-sign weights lose their LSB in Lava (num_weight_bits = 8): -50 and 100 stay even
    assert sorted(image.cores[0].synapses["weight"].tolist()) == [-50, 60, 60, 100]


def test_dense_lif_first_spike_of_neuron_1():
    """Input at step 0 reaches u at step 1 (one-step Dense delay): u = 120 << 6 = 7680 > 6400."""
    spk = np.zeros((2, 2), np.uint8)    # (steps, n_in)
    spk[0, :] = 1
    image = dense_image([[100, -50], [60, 60]], du=1024, dv=512, vth=100)
    res = run_reference(image, {"in": spk}, 2, probes=["lif.u"])
    np.testing.assert_array_equal(res.traces["lif.u"][:, 1], [0, 7680])
    np.testing.assert_array_equal(res.spikes["out"][:, 1], [0, 1])
