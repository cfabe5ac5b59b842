"""Property tests of the reference arithmetic against an independent transcription of Lava.

``lava_lif_step`` and ``lava_effective_weights`` below restate Lava's bit-accurate models
(``PyLifModelBitAcc``, ``clip_weights`` / ``truncate_weights``; reference notes
``hardware-anchors.md`` sections 1.1-1.2) the way Lava computes them: NumPy int32 arrays, an
int64 product for the decay, ``np.where`` for the wrap.  ``spikefab.arch.neuron`` is written
differently (int64 throughout with explicit 32-bit wraps), so agreement is a real check.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from spikefab.arch.neuron import (SIGN_EXCITATORY, SIGN_INHIBITORY, SIGN_MIXED, STATE_MAX,
                                    decay, determine_sign_mode, effective_weights, lif_step,
                                    scale_bias, shift_input, wrap_current)
from spikefab.arch.reference import run_reference

from .helpers import dense_image

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True)
U_MAX = 1 << 23


def lava_lif_step(u, v, a_in, du, dv, vth, bias_mant, bias_exp):
    """Lava's ``run_spk`` for one step, on int32 arrays as Lava holds them."""
    u = np.asarray(u, np.int32)
    v = np.asarray(v, np.int32)
    a_in = np.asarray(a_in, np.int32)
    bias_mant = np.asarray(bias_mant, np.int16).astype(np.int32)
    bias_exp = np.asarray(bias_exp, np.int16)
    bias = np.where(bias_exp >= 0, np.left_shift(bias_mant, np.maximum(bias_exp, 0)),
                    np.right_shift(bias_mant, np.maximum(-bias_exp, 0)))
    prod = np.int64(u) * (4096 - (du + 1))
    cur = (np.sign(prod) * np.right_shift(np.abs(prod), 12)).astype(np.int32)
    cur = cur + np.left_shift(a_in, 6)
    wrapped = np.where(cur > U_MAX, cur - 2 * U_MAX, cur)
    wrapped = np.where(wrapped <= -U_MAX, cur + 2 * U_MAX, wrapped)
    u_new = wrapped.astype(np.int32)
    prod = np.int64(v) * (4096 - dv)
    vol = (np.sign(prod) * np.right_shift(np.abs(prod), 12)).astype(np.int32)
    v_new = np.clip(vol + u_new + bias, -(U_MAX - 1), U_MAX - 1).astype(np.int32)
    s = v_new > (np.int32(vth) << 6)
    v_new[s] = 0
    return u_new, v_new, s


def lava_effective_weights(w, sign_mode, num_weight_bits):
    """Lava's ``clip_weights(w, mode, 8)`` then ``truncate_weights(w, mode, bits)``."""
    w = np.asarray(w).astype(np.int32)
    mixed = int(sign_mode == SIGN_MIXED)
    inh = sign_mode == SIGN_INHIBITORY
    if inh:
        w = -w
    w = np.clip(w, -(2 ** 8) * mixed, 2 ** 8 - 1)
    t = 8 - num_weight_bits + mixed
    w = (w >> t) << t
    return -w if inh else w


states = st.integers(-(U_MAX - 1), U_MAX)           # legal 24-bit u (u == 2**23 is reachable)
voltages = st.integers(-(U_MAX - 1), U_MAX - 1)
inputs = st.integers(-(1 << 18) + 1, (1 << 18) - 1)  # a << 6 stays within one wrap of 24 bits
decays = st.integers(0, 4095)


@SETTINGS
@given(u=states, v=voltages, a=inputs, du=decays, dv=decays, vth=st.integers(0, 131071),
       bm=st.integers(-4096, 4095), be=st.integers(-7, 7))
def test_lif_step_equals_lava(u, v, a, du, dv, vth, bm, be):
    got_u, got_v, got_s, _, _ = lif_step(np.array([u]), np.array([v]), np.array([a]), du=du,
                                         dv=dv, vth=vth, bias_mant=bm, bias_exp=be)
    want_u, want_v, want_s = lava_lif_step([u], [v], [a], du, dv, vth, bm, be)
    assert got_u.tolist() == want_u.tolist()
    assert got_v.tolist() == want_v.tolist()
    assert got_s.tolist() == want_s.tolist()
    assert -U_MAX < got_u[0] <= U_MAX
    assert -STATE_MAX <= got_v[0] <= STATE_MAX


# ------------------------------------------------------------------ current wrap at +-2**23
@SETTINGS
@given(x=st.integers(-(U_MAX + (1 << 24)) + 1, U_MAX + (1 << 24) - 1))
def test_wrap_current_single_correction(x):
    y = int(wrap_current(np.array([x]))[0])
    if x > U_MAX:
        assert y == x - (1 << 24)
    elif x <= -U_MAX:
        assert y == x + (1 << 24)
    else:
        assert y == x
    if -U_MAX - (1 << 24) < x <= U_MAX + (1 << 24):
        assert (y - x) % (1 << 24) == 0


def test_wrap_current_boundaries():
    got = wrap_current(np.array([U_MAX, U_MAX + 1, -U_MAX, -U_MAX + 1, 3 * U_MAX]))
    # u == 2**23 is kept; -2**23 wraps to +2**23; only one correction (3*2**23 -> 2**23)
    assert got.tolist() == [U_MAX, -U_MAX + 1, U_MAX, -U_MAX + 1, U_MAX]


def test_current_wraps_in_lif_step():
    """Lava's overflow case (notes 1.5): 200 inputs x 255 x 2**2 -> u = 13,056,000 - 2**24."""
    a = shift_input(np.array([200 * 255]), 2)
    u, v, s, _, _ = lif_step(np.zeros(1), np.zeros(1), a, du=4095, dv=0, vth=131071,
                             bias_mant=0, bias_exp=0)
    assert int(a[0]) == 204000
    assert u.tolist() == [13_056_000 - (1 << 24)] == [-3_721_216]
    assert v.tolist() == [-3_721_216] and not s.any()


# ------------------------------------------------------------------ voltage saturation
@SETTINGS
@given(u=st.integers(0, U_MAX - 1), v=st.integers(0, STATE_MAX), bm=st.integers(0, 4095),
       sign=st.sampled_from([-1, 1]))
def test_voltage_saturates_not_wraps(u, v, bm, sign):
    """A push past +-(2**23 - 1) pins v there (no wrap); positive saturation spikes (notes 1.5)."""
    u, v, bm = sign * u, sign * v, sign * bm
    u_new, got_v, got_s, _, _ = lif_step(np.array([u]), np.array([v]), np.array([0]), du=0,
                                         dv=0, vth=131071, bias_mant=bm, bias_exp=7)
    total = v + int(u_new[0]) + (bm << 7)
    if abs(total) <= STATE_MAX:
        want = total
    else:
        want = sign * STATE_MAX
    if want > 131071 << 6:
        assert got_s.tolist() == [True] and got_v.tolist() == [0]
    else:
        assert got_s.tolist() == [False] and got_v.tolist() == [want]


def test_saturation_exact_values():
    u, v, s, _, _ = lif_step(np.array([U_MAX - 1]), np.array([STATE_MAX - 5]), np.array([0]),
                             du=4095, dv=0, vth=131071, bias_mant=4095, bias_exp=7)
    assert u.tolist() == [0]
    assert s.tolist() == [True] and v.tolist() == [0]
    u, v, s, _, _ = lif_step(np.array([-(U_MAX - 1)]), np.array([-STATE_MAX]), np.array([0]),
                             du=0, dv=0, vth=0, bias_mant=-4096, bias_exp=7)
    assert v.tolist() == [-STATE_MAX]


# ------------------------------------------------------------------ bias
@SETTINGS
@given(bm=st.integers(-4096, 4095), be=st.integers(-12, 7))
def test_bias_shift_is_floor(bm, be):
    got = int(scale_bias(np.array([bm]), np.array([be]))[0])
    assert got == (bm << be if be >= 0 else bm >> -be)
    assert got == (bm * 2 ** be if be >= 0 else int(np.floor(bm / 2 ** -be)))
    _, v, _, _, _ = lif_step(np.zeros(1), np.zeros(1), np.zeros(1), du=0, dv=0, vth=131071,
                             bias_mant=bm, bias_exp=be)
    assert v.tolist() == [got]


# ------------------------------------------------------------------ weights
weight_lists = st.lists(st.integers(-400, 400), min_size=1, max_size=12)


@SETTINGS
@given(w=weight_lists, bits=st.integers(1, 8))
def test_effective_weights_equal_lava(w, bits):
    w = np.array(w)
    mode = determine_sign_mode(w)
    got = effective_weights(w, bits)
    assert got.tolist() == lava_effective_weights(w, mode, bits).tolist()
    mixed = mode == SIGN_MIXED
    assert got.min() >= (-256 if mixed else -255) and got.max() <= 255
    step = 1 << (8 - bits + int(mixed))
    assert not (np.abs(got) % step).any()          # dropped low bits
    clipped = np.clip(w, -256 if mixed else -255, 255)
    if mode == SIGN_INHIBITORY:                    # truncated on the magnitude: toward zero
        assert (got >= clipped).all()
    else:                                          # arithmetic shift: toward -inf
        assert (got <= clipped).all()


def test_mixed_sign_drops_lsb():
    """Lava's found-the-hard-way rule (notes 1.5): mixed weights are even in [-256, 254]."""
    got = effective_weights(np.array([255, 101, -1, -257, 3]))
    assert got.tolist() == [254, 100, -2, -256, 2]
    assert effective_weights(np.array([255, 101, 3])).tolist() == [255, 101, 3]
    assert effective_weights(np.array([-255, -101, -3])).tolist() == [-255, -101, -3]
    assert effective_weights(np.array([-255, -101, -3]), 7).tolist() == [-254, -100, -2]
    assert determine_sign_mode(np.array([0, 0])) == SIGN_EXCITATORY


@SETTINGS
@given(spiking=st.lists(st.integers(-256, 255), min_size=1, max_size=10),
       exp=st.integers(-8, 7))
def test_negative_weight_exponent_floors_the_sum(spiking, exp):
    """``a = (sum of weights) >> -exp``: the floor of the projection's sum, not of each weight."""
    w = np.array([spiking])                       # one neuron, one input channel per weight
    image = dense_image(w, du=4095, dv=0, vth=131071, weight_exp=exp, lava_weights=False)
    steps = np.zeros((2, len(spiking)), np.uint8)
    steps[0] = 1
    res = run_reference(image, {"in": steps}, 2, probes=["lif.u"])
    total = int(w.sum())
    a = total << exp if exp >= 0 else total >> -exp
    assert a == int(np.floor(total * 2.0 ** exp))
    assert res.traces["lif.u"][:, 0].tolist() == [0, int(wrap_current(np.array([a << 6]))[0])]


@SETTINGS
@given(w1=st.lists(st.integers(0, 255), min_size=1, max_size=5),
       w2=st.lists(st.integers(-255, 0), min_size=1, max_size=5),
       e1=st.integers(-8, 7), e2=st.integers(-8, 7))
def test_projections_shift_separately(w1, w2, e1, e2):
    """Two projections (accumulator classes) into one neuron: each sum floored by its own exp."""
    w = np.array([w1 + w2])
    cls = np.array([[0] * len(w1) + [1] * len(w2)])
    image = dense_image(w, du=4095, dv=0, vth=131071, acc_class=cls, acc_exps=[e1, e2],
                        lava_weights=False)
    steps = np.ones((1, w.shape[1]), np.uint8)
    res = run_reference(image, {"in": steps}, 2, probes=["lif.u"])
    a = int(shift_input(np.array([sum(w1)]), e1)[0] + shift_input(np.array([sum(w2)]), e2)[0])
    assert res.traces["lif.u"][1, 0] == int(wrap_current(np.array([a << 6]))[0])


# ------------------------------------------------------------------ order independence
@settings(max_examples=60, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2 ** 16), shuffle=st.integers(0, 2 ** 16),
       exp=st.integers(-3, 3))
def test_packet_order_does_not_matter(seed, shuffle, exp):
    """Permuting every axon's synapse run (the delivery order of a packet) changes nothing."""
    rng = np.random.default_rng(seed)
    n_in, n_out, steps = 6, 5, 25
    w = rng.integers(-256, 256, (n_out, n_in)) * (rng.random((n_out, n_in)) < 0.7)
    delays = rng.integers(0, 4, (n_out, n_in))
    spikes = (rng.random((steps, n_in)) < 0.4).astype(np.uint8)
    params = dict(du=int(rng.integers(0, 4096)), dv=int(rng.integers(0, 4096)),
                  vth=int(rng.integers(10, 400)), bias_mant=rng.integers(-50, 50, n_out),
                  bias_exp=2, weight_exp=exp, delays=delays)
    base = run_reference(dense_image(w, **params), {"in": spikes}, steps, probes=["lif.v"])
    perm = run_reference(dense_image(w, shuffle_seed=shuffle, **params), {"in": spikes}, steps,
                         probes=["lif.v"])
    assert base.same_behaviour(perm)
    np.testing.assert_array_equal(base.traces["lif.v"], perm.traces["lif.v"])
    assert base.counters == perm.counters


def test_decay_truncates_toward_zero():
    x = np.array([-4097, -1, 0, 1, 4097, 1000])
    assert decay(x, 2048).tolist() == [-2048, 0, 0, 0, 2048, 500]
    assert decay(x, 0).tolist() == x.tolist()
    assert decay(np.array([8192]), 1).tolist() == [8190]     # 8192 * 4095 / 4096 = 8190
