"""The Router's cocotb bench on Icarus and Verilator (scoreboard: the cycle model)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from spikefab.rtl.params import mesh_params
from spikefab.rtl.router import Router
from spikefab.rtl.sim.driver import TIMESCALE, _Env, _tool_env, icarus_safe, simulator_problem

pytestmark = pytest.mark.rtl
HERE = Path(__file__).resolve().parent


def _params():
    p = mesh_params("ice40-up5k")
    return dataclasses.replace(p, mesh_x=3, mesh_y=3, cores_per_router=2, x_bits=2, y_bits=2,
                               slot_bits=1)


@pytest.mark.parametrize("simulator", ["icarus", pytest.param("verilator", marks=pytest.mark.slow)])
def test_router_cocotb_bench(simulator: str, tmp_path) -> None:
    problem = simulator_problem(simulator)
    if problem:
        pytest.skip(f"{simulator}: {problem}")
    from amaranth.back import verilog
    from cocotb_tools.runner import get_results, get_runner

    p = _params()
    src = tmp_path / "router.v"
    text = verilog.convert(Router(p, 1, 1), name="router", emit_src=False)
    src.write_text(icarus_safe(text) if simulator == "icarus" else text)
    cfg = {"params": {"ports": p.ports, "fifo_depth": p.fifo_depth, "axon_bits": p.axon_bits,
                      "slot_bits": p.slot_bits, "x_bits": p.x_bits, "y_bits": p.y_bits,
                      "mesh_x": p.mesh_x, "mesh_y": p.mesh_y,
                      "cores_per_router": p.cores_per_router},
           "gx": 1, "gy": 1, "seed": 7, "cycles": 400}
    runner = get_runner(simulator)
    args = ["-Wno-fatal"] if simulator == "verilator" else []
    with _Env(_tool_env(tmp_path, simulator)):
        try:
            runner.build(sources=[src], hdl_toplevel="router", build_dir=tmp_path, always=True,
                         timescale=TIMESCALE, build_args=args, log_file=tmp_path / "build.log")
        except (RuntimeError, SystemExit) as exc:
            if simulator != "verilator":
                raise
            pytest.skip(f"verilator cannot build the router here: {exc}")
        xml = runner.test(hdl_toplevel="router", test_module="cocotb_router", build_dir=tmp_path,
                          test_dir=HERE, timescale=TIMESCALE,
                          extra_env={"SPIKEFAB_ROUTER_BENCH": json.dumps(cfg),
                                     "PYTHONPATH": str(HERE)},
                          log_file=tmp_path / "test.log")
    n_tests, n_failed = get_results(xml)
    log = (tmp_path / "test.log").read_text(errors="replace")
    assert n_tests == 1 and n_failed == 0, log[-3000:]
