"""Smoke test of the emulator benchmarks at tiny sizes (numbers are not asserted, shapes are)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "emulator_throughput.py"


def test_throughput_benchmark_runs_quick(tmp_path):
    spec = importlib.util.spec_from_file_location("emulator_throughput", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.main(["--quick", "--json", str(tmp_path / "b.json")])
    assert out["functional"]["synops"] > 0 and out["functional"]["events_per_s"] > 0
    assert out["overhead"]["us_per_step"] > 0
    assert out["cycle_image"]["cycles"] > 0
    assert 0 < out["noc_0.02"]["accepted"] < 0.05
    assert (tmp_path / "b.json").is_file()
