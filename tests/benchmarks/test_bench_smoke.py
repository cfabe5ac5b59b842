"""Smoke test of the benchmark harness: tiny sizes, our side only, doc regenerated into tmp.

``make bench`` is too long for the test suite; this runs the same harness
(``benchmarks/run_all.py --quick --no-peers``) so that neither the section runners (which call
the other wings' benchmark scripts) nor the doc generator can rot.  It asserts structure and that
numbers parse, never wall-clock values.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "benchmarks" / "run_all.py"

SECTIONS = ["machine", "sanafe", "cuba", "dense", "noc", "emulator", "compiler", "placement",
            "rtl", "runtime", "profile", "learning", "wafer"]
HEADINGS = ["## Machine", "## Targets", "## 1. Against SANA-FE", "## 2. Emulator throughput",
            "## 3. Bit-accurate Dense", "## 4. NoC speed and accuracy", "## 5. Compiler scaling",
            "## 6. RTL simulation speed", "## 7. Serial deployment",
            "## 8. Emulator at wafer scale and with learning",
            "## Profiles of missed targets", "## How to reproduce"]
NUMBER = re.compile(r"^-?\d+(\.\d+)?(e-?\d+)?$")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run([sys.executable, str(HARNESS), "--quick", "--no-peers", "--out",
                           str(out)], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def _table(doc: str, heading: str) -> list[list[str]]:
    body = doc.split(heading, 1)[1]
    block = []
    for ln in body.splitlines():
        if ln.startswith("|"):
            block.append([c.strip() for c in ln.strip("|").split("|")])
        elif block:
            break
    assert block, f"no table under {heading}"
    return block[2:]


@pytest.mark.slow
def test_every_section_ran_and_left_json(quick_run: Path) -> None:
    for name in SECTIONS:
        data = json.loads((quick_run / f"{name}.json").read_text())
        assert data["section"] == name
        assert "section_wall_s" in data
        # our own sections must not fail (skipped peers and skipped RTL are fine)
        if name in ("machine", "sanafe", "cuba", "dense", "noc", "emulator", "profile",
                    "learning", "wafer"):
            assert "error" not in data, data.get("error")


@pytest.mark.slow
def test_doc_has_every_section_and_a_plot(quick_run: Path) -> None:
    doc = (quick_run / "benchmarks.md").read_text()
    pos = [doc.index(h) for h in HEADINGS]
    assert pos == sorted(pos)
    assert "Quick run" in doc
    assert (quick_run / "img" / "bench_noc_latency.png").stat().st_size > 1000
    assert "skipped: benchmark venv" in doc        # peers were skipped, and the doc says so


@pytest.mark.slow
def test_target_table_statuses_and_numbers_parse(quick_run: Path) -> None:
    doc = (quick_run / "benchmarks.md").read_text()
    rows = _table(doc, "## Targets")
    assert len(rows) >= 15
    issues = {r[0] for r in rows}
    assert {"4", "5", "6", "7", "9"} <= issues
    for issue, target, measured, status in rows:
        assert status in ("met", "not met", "not measured"), status
        if status != "not measured":
            first = re.split(r"[ ×]", measured)[0]
            assert NUMBER.match(first), (target, measured)
    # our own emulator targets are measured even without the peers
    measured = {r[1]: r[3] for r in rows}
    for label in ("section 2b", "section 3"):
        assert measured[f"≤ 20 µs overhead per step on small nets ({label})"] != "not measured"
    for label in ("section 2b", "section 4"):
        key = f"cycle engine ≥ 2.5e5 cycles/s, 8×8 at 0.02 ({label})"
        assert measured[key] != "not measured"


@pytest.mark.slow
def test_result_tables_hold_numbers(quick_run: Path) -> None:
    doc = (quick_run / "benchmarks.md").read_text()
    ours = [r for r in _table(doc, "## 1. Against SANA-FE") if r[0].startswith("spikefab")]
    assert [r[0] for r in ours] == ["spikefab functional", "spikefab cycle"]
    for r in ours:
        for cell in r[3:]:
            assert NUMBER.match(cell), r
    sanafe = json.loads((quick_run / "sanafe.json").read_text())
    fun = sanafe["ours"]["functional"]
    assert fun["synaptic_events"] == sanafe["ours"]["cycle"]["synaptic_events"]
    cuba = json.loads((quick_run / "cuba.json").read_text())
    for regime in cuba["regimes"].values():
        assert regime["numpy"]["bit_exact_spike_count"] is True
    noc = [r for r in _table(doc, "**8x8**") if r]
    assert all(NUMBER.match(r[0]) and NUMBER.match(r[4]) for r in noc)
