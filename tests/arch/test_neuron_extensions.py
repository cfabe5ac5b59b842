"""The extensions of the reference neuron (all off by default): reset by subtraction, refractory
period, adaptive threshold, synaptic delays.  Each is checked against hand-derived traces."""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.arch.neuron import RESET_SUBTRACT, STATE_MAX, lif_step
from spikefab.arch.reference import ring_slots, run_reference

from .helpers import dense_image

BIAS_128 = dict(du=0, dv=0, vth=8, bias_mant=2, bias_exp=6)   # +128 per step, threshold 512


def trace(steps: int, **params) -> tuple[list[int], list[int]]:
    u = v = np.zeros(1, np.int64)
    ref = theta = None
    vs, ss = [], []
    for _ in range(steps):
        u, v, s, ref, theta = lif_step(u, v, np.zeros(1), ref=ref, theta=theta, **params)
        vs.append(int(v[0]))
        ss.append(int(s[0]))
    return vs, ss


def test_reset_by_subtraction_keeps_the_excess():
    vs, ss = trace(9, reset_mode=RESET_SUBTRACT, **{**BIAS_128, "bias_mant": 3})  # +192 / step
    # 192, 384, 576 > 512 -> 64, 256, 448, 640 -> 128, 320, 512 (not > 512), 704 -> 192
    assert vs == [192, 384, 64, 256, 448, 128, 320, 512, 192]
    assert ss == [0, 0, 1, 0, 0, 1, 0, 0, 1]


def test_refractory_freezes_voltage_for_r_steps():
    vs, ss = trace(19, refractory=2, **BIAS_128)
    assert np.flatnonzero(ss).tolist() == [4, 11, 18]
    assert vs[4:8] == [0, 0, 0, 128]           # spike, two frozen steps, then integrating again


def test_refractory_current_keeps_integrating():
    u = v = np.zeros(1, np.int64)
    u, v, s, ref, theta = lif_step(u, np.array([600 << 6]), np.array([10]), du=4095, dv=0,
                                   vth=1, bias_mant=0, bias_exp=0, refractory=3)
    assert s.tolist() == [True] and ref.tolist() == [3]
    u, v, s, ref, theta = lif_step(u, v, np.array([20]), du=4095, dv=0, vth=1, bias_mant=0,
                                   bias_exp=0, refractory=3, ref=ref, theta=theta)
    assert u.tolist() == [20 << 6] and v.tolist() == [0] and ref.tolist() == [2] and not s.any()


def test_adaptive_threshold_raises_after_each_spike():
    vs, ss = trace(20, theta_inc=128, theta_decay=0, **BIAS_128)
    first = np.flatnonzero(ss).tolist()
    # threshold 512, then 640, then 768: spikes when v first exceeds it
    assert first[:3] == [4, 10, 17]
    plain = np.flatnonzero(trace(20, **BIAS_128)[1]).tolist()
    assert plain[:3] == [4, 9, 14]


def test_adaptive_threshold_decays_and_saturates():
    u = v = np.zeros(1, np.int64)
    _, _, _, _, theta = lif_step(u, v, np.zeros(1), du=0, dv=0, vth=0, bias_mant=0, bias_exp=0,
                                 theta=np.array([4096]), theta_decay=2048)
    assert theta.tolist() == [2048]
    _, _, s, _, theta = lif_step(u, np.array([STATE_MAX - 1]), np.zeros(1), du=0, dv=0, vth=0,
                                 bias_mant=2, bias_exp=0, theta=np.array([STATE_MAX - 10]),
                                 theta_inc=1000)
    assert s.tolist() == [True] and theta.tolist() == [STATE_MAX]


@pytest.mark.parametrize("delay", [0, 1, 5, 15])
def test_synaptic_delay_in_the_image(delay):
    """Host input in step 2 on a synapse with delay d is integrated in step 3 + d."""
    image = dense_image([[7]], du=4095, dv=4095, vth=131071, delays=np.array([[delay]]))
    assert ring_slots(image) == delay + 2
    steps = delay + 6
    spikes = np.zeros((steps, 1), np.uint8)
    spikes[2] = 1
    u = run_reference(image, {"in": spikes}, steps, probes=["lif.u"]).traces["lif.u"][:, 0]
    want = np.zeros(steps, np.int64)
    want[3 + delay] = 7 << 6
    np.testing.assert_array_equal(u, want)
