"""Quantize / lower_to_hardware: valid networks, the Loihi mapping, errors with advice."""

from __future__ import annotations

import json

import numpy as np
import pytest

import spikefab as sf
from spikefab.arch.neuron import effective_weights
from spikefab.compiler import load_model
from spikefab.compiler.hwsim import simulate as hwsim
from spikefab.compiler.ir import LIF, Graph, Input, Linear, Output
from spikefab.compiler.passes import LoweredView, lower, lower_to_hardware
from spikefab.errors import ModelError

from .conftest import PAPER, reset_of


def test_every_fixture_gives_a_valid_hwnetwork(nir_file):
    report = {}
    hw = lower_to_hardware(load_model(nir_file), dt=1e-4, reset=reset_of(nir_file), report=report)
    hw.validate()
    q = json.loads(json.dumps(hw.meta["quantization"]))
    assert len(q["projections"]) == len(hw.projections)
    assert [r["population"] for r in q["populations"]] == list(hw.populations)
    assert report["lower_s"] >= 0 and report["quantization"] is hw.meta["quantization"]
    for proj, row in zip(hw.projections, q["projections"]):
        assert np.array_equal(effective_weights(proj.weight), proj.weight)   # on Lava's grid
        assert row["saturated"] == 0
        assert row["rel_max_error"] <= 2.0 ** -7 + 1e-12     # half a step of an 8-bit mantissa
        # never worse than the NIR paper's fixed-scale rule under Lava's Dense
        assert row["max_abs_error"] <= row["paper_rule_max_abs_error"]
    assert hw.meta["dt"] == 1e-4 and hw.meta["source"] == nir_file.name


def test_lif_norse_maps_like_the_nir_paper_and_spikes_like_lava():
    hw = lower_to_hardware(load_model(PAPER / "lif_norse.nir"), dt=1e-4)
    pop = hw.populations["1"].neuron
    assert (pop.du, pop.dv) == (4095, round(0.04 * 4096))      # no current memory; dt/tau
    (proj,) = hw.projections
    ratio = proj.weight[0] * 2.0 ** proj.weight_exp / pop.vth
    assert ratio == pytest.approx(10 / 25, rel=2e-3)             # paper: weight 10, vth 25
    d = np.loadtxt(PAPER / "lif_lava_cpu_fixed.csv", delimiter=",")
    out = hwsim(hw, {"input": d[:, :1].astype(np.int64)}, len(d)).outputs["output"][:, 0]
    assert np.array_equal(out, d[:, 2])                           # Lava's spike steps exactly


def test_cubalif_decays_follow_lava_offset():
    hw = lower_to_hardware(load_model(PAPER / "braille_noDelay_bias_zero.nir"), dt=1e-4)
    n = hw.populations["lif1.lif"].neuron
    g = load_model(PAPER / "braille_noDelay_bias_zero.nir")["lif1.lif"]
    assert n.du == round(1e-4 / float(g.tau_syn[0]) * 4096) - 1
    assert n.dv == round(1e-4 / float(g.tau_mem[0]) * 4096)
    q = hw.meta["quantization"]["populations"][0]
    assert q["bias_u_steady_state"] is True


def test_quantized_network_tracks_float_network():
    g = load_model(PAPER / "cnn_sinabs.nir")
    fnet = LoweredView.of(lower(g, 1e-3))
    hw = lower_to_hardware(g, dt=1e-3)
    fnet.outputs = {p: p for p in fnet.populations}      # watch every layer
    hw.outputs = {p: p for p in hw.populations}
    rng = np.random.default_rng(0)
    x = (rng.random((25, 2 * 34 * 34)) < 0.15).astype(np.int64)
    f_out = fnet.simulate({"input": x})[0]
    h_out = hwsim(hw, {"input": x}, 25).outputs
    for layer in ["1", "3", "6", "10"]:
        f, h = f_out[layer].sum(), h_out[layer].sum()
        assert f > 0
        # IF neurons integrate without leak, so 8-bit weights move some threshold crossings by
        # a step; per-neuron spike counts still agree closely (measured: r = 0.96..0.99)
        assert abs(f - h) <= 0.05 * f, layer
        assert np.corrcoef(f_out[layer].sum(0), h_out[layer].sum(0))[0, 1] > 0.93, layer


def test_dt_from_metadata_or_a_clear_error():
    g = load_model(PAPER / "lif_norse.nir")
    with pytest.raises(ModelError, match="dt must be given: the model states no time step"):
        lower_to_hardware(g)
    g.metadata["dt"] = 1e-4
    assert lower_to_hardware(g).meta["dt"] == 1e-4
    with pytest.raises(ModelError, match=r"dt must be in \[1e-12, 1000\] seconds, not -1"):
        lower_to_hardware(g, dt=-1)


def one_layer(weight, vth=1.0, tau=None, v_reset=0.0) -> Graph:
    n = weight.shape[0]
    g = Graph()
    g.add_node("x", Input(shape=(weight.shape[1],)))
    g.add_node("w", Linear(weight=weight))
    g.add_node("n", LIF(tau=np.full(n, 1e-2) if tau is None else tau, r=np.ones(n),
                        v_leak=np.zeros(n), v_threshold=np.broadcast_to(vth, (n,)).copy(),
                        v_reset=np.full(n, v_reset)))
    g.add_node("y", Output(shape=(n,)))
    for e in [("x", "w"), ("w", "n"), ("n", "y")]:
        g.add_edge(*e)
    return g


def test_layer_whose_weights_round_to_zero_is_an_error():
    with pytest.raises(ModelError, match=r"projection 'x->n' goes silent: all 2 weights round to "
                                         r"0 .* scale the layer's weights up"):
        lower_to_hardware(one_layer(np.array([[1e-12, -1e-12]])), dt=1e-3)


def test_per_neuron_thresholds_scale_per_neuron():
    w = np.array([[0.5, 0.25], [0.5, 0.25]])
    hw = lower_to_hardware(one_layer(w, vth=np.array([1.0, 2.0])), dt=1e-3)
    (proj,) = hw.projections
    dense = np.zeros((2, 2), np.int64)
    dense[proj.post, proj.pre] = proj.weight
    # same float weights, half the threshold: twice the mantissa (up to rounding)
    assert np.all(np.abs(dense[0] - 2 * dense[1]) <= 1) and dense[1].min() > 40


def test_unsupported_parameters_give_advice():
    with pytest.raises(ModelError, match="v_reset must be 0 .* not 0.5"):
        lower_to_hardware(one_layer(np.ones((2, 2)), v_reset=0.5), dt=1e-3)


def test_unreachable_in_float_is_reported_not_raised():
    hw = lower_to_hardware(load_model(PAPER / "two_lif_neurons.nir"), dt=1e-4)
    rows = {r["population"]: r for r in hw.meta["quantization"]["populations"]}
    assert rows["lif2"]["silent_in_float"] and not rows["lif1"]["silent_in_float"]


def test_builder_network_is_not_requantized():
    net = sf.Network()
    x = net.input("x", 2)
    p = net.population("p", 2, sf.LoihiLIF(du=10, dv=20, vth=7))
    net.connect(x, p, weights=np.array([[3, 0], [0, 5]]), weight_exp=2)
    net.output("y", p)
    assert lower_to_hardware(net) is net


def test_integer_voltage_over_scale_tracks_float_voltage():
    from spikefab.arch.neuron import lif_step
    g = load_model(PAPER / "lif_norse.nir")
    hw = lower_to_hardware(g, dt=1e-4)
    fnet = LoweredView.of(lower(g, 1e-4))
    d = np.loadtxt(PAPER / "lif_norse.csv", delimiter=",")
    x = d[:, :1]
    _, v_float = fnet.simulate({"input": x}, record=True)
    n = hw.populations["1"].neuron
    (proj,) = hw.projections
    scale = hw.meta["quantization"]["populations"][0]["v_scale"]
    u = v = np.zeros(1, np.int64)
    prev = np.zeros(1)
    worst = 0.0
    for t in range(len(x)):
        a = np.array([int(prev[0]) * int(proj.weight[0]) << proj.weight_exp])
        u, v, _, _, _ = lif_step(u, v, a, du=n.du, dv=n.dv, vth=n.vth, bias_mant=0, bias_exp=0)
        worst = max(worst, abs(v[0] / scale - v_float["1"][t, 0]))
        prev = x[t]
    assert worst < 1e-3 * 0.1          # below 0.1 % of the threshold (dv rounding dominates)


@pytest.mark.parametrize("bits", [4, 6])
def test_fewer_weight_bits_stay_on_lavas_grid(bits):
    hw = lower_to_hardware(load_model(PAPER / "braille_noDelay_noBias_subtract.nir"), dt=1e-4,
                           reset="subtract", weight_bits=bits)
    for proj, row in zip(hw.projections, hw.meta["quantization"]["projections"]):
        assert np.array_equal(effective_weights(proj.weight, bits), proj.weight)
        assert row["rel_max_error"] <= 2.0 ** -(bits - 1) + 1e-12
    with pytest.raises(ModelError, match="weight_bits must be in \\[1, 8\\], not 9"):
        lower_to_hardware(load_model(PAPER / "lif_norse.nir"), dt=1e-4, weight_bits=9)
