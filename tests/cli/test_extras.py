"""The command line without the ``rtl`` extra: the parser imports none of it, and the commands
that need it stop with a typed error naming ``pip install "spikefab[rtl]"`` (exit 2).

The extra is installed in the test venv, so "not installed" is simulated by making its modules
unimportable (``sys.modules[name] = None``); tests/packaging/test_wheel.py checks the same on a
real install without the extra.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from spikefab.cli import main
from spikefab.errors import MissingExtraError, ToolError
from spikefab.extras import EXTRAS, missing_extra_error, require

HINT = 'pip install "spikefab[rtl]"'


@pytest.fixture
def no_rtl(monkeypatch):
    """Every module of the rtl extra raises ImportError when imported."""
    for name in EXTRAS["rtl"]:
        monkeypatch.setitem(sys.modules, name, None)


def test_building_the_parser_imports_no_extra():
    code = ("import sys\nfrom spikefab.cli import build_parser\nbuild_parser()\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {EXTRAS['rtl']!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("argv, feature", [
    (["rtl", "verilog", "--target", "ice40-up5k", "-o", "{tmp}/v"], "spikefab rtl verilog"),
    (["rtl", "sim", "{tmp}/x.sfi", "--steps", "3"], "spikefab rtl sim"),
    (["rtl", "build", "--board", "icebreaker", "-o", "{tmp}/b"], "spikefab rtl build"),
    (["board", "--pty"], "spikefab board"),
])
def test_commands_needing_the_extra_name_it(no_rtl, tmp_path, capsys, argv, feature):
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {feature} needs the 'rtl' extra") and HINT in err
    assert "Traceback" not in err


def test_rtlsim_device_needs_the_extra(no_rtl):
    from spikefab.runtime import open_device

    with pytest.raises(MissingExtraError, match=r"device 'rtlsim://' needs the 'rtl' extra"):
        open_device("rtlsim://")


def test_core_commands_work_without_the_extra(no_rtl, capsys):
    assert main(["targets"]) == 0
    assert "ice40-up5k" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["rtl", "build", "--help"])           # the board list needs no Amaranth either
    assert exc.value.code == 0
    assert "icebreaker" in capsys.readouterr().out


def test_require_names_the_first_missing_module(no_rtl):
    with pytest.raises(MissingExtraError) as exc:
        require("feature X", ("numpy", "cocotb"))
    assert isinstance(exc.value, ToolError)
    assert (exc.value.extra, exc.value.module, exc.value.where) == ("rtl", "cocotb", "feature X")
    require("feature Y", ("numpy",))                  # present: no error


def test_stray_import_of_an_extra_module_becomes_the_typed_error(monkeypatch, capsys):
    import spikefab.commands.targets as targets

    def needs_cocotb(args):
        raise ModuleNotFoundError("No module named 'cocotb_tools'", name="cocotb_tools")

    monkeypatch.setattr(targets, "run", needs_cocotb)
    assert main(["targets"]) == 2
    err = capsys.readouterr().err
    assert "spikefab targets needs the 'rtl' extra" in err and "'cocotb_tools'" in err


def test_other_import_errors_are_not_disguised():
    assert missing_extra_error(ModuleNotFoundError("x", name="numpy"), "f") is None
    assert missing_extra_error(ImportError("cannot import name"), "f") is None
