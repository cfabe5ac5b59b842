"""Compiled networks (the compiler wing) through both engines: equal to the golden reference."""

from __future__ import annotations

import numpy as np
import pytest

from emu_images import SHARED
from spikefab.arch.reference import run_reference
from spikefab.emulator import simulate

NIR = SHARED / "fixtures" / "nir-paper"


@pytest.mark.parametrize("model", ["braille_noDelay_bias_zero.nir",
                                   "braille_noDelay_noBias_subtract.nir"])
@pytest.mark.parametrize("target", ["loihi1", "darwin3"])
def test_compiled_braille_nets(model, target):
    compiler = pytest.importorskip("spikefab.compiler")
    path = NIR / model
    if not path.is_file():
        pytest.skip(f"{path} is not beside this checkout")
    image = compiler.compile(compiler.load_model(str(path)), target=target, dt=1e-4)
    rng = np.random.default_rng(7)
    inputs = {k: (rng.random((60, int(v["size"]))) < 0.3).astype(np.uint8)
              for k, v in image.inputs.items()}
    pops = sorted(image.populations)
    probes = [f"{p}.v" for p in pops]
    ref = run_reference(image, inputs, 60, probes=probes)
    assert ref.counters["spikes"] > 0
    for mode in ("functional", "cycle"):
        res = simulate(image, inputs, 60, mode, probes=probes)
        assert res.same_behaviour(ref), mode
        for p in probes:
            np.testing.assert_array_equal(res.traces[p], ref.traces[p])
        assert res.counters["synops"] == ref.counters["synops"]
