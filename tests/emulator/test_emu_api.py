"""spikefab.run / simulate: results, probes, costs, and typed errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest

import spikefab
from emu_images import SHARED, build_image, random_image, random_inputs
from spikefab.arch.reference import run_reference
from spikefab.arch.target import load_target
from spikefab.emulator import simulate
from spikefab.errors import ImageError, InputError, TargetError


@pytest.fixture
def image():
    return random_image(np.random.default_rng(11), load_target("loihi1"), max_cores=3)


def test_run_accepts_a_path_and_equals_simulate(image, tmp_path):
    inputs = random_inputs(np.random.default_rng(1), image, 8)
    path = image.save(tmp_path / "net.sfi")
    a = spikefab.run(path, inputs, 8, probes=["all.v"])
    b = simulate(image, inputs, 8, probes=["all.v"])
    assert a.same_behaviour(b) and np.array_equal(a.traces["all.v"], b.traces["all.v"])
    assert a.backend == "emulator-functional"


def test_costs_follow_the_energy_table(image):
    inputs = random_inputs(np.random.default_rng(2), image, 10, p=0.8)
    target = load_target("loihi1")
    for mode in ("functional", "cycle"):
        res = simulate(image, inputs, 10, mode)
        c, e = res.counters, target.energy
        assert res.energy_breakdown["synops"] == c["synops"] * e.synop_pj
        assert res.energy_breakdown["static"] == pytest.approx(e.static_mw * res.latency_us * 1e3)
        assert res.energy_pj == pytest.approx(sum(res.energy_breakdown.values()))
        assert c["neuron_updates_active"] + c["neuron_updates_inactive"] == \
            10 * sum(core.n_neurons for core in image.cores)
        assert res.latency_us > 0
    est = simulate(image, inputs, 10).counters["estimated_cycles_per_step"]
    assert est.shape == (10,) and (est >= target.timing.barrier_cycles).all()


def test_traces_are_end_of_step_values_in_population_order(image):
    inputs = random_inputs(np.random.default_rng(3), image, 6)
    ref = run_reference(image, inputs, 6, probes=["all.v", "p0.u", "all.ref"])
    for mode in ("functional", "cycle"):
        res = simulate(image, inputs, 6, mode, probes=["all.v", "p0.u", "all.ref"])
        for k in ref.traces:
            np.testing.assert_array_equal(res.traces[k], ref.traces[k])


def test_result_save_npz(image, tmp_path):
    res = simulate(image, None, 4, "cycle", probes=["all.v"])
    res.save_npz(tmp_path / "out.npz")
    with np.load(tmp_path / "out.npz") as d:
        assert d["out"].shape == (4, image.outputs["out"]["size"])
        assert np.array_equal(d["cycles_per_step"], res.cycles_per_step)
        assert "trace:all.v" in d.files


def test_wrong_target_is_an_image_error(image):
    with pytest.raises(ImageError, match="image is for target 'loihi1', not 'darwin3'"):
        simulate(image, None, 3, target="darwin3")


def test_image_too_big_for_its_target_is_an_image_error():
    big = build_image("ice40-up5k", [{"address": (0, 0, 0, 0), "n": 1100}], host=[])
    with pytest.raises(ImageError, match="core/0/neurons has 1100 entries, target ice40-up5k "
                                         "allows 1024"):
        simulate(big, None, 1)


def test_input_shape_mismatch(image):
    n = image.inputs["in"]["size"]
    with pytest.raises(InputError, match=rf"must have shape \(steps, {n}\)"):
        spikefab.run(image, {"in": np.zeros((5, n + 1), np.uint8)}, 5)
    with pytest.raises(InputError, match="is not in the image"):
        spikefab.run(image, {"nope": np.zeros((5, 1), np.uint8)}, 5)


def test_unknown_probe_and_mode(image):
    with pytest.raises(InputError, match="population 'ghost' is not in the image"):
        simulate(image, None, 2, probes=["ghost.v"])
    with pytest.raises(InputError, match="variable one of"):
        simulate(image, None, 2, probes=["all.w"])
    with pytest.raises(InputError, match="mode must be one of"):
        simulate(image, None, 2, mode="fast")


def test_cycle_mode_refuses_a_barrier_shorter_than_a_link(tmp_path, tiny_wafer):
    text = tiny_wafer.read_text().replace("barrier_cycles = 8", "barrier_cycles = 1")
    path = tmp_path / "tinywafer.toml"
    path.write_text(text)
    image = build_image("tinywafer", [{"address": (0, 0, 0, 0), "n": 1}], host=[])
    assert simulate(image, None, 1, target=str(path)).spikes["out"].shape == (1, 1)
    with pytest.raises(TargetError, match="barrier_cycles must be >="):
        simulate(image, None, 1, "cycle", target=str(path))


def test_device_delegates_to_the_runtime(image):
    pytest.importorskip("spikefab.runtime.emu")
    inputs = random_inputs(np.random.default_rng(4), image, 5)
    res = spikefab.run(image, inputs, 5, device="emu://")
    assert res.same_behaviour(simulate(image, inputs, 5))
    with pytest.raises(InputError, match="probes must be empty"):
        spikefab.run(image, inputs, 5, probes=["all.v"], device="emu://")


# --------------------------------------------------------------- Lava's published behaviour
NIR = SHARED / "fixtures" / "nir-paper"
POSITIONS = [6, 22, 27, 31, 32, 35, 37, 40, 41, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53,
             67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 84, 85]


def _nir_lif_image():
    """The NIR paper's Loihi mapping: du 4095, dv 163, vth 25, weight 10, bias 0."""
    img = build_image("loihi1", [{"address": (0, 0, 0, 0), "n": 1, "axons": [1],
                                  "routes": {0: [("host", 0)]}}], host=[[(0, 0)]])
    core = img.cores[0]
    core.profiles[0] = (4095, 163, 25, 0, 0, 0, 0)
    core.synapses["weight"] = 10
    return img


@pytest.mark.parametrize("mode", ["functional", "cycle"])
def test_nir_paper_lif_traces(mode):
    cpu = NIR / "lif_lava_cpu_fixed.csv"
    if not cpu.is_file():
        pytest.skip(f"{cpu} is not beside this checkout")
    data = np.loadtxt(cpu, delimiter=",")
    chip = np.loadtxt(NIR / "lif_lava_loihi_fixed.csv", delimiter=",")
    spikes = np.zeros((1000, 1), np.uint8)
    spikes[np.array(POSITIONS) * 10, 0] = 1
    np.testing.assert_array_equal(data[:, 0], spikes[:, 0])
    res = simulate(_nir_lif_image(), {"in": spikes}, 1000, mode, probes=["p0.v"])
    np.testing.assert_array_equal(res.traces["p0.v"][:, 0], data[:, 1].astype(np.int64))
    np.testing.assert_array_equal(res.spikes["out"][:, 0], data[:, 2].astype(np.uint8))
    np.testing.assert_array_equal(res.spikes["out"][:, 0], chip[:, 2].astype(np.uint8))
    assert int(res.spikes["out"].sum()) == 4
