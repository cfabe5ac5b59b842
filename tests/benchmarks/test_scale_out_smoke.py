"""Smoke test of benchmarks/scale_out.py at tiny size: it runs, and the ranks agree with one process.

Asserts structure and the identity check, never wall-clock values (DESIGN.md section 6).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MPIRUN = Path(sys.executable).parent / "mpirun"

pytestmark = [pytest.mark.mpi,
              pytest.mark.skipif(not MPIRUN.exists(), reason="no mpirun next to the venv's python")]


def test_quick_scale_out_benchmark(tmp_path):
    out = tmp_path / "scale.json"
    env = dict(os.environ, PATH=f"{MPIRUN.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "scale_out.py"), "--quick",
                           "--ranks", "1", "2", "--json", str(out)], capture_output=True,
                          text=True, timeout=300, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert [r["ranks"] for r in report["mpi"]] == [1, 2]
    assert all(r["identical"] for r in report["mpi"])
    two = report["mpi"][1]["per_rank"]
    assert sum(r["neurons"] for r in two) == report["neurons"]
    assert sum(r["bytes_sent"] for r in two) > 0
    assert all(r["peak_mib"] > 0 and r["compute_s"] >= 0 for r in two)
    split = report["mpi"][1]["split"]
    for phase in ("startup", "load", "compute", "exchange", "barrier", "gather", "exit"):
        assert split[phase] >= 0, phase
    assert set(report["mpi"][1]["speedup"]) >= {"wall", "run_wall", "run_cpu"}
