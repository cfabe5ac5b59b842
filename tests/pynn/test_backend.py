"""spikefab.pynn as a PyNN backend: the API surface, connectors, recording and typed errors."""

from __future__ import annotations

import numpy as np
import pytest

import spikefab.pynn as sim
from spikefab.errors import InputError, ModelError

CELL = dict(tau_m=20.0, tau_syn_E=5.0, tau_syn_I=5.0, v_rest=-65.0, v_reset=-65.0,
            v_thresh=-50.0, cm=1.0, tau_refrac=2.0)


def _driven(mode: str = "functional", **setup) -> tuple:
    """20 IF_curr_exp cells driven by an array source and a Poisson source."""
    sim.setup(timestep=0.1, mode=mode, **setup)
    src = sim.Population(10, sim.SpikeSourceArray(spike_times=[[2.0 + 3 * k + i for k in
                                                                range(30)] for i in range(10)]),
                         label="array")
    noise = sim.Population(5, sim.SpikeSourcePoisson(rate=100.0), label="noise")
    cells = sim.Population(20, sim.IF_curr_exp(**CELL), label="cells")
    sim.Projection(src, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=1.0, delay=1.0))
    sim.Projection(noise, cells, sim.FixedProbabilityConnector(0.5, rng=sim.NumpyRNG(1)),
                   sim.StaticSynapse(weight=-0.5, delay=0.5), receptor_type="inhibitory")
    cells.record(["spikes", "v"])
    return src, noise, cells


@pytest.mark.parametrize("mode", ["float", "functional", "cycle"])
def test_run_returns_neo_blocks_with_spikes_and_v(mode: str) -> None:
    _, _, cells = _driven(mode)
    sim.run(100.0)
    block = cells.get_data()
    seg = block.segments[0]
    assert len(seg.spiketrains) == 20
    assert sum(len(st) for st in seg.spiketrains) > 20
    v = seg.filter(name="v")[0]
    assert v.shape == (1001, 20)
    assert float(v[0, 0].magnitude) == pytest.approx(-65.0)
    # v stays in the physical range: between the reset-ish floor and the threshold
    assert float(v.magnitude.max()) <= -50.0 + 1e-6
    assert float(v.magnitude.min()) > -80.0
    sim.end()


def test_functional_and_cycle_give_identical_spikes_and_voltages() -> None:
    out = {}
    for mode in ("functional", "cycle"):
        _, _, cells = _driven(mode)
        sim.run(60.0)
        seg = cells.get_data().segments[0]
        out[mode] = ([np.asarray(st) for st in seg.spiketrains],
                     np.asarray(seg.filter(name="v")[0]))
    for a, b in zip(out["functional"][0], out["cycle"][0]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(out["functional"][1], out["cycle"][1])


def test_float_and_hardware_voltages_agree_to_quantization() -> None:
    traces, first = {}, []
    for mode in ("float", "functional"):
        _, _, cells = _driven(mode)
        sim.run(30.0)
        seg = cells.get_data().segments[0]
        traces[mode] = np.asarray(seg.filter(name="v")[0])
        first += [float(st[0]) for st in seg.spiketrains if len(st)]
    until = int(min(first) / 0.1)              # compare up to the first spike of either run
    assert until > 20
    diff = np.abs(traces["float"][:until] - traces["functional"][:until])
    assert diff.max() < 0.2                    # mV, of a 15 mV range: quantization only
    assert diff.max() > 0                      # the hardware really is fixed point


def test_run_twice_equals_one_long_run_and_reset_starts_a_new_segment() -> None:
    _, _, cells = _driven()
    sim.run(40.0)
    sim.run(40.0)
    two = [np.asarray(st) for st in cells.get_data().segments[0].spiketrains]
    sim.reset()
    sim.run(80.0)
    block = cells.get_data()
    assert len(block.segments) == 2
    one = [np.asarray(st) for st in block.segments[1].spiketrains]
    for a, b in zip(two, one):
        np.testing.assert_array_equal(a, b)


def test_changing_the_network_between_runs_needs_reset() -> None:
    _, _, cells = _driven()
    sim.run(10.0)
    cells.set(v_thresh=-55.0)
    with pytest.raises(InputError, match="must not change between run"):
        sim.run(10.0)
    sim.reset()
    sim.run(10.0)                              # allowed after reset


def test_device_runs_the_same_image_as_the_emulator() -> None:
    spikes = {}
    for device in (None, "emu://"):
        sim.setup(timestep=0.1, device=device)
        src = sim.Population(4, sim.SpikeSourceArray(spike_times=[1.0, 4.0, 7.0, 10.0]))
        cells = sim.Population(4, sim.IF_curr_delta(v_rest=-65.0, v_reset=-65.0,
                                                    v_thresh=-60.0, tau_refrac=0.1))
        sim.Projection(src, cells, sim.OneToOneConnector(), sim.StaticSynapse(weight=3.0))
        cells.record("spikes")
        sim.run(20.0)
        spikes[device] = [np.asarray(st) for st in cells.get_data().segments[0].spiketrains]
    for a, b in zip(spikes[None], spikes["emu://"]):
        np.testing.assert_array_equal(a, b)
    assert all(len(a) == 2 for a in spikes[None])   # two 3 mV steps cross the 5 mV threshold


def test_delta_synapse_timing_follows_the_delay() -> None:
    sim.setup(timestep=0.1, mode="functional")
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[5.0]))
    cell = sim.Population(2, sim.IF_curr_delta(v_rest=-65.0, v_reset=-65.0, v_thresh=-64.0))
    sim.Projection(src, cell, sim.OneToOneConnector(), sim.StaticSynapse(weight=5.0, delay=2.0))
    cell.record("spikes")
    sim.run(20.0)
    times = np.asarray(cell.get_data().segments[0].spiketrains[0])
    # Brian2's schedule: a spike at 5.0 ms with a 2.0 ms delay moves v in the step after 7.0 ms
    np.testing.assert_allclose(times, [7.1])


def _connect(connector, pre=8, post=6) -> sim.Projection:
    sim.setup(timestep=0.1)
    a = sim.Population(pre, sim.SpikeSourceArray(spike_times=[1.0]))
    b = sim.Population(post, sim.IF_curr_exp(**CELL))
    return sim.Projection(a, b, connector, sim.StaticSynapse(weight=0.5, delay=0.3))


def test_standard_connectors(tmp_path) -> None:
    assert len(_connect(sim.AllToAllConnector())) == 48
    assert len(_connect(sim.OneToOneConnector(), 6, 6)) == 6
    fixed_pre = _connect(sim.FixedNumberPreConnector(3, rng=sim.NumpyRNG(2)))
    assert len(fixed_pre) == 18
    assert np.all(np.bincount(fixed_pre._post, minlength=6) == 3)
    fixed_post = _connect(sim.FixedNumberPostConnector(2, rng=sim.NumpyRNG(2)))
    assert np.all(np.bincount(fixed_post._pre, minlength=8) == 2)
    prob = _connect(sim.FixedProbabilityConnector(0.5, rng=sim.NumpyRNG(3)), 100, 100)
    assert 4000 < len(prob) < 6000
    listed = _connect(sim.FromListConnector([(0, 1, 0.2, 0.5), (3, 2, 0.4, 1.0)]))
    assert listed.get(["weight", "delay"], format="list") == [(0, 1, 0.2, 0.5),
                                                               (3, 2, 0.4, 1.0)]
    path = tmp_path / "conn.txt"
    np.savetxt(path, np.array([[1, 0, 0.3, 0.2], [2, 5, 0.6, 0.4]]))
    from_file = _connect(sim.FromFileConnector(str(path)))
    w = from_file.get("weight", format="array")
    assert w[1, 0] == pytest.approx(0.3) and w[2, 5] == pytest.approx(0.6)


def test_views_and_assemblies_map_onto_their_populations() -> None:
    sim.setup(timestep=0.1)
    src = sim.Population(3, sim.SpikeSourceArray(spike_times=[1.0, 2.0]))
    exc = sim.Population(4, sim.IF_curr_delta(v_thresh=-64.0, v_rest=-65.0, v_reset=-65.0))
    inh = sim.Population(2, sim.IF_curr_delta(v_thresh=-64.0, v_rest=-65.0, v_reset=-65.0))
    both = exc + inh
    assert isinstance(both, sim.Assembly)
    view = both[[1, 5]]                        # exc[1] and inh[1]
    sim.Projection(src[[2]], view, sim.AllToAllConnector(), sim.StaticSynapse(weight=5.0),
                   receptor_type="excitatory")
    both.record("spikes")
    sim.run(10.0)
    fired = [len(st) for st in exc.get_data().segments[0].spiketrains]
    fired += [len(st) for st in inh.get_data().segments[0].spiketrains]
    assert fired == [0, 2, 0, 0, 0, 2]


def test_procedural_api_and_state_queries() -> None:
    sim.setup(timestep=0.25, min_delay=0.5)
    assert sim.get_time_step() == 0.25 and sim.get_min_delay() == 0.5
    with pytest.deprecated_call():             # PyNN deprecates its procedural API
        a = sim.create(sim.SpikeSourcePoisson, {"rate": 50.0}, n=5)
        b = sim.create(sim.IF_curr_exp, {}, n=5)
        proj = sim.connect(a, b, weight=0.5, delay=0.5, p=1.0)
    assert len(proj) == 25
    sim.run(10.0)
    assert sim.get_current_time() == pytest.approx(10.0)
    assert "IF_curr_exp" in sim.list_standard_models()


@pytest.mark.parametrize("celltype, feature", [
    ("IF_cond_exp", "conductance-based"),
    ("IF_curr_alpha", "alpha-shaped"),
    ("Izhikevich", "Izhikevich"),
    ("HH_cond_exp", "Hodgkin-Huxley"),
])
def test_unsupported_cell_types_are_typed_errors_naming_the_feature(celltype, feature) -> None:
    sim.setup()
    with pytest.raises(ModelError, match=f"{celltype} is not supported.*{feature}"):
        sim.Population(2, getattr(sim, celltype)())


def test_unsupported_synapses_and_sources_are_typed_errors() -> None:
    sim.setup()
    with pytest.raises(ModelError, match="GutigWeightDependence is not supported.*power law"):
        sim.GutigWeightDependence()
    with pytest.raises(ModelError, match="DCSource is not supported.*i_offset"):
        sim.DCSource(amplitude=0.5)


def test_bad_networks_are_typed_errors() -> None:
    proj_args = (sim.AllToAllConnector(), sim.StaticSynapse(weight=0.5, delay=10.0))
    sim.setup(timestep=0.1, max_delay=20.0)
    a = sim.Population(2, sim.SpikeSourceArray(spike_times=[1.0]))
    b = sim.Population(2, sim.IF_curr_exp(**CELL))
    sim.Projection(a, b, *proj_args)
    with pytest.raises(ModelError, match=r"delays must be in \[0, 6.3\] ms .* not up to 10 ms"):
        sim.run(5.0)
    sim.setup()
    sim.Population(2, sim.IF_curr_exp(v_thresh=-70.0, v_reset=-65.0))
    with pytest.raises(ModelError, match="v_thresh must be above v_reset"):
        sim.run(5.0)
    sim.setup()
    c = sim.Population(2, sim.IF_curr_exp())
    c[0:1].set(tau_m=10.0)
    with pytest.raises(ModelError, match="same for all its neurons"):
        sim.run(5.0)
    with pytest.raises(InputError, match="mode must be one of"):
        sim.setup(mode="analog")
    sim.setup(device="emu://")
    d = sim.Population(2, sim.IF_curr_exp())
    d.record("v")
    with pytest.raises(InputError, match="recording 'v' needs the emulator"):
        sim.run(5.0)


def test_random_initial_values_are_drawn_once_in_script_order() -> None:
    draws = {}
    for mode in ("float", "functional"):
        sim.setup(timestep=0.1, mode=mode)
        rng = sim.NumpyRNG(seed=7)
        cells = sim.Population(6, sim.IF_curr_exp(**CELL),
                               initial_values={"v": sim.RandomDistribution(
                                   "uniform", (-60.0, -50.0), rng=rng)})
        src = sim.Population(6, sim.SpikeSourceArray(spike_times=[1.0]))
        sim.Projection(src, cells, sim.FixedProbabilityConnector(0.5, rng=rng),
                       sim.StaticSynapse(weight=0.1))   # draws from the same generator later
        cells.record("v")
        sim.run(1.0)
        draws[mode] = np.asarray(cells.get_data().segments[0].filter(name="v")[0])
    expected = np.random.RandomState(7).uniform(-60.0, -50.0, 6)
    np.testing.assert_allclose(draws["float"][0], expected)
    np.testing.assert_allclose(draws["functional"][0], expected)
    # the run really starts there: one step of leak later both are still within 0.1 mV
    np.testing.assert_allclose(draws["functional"][1], expected, atol=0.1)
