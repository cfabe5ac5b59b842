"""``spikefab demo``: the command runs examples/digits.py and says where the report went."""

import json

import pytest

from spikefab.cli import main
from spikefab.demo import example_names, example_path, load_example
from spikefab.errors import ToolError


def test_demo_example_is_the_installed_spikefab_examples_module():
    assert example_path("digits").is_file()
    assert {"digits", "hello_builder"} <= set(example_names())
    assert load_example("digits").__name__ == "spikefab.examples.digits"


@pytest.mark.parametrize("name", ["no_such_example", "../digits"])
def test_unknown_example_is_a_typed_error(name):
    with pytest.raises(ToolError, match=r"example must be one of digits, "):
        example_path(name)


def test_quick_demo_on_one_target(tmp_path, capsys):
    assert main(["demo", "--quick", "--targets", "ice40-up5k", "--quiet", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "ice40-up5k" in out and "float SNN accuracy" in out
    assert f"{tmp_path / 'report'}" in out
    summary = json.loads((tmp_path / "digits.json").read_text())
    assert summary["test_samples"] == 90
    assert summary["targets"]["ice40-up5k"]["cycle_checked"] == 5
