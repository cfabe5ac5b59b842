"""Outside-in audit of spikefab.pynn: PyNN scripts as users write them.

Each case was a traceback, a refused legal script or a silently wrong answer before; now it is
PyNN's behaviour or a typed error naming the population or projection by its script label.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import spikefab.pynn as sim
from spikefab.errors import InputError, ModelError, ResourceError
from spikefab.pynn.engine import VoltageFloorWarning


def _pair(**cell):
    """One array source (spikes at 1, 5, 9 ms) onto three IF_curr_exp cells."""
    sim.setup(timestep=0.1)
    src = sim.Population(3, sim.SpikeSourceArray(spike_times=[1.0, 5.0, 9.0]), label="src")
    cells = sim.Population(3, sim.IF_curr_exp(**cell), label="cells")
    return src, cells


def _spike_times(pop) -> list[list[float]]:
    seg = pop.get_data().segments[-1]
    return [[round(float(t), 6) for t in st.magnitude] for st in seg.spiketrains]


@pytest.mark.parametrize("mode", ["float", "functional"])
def test_recorded_spike_sources_report_what_they_emitted(mode: str) -> None:
    sim.setup(timestep=0.1, mode=mode)
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[1.0, 5.0, 9.0]), label="src")
    noise = sim.Population(4, sim.SpikeSourcePoisson(rate=300.0), label="noise")
    cells = sim.Population(2, sim.IF_curr_exp(), label="cells")
    sim.Projection(src, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=2.0))
    sim.Projection(noise, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.5))
    src.record("spikes")
    noise.record("spikes")
    cells.record("spikes")
    sim.run(20.0)
    assert _spike_times(src) == [[1.0, 5.0, 9.0]] * 2
    poisson = _spike_times(noise)
    assert sum(map(len, poisson)) > 0
    assert all(0 <= t < 20.0 for st in poisson for t in st)


def test_a_network_of_spike_sources_only_runs() -> None:
    sim.setup(timestep=0.1)
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[2.0, 4.0]), label="src")
    src.record("spikes")
    sim.run(10.0)
    assert _spike_times(src) == [[2.0, 4.0]] * 2


def test_default_zero_weight_projection_runs_and_moves_nothing() -> None:
    """PyNN's StaticSynapse weight defaults to 0: legal, and exactly no input."""
    spikes = {}
    for extra in (False, True):
        src, cells = _pair(i_offset=0.9)
        sim.Projection(src, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=1.0))
        if extra:
            sim.Projection(src, cells, sim.OneToOneConnector())          # weight 0
        cells.record("spikes")
        sim.run(30.0)
        spikes[extra] = _spike_times(cells)
    assert sum(map(len, spikes[False])) > 0
    assert spikes[True] == spikes[False]


def test_one_to_one_between_single_cells_is_one_connection() -> None:
    out = []
    for connector in (sim.OneToOneConnector(), sim.FromListConnector([(0, 0)])):
        sim.setup(timestep=0.1)
        src = sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]), label="src")
        cell = sim.Population(1, sim.IF_curr_delta(), label="cell")
        proj = sim.Projection(src, cell, connector, sim.StaticSynapse(weight=30.0, delay=0.5))
        assert len(proj) == 1
        cell.record("spikes")
        sim.run(5.0)
        out.append(_spike_times(cell))
    assert out[0] == out[1] == [[1.6]]


def test_one_to_one_from_one_cell_onto_several_is_a_typed_error() -> None:
    sim.setup(timestep=0.1)
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]), label="src")
    cells = sim.Population(3, sim.IF_curr_exp(), label="cells")
    with pytest.raises(ModelError, match="FromListConnector"):
        sim.Projection(src, cells, sim.OneToOneConnector())


def test_initial_v_above_threshold_spikes_or_is_refused_never_clipped() -> None:
    """The float run spikes at once; the chip's state could not hold v (it was clipped below
    the decayed threshold and never spiked): now a ModelError naming the range."""
    sim.setup(timestep=0.1, mode="float")
    cell = sim.Population(1, sim.IF_curr_exp(), label="cell")
    cell.initialize(v=-40.0)
    cell.record("spikes")
    sim.run(1.0)
    assert _spike_times(cell) == [[0.0]]
    sim.setup(timestep=0.1)
    cell = sim.Population(1, sim.IF_curr_exp(), label="cell")
    cell.initialize(v=-40.0)
    cell.record("spikes")
    with pytest.raises(ModelError, match=r"population 'cell': initial v must lie in \[-80, -50\]"):
        sim.run(1.0)


def test_initial_v_at_threshold_still_runs() -> None:
    sim.setup(timestep=0.1)
    cells = sim.Population(2, sim.IF_curr_exp(), label="cells")
    cells.initialize(v=sim.RandomDistribution("uniform", (-65.0, -50.0), rng=sim.NumpyRNG(3)))
    cells[0:1].initialize(v=-50.0)
    cells.record("v")
    sim.run(1.0)
    v = cells.get_data().segments[0].analogsignals[0].magnitude
    assert v[0, 0] == pytest.approx(-50.0)
    assert v[1, 0] < -50.0


@pytest.mark.parametrize("build, match", [
    (lambda s, c: c.set(tau_m=float("nan")), "population 'cells': tau_m must be a finite"),
    (lambda s, c: c.set(v_thresh=float("inf")), "population 'cells': v_thresh must be a finite"),
    (lambda s, c: c.set(tau_syn_E=0.0), "population 'cells': tau_syn_E must be > 0"),
    (lambda s, c: c.set(tau_refrac=-1.0), "population 'cells': tau_refrac must be >= 0"),
    (lambda s, c: c.initialize(v=float("nan")), "population 'cells': initial v must be a finite"),
    (lambda s, c: sim.Projection(s, c, sim.AllToAllConnector(),
                                 sim.StaticSynapse(weight=float("inf"))),
     "projection 'src→cells': weight must be a finite number, not inf"),
    (lambda s, c: sim.Projection(s, c, sim.AllToAllConnector(),
                                 sim.StaticSynapse(weight=1.0, delay=float("nan"))),
     "projection 'src→cells': delay must be a finite number, not nan"),
    (lambda s, c: sim.Population(2, sim.SpikeSourcePoisson(rate=-5.0), label="noise"),
     "population 'noise': rate must be >= 0 Hz"),
    (lambda s, c: sim.Population(2, sim.SpikeSourceArray(spike_times=[1.0, float("nan")]),
                                 label="arr"), "population 'arr': spike_times must be a finite"),
])
def test_non_finite_or_out_of_range_values_are_typed_errors(build, match) -> None:
    src, cells = _pair()
    sim.Projection(src, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=1.0))
    build(src, cells)
    cells.record("spikes")
    with pytest.raises(ModelError, match=match):
        sim.run(5.0)


def test_construction_errors_are_typed() -> None:
    src, cells = _pair()
    with pytest.raises(ModelError, match="size must be at least 1"):
        sim.Population(0, sim.IF_curr_exp())
    with pytest.raises(ModelError, match="projection 'cells' -> 'src': the target must be a cell"):
        sim.Projection(cells, src, sim.AllToAllConnector())
    with pytest.raises(InputError, match="rng_seed must be an integer"):
        sim.setup(timestep=0.1, rng_seed="abc")


@pytest.mark.parametrize("tstop", [float("nan"), float("inf"), 1e15])
def test_run_end_times_that_are_no_step_count_are_input_errors(tstop: float) -> None:
    _, cells = _pair()
    cells.record("spikes")
    with pytest.raises(InputError, match="end time must be a finite time"):
        sim.run(tstop)


def test_a_run_over_the_memory_budget_is_refused_before_allocating(monkeypatch) -> None:
    monkeypatch.setenv("SPIKEFAB_MAX_RUN_BYTES", str(1 << 20))
    sim.setup(timestep=0.1)
    noise = sim.Population(100, sim.SpikeSourcePoisson(rate=10.0), label="noise")
    noise.record("spikes")
    with pytest.raises(ResourceError, match="MiB are available"):
        sim.run(10_000.0)                     # 100,000 steps x 100 Poisson draws


def test_compiler_errors_name_the_script_labels() -> None:
    src, cells = _pair()
    sim.Projection(src, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=1.0))
    sim.Projection(src, cells, sim.OneToOneConnector(), sim.StaticSynapse(weight=1e-9),
                   receptor_type="excitatory")
    cells.record("spikes")
    with pytest.raises(ModelError) as info:
        sim.run(5.0)
    assert "'src' -> 'cells'" in str(info.value)


def test_resting_voltage_below_reset_does_not_saturate() -> None:
    """v_rest 20 mV under v_reset (threshold 5 mV above it): the voltage scale was chosen from
    the threshold alone, so the chip's state saturated at v_reset - 5 mV (-65 mV, for ever)
    while the float run relaxed to -80 mV."""
    traces = {}
    for mode in ("float", "functional"):
        sim.setup(timestep=0.1, mode=mode)
        cell = sim.Population(1, sim.IF_curr_exp(v_rest=-80.0, v_reset=-60.0, v_thresh=-55.0,
                                                 tau_m=10.0), label="cell")
        cell.initialize(v=-60.0)
        cell.record("v")
        sim.run(50.0)
        traces[mode] = cell.get_data().segments[0].analogsignals[0].magnitude[:, 0]
    assert traces["float"][-1] < -79.5
    np.testing.assert_allclose(traces["functional"], traces["float"], atol=0.3)


def test_get_data_with_clear_reports_only_what_came_after() -> None:
    """Every run re-simulates from 0, so after ``get_data(clear=True)`` the recorder handed neo
    spikes before the new t_start (a ValueError from neo) and counted old spikes again."""
    sim.setup(timestep=0.1)
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[2.0, 12.0, 22.0]), label="src")
    cells = sim.Population(2, sim.IF_curr_exp(i_offset=2.0), label="cells")
    src.record("spikes")
    cells.record(["spikes", "v"], sampling_interval=1.0)
    sim.run(10.0)
    assert _spike_times(src) == [[2.0]]
    first = cells.get_data(clear=True).segments[0]
    src.get_data(clear=True)
    sim.run(10.0)
    assert _spike_times(src) == [[12.0]]
    assert src.get_spike_counts() == {src[0]: 1}
    seg = cells.get_data().segments[0]
    v = seg.filter(name="v")[0]
    assert float(v.t_start) == 10.0 and v.shape == (11, 2)
    assert all(float(t) >= 10.0 for st in seg.spiketrains for t in st)
    assert sum(map(len, seg.spiketrains)) > 0 and sum(map(len, first.spiketrains)) > 0


@pytest.mark.parametrize("w_min, w_max, match", [
    (0.0, float("inf"), "w_max must be a finite number, not inf"),     # was OverflowError
    (0.0, float("nan"), "w_max must be a finite number, not nan"),
    (0.0, 0.0, "STDP needs 0 <= w_min < w_max"),                      # was 'goes silent'
    (0.3, 0.2, "STDP needs 0 <= w_min < w_max"),
])
def test_stdp_weight_bounds_are_checked_first(w_min, w_max, match) -> None:
    sim.setup(timestep=0.1)
    pre = sim.Population(2, sim.SpikeSourcePoisson(rate=50.0), label="pre")
    post = sim.Population(2, sim.IF_curr_exp(), label="post")
    stdp = sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01,
                                            A_minus=0.012),
        weight_dependence=sim.AdditiveWeightDependence(w_min=w_min, w_max=w_max), weight=0.0)
    sim.Projection(pre, post, sim.AllToAllConnector(), stdp)
    post.record("spikes")
    with pytest.raises(ModelError, match=match):
        sim.run(5.0)


def test_pynns_own_errors_are_typed_before_delegating() -> None:
    """``run(-5)`` was PyNN's bare ValueError, ``get_data()`` before any run an IndexError from
    neo, a NaN weight PyNN's "Weights must be negative ..." (NaN is neither sign)."""
    src, cells = _pair()
    cells.record("spikes")
    with pytest.raises(InputError, match=r"population 'cells': get_data\(\) has no recorded "
                       r"data yet: run\(\) the network first"):
        cells.get_data()
    with pytest.raises(InputError, match=r"run: the duration must be >= 0 ms, not -5 ms"):
        sim.run(-5)
    with pytest.raises(InputError, match=r"run: the duration must be a number of ms, not 'x'"):
        sim.run("x")
    for receptor in ("excitatory", "inhibitory"):
        with pytest.raises(ModelError, match=r"projection 'src→cells': weight must be a finite "
                           r"number, not nan"):
            sim.Projection(src, cells, sim.AllToAllConnector(),
                           sim.StaticSynapse(weight=float("nan")), receptor_type=receptor)
    sim.Projection(src, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=1.0))
    sim.run(5.0)
    with pytest.raises(InputError, match=r"run_until: the end time 2 ms is before the current "
                       r"time 5 ms"):
        sim.run_until(2.0)
    assert sim.run_until(5.0) == pytest.approx(5.0)          # now is legal: PyNN's tolerance
    assert len(cells.get_data().segments) == 1


def _inhibited(mode: str):
    """One cell under 40 ms of strong inhibition (a -3 nA spike every ms), then excitation."""
    sim.setup(timestep=0.1, mode=mode)
    cell = sim.Population(1, sim.IF_curr_exp(v_rest=-65.0, v_reset=-65.0, v_thresh=-50.0,
                                             tau_m=20.0, tau_syn_I=5.0), label="cell")
    inh = sim.Population(1, sim.SpikeSourceArray(spike_times=list(np.arange(1.0, 40.0))))
    exc = sim.Population(1, sim.SpikeSourceArray(spike_times=list(np.arange(1.0, 80.0))))
    sim.Projection(inh, cell, sim.AllToAllConnector(), sim.StaticSynapse(weight=-3.0),
                   receptor_type="inhibitory")
    sim.Projection(exc, cell, sim.AllToAllConnector(), sim.StaticSynapse(weight=1.0))
    cell.record(["v", "spikes"])
    return cell


def test_strong_inhibition_at_the_24_bit_floor_is_reported() -> None:
    """The voltage scale leaves the threshold plus one step of drive below the reset; 40 ms of
    strong inhibition drives the float model to about -228 mV, while the chip's state clamps
    at its 24-bit floor (-95 mV here, as Loihi clamps), so the cell recovers and fires earlier.
    The image is unchanged (networks that never reach the floor keep their bytes); the run
    that reaches it warns, naming the population, the floor and when."""
    cell = _inhibited("float")
    sim.run(80.0)
    v_float = cell.get_data().segments[0].analogsignals[0].magnitude[:, 0]
    first_float = float(cell.get_data().segments[0].spiketrains[0].magnitude[0])
    cell = _inhibited("functional")
    with pytest.warns(VoltageFloorWarning, match=r"population 'cell': v of cell 0 reached the "
                      r"chip's 24-bit floor \((-\d+(\.\d+)?) mV") as rec:
        sim.run(80.0)
    floor = float(re.search(r"floor \((-[\d.]+) mV", str(rec[0].message)).group(1))
    v_chip = cell.get_data().segments[0].analogsignals[0].magnitude[:, 0]
    first_chip = float(cell.get_data().segments[0].spiketrains[0].magnitude[0])
    assert v_chip.min() == pytest.approx(floor, abs=0.01)
    assert v_float.min() < floor - 50.0
    assert first_chip < first_float                        # the clamp changes the spikes
    # the same cell without the inhibition stays clear of the floor: no warning
    sim.setup(timestep=0.1)
    quiet = sim.Population(1, sim.IF_curr_exp(v_reset=-65.0, v_thresh=-50.0), label="quiet")
    quiet.record("v")
    sim.run(5.0)
