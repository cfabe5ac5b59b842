"""Same random networks, same Results through emu://, rtlsim:// and serial:// (rtl marker)."""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.arch.reference import run_reference
from spikefab.runtime import open_device

from .boardmodel import BoardModel
from .images import random_image, random_inputs

pytestmark = pytest.mark.rtl


def _need(simulator: str) -> None:
    from spikefab.rtl.sim.driver import simulator_problem
    problem = simulator_problem(simulator)
    if problem:
        pytest.skip(problem)


def test_emu_rtlsim_and_serial_agree() -> None:
    _need("icarus")
    image = random_image(70)
    steps = 16
    inputs = random_inputs(image, steps, 70)
    results = {}
    with open_device("emu://?mode=cycle") as dev:
        dev.load(image)
        results["emu"] = dev.run(inputs, steps)
    with open_device("rtlsim://?simulator=icarus") as dev:
        dev.load(image)
        results["rtlsim"] = dev.run(inputs, steps)
        assert dev.read_counters()["synops"] == results["rtlsim"].counters["synops"]
    with BoardModel() as board, open_device(f"serial://{board.path}", progress=False) as dev:
        dev.load(image)
        results["serial"] = dev.run(inputs, steps)
    ref = run_reference(image, inputs, steps)
    assert ref.spikes["y"].sum() > 0
    for name, r in results.items():
        assert r.same_behaviour(ref), name
        assert np.array_equal(r.spikes["y"], ref.spikes["y"]), name
    assert results["rtlsim"].counters["synops"] == ref.counters["synops"]
    assert results["rtlsim"].backend == "rtl-icarus"


@pytest.mark.slow
def test_rtlsim_reads_learned_weights_back_like_emu() -> None:
    """A plastic image on ecp5-85k (the parallel cores carry the learning engine): rtlsim://
    reads back the weights the RTL learned, equal to emu://'s; then, on the same simulator, an
    R-STDP image whose reward input spikes at random steps."""
    import sys
    from pathlib import Path

    import spikefab as sf
    _need("icarus")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "arch" / "learning"))
    from plastic_nets import small_stdp_net
    from test_learning_reward import inputs, rstdp_net
    rimage = sf.compile(rstdp_net(1, reward_channels=6), "ecp5-85k")
    rx = inputs(rimage, 15, 1)
    with open_device("emu://?weight_every=5") as dev:
        dev.load(rimage)
        remu = dev.run(rx, 15)
    image = sf.compile(small_stdp_net(), "ecp5-85k")
    spikes = (np.random.default_rng(7).random((24, 4)) < 0.5).astype(np.uint8)
    with open_device("emu://") as dev:
        dev.load(image)
        emu = dev.run({"x": spikes}, 24)
    with open_device("emu://?weight_every=5") as dev:
        dev.load(image)
        emu_snaps = dev.run({"x": spikes}, 24).weight_snapshots["x->p"]
    with open_device("rtlsim://?simulator=icarus&weight_every=5") as dev:
        dev.load(image)
        rtl = dev.run({"x": spikes}, 24)
        learned = dev.read_weights()
        dev.load(rimage)
        rrtl = dev.run(rx, 15)
        rlearned = dev.read_weights()
    assert not np.array_equal(emu.weights["x->p"], np.full((3, 4), 60))      # it learned
    np.testing.assert_array_equal(learned["x->p"], emu.weights["x->p"])
    np.testing.assert_array_equal(rtl.weights["x->p"], emu.weights["x->p"])
    assert rtl.same_behaviour(emu)
    # snapshots after steps 5, 10, 15, 20, taken by stopping the fabric there, equal emu's
    assert emu_snaps.shape[0] == 4 and len({s.tobytes() for s in emu_snaps}) > 1
    np.testing.assert_array_equal(rtl.weight_snapshots["x->p"], emu_snaps)
    # R-STDP: the weights move only through the reward trace; rtlsim:// learns them as emu://
    assert len({s.tobytes() for s in remu.weight_snapshots["x->p"]}) > 1
    np.testing.assert_array_equal(rlearned["x->p"], remu.weights["x->p"])
    np.testing.assert_array_equal(rrtl.weight_snapshots["x->p"], remu.weight_snapshots["x->p"])
    assert rrtl.same_behaviour(remu)
