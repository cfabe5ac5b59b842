"""``spikefab rtl sim``: runs an image file on Icarus and writes the run's out.npz layout."""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.arch.reference import run_reference
from spikefab.cli import main

from .netgen import random_image

pytestmark = pytest.mark.rtl


def test_rtl_sim_writes_reference_spikes(icarus_sim, tmp_path, capsys) -> None:
    image, inputs = random_image(42, steps=8)
    path = image.save(tmp_path / "net.sfi")
    np.savez(tmp_path / "in.npz", **inputs)
    cache = icarus_sim.build_dir.parent          # reuse the session's build
    rc = main(["rtl", "sim", str(path), "--input", str(tmp_path / "in.npz"), "--steps", "8",
               "--cache", str(cache), "-o", str(tmp_path / "out.npz")])
    assert rc == 0
    assert "rtl sim (icarus): 8 steps" in capsys.readouterr().out
    ref = run_reference(image, inputs, 8)
    with np.load(tmp_path / "out.npz") as out:
        assert np.array_equal(out["out"], ref.spikes["out"])
        assert out["cycles_per_step"].shape == (8,)


def test_rtl_sim_refuses_image_of_another_target(tmp_path, capsys) -> None:
    image, _ = random_image(43)
    image.target = "ecp5-85k"
    path = image.save(tmp_path / "net.sfi")
    rc = main(["rtl", "sim", str(path), "--steps", "4", "--target", "ice40-up5k",
               "--cache", str(tmp_path / "cache")])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("error: image is for target 'ecp5-85k', not 'ice40-up5k'")
    assert not (tmp_path / "cache").exists()      # refused before anything was built


def test_rtl_sim_unknown_simulator_is_an_argparse_error(tmp_path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["rtl", "sim", "x.sfi", "--steps", "1", "--simulator", "modelsim"])
    assert exc.value.code == 2
