"""FPGA flow: nextpnr log parsing, programmer errors, and (slow) a real iCEBreaker build."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from spikefab.cli import main
from spikefab.errors import LinkError, TargetError, ToolError
from spikefab.rtl.boards import get_board
from spikefab.rtl.params import mesh_params
from spikefab.rtl.boards.fabric import board_fabric
from spikefab.rtl.build import (BuildReport, build_board, parse_nextpnr_log, program_board,
                                  yosys_cell_count)

LOG = """
Info: Device utilisation:
Info: 	         ICESTORM_LC:    900/  5280    17%
Info: 	        ICESTORM_RAM:      3/    30    10%
Info: 	      ICESTORM_SPRAM:      1/     4    25%

Info: Max frequency for clock 'cd_sync_clk12_0__io': 41.20 MHz (PASS at 12.00 MHz)
Info: Device utilisation:
Info: 	         ICESTORM_LC:   1000/  5280    18%
Info: 	        ICESTORM_RAM:      4/    30    13%
Info: 	      ICESTORM_SPRAM:      2/     4    50%

Info: Max frequency for clock 'cd_sync_clk12_0__io': 38.50 MHz (PASS at 12.00 MHz)
"""


def test_parse_nextpnr_log_takes_final_figures() -> None:
    util, fmax, clock = parse_nextpnr_log(LOG)
    assert util["ICESTORM_LC"] == (1000, 5280)
    assert util["ICESTORM_SPRAM"] == (2, 4)
    assert (fmax, clock) == (38.5, 12.0)
    assert get_board("icebreaker").summary(util) == {"luts": 1000, "ffs": 0, "brams": 4,
                                                      "sprams": 2, "dsps": 0}


def test_yosys_cell_count_uses_last_statistics() -> None:
    log = ("2.1. Printing statistics.\n      7   SB_DFF\n"
           "2.50. Printing statistics.\n   === top ===\n     10   SB_DFF\n      5   SB_DFFESR\n"
           "     99   SB_LUT4\n   === design hierarchy ===\n     12   SB_DFF\n      5   SB_DFFESR\n")
    assert yosys_cell_count(log, "SB_DFF") == 17
    with pytest.raises(ToolError, match="Max frequency"):
        parse_nextpnr_log("Info: nothing placed\n")


def test_unknown_board() -> None:
    with pytest.raises(TargetError, match="board must be one of icebreaker, ulx3s, not 'arty'"):
        get_board("arty")


def _fake_tool(tmp_path: Path, name: str, code: int, message: str) -> Path:
    path = tmp_path / name
    path.write_text(f"#!/bin/sh\necho '{message}' >&2\nexit {code}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_program_without_programmer_is_a_tool_error(tmp_path: Path, monkeypatch) -> None:
    bit = tmp_path / "spikefab.bin"
    bit.write_bytes(b"\0" * 16)
    monkeypatch.setenv("ICEPROG", str(tmp_path / "no-such-iceprog"))
    with pytest.raises(ToolError, match="programmer .*no-such-iceprog.* must be on PATH"):
        program_board("icebreaker", bit)


def test_program_without_board_is_a_link_error(tmp_path: Path, monkeypatch) -> None:
    bit = tmp_path / "spikefab.bit"
    bit.write_bytes(b"\0" * 16)
    tool = _fake_tool(tmp_path, "openFPGALoader", 1, "unable to open ftdi device: -3")
    monkeypatch.setenv("OPENFPGALOADER", str(tool))
    with pytest.raises(LinkError, match="ulx3s board must be attached.*unable to open ftdi"):
        program_board("ulx3s", bit)


def test_program_passes_board_arguments(tmp_path: Path, monkeypatch) -> None:
    bit = tmp_path / "spikefab.bit"
    bit.write_bytes(b"\0" * 16)
    record = tmp_path / "args.txt"
    tool = tmp_path / "openFPGALoader"
    tool.write_text(f"#!/bin/sh\necho \"$@\" > {record}\n")
    tool.chmod(0o755)
    monkeypatch.setenv("OPENFPGALOADER", str(tool))
    program_board("ulx3s", bit)
    assert record.read_text().split() == ["-b", "ulx3s", "-m", str(bit)]


def test_ulx3s_bitstream_is_a_static_build() -> None:
    """ecp5-85k's cores carry learning engines, but with them the ULX3S SoC places at 18.9 MHz
    against its 25 MHz clock (docs/fpga.md): the board's bitstream leaves them out, and says so."""
    assert mesh_params("ecp5-85k").learning is not None        # simulation keeps the engines
    built = board_fabric("ulx3s")
    assert built.params.learning is None
    assert built.params == mesh_params("ecp5-85k", learning=None)
    assert built.learning == ("learning engines: not in this bitstream "
                              "(18.9 MHz < 25 MHz, docs/fpga.md)")
    assert board_fabric("ulx3s", "ecp5-85k").params.learning is None
    ice = board_fabric("icebreaker")
    assert ice.params == mesh_params("ice40-up5k") and ice.params.learning is None
    assert "none (target ice40-up5k has no learning engine)" in ice.learning
    report = BuildReport(board="ulx3s", device="x", bitstream="b", clock_mhz=25, fmax_mhz=50,
                         learning=built.learning)
    assert report.summary().splitlines()[-1] == "  " + built.learning


def test_ulx3s_refuses_learning_engines_that_miss_timing() -> None:
    with pytest.raises(TargetError, match=r"must meet the 25 MHz board clock, but they reach "
                                          r"18.9 MHz .*learning=None"):
        board_fabric("ulx3s", mesh_params("ecp5-85k"))


def test_cli_build_checks_the_image_against_the_static_fabric(tmp_path: Path, capsys) -> None:
    import spikefab as sf
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "arch" / "learning"))
    from plastic_nets import small_stdp_net

    image = sf.compile(small_stdp_net(), "ecp5-85k").save(tmp_path / "stdp.sfi")
    code = main(["rtl", "build", "--board", "ulx3s", str(image), "-o", str(tmp_path / "b")])
    assert code == 2
    err = capsys.readouterr().err
    assert "core/0 has plastic synapses and needs a learning engine" in err
    assert "static build" in err
    assert not (tmp_path / "b").exists()                  # refused before building


def test_cli_build_rejects_bad_baud(tmp_path: Path, capsys) -> None:
    code = main(["rtl", "build", "--board", "icebreaker", "--baud", "7000000",
                 "-o", str(tmp_path)])
    assert code == 2
    assert "divisor must be >= 4" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.rtl
def test_icebreaker_bitstream(tmp_path: Path) -> None:
    """A full YoWASP build (synthesis, place and route, pack) of the shipped iCEBreaker SoC.

    UART + HostInterface + the ``ice40-up5k`` fabric (one serial core: 1,024 neurons, its RAMs
    in the UP5K's four SPRAMs, the neuron datapath's multipliers in DSP blocks) must fit the
    5,280 logic cells and meet the 12 MHz board clock.
    """
    report = build_board("icebreaker", tmp_path)
    assert Path(report.bitstream).exists() and Path(report.bitstream).stat().st_size > 100_000
    assert report.timing_met, report.summary()
    assert 0 < report.luts <= 5280 and 0 < report.ffs <= report.luts
    assert report.sprams == 4 and 0 < report.brams <= 30 and 0 < report.dsps <= 8
    assert (tmp_path / "report.json").exists()


@pytest.mark.slow
@pytest.mark.rtl
def test_ulx3s_bitstream(tmp_path: Path) -> None:
    """The ULX3S SoC (UART + HostInterface + the ``ecp5-85k`` 2 x 2 parallel mesh) as the
    board builds it by default: without the cores' learning engines (a static build).

    About six minutes on a 2-core machine (plus the first ECP5 JIT); it must fit the ECP5-85F
    and meet the 25 MHz board clock.  The build with the four learning engines (about 3.5x the
    LUTs, docs/fpga.md) fails timing (18.9 MHz) and is no option of ``build_board``.
    """
    report = build_board("ulx3s", tmp_path)
    assert "not in this bitstream" in report.learning
    assert Path(report.bitstream).exists() and Path(report.bitstream).stat().st_size > 100_000
    assert report.timing_met, report.summary()
    assert 0 < report.luts <= 83640 and 0 < report.ffs <= 83640
    assert 0 < report.brams <= 208 and 0 < report.dsps <= 156
