"""examples/snntorch_digits.py, small: trained in a framework venv, run here on two targets."""

from __future__ import annotations

import json

import pytest

from spikefab.demo import load_example


@pytest.mark.frameworks
def test_small_run_agrees_with_the_framework(tmp_path, capsys):
    ex = load_example("snntorch_digits")
    if ex.default_fw_python() is None:
        pytest.skip("no framework venv with snnTorch (.venv-fw106 / .venv-fw104): make frameworks")
    assert ex.main(["--epochs", "1", "--hidden", "24", "--steps", "8", "--test-samples", "40",
                    "--work", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "snntorch_digits.json").read_text())
    assert res["float_equals_framework"]                  # NIR states snnTorch's zero reset
    assert res["float"] == res["framework"] > 0.3         # trained: well above chance (0.1)
    assert set(res["targets"]) == {"loihi1", "ice40-up5k"}
    for r in res["targets"].values():
        assert r["count_correlation"] >= 0.9
        assert abs(r["accuracy"] - res["framework"]) <= 0.15
    out = capsys.readouterr().out
    assert "framework accuracy" in out and "ice40-up5k   fixed point" in out
