"""``spikefab run`` and ``spikefab estimate`` end to end through the CLI entry point."""

from __future__ import annotations

import numpy as np
import pytest

from emu_images import random_image, random_inputs
from spikefab.arch.target import load_target
from spikefab.cli import main
from spikefab.emulator import simulate


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(21)
    image = random_image(rng, load_target("darwin3"), max_cores=4)
    inputs = random_inputs(rng, image, 9, p=0.6)
    img = image.save(tmp_path / "net.sfi")
    np.savez(tmp_path / "in.npz", **inputs)
    return image, inputs, img, tmp_path / "in.npz"


def test_run_writes_out_npz(files, tmp_path, capsys):
    image, inputs, img, inp = files
    out = tmp_path / "out.npz"
    assert main(["run", str(img), "--input", str(inp), "--steps", "9", "--mode", "cycle",
                 "--probe", "all.v", "-o", str(out)]) == 0
    want = simulate(image, inputs, 9, "cycle", probes=["all.v"])
    with np.load(out) as d:
        np.testing.assert_array_equal(d["out"], want.spikes["out"])
        np.testing.assert_array_equal(d["cycles_per_step"], want.cycles_per_step)
        np.testing.assert_array_equal(d["trace:all.v"], want.traces["all.v"])
    assert "cycles/step" in capsys.readouterr().out


def test_estimate_prints_the_table(files, capsys):
    image, inputs, img, inp = files
    assert main(["estimate", str(img), "--input", str(inp), "--steps", "9"]) == 0
    text = capsys.readouterr().out
    want = simulate(image, inputs, 9, "cycle")
    cps = want.cycles_per_step
    assert f"{cps.min()} / {np.median(cps):g} / {cps.max()}" in text
    for label in ("us/step", "energy per step", "energy per inference", "effective pJ/SOP",
                  "busiest links"):
        assert label in text
    if want.counters["links"]:
        gx, gy, port, n = want.counters["links"][0]
        assert f"({gx}, {gy}) {port:<3} {n:,}" in text


def test_bad_inputs_exit_2(files, tmp_path, capsys):
    image, inputs, img, inp = files
    bad = tmp_path / "bad.npz"
    np.savez(bad, **{"in": np.zeros((3, image.inputs["in"]["size"] + 2), np.uint8)})
    assert main(["run", str(img), "--input", str(bad), "--steps", "3"]) == 2
    assert "must have shape" in capsys.readouterr().err
    assert main(["run", str(img), "--input", str(tmp_path / "none.npz"), "--steps", "3"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["run", str(img), "--steps", "3", "--probe", "ghost.v"]) == 2
    assert "ghost" in capsys.readouterr().err
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    assert main(["estimate", str(img), "--input", str(tmp_path / "junk.npz"), "--steps", "3"]) == 2
    assert "must be an .npz" in capsys.readouterr().err


def test_estimate_also_recompiles_for_other_targets(tmp_path, capsys):
    compiler = pytest.importorskip("spikefab.compiler")
    from emu_images import SHARED
    model = SHARED / "fixtures" / "nir-paper" / "braille_noDelay_bias_zero.nir"
    if not model.is_file():
        pytest.skip(f"{model} is not beside this checkout")
    image = compiler.compile(compiler.load_model(str(model)), target="darwin3", dt=1e-4)
    img = image.save(tmp_path / "b.sfi")
    rng = np.random.default_rng(3)
    np.savez(tmp_path / "in.npz", input=(rng.random((20, 12)) < 0.3).astype(np.uint8))
    assert main(["estimate", str(img), "--input", str(tmp_path / "in.npz"), "--steps", "20",
                 "--model", str(model), "--also", "loihi1,nowhere"]) == 0
    text = capsys.readouterr().out
    rows = text.split("other targets")[1].splitlines()
    assert any(r.startswith("darwin3 ") for r in rows)
    assert any(r.startswith("loihi1 ") and "not available" not in r for r in rows)
    assert any(r.startswith("nowhere") and "not available" in r for r in rows)
    assert main(["estimate", str(img), "--steps", "3", "--also", "loihi1"]) == 2
    assert "--also needs --model" in capsys.readouterr().err
