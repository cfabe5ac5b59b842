"""``spikefab rtl verilog``: Verilog of the SoC and of the bare fabric."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from spikefab.cli import main


@pytest.mark.slow
def test_rtl_verilog_writes_soc_and_mesh(tmp_path: Path, capsys) -> None:
    assert main(["rtl", "verilog", "--target", "ice40-up5k", "-o", str(tmp_path)]) == 0
    soc = (tmp_path / "spikefab_soc.v").read_text()
    mesh = (tmp_path / "spikefab_mesh.v").read_text()
    header = re.search(r"module spikefab_soc\(([^)]*)\)", soc).group(1)
    assert {p.strip() for p in header.split(",")} == {"clk", "rst", "rx", "tx", "busy",
                                                      "link_error"}
    for port in ("mem_core", "mem_wdata", "mem_rdata", "run_steps", "start", "busy", "clear"):
        assert re.search(rf"module spikefab_mesh\([^)]*\b{port}\b", mesh)
    out = capsys.readouterr().out
    assert "spikefab_soc.v (soc)" in out and "spikefab_mesh.v (mesh)" in out


def test_rtl_verilog_refuses_an_impossible_baud(tmp_path: Path, capsys) -> None:
    assert main(["rtl", "verilog", "--target", "ice40-up5k", "--baud", "5000000",
                 "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "error: target ice40-up5k: --baud 5000000 at 12.0 MHz" in err
    assert "divisor must be >= 4, not 2" in err
