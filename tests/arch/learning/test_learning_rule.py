"""The rule language, learning profiles, constructors and random generators of the contract."""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.arch.learning import (STDP, Factor, LearningRandom, LearningRule, PlasticGroup,
                                    Product, RewardModulatedSTDP, TraceConfig, float_to_literal,
                                    learn, parse_rule, seed_states, xorshift64)
from spikefab.errors import ModelError


def test_stdp_product_series():
    ps = parse_rule("dw", "2^-2 * x0 * y1 - 3*2^-1 * y0 * x1")
    assert ps.products == (Product("x0", 1, 5, (Factor("y1"),)),
                           Product("y0", -3, 6, (Factor("x1"),)))


def test_brackets_sgn_and_decimation():
    ps = parse_rule("dt", "u2 * (3 - x1) * sgn(w - 4) + 12 * y0 * (y2 + 2^3) * x0")
    assert ps.decimate_exponent == 2
    assert ps.products[0] == Product("u", -1, 7, (Factor("x1", -3), Factor("w", -4, True)))
    # 12 normalizes to 6 * 2^1 (halved only while above 7); a second x0 is a 1-bit factor
    assert ps.products[1] == Product("y0", 6, 8, (Factor("y2", 8), Factor("x0")))


@pytest.mark.parametrize("text, message", [
    ("x1 * y1", "needs a dependency"),
    ("9 * x0", "mantissa must be -8..7"),
    ("2^-9 * x0", "exponent must be -7..8"),
    ("x0 * sgn(x1)", "sgn(..) applies to w, d or t only"),
    ("x0 * (x1 + y1)", "one variable and at most one constant"),
    ("x0 * (-x1)", "write -x1 outside the bracket"),
    ("x0 * y1 +", "does not parse"),
    ("u1 * x0 + u2 * y0", "one decimate exponent"),
])
def test_bad_rules(text, message):
    with pytest.raises(ModelError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_rule("dw", text)


def test_profile_checks_parameters():
    with pytest.raises(ModelError, match="t_epoch must be 1..63, not 64"):
        LearningRule(dw="x0", t_epoch=64).profile()
    with pytest.raises(ModelError, match="y2 tau must be an integer 0..255"):
        LearningRule(dw="x0", y2=TraceConfig(1, 300)).profile()
    with pytest.raises(ModelError, match="at least one of dw, dd, dt"):
        LearningRule().profile()
    p = LearningRule(dw="x0", x1=TraceConfig(5.3, 20)).profile()
    assert (p.impulse_int[0], p.impulse_frac[0]) == (5, 77)      # 0.3 * 256 = 76.8 -> 77
    assert p.decay[0] == pytest.approx(np.exp(-1 / 20), abs=0)


def test_float_to_literal_as_lava():
    assert float_to_literal(0.25) == "(1) * 2 ^ -2"
    assert float_to_literal(-3) == "(-3)"
    assert float_to_literal(0) == "0"


def test_constructors_parse():
    stdp = STDP(A_plus=1, A_minus=-2, tau_plus=10, tau_minus=12, learning_rate=0.5).profile()
    assert [p.dependency for p in stdp.series[0].products] == ["x0", "y0"]
    assert stdp.tau == (10, 0, 12, 0, 0)
    rstdp = RewardModulatedSTDP(1, -1, 8, 8, tau_eligibility=0.5, t_epoch=2).profile()
    assert {s.target for s in rstdp.series} == {"dw", "dt"}
    assert rstdp.decimate_exponent == 0 and rstdp.reward and rstdp.impulse_int[3] == 32


def test_hardware_generator_is_deterministic_and_not_lava():
    s = seed_states(7, core=0, profile=0)
    assert s == seed_states(7, core=0, profile=0) and s != seed_states(7, core=1, profile=0)
    assert all(v != 0 for v in s) and xorshift64(s[0]) != s[0]
    hw, lava = LearningRandom.hardware(s), LearningRandom.lava(7)
    for r in (hw, lava):
        r.advance_traces()
        assert 0 <= r.x_decay < 1 and 0 <= r.y_impulse < 128
    assert hw.values != lava.values


def test_stdp_potentiates_causal_pairs():
    """Pre spike in step 1, post spike in step 3, epoch 4: y0 * x1 potentiates the weight."""
    prof = STDP(A_plus=2, A_minus=-2, tau_plus=8, tau_minus=8, t_epoch=4).profile()
    g = PlasticGroup.empty([0], [0], [100], 1, 1)
    g.tx[0], g.ty[0] = 1, 3
    learn(g, prof, 4, LearningRandom.lava(0))
    assert g.w[0] > 100 and g.x[0, 0] > 0 and g.y[0, 0] > 0
    h = PlasticGroup.empty([0], [0], [100], 1, 1)
    h.tx[0], h.ty[0] = 3, 1                        # anti-causal: depression
    learn(h, prof, 4, LearningRandom.lava(0))
    assert h.w[0] < 100
