"""``spikefab demo``: the command runs examples/digits.py and says where the report went."""

import json

from spikefab.cli import main
from spikefab.demo import example_path


def test_demo_example_is_found_in_the_checkout():
    assert example_path("digits").is_file()


def test_quick_demo_on_one_target(tmp_path, capsys):
    assert main(["demo", "--quick", "--targets", "ice40-up5k", "--quiet", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "ice40-up5k" in out and "float SNN accuracy" in out
    assert f"{tmp_path / 'report'}" in out
    summary = json.loads((tmp_path / "digits.json").read_text())
    assert summary["test_samples"] == 90
    assert summary["targets"]["ice40-up5k"]["cycle_checked"] == 5
