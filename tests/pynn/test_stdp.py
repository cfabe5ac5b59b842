"""PyNN's STDPMechanism on the chip's learning engine: direction, magnitude vs Brian2, refusals.

``scripts/stdp_pairs.py`` pairs one source with one cell per timing (``delta`` = post - pre);
the learned weights are read back with ``Projection.get("weight", format="array")``.  Against
PyNN's Brian2 backend each weight change must agree within the bound the lowering states
(:class:`spikefab.pynn.plasticity.StdpReport`): the deterministic ``pair_bound`` of the expected
change plus three standard deviations of the stochastic rounding (trace reads and one rounding
per weight update).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import spikefab.pynn as sim
from spikefab.errors import InputError, ModelError
from spikefab.pynn import simulator
from tests.pynn.harness import reference, run_spikefab

CELL = dict(tau_m=20.0, tau_syn_E=0.5, v_rest=-65.0, v_reset=-65.0, v_thresh=-50.0, cm=1.0,
            tau_refrac=5.0)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    out = {}
    for mode in ("functional", "cycle"):
        data = run_spikefab("stdp_pairs", tmp_path_factory.mktemp(f"stdp-{mode}"), mode=mode)
        (proj,) = [p for p in simulator.state.projections if p.plastic]
        out[mode] = (data, proj.stdp_reports[0])
    return out


def _changes(data) -> np.ndarray:
    return data["weights"] - data["w0"]


def test_pre_before_post_potentiates_and_post_before_pre_depresses(pairs) -> None:
    data, rep = pairs["functional"]
    dw = _changes(data)
    deltas = data["deltas"]
    assert np.all(dw[deltas > 0] > 0) and np.all(dw[deltas < 0] < 0), dw
    # the window decays with |delta| on both sides
    assert np.all(np.diff(dw[deltas > 0]) < 0) and np.all(np.diff(dw[deltas < 0]) < 0), dw
    assert rep.dependence == "additive" and rep.tau_plus_steps == 200
    assert rep.amplitude_error_plus < 0.01 and rep.amplitude_error_minus < 0.01
    assert any("STDP (additive)" in n for n in simulator.state.last_build[1].notes)


def test_functional_and_cycle_engines_learn_identical_weights(pairs) -> None:
    np.testing.assert_array_equal(pairs["functional"][0]["weights"], pairs["cycle"][0]["weights"])


def test_stdp_weight_changes_match_brian2_within_the_stated_bound(pairs) -> None:
    data, rep = pairs["functional"]
    ref = reference("stdp_pairs")
    np.testing.assert_allclose(data["post.times"], ref["post.times"])   # same pairings
    ours, theirs = _changes(data), _changes(ref)
    n_pairs = len(data["t_pre"])
    updates = 2 * n_pairs                        # one rule evaluation per pre and post spike
    noise = max(rep.trace_noise_plus, rep.trace_noise_minus)
    for d, a, b in zip(data["deltas"], ours, theirs):
        assert np.sign(a) == np.sign(b), (d, a, b)
        sigma = math.sqrt(n_pairs * (noise * abs(b) / n_pairs) ** 2
                          + updates * (0.5 * rep.unit_nA) ** 2)
        tol = rep.pair_bound * abs(b) + 3 * sigma
        assert abs(a - b) <= tol, (d, a, b, tol)


def _plastic(weight_dependence=None, *, timing=None, delay=0.1, fraction=0.0, mode="functional",
             receptor="excitatory", weight=0.05, amp=0.01, **setup):
    sim.setup(timestep=0.1, mode=mode, **setup)
    pre = sim.Population(2, sim.SpikeSourceArray(spike_times=[[5.0, 25.0], [15.0]]), label="pre")
    post = sim.Population(2, sim.IF_curr_exp(**CELL), label="post")
    stdp = sim.STDPMechanism(
        timing_dependence=timing or sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0,
                                                      A_plus=amp, A_minus=amp),
        weight_dependence=weight_dependence or sim.AdditiveWeightDependence(w_min=0.0,
                                                                            w_max=0.2),
        weight=weight, delay=delay, dendritic_delay_fraction=fraction)
    return sim.Projection(pre, post, sim.AllToAllConnector(), stdp, receptor_type=receptor)


def test_multiplicative_dependence_moves_weights_toward_its_bounds() -> None:
    proj = _plastic(sim.MultiplicativeWeightDependence(w_min=0.0, w_max=0.2), amp=0.1)
    teacher = sim.Population(2, sim.SpikeSourceArray(spike_times=[[8.0, 28.0], [18.0]]))
    sim.Projection(teacher, simulator.state.populations[1], sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=60.0, delay=0.1))
    sim.run(40.0)
    w = proj.get("weight", format="array")
    rep = proj.stdp_reports[0]
    assert rep.dependence == "multiplicative" and "(w - 255)" in rep.rule
    assert w.shape == (2, 2) and not np.allclose(w, 0.05)
    # synapse pre 0 -> post 0: pre at 5 and 25 ms, post at 8.5 and 28.5 ms (teacher + 0.5 ms);
    # all pairs: + A (w_max - w) e^(-dt/tau) at each post spike, - A w e^(-dt/tau) at each pre
    e = lambda d: math.exp(-d / 20.0)                      # noqa: E731
    w_exp = 0.05
    w_exp += 0.1 * (0.2 - w_exp) * e(3.5)
    w_exp -= 0.1 * w_exp * e(16.5)
    w_exp += 0.1 * (0.2 - w_exp) * (e(23.5) + e(3.5))
    assert w[0, 0] > 0.05
    assert abs(w[0, 0] - w_exp) <= rep.pair_bound * abs(w_exp - 0.05) + 3 * rep.unit_nA, \
        (w[0, 0], w_exp)


def test_learned_weights_are_read_back_and_reset_restores_the_initial_ones() -> None:
    proj = _plastic()
    teacher = sim.Population(2, sim.SpikeSourceArray(spike_times=[[8.0], [8.0]]))
    sim.Projection(teacher, simulator.state.populations[1], sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=60.0, delay=0.1))
    assert np.allclose(proj.get("weight", format="array"), 0.05)
    sim.run(30.0)
    learned = proj.get("weight", format="list")
    assert any(abs(w - 0.05) > 1e-6 for _, _, w in learned)
    sim.reset()
    assert np.allclose(proj.get("weight", format="array"), 0.05)


@pytest.mark.parametrize("case, match", [
    (dict(weight_dependence="gutig"), "GutigWeightDependence"),
    (dict(timing="vogels"), "Vogels2011Rule"),
    (dict(delay=2.0, fraction=1.0), "dendritic_delay_fraction"),
    (dict(timing=("tau", 30.0)), "tau_plus must be 1..255 time steps"),
    (dict(weight_dependence=("add", 0.01)), "w_min = 0"),
    (dict(receptor="inhibitory"), "excitatory"),
    (dict(weight=0.3), r"initial weights must lie in \[w_min, w_max\]"),
])
def test_what_the_engine_cannot_express_is_refused(case, match) -> None:
    kw = dict(case)
    if kw.get("weight_dependence") == "gutig":
        with pytest.raises(ModelError, match=match):
            sim.GutigWeightDependence(w_min=0.0, w_max=0.2)
        return
    if kw.get("timing") == "vogels":
        with pytest.raises(ModelError, match=match):
            sim.Vogels2011Rule()
        return
    if isinstance(kw.get("timing"), tuple):
        kw["timing"] = sim.SpikePairRule(tau_plus=kw["timing"][1], tau_minus=20.0)
    if isinstance(kw.get("weight_dependence"), tuple):
        kw["weight_dependence"] = sim.AdditiveWeightDependence(w_min=kw["weight_dependence"][1],
                                                               w_max=0.2)
    if kw.get("receptor") == "inhibitory":
        kw["weight"] = -0.05
    _plastic(**kw)
    with pytest.raises(ModelError, match=match):
        sim.run(10.0)


def test_float_mode_refuses_stdp() -> None:
    _plastic(mode="float")
    with pytest.raises(InputError, match="no learning engine"):
        sim.run(10.0)


def test_stdp_parameters_must_be_uniform_over_a_projection() -> None:
    rnd = sim.RandomDistribution("uniform", (0.01, 0.02), rng=sim.NumpyRNG(1))
    _plastic(timing=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=rnd, A_minus=0.01))
    with pytest.raises(ModelError, match="A_plus must be the same"):
        sim.run(10.0)


def test_a_device_returns_the_same_learned_weights() -> None:
    out = []
    for device in (None, "emu://"):
        proj = _plastic(amp=0.05, device=device)
        teacher = sim.Population(2, sim.SpikeSourceArray(spike_times=[[8.0, 28.0], [18.0]]))
        sim.Projection(teacher, simulator.state.populations[1], sim.OneToOneConnector(),
                       sim.StaticSynapse(weight=60.0, delay=0.1))
        sim.run(40.0)
        out.append(proj.get("weight", format="array"))
    assert not np.allclose(out[0], 0.05)
    np.testing.assert_array_equal(out[0], out[1])
