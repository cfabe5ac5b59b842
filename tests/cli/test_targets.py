"""``spikefab targets``, ``--version`` and the generated ``docs/targets.md``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from spikefab import __version__
from spikefab.arch.target import load_target, target_names
from spikefab.cli import main
from spikefab.commands.targets import targets_markdown

ROOT = Path(__file__).resolve().parents[2]
FIVE = ["darwin3", "darwinwafer", "ecp5-85k", "ice40-up5k", "loihi1"]


def test_targets_lists_the_five_profiles(capsys):
    assert main(["targets"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["target", "chiplets"]
    names = [line.split()[0] for line in lines[2:]]
    assert names == FIVE
    for name in FIVE:
        t = load_target(name)
        row = next(line for line in lines if line.startswith(name + " "))
        assert f"{t.topology.cores:,}" in row and t.description in row


def test_targets_show_prints_values_and_sources(capsys):
    assert main(["targets", "show", "darwin3"]) == 0
    out = capsys.readouterr().out
    t = load_target("darwin3")
    assert out.startswith("darwin3: Zhejiang Darwin3")
    for section, key, value, source in t.rows():
        line = next(x for x in out.splitlines() if x.startswith(f"{section}.{key} "))
        assert line.split()[1] == (f"{value:g}" if isinstance(value, float) else str(value))
        assert line.endswith(source)
    assert "5.47" in out and "Ma et al. NSR 2024: measured average 5.47 pJ/SOP" in out


def test_targets_show_unknown_is_one_error_line(capsys):
    assert main(["targets", "show", "nope"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("error: target must be one of darwin3, darwinwafer, ecp5-85k, "
                            "ice40-up5k, loihi1, not 'nope'\n")


def test_targets_show_without_name(capsys):
    assert main(["targets", "show"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: 'targets show' needs a NAME") and err.count("\n") == 1


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"spikefab {__version__}"


def test_installed_command_runs():
    """The console script (or ``python -m spikefab.cli``) as a user runs it."""
    exe = Path(sys.executable).with_name("spikefab")
    cmd = [str(exe)] if exe.is_file() else [sys.executable, "-m", "spikefab.cli"]
    ok = subprocess.run(cmd + ["targets", "show", "loihi1"], capture_output=True, text=True,
                        timeout=120)
    assert ok.returncode == 0 and ok.stdout.startswith("loihi1: Intel Loihi 1")
    bad = subprocess.run(cmd + ["targets", "show", "nope"], capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("error: ") and bad.stderr.count("\n") == 1
    assert "Traceback" not in bad.stderr


def test_docs_targets_md_is_generated_and_current():
    """docs/targets.md must equal the generator's output: regenerate it with
    ``spikefab targets --markdown > docs/targets.md`` after changing a profile."""
    doc = (ROOT / "docs" / "targets.md").read_text()
    assert doc == targets_markdown(), (
        "docs/targets.md is stale: run `spikefab targets --markdown > docs/targets.md`")


def test_docs_targets_md_holds_every_number_and_source():
    text = targets_markdown()
    for name in target_names():
        t = load_target(name)
        section = text.split(f"## `{name}`")[1].split("\n## ")[0]
        for sec, key, value, source in t.rows():
            row = next(x for x in section.splitlines() if x.startswith(f"| `{sec}.{key}` |"))
            cells = [c.strip() for c in row.strip("|").split(" | ")]
            assert cells[1] == (format(value, ".10g") if isinstance(value, float) else str(value))
            assert cells[2] == source.replace("|", "\\|")


def test_markdown_flag_prints_the_doc(capsys):
    assert main(["targets", "--markdown"]) == 0
    assert capsys.readouterr().out == targets_markdown()
