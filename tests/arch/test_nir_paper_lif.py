"""The NIR paper's one-neuron LIF trace, reproduced bit for bit by the golden model.

Fixture: ``../shared/fixtures/nir-paper`` (Pedersen et al., Nature Communications 2024), copied
to ``tests/arch/data/nir-paper`` so that a fresh clone runs this test on its own.  Each csv
row ``t`` holds (input spike in step t, voltage after step t, output spike in step t).  The Loihi
mapping of the README: du = 4095, dv = 163, vth = 25, weight 10, bias 0.  An input spike in row t
is integrated in row t + 1 (640 = 10 << 6 one row after the input): exactly the image timing of
DESIGN.md section 3 ("host input injected in step t is integrated in step t+1").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spikefab.arch.reference import run_reference

from .helpers import SHARED, dense_image

FIXTURES = Path(__file__).resolve().parent / "data" / "nir-paper"
SHARED_FIXTURES = SHARED / "fixtures" / "nir-paper"
# README: input positions among 100 values, each followed by 9 zero steps
README_POSITIONS = [6, 22, 27, 31, 32, 35, 37, 40, 41, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53,
                    67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 84, 85]
STEPS = 1000


def load_csv(name: str) -> np.ndarray:
    return np.loadtxt(FIXTURES / name, delimiter=",", dtype=np.float64)


@pytest.mark.parametrize("name", ["lif_lava_cpu_fixed.csv", "lif_lava_loihi_fixed.csv"])
def test_copies_equal_shared_fixtures(name):
    original = SHARED_FIXTURES / name
    if not original.is_file():
        pytest.skip(f"{original} is not beside this checkout")
    assert (FIXTURES / name).read_bytes() == original.read_bytes()


def readme_input() -> np.ndarray:
    spikes = np.zeros((STEPS, 1), np.uint8)
    spikes[np.array(README_POSITIONS) * 10, 0] = 1
    return spikes


@pytest.fixture(scope="module")
def reference_run():
    image = dense_image([[10]], du=4095, dv=163, vth=25, bias_mant=0, bias_exp=0)
    return run_reference(image, {"in": readme_input()}, STEPS, probes=["lif.v", "lif.u"])


def test_readme_input_is_the_csv_input():
    """The input rebuilt from the README is the input column of both Lava traces."""
    for name in ("lif_lava_cpu_fixed.csv", "lif_lava_loihi_fixed.csv"):
        data = load_csv(name)
        assert data.shape == (STEPS, 3)
        np.testing.assert_array_equal(data[:, 0].astype(np.uint8), readme_input()[:, 0])


def test_reproduces_lava_cpu_trace_exactly(reference_run):
    data = load_csv("lif_lava_cpu_fixed.csv")
    assert np.array_equal(data[:, 1], np.round(data[:, 1]))       # integer voltages
    v = reference_run.traces["lif.v"][:, 0]
    s = reference_run.spikes["out"][:, 0]
    np.testing.assert_array_equal(v, data[:, 1].astype(np.int64))  # all 1000 voltages
    np.testing.assert_array_equal(s, data[:, 2].astype(np.uint8))  # all spikes
    assert int(s.sum()) == 4
    np.testing.assert_array_equal(np.flatnonzero(s), [461, 511, 711, 761])
    # du = 4095 gives no current memory: u is exactly the step's input << 6
    u = reference_run.traces["lif.u"][:, 0]
    np.testing.assert_array_equal(u[1:], readme_input()[:-1, 0].astype(np.int64) * (10 << 6))


def test_agrees_with_loihi2_hardware_trace(reference_run):
    """Every spike equal; 996/1000 voltages equal, the 4 others at the spike steps (probe 128)."""
    chip = load_csv("lif_lava_loihi_fixed.csv")
    v = reference_run.traces["lif.v"][:, 0]
    s = reference_run.spikes["out"][:, 0]
    np.testing.assert_array_equal(s, chip[:, 2].astype(np.uint8))
    differ = np.flatnonzero(v != chip[:, 1].astype(np.int64))
    assert len(differ) == 4
    np.testing.assert_array_equal(differ, np.flatnonzero(s))
    assert set(chip[differ, 1].tolist()) == {128.0}
    assert not v[differ].any()


def test_one_step_late_input_does_not_match():
    """Guard on the alignment: integrating the input in its own step would not give the trace."""
    data = load_csv("lif_lava_cpu_fixed.csv")
    early = np.zeros((STEPS, 1), np.uint8)
    early[:-1] = readme_input()[1:]
    image = dense_image([[10]], du=4095, dv=163, vth=25)
    res = run_reference(image, {"in": early}, STEPS, probes=["lif.v"])
    assert not np.array_equal(res.traces["lif.v"][:, 0], data[:, 1].astype(np.int64))
