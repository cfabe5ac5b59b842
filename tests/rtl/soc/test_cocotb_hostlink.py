"""Runs the cocotb UART + HostInterface bench (soc_cocotb_hostlink.py) on Icarus and Verilator."""


import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from amaranth.back import verilog
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from spikefab.rtl.host_interface import ENTRY_BITS, HostInterface
from spikefab.rtl.params import mesh_params
from spikefab.rtl.soc import CONTROL_IN, CONTROL_OUT
from spikefab.rtl.uart import UART

pytestmark = pytest.mark.rtl
HERE = Path(__file__).resolve().parent
DIVISOR = 4
TARGET = "ecp5-85k"          # four cores: the core-address checks see more than one core


class HostLink(wiring.Component):
    """UART + HostInterface with the fabric port on the toplevel (the bench plays the fabric)."""

    rx: In(1, init=1)
    tx: Out(1, init=1)
    mem_core: Out(8)
    mem_table: Out(5)            # mesh_params(TARGET).table_bits (learning engines)
    mem_index: Out(16)
    mem_wdata: Out(ENTRY_BITS)
    mem_we: Out(1)
    mem_re: Out(1)
    mem_rdata: In(ENTRY_BITS)
    mem_rvalid: In(1)
    run_steps: Out(16)
    start: Out(1)
    clear: Out(1)
    busy: In(1)

    def elaborate(self, platform):
        m = Module()
        m.submodules.uart = uart = UART(DIVISOR)
        m.submodules.host = host = HostInterface(mesh_params(TARGET))
        m.d.comb += [uart.rx.eq(self.rx), self.tx.eq(uart.tx)]
        wiring.connect(m, uart.rx_data, host.rx_data)
        wiring.connect(m, host.tx_data, uart.tx_data)
        for name in CONTROL_IN:
            m.d.comb += getattr(self, name).eq(getattr(host, name))
        for name in CONTROL_OUT:
            m.d.comb += getattr(host, name).eq(getattr(self, name))
        return m


_TRIGGER = re.compile(r"^(\s*)reg (\\\$auto\$verilog_backend\S+)\s*= 0;", re.M)


def kick_time_zero(text: str) -> str:
    """Make Icarus evaluate every ``always @*`` block once at the start.

    Yosys gives each module a ``reg trigger = 0`` read by every ``always @*`` so that the X -> 0
    change at time 0 runs them; Icarus may apply that initial value before the blocks wait on
    it (a time-0 race, amaranth-lang/amaranth#594), leaving outputs that depend only on an FSM's
    reset state at X.  Toggling the trigger at 1 ps runs them all.
    """
    return _TRIGGER.sub(lambda m: f"{m.group(0)}\n{m.group(1)}initial #1 {m.group(2)} = 1;",
                        text)


@pytest.fixture(scope="module")
def hostlink_v() -> str:
    return verilog.convert(HostLink(), name="hostlink", emit_src=False)


@pytest.mark.parametrize("simulator", ["icarus", pytest.param("verilator",
                                                                marks=pytest.mark.slow)])
def test_hostlink_cocotb(simulator: str, hostlink_v: str, tmp_path: Path) -> None:
    from cocotb_tools.runner import get_results, get_runner

    venv_bin = str(Path(sys.executable).parent)
    os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")
    tool = "iverilog" if simulator == "icarus" else "verilator"
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")
    source = tmp_path / "hostlink.v"
    source.write_text(kick_time_zero(hostlink_v) if simulator == "icarus" else hostlink_v)
    runner = get_runner(simulator)
    build_args = ["-Wno-fatal", "-Wno-lint", "-Wno-style"] if simulator == "verilator" else []
    runner.build(sources=[source], hdl_toplevel="hostlink", build_dir=tmp_path / "build",
                 always=True, timescale=("1ns", "1ps"), build_args=build_args)
    results = runner.test(hdl_toplevel="hostlink", test_module="soc_cocotb_hostlink",
                          test_dir=tmp_path, build_dir=tmp_path / "build",
                          results_xml=str(tmp_path / "results.xml"), timescale=("1ns", "1ps"),
                          extra_env={"HOSTLINK_DIVISOR": str(DIVISOR), "HOSTLINK_TARGET": TARGET,
                                     "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])})
    n_tests, n_failed = get_results(results)
    assert (n_tests, n_failed) == (1, 0)
